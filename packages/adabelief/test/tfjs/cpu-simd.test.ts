import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdaBelief, Adam, NonFiniteGradientError, type FloatArray } from "../../src/core/index.js";
import { cpuInternals } from "../../src/tfjs/cpu.js";
import { REGION_BYTES, slotArena, STAGE, type SlotArena } from "../../src/tfjs/cpu-simd.js";
import { adabelief, adam } from "../../src/tfjs/index.js";
import { useBackend } from "./helpers.js";

/**
 * The SIMD kernel on the cpu backend (`./src/tfjs/cpu-simd.ts`): the variable and its slots live in a wasm
 * memory of their own (views as the tensors' storage), the gradient is staged through it in chunks.
 */

let arena: SlotArena;
let cpu: ReturnType<typeof cpuInternals> & object;

beforeAll(async () => {
  await useBackend("cpu");
  cpu = cpuInternals(tf.backend())!;
  arena = slotArena(cpu)!;
  expect(arena).not.toBeNull();
});
afterAll(() => useBackend("cpu"));

/** Deterministic values spread over orders of magnitude. */
function values(n: number, seed: number, scale = 1): Float32Array {
  let a = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    return (a / 2 ** 32 - 0.5) * scale * 10 ** -(a & 3);
  });
}

/** Whether a tensor's storage is a view of an arena region (a wasm memory of at least REGION_BYTES). */
const storageIsWasm = (t: tf.Tensor) => cpu.values(t.dataId, t.size)!.buffer.byteLength >= REGION_BYTES;

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol = 1e-5, label = "") {
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const dev = Math.abs(got[i]! - want[i]!) / Math.max(1, Math.abs(want[i]!));
    if (!(dev <= worst)) worst = Number.isNaN(dev) ? Infinity : dev;
  }
  expect(worst, label).toBeLessThanOrEqual(tol);
}

describe("cpu backend, SIMD kernel on the wasm slot arena", () => {
  it.each([
    ["AdaBelief (default: rectified, warm-up then adaptive)", {}],
    [
      "AdaBelief, AMSGrad without rectification, L2 decay",
      { rectify: false, amsgrad: true, weightDecay: 0.01, weightDecouple: false },
    ],
    ["AdaBelief, decoupled decay", { weightDecay: 0.1 }],
  ] as const)(
    "%s: agrees with the core to float32 precision over several chunks and a ragged tail",
    (_label, options) => {
      const n = 2 * STAGE + 1234;
      const init = values(n, 1);
      const p = init.slice();
      const core = new AdaBelief([p], { learningRate: 1e-2, ...options });
      const v = tf.variable(tf.tensor1d(init), true);
      const opt = adabelief({ learningRate: 1e-2, ...options });
      for (let step = 0; step < 12; step++) {
        const g = values(n, 100 + step, 0.1);
        core.step([g]);
        const gt = tf.tensor1d(g);
        opt.applyGradients({ [v.name]: gt });
        gt.dispose();
        expect(opt.lastUpdatePath).toBe("cpu-simd");
        expectClose(v.dataSync(), p, 1e-5, `step ${step + 1}`);
      }
      expect(storageIsWasm(v)).toBe(true);
      opt.dispose();
      v.dispose();
    },
  );

  it("Adam with AMSGrad: three slots in the arena, float32 precision", async () => {
    const n = STAGE + 7;
    const p = values(n, 5);
    const core = new Adam([p], { learningRate: 1e-2, amsgrad: true });
    const v = tf.variable(tf.tensor1d(p.slice()), true);
    const opt = adam({ learningRate: 1e-2, amsgrad: true });
    for (let step = 0; step < 6; step++) {
      const g = values(n, 200 + step, 0.3);
      core.step([g]);
      tf.tidy(() => opt.applyGradients({ [v.name]: tf.tensor1d(g) }));
    }
    expect(opt.lastUpdatePath).toBe("cpu-simd");
    expectClose(v.dataSync(), p);
    const slots = (await opt.getWeights()).slice(1);
    expect(slots.map((w) => w.name.split("/").pop())).toEqual(["m", "v", "vMax"]);
    for (const w of slots) expect(storageIsWasm(w.tensor)).toBe(true);
    expectClose(slots[1]!.tensor.dataSync(), core.getState().slots["v"]![0]! as number[]);
    opt.dispose();
    v.dispose();
  });

  it("the variable keeps its tf.Variable object; a value assigned from outside is picked up next step", () => {
    const v = tf.variable(tf.tensor1d([1, 2, 3, 4, 5]), true);
    const opt = adabelief({ learningRate: 0.1 });
    const g = tf.tensor1d([1, 1, 1, 1, 1]);
    opt.applyGradients({ [v.name]: g });
    const placed = v.dataId;
    opt.applyGradients({ [v.name]: g });
    expect(v.dataId).toBe(placed); // updated in place
    const fresh = tf.tensor1d([10, 20, 30, 40, 50]);
    v.assign(fresh); // e.g. model.setWeights
    fresh.dispose();
    const before = Array.from(v.dataSync());
    opt.applyGradients({ [v.name]: g });
    const after = Array.from(v.dataSync());
    after.forEach((x, i) => expect(Math.abs(x - before[i]!)).toBeLessThan(0.5));
    expect(storageIsWasm(v)).toBe(true);
    expect(opt.lastUpdatePath).toBe("cpu-simd");
    tf.dispose([v, g]);
    opt.dispose();
  });

  it("a clone of a slot or of the variable keeps its values; the step moves to a private copy", async () => {
    const v = tf.variable(tf.tensor1d([1, -1, 2]), true);
    const opt = adabelief({ learningRate: 0.1 });
    const g = tf.tensor1d([0.5, -0.5, 1]);
    opt.applyGradients({ [v.name]: g });
    const m = (await opt.getWeights())[1]!.tensor;
    const mClone = m.clone();
    const vClone = v.clone();
    const [mBefore, vBefore] = [Array.from(mClone.dataSync()), Array.from(vClone.dataSync())];
    opt.applyGradients({ [v.name]: g });
    expect(Array.from(mClone.dataSync())).toEqual(mBefore);
    expect(Array.from(vClone.dataSync())).toEqual(vBefore);
    expect(Array.from(v.dataSync())).not.toEqual(vBefore);
    const m2 = (await opt.getWeights())[1]!.tensor;
    expect(m2).not.toBe(m);
    expect(Array.from(m2.dataSync())).not.toEqual(mBefore);
    tf.dispose([v, g, mClone, vClone]);
    opt.dispose();
  });

  it("setWeights state moves into the arena and continues the trajectory", async () => {
    const init = values(100, 9);
    const a = tf.variable(tf.tensor1d(init), true);
    const b = tf.variable(tf.tensor1d(init), true);
    const optA = adabelief({ learningRate: 0.05 });
    const grads = [values(100, 11, 0.2), values(100, 12, 0.2), values(100, 13, 0.2)];
    for (const g of grads.slice(0, 2)) tf.tidy(() => optA.applyGradients({ [a.name]: tf.tensor1d(g) }));
    // b takes two steps on the tensor path, then continues with a's state on the SIMD path.
    const optT = adabelief({ learningRate: 0.05, kernel: "tensor" });
    for (const g of grads.slice(0, 2)) tf.tidy(() => optT.applyGradients({ [b.name]: tf.tensor1d(g) }));
    const optB = adabelief({ learningRate: 0.05 });
    const saved = (await optT.getWeights()).map((w) => ({ name: w.name, tensor: w.tensor.clone() }));
    await optB.setWeights(saved);
    tf.dispose(saved.map((w) => w.tensor));
    tf.tidy(() => optA.applyGradients({ [a.name]: tf.tensor1d(grads[2]!) }));
    tf.tidy(() => optB.applyGradients({ [b.name]: tf.tensor1d(grads[2]!) }));
    expect(optB.lastUpdatePath).toBe("cpu-simd");
    expectClose(b.dataSync(), a.dataSync(), 1e-6);
    for (const w of (await optB.getWeights()).slice(1)) expect(storageIsWasm(w.tensor)).toBe(true);
    tf.dispose([a, b]);
    [optA, optT, optB].forEach((o) => o.dispose());
  });

  it("a non-finite gradient past the first chunk throws and changes nothing", async () => {
    const n = 3 * STAGE;
    const v = tf.variable(tf.tensor1d(values(n, 3)), true);
    const opt = adabelief({ learningRate: 0.1 });
    tf.tidy(() => opt.applyGradients({ [v.name]: tf.fill([n], 0.1) }));
    const before = Array.from(v.dataSync());
    const slotsBefore = (await opt.getWeights()).slice(1).map((w) => Array.from(w.tensor.dataSync()));
    const bad = values(n, 4, 0.1);
    bad[STAGE + 17] = NaN;
    bad[2 * STAGE + 5] = Infinity;
    const g = tf.tensor1d(bad);
    expect(() => opt.applyGradients({ [v.name]: g })).toThrow(NonFiniteGradientError);
    expect(() => opt.applyGradients({ [v.name]: g })).toThrow(new RegExp(`NaN at index ${STAGE + 17}`));
    expect(Array.from(v.dataSync())).toEqual(before);
    expect((await opt.getWeights()).slice(1).map((w) => Array.from(w.tensor.dataSync()))).toEqual(
      slotsBefore,
    );
    expect(opt.iterations).toBe(1);
    tf.dispose([v, g]);
    opt.dispose();
  });

  it("blocks are freed when the tensors go away; regions never grow and empty ones are dropped", () => {
    arena.sweep();
    const base = arena.stats();
    const vars = [1000, 5000, 77].map((n, i) => tf.variable(tf.tensor1d(values(n, i)), true));
    const opt = adabelief();
    tf.tidy(() => opt.applyGradients(vars.map((v) => ({ name: v.name, tensor: tf.onesLike(v) }))));
    const during = arena.stats();
    expect(during.blocks - base.blocks).toBe(3 * 3); // θ, m, s per variable
    opt.dispose();
    tf.dispose(vars);
    arena.sweep();
    expect(arena.stats().blocks).toBe(base.blocks);
    // A variable larger than a region gets a region of its own; disposing it drops that region.
    const big = Math.floor(REGION_BYTES / 4 / 3) + 1000;
    const v = tf.variable(tf.zeros([big]), true);
    const o = adabelief();
    tf.tidy(() => o.applyGradients({ [v.name]: tf.onesLike(v) }));
    expect(arena.stats().regions).toBeGreaterThan(base.regions);
    o.dispose();
    v.dispose();
    arena.sweep();
    expect(arena.stats().regions).toBeLessThanOrEqual(Math.max(1, base.regions));
  });

  it("model-style training: numTensors stays flat, tf.memory() counts no extra tensors", () => {
    const vars = [tf.variable(tf.randomNormal([64, 32]), true), tf.variable(tf.zeros([32]), true)];
    const opt = adabelief({ learningRate: 0.01 });
    const step = () =>
      tf.tidy(() =>
        opt.applyGradients(vars.map((v) => ({ name: v.name, tensor: tf.randomNormal(v.shape) }))),
      );
    step();
    const n = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) step();
    expect(tf.memory().numTensors).toBe(n);
    opt.dispose();
    tf.dispose(vars);
  });

  it("kernel: 'loop' keeps the bit-identical core loop on ordinary storage", () => {
    const p = new Float32Array([0.3, -0.7, 1.5]) as FloatArray;
    const core = new AdaBelief([p], { learningRate: 0.1 });
    const v = tf.variable(tf.tensor1d([0.3, -0.7, 1.5]), true);
    const opt = adabelief({ learningRate: 0.1, kernel: "loop" });
    for (let i = 0; i < 8; i++) {
      const g = new Float32Array([0.1 * i, -0.2, 0.05]);
      core.step([g]);
      tf.tidy(() => opt.applyGradients({ [v.name]: tf.tensor1d(g) }));
    }
    expect(opt.lastUpdatePath).toBe("cpu");
    expect(Array.from(v.dataSync())).toEqual(Array.from(p));
    expect(storageIsWasm(v)).toBe(false);
    tf.dispose(v);
    opt.dispose();
  });
});
