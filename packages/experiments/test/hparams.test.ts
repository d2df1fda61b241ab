import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { HPARAM_TASKS, HPARAMS, hparamTable, hyperparameters, TASK_SETTINGS } from "../src/hparams.js";
import { OPTIMIZERS } from "../src/task.js";
import { useBackend } from "../src/train/backend.js";
import { describeRecipe, makeOptimizer, milestonesAt } from "../src/train/optimizers.js";

describe("hyper-parameter table", () => {
  it("has every optimizer for every task, with a rationale and a positive learning rate", () => {
    for (const t of HPARAM_TASKS) {
      expect(Object.keys(HPARAMS[t]).sort()).toEqual([...OPTIMIZERS].sort());
      for (const o of OPTIMIZERS) {
        expect(HPARAMS[t][o].rationale.length).toBeGreaterThan(10);
        expect(HPARAMS[t][o].options.learningRate).toBeGreaterThan(0);
      }
    }
  });

  it("holds the paper's settings", () => {
    expect(HPARAMS.cnn.adabelief.options).toMatchObject({
      learningRate: 1e-3,
      epsilon: 1e-8,
      weightDecay: 5e-4,
      weightDecouple: false,
    });
    expect(HPARAMS.cnn.sgd.options).toMatchObject({ learningRate: 0.1, momentum: 0.9 });
    expect(HPARAMS.cnn.adamw.options.weightDecay).toBe(1e-2);
    expect(HPARAMS.cnn.yogi.options.epsilon).toBe(1e-3);
    expect(HPARAMS.lstm.adabelief.options).toMatchObject({
      learningRate: 1e-3,
      epsilon: 1e-16,
      weightDecay: 1.2e-6,
    });
    expect(HPARAMS.lstm.sgd.options.learningRate).toBe(30);
    expect(HPARAMS.gan.adabelief.options).toMatchObject({ learningRate: 2e-4, beta1: 0.5, epsilon: 1e-12 });
    expect(HPARAMS.gan.adam.options.epsilon).toBe(1e-8);
    expect(HPARAMS.gan.adabound.options.finalLr).toBe(1e-2);
    expect(TASK_SETTINGS.lstm.values["clipGlobalNorm"]).toBe(0.25);
  });

  it("is frozen, returns copies, and names bad arguments", () => {
    expect(Object.isFrozen(HPARAMS.cnn.sgd.options)).toBe(true);
    const h = hyperparameters("lstm", "adam", 0.01);
    expect(h.options.learningRate).toBe(0.01);
    expect(HPARAMS.lstm.adam.options.learningRate).toBe(1e-3);
    expect(h.rationale).toContain("overridden");
    expect(() => hyperparameters("cnn", "nadam" as never)).toThrow(/unknown optimizer "nadam"/);
    expect(() => hyperparameters("toy" as never, "adam")).toThrow(/unknown task "toy"/);
    expect(() => hyperparameters("cnn", "adam", -1)).toThrow(
      /learningRate must be a finite number > 0, got -1/,
    );
  });

  it("prints a Markdown table with a row per optimizer and the shared settings", () => {
    const md = hparamTable("gan");
    for (const o of OPTIMIZERS) expect(md).toContain(`| ${o} |`);
    expect(md).toContain("epsilon 1e-12");
    expect(md).toContain("| batchSize | 64 |");
  });
});

describe("optimizers of the suite", () => {
  it("builds all nine from our tfjs factories for every task and takes a step", async () => {
    await useBackend("cpu");
    for (const t of HPARAM_TASKS) {
      for (const o of OPTIMIZERS) {
        const recipe = { options: hyperparameters(t, o).options, milestones: [2], clipGlobalNorm: 1 };
        const opt = makeOptimizer(o, recipe);
        expect(opt.getClassName().toLowerCase()).toContain(o === "sgd" ? "sgd" : o.slice(0, 4));
        const v = tf.variable(tf.tensor1d([1, -2, 3]));
        // two steps: MSVAG does not move on its first step (its variance estimate is undefined there)
        for (let k = 0; k < 2; k++) opt.minimize(() => tf.sum(tf.square(v)) as tf.Scalar, false, [v]);
        const after = v.dataSync();
        expect(Array.from(after).every(Number.isFinite)).toBe(true);
        expect(Array.from(after)).not.toEqual([1, -2, 3]);
        opt.dispose();
        v.dispose();
        expect(describeRecipe(recipe)).toMatchObject({ lrSchedule: "×0.1 at updates 2", clipGlobalNorm: 1 });
      }
    }
  });

  it("places schedule milestones at fractions of training", () => {
    expect(milestonesAt([0.5, 0.75], 100)).toEqual([50, 75]);
    expect(milestonesAt([0.5, 0.75], 2)).toEqual([1]);
    expect(milestonesAt([0.75], 1)).toEqual([]);
  });
});
