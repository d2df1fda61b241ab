/**
 * The learning-rate sweep: one task, every optimizer, each learning rate of a list, resumable; the rate of
 * each optimizer is **selected on the validation split only** (the task's {@link Task.validation} metric,
 * mean over seeds), and the test metric is reported for the selected rate, where it played no part in the
 * choice.
 *
 * Layout: every rate is a suite folder of its own, `<out>/<task>/lr-<rate>/` (run files, report, plots, as
 * {@link runSuite} writes them, so an interrupted sweep resumes run by run), and the choice is written
 * atomically as `<out>/<task>/sweep.json` and `<out>/<task>/sweep.md`.
 *
 * With a shard (`shard.ts`) a sweep makes its part of the runs of every rate (the assignment is over all
 * rates at once) and writes its settings to `sweep.json` without choosing: the choice needs every run, and
 * is made when the shards' folders are merged (`report --from`, {@link rebuildSweep}).
 *
 * @packageDocumentation
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { readRuns, toJsonText, writeFileAtomic } from "./results.js";
import { formatMeanStd, formatNumber, markdownTable } from "./report/format.js";
import { OPTIMIZER_LABELS } from "./report/palette.js";
import {
  combineProvenance,
  provenanceMarkdown,
  readFolderCommands,
  summarizeProvenance,
  type FolderCommands,
} from "./report/provenance.js";
import { meanStd, type MeanStd } from "./report/stats.js";
import { assignShards, formatShard, runKey } from "./shard.js";
import {
  cleanTemps,
  loadTasks,
  oneLine,
  rebuildReports,
  runSuite,
  specsFor,
  type FailedRun,
  type SuiteOptions,
} from "./suite.js";
import { OPTIMIZERS, type OptimizerName, type RunResult, type Task } from "./task.js";

/** What to sweep: a suite run of one task, repeated for each learning rate. */
export interface SweepOptions extends Omit<SuiteOptions, "tasks" | "learningRate"> {
  /** The task (it must declare a validation metric). */
  task: string;
  /** The learning rates to try (positive, distinct; at least two). */
  rates: readonly number[];
}

/** The validation and test results of one (optimizer, rate) cell. */
export interface SweepCell {
  rate: number;
  /** Validation metric over seeds; `failed` counts seeds that diverged or have no finite value. */
  validation: MeanStd & { failed: number };
  /** The task's headline (test) metric over the seeds with a finite value. */
  headline: MeanStd;
}

/** One optimizer's row: every rate tried, and the one selected on validation. */
export interface SweepChoice {
  optimizer: OptimizerName;
  cells: SweepCell[];
  /** The selected rate, or `null` when no rate has a run. */
  selected: number | null;
}

/** What a sweep did. */
export interface SweepOutcome {
  /** Runs executed now / found on disk, over all rates. */
  ran: number;
  skipped: number;
  /** Runs left to the other shards (with `shard`). */
  otherShards: number;
  failed: FailedRun[];
  /** Run files left out (malformed, duplicates), one line each naming the file; see `readRuns`. */
  warnings: string[];
  aborted: boolean;
  choices: SweepChoice[];
  /** Paths of `sweep.md` and `sweep.json`. */
  report: string;
  json: string;
  /** The Markdown table of the selected rates. */
  table: string;
}

/** The folder name of one rate's suite run (`lr-0.001`, `lr-3e-7`: distinct for distinct rates). */
export function rateFolder(rate: number): string {
  return `lr-${String(rate)}`;
}

/** The folder of one rate's suite run. */
export function rateDir(out: string, task: string, rate: number): string {
  return join(out, task, rateFolder(rate));
}

function cellOf(task: Task, runs: readonly RunResult[], rate: number): SweepCell {
  const v = task.validation!;
  const good: number[] = [];
  let failed = 0;
  for (const r of runs) {
    const x = r.final[v.metric];
    if (typeof x === "number" && Number.isFinite(x) && !(r.final["diverged"] ?? 0)) good.push(x);
    else failed++;
  }
  const test = runs
    .map((r) => r.final[task.headline.metric])
    .filter((x): x is number => typeof x === "number" && Number.isFinite(x));
  return { rate, validation: { ...meanStd(good), failed }, headline: meanStd(test) };
}

/**
 * Selects a rate per optimizer from the runs of each rate: the best mean validation metric among the rates
 * all of whose seeds finished with a finite value (if none did, among the rates with any); ties go to the
 * rate listed first. The test metric is not read for the choice.
 */
export function selectRates(
  task: Task,
  rates: readonly number[],
  optimizers: readonly OptimizerName[],
  runsAt: (rate: number) => readonly RunResult[],
): SweepChoice[] {
  const v = task.validation;
  if (!v) throw new RangeError(`sweep: task ${task.name} has no validation metric to select on`);
  const byRate = new Map(rates.map((r) => [r, runsAt(r)]));
  return optimizers.map((optimizer) => {
    const cells = rates.map((rate) =>
      cellOf(
        task,
        byRate.get(rate)!.filter((r) => r.spec.optimizer === optimizer),
        rate,
      ),
    );
    const withRuns = cells.filter((c) => c.validation.n > 0);
    const clean = withRuns.filter((c) => c.validation.failed === 0);
    const pool = clean.length > 0 ? clean : withRuns;
    let selected: SweepCell | null = null;
    for (const c of pool) {
      const m = c.validation.mean;
      if (!selected || (v.higherIsBetter ? m > selected.validation.mean : m < selected.validation.mean))
        selected = c;
    }
    return { optimizer, cells, selected: selected?.rate ?? null };
  });
}

/** Options of {@link sweepMarkdown}. */
export interface SweepMarkdownOptions {
  /** The sweep command that made this folder (and resumes it). */
  command?: string;
  /** Instead of the "Made with" line: how the folder was assembled (one paragraph). */
  note?: string;
  /** The "How these runs were made" list (see `provenanceMarkdown`). */
  provenance?: string;
}

/** The Markdown of `sweep.md`. */
export function sweepMarkdown(
  task: Task,
  choices: readonly SweepChoice[],
  options: SweepMarkdownOptions | string = {},
): string {
  const o: SweepMarkdownOptions = typeof options === "string" ? { command: options } : options;
  const command = o.command;
  const v = task.validation!;
  const rates = choices[0]?.cells.map((c) => c.rate) ?? [];
  const cellText = (c: SweepCell) =>
    c.validation.n === 0 && c.validation.failed === 0
      ? "–"
      : formatMeanStd(c.validation) + (c.validation.failed > 0 ? ` (${c.validation.failed} failed)` : "");
  const grid = markdownTable(
    ["optimizer", ...rates.map((r) => `lr ${formatNumber(r)}`)],
    choices.map((ch) => [
      OPTIMIZER_LABELS[ch.optimizer],
      ...ch.cells.map((c) => (c.rate === ch.selected ? `**${cellText(c)}**` : cellText(c))),
    ]),
    ["l", ...rates.map(() => "r" as const)],
  );
  const summary = selectedTable(task, choices);
  return [
    `# Learning-rate sweep: ${task.title}`,
    "",
    ...(o.note
      ? [o.note, ""]
      : command
        ? [`Made with \`${command}\`; rerunning it resumes and skips finished runs.`, ""]
        : []),
    `Each optimizer's learning rate is selected on the **${v.label}** (${v.higherIsBetter ? "higher" : "lower"} is better),`,
    "mean over seeds; a rate at which a seed diverged is chosen only if every rate had such a seed. The test",
    "metric played no part in the choice: it is shown for the selected rate only.",
    "",
    `## ${v.label.charAt(0).toUpperCase()}${v.label.slice(1)} per rate (selected in bold)`,
    "",
    grid,
    "",
    "## Selected rates",
    "",
    summary,
    "",
    "Each rate's runs, report and plots: " +
      rates.map((r) => `[lr ${formatNumber(r)}](${rateFolder(r)}/README.md)`).join(", ") +
      ".",
    "",
    ...(o.provenance ? ["## How these runs were made", "", o.provenance] : []),
  ].join("\n");
}

/** The settings of a sweep, as `sweep.json` records them (with the choice, once made). */
export interface SweepSettings {
  task: string;
  size: string;
  seeds: number;
  epochs?: number;
  backend?: string;
  selectedOn: NonNullable<Task["validation"]>;
  rates: number[];
  /** The shard of a sharded sweep's folder (`k/n`): it holds that part of the runs and no choice. */
  shard?: string;
}

/** Reads `<out>/<task>/sweep.json`; null when absent; throws an Error naming the file when malformed. */
export function readSweepSettings(out: string, task: string): (SweepSettings & { choices?: unknown }) | null {
  const file = join(out, task, "sweep.json");
  if (!existsSync(file)) return null;
  let v: Partial<SweepSettings> & { choices?: unknown };
  try {
    v = JSON.parse(readFileSync(file, "utf8")) as typeof v;
  } catch (err) {
    throw new Error(`${file}: unreadable (${oneLine(err)})`);
  }
  if (
    typeof v !== "object" ||
    v === null ||
    v.task !== task ||
    typeof v.size !== "string" ||
    !Number.isSafeInteger(v.seeds) ||
    !Array.isArray(v.rates) ||
    !v.rates.every((r) => typeof r === "number" && r > 0) ||
    typeof v.selectedOn !== "object"
  )
    throw new Error(`${file}: not a sweep's settings (task, size, seeds, rates, selectedOn)`);
  return v as SweepSettings & { choices?: unknown };
}

/** The rates of the rate folders (`lr-<rate>`) found under `<out>/<task>`, ascending. */
export function rateFoldersOf(out: string, task: string): number[] {
  const dir = join(out, task);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => n.startsWith("lr-") && existsSync(join(dir, n, task, "runs")))
    .map((n) => Number(n.slice(3)))
    .filter((r) => Number.isFinite(r) && r > 0 && rateFolder(r) === `lr-${String(r)}`)
    .sort((a, b) => a - b);
}

/** The runs of a sweep that count for the choice: seeds 1…`seeds`, made at the folder's rate. */
function runsAtRate(out: string, task: string, rate: number, seeds: number): RunResult[] {
  return readRuns(rateDir(out, task, rate), task).runs.filter(
    (r) => r.spec.seed <= seeds && r.spec.learningRate === rate,
  );
}

/** The provenance list of a sweep: over the runs of all its rates. */
function sweepProvenance(
  out: string,
  task: string,
  rates: readonly number[],
  options: { folderCommands?: FolderCommands | null; reportCommand?: string },
): string {
  const parts = rates.map((r) => ({
    name: `lr ${formatNumber(r)}`,
    summary: summarizeProvenance(readRuns(rateDir(out, task, r), task).runs),
  }));
  return provenanceMarkdown(combineProvenance(parts.map((p) => p.summary)), {
    folderCommands: options.folderCommands ?? null,
    reportDir: join(out, task),
    ...(options.reportCommand ? { reportCommand: options.reportCommand } : {}),
    parts: parts.map((p) => ({ name: p.name, seconds: p.summary.runSeconds })),
  });
}

/** What {@link rebuildSweep} did. */
export interface SweepRebuild {
  /** The rates whose folder reports were regenerated. */
  rates: number[];
  choices: SweepChoice[];
  failed: FailedRun[];
  warnings: string[];
  report: string;
  table: string;
}

/**
 * Regenerates a sweep's reports from its run files alone (no run is made): every rate folder's reports, then
 * the choice (`sweep.json`, `sweep.md`) from the runs of all rates. The settings come from `sweep.json`
 * (rates, seeds), else from the rate folders found (every seed counts). Used by `report`, also to choose
 * once the shards of a sharded sweep are merged.
 */
export async function rebuildSweep(
  out: string,
  taskName: string,
  options: {
    loadTask?: (name: string) => Promise<Task>;
    command?: string;
    folderCommands?: FolderCommands | null;
  } = {},
): Promise<SweepRebuild> {
  const { tasks, unavailable } = await loadTasks([taskName], options.loadTask);
  const task = tasks[0];
  if (!task) throw new Error(`task ${taskName} is unavailable: ${unavailable[0]?.reason ?? "?"}`);
  if (!task.validation) throw new Error(`task ${taskName} has no validation metric: not a sweep`);
  const settings = readSweepSettings(out, taskName);
  const found = rateFoldersOf(out, taskName);
  const rates = settings ? [...settings.rates] : found;
  // Without settings every seed found counts.
  const all = found.flatMap((r) => readRuns(rateDir(out, taskName, r), taskName).runs);
  const seeds = settings?.seeds ?? Math.max(1, ...all.map((x) => x.spec.seed));
  const warnings: string[] = [];
  const failed: FailedRun[] = [];
  let folderCommands: FolderCommands | null = null;
  if (options.folderCommands !== undefined) folderCommands = options.folderCommands;
  else {
    try {
      folderCommands = readFolderCommands(out);
    } catch (err) {
      warnings.push(oneLine(err));
    }
  }
  const note =
    (options.command ? `Assembled by \`${options.command}\` from` : "Assembled from") +
    " the run files of this sweep (no run was made by that command).";
  for (const rate of found) {
    const r = await rebuildReports(rateDir(out, taskName, rate), {
      loadTask: async () => task,
      folderCommands,
      note,
      ...(options.command ? { command: options.command } : {}),
    });
    warnings.push(...r.warnings);
    failed.push(...r.failed.map((f) => ({ ...f, label: `lr ${formatNumber(rate)}: ${f.label}` })));
  }
  const present = new Set(
    rates.flatMap((rate) => runsAtRate(out, taskName, rate, seeds).map((r) => r.spec.optimizer)),
  );
  const optimizers = OPTIMIZERS.filter((o) => present.has(o));
  const choices = selectRates(task, rates, optimizers, (rate) => runsAtRate(out, taskName, rate, seeds));
  const report = join(out, taskName, "sweep.md");
  const { shard: _shard, ...kept } = settings ?? ({} as Partial<SweepSettings>);
  void _shard;
  writeFileAtomic(
    join(out, taskName, "sweep.json"),
    toJsonText({
      ...kept,
      task: taskName,
      ...(settings ? {} : { size: all[0]?.spec.size ?? "unknown", seeds }),
      selectedOn: task.validation,
      rates,
      choices,
    }),
  );
  writeFileAtomic(
    report,
    sweepMarkdown(task, choices, {
      note,
      provenance: sweepProvenance(out, taskName, rates, {
        folderCommands,
        ...(options.command ? { reportCommand: options.command } : {}),
      }),
    }),
  );
  return { rates: found, choices, failed, warnings, report, table: selectedTable(task, choices) };
}

function selectedTable(task: Task, choices: readonly SweepChoice[]): string {
  const v = task.validation!;
  return markdownTable(
    ["optimizer", "selected lr", v.label, task.headline.label],
    choices.map((ch) => {
      const c = ch.cells.find((x) => x.rate === ch.selected);
      return [
        OPTIMIZER_LABELS[ch.optimizer],
        ch.selected === null ? "–" : formatNumber(ch.selected),
        c ? formatMeanStd(c.validation) : "–",
        c ? formatMeanStd(c.headline) : "–",
      ];
    }),
    ["l", "r", "r", "r"],
  );
}

/**
 * Runs the sweep (each rate as a resumable suite run of the task, in the order given), then selects and
 * writes `sweep.json` and `sweep.md`. Stops after the current run when `signal` aborts; the choice is still
 * written from the runs on disk.
 */
export async function runSweep(options: SweepOptions): Promise<SweepOutcome> {
  const { tasks, unavailable } = await loadTasks([options.task], options.loadTask);
  const task = tasks[0];
  if (!task) throw new Error(`sweep: task ${options.task} is unavailable: ${unavailable[0]?.reason ?? "?"}`);
  if (!task.validation) {
    throw new RangeError(`sweep: task ${task.name} has no validation split to select a learning rate on`);
  }
  if (options.rates.length < 2) throw new RangeError("sweep: give at least two learning rates");
  let ran = 0;
  let otherShards = 0;
  let skipped = 0;
  const failed: FailedRun[] = [];
  const warnings: string[] = [];
  let aborted = false;
  // The rates' suite runs clean their own folders; this also covers sweep.json and sweep.md.
  cleanTemps(options.out, options.reporter ? (line) => options.reporter!.log(line) : undefined);
  const { task: _name, rates, shard, ...suiteOptions } = options;
  void _name;
  // A shard's part is drawn from the runs of every rate at once, so that the parts are balanced.
  const assigned = shard
    ? assignShards(
        rates.flatMap((rate) => specsFor(task, { ...suiteOptions, tasks: [task.name], learningRate: rate })),
        shard.count,
      )
    : null;
  let folderCommands: FolderCommands | null = null;
  try {
    folderCommands = readFolderCommands(options.out);
  } catch (err) {
    warnings.push(oneLine(err));
  }
  for (const rate of rates) {
    if (options.signal?.aborted) {
      aborted = true;
      break;
    }
    const outcome = await runSuite({
      ...suiteOptions,
      tasks: [task.name],
      learningRate: rate,
      out: rateDir(options.out, task.name, rate),
      loadTask: async () => task,
      folderCommands,
      ...(assigned && shard
        ? {
            include: (spec) =>
              assigned.get(runKey(spec)) === shard.index && (options.include?.(spec) ?? true),
            shardLabel: formatShard(shard),
          }
        : {}),
    });
    ran += outcome.ran.length;
    otherShards += outcome.otherShards;
    skipped += outcome.skipped.length;
    warnings.push(...outcome.warnings);
    failed.push(...outcome.failed.map((f) => ({ ...f, label: `lr ${formatNumber(rate)}: ${f.label}` })));
    if (outcome.aborted) {
      aborted = true;
      break;
    }
  }
  const seeds = options.seeds ?? task.defaultSeeds[options.size];
  const report = join(options.out, task.name, "sweep.md");
  const json = join(options.out, task.name, "sweep.json");
  const settings: SweepSettings = {
    task: task.name,
    size: options.size,
    seeds,
    ...(options.epochs !== undefined ? { epochs: options.epochs } : {}),
    backend: options.backend,
    selectedOn: task.validation,
    rates: [...options.rates],
  };
  const provenance = sweepProvenance(options.out, task.name, options.rates, { folderCommands });
  if (shard) {
    // A part of the runs cannot choose a rate: the settings are written, the choice waits for the merge.
    writeFileAtomic(json, toJsonText({ ...settings, shard: formatShard(shard) }));
    writeFileAtomic(
      report,
      [
        `# Learning-rate sweep: ${task.title} (shard ${formatShard(shard)})`,
        "",
        ...(options.command ? [`Made with \`${options.command}\`; rerunning it resumes.`, ""] : []),
        `This folder holds shard ${formatShard(shard)} of the sweep's runs; no rate is chosen from a part. ` +
          "Merge the folders of all shards with `report --out <merged> --from <folder> …`, which chooses " +
          "from all runs.",
        "",
        "## How these runs were made",
        "",
        provenance,
      ].join("\n"),
    );
    return { ran, skipped, otherShards, failed, warnings, aborted, choices: [], report, json, table: "" };
  }
  const choices = selectRates(task, options.rates, options.optimizers, (rate) =>
    runsAtRate(options.out, task.name, rate, seeds),
  );
  writeFileAtomic(json, toJsonText({ ...settings, choices }));
  writeFileAtomic(
    report,
    sweepMarkdown(task, choices, {
      ...(options.command ? { command: options.command } : {}),
      provenance,
    }),
  );
  return {
    ran,
    skipped,
    otherShards,
    failed,
    warnings,
    aborted,
    choices,
    report,
    json,
    table: selectedTable(task, choices),
  };
}
