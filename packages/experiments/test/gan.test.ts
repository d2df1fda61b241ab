import * as tf from "@tensorflow/tfjs-core";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setCacheDir } from "../src/data/cache.js";
import { FEATURE_CLASSIFIER_CONFIG, featureClassifier } from "../src/models/feature-classifier.js";
import { runGan, task } from "../src/tasks/gan.js";
import { useBackend } from "../src/train/backend.js";

const classifier = {
  ...FEATURE_CLASSIFIER_CONFIG,
  sizes: [784, 32, 16, 10],
  trainImages: 2000,
  epochs: 2,
  learningRate: 3e-3,
};
const tiny = {
  trainImages: 640,
  steps: 60,
  interval: 30,
  samples: 200,
  realImages: 300,
  latent: 8,
  generator: [32],
  discriminator: [32],
  classifier,
};

describe("gan task", () => {
  let dir = "";
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "abgan-"));
    setCacheDir(dir);
  });
  afterAll(() => {
    setCacheDir(undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it("trains the feature classifier once, caches it, and reloads the same weights", async () => {
    await useBackend("wasm");
    const a = featureClassifier(classifier);
    expect(a.fromCache).toBe(false);
    expect(a.testAccuracy).toBeGreaterThan(50);
    expect(readdirSync(dir).some((f) => f.startsWith("fd-classifier-"))).toBe(true);
    expect(featureClassifier(classifier)).toBe(a);
    const weights = a.net.weightArrays();
    a.net.dispose(); // forces a reload from the cache
    const b = featureClassifier(classifier);
    expect(b.fromCache).toBe(true);
    expect(b.testAccuracy).toBe(a.testAccuracy);
    expect(b.net.weightArrays()).toEqual(weights);
  });

  it("trains a tiny GAN: distance measured at every interval, finite, falling from the start", async () => {
    const tensors = tf.memory().numTensors;
    const r = await runGan(
      { task: "gan", optimizer: "adabelief", seed: 2, size: "quick", backend: "wasm", learningRate: 2e-3 },
      { onProgress: () => {} },
      tiny,
    );
    expect(tf.memory().numTensors - tensors).toBe(0); // nothing leaked (the reference statistics are plain arrays)
    expect(r.curves.map((c) => c.epoch)).toEqual([0, 1, 2]); // measured at steps 0, 30 and 60
    expect(r.hyperparameters["interval"]).toBe(30);
    for (const c of r.curves) expect(Number.isFinite(c["fd"])).toBe(true);
    for (const c of r.curves.slice(1)) {
      expect(Number.isFinite(c["dLoss"])).toBe(true);
      expect(Number.isFinite(c["gLoss"])).toBe(true);
    }
    expect(r.final["fd"]).toBeLessThan(r.curves[0]!["fd"]!);
    expect(r.final["diverged"]).toBe(0);
    expect(r.hyperparameters["generator"]).toMatchObject({ learningRate: 2e-3, beta1: 0.5, epsilon: 1e-12 });
    expect(task.headline.label).toBe("Fréchet distance on our Fashion-MNIST classifier features");
  });
});
