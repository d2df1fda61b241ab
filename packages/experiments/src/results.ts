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
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join } from "node:path";
import { OPTIMIZERS, type OptimizerName, type RunResult, type RunSpec } from "./task.js";

let tmpCounter = 0;

/**
 * Writes `data` to `path` atomically: the text goes to a temporary file in the same directory, is flushed to
 * disk, and is renamed over `path`. A reader (or a crash at any moment) sees either the old file or the
 * complete new one, never a partial file. Missing parent directories are created.
 */
export function writeFileAtomic(path: string, data: string): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${tmpCounter++}.tmp`);
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

/**
 * Checks that a parsed JSON value has the shape of a {@link RunResult}; returns the reason it does not, or
 * `null` if it does.
 */
export function runResultProblem(v: unknown): string | null {
  if (!isRecord(v)) return "not a JSON object";
  const spec = v.spec;
  if (!isRecord(spec)) return "no spec";
  if (typeof spec.task !== "string") return "spec.task is not a string";
  if (!OPTIMIZERS.includes(spec.optimizer as OptimizerName))
    return `unknown optimizer ${String(spec.optimizer)}`;
  if (!Number.isInteger(spec.seed)) return "spec.seed is not an integer";
  if (spec.size !== "quick" && spec.size !== "full") return "spec.size is not quick or full";
  if (spec.backend !== "cpu" && spec.backend !== "wasm") return "spec.backend is not cpu or wasm";
  if (!Array.isArray(v.curves)) return "curves is not an array";
  if (!isRecord(v.final)) return "final is not an object";
  // null stands for NaN or ±Infinity (JSON has neither); the reports leave such values out.
  for (const [k, x] of Object.entries(v.final))
    if (typeof x !== "number" && x !== null) return `final.${k} is not a number`;
  if (!isRecord(v.timings) || typeof v.timings.totalSeconds !== "number")
    return "timings.totalSeconds missing";
  return null;
}

/** Outcome of looking for a stored run: reusable, absent, or present but not reusable (with the reason). */
export type StoredRun =
  { status: "done"; result: RunResult } | { status: "missing" } | { status: "stale"; reason: string };

/** Looks up the stored run for `spec` under `out` and decides whether a resume may skip it. */
export function findStoredRun(out: string, spec: RunSpec): StoredRun {
  const path = runPath(out, spec);
  if (!existsSync(path)) return { status: "missing" };
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    return { status: "stale", reason: `unreadable (${(err as Error).message})` };
  }
  const problem = runResultProblem(parsed);
  if (problem) return { status: "stale", reason: `malformed (${problem})` };
  const result = parsed as RunResult;
  const diffs = specDifferences(result.spec, spec);
  if (diffs.length > 0) return { status: "stale", reason: `its spec differs: ${diffs.join(", ")}` };
  return { status: "done", result };
}

/**
 * Reads every valid run file of a task, sorted by optimizer (suite order) then seed. Files that cannot be
 * parsed or do not have a run's shape are listed in `skipped` with the reason.
 */
export function readRuns(out: string, task: string): { runs: RunResult[]; skipped: string[] } {
  const dir = runsDir(out, task);
  const runs: RunResult[] = [];
  const skipped: string[] = [];
  if (!existsSync(dir)) return { runs, skipped };
  for (const name of readdirSync(dir).sort()) {
    if (!name.endsWith(".json") || name.startsWith(".")) continue;
    try {
      const parsed: unknown = JSON.parse(readFileSync(join(dir, name), "utf8"));
      const problem = runResultProblem(parsed);
      if (problem) skipped.push(`${name}: ${problem}`);
      else if ((parsed as RunResult).spec.task !== task)
        skipped.push(`${name}: belongs to task ${(parsed as RunResult).spec.task}`);
      else runs.push(parsed as RunResult);
    } catch (err) {
      skipped.push(`${name}: ${(err as Error).message}`);
    }
  }
  runs.sort(
    (a, b) =>
      OPTIMIZERS.indexOf(a.spec.optimizer) - OPTIMIZERS.indexOf(b.spec.optimizer) ||
      a.spec.seed - b.spec.seed,
  );
  return { runs, skipped };
}

let packageVersion: string | undefined;

/** The versions every run records: node and this package (tasks add tfjs and the backend). */
export function baseVersions(): Record<string, string> {
  if (packageVersion === undefined) {
    try {
      const require = createRequire(import.meta.url);
      packageVersion = String((require("adabelief/package.json") as { version: unknown }).version);
    } catch {
      packageVersion = "unknown";
    }
  }
  return { node: process.version, adabelief: packageVersion };
}
