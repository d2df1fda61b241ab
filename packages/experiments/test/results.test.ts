import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  findStoredRun,
  readRuns,
  runPath,
  specDifferences,
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
    });
    expect(findStoredRun(out, { ...spec, backend: "cpu" })).toEqual({
      status: "stale",
      reason: "its spec differs: backend wasm ≠ cpu",
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
    expect(skipped).toEqual(["adam-seed1.json: unknown optimizer lion"]);
    expect(existsSync(runPath(out, spec))).toBe(true);
  });

  it("specDifferences treats an absent override as the default", () => {
    expect(specDifferences(spec, { ...spec })).toEqual([]);
    expect(specDifferences({ ...spec, learningRate: 0.1 }, spec)).toEqual(["learningRate 0.1 ≠ default"]);
  });
});
