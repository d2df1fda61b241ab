import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { OPTIMIZER_NAMES, OptionError, setWarningHandler, StateError } from "../../src/core/index.js";
import {
  adabelief,
  AdaBeliefOptimizer,
  adabound,
  adam,
  adamw,
  fromage,
  msvag,
  TFJS_OPTIMIZERS,
  radam,
  registerOptimizers,
  sgd,
  yogi,
} from "../../src/tfjs/index.js";
import { useBackend } from "./helpers.js";

beforeAll(() => useBackend("cpu"));

type Artifacts = tf.io.ModelArtifacts;

async function saveToMemory(model: tf.LayersModel, includeOptimizer = true): Promise<Artifacts> {
  let saved: Artifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      saved = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
    }),
    { includeOptimizer },
  );
  return saved!;
}

function model(optimizer: tf.Optimizer): tf.Sequential {
  const m = tf.sequential({
    layers: [
      tf.layers.dense({
        units: 3,
        inputShape: [2],
        activation: "relu",
        kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }),
      }),
      tf.layers.dense({ units: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }),
    ],
  });
  m.compile({ optimizer, loss: "meanSquaredError" });
  return m;
}

const xs = () => tf.tensor2d([0.1, 0.2, -0.3, 0.4, 0.5, -0.6, 0.7, 0.8, -1, 0.5, 0.3, 0.3], [6, 2]);
const ys = () => tf.tensor2d([0.3, 0.1, -0.1, 1.5, -0.5, 0.6], [6, 1]);

describe("serialization", () => {
  it("class names are unique, not TensorFlow.js's own, without underscores, and registering twice is harmless", () => {
    const classes = Object.values(TFJS_OPTIMIZERS);
    expect(Object.keys(TFJS_OPTIMIZERS)).toEqual([...OPTIMIZER_NAMES]);
    const names = classes.map((c) => c.className);
    expect(new Set(names).size).toBe(names.length);
    for (const n of names) {
      expect(n).not.toMatch(/_/);
      expect(["Adam", "SGD", "Momentum", "RMSProp", "Adagrad", "Adadelta", "Adamax"]).not.toContain(n);
    }
    registerOptimizers();
    registerOptimizers();
    const map = tf.serialization.SerializationMap.getMap().classNameMap;
    for (const cls of classes) expect(map[cls.className]![0]).toBe(cls);
    // TensorFlow.js's own registrations are untouched.
    expect(map["Adam"]![0]).toBe(tf.AdamOptimizer);
  });

  it("getConfig writes every option with its resolved value (defaults included), not kernel", () => {
    const opt = adabelief({
      learningRate: 3e-4,
      beta1: 0.8,
      epsilon: 1e-12,
      rectify: false,
      clipGlobalNorm: 0.25,
      nonFinite: "skip",
      kernel: "tensor",
    });
    const config = opt.getConfig();
    expect(config).toEqual({
      learningRate: 3e-4,
      beta1: 0.8,
      beta2: 0.999,
      epsilon: 1e-12,
      weightDecay: 0,
      weightDecouple: true,
      fixedDecay: false,
      rectify: false,
      degeneratedToSgd: true,
      amsgrad: false,
      smaThreshold: 5,
      nonFinite: "skip",
      clipGlobalNorm: 0.25,
      clipValue: null,
    });
    const back = AdaBeliefOptimizer.fromConfig(AdaBeliefOptimizer, {
      ...config,
      customObjects: {},
    }) as AdaBeliefOptimizer;
    expect(back).toBeInstanceOf(AdaBeliefOptimizer);
    expect(back.options).toEqual(opt.options);
    expect(back.clipGlobalNorm).toBe(0.25);
    expect(back.clipValue).toBeUndefined();
    expect(back.kernel).toBe("auto");
    expect(back.getClassName()).toBe("adabelief.AdaBelief");
  });

  const configured: [string, () => tf.Optimizer][] = [
    ["AdaBelief", () => adabelief({ learningRate: 0.02, amsgrad: true, rectify: false, clipValue: 2 })],
    ["Adam", () => adam({ learningRate: 0.01, amsgrad: true, weightDecay: 1e-3 })],
    ["AdamW", () => adamw({ learningRate: 0.01, beta2: 0.99, clipGlobalNorm: 1 })],
    ["RAdam", () => radam({ variant: "paper", degeneratedToSgd: false })],
    ["SGD", () => sgd({ learningRate: 0.1, momentum: 0.9, nesterov: true })],
    ["Yogi", () => yogi({ initialAccumulator: 1e-3 })],
    ["AdaBound", () => adabound({ learningRate: 0.003, finalLr: 0.05, amsbound: true })],
    ["MSVAG", () => msvag({ learningRate: 0.05, beta1: 0.8 })],
    ["Fromage", () => fromage({ learningRate: 0.02, nonFinite: "proceed" })],
  ];
  for (const [name, make] of configured) {
    it(`getConfig / fromConfig round trip: every option, same resolved options, no warnings (${name})`, () => {
      const opt = make() as unknown as AdaBeliefOptimizer;
      const config = opt.getConfig();
      // Every option of the core (all the keys of the resolved options but derived ones), plus clipping.
      const derived = name === "AdaBound" ? ["baseLearningRate"] : [];
      const keys = Object.keys(opt.options).filter((k) => !derived.includes(k));
      expect(Object.keys(config).sort()).toEqual([...keys, "clipGlobalNorm", "clipValue"].sort());
      for (const k of keys) expect(config[k], k).toEqual((opt.options as Record<string, unknown>)[k]);
      const warnings: string[] = [];
      const previous = setWarningHandler((m) => warnings.push(m));
      let back: AdaBeliefOptimizer;
      try {
        back = AdaBeliefOptimizer.fromConfig(opt.constructor as typeof AdaBeliefOptimizer, {
          ...JSON.parse(JSON.stringify(config)),
          customObjects: {},
        }) as AdaBeliefOptimizer;
      } finally {
        setWarningHandler(previous);
      }
      expect(back.constructor).toBe(opt.constructor);
      expect(back.options).toEqual(opt.options);
      expect(back.clipGlobalNorm).toBe(opt.clipGlobalNorm);
      expect(back.clipValue).toBe(opt.clipValue);
      expect(back.getConfig()).toEqual(config);
      expect(warnings).toEqual([]);
    });
  }

  it("a learning-rate schedule cannot be serialised: getConfig throws a clear error", async () => {
    const opt = adabelief({ learningRate: (s) => 1e-3 / (1 + s) });
    expect(() => opt.getConfig()).toThrow(OptionError);
    expect(() => opt.getConfig()).toThrow(/learningRate is a schedule function/);
    const m = model(opt);
    await expect(saveToMemory(m)).rejects.toThrow(/cannot be serialised/);
    // Saving without the optimizer still works.
    await expect(saveToMemory(m, false)).resolves.toBeDefined();
    m.dispose();
  });

  for (const [name, make] of configured) {
    it(`save with includeOptimizer, loadLayersModel, and training continues exactly (${name})`, async () => {
      const [x, y] = [xs(), ys()];
      const original = model(make());
      await original.fit(x, y, { epochs: 7, batchSize: 3, shuffle: false, verbose: 0 });
      const artifacts = await saveToMemory(original);
      const names = artifacts.weightSpecs!.map((s) => s.name);
      expect(new Set(names).size).toBe(names.length); // unique across model and optimizer
      expect(names).toContain("iter");
      const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
      expect(loaded.optimizer.getClassName()).toBe(original.optimizer.getClassName());
      expect(loaded.optimizer.iterations).toBe(14);
      // Loaded in the same process, the variables were renamed (…_1): slots are bound by position.
      expect(loaded.trainableWeights.map((w) => w.name)).not.toEqual(
        original.trainableWeights.map((w) => w.name),
      );
      await original.fit(x, y, { epochs: 3, batchSize: 3, shuffle: false, verbose: 0 });
      await loaded.fit(x, y, { epochs: 3, batchSize: 3, shuffle: false, verbose: 0 });
      const a = original.getWeights().map((w) => Array.from(w.dataSync()));
      const b = loaded.getWeights().map((w) => Array.from(w.dataSync()));
      expect(b).toEqual(a);
      // A fresh model without the loaded state does not match (the test can fail); Fromage has no state
      // and no dependence on the step count, so there it does.
      if (name === "Fromage") {
        for (const m of [original, loaded]) m.dispose();
        tf.dispose([x, y]);
        return;
      }
      const fresh = await tf.loadLayersModel(tf.io.fromMemory({ ...artifacts, trainingConfig: undefined }));
      fresh.compile({ optimizer: make(), loss: "meanSquaredError" });
      await fresh.fit(x, y, { epochs: 3, batchSize: 3, shuffle: false, verbose: 0 });
      expect(fresh.getWeights().map((w) => Array.from(w.dataSync()))).not.toEqual(a);
      for (const m of [original, loaded, fresh]) m.dispose();
      tf.dispose([x, y]);
    });
  }

  it("state saved after the set of trained variables changed (head first, then all) is restored to the right variables", async () => {
    const [x, y] = [tf.randomNormal([8, 3], 0, 1, "float32", 5), tf.randomNormal([8, 3], 0, 1, "float32", 6)];
    const m = tf.sequential({
      layers: [
        tf.layers.dense({
          units: 3,
          inputShape: [3],
          kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
        }),
        tf.layers.dense({ units: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
      ],
    });
    m.layers[0]!.trainable = false;
    m.compile({ optimizer: adabelief({ learningRate: 0.05 }), loss: "meanSquaredError" });
    await m.fit(x, y, { epochs: 3, batchSize: 4, shuffle: false, verbose: 0 });
    m.layers[0]!.trainable = true;
    m.compile({ optimizer: m.optimizer, loss: "meanSquaredError" });
    await m.fit(x, y, { epochs: 3, batchSize: 4, shuffle: false, verbose: 0 });
    // The optimizer saw the head first, but writes its state in the variables' creation order.
    const saved = (await m.optimizer.getWeights()).map((w) => w.name);
    expect(saved.slice(1)).toEqual(m.trainableWeights.flatMap((w) => [`${w.name}/m`, `${w.name}/s`]));
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(await saveToMemory(m)));
    await m.fit(x, y, { epochs: 2, batchSize: 4, shuffle: false, verbose: 0 });
    await loaded.fit(x, y, { epochs: 2, batchSize: 4, shuffle: false, verbose: 0 });
    expect(loaded.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(
      m.getWeights().map((w) => Array.from(w.dataSync())),
    );
    for (const model of [m, loaded]) model.dispose();
    tf.dispose([x, y]);
  });

  it("loaded slots are matched to variables by name (also renamed with _<n>), whatever the call order", async () => {
    const grads = (k: number) => [tf.tensor1d([Math.sin(k), 1, -2]), tf.tensor1d([0.5, Math.cos(k), 3])];
    const a = tf.variable(tf.tensor1d([1, 2, 3]), true, "byNameA");
    const b = tf.variable(tf.tensor1d([-1, 0, 1]), true, "byNameB");
    const opt = adabelief({ learningRate: 0.1 });
    for (let k = 0; k < 3; k++) {
      const [ga, gb] = grads(k);
      opt.applyGradients({ byNameA: ga!, byNameB: gb! });
      tf.dispose([ga!, gb!]);
    }
    const state = (await opt.getWeights()).map((w) => ({ name: w.name, tensor: w.tensor.clone() }));
    // Copies created in the other order and renamed as tfjs renames on load.
    const b2 = tf.variable(b.clone(), true, "byNameB_1");
    const a2 = tf.variable(a.clone(), true, "byNameA_1");
    const twin = adabelief({ learningRate: 0.1 });
    await twin.setWeights(state);
    for (let k = 3; k < 6; k++) {
      const [ga, gb] = grads(k);
      opt.applyGradients({ byNameA: ga!, byNameB: gb! });
      twin.applyGradients([
        { name: "byNameA_1", tensor: ga! },
        { name: "byNameB_1", tensor: gb! },
      ]);
      tf.dispose([ga!, gb!]);
    }
    expect(Array.from(a2.dataSync())).toEqual(Array.from(a.dataSync()));
    expect(Array.from(b2.dataSync())).toEqual(Array.from(b.dataSync()));
    // setWeights on an optimizer that already has state matches by name too.
    const again = (await opt.getWeights()).map((w) => ({ name: w.name, tensor: w.tensor.clone() }));
    await twin.setWeights([...again.slice(0, 1), ...again.slice(3), ...again.slice(1, 3)]);
    const twinState = await twin.getWeights();
    expect(twinState.map((w) => w.name)).toEqual([
      "iter",
      "byNameB_1/m",
      "byNameB_1/s",
      "byNameA_1/m",
      "byNameA_1/s",
    ]);
    expect(Array.from(twinState[3]!.tensor.dataSync())).toEqual(Array.from(again[1]!.tensor.dataSync()));
    opt.dispose();
    twin.dispose();
    tf.dispose([a, b, a2, b2, ...state.map((w) => w.tensor), ...again.map((w) => w.tensor)]);
  });

  it("names that do not map one to one fall back to position, variables in creation order", async () => {
    const first = tf.variable(tf.tensor1d([1, 2]), true, "ambiguous");
    const second = tf.variable(tf.tensor1d([3, 4]), true, "ambiguous_1");
    const opt = adam({ learningRate: 0.1 });
    opt.applyGradients({ ambiguous: tf.tensor1d([1, 1]), ambiguous_1: tf.tensor1d([-5, 5]) });
    const state = (await opt.getWeights()).map((w) => ({ name: w.name, tensor: w.tensor.clone() }));
    // Both saved names strip to "ambiguous", and neither matches a new name exactly.
    const a = tf.variable(tf.tensor1d([1, 2]), true, "ambiguous_7");
    const b = tf.variable(tf.tensor1d([3, 4]), true, "ambiguous_8");
    // The core loop: with a zero gradient m becomes fl(fl(β1)·m), β1 rounded to float32 as torch does.
    const twin = adam({ learningRate: 0.1, kernel: "loop" });
    await twin.setWeights(state);
    // Called in the other order: still bound in creation order (a ↔ first, b ↔ second).
    twin.applyGradients([
      { name: b.name, tensor: tf.tensor1d([0, 0]) },
      { name: a.name, tensor: tf.tensor1d([0, 0]) },
    ]);
    const m = (await twin.getWeights()).filter((w) => w.name.endsWith("/m"));
    expect(m.map((w) => w.name)).toEqual(["ambiguous_7/m", "ambiguous_8/m"]);
    expect(Array.from(m[0]!.tensor.dataSync())).toEqual(
      Array.from(state[1]!.tensor.dataSync()).map((x) => Math.fround(Math.fround(0.9) * x)),
    );
    expect(Array.from(m[1]!.tensor.dataSync())).toEqual(
      Array.from(state[3]!.tensor.dataSync()).map((x) => Math.fround(Math.fround(0.9) * x)),
    );
    opt.dispose();
    twin.dispose();
    tf.dispose([first, second, a, b, ...state.map((w) => w.tensor)]);
  });

  it("saving does not leak the iteration scalar (tfjs#8238)", async () => {
    const [x, y] = [xs(), ys()];
    const m = model(adabelief());
    await m.fit(x, y, { epochs: 1, verbose: 0 });
    await saveToMemory(m);
    const n1 = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      await m.fit(x, y, { epochs: 1, verbose: 0 });
      await saveToMemory(m);
    }
    expect(tf.memory().numTensors).toBe(n1);
    m.dispose();
    tf.dispose([x, y]);
  });

  it("getWeights / setWeights restore a checkpoint on the same optimizer", async () => {
    const [x, y] = [xs(), ys()];
    const m = model(adabelief({ learningRate: 0.05 }));
    await m.fit(x, y, { epochs: 2, verbose: 0 });
    const opt = m.optimizer as AdaBeliefOptimizer;
    const checkpoint = (await opt.getWeights()).map((w) => ({
      name: w.name,
      tensor: tf.tensor(w.tensor.dataSync().slice(), w.tensor.shape, w.tensor.dtype),
    }));
    const weights = m.getWeights().map((w) => w.clone());
    await m.fit(x, y, { epochs: 2, verbose: 0 });
    const after = m.getWeights().map((w) => Array.from(w.dataSync()));
    await opt.setWeights(checkpoint);
    m.setWeights(weights);
    expect(opt.iterations).toBe(2);
    await m.fit(x, y, { epochs: 2, verbose: 0 });
    expect(m.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(after);
    m.dispose();
  });

  it("a saved state that does not fit the model: a clear error naming the variable, nothing changed", async () => {
    const [x, y] = [xs(), ys()];
    const small = model(adabelief());
    await small.fit(x, y, { epochs: 1, verbose: 0 });
    const state = await small.optimizer.getWeights();
    const other = tf.sequential({
      layers: [tf.layers.dense({ units: 2, inputShape: [2] }), tf.layers.dense({ units: 1 })],
    });
    const opt = adabelief();
    other.compile({ optimizer: opt, loss: "meanSquaredError" });
    await opt.setWeights(state);
    const before = other.getWeights().map((w) => Array.from(w.dataSync()));
    await expect(other.fit(x, y, { epochs: 1, verbose: 0 })).rejects.toThrow(StateError);
    await expect(other.fit(x, y, { epochs: 1, verbose: 0 })).rejects.toThrow(
      /has shape \[2,3\] but variable "dense_Dense\d+\/kernel.*", matched to it by position \(0, in creation order\), has shape \[2,2\]/,
    );
    expect(other.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(before);
    expect(opt.iterations).toBe(1); // the step count loaded by setWeights
    // Wrong layout: the slots of another optimizer class.
    const y2 = yogi();
    await expect(y2.setWeights(state.slice(0, 3))).rejects.toThrow(
      /slot 1 of each variable must be named "<variable>\/v"/,
    );
    await expect(y2.setWeights(state.slice(0, 2))).rejects.toThrow(/not a whole number of variables/);
    expect(y2.iterations).toBe(0);
    expect(await y2.getWeights()).toHaveLength(1);
    // On an optimizer that already has state, the count and shapes must match its variables.
    await expect((small.optimizer as AdaBeliefOptimizer).setWeights(state.slice(0, 3))).rejects.toThrow(
      /slots for 1 variables but this optimizer has state for 4/,
    );
    for (const m of [small, other]) m.dispose();
  });
});
