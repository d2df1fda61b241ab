import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { AdaBelief, AdaBound, OptionError } from "../../src/core/index.js";
import { adabelief, adabound } from "../../src/tfjs/index.js";
import { useBackend } from "./helpers.js";

beforeAll(() => useBackend("cpu"));

const gradient = (k: number) => new Float32Array([Math.sin(k) + 0.5, -1, 2 * Math.cos(k)]);

describe("setLearningRate", () => {
  for (const kernel of ["auto", "tensor"] as const) {
    it(`takes effect at the next step and keeps the state (${kernel})`, () => {
      const p = new Float32Array([1, 2, 3]);
      // The core twin gets the same change as a schedule of the step count.
      const core = new AdaBelief([p], { learningRate: (s) => (s < 3 ? 0.1 : s < 6 ? 0.01 : 0.05 / (1 + s)) });
      const v = tf.variable(tf.tensor1d([1, 2, 3]), true, `setLr${kernel}`);
      const opt = adabelief({ learningRate: 0.1, kernel });
      for (let k = 0; k < 9; k++) {
        if (k === 3) opt.setLearningRate(0.01);
        if (k === 6) opt.setLearningRate((s) => 0.05 / (1 + s));
        core.step([gradient(k)]);
        const g = tf.tensor1d(gradient(k));
        opt.applyGradients({ [v.name]: g });
        g.dispose();
        if (k === 3) expect(opt.currentLearningRate).toBe(0.01);
      }
      expect(opt.iterations).toBe(9);
      expect(opt.currentLearningRate).toBe(0.05 / 10);
      const tol = kernel === "auto" ? 0 : 1e-6;
      v.dataSync().forEach((x, j) => expect(Math.abs(x - p[j]!)).toBeLessThanOrEqual(tol));
      opt.dispose();
      v.dispose();
    });
  }

  it("is reflected in getConfig (a schedule still cannot be serialised)", () => {
    const opt = adabelief({ learningRate: 0.1 });
    opt.setLearningRate(0.003);
    expect(opt.getConfig()["learningRate"]).toBe(0.003);
    expect(opt.options.learningRate).toBe(0.003);
    opt.setLearningRate((s) => 1 / (1 + s));
    expect(() => opt.getConfig()).toThrow(/learningRate is a schedule function, which cannot be serialised/);
    opt.setLearningRate(0.2);
    expect(opt.getConfig()["learningRate"]).toBe(0.2);
  });

  it("rejects a bad value with an OptionError naming it, and changes nothing", () => {
    const opt = adabelief({ learningRate: 0.1 });
    expect(() => opt.setLearningRate(-1)).toThrow(OptionError);
    expect(() => opt.setLearningRate(-1)).toThrow(/learningRate must be a finite number >= 0, got -1/);
    expect(() => opt.setLearningRate(Number.NaN)).toThrow(
      /learningRate must be a finite number >= 0, got NaN/,
    );
    expect(() => opt.setLearningRate("0.1" as never)).toThrow(
      /learningRate must be a finite number >= 0, got "0.1"/,
    );
    expect(opt.options.learningRate).toBe(0.1);
    opt.dispose();
    expect(() => opt.setLearningRate(0.1)).toThrow(/disposed/);
  });

  it("AdaBound keeps the base learning rate recorded at construction (as PyTorch schedulers do)", () => {
    const p = new Float32Array([1, 2, 3]);
    const core = new AdaBound([p], { learningRate: (s) => (s < 2 ? 0.01 : 0.002), finalLr: 0.1 });
    const v = tf.variable(tf.tensor1d([1, 2, 3]), true, "setLrAdaBound");
    const opt = adabound({ learningRate: 0.01, finalLr: 0.1 });
    for (let k = 0; k < 5; k++) {
      if (k === 2) opt.setLearningRate(0.002);
      core.step([gradient(k)]);
      const g = tf.tensor1d(gradient(k));
      opt.applyGradients({ [v.name]: g });
      g.dispose();
    }
    expect(opt.options.baseLearningRate).toBe(0.01);
    expect(Array.from(v.dataSync())).toEqual(Array.from(p));
    opt.dispose();
    v.dispose();
  });
});
