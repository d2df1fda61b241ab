import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { scanNonFinite, selectRoute } from "../../src/tfjs/update.js";
import { useBackend } from "./helpers.js";

beforeAll(() => useBackend("cpu"));

describe("the tensor-path non-finite scan", () => {
  it("checks each gradient on its own (no concatenated copy), reads back once, and locates the element", async () => {
    const grads = Array.from({ length: 5 }, (_, i) => tf.fill([1000], i + 1));
    const route = { kind: "tensor" } as const;
    const held = tf.memory().numBytes;
    const profile = await tf.profile(() => void scanNonFinite(route, grads));
    expect(profile.kernelNames).not.toContain("Concat");
    // Peak extra memory: one gradient's worth of flags, far below a copy of all the gradients (5 × 4000 B).
    expect(profile.peakBytes - held).toBeLessThanOrEqual(4000);
    expect(profile.newTensors).toBe(0);
    expect(scanNonFinite(route, grads)).toBeNull();
    const bad = tf.tensor1d([0, 1, Number.NaN, 2]);
    const hit = scanNonFinite(route, [...grads, bad]);
    expect(hit?.index).toBe(5);
    expect(hit?.at).toBe(2);
    expect(Number.isNaN(hit?.value)).toBe(true);
    expect(scanNonFinite(route, [])).toBeNull();
    tf.dispose([...grads, bad]);
  });
});

describe("the wasm SIMD non-finite scan (eight gradients side by side, then per gradient)", () => {
  it("reports the first hit in the gradients' order, across groups of eight and ragged sizes", async () => {
    await useBackend("wasm");
    try {
      const route = selectRoute("auto");
      expect(route.kind).toBe("wasm");
      const sizes = Array.from({ length: 21 }, (_, i) => (i === 4 ? 0 : 5 + ((i * 37) % 90)));
      const grads = sizes.map((n, i) => tf.fill([n], 0.5 + i));
      expect(scanNonFinite(route, grads)).toBeNull();
      for (const [index, at, value] of [
        [13, 7, Number.NaN],
        [20, 0, Infinity],
        [0, 3, -Infinity],
        [9, sizes[9]! - 1, Number.NaN],
      ] as const) {
        const values = new Float32Array(sizes[index]!).fill(1);
        values[at] = value;
        // A later gradient with a hit too: the first in order is reported.
        const late = tf.tensor1d([Number.NaN]);
        const list = grads.map((g, i) => (i === index ? tf.tensor1d(values) : g));
        const hit = scanNonFinite(route, [...list, late]);
        expect(hit?.index).toBe(index);
        expect(hit?.at).toBe(at);
        expect(Object.is(hit?.value, value) || (Number.isNaN(hit!.value) && Number.isNaN(value))).toBe(true);
        tf.dispose([list[index]!, late]);
      }
      tf.dispose(grads);
    } finally {
      await useBackend("cpu");
    }
  });
});
