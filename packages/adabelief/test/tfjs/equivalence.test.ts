import * as tf from "@tensorflow/tfjs-core";
import { afterAll, describe, expect, it } from "vitest";
import { simdSupported } from "../../src/tfjs/wasm/simd.js";
import { float32Cases, replay, useBackend, TFJS_FACTORIES } from "./helpers.js";

/**
 * Every update path against the core rule (the oracle) on the float32 golden cases: the in-place loops
 * (`kernel: "loop"` on cpu, and on wasm heap views) must be bit-identical to the core; the SIMD kernel (on
 * the wasm heap, and on the cpu backend through its wasm slot arena) and the tensor-op path must agree to
 * float32 precision (the golden comparison rule, tol 1e-5).
 */
const cases = float32Cases();
const SHORT = 30; // steps per case for the slower paths
const summary: string[] = [];

function runAll(
  label: string,
  extra: Record<string, unknown>,
  tol: number,
  steps: (n: number) => number,
  paths: string[],
  feed: "own" | "core" = "own",
) {
  let worst = 0;
  let worstCase = "";
  const rules = new Map<string, Set<string | null>>();
  for (const c of cases) {
    const r = replay(c, steps(c.kase.trajectory.length), extra, tol, feed);
    expect(r.firstFailure, `${label}: ${c.kase.name}`).toBe("");
    expect(paths, `${label}: ${c.kase.name} took path ${r.path}`).toContain(r.path);
    if (!rules.has(r.rule)) rules.set(r.rule, new Set());
    rules.get(r.rule)!.add(r.path);
    if (r.worst >= worst) [worst, worstCase] = [r.worst, c.kase.name];
  }
  summary.push(
    `${label.padEnd(28)} ${cases.length} cases, worst deviation ${worst.toExponential(2)} (${worstCase})`,
  );
  return rules;
}

describe("tfjs update paths agree with the core on the golden problems", () => {
  it("covers every optimizer", () => {
    const names = new Set(cases.map((c) => c.kase.optimizer));
    for (const o of ["adabelief", "adam", "adamw", "radam", "sgd", "yogi", "adabound", "msvag", "fromage"]) {
      expect(names, o).toContain(o);
    }
  });

  it("cpu, core loop in place: bit-identical to the core (80 steps per case)", async () => {
    await useBackend("cpu");
    const rules = runAll("cpu loop", { kernel: "loop" }, 0, (n) => Math.min(n, 80), ["cpu"]);
    expect([...rules.keys()].sort()).toEqual(Object.keys(TFJS_FACTORIES).sort());
  });

  it("cpu, auto (SIMD kernel on the wasm slot arena where there is one): float32 precision", async () => {
    await useBackend("cpu");
    const rules = runAll("cpu auto", {}, 1e-5, (n) => Math.min(n, SHORT), ["cpu-simd", "cpu"]);
    expect(simdSupported()).toBe(true);
    for (const rule of ["AdaBelief", "Adam", "AdamW"])
      expect([...rules.get(rule)!], rule).toEqual(["cpu-simd"]);
    expect([...rules.get("Yogi")!]).toEqual(["cpu"]);
  });

  it("cpu, tensor-op path (what webgl/webgpu run): float32 precision", async () => {
    await useBackend("cpu");
    runAll("cpu tensor ops", { kernel: "tensor" }, 1e-5, (n) => Math.min(n, SHORT), ["tensor"]);
  });

  it("wasm, core loop on heap views: bit-identical to the core", async () => {
    await useBackend("wasm");
    runAll("wasm loop", { kernel: "loop" }, 0, (n) => Math.min(n, SHORT), ["wasm-loop"]);
  });

  it("wasm, tensor-op path: float32 precision (both sides fed the core's gradients)", async () => {
    await useBackend("wasm");
    // Each side computing its own gradients diverges on the chaotic sign-gradient problem (P3a) from
    // float32 rounding alone; fed the same gradients, the paths must agree to float32 precision.
    const rules = runAll(
      "wasm tensor ops",
      { kernel: "tensor" },
      1e-5,
      (n) => Math.min(n, SHORT),
      ["tensor"],
      "core",
    );
    expect([...rules.keys()].sort()).toEqual(Object.keys(TFJS_FACTORIES).sort());
  });

  it("wasm, auto (SIMD kernel where there is one): float32 precision", async () => {
    await useBackend("wasm");
    const rules = runAll("wasm auto", {}, 1e-5, (n) => Math.min(n, SHORT), ["wasm-simd", "wasm-loop"]);
    // The rules with a SIMD kernel must really have run it (this machine's Node has WebAssembly SIMD).
    expect(simdSupported()).toBe(true);
    for (const rule of ["AdaBelief", "Adam", "AdamW"])
      expect([...rules.get(rule)!], rule).toEqual(["wasm-simd"]);
    expect([...rules.get("Yogi")!]).toEqual(["wasm-loop"]);
    await useBackend("cpu");
    expect(tf.getBackend()).toBe("cpu");
  });
});

afterAll(() => console.log(`tfjs equivalence:\n  ${summary.join("\n  ")}`));
