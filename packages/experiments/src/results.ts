/**
 * Result files of the reproduction suite: atomic writes, run-file paths, reading and checking stored runs,
 * and the spec comparison that decides whether a stored run can be reused on resume.
 *
 * Layout: `<out>/<task>/runs/<optimizer>-seed<k>.json` (one {@link RunResult} each), `<out>/<task>/report.md`
 * and `<out>/<task>/*.svg`, `<out>/README.md`.
 *
 * @packageDocumentation
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join, resolve } from "node:path";
import { provenanceProblem } from "./provenance.js";
import { OPTIMIZERS, type OptimizerName, type RunResult, type RunSpec } from "./task.js";

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Creates the folder `path` and its missing parents, one level at a time from the deepest existing
 * ancestor down, each level tried once. Unlike `mkdirSync(path, { recursive: true })` it cannot loop: Node's
 * recursive mkdir never returns for a path whose parent exists but refuses the child with ENOENT (any path
 * under `/proc` on Linux: it retries parent and child forever). Throws the first error as Node gives it; a
 * folder made meanwhile by another process is fine.
 */
export function makeDirs(path: string): void {
  const abs = resolve(path);
  const missing: string[] = [];
  for (let p = abs; !existsSync(p);) {
    missing.push(p);
    const parent = dirname(p);
    if (parent === p) break;
    p = parent;
  }
  for (const dir of missing.reverse()) {
    try {
      mkdirSync(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EEXIST" && isDirectory(dir)) continue;
      throw err;
    }
  }
  if (!isDirectory(abs)) {
    const err: NodeJS.ErrnoException = new Error(`ENOTDIR: not a directory, mkdir '${abs}'`);
    err.code = "ENOTDIR";
    throw err;
  }
}

let tmpCounter = 0;

/**
 * Names of the temporary files of {@link writeFileAtomic}: `.<name>.<pid>.<counter>.tmp`, next to the file
 * they replace. The first group is the writer's process id.
 */
export const TEMP_FILE_PATTERN = /^\..+\.(\d+)\.\d+\.tmp$/;

/** A fresh temporary-file path (see {@link TEMP_FILE_PATTERN}) next to `path`, for this process. */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${tmpCounter++}.tmp`);
}

/**
 * Writes `data` to `path` atomically: the text goes to a temporary file in the same directory, is flushed to
 * disk, and is renamed over `path`. A reader (or a crash at any moment) sees either the old file or the
 * complete new one, never a partial file. Missing parent directories are created. A process killed during
 * the write leaves its temporary file behind: {@link cleanStaleTempFiles} removes it later.
 */
export function writeFileAtomic(path: string, data: string): void {
  makeDirs(dirname(path));
  const tmp = tempPathFor(path);
  try {
    const fd = openSync(tmp, "w");
    try {
      writeSync(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/**
 * JSON text that stays readable and compact: 2-space indentation, but arrays and objects holding only
 * numbers, strings, booleans or null on one line (so a trajectory is one point per line and a curve one
 * epoch per line). Raw newlines never occur inside JSON strings, so only structural brackets are joined.
 */
export function toJsonText(value: unknown): string {
  return (
    JSON.stringify(value, null, 2)
      .replace(/\[\n\s*([^[\]{}]*?)\n\s*\]/g, (_, inner: string) => `[${inner.split(/,\n\s*/).join(", ")}]`)
      .replace(
        /\{\n\s*([^[\]{}]*?)\n\s*\}/g,
        (_, inner: string) => `{ ${inner.split(/,\n\s*/).join(", ")} }`,
      ) + "\n"
  );
}

/** Writes a JSON value atomically (see {@link toJsonText} and {@link writeFileAtomic}). */
export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, toJsonText(value));
}

/**
 * A temporary file older than this is stale whoever wrote it: a write takes well under a second, and after
 * so long its process id may belong to another process.
 */
export const STALE_TEMP_SECONDS = 10 * 60;

/**
 * A temporary file of a process that is not running is stale once it is this old. The grace covers a
 * writer this machine cannot see (a folder shared with another container or host, where the process id
 * means nothing here): its write has long finished or failed by then.
 */
export const DEAD_WRITER_GRACE_SECONDS = 30;

/** Whether a process with this id runs on this machine (one we may not signal counts as running). */
export function processAlive(pid: number): boolean {
  // 0 and negative ids address process groups, not a process.
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Options of {@link cleanStaleTempFiles}. */
export interface CleanTempOptions {
  /** The current time in milliseconds (default `Date.now()`). */
  now?: number;
  /** Whether a process id is running (default {@link processAlive}). */
  isAlive?: (pid: number) => boolean;
  /** How many folder levels below `out` to look in (default 6: sweeps nest suite folders). */
  maxDepth?: number;
}

/**
 * Removes the temporary files that an interrupted {@link writeFileAtomic} left under `out` (a kill between
 * the write and the rename): only files named by {@link TEMP_FILE_PATTERN}, and only when their writer
 * is not running and the file is older than {@link DEAD_WRITER_GRACE_SECONDS}, or the file is older
 * than {@link STALE_TEMP_SECONDS}. A concurrent writer's file is therefore left alone. Symbolic links
 * are not followed. Returns the paths removed; a file that cannot be removed is left as it is.
 */
export function cleanStaleTempFiles(out: string, options: CleanTempOptions = {}): string[] {
  const now = options.now ?? Date.now();
  const isAlive = options.isAlive ?? processAlive;
  const maxDepth = options.maxDepth ?? 6;
  const removed: string[] = [];
  const walk = (dir: string, depth: number): void => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const path = join(dir, e.name);
      if (e.isDirectory()) {
        if (depth < maxDepth) walk(path, depth + 1);
        continue;
      }
      const m = TEMP_FILE_PATTERN.exec(e.name);
      if (!m || !e.isFile()) continue;
      try {
        const ageSeconds = (now - lstatSync(path).mtimeMs) / 1000;
        const stale =
          ageSeconds >= STALE_TEMP_SECONDS ||
          (ageSeconds >= DEAD_WRITER_GRACE_SECONDS && !isAlive(Number(m[1])));
        if (!stale) continue;
        rmSync(path);
        removed.push(path);
      } catch {
        // Gone meanwhile, or not ours to remove: leave it.
      }
    }
  };
  walk(out, 0);
  return removed;
}

/** Folder of one task's outputs: `<out>/<task>`. */
export function taskDir(out: string, task: string): string {
  return join(out, task);
}

/** Folder of one task's run files: `<out>/<task>/runs`. */
export function runsDir(out: string, task: string): string {
  return join(out, task, "runs");
}

/** Path of one run's result file: `<out>/<task>/runs/<optimizer>-seed<k>.json`. */
export function runPath(out: string, spec: Pick<RunSpec, "task" | "optimizer" | "seed">): string {
  return join(runsDir(out, spec.task), `${spec.optimizer}-seed${spec.seed}.json`);
}

/** The fields of a {@link RunSpec} that determine a run, in a fixed order, with absent overrides as null. */
function canonicalSpec(spec: RunSpec): Record<string, unknown> {
  return {
    task: spec.task,
    optimizer: spec.optimizer,
    seed: spec.seed,
    size: spec.size,
    epochs: spec.epochs ?? null,
    backend: spec.backend,
    learningRate: spec.learningRate ?? null,
  };
}

/**
 * Differences between a stored run's spec and the requested one, as readable strings such as
 * `"epochs 3 ≠ 5"`; empty when the stored run can be reused.
 */
export function specDifferences(stored: RunSpec, wanted: RunSpec): string[] {
  const a = canonicalSpec(stored);
  const b = canonicalSpec(wanted);
  const diffs: string[] = [];
  for (const key of Object.keys(b)) {
    if (a[key] !== b[key]) diffs.push(`${key} ${fmt(a[key])} ≠ ${fmt(b[key])}`);
  }
  return diffs;
}

function fmt(v: unknown): string {
  return v === null || v === undefined ? "default" : String(v);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** What a value is, for messages: `nothing`, `null`, `an array`, `a string`, … */
function kind(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "number" && !Number.isFinite(v)) return String(v);
  const t = typeof v;
  return /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`;
}

function isFiniteNumber(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v);
}

/** A metric value as stored: a finite number, or null for NaN or ±Infinity (JSON has neither). */
function isMetric(v: unknown): v is number | null {
  return v === null || isFiniteNumber(v);
}

function expected(field: string, what: string, found: unknown): string {
  return `${field}: expected ${what}, found ${kind(found)}`;
}

/** The problem of a record of metrics (`final`, a curve row), or null. */
function metricsProblem(field: string, v: unknown, epoch: boolean): string | null {
  if (!isRecord(v)) return expected(field, "an object", v);
  if (epoch && !isFiniteNumber(v.epoch)) return expected(`${field}.epoch`, "a number", v.epoch);
  for (const [k, x] of Object.entries(v))
    if (!isMetric(x)) return expected(`${field}.${k}`, "a number or null", x);
  return null;
}

/**
 * The problem of a toy run's `extra` (what the toy report reads: the tolerance, and per function its id,
 * trajectory, steps to the tolerance, final distance, divergence flag and learning rate), or null.
 */
function toyExtraProblem(extra: unknown): string | null {
  if (!isRecord(extra)) return expected("extra", "the toy trajectories (an object)", extra);
  if (!isFiniteNumber(extra.tolerance)) return expected("extra.tolerance", "a number", extra.tolerance);
  if (!Array.isArray(extra.paths)) return expected("extra.paths", "an array", extra.paths);
  for (const [i, p] of extra.paths.entries()) {
    const f = `extra.paths[${i}]`;
    if (!isRecord(p)) return expected(f, "an object", p);
    if (typeof p.id !== "string") return expected(`${f}.id`, "a string", p.id);
    if (p.stepsToTolerance !== null && !isFiniteNumber(p.stepsToTolerance))
      return expected(`${f}.stepsToTolerance`, "a number or null", p.stepsToTolerance);
    if (!isMetric(p.finalDistance))
      return expected(`${f}.finalDistance`, "a number or null", p.finalDistance);
    if (typeof p.diverged !== "boolean") return expected(`${f}.diverged`, "a boolean", p.diverged);
    if (p.learningRate !== undefined && !isFiniteNumber(p.learningRate))
      return expected(`${f}.learningRate`, "a number", p.learningRate);
    if (!Array.isArray(p.trajectory)) return expected(`${f}.trajectory`, "an array", p.trajectory);
    for (const [j, row] of p.trajectory.entries()) {
      if (!Array.isArray(row) || row.length !== 3 || !row.every(isMetric))
        return expected(`${f}.trajectory[${j}]`, "a [step, x, y] row of numbers", row);
    }
  }
  return null;
}

/**
 * Checks that a parsed JSON value is a complete {@link RunResult}: every field the reports and a resume
 * read, with its type (the spec; `hyperparameters`; every curve row with its `epoch`; `final`; `timings`;
 * `versions`; `provenance` when present; a toy run's trajectories). Returns the first problem found, naming the field (such as
 * `curves[0]: expected an object, found null`), or `null` if there is none.
 */
export function runResultProblem(v: unknown): string | null {
  if (!isRecord(v)) return "not a JSON object";
  const spec = v.spec;
  if (!isRecord(spec)) return "no spec";
  if (typeof spec.task !== "string" || spec.task === "")
    return expected("spec.task", "a task name", spec.task);
  if (!OPTIMIZERS.includes(spec.optimizer as OptimizerName))
    return `unknown optimizer ${String(spec.optimizer)}`;
  if (!Number.isSafeInteger(spec.seed)) return "spec.seed is not an integer";
  if (spec.size !== "quick" && spec.size !== "full") return "spec.size is not quick or full";
  if (spec.backend !== "cpu" && spec.backend !== "wasm") return "spec.backend is not cpu or wasm";
  if (spec.epochs !== undefined && !(Number.isSafeInteger(spec.epochs) && (spec.epochs as number) > 0))
    return expected("spec.epochs", "a positive integer", spec.epochs);
  if (spec.learningRate !== undefined && !(isFiniteNumber(spec.learningRate) && spec.learningRate > 0))
    return expected("spec.learningRate", "a positive number", spec.learningRate);
  if (!isRecord(v.hyperparameters)) return expected("hyperparameters", "an object", v.hyperparameters);
  if (!Array.isArray(v.curves)) return expected("curves", "an array", v.curves);
  for (const [i, row] of v.curves.entries()) {
    const problem = metricsProblem(`curves[${i}]`, row, true);
    if (problem) return problem;
  }
  const finalProblem = metricsProblem("final", v.final, false);
  if (finalProblem) return finalProblem;
  const t = v.timings;
  if (!isRecord(t)) return expected("timings", "an object", t);
  if (!isFiniteNumber(t.totalSeconds) || t.totalSeconds < 0)
    return expected("timings.totalSeconds", "a number of seconds", t.totalSeconds);
  if (!Array.isArray(t.perEpochSeconds) || !t.perEpochSeconds.every(isMetric))
    return expected("timings.perEpochSeconds", "an array of numbers", t.perEpochSeconds);
  if (!isRecord(v.versions)) return expected("versions", "an object", v.versions);
  for (const [k, x] of Object.entries(v.versions))
    if (typeof x !== "string") return expected(`versions.${k}`, "a string", x);
  const provenance = provenanceProblem(v.provenance);
  if (provenance) return provenance;
  if (spec.task === "toy") return toyExtraProblem(v.extra);
  return null;
}

/**
 * Outcome of looking for a stored run: reusable, absent, or present but not reusable (with the reason and
 * the file, for the warning).
 */
export type StoredRun =
  | { status: "done"; result: RunResult }
  | { status: "missing" }
  | { status: "stale"; reason: string; file: string };

/** Reads and checks one run file: the run, or why it cannot be used (`unreadable (…)`, `malformed (…)`). */
export function readRunFile(path: string): { run: RunResult } | { problem: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    return { problem: `unreadable (${oneLineMessage(err)})` };
  }
  const problem = runResultProblem(parsed);
  if (problem) return { problem: `malformed (${problem})` };
  return { run: parsed as RunResult };
}

function oneLineMessage(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split("\n")[0]!.slice(0, 300);
}

/**
 * Looks up the stored run for `spec` under `out` and decides whether a resume may skip it: an unreadable or
 * malformed file (see {@link runResultProblem}) is not done, and neither is one made with other settings.
 */
export function findStoredRun(out: string, spec: RunSpec): StoredRun {
  const path = runPath(out, spec);
  if (!existsSync(path)) return { status: "missing" };
  const read = readRunFile(path);
  if ("problem" in read) return { status: "stale", reason: read.problem, file: path };
  const diffs = specDifferences(read.run.spec, spec);
  if (diffs.length > 0)
    return { status: "stale", reason: `its spec differs: ${diffs.join(", ")}`, file: path };
  return { status: "done", result: read.run };
}

/** A file of a task's `runs/` folder that {@link readRuns} did not use. */
export interface UnusedRunFile {
  /** The file's path (under the `out` given to {@link readRuns}). */
  file: string;
  /**
   * Why: `unreadable (…)`, `malformed (…)`, `belongs to task …`, or `duplicate of <name> (…)` naming the
   * file of the same folder that is used instead.
   */
  reason: string;
}

/** The warning line of an unused run file: its path, then why it is not used. */
export function unusedRunWarning(u: UnusedRunFile): string {
  return `${u.file}: not used: ${u.reason}`;
}

/**
 * Reads every valid run file of a task, sorted by optimizer (suite order) then seed. Files that cannot be
 * read, are malformed (see {@link runResultProblem}) or belong to another task are listed in `skipped`
 * with the reason. So are duplicates: files with the same task, optimizer, seed and settings as another
 * (a copied run file) count once; the file kept is the one under the run's own name
 * (`<optimizer>-seed<k>.json`, see {@link runPath}), else the first by name.
 */
export function readRuns(out: string, task: string): { runs: RunResult[]; skipped: UnusedRunFile[] } {
  const dir = runsDir(out, task);
  const skipped: UnusedRunFile[] = [];
  if (!existsSync(dir)) return { runs: [], skipped };
  const byRun = new Map<string, { name: string; run: RunResult }[]>();
  for (const name of readdirSync(dir).sort()) {
    if (!name.endsWith(".json") || name.startsWith(".")) continue;
    const file = join(dir, name);
    const read = readRunFile(file);
    if ("problem" in read) skipped.push({ file, reason: read.problem });
    else if (read.run.spec.task !== task)
      skipped.push({ file, reason: `belongs to task ${read.run.spec.task}` });
    else {
      const key = JSON.stringify(canonicalSpec(read.run.spec));
      byRun.set(key, [...(byRun.get(key) ?? []), { name, run: read.run }]);
    }
  }
  const runs: RunResult[] = [];
  for (const copies of byRun.values()) {
    const own = basename(runPath(out, copies[0]!.run.spec));
    const kept = copies.find((c) => c.name === own) ?? copies[0]!;
    runs.push(kept.run);
    for (const c of copies) {
      if (c === kept) continue;
      skipped.push({
        file: join(dir, c.name),
        reason: `duplicate of ${kept.name} (same task, optimizer, seed and settings), counted once`,
      });
    }
  }
  skipped.sort((a, b) => a.file.localeCompare(b.file));
  runs.sort(
    (a, b) =>
      OPTIMIZERS.indexOf(a.spec.optimizer) - OPTIMIZERS.indexOf(b.spec.optimizer) ||
      a.spec.seed - b.spec.seed,
  );
  return { runs, skipped };
}

let installed: Record<string, string> | undefined;

function installedVersion(spec: string): string {
  try {
    const require = createRequire(import.meta.url);
    return String((require(spec) as { version: unknown }).version);
  } catch {
    return "unknown";
  }
}

/**
 * The versions every run records: node, this library and TensorFlow.js (tfjs-core) as installed; tasks add
 * the backend (and tfjs-layers).
 */
export function baseVersions(): Record<string, string> {
  installed ??= {
    adabelief: installedVersion("adabelief/package.json"),
    tfjs: installedVersion("@tensorflow/tfjs-core/package.json"),
  };
  return { node: process.version, ...installed };
}
