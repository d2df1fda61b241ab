import { afterAll, describe, expect, it } from "vitest";
import { setWarningHandler, type FloatArray } from "../../src/core/index.js";
import { FLOAT32_COMPUTE, factories } from "./configs.js";
import { loadGoldenFiles } from "./load.js";
import { initialParams, makeGradient } from "./problems.js";

/**
 * Replays every case of every golden file with the file's comparison rule
 * |actual − expected| ≤ tol·(1 + |expected|) over the kept rows. A case that cannot run fails.
 */
const files = loadGoldenFiles();
const worst = new Map<string, { cases: number; worst: number; worstCase: string }>();

setWarningHandler(() => {});

describe.each(files)("golden $file", (file) => {
  it("has cases", () => expect(file.cases.length).toBeGreaterThan(0));
  it.each(file.cases.map((c) => [c.name, c] as const))("%s", (_name, kase) => {
    const factory = factories[kase.optimizer];
    if (!factory) throw new Error(`no implementation is mapped for golden optimizer "${kase.optimizer}"`);
    const problem = file.problems[kase.problem];
    if (!problem) throw new Error(`case ${kase.name} names unknown problem ${kase.problem}`);
    const tol = file.generator.comparison.tol[kase.dtype];
    const float32Compute = FLOAT32_COMPUTE.has(kase.optimizer) && kase.dtype === "float64";
    const params: FloatArray[] = initialParams(problem, float32Compute ? "float32" : kase.dtype);
    const gradient = makeGradient(kase.problem, problem, kase.dtype);
    const opt = factory(params, kase.config);
    let caseWorst = 0;
    let firstFailure = "";
    const rows = kase.trajectory.length;
    expect(rows).toBe(kase.steps);
    for (let step = 0; step < rows; step++) {
      let grads = gradient(float32Compute ? params.map((p) => Float64Array.from(p)) : params, step);
      if (float32Compute) grads = grads.map((g) => Float32Array.from(g));
      opt.step(grads);
      const expected = kase.trajectory[step]!;
      let k = 0;
      for (const p of params) {
        for (let i = 0; i < p.length; i++, k++) {
          const e = expected[k]!;
          const dev = Math.abs(p[i]! - e) / (1 + Math.abs(e));
          if (!(dev <= caseWorst)) caseWorst = Number.isNaN(dev) ? Infinity : Math.max(caseWorst, dev);
          if (!(dev <= tol) && !firstFailure) {
            firstFailure = `step ${step + 1}, element ${k}: got ${p[i]}, expected ${e} (deviation ${dev.toExponential(2)} > tol ${tol})`;
          }
        }
      }
      expect(k).toBe(expected.length);
    }
    const key = `${kase.optimizer}/${kase.dtype}`;
    const w = worst.get(key) ?? { cases: 0, worst: 0, worstCase: "" };
    w.cases++;
    if (caseWorst >= w.worst) Object.assign(w, { worst: caseWorst, worstCase: kase.name });
    worst.set(key, w);
    expect(firstFailure, kase.name).toBe("");
  });
});

afterAll(() => {
  const total = [...worst.values()].reduce((a, w) => a + w.cases, 0);
  const lines = [...worst.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(
      ([k, w]) =>
        `  ${k.padEnd(22)} ${String(w.cases).padStart(4)} cases  worst ${w.worst.toExponential(2)}  (${w.worstCase})`,
    );
  console.log(`golden replay: ${total} cases compared\n${lines.join("\n")}`);
});
