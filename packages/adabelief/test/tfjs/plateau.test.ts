import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { OptionError, ReduceLROnPlateau } from "../../src/core/index.js";
import { adabelief, multiSteps, reduceOnPlateauCallback } from "../../src/tfjs/index.js";
import { useBackend } from "./helpers.js";

beforeAll(() => useBackend("cpu"));

function setup(optimizer: tf.Optimizer) {
  const model = tf.sequential({
    layers: [
      tf.layers.dense({
        units: 4,
        inputShape: [3],
        activation: "tanh",
        kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }),
      }),
      tf.layers.dense({ units: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }),
    ],
  });
  model.compile({ optimizer, loss: "meanSquaredError" });
  const xs = tf.tensor2d(
    Array.from({ length: 48 * 3 }, (_, i) => Math.sin(i * 0.7)),
    [48, 3],
  );
  const ys = tf.tidy(() => tf.sum(tf.mul(xs, tf.tensor1d([0.5, -1, 2])), 1, true));
  const [xt, xv] = [xs.slice(0, 32), xs.slice(32)];
  const [yt, yv] = [ys.slice(0, 32), ys.slice(32)];
  tf.dispose([xs, ys]);
  return { model, xt, yt, xv, yv, dispose: () => (model.dispose(), tf.dispose([xt, yt, xv, yv])) };
}

describe("reduceOnPlateauCallback with model.fit", () => {
  for (const form of ["plain object", "tf.CustomCallback"] as const) {
    it(`feeds val_loss to the plateau after each epoch; the optimizer follows plateau.schedule (${form})`, async () => {
      // A demanding threshold (a 20 % improvement per epoch), so that the rate drops during the run.
      const plateau = new ReduceLROnPlateau({ initial: 0.05, patience: 1, factor: 0.5, threshold: 0.2 });
      const opt = adabelief({ learningRate: plateau.schedule });
      const { model, xt, yt, xv, yv, dispose } = setup(opt);
      const used: number[] = [];
      const reductions: [number, number][] = [];
      const callback = reduceOnPlateauCallback(plateau, {
        onReduce: (lr, epoch) => reductions.push([lr, epoch]),
      });
      const h = await model.fit(xt, yt, {
        epochs: 12,
        batchSize: 8,
        shuffle: false,
        verbose: 0,
        validationData: [xv, yv],
        // TensorFlow.js takes an array of plain objects or an array of tf.CustomCallback, not a mix.
        callbacks:
          form === "plain object"
            ? [{ onEpochBegin: () => void used.push(opt.currentLearningRate) }, callback]
            : [
                new tf.CustomCallback({ onEpochBegin: () => void used.push(opt.currentLearningRate) }),
                new tf.CustomCallback(callback),
              ],
      });
      const valLoss = h.history["val_loss"] as number[];
      // The same metrics replayed through a fresh plateau give the rate each epoch used, and the reductions.
      const replay = new ReduceLROnPlateau(plateau.options);
      const expected = [0.05];
      const replayed: [number, number][] = [];
      valLoss.forEach((m, epoch) => {
        if (replay.step(m)) replayed.push([replay.learningRate, epoch]);
        expected.push(replay.learningRate);
      });
      expect(used).toEqual(expected.slice(0, 12));
      expect(plateau.epochs).toBe(12);
      expect(plateau.learningRate).toBe(expected[12]);
      expect(replayed.length).toBeGreaterThan(0);
      expect(reductions).toEqual(replayed);
      opt.dispose();
      dispose();
    });
  }

  it("with optimizer: sets a numeric rate after each epoch (TensorFlow.js's tf.train.sgd, or to keep getConfig serialisable)", async () => {
    const plateau = new ReduceLROnPlateau({ initial: 0.1, patience: 0, factor: 0.5, threshold: 0.9 });
    const opt = adabelief({ learningRate: 0.1 });
    const { model, xt, yt, xv, yv, dispose } = setup(opt);
    await model.fit(xt, yt, {
      epochs: 6,
      batchSize: 8,
      verbose: 0,
      validationData: [xv, yv],
      callbacks: reduceOnPlateauCallback(plateau, { optimizer: opt }),
    });
    expect(plateau.learningRate).toBeLessThan(0.1);
    expect(opt.getConfig()["learningRate"]).toBe(plateau.learningRate);
    const tfSgd = tf.train.sgd(0.1);
    const cb = reduceOnPlateauCallback(new ReduceLROnPlateau({ initial: 0.1, patience: 0 }), {
      optimizer: tfSgd,
      monitor: "loss",
    });
    cb.onEpochEnd(0, { loss: 1 });
    expect(tfSgd.getConfig()["learningRate"]).toBe(0.1);
    cb.onEpochEnd(1, { loss: 1 }); // no improvement, patience 0: ×0.1
    expect(tfSgd.getConfig()["learningRate"]).toBeCloseTo(0.01, 15);
    opt.dispose();
    dispose();
  });

  it("also drives a MultiStepsOptimizer's inner optimizer", async () => {
    const plateau = new ReduceLROnPlateau({ initial: 0.05, patience: 0, threshold: 0.5 });
    const inner = adabelief({ learningRate: plateau.schedule });
    const opt = multiSteps(inner, { every: 2 });
    const { model, xt, yt, xv, yv, dispose } = setup(opt);
    await model.fit(xt, yt, {
      epochs: 4,
      batchSize: 8,
      verbose: 0,
      validationData: [xv, yv],
      callbacks: reduceOnPlateauCallback(plateau),
    });
    expect(inner.currentLearningRate).toBe(plateau.learningRate);
    expect(plateau.learningRate).toBeLessThan(0.05);
    opt.dispose();
    dispose();
  });

  it("a missing monitor aborts fit with a message naming it; a non-finite value too", async () => {
    const plateau = new ReduceLROnPlateau({ initial: 0.1 });
    const opt = adabelief({ learningRate: plateau.schedule });
    const { model, xt, yt, dispose } = setup(opt);
    await expect(
      model.fit(xt, yt, { epochs: 1, verbose: 0, callbacks: reduceOnPlateauCallback(plateau) }),
    ).rejects.toThrow(
      /the epoch logs have no "val_loss" \(they have: loss\); pass validationData or validationSplit to fit/,
    );
    const cb = reduceOnPlateauCallback(plateau, { monitor: "loss" });
    expect(() => cb.onEpochEnd(3, { loss: Number.NaN })).toThrow(
      /"loss" is NaN at epoch 3; it must be a finite number/,
    );
    expect(plateau.epochs).toBe(0);
    opt.dispose();
    dispose();
  });

  it("refuses bad options", () => {
    const plateau = new ReduceLROnPlateau({ initial: 0.1 });
    expect(() => reduceOnPlateauCallback({} as never)).toThrow(OptionError);
    expect(() => reduceOnPlateauCallback({} as never)).toThrow(/plateau must be a ReduceLROnPlateau/);
    expect(() => reduceOnPlateauCallback(plateau, { monitor: "" })).toThrow(
      /monitor must be a non-empty string/,
    );
    expect(() => reduceOnPlateauCallback(plateau, { optimizer: {} as never })).toThrow(
      /optimizer must have a setLearningRate method/,
    );
    expect(() => reduceOnPlateauCallback(plateau, { onReduce: 1 as never })).toThrow(
      /onReduce must be a function/,
    );
  });
});
