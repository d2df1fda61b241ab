import * as tf from "@tensorflow/tfjs";
import { afterAll, describe, expect, it } from "vitest";
import { AdaBelief, Fromage } from "../../src/core/index.js";
import { adabelief, adam, fromage, type KernelChoice } from "../../src/tfjs/index.js";
import { useBackend } from "./helpers.js";

const setups: [string, "cpu" | "wasm", KernelChoice][] = [
  ["cpu SIMD", "cpu", "auto"],
  ["cpu loop", "cpu", "loop"],
  ["cpu tensor ops", "cpu", "tensor"],
  ["wasm SIMD", "wasm", "auto"],
  ["wasm loop", "wasm", "loop"],
  ["wasm tensor ops", "wasm", "tensor"],
];

afterAll(() => useBackend("cpu"));

describe.each(setups)("memory and buffer ownership: %s", (_label, backend, kernel) => {
  // 200 steps on the default paths; 50 on the alternative ones (the suite must stay fast).
  const epochs = kernel === "auto" ? 20 : 5;
  it(`numTensors stays flat over ${epochs * 10} fit steps; state is exactly the slots; dispose frees everything`, async () => {
    await useBackend(backend);
    const xs = tf.tensor2d(
      Array.from({ length: 40 * 3 }, (_, i) => Math.cos(i)),
      [40, 3],
    );
    const ys = tf.tensor2d(
      Array.from({ length: 40 }, (_, i) => Math.sin(i)),
      [40, 1],
    );
    const model = tf.sequential({
      layers: [
        tf.layers.dense({ units: 5, inputShape: [3], activation: "relu" }),
        tf.layers.dense({ units: 1 }),
      ],
    });
    const opt = adabelief({ learningRate: 1e-3, kernel, clipGlobalNorm: 1 });
    model.compile({ optimizer: opt, loss: "meanSquaredError" });
    const beforeFit = tf.memory().numTensors;
    const counts: number[] = [];
    await model.fit(xs, ys, {
      epochs,
      batchSize: 4,
      shuffle: false,
      verbose: 0,
      callbacks: { onEpochEnd: async () => void counts.push(tf.memory().numTensors) },
    });
    expect(opt.iterations).toBe(epochs * 10);
    expect(new Set(counts.slice(1)).size).toBe(1); // flat after the first epoch
    // The optimizer's state: 2 slots per variable (4 variables), nothing else.
    const weights = await opt.getWeights();
    expect(weights.map((w) => w.name).slice(1)).toEqual(
      model.trainableWeights.flatMap((w) => [`${w.name}/m`, `${w.name}/s`]),
    );
    expect(counts[0]! - beforeFit).toBe(8); // the 8 slots created by the first step
    const n = tf.memory().numTensors;
    opt.dispose();
    expect(tf.memory().numTensors).toBe(n - 9); // 8 slots + the cached iter scalar
    opt.dispose(); // idempotent
    expect(() => opt.applyGradients({})).toThrow(/disposed/);
    model.dispose();
    tf.dispose([xs, ys]);
  });

  it("never writes a buffer shared with another tensor (tf.variable(x), clone, a cloned slot)", async () => {
    await useBackend(backend);
    const x = tf.tensor1d([1, 2, 3]);
    const v = tf.variable(x, true); // shares x's buffer
    const cloneOfV = v.clone();
    const alias = tf.variable(tf.zeros([3]), true);
    alias.assign(v); // shares v's buffer
    const opt = adam({ learningRate: 0.1, kernel });
    opt.applyGradients({ [v.name]: tf.tensor1d([1, 1, 1]) });
    expect(Array.from(x.dataSync())).toEqual([1, 2, 3]);
    expect(Array.from(cloneOfV.dataSync())).toEqual([1, 2, 3]);
    expect(Array.from(alias.dataSync())).toEqual([1, 2, 3]);
    expect(v.dataSync()[0]).toBeCloseTo(0.9, 5);
    const slot = (await opt.getWeights())[1]!.tensor;
    const slotClone = slot.clone();
    const slotBefore = Array.from(slot.dataSync());
    opt.applyGradients({ [v.name]: tf.tensor1d([1, 1, 1]) });
    expect(Array.from(slotClone.dataSync())).toEqual(slotBefore);
    expect(Array.from((await opt.getWeights())[1]!.tensor.dataSync())).not.toEqual(slotBefore);
    // The slots belong to the optimizer: disposing one from outside is reported, not a crash.
    (await opt.getWeights())[2]!.tensor.dispose();
    expect(() => opt.applyGradients({ [v.name]: tf.tensor1d([1, 1, 1]) })).toThrow(
      /slot ".*\/v" was disposed/,
    );
    opt.dispose();
    tf.dispose([x, v, cloneOfV, slotClone, alias]);
  });

  it("a gradient that is the variable itself is read before it is overwritten", async () => {
    await useBackend(backend);
    const v = tf.variable(tf.tensor1d([1, -2, 0.5]), true);
    const p = new Float32Array([1, -2, 0.5]);
    const core = new AdaBelief([p], { learningRate: 0.1 });
    const opt = adabelief({ learningRate: 0.1, kernel });
    for (let i = 0; i < 8; i++) {
      core.step([p.slice()]);
      opt.applyGradients({ [v.name]: v });
    }
    const tol = kernel === "auto" && backend === "cpu" ? 0 : kernel === "loop" ? 0 : 1e-6;
    v.dataSync().forEach((x, j) => expect(Math.abs(x - p[j]!)).toBeLessThanOrEqual(tol));
    opt.dispose();
    v.dispose();
  });

  it("Fromage (per-variable norms, never batched): gradients that are trained variables are read before any write", async () => {
    await useBackend(backend);
    const a = tf.variable(tf.tensor1d([1, -2, 0.5]), true);
    const b = tf.variable(tf.tensor1d([-0.3, 4, 2]), true);
    const c = tf.variable(tf.tensor1d([0.7, 0.1, -1]), true);
    const pa = new Float32Array([1, -2, 0.5]);
    const pb = new Float32Array([-0.3, 4, 2]);
    const pc = new Float32Array([0.7, 0.1, -1]);
    const core = new Fromage([pa, pb, pc], { learningRate: 0.1 });
    const opt = fromage({ learningRate: 0.1, kernel });
    // The tensor form accumulates the norms in float32 (double in the core loop).
    const tol = kernel === "tensor" ? 1e-6 : 0;
    for (let i = 0; i < 4; i++) {
      // a's gradient is b, b's is a (each updated before the other reads it), c's is c itself.
      core.step([pb.slice(), pa.slice(), pc.slice()]);
      opt.applyGradients([
        { name: a.name, tensor: b },
        { name: b.name, tensor: a },
        { name: c.name, tensor: c },
      ]);
    }
    for (const [t, p] of [
      [a, pa],
      [b, pb],
      [c, pc],
    ] as const) {
      t.dataSync().forEach((x, j) =>
        expect(Math.abs(x - p[j]!) / (1 + Math.abs(p[j]!))).toBeLessThanOrEqual(tol),
      );
    }
    opt.dispose();
    tf.dispose([a, b, c]);
  });

  it("gradients that are another trained variable, or one of the optimizer's slots, are read before any write", async () => {
    await useBackend(backend);
    const a = tf.variable(tf.tensor1d([1, -2, 0.5]), true);
    const b = tf.variable(tf.tensor1d([-0.3, 4, 2]), true);
    const pa = new Float32Array([1, -2, 0.5]);
    const pb = new Float32Array([-0.3, 4, 2]);
    const core = new AdaBelief([pa, pb], { learningRate: 0.1 });
    const opt = adabelief({ learningRate: 0.1, kernel });
    const tol = kernel === "tensor" || kernel === "auto" ? 1e-6 : 0;
    const expectClose = (t: tf.Tensor, p: Float32Array) =>
      t.dataSync().forEach((x, j) => expect(Math.abs(x - p[j]!)).toBeLessThanOrEqual(tol));
    for (let i = 0; i < 4; i++) {
      // Each variable's gradient is the other variable: both must see the values before the step.
      core.step([pb.slice(), pa.slice()]);
      opt.applyGradients({ [a.name]: b, [b.name]: a });
    }
    expectClose(a, pa);
    expectClose(b, pb);
    // The gradient of `a` is a's own first-moment slot, as getWeights hands it out.
    const m = (await opt.getWeights()).find((w) => w.name === `${a.name}/m`)!.tensor;
    const coreM = core.getState().slots["m"]![0]!;
    core.step([Float32Array.from(coreM), new Float32Array(3)]);
    opt.applyGradients({ [a.name]: m, [b.name]: tf.zeros([3]) });
    expectClose(a, pa);
    expectClose(b, pb);
    // The gradient of `b` is a's second-moment slot, which a's update (first) replaces.
    const s = (await opt.getWeights()).find((w) => w.name === `${a.name}/s`)!.tensor;
    const coreS = core.getState().slots["s"]![0]!;
    core.step([new Float32Array([0.5, -0.5, 1]), Float32Array.from(coreS)]);
    opt.applyGradients([
      { name: a.name, tensor: tf.tensor1d([0.5, -0.5, 1]) },
      { name: b.name, tensor: s },
    ]);
    expectClose(a, pa);
    expectClose(b, pb);
    opt.dispose();
    tf.dispose([a, b]);
  });

  // The wasm backend's tensor path runs per variable by design (its slices are too slow to batch).
  it.skipIf(backend === "wasm" && kernel === "tensor")(
    "many small variables: no per-variable kernel dispatch (none at all on the fused paths)",
    async () => {
      await useBackend(backend);
      const arithmetic = async (count: number) => {
        const vars = Array.from({ length: count }, (_, i) => tf.variable(tf.fill([50], i / count), true));
        const grads = vars.map((v, i) => ({ name: v.name, tensor: tf.fill([50], (i % 7) - 3) }));
        const opt = adabelief({ learningRate: 0.01, kernel, clipGlobalNorm: 1 });
        opt.applyGradients(grads); // creates the slots
        const profile = await tf.profile(() => opt.applyGradients(grads));
        expect(vars[count - 1]!.dataSync()[0]).not.toBe((count - 1) / count);
        opt.dispose();
        tf.dispose(vars);
        tf.dispose(grads.map((g) => g.tensor));
        // Layout kernels (reshape, concat, split) are O(variables) but do no arithmetic.
        return profile.kernelNames.filter((k) => !["Reshape", "Concat", "SplitV", "Slice"].includes(k));
      };
      const few = await arithmetic(2);
      const many = await arithmetic(200);
      expect(many).toEqual(few);
      if (kernel !== "tensor") expect(many).toEqual([]);
    },
  );

  it("a stateless optimizer holds no tensors", async () => {
    await useBackend(backend);
    const vars = Array.from({ length: 20 }, (_, i) => tf.variable(tf.fill([50], i / 20), true));
    const grads = vars.map((v, i) => ({ name: v.name, tensor: tf.fill([50], (i % 7) - 3) }));
    const opt = fromage({ learningRate: 0.01, kernel });
    const n = tf.memory().numTensors;
    opt.applyGradients(grads);
    opt.applyGradients(grads);
    expect(tf.memory().numTensors).toBe(n);
    expect((await opt.getWeights()).map((w) => w.name)).toEqual(["iter"]);
    expect(vars[10]!.dataSync()[0]).not.toBe(0.5);
    opt.dispose();
    tf.dispose(vars);
    tf.dispose(grads.map((g) => g.tensor));
  });
});

describe("memory over a long run (cpu, fused)", () => {
  it("numTensors is flat over 1,000 fit steps of a tiny model", async () => {
    await useBackend("cpu");
    const xs = tf.tensor2d(
      Array.from({ length: 40 * 2 }, (_, i) => Math.cos(i)),
      [40, 2],
    );
    const ys = tf.tensor2d(
      Array.from({ length: 40 }, (_, i) => Math.sin(i)),
      [40, 1],
    );
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [2] })] });
    const opt = adabelief({ learningRate: 1e-3, clipGlobalNorm: 1 });
    model.compile({ optimizer: opt, loss: "meanSquaredError" });
    const counts: number[] = [];
    await model.fit(xs, ys, {
      epochs: 100,
      batchSize: 4,
      shuffle: false,
      verbose: 0,
      callbacks: { onEpochEnd: async () => void counts.push(tf.memory().numTensors) },
    });
    expect(opt.iterations).toBe(1000);
    expect(opt.lastUpdatePath).toBe("cpu-simd");
    expect(new Set(counts).size).toBe(1);
    model.dispose();
    opt.dispose();
    tf.dispose([xs, ys]);
  });

  for (const [name, make, slots] of [
    ["AdaBelief", () => adabelief({ amsgrad: true, rectify: false }), ["m", "s", "sMax"]],
    ["Adam", () => adam({ amsgrad: true }), ["m", "v", "vMax"]],
  ] as const) {
    it(`AMSGrad keeps exactly 3 slots per variable (${name})`, async () => {
      await useBackend("cpu");
      const vars = [tf.variable(tf.ones([3, 2]), true), tf.variable(tf.zeros([2]), true)];
      const grads = vars.map((v) => ({ name: v.name, tensor: tf.onesLike(v) }));
      const opt = make();
      const n = tf.memory().numTensors;
      opt.applyGradients(grads);
      expect(tf.memory().numTensors - n).toBe(3 * vars.length);
      opt.applyGradients(grads);
      expect(tf.memory().numTensors - n).toBe(3 * vars.length);
      const weights = await opt.getWeights();
      expect(weights.map((w) => w.name)).toEqual([
        "iter",
        ...vars.flatMap((v) => slots.map((s) => `${v.name}/${s}`)),
      ]);
      weights.slice(1).forEach((w, i) => expect(w.tensor.shape).toEqual(vars[Math.floor(i / 3)]!.shape));
      opt.dispose();
      tf.dispose([...vars, ...grads.map((g) => g.tensor)]);
    });
  }
});
