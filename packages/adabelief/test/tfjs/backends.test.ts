import * as tf from "@tensorflow/tfjs-core";
import { afterAll, describe, expect, it } from "vitest";
import { cpuInternals } from "../../src/tfjs/cpu.js";
import { adabelief } from "../../src/tfjs/index.js";
import { wasmInternals } from "../../src/tfjs/wasm/backend.js";
import { setSimdInstantiator } from "../../src/tfjs/wasm/fused.js";
import { useBackend } from "./helpers.js";

afterAll(() => useBackend("cpu"));

function stepOnce(kernel: "auto" | "loop" = "auto"): string | null {
  const v = tf.variable(tf.tensor1d([1, 2, 3]), true);
  const opt = adabelief({ kernel });
  opt.applyGradients({ [v.name]: tf.tensor1d([0.5, 0.5, 0.5]) });
  const path = opt.lastUpdatePath;
  expect(v.dataSync()[0]).not.toBe(1);
  opt.dispose();
  v.dispose();
  return path;
}

describe("backend internals are feature-detected", () => {
  it("finds the wasm backend's memory and the offset of a tensor's data", async () => {
    await useBackend("wasm");
    const w = wasmInternals(tf.backend());
    expect(w).not.toBeNull();
    const t = tf.tensor1d([1.5, -2, 3.25]);
    const off = w!.offsetOf(t.dataId);
    expect(off).toBeGreaterThan(0);
    expect(Array.from(w!.view(off, 3))).toEqual([1.5, -2, 3.25]);
    expect(w!.refCount(t.dataId)).toBe(1);
    expect(w!.offsetOf(tf.tensor1d([1], "int32").dataId)).toBe(-1); // float32 only
    expect(cpuInternals(tf.backend())).toBeNull();
    t.dispose();
  });

  it("finds the cpu backend's live arrays, and nothing on objects that do not look like a backend", async () => {
    await useBackend("cpu");
    const c = cpuInternals(tf.backend());
    const t = tf.tensor1d([4, 5]);
    expect(Array.from(c!.values(t.dataId, 2)!)).toEqual([4, 5]);
    expect(c!.values(t.dataId, 3)).toBeNull(); // size mismatch: not trusted
    expect(wasmInternals(tf.backend())).toBeNull();
    expect(wasmInternals({ dataIdMap: { get: () => undefined, has: () => false }, wasm: {} })).toBeNull();
    expect(cpuInternals({ data: {} })).toBeNull();
    expect(cpuInternals(null)).toBeNull();
    t.dispose();
  });

  it("without SIMD kernels (missing or failing) the wasm path falls back to the core loop on heap views", async () => {
    await useBackend("wasm");
    expect(stepOnce()).toBe("wasm-simd");
    const previous = setSimdInstantiator(() => null);
    try {
      expect(stepOnce()).toBe("wasm-loop");
      setSimdInstantiator(() => {
        throw new Error("no SIMD here");
      });
      expect(stepOnce()).toBe("wasm-loop");
    } finally {
      setSimdInstantiator(previous);
    }
    expect(stepOnce("loop")).toBe("wasm-loop");
    expect(stepOnce()).toBe("wasm-simd");
  });
});
