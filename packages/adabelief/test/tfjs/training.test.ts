import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { AdaBelief, clipByGlobalNorm, clipByValue, type FloatArray } from "../../src/core/index.js";
import { adabeliefRule } from "../../src/core/optimizers/adabelief.js";
import { adabelief, adam, AdaBeliefOptimizer } from "../../src/tfjs/index.js";
import { useBackend } from "./helpers.js";

beforeAll(() => useBackend("cpu"));

function denseModel(optimizer: tf.Optimizer, seed = 1): tf.Sequential {
  const model = tf.sequential({
    layers: [
      tf.layers.dense({
        units: 4,
        inputShape: [3],
        activation: "tanh",
        kernelInitializer: tf.initializers.glorotUniform({ seed }),
      }),
      tf.layers.dense({ units: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }) }),
    ],
  });
  model.compile({ optimizer, loss: "meanSquaredError" });
  return model;
}

function data(n = 32): { xs: tf.Tensor; ys: tf.Tensor } {
  const xs = tf.tensor2d(
    Array.from({ length: n * 3 }, (_, i) => Math.sin(i * 0.7)),
    [n, 3],
  );
  const ys = tf.tidy(() => tf.sum(tf.mul(xs, tf.tensor1d([0.5, -1, 2])), 1, true));
  return { xs, ys };
}

describe("drop-in tf.Optimizer", () => {
  it("model.compile + fit trains a dense model, on the fused path, one step per batch", async () => {
    const opt = adabelief({ learningRate: 0.01 });
    const model = denseModel(opt);
    const { xs, ys } = data();
    const h = await model.fit(xs, ys, { epochs: 15, batchSize: 8, shuffle: false, verbose: 0 });
    const loss = h.history["loss"] as number[];
    expect(loss[loss.length - 1]!).toBeLessThan(loss[0]! * 0.5);
    expect(opt.iterations).toBe(15 * 4);
    expect(opt.lastUpdatePath).toBe("cpu-simd");
    model.dispose();
    tf.dispose([xs, ys]);
  });

  it("fit on the fused path and on the tensor-op path give the same model to float32 precision", async () => {
    const { xs, ys } = data();
    const weights: Float32Array[][] = [];
    for (const kernel of ["auto", "tensor"] as const) {
      const model = denseModel(adabelief({ learningRate: 0.01, weightDecay: 0.01, kernel }), 7);
      await model.fit(xs, ys, { epochs: 5, batchSize: 8, shuffle: false, verbose: 0 });
      weights.push(model.getWeights().map((w) => w.dataSync() as Float32Array));
      model.dispose();
    }
    weights[0]!.forEach((w, i) =>
      w.forEach((x, j) => expect(Math.abs(x - weights[1]![i]![j]!)).toBeLessThan(1e-5 * (1 + Math.abs(x)))),
    );
    tf.dispose([xs, ys]);
  });

  it("minimize matches the core optimizer exactly (cpu, core loop)", () => {
    const target = tf.tensor1d([0.5, -2, 3, 0]);
    const w = tf.variable(tf.tensor1d([1, 1, 1, 1]), true, "minimizeW");
    const opt = adabelief({ learningRate: 0.05, rectify: false, kernel: "loop" });
    const p = new Float32Array([1, 1, 1, 1]);
    const core = new AdaBelief([p], { learningRate: 0.05, rectify: false });
    const t = target.dataSync();
    for (let step = 0; step < 50; step++) {
      const cost = opt.minimize(() => tf.sum(tf.square(tf.sub(w, target))), true);
      expect(cost).not.toBeNull();
      cost!.dispose();
      core.step([p.map((x, i) => Math.fround(2 * Math.fround(x - t[i]!)))]);
    }
    expect(Array.from(w.dataSync())).toEqual(Array.from(p));
    opt.dispose();
    tf.dispose([w, target]);
  });

  it("applyGradients takes the map and the array form and skips null gradients", () => {
    const a = tf.variable(tf.tensor1d([1, 2]), true, "formsA");
    const b = tf.variable(tf.tensor1d([3]), true, "formsB");
    const opt = adam({ learningRate: 0.1 });
    opt.applyGradients({ formsA: tf.tensor1d([1, 1]), formsB: null as unknown as tf.Tensor });
    expect(Array.from(b.dataSync())).toEqual([3]);
    const a1 = Array.from(a.dataSync());
    expect(a1[0]).toBeCloseTo(0.9, 6);
    opt.applyGradients([
      { name: "formsA", tensor: null as unknown as tf.Tensor },
      { name: "formsB", tensor: tf.tensor1d([-1]) },
    ]);
    expect(Array.from(a.dataSync())).toEqual(a1);
    expect(b.dataSync()[0]).toBeGreaterThan(3);
    expect(opt.iterations).toBe(2);
    // Only the variables that got a gradient have state: a's two slots, b's two slots.
    return opt.getWeights().then((ws) => {
      expect(ws.map((w) => w.name)).toEqual(["iter", "formsA/m", "formsA/v", "formsB/m", "formsB/v"]);
      opt.dispose();
      tf.dispose([a, b]);
    });
  });

  it("state is keyed by variable, not by position in the call (tfjs#4290)", () => {
    const a = tf.variable(tf.tensor1d([1, 2]), true, "keyedA");
    const b = tf.variable(tf.tensor1d([-1, 0.5]), true, "keyedB");
    const o = adabeliefRule.resolve({ learningRate: 0.01 });
    const opt = new AdaBeliefOptimizer({ learningRate: 0.01 });
    const ref = new Map<string, { p: Float32Array; s: Float32Array[] }>([
      ["keyedA", { p: new Float32Array([1, 2]), s: [new Float32Array(2), new Float32Array(2)] }],
      ["keyedB", { p: new Float32Array([-1, 0.5]), s: [new Float32Array(2), new Float32Array(2)] }],
    ]);
    const calls: [string, number[]][][] = [
      [
        ["keyedA", [1, -1]],
        ["keyedB", [0.5, 2]],
      ],
      [
        ["keyedB", [-0.3, 1]],
        ["keyedA", [2, 2]],
      ],
      [["keyedB", [1, 1]]],
      [
        ["keyedA", [0.1, 0.2]],
        ["keyedB", [3, -3]],
      ],
    ];
    calls.forEach((call, k) => {
      const c = adabeliefRule.coefficients(k + 1, 0.01, o);
      for (const [name, g] of call)
        adabeliefRule.update(ref.get(name)!.p, Float32Array.from(g), ref.get(name)!.s, c);
      opt.applyGradients(call.map(([name, g]) => ({ name, tensor: tf.tensor1d(g) })));
    });
    expect(Array.from(a.dataSync())).toEqual(Array.from(ref.get("keyedA")!.p));
    expect(Array.from(b.dataSync())).toEqual(Array.from(ref.get("keyedB")!.p));
    opt.dispose();
    tf.dispose([a, b]);
  });

  it("a learning-rate schedule is evaluated at the step count", () => {
    const w = tf.variable(tf.tensor1d([0]), true, "scheduleW");
    const opt = adabelief({ learningRate: (step) => (step < 5 ? 0.1 : 0), rectify: true });
    for (let i = 0; i < 5; i++) opt.applyGradients({ scheduleW: tf.tensor1d([1]) });
    const after5 = w.dataSync()[0]!;
    expect(after5).toBeLessThan(-0.4); // five SGD warm-up steps of ≈ 0.1
    expect(opt.currentLearningRate).toBe(0);
    for (let i = 0; i < 3; i++) opt.applyGradients({ scheduleW: tf.tensor1d([1]) });
    expect(w.dataSync()[0]).toBe(after5);
    opt.dispose();
    w.dispose();
  });

  it("switching backends mid-training moves the state along and keeps the math", async () => {
    const p = new Float32Array([1, -1, 2, 0.5]);
    const core = new AdaBelief([p], { learningRate: 0.05 });
    const v = tf.variable(tf.tensor1d(p.slice()), true, "switchW"); // tf.tensor keeps a typed array as its storage on cpu
    const opt = adabelief({ learningRate: 0.05 });
    const paths: (string | null)[] = [];
    for (const backend of ["cpu", "wasm", "wasm", "cpu", "cpu"] as const) {
      await useBackend(backend);
      for (let i = 0; i < 4; i++) {
        const g = Float32Array.from(p, (x, j) => Math.fround(x - j));
        core.step([g]);
        opt.applyGradients({
          switchW: tf.tensor1d(Float32Array.from(v.dataSync(), (x, j) => Math.fround(x - j))),
        });
        paths.push(opt.lastUpdatePath);
      }
    }
    v.dataSync().forEach((x, j) =>
      expect(Math.abs(x - p[j]!)).toBeLessThanOrEqual(1e-6 * (1 + Math.abs(p[j]!))),
    );
    // The first step on a new backend finds the data elsewhere and takes the tensor-op path, then fuses.
    expect(paths.slice(4, 6)).toEqual(["tensor", "wasm-simd"]);
    expect(paths.slice(12, 14)).toEqual(["tensor", "cpu-simd"]);
    opt.dispose();
    v.dispose();
    await useBackend("cpu");
  });

  for (const kernel of ["loop", "auto", "tensor"] as const) {
    it(`clipGlobalNorm and clipValue match the core clipping functions (${kernel})`, () => {
      const init = [new Float32Array([1, -2, 3]), new Float32Array([0.5, 0.25])];
      const vars = init.map((p, i) => tf.variable(tf.tensor1d(p), true, `clip${kernel}${i}`));
      const params: FloatArray[] = init.map((p) => p.slice());
      const core = new AdaBelief(params, { learningRate: 0.01 });
      const opt = adabelief({ learningRate: 0.01, clipGlobalNorm: 1.5, clipValue: 0.4, kernel });
      for (let step = 0; step < 20; step++) {
        const grads = [
          new Float32Array([10 * Math.sin(step), -3, 0.2]),
          new Float32Array([4, step % 3 === 0 ? 0.01 : -7]),
        ];
        core.step(clipByValue(clipByGlobalNorm(grads, 1.5), 0.4));
        opt.applyGradients(vars.map((v, i) => ({ name: v.name, tensor: tf.tensor1d(grads[i]!) })));
      }
      const tol = kernel === "loop" ? 0 : 1e-6;
      vars.forEach((v, i) =>
        v.dataSync().forEach((x, j) => expect(Math.abs(x - params[i]![j]!)).toBeLessThanOrEqual(tol)),
      );
      expect(opt.lastUpdatePath).toBe({ loop: "cpu", auto: "cpu-simd", tensor: "tensor" }[kernel]);
      opt.dispose();
      tf.dispose(vars);
    });
  }
});
