/**
 * The suite runner: tasks × optimizers × seeds, resumable. Each finished run is written atomically as its
 * own JSON file, with its provenance (commit, machine, command, shard, start and end); a rerun skips runs
 * already on disk with the same spec, redoes (and says so, naming the file) runs whose stored spec differs
 * or whose file is unreadable or malformed, and regenerates every report from all run files found (warning
 * about each file it leaves out, duplicates included). Temporary files of writes interrupted by an earlier
 * kill are removed first. With a shard (`shard.ts`) it makes only that part of the runs.
 *
 * @packageDocumentation
 */
import { existsSync, readdirSync } from "node:fs";
import {
  baseVersions,
  cleanStaleTempFiles,
  findStoredRun,
  runPath,
  runResultProblem,
  runsDir,
  writeJsonAtomic,
} from "./results.js";
import { createReporter, formatDuration, type Reporter } from "./progress.js";
import { runProvenance } from "./provenance.js";
import { TASK_NAMES, TASKS } from "./registry.js";
import { readFolderCommands, type FolderCommands } from "./report/provenance.js";
import { writeSuiteReadme } from "./report/suite-report.js";
import { writeTaskReport, type TaskSummary } from "./report/task-report.js";
import { assignShards, formatShard, runKey, type Shard } from "./shard.js";
import type { OptimizerName, RunResult, RunSpec, Size, Task } from "./task.js";

/** What to run. */
export interface SuiteOptions {
  /** Task names, in order (each must be in `TASKS` unless `loadTask` is given). */
  tasks: readonly string[];
  size: Size;
  optimizers: readonly OptimizerName[];
  /** Seeds per optimizer (seeds 1..N); default: each task's `defaultSeeds[size]`. */
  seeds?: number;
  /** Override of each task's default number of epochs. */
  epochs?: number;
  backend: "cpu" | "wasm";
  /** Learning-rate override for every run (an LR sweep selects on validation metrics only). */
  learningRate?: number;
  /** Output folder. */
  out: string;
  /** Progress display; default: bars on a TTY, plain lines otherwise. */
  reporter?: Reporter;
  /** Aborting stops the current run (it is not written) and starts no other. */
  signal?: AbortSignal;
  /** Loads a task by name; default: the registry. Tests inject fake tasks here. */
  loadTask?: (name: string) => Promise<Task>;
  /** The command line, for the README and every run file's provenance. */
  command?: string;
  /**
   * Make only this part of the runs (see `shard.ts`): the assignment is over the runs of every task of
   * `tasks`, so every task must load (an unavailable task throws before any run).
   */
  shard?: Shard;
  /** Make only the runs this accepts (the sweep's shard over all its rates); default: all. */
  include?: (spec: RunSpec) => boolean;
  /** The shard (`k/n`) that `include` implements, recorded in the run files. */
  shardLabel?: string;
  /**
   * Commands listed by hand for run files that do not record theirs; default: the folder's
   * `commands.json`, if any.
   */
  folderCommands?: FolderCommands | null;
}

/** A run that threw. */
export interface FailedRun {
  label: string;
  error: string;
}

/** What a suite run did. */
export interface SuiteOutcome {
  /** Runs executed and written now. */
  ran: string[];
  /** Runs found on disk with the same spec and skipped. */
  skipped: string[];
  /** Runs of the command left to other shards (`shard`, `include`). */
  otherShards: number;
  /** Runs found on disk but redone: the file and why (different spec, unreadable, malformed). */
  redone: { label: string; reason: string; file: string }[];
  failed: FailedRun[];
  /** Tasks whose module could not be loaded. */
  unavailable: { task: string; reason: string }[];
  /**
   * Run files the reports left out, one line each naming the file and why (malformed, another task's,
   * a duplicate of another file: see `readRuns`).
   */
  warnings: string[];
  /** Temporary files of interrupted writes that were removed (see `cleanStaleTempFiles`). */
  removedTempFiles: string[];
  /** True if the signal aborted the suite. */
  aborted: boolean;
  /** Report summaries of the tasks run now. */
  summaries: TaskSummary[];
  /** Path of the top-level README. */
  readme: string;
  /** The suite summary table (Markdown) of every task report in the folder. */
  table: string;
  /** Wall-clock seconds per task, including report generation. */
  seconds: Record<string, number>;
}

/** Loads tasks by name; a task that fails to load is returned as unavailable with a one-line reason. */
export async function loadTasks(
  names: readonly string[],
  loadTask: (name: string) => Promise<Task> = defaultLoader,
): Promise<{ tasks: Task[]; unavailable: { task: string; reason: string }[] }> {
  const tasks: Task[] = [];
  const unavailable: { task: string; reason: string }[] = [];
  for (const name of names) {
    try {
      const task = await loadTask(name);
      if (!task || typeof task.run !== "function")
        throw new Error(`module does not export a Task named "task"`);
      tasks.push(task);
    } catch (err) {
      unavailable.push({ task: name, reason: oneLine(err) });
    }
  }
  return { tasks, unavailable };
}

async function defaultLoader(name: string): Promise<Task> {
  const load = TASKS[name];
  if (!load) throw new Error(`unknown task "${name}" (known: ${TASK_NAMES.join(", ")})`);
  return load();
}

/** The first line of an error's message. */
export function oneLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split("\n")[0]!.slice(0, 300);
}

function isAbort(err: unknown, signal?: AbortSignal): boolean {
  return Boolean(signal?.aborted) || (err instanceof Error && err.name === "AbortError");
}

/** The specs of one task, in order: optimizer by optimizer, seeds 1..N. */
export function specsFor(task: Task, options: SuiteOptions): RunSpec[] {
  const seeds = options.seeds ?? task.defaultSeeds[options.size];
  const specs: RunSpec[] = [];
  for (const optimizer of options.optimizers) {
    for (let seed = 1; seed <= seeds; seed++) {
      const spec: RunSpec = {
        task: task.name,
        optimizer,
        seed,
        size: options.size,
        backend: options.backend,
      };
      if (options.epochs !== undefined) spec.epochs = options.epochs;
      if (options.learningRate !== undefined) spec.learningRate = options.learningRate;
      specs.push(spec);
    }
  }
  return specs;
}

function label(spec: RunSpec): string {
  return `${spec.task}/${spec.optimizer}-seed${spec.seed}`;
}

/**
 * Runs the suite: for each task, every (optimizer, seed) not already on disk, writing each finished run at
 * once; then regenerates that task's report and the top-level README. Failed runs are reported and the
 * suite goes on; an abort stops after the current run (which is not written) and still writes the reports
 * of what is done.
 */
export async function runSuite(options: SuiteOptions): Promise<SuiteOutcome> {
  const reporter = options.reporter ?? createReporter();
  const outcome: SuiteOutcome = {
    ran: [],
    skipped: [],
    otherShards: 0,
    redone: [],
    failed: [],
    unavailable: [],
    warnings: [],
    removedTempFiles: [],
    aborted: false,
    summaries: [],
    readme: "",
    table: "",
    seconds: {},
  };
  outcome.removedTempFiles = cleanTemps(options.out, reporter.log.bind(reporter));
  const { tasks, unavailable } = await loadTasks(options.tasks, options.loadTask);
  if (options.shard && unavailable.length > 0) {
    reporter.stop();
    throw new Error(
      `--shard ${formatShard(options.shard)} needs every task of the command: ${unavailable[0]!.task} is ` +
        `unavailable here (${unavailable[0]!.reason}), so the runs would be split differently than on the ` +
        `other machines`,
    );
  }
  outcome.unavailable = unavailable;
  for (const u of unavailable) reporter.log(`${u.task}: unavailable (${u.reason})`);
  const folderCommands =
    options.folderCommands !== undefined ? options.folderCommands : folderCommandsOf(options.out, reporter);
  const assigned = options.shard
    ? assignShards(
        tasks.flatMap((t) => specsFor(t, options)),
        options.shard.count,
      )
    : null;
  const mine = (spec: RunSpec): boolean =>
    (!assigned || assigned.get(runKey(spec)) === options.shard!.index) &&
    (!options.include || options.include(spec));
  const provenance = runProvenance({
    out: options.out,
    ...(options.command ? { command: options.command } : {}),
    ...(options.shard
      ? { shard: formatShard(options.shard) }
      : options.shardLabel
        ? { shard: options.shardLabel }
        : {}),
  });

  for (const task of tasks) {
    if (options.signal?.aborted) {
      outcome.aborted = true;
      break;
    }
    const started = performance.now();
    const todo: RunSpec[] = [];
    for (const spec of specsFor(task, options)) {
      if (!mine(spec)) {
        outcome.otherShards++;
        continue;
      }
      const stored = findStoredRun(options.out, spec);
      if (stored.status === "done") outcome.skipped.push(label(spec));
      else {
        if (stored.status === "stale") {
          outcome.redone.push({ label: label(spec), reason: stored.reason, file: stored.file });
          reporter.log(`${label(spec)}: redoing the stored run ${stored.file}: ${stored.reason}`);
        }
        todo.push(spec);
      }
    }
    const skippedHere = outcome.skipped.filter((l) => l.startsWith(`${task.name}/`)).length;
    if (skippedHere > 0)
      reporter.log(
        `${task.name}: ${skippedHere} finished run${skippedHere === 1 ? "" : "s"} found, skipped (resume)`,
      );
    reporter.beginTask(task.name, todo.length);
    for (const spec of todo) {
      if (options.signal?.aborted) {
        outcome.aborted = true;
        break;
      }
      const name = label(spec);
      const onProgress = reporter.beginRun(`${spec.optimizer} seed ${spec.seed}`);
      try {
        const hooks = options.signal ? { onProgress, signal: options.signal } : { onProgress };
        const startedAt = new Date().toISOString();
        const result = await task.run({ ...spec }, hooks);
        const stored: RunResult = {
          ...result,
          spec,
          versions: { ...baseVersions(), ...result.versions },
          provenance: { ...provenance, startedAt, finishedAt: new Date().toISOString() },
        };
        const problem = runResultProblem(JSON.parse(JSON.stringify(stored)));
        if (problem) throw new Error(`the task returned a malformed result: ${problem}`);
        writeJsonAtomic(runPath(options.out, spec), stored);
        outcome.ran.push(name);
        reporter.endRun();
        reporter.log(
          `${name}: done in ${formatDuration(result.timings.totalSeconds)} ${headlineText(task, result)}`,
        );
      } catch (err) {
        reporter.endRun();
        if (isAbort(err, options.signal)) {
          outcome.aborted = true;
          reporter.log(`${name}: interrupted, not written`);
          break;
        }
        outcome.failed.push({ label: name, error: oneLine(err) });
        reporter.log(`${name}: FAILED: ${oneLine(err)}`);
      }
    }
    reporter.endTask();
    try {
      const summary = await writeTaskReport(options.out, task, {
        warn: (line) => {
          outcome.warnings.push(line);
          reporter.log(`warning: ${line}`);
        },
        folderCommands,
      });
      if (summary) outcome.summaries.push(summary);
    } catch (err) {
      const error = reportError(options.out, task.name, err);
      outcome.failed.push({ label: `${task.name}/report`, error });
      reporter.log(`${task.name}: report FAILED: ${error}`);
    }
    outcome.seconds[task.name] = (performance.now() - started) / 1000;
    if (outcome.aborted) break;
  }
  const readme = writeSuiteReadme(options.out, {
    order: TASK_NAMES,
    unavailable,
    folderCommands,
    ...(options.command ? { command: options.command } : {}),
  });
  outcome.readme = readme.path;
  outcome.table = readme.table;
  reporter.stop();
  return outcome;
}

/** What {@link rebuildReports} did. */
export interface RebuildOutcome {
  /** Tasks whose report was regenerated. */
  tasks: string[];
  /** Task folders with runs that could not be reported (unknown task, report error). */
  failed: FailedRun[];
  /** Run files left out of the reports, one line each naming the file and why. */
  warnings: string[];
  /** Temporary files of interrupted writes that were removed. */
  removedTempFiles: string[];
  readme: string;
  table: string;
}

/**
 * Regenerates, from the run files alone (no run is made), the report of every task folder of `out` that
 * has a `runs/` folder, and the top-level README: after a change to the reports, or when the runs of one
 * folder were made by several commands (say, one task per process). The README then says it was assembled
 * by `command`, and each task report lists the settings its runs were made with. Run files left out of a
 * report (malformed, duplicates) are listed in `warnings`, each naming its file; stale temporary files of
 * interrupted writes are removed first. A folder without any task folder is left untouched.
 */
export async function rebuildReports(
  out: string,
  options: {
    loadTask?: (name: string) => Promise<Task>;
    command?: string;
    /** Commands listed by hand for run files without theirs; default: the folder's `commands.json`. */
    folderCommands?: FolderCommands | null;
    /** Replaces the README's sentence on how the folder was assembled (Markdown). */
    note?: string;
  } = {},
): Promise<RebuildOutcome> {
  const names = existsSync(out)
    ? readdirSync(out)
        .filter((n) => existsSync(runsDir(out, n)))
        .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))
    : [];
  if (names.length === 0)
    return { tasks: [], failed: [], warnings: [], removedTempFiles: [], readme: "", table: "" };
  const removedTempFiles = cleanTemps(out);
  const { tasks, unavailable } = await loadTasks(names, options.loadTask);
  const failed: FailedRun[] = unavailable.map((u) => ({ label: u.task, error: u.reason }));
  const warnings: string[] = [];
  const done: string[] = [];
  let folderCommands: FolderCommands | null = null;
  if (options.folderCommands !== undefined) folderCommands = options.folderCommands;
  else {
    try {
      folderCommands = readFolderCommands(out);
    } catch (err) {
      warnings.push(oneLine(err));
    }
  }
  const reportOptions = {
    warn: (line: string) => warnings.push(line),
    folderCommands,
    ...(options.command ? { reportCommand: options.command } : {}),
  };
  for (const task of tasks) {
    try {
      if (await writeTaskReport(out, task, reportOptions)) done.push(task.name);
    } catch (err) {
      failed.push({ label: `${task.name}/report`, error: reportError(out, task.name, err) });
    }
  }
  const readme = writeSuiteReadme(out, {
    order: TASK_NAMES,
    folderCommands,
    ...(options.command ? { reportCommand: options.command } : {}),
    note:
      options.note ??
      (options.command ? `Assembled by \`${options.command}\` from` : "Assembled from") +
        " the run files in this folder (no run was made by that command); the settings each task's runs " +
        "were made with are listed with it below and in its report.",
  });
  return { tasks: done, failed, warnings, removedTempFiles, readme: readme.path, table: readme.table };
}

/** A report failure's message, naming the folder of run files it was made from. */
function reportError(out: string, task: string, err: unknown): string {
  return `${oneLine(err)} (run files: ${runsDir(out, task)})`;
}

/** The folder's `commands.json` (see `readFolderCommands`); a broken one is logged and ignored. */
function folderCommandsOf(out: string, reporter: Reporter): FolderCommands | null {
  try {
    return readFolderCommands(out);
  } catch (err) {
    reporter.log(`warning: ${oneLine(err)}`);
    return null;
  }
}

/** Removes stale temporary files under `out` (see `cleanStaleTempFiles`), logging each one. */
export function cleanTemps(out: string, log?: (line: string) => void): string[] {
  const removed = cleanStaleTempFiles(out);
  for (const f of removed) log?.(`removed ${f}: a temporary file left by an interrupted write`);
  return removed;
}

function rank(task: string): number {
  const i = TASK_NAMES.indexOf(task);
  return i < 0 ? TASK_NAMES.length : i;
}

function headlineText(task: Task, result: RunResult): string {
  const v = result.final[task.headline.metric];
  return typeof v === "number" ? `(${task.headline.metric} ${Number(v.toPrecision(4))})` : "";
}
