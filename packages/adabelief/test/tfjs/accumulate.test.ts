import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import {
  AdaBelief,
  GradientMismatchError,
  MultiSteps,
  NonFiniteGradientError,
  OptionError,
  StateError,
} from "../../src/core/index.js";
import {
  adabelief,
  adam,
  MULTI_STEPS_COUNT,
  MultiStepsOptimizer,
  multiSteps,
  sgd,
  type NamedTensor,
} from "../../src/tfjs/index.js";
import { useBackend } from "./helpers.js";

beforeAll(() => useBackend("cpu"));

const shapes = [[2, 3], [3]] as const;
const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const initialValues = () =>
  shapes.map((s, i) => Float32Array.from({ length: size(s) }, (_, j) => Math.cos(1 + 7 * i + j)));
const gradValues = (call: number) =>
  shapes.map((s, i) =>
    Float32Array.from({ length: size(s) }, (_, j) => Math.sin(0.37 * call + 1.3 * i + j) * (1 + (j % 3))),
  );

let unique = 0;
function variables(): tf.Variable[] {
  const tag = unique++;
  return initialValues().map((v, i) => tf.variable(tf.tensor(v, [...shapes[i]!]), true, `acc${tag}/w${i}`));
}

function grads(vars: tf.Variable[], call: number): tf.NamedTensorMap {
  const values = gradValues(call);
  return Object.fromEntries(vars.map((v, i) => [v.name, tf.tensor(values[i]!, v.shape)]));
}

const read = (vars: tf.Variable[]) => vars.map((v) => Array.from(v.dataSync()));

describe("MultiStepsOptimizer", () => {
  for (const [k, reduction, kernel] of [
    [1, "mean", "loop"],
    [3, "mean", "loop"],
    [4, "mean", "loop"],
    [3, "sum", "loop"],
    [3, "mean", "auto"],
    [3, "mean", "tensor"],
  ] as const) {
    it(`every ${k} (${reduction}, inner kernel ${kernel}): bit-identical to one step on the ${reduction} of the k gradients (tf.add, tf.div); to the core MultiSteps${kernel === "loop" ? " too" : " within float32 rounding"}`, () => {
      const vars = variables();
      const options = { learningRate: 0.01, weightDecay: 0.01, kernel };
      const opt = multiSteps(adabelief(options), { every: k, reduction });
      const twinVars = variables();
      const twin = adabelief(options);
      const coreParams = initialValues();
      const core = new MultiSteps(new AdaBelief(coreParams, { learningRate: 0.01, weightDecay: 0.01 }), {
        every: k,
        reduction,
      });
      let call = 0;
      for (let update = 0; update < 4; update++) {
        const window: tf.NamedTensorMap[] = [];
        for (let j = 0; j < k; j++) {
          const g = grads(vars, call);
          core.step(gradValues(call));
          call++;
          window.push(g);
          // Both of applyGradients's forms.
          if (j % 2 === 0) opt.applyGradients(g);
          else opt.applyGradients(vars.map((v) => ({ name: v.name, tensor: g[v.name]! })));
          expect(opt.pendingCount).toBe((j + 1) % k);
        }
        const combined = tf.tidy(() =>
          Object.fromEntries(
            twinVars.map((v, i) => {
              let sum = window[0]![vars[i]!.name]!;
              for (const g of window.slice(1)) sum = tf.add(sum, g[vars[i]!.name]!);
              return [v.name, reduction === "mean" && k > 1 ? tf.div(sum, k) : sum.clone()];
            }),
          ),
        );
        twin.applyGradients(combined);
        tf.dispose([...window.flatMap((g) => Object.values(g)), ...Object.values(combined)]);
        expect(opt.iterations).toBe(update + 1);
        expect(read(vars)).toEqual(read(twinVars));
        // The inner optimizer's own path decides how close it is to the core: "loop" runs the core's loop
        // in place (identical); the SIMD and tensor-op paths agree to float32 rounding.
        const tol = kernel === "loop" ? 0 : 1e-6;
        read(vars).forEach((w, i) =>
          w.forEach((x, j) =>
            expect(Math.abs(x - coreParams[i]![j]!)).toBeLessThanOrEqual(tol * (1 + Math.abs(x))),
          ),
        );
      }
      opt.dispose();
      twin.dispose();
      tf.dispose([...vars, ...twinVars]);
    });
  }

  it("wraps TensorFlow.js's own optimizers too (tf.train.sgd)", () => {
    const vars = variables();
    const twinVars = variables();
    const opt = multiSteps(tf.train.sgd(0.1), { every: 2 });
    const twin = tf.train.sgd(0.1);
    for (let c = 0; c < 6; c += 2) {
      const a = grads(vars, c);
      const b = grads(vars, c + 1);
      opt.applyGradients(a);
      opt.applyGradients(b);
      const mean = tf.tidy(() =>
        Object.fromEntries(
          twinVars.map((v, i) => [v.name, tf.div(tf.add(a[vars[i]!.name]!, b[vars[i]!.name]!), 2)]),
        ),
      );
      twin.applyGradients(mean);
      tf.dispose([...Object.values(a), ...Object.values(b), ...Object.values(mean)]);
    }
    expect(opt.iterations).toBe(3);
    expect(read(vars)).toEqual(read(twinVars));
    opt.dispose();
    twin.dispose();
    tf.dispose([...vars, ...twinVars]);
  });

  it("refuses bad options", () => {
    expect(() => multiSteps(adam(), { every: 0 })).toThrow(OptionError);
    expect(() => multiSteps(adam(), { every: 0 })).toThrow(
      /MultiStepsOptimizer: every must be an integer >= 1, got 0/,
    );
    expect(() => multiSteps(adam(), { every: 2, reduction: "avg" as never })).toThrow(
      /MultiStepsOptimizer: reduction must be one of "mean", "sum", got "avg"/,
    );
    expect(() => multiSteps({} as never, { every: 2 })).toThrow(
      /MultiStepsOptimizer: inner must be a tf.Optimizer/,
    );
  });

  it("a refused call changes nothing and leaks nothing: bad gradients, NaN (throw), the inner optimizer refusing the k-th call", async () => {
    const vars = variables();
    let lrOk = true;
    const opt = multiSteps(adabelief({ learningRate: () => (lrOk ? 0.01 : -1) }), { every: 3 });
    const g0 = grads(vars, 0);
    opt.applyGradients(g0);
    const snapshot = async () =>
      JSON.stringify([
        read(vars),
        opt.pendingCount,
        await Promise.all(
          (await opt.getWeights()).map(async (w) => [w.name, Array.from(await w.tensor.data())]),
        ),
      ]);
    const before = await snapshot();
    const [v0, v1] = vars as [tf.Variable, tf.Variable];
    const good = g0[v0.name]!;
    const nan = tf.tensor([Number.NaN, 0, 0], [3]);
    const wrong = tf.zeros([3, 2]);
    const int = tf.zeros([3], "int32");
    const n = tf.memory().numTensors;
    const cases: [unknown, new (message?: string) => Error, RegExp][] = [
      [
        { nope: good },
        GradientMismatchError,
        /there is no registered variable named "nope"; nothing was changed/,
      ],
      [{ [v0.name]: wrong }, GradientMismatchError, /has shape \[3,2\] but the variable has shape \[2,3\]/],
      [
        [
          { name: v0.name, tensor: good },
          { name: v0.name, tensor: good },
        ],
        GradientMismatchError,
        /has more than one gradient/,
      ],
      [{ [v1.name]: int }, GradientMismatchError, /has dtype int32, expected float32/],
      [
        { [v0.name]: good, [v1.name]: nan },
        NonFiniteGradientError,
        /the gradient of variable ".*w1" has NaN at index 0; nothing was changed/,
      ],
    ];
    for (const [arg, type, message] of cases) {
      expect(() => opt.applyGradients(arg as never)).toThrow(type);
      expect(() => opt.applyGradients(arg as never)).toThrow(message);
    }
    expect(tf.memory().numTensors).toBe(n);
    expect(await snapshot()).toBe(before);
    const g1 = grads(vars, 1);
    opt.applyGradients(g1);
    const twoIn = await snapshot();
    lrOk = false;
    const g2 = grads(vars, 2);
    const m = tf.memory().numTensors;
    expect(() => opt.applyGradients(g2)).toThrow(OptionError);
    expect(tf.memory().numTensors).toBe(m); // the combined temporaries were freed
    expect(await snapshot()).toBe(twoIn);
    lrOk = true;
    opt.applyGradients(g2);
    expect(opt.iterations).toBe(1);
    expect(opt.pendingCount).toBe(0);
    tf.dispose([nan, wrong, int, ...[g0, g1, g2].flatMap((g) => Object.values(g))]);
    opt.dispose();
    tf.dispose(vars);
  });

  it('with the inner nonFinite "skip", a non-finite gradient is dropped and not counted', () => {
    const vars = variables();
    const opt = multiSteps(adabelief({ nonFinite: "skip" }), { every: 2 });
    const bad = Object.fromEntries(vars.map((v) => [v.name, tf.fill(v.shape, Infinity)]));
    opt.applyGradients(bad);
    expect(opt.pendingCount).toBe(0);
    const g = grads(vars, 0);
    opt.applyGradients(g);
    opt.applyGradients(bad);
    expect(opt.pendingCount).toBe(1);
    opt.applyGradients(g);
    expect(opt.iterations).toBe(1);
    tf.dispose([...Object.values(bad), ...Object.values(g)]);
    opt.dispose();
    tf.dispose(vars);
  });

  it("getWeights / setWeights: [inner weights, count, accumulators]; a state saved mid-window continues bit-identically", async () => {
    const a = variables();
    const optA = multiSteps(adabelief({ learningRate: 0.01 }), { every: 4 });
    for (let c = 0; c < 6; c++) {
      const g = grads(a, c);
      optA.applyGradients(g);
      tf.dispose(Object.values(g));
    }
    const weights = await optA.getWeights();
    expect(weights.map((w) => w.name)).toEqual([
      "iter",
      `${a[0]!.name}/m`,
      `${a[0]!.name}/s`,
      `${a[1]!.name}/m`,
      `${a[1]!.name}/s`,
      MULTI_STEPS_COUNT,
      `${a[0]!.name}/accumulator`,
      `${a[1]!.name}/accumulator`,
    ]);
    expect(weights[5]!.tensor.dataSync()[0]).toBe(2);
    // Restore into a fresh wrapper training other variables of the same shapes (bound by position).
    const copies = weights.map((w) => ({ name: w.name, tensor: w.tensor.clone() }));
    const b = variables();
    b.forEach((v, i) => v.assign(a[i]!));
    const optB = multiSteps(adabelief({ learningRate: 0.01 }), { every: 4 });
    await optB.setWeights(copies);
    tf.dispose(copies.map((w) => w.tensor)); // the caller keeps ownership
    expect(optB.pendingCount).toBe(2);
    expect(optB.iterations).toBe(1);
    for (let c = 6; c < 15; c++) {
      const ga = grads(a, c);
      const gb = grads(b, c);
      optA.applyGradients(ga);
      optB.applyGradients(gb);
      tf.dispose([...Object.values(ga), ...Object.values(gb)]);
    }
    expect(optB.iterations).toBe(optA.iterations);
    expect(read(b)).toEqual(read(a));
    optA.dispose();
    optB.dispose();
    tf.dispose([...a, ...b]);
  });

  it("setWeights refuses a bad payload with a StateError and changes nothing", async () => {
    const vars = variables();
    const opt = multiSteps(adabelief(), { every: 3 });
    const g = grads(vars, 0);
    for (let c = 0; c < 4; c++) opt.applyGradients(g); // one update, then one gradient of the next window
    const good = await opt.getWeights();
    expect(good).toHaveLength(8);
    const count = (x: number, dtype: "int32" | "float32" = "int32") => ({
      name: MULTI_STEPS_COUNT,
      tensor: tf.scalar(x, dtype),
    });
    const inner = good.slice(0, 5);
    const accs = good.slice(6);
    const bad: [NamedTensor[], RegExp][] = [
      [inner, /there is no "multiSteps\/count" weight/],
      [
        [...inner, count(3), ...accs],
        /"multiSteps\/count" must be an integer in \[0, 2\] \(every is 3\), got 3/,
      ],
      [[...inner, count(0.5, "float32"), ...accs], /must be an integer in \[0, 2\]/],
      [[...inner, count(0), ...accs], /"multiSteps\/count" is 0 but 2 accumulators follow it/],
      [[...inner, count(1)], /"multiSteps\/count" is 1 but no accumulators follow it/],
      [
        [...inner, count(1), { name: "w/m", tensor: accs[0]!.tensor }],
        /weight "w\/m" after "multiSteps\/count" is not named/,
      ],
      [[...inner.slice(0, 4), count(1), ...accs], /AdaBelief.setWeights: got 3 slot tensors/],
    ];
    const before = JSON.stringify(
      await Promise.all(good.map(async (w) => [w.name, Array.from(await w.tensor.data())])),
    );
    for (const [payload, message] of bad) {
      await expect(opt.setWeights(payload)).rejects.toThrow(StateError);
      await expect(opt.setWeights(payload)).rejects.toThrow(message);
    }
    const after = await opt.getWeights();
    expect(
      JSON.stringify(await Promise.all(after.map(async (w) => [w.name, Array.from(await w.tensor.data())]))),
    ).toBe(before);
    tf.dispose(Object.values(g));
    opt.dispose();
    tf.dispose(vars);
  });

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

  it("model.compile + fit: one inner update per `every` batches, the loss falls, numTensors stays flat, dispose frees everything", async () => {
    const { xs, ys } = data();
    const inner = adabelief({ learningRate: 0.02 });
    const opt = multiSteps(inner, { every: 2 });
    const model = denseModel(opt);
    const start = tf.memory().numTensors;
    const counts: number[] = [];
    const h = await model.fit(xs, ys, {
      epochs: 20,
      batchSize: 8, // 4 batches per epoch: 2 inner updates
      shuffle: false,
      verbose: 0,
      callbacks: { onEpochEnd: () => void counts.push(tf.memory().numTensors) },
    });
    const loss = h.history["loss"] as number[];
    expect(loss[loss.length - 1]!).toBeLessThan(loss[0]! * 0.5);
    expect(opt.iterations).toBe(40);
    expect(inner.iterations).toBe(40);
    expect(opt.pendingCount).toBe(0);
    expect(new Set(counts).size).toBe(1); // flat: each window frees its accumulators
    expect(counts[0]! - start).toBe(8); // the inner optimizer's 2 slots × 4 variables
    // Mid-window: exactly one accumulator per variable more.
    const [xs8, ys8] = [xs.slice(0, 8), ys.slice(0, 8)];
    await model.fit(xs8, ys8, { epochs: 1, batchSize: 8, shuffle: false, verbose: 0 });
    tf.dispose([xs8, ys8]);
    expect(opt.pendingCount).toBe(1);
    expect(tf.memory().numTensors).toBe(counts[0]! + 4);
    await opt.getWeights();
    const n = tf.memory().numTensors;
    opt.dispose();
    expect(tf.memory().numTensors).toBe(n - 4 - 1 - 8 - 1); // accumulators, count scalar, inner slots, iter scalar
    opt.dispose(); // idempotent
    expect(() => opt.applyGradients({})).toThrow(
      /MultiStepsOptimizer.applyGradients: the optimizer was disposed/,
    );
    model.dispose();
    tf.dispose([xs, ys]);
  });

  it("fit with every: k on batches of b trains as fit on batches of k·b (same float32 model up to summation order)", async () => {
    const { xs, ys } = data();
    const small = denseModel(multiSteps(adabelief({ learningRate: 0.01 }), { every: 4 }), 5);
    await small.fit(xs, ys, { epochs: 3, batchSize: 4, shuffle: false, verbose: 0 });
    const large = denseModel(adabelief({ learningRate: 0.01 }), 5);
    await large.fit(xs, ys, { epochs: 3, batchSize: 16, shuffle: false, verbose: 0 });
    const a = small.getWeights().map((w) => Array.from(w.dataSync()));
    const b = large.getWeights().map((w) => Array.from(w.dataSync()));
    a.forEach((w, i) => w.forEach((x, j) => expect(Math.abs(x - b[i]![j]!)).toBeLessThan(1e-5)));
    small.dispose();
    large.dispose();
    tf.dispose([xs, ys]);
  });

  it("model.save with includeOptimizer mid-window and tf.loadLayersModel restore the wrapper, its inner optimizer and the accumulators", async () => {
    const { xs, ys } = data();
    const model = denseModel(multiSteps(adabelief({ learningRate: 0.01 }), { every: 3 }), 9);
    await model.fit(xs, ys, { epochs: 1, batchSize: 8, shuffle: false, verbose: 0 }); // 4 batches: 1 update + 1
    let saved: tf.io.ModelArtifacts | undefined;
    await model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        saved = artifacts;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
      }),
      { includeOptimizer: true },
    );
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(saved!));
    const opt = loaded.optimizer as MultiStepsOptimizer;
    expect(opt).toBeInstanceOf(MultiStepsOptimizer);
    expect(opt.options).toEqual({ every: 3, reduction: "mean" });
    expect(opt.inner.getClassName()).toBe("adabelief.AdaBelief");
    expect(opt.pendingCount).toBe(1);
    expect(opt.iterations).toBe(1);
    for (const m of [model, loaded])
      await m.fit(xs, ys, { epochs: 2, batchSize: 8, shuffle: false, verbose: 0 });
    const a = model.getWeights().map((w) => Array.from(w.dataSync()));
    const b = loaded.getWeights().map((w) => Array.from(w.dataSync()));
    expect(b).toEqual(a);
    expect(opt.iterations).toBe(4);
    (model.optimizer as MultiStepsOptimizer).dispose();
    opt.dispose();
    model.dispose();
    loaded.dispose();
    tf.dispose([xs, ys]);
  });

  it("getConfig names the inner optimizer; fromConfig rebuilds it through tf.serialization", () => {
    const opt = multiSteps(adam({ learningRate: 0.003 }), { every: 5, reduction: "sum" });
    const config = opt.getConfig();
    expect(config).toMatchObject({ every: 5, reduction: "sum", inner: { className: "adabelief.Adam" } });
    const back = MultiStepsOptimizer.fromConfig(MultiStepsOptimizer, config) as MultiStepsOptimizer;
    expect(back.options).toEqual({ every: 5, reduction: "sum" });
    expect(back.inner.getConfig()).toEqual(opt.inner.getConfig());
    expect(() =>
      MultiStepsOptimizer.fromConfig(MultiStepsOptimizer, { every: 2, inner: { className: "Nope" } }),
    ).toThrow(/the inner optimizer class "Nope" is not registered/);
    expect(sgd).toBeDefined();
    opt.dispose();
    back.dispose();
  });
});
