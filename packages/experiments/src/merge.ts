/**
 * Reports from run files alone, for a folder or for several folders merged into one: the `report` command.
 *
 * {@link rebuildFolder} regenerates every report of a results folder: the task reports and README of a suite
 * folder (`<out>/<task>/runs/`), and the rate folders and choice of a sweep (`<out>/<task>/lr-<rate>/`).
 *
 * {@link mergeFolders} first gathers the run files of several folders into one — the folders of the shards
 * of a command run on several machines (`--shard k/n`), or of commands run one task at a time — and then
 * rebuilds it. It refuses, naming the files, runs that cannot be put in one report: the same run (task,
 * optimizer, seed) with different settings or hyper-parameters, runs of one task made with different
 * settings (epochs, backend, learning rate) in different folders, folders of different sizes (quick and
 * full), and sweeps with different settings (rates, seeds). A run found in several folders with the same
 * settings is counted once, with a warning naming both files (and saying so if their results differ). Nothing
 * is written when a merge is refused.
 *
 * @packageDocumentation
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { readRunFile, runsDir, toJsonText, writeFileAtomic } from "./results.js";
import { FOLDER_COMMANDS_FILE, readFolderCommands, type FolderCommands } from "./report/provenance.js";
import { runKey } from "./shard.js";
import { oneLine, rebuildReports, type RebuildOutcome } from "./suite.js";
import {
  rateFolder,
  rateFoldersOf,
  readSweepSettings,
  rebuildSweep,
  type SweepRebuild,
  type SweepSettings,
} from "./sweep.js";
import type { RunResult, Task } from "./task.js";

/** The kinds of task folder a results folder holds. */
export interface FolderLayout {
  /** Tasks with a suite folder: `<dir>/<task>/runs/`. */
  suites: string[];
  /** Tasks with a sweep: `<dir>/<task>/lr-<rate>/<task>/runs/` (or a `sweep.json`). */
  sweeps: string[];
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** What `dir` holds (see {@link FolderLayout}); empty lists for a folder without runs. */
export function folderLayout(dir: string): FolderLayout {
  const suites: string[] = [];
  const sweeps: string[] = [];
  if (!isDir(dir)) return { suites, sweeps };
  for (const name of readdirSync(dir).sort()) {
    if (!isDir(join(dir, name))) continue;
    if (isDir(runsDir(dir, name))) suites.push(name);
    if (rateFoldersOf(dir, name).length > 0 || existsSync(join(dir, name, "sweep.json"))) sweeps.push(name);
  }
  return { suites, sweeps };
}

/** What {@link rebuildFolder} did. */
export interface FolderRebuild extends RebuildOutcome {
  /** The sweeps whose reports and choice were regenerated. */
  sweeps: SweepRebuild[];
}

/** Options of {@link rebuildFolder} and {@link mergeFolders}. */
export interface RebuildOptions {
  /** Loads a task by name (default: the registry). */
  loadTask?: (name: string) => Promise<Task>;
  /** The command line, for the reports. */
  command?: string;
}

/**
 * Regenerates every report of `out` from its run files (no run is made): a suite folder's task reports and
 * README (`rebuildReports`), and each sweep's rate folders and choice (`rebuildSweep`).
 */
export async function rebuildFolder(out: string, options: RebuildOptions = {}): Promise<FolderRebuild> {
  const layout = folderLayout(out);
  const result: FolderRebuild = {
    tasks: [],
    failed: [],
    warnings: [],
    removedTempFiles: [],
    readme: "",
    table: "",
    sweeps: [],
  };
  if (layout.suites.length > 0) {
    Object.assign(result, await rebuildReports(out, options), { sweeps: [] });
  }
  for (const task of layout.sweeps) {
    try {
      const s = await rebuildSweep(out, task, options);
      result.sweeps.push(s);
      result.warnings.push(...s.warnings);
      result.failed.push(...s.failed);
      result.tasks.push(`${task} sweep`);
      result.table += (result.table ? "\n" : "") + s.table;
      if (!result.readme) result.readme = s.report;
    } catch (err) {
      result.failed.push({ label: `${task} sweep`, error: oneLine(err) });
    }
  }
  return result;
}

/** A merge that cannot be made: every problem, one line each, naming the files. */
export class MergeError extends Error {
  override name = "MergeError";
  constructor(readonly problems: string[]) {
    super(
      `cannot merge: ${problems[0]}` +
        (problems.length > 1
          ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? "s" : ""})`
          : ""),
    );
  }
}

/** What {@link mergeFolders} did. */
export interface MergeOutcome {
  /** Run files written into the merged folder (their paths there). */
  copied: string[];
  /** Duplicates and unusable files, one line each naming the files. */
  warnings: string[];
  /** The reports regenerated in the merged folder. */
  rebuild: FolderRebuild;
}

/** One usable run file of a source folder. */
interface Entry {
  source: string;
  file: string;
  text: string;
  run: RunResult;
}

/** The settings of a run that all runs of one task in a merged report must share. */
function settingsText(run: RunResult): string {
  const s = run.spec;
  return `${s.size}, epochs ${s.epochs ?? "default"}, backend ${s.backend}${s.learningRate !== undefined ? `, lr ${s.learningRate}` : ""}`;
}

function sameSpec(a: RunResult, b: RunResult): boolean {
  const keys = ["task", "optimizer", "seed", "size", "epochs", "backend", "learningRate"] as const;
  return keys.every((k) => (a.spec[k] ?? null) === (b.spec[k] ?? null));
}

/** The keys whose values differ between two records (top level), for messages. */
function differingKeys(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
  return keys.filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
}

/** The usable run files of `<source>/<sub>/<task>/runs`; unusable ones are warned about. */
function entriesOf(source: string, sub: string, task: string, warnings: string[]): Entry[] {
  const dir = runsDir(join(source, sub), task);
  if (!isDir(dir)) return [];
  const out: Entry[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (!name.endsWith(".json") || name.startsWith(".")) continue;
    const file = join(dir, name);
    const read = readRunFile(file);
    if ("problem" in read) {
      warnings.push(`${file}: not used: ${read.problem}`);
      continue;
    }
    if (read.run.spec.task !== task) {
      warnings.push(`${file}: not used: belongs to task ${read.run.spec.task}`);
      continue;
    }
    out.push({ source, file, text: readFileSync(file, "utf8"), run: read.run });
  }
  return out;
}

function sweepSettingsText(s: SweepSettings): string {
  return JSON.stringify({
    size: s.size,
    seeds: s.seeds,
    epochs: s.epochs ?? null,
    rates: [...s.rates].sort((a, b) => a - b),
    selectedOn: s.selectedOn.metric,
  });
}

/**
 * Merges the run files of the `from` folders (and those already in `out`) into `out`, then regenerates its
 * reports; see the module documentation for what is refused ({@link MergeError}, nothing written) and
 * what is warned about. The folders' `commands.json` lists are merged too.
 */
export async function mergeFolders(
  out: string,
  from: readonly string[],
  options: RebuildOptions = {},
): Promise<MergeOutcome> {
  const outAbs = resolve(out);
  const warnings: string[] = [];
  const problems: string[] = [];
  const sources: string[] = [];
  for (const dir of [outAbs, ...from.map((d) => resolve(d))]) {
    if (sources.includes(dir)) {
      if (dir !== outAbs) warnings.push(`${dir}: listed twice, merged once`);
      continue;
    }
    if (dir !== outAbs && !isDir(dir)) {
      problems.push(`${dir} is not a folder`);
      continue;
    }
    if (isDir(dir)) sources.push(dir);
  }
  if (problems.length > 0) throw new MergeError(problems);
  const layouts = new Map(sources.map((s) => [s, folderLayout(s)]));
  for (const s of sources) {
    const l = layouts.get(s)!;
    if (s !== outAbs && l.suites.length === 0 && l.sweeps.length === 0)
      problems.push(`${s} holds no task folder with runs`);
  }

  // Groups of run folders: a suite task (sub "") or one rate of a sweep (sub "<task>/lr-<rate>").
  const groups = new Map<string, { sub: string; task: string; entries: Entry[] }>();
  const sweepSettings = new Map<string, { file: string; settings: SweepSettings }[]>();
  for (const source of sources) {
    const l = layouts.get(source)!;
    const add = (sub: string, task: string): void => {
      const key = `${sub}|${task}`;
      const g = groups.get(key) ?? { sub, task, entries: [] };
      g.entries.push(...entriesOf(source, sub, task, warnings));
      groups.set(key, g);
    };
    for (const task of l.suites) add("", task);
    for (const task of l.sweeps) {
      for (const rate of rateFoldersOf(source, task)) add(join(task, rateFolder(rate)), task);
      try {
        const settings = readSweepSettings(source, task);
        if (settings) {
          const list = sweepSettings.get(task) ?? [];
          list.push({ file: join(source, task, "sweep.json"), settings });
          sweepSettings.set(task, list);
        }
      } catch (err) {
        problems.push(oneLine(err));
      }
    }
  }

  // One size for the whole merged folder.
  const sizes = new Map<string, string>();
  for (const g of groups.values())
    for (const e of g.entries) if (!sizes.has(e.run.spec.size)) sizes.set(e.run.spec.size, e.file);
  if (sizes.size > 1) {
    const [a, b] = [...sizes.entries()];
    problems.push(`the folders hold runs of different sizes: ${a![1]} (${a![0]}) and ${b![1]} (${b![0]})`);
  }

  const kept: Entry[] = [];
  for (const g of groups.values()) {
    const where = `${g.task}${g.sub ? ` (${g.sub})` : ""}`;
    // The settings of one task's runs must agree across folders.
    const clash = g.entries
      .flatMap((a) => g.entries.map((b) => [a, b] as const))
      .find(([a, b]) => a.source !== b.source && settingsText(a.run) !== settingsText(b.run));
    if (clash) {
      const [a, b] = clash;
      problems.push(
        `${where}: runs made with different settings in different folders: ${a.file} (${settingsText(a.run)}) ` +
          `and ${b.file} (${settingsText(b.run)})`,
      );
    }
    // Hyper-parameters: one set per optimizer and settings.
    const firstByOptimizer = new Map<string, Entry>();
    for (const e of g.entries) {
      const key = `${e.run.spec.optimizer}|${settingsText(e.run)}`;
      const first = firstByOptimizer.get(key);
      if (!first) firstByOptimizer.set(key, e);
      else if (JSON.stringify(first.run.hyperparameters) !== JSON.stringify(e.run.hyperparameters)) {
        problems.push(
          `${where}: ${e.run.spec.optimizer} ran with different hyper-parameters ` +
            `(${differingKeys(first.run.hyperparameters, e.run.hyperparameters).join(", ")}): ${first.file} and ${e.file}`,
        );
      }
    }
    // The same run in several files.
    const byRun = new Map<string, Entry>();
    for (const e of g.entries) {
      const key = runKey(e.run.spec);
      const first = byRun.get(key);
      if (!first) {
        byRun.set(key, e);
        kept.push(e);
        continue;
      }
      if (!sameSpec(first.run, e.run)) {
        problems.push(
          `${where}: ${e.run.spec.optimizer} seed ${e.run.spec.seed} has different settings in ${first.file} ` +
            `(${settingsText(first.run)}) and ${e.file} (${settingsText(e.run)})`,
        );
        continue;
      }
      const differ =
        JSON.stringify([first.run.final, first.run.curves]) !== JSON.stringify([e.run.final, e.run.curves]);
      warnings.push(
        `${e.file}: not used: duplicate of ${first.file} (same task, optimizer, seed and settings` +
          (differ ? "; their results differ, the first is kept" : "") +
          "), counted once",
      );
    }
  }

  for (const [task, list] of sweepSettings) {
    const first = list[0]!;
    for (const other of list.slice(1)) {
      if (sweepSettingsText(other.settings) !== sweepSettingsText(first.settings))
        problems.push(
          `${task} sweep: different settings (size, seeds, epochs, rates or selection metric) in ` +
            `${first.file} and ${other.file}`,
        );
    }
  }

  const commands: string[] = [];
  const notes: string[] = [];
  for (const source of sources) {
    try {
      const c = readFolderCommands(source);
      if (!c) continue;
      for (const x of c.commands) if (!commands.includes(x)) commands.push(x);
      if (c.note && !notes.includes(c.note)) notes.push(c.note);
    } catch (err) {
      problems.push(oneLine(err));
    }
  }
  if (problems.length > 0) throw new MergeError(problems);

  // Everything checks: write.
  const copied: string[] = [];
  for (const e of kept) {
    if (e.source === outAbs) continue;
    const rel = relative(e.source, e.file);
    const sub = rel.split(/[\\/]/).slice(0, -3).join("/");
    const target = join(
      runsDir(join(outAbs, sub), e.run.spec.task),
      `${e.run.spec.optimizer}-seed${e.run.spec.seed}.json`,
    );
    if (existsSync(target) && readFileSync(target, "utf8") === e.text) continue;
    if (existsSync(target)) warnings.push(`${target}: replaced by ${e.file} (the file there was not usable)`);
    writeFileAtomic(target, e.text);
    copied.push(target);
  }
  // The merged sweep's settings, without a shard (the choice is made by the rebuild below).
  for (const [task, list] of sweepSettings) {
    const first = list[0]!.settings as SweepSettings & { choices?: unknown };
    const { shard, choices, ...settings } = first;
    void choices;
    const file = join(outAbs, task, "sweep.json");
    if (!list.some((x) => x.file === file) || shard !== undefined)
      writeFileAtomic(file, toJsonText(settings));
  }
  if (commands.length > 0) {
    const merged: FolderCommands = { commands, ...(notes.length > 0 ? { note: notes.join("; ") } : {}) };
    const file = join(outAbs, FOLDER_COMMANDS_FILE);
    const text = toJsonText(merged);
    if (!existsSync(file) || readFileSync(file, "utf8") !== text) writeFileAtomic(file, text);
  }
  const rebuild = await rebuildFolder(outAbs, options);
  return { copied, warnings, rebuild };
}
