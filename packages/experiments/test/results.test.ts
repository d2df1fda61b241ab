import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  cleanStaleTempFiles,
  DEAD_WRITER_GRACE_SECONDS,
  findStoredRun,
  makeDirs,
  processAlive,
  readRuns,
  runPath,
  runResultProblem,
  specDifferences,
  STALE_TEMP_SECONDS,
  TEMP_FILE_PATTERN,
  toJsonText,
  writeFileAtomic,
  writeJsonAtomic,
} from "../src/results.js";
import type { RunResult, RunSpec } from "../src/task.js";
import { tmpDirs } from "./helpers.js";

const tmp = tmpDirs("results-test");

const spec: RunSpec = { task: "cnn", optimizer: "adabelief", seed: 2, size: "quick", backend: "wasm" };
function result(s: RunSpec = spec): RunResult {
  return {
    spec: s,
    hyperparameters: { learningRate: 1e-3 },
    curves: [{ epoch: 1, testAcc: 80 }],
    final: { testAcc: 80 },
    timings: { totalSeconds: 1, perEpochSeconds: [1] },
    versions: { node: "x" },
  };
}

describe("atomic writes", () => {
  it("creates parents, replaces the whole file, and leaves no temporary file", () => {
    const d = tmp();
    const p = join(d, "a", "b", "x.json");
    writeFileAtomic(p, "first");
    writeFileAtomic(p, "second, longer text");
    expect(readFileSync(p, "utf8")).toBe("second, longer text");
    expect(readdirSync(join(d, "a", "b"))).toEqual(["x.json"]);
  });

  it("a failed write keeps the old file intact and cleans up its temporary file", () => {
    const d = tmp();
    // The target is a non-empty directory: the rename fails after the temporary file was written.
    const target = join(d, "run.json");
    mkdirSync(target);
    writeFileSync(join(target, "keep"), "old");
    expect(() => writeFileAtomic(target, "new")).toThrow();
    expect(readFileSync(join(target, "keep"), "utf8")).toBe("old");
    expect(readdirSync(d)).toEqual(["run.json"]);
  });

  it("writes JSON that reads back equal, with number arrays on one line", () => {
    const d = tmp();
    const value = {
      a: [1, 2.5, -3e-9],
      nested: {
        traj: [
          [0, 1, 2],
          [1, 3, 4],
        ],
      },
      s: "x [a, b]\n{c}",
      curves: [{ epoch: 1, loss: 0.5 }],
    };
    writeJsonAtomic(join(d, "v.json"), value);
    const text = readFileSync(join(d, "v.json"), "utf8");
    expect(JSON.parse(text)).toEqual(value);
    expect(text).toContain('"a": [1, 2.5, -3e-9]');
    expect(text).toContain("[0, 1, 2]");
    expect(text).toContain('{ "epoch": 1, "loss": 0.5 }');
    expect(toJsonText([])).toBe("[]\n");
  });
});

describe("stored runs", () => {
  it("finds a matching run, rejects a mismatching spec with the difference, and ignores temp files", () => {
    const out = tmp();
    expect(findStoredRun(out, spec)).toEqual({ status: "missing" });
    writeJsonAtomic(runPath(out, spec), result());
    expect(findStoredRun(out, spec).status).toBe("done");
    expect(findStoredRun(out, { ...spec, epochs: 4 })).toEqual({
      status: "stale",
      reason: "its spec differs: epochs default ≠ 4",
      file: runPath(out, spec),
    });
    expect(findStoredRun(out, { ...spec, backend: "cpu" })).toEqual({
      status: "stale",
      reason: "its spec differs: backend wasm ≠ cpu",
      file: runPath(out, spec),
    });
    // A temporary file left by a crash is not a run.
    writeFileSync(join(out, "cnn", "runs", ".adam-seed1.json.123.0.tmp"), "{partial");
    const { runs, skipped } = readRuns(out, "cnn");
    expect(runs).toHaveLength(1);
    expect(skipped).toEqual([]);
  });

  it("lists malformed run files as skipped with the reason", () => {
    const out = tmp();
    writeJsonAtomic(runPath(out, spec), result());
    writeFileSync(
      join(out, "cnn", "runs", "adam-seed1.json"),
      JSON.stringify({ spec: { ...spec, optimizer: "lion" } }),
    );
    const { runs, skipped } = readRuns(out, "cnn");
    expect(runs).toHaveLength(1);
    expect(skipped).toEqual([
      { file: join(out, "cnn", "runs", "adam-seed1.json"), reason: "malformed (unknown optimizer lion)" },
    ]);
    expect(existsSync(runPath(out, spec))).toBe(true);
  });

  it("checks every field the reports read, naming the field and what it found", () => {
    const ok = result();
    const cases: [unknown, string][] = [
      [{ ...ok, hyperparameters: undefined }, "hyperparameters: expected an object, found nothing"],
      [{ ...ok, hyperparameters: [] }, "hyperparameters: expected an object, found an array"],
      [{ ...ok, curves: [null] }, "curves[0]: expected an object, found null"],
      [{ ...ok, curves: [{ testAcc: 1 }] }, "curves[0].epoch: expected a number, found nothing"],
      [
        { ...ok, curves: [{ epoch: 1, testAcc: "80" }] },
        "curves[0].testAcc: expected a number or null, found a string",
      ],
      [{ ...ok, curves: undefined }, "curves: expected an array, found nothing"],
      [{ ...ok, final: null }, "final: expected an object, found null"],
      [{ ...ok, final: { testAcc: "x" } }, "final.testAcc: expected a number or null, found a string"],
      [
        { ...ok, timings: { totalSeconds: 1 } },
        "timings.perEpochSeconds: expected an array of numbers, found nothing",
      ],
      [
        { ...ok, timings: { totalSeconds: -1, perEpochSeconds: [] } },
        "timings.totalSeconds: expected a number of seconds, found a number",
      ],
      [{ ...ok, versions: undefined }, "versions: expected an object, found nothing"],
      [{ ...ok, versions: { node: 20 } }, "versions.node: expected a string, found a number"],
      [{ ...ok, spec: { ...spec, epochs: 0 } }, "spec.epochs: expected a positive integer, found a number"],
      [
        { ...ok, spec: { ...spec, learningRate: null } },
        "spec.learningRate: expected a positive number, found null",
      ],
      [{ ...ok, spec: { ...spec, task: "" } }, "spec.task: expected a task name, found a string"],
      [
        { ...ok, spec: { ...spec, task: "toy" } },
        "extra: expected the toy trajectories (an object), found nothing",
      ],
      [
        { ...ok, spec: { ...spec, task: "toy" }, extra: { tolerance: 0.01, paths: [{ id: "abs" }] } },
        "extra.paths[0].stepsToTolerance: expected a number or null, found nothing",
      ],
    ];
    for (const [value, problem] of cases) expect(runResultProblem(value)).toBe(problem);
    // NaN and ±Infinity are stored as null, which is allowed wherever a metric is.
    expect(
      runResultProblem({ ...ok, curves: [{ epoch: 1, testAcc: null }], final: { testAcc: null } }),
    ).toBeNull();
    expect(runResultProblem(ok)).toBeNull();
  });

  it("a malformed run file at the run's path is not done, with the reason and the file", () => {
    const out = tmp();
    mkdirSync(join(out, "cnn", "runs"), { recursive: true });
    writeFileSync(runPath(out, spec), JSON.stringify({ ...result(), curves: [null] }));
    expect(findStoredRun(out, spec)).toEqual({
      status: "stale",
      reason: "malformed (curves[0]: expected an object, found null)",
      file: runPath(out, spec),
    });
  });

  it("counts a copied run file once, keeping the file under the run's own name", () => {
    const out = tmp();
    const dir = join(out, "cnn", "runs");
    writeJsonAtomic(runPath(out, spec), result());
    // Sorted before the original, under another name, and under another seed's name.
    copyFileSync(runPath(out, spec), join(dir, "a-copy.json"));
    copyFileSync(runPath(out, spec), join(dir, "adabelief-seed7.json"));
    // The same seed with other settings is another run (the report warns that settings are mixed).
    writeJsonAtomic(join(dir, "other.json"), result({ ...spec, epochs: 9 }));
    const { runs, skipped } = readRuns(out, "cnn");
    expect(runs.map((r) => r.spec.epochs ?? "default")).toEqual(["default", 9]);
    const why = "duplicate of adabelief-seed2.json (same task, optimizer, seed and settings), counted once";
    expect(skipped).toEqual([
      { file: join(dir, "a-copy.json"), reason: why },
      { file: join(dir, "adabelief-seed7.json"), reason: why },
    ]);
  });

  it("specDifferences treats an absent override as the default", () => {
    expect(specDifferences(spec, { ...spec })).toEqual([]);
    expect(specDifferences({ ...spec, learningRate: 0.1 }, spec)).toEqual(["learningRate 0.1 ≠ default"]);
  });
});

describe("stale temporary files", () => {
  const now = Date.parse("2026-01-01T12:00:00Z");
  function tempFile(dir: string, name: string, ageSeconds: number): string {
    const f = join(dir, name);
    writeFileSync(f, "{partial");
    const t = new Date(now - ageSeconds * 1000);
    utimesSync(f, t, t);
    return f;
  }

  it("the atomic write's temporary files match the pattern the clean-up removes", () => {
    expect(TEMP_FILE_PATTERN.exec(".adam-seed1.json.123.0.tmp")?.[1]).toBe("123");
    expect(TEMP_FILE_PATTERN.exec(".a.b.c.json.42.17.tmp")?.[1]).toBe("42");
    for (const name of ["adam-seed1.json", ".notes.tmp", ".x.json.tmp", "x.json.1.2.tmp", ".x.12.tmp"])
      expect(TEMP_FILE_PATTERN.test(name), name).toBe(false);
  });

  it("removes a dead writer's file after the grace, any file after the stale age, nothing else", () => {
    const out = tmp();
    const deep = join(out, "cnn", "lr-0.001", "cnn", "runs");
    mkdirSync(deep, { recursive: true });
    const alive = new Set([100]);
    const g = DEAD_WRITER_GRACE_SECONDS;
    const removed = [
      tempFile(deep, ".sgd-seed1.json.200.0.tmp", g + 1),
      tempFile(out, ".README.md.100.3.tmp", STALE_TEMP_SECONDS + 1),
    ];
    const kept = [
      tempFile(deep, ".sgd-seed2.json.200.1.tmp", g - 5),
      tempFile(deep, ".sgd-seed3.json.100.2.tmp", STALE_TEMP_SECONDS - 5),
      tempFile(deep, ".notes.tmp", STALE_TEMP_SECONDS * 10),
      tempFile(deep, "sgd-seed1.json", STALE_TEMP_SECONDS * 10),
    ];
    expect(cleanStaleTempFiles(out, { now, isAlive: (pid) => alive.has(pid) }).sort()).toEqual(
      removed.sort(),
    );
    for (const f of removed) expect(existsSync(f)).toBe(false);
    for (const f of kept) expect(existsSync(f), f).toBe(true);
    expect(cleanStaleTempFiles(join(out, "missing"))).toEqual([]);
  });

  it("processAlive: this process is, an id above pid_max and non-positive ids are not", () => {
    expect(processAlive(process.pid)).toBe(true);
    expect(processAlive(2 ** 30)).toBe(false);
    expect(processAlive(0)).toBe(false);
    expect(processAlive(-1)).toBe(false);
  });
});

describe("makeDirs", () => {
  it("creates missing parents, accepts an existing folder, and fails on a file in the way", () => {
    const d = tmp();
    makeDirs(join(d, "a", "b", "c"));
    makeDirs(join(d, "a", "b", "c"));
    expect(readdirSync(join(d, "a", "b"))).toEqual(["c"]);
    writeFileSync(join(d, "f"), "x");
    expect(() => makeDirs(join(d, "f"))).toThrow(/ENOTDIR/);
    expect(() => makeDirs(join(d, "f", "sub"))).toThrow(/ENOTDIR/);
  });
});
