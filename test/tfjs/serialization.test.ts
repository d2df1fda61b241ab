import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { OptionError, StateError } from "../../src/core/index.js";
import {
  adabelief,
  AdaBeliefOptimizer,
  adamw,
  OPTIMIZER_CLASSES,
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
    const names = OPTIMIZER_CLASSES.map((c) => c.className);
    expect(new Set(names).size).toBe(names.length);
    for (const n of names) {
      expect(n).not.toMatch(/_/);
      expect(["Adam", "SGD", "Momentum", "RMSProp", "Adagrad", "Adadelta", "Adamax"]).not.toContain(n);
    }
    registerOptimizers();
    registerOptimizers();
    const map = tf.serialization.SerializationMap.getMap().classNameMap;
    for (const cls of OPTIMIZER_CLASSES) expect(map[cls.className]![0]).toBe(cls);
    // TensorFlow.js's own registrations are untouched.
    expect(map["Adam"]![0]).toBe(tf.AdamOptimizer);
  });

  it("getConfig / fromConfig round trip keeps every option, clipping included", () => {
    const opt = adabelief({
      learningRate: 3e-4,
      beta1: 0.8,
      epsilon: 1e-12,
      rectify: false,
      clipGlobalNorm: 0.25,
      nonFinite: "skip",
    });
    const config = opt.getConfig();
    expect(config).toEqual({
      learningRate: 3e-4,
      beta1: 0.8,
      epsilon: 1e-12,
      rectify: false,
      clipGlobalNorm: 0.25,
      nonFinite: "skip",
    });
    const back = AdaBeliefOptimizer.fromConfig(AdaBeliefOptimizer, {
      ...config,
      customObjects: {},
    }) as AdaBeliefOptimizer;
    expect(back).toBeInstanceOf(AdaBeliefOptimizer);
    expect(back.options).toEqual(opt.options);
    expect(back.clipGlobalNorm).toBe(0.25);
    expect(back.getClassName()).toBe("adabelief.AdaBelief");
  });

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

  for (const make of [
    () => adabelief({ learningRate: 0.05, amsgrad: true, rectify: false }),
    () => adamw({ learningRate: 0.02 }),
    () => sgd({ learningRate: 0.1, momentum: 0.9 }),
    () => yogi(),
  ]) {
    it(`save with includeOptimizer, loadLayersModel, and training continues exactly (${make().getClassName()})`, async () => {
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
      // A fresh model without the loaded state does not match (the test can fail).
      const fresh = await tf.loadLayersModel(tf.io.fromMemory({ ...artifacts, trainingConfig: undefined }));
      fresh.compile({ optimizer: make(), loss: "meanSquaredError" });
      await fresh.fit(x, y, { epochs: 3, batchSize: 3, shuffle: false, verbose: 0 });
      expect(fresh.getWeights().map((w) => Array.from(w.dataSync()))).not.toEqual(a);
      for (const m of [original, loaded, fresh]) m.dispose();
      tf.dispose([x, y]);
    });
  }

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
      /has shape \[2,3\] but variable "dense_Dense\d+\/kernel.*" at that position has shape \[2,2\]/,
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
