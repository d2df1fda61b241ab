import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { scanNonFinite } from "../../src/tfjs/update.js";
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
