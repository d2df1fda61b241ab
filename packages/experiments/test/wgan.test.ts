import * as tf from "@tensorflow/tfjs-core";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setCacheDir } from "../src/data/cache.js";
import { HPARAMS, hparamTable, hyperparameters, TASK_SETTINGS, WGAN_TUNED_RATES } from "../src/hparams.js";
import { DcganCritic, DcganGenerator, gradientPenalty, leakyRelu02 } from "../src/models/dcgan.js";
import { FID_NET_CONFIG, fidNet } from "../src/models/fid-net.js";
import {
  realFeatures,
  runWgan,
  task,
  WGAN_SIZES,
  wganGpTask,
  wganGpTunedTask,
  wganRealRanges,
  wganTunedTask,
  type WganSize,
} from "../src/tasks/wgan.js";
import { useBackend } from "../src/train/backend.js";
import { frechetDistance, gaussianStats } from "../src/train/frechet.js";
import { OPTIMIZERS } from "../src/task.js";

describe("the paper's WGAN settings", () => {
  const paper = HPARAMS.wgan;

  it("gives every optimizer lr 2e-4, and β (0.5, 0.999) where it has betas", () => {
    for (const o of OPTIMIZERS) {
      expect(paper[o].options.learningRate).toBe(2e-4);
      if ("beta1" in paper[o].options) expect(paper[o].options["beta1"]).toBe(0.5);
      if ("beta2" in paper[o].options) expect(paper[o].options["beta2"]).toBe(0.999);
    }
    // every method with betas has them
    for (const o of ["adam", "adamw", "yogi", "adabound", "radam", "adabelief"] as const)
      expect(paper[o].options).toMatchObject({ beta1: 0.5, beta2: 0.999 });
    expect(paper.msvag.options).toEqual({ learningRate: 2e-4, beta1: 0.5 });
  });

  it("has each optimizer's own settings exactly as the paper's scripts", () => {
    expect(paper.sgd.options).toEqual({ learningRate: 2e-4, momentum: 0 }); // plain SGD
    expect(paper.fromage.options).toEqual({ learningRate: 2e-4 }); // the shared rate, not 1e-2
    expect(paper.adabound.options).toMatchObject({ finalLr: 1e-2, epsilon: 1e-8 });
    expect(paper.adabelief.options).toEqual({
      learningRate: 2e-4,
      beta1: 0.5,
      beta2: 0.999,
      epsilon: 1e-12,
      weightDecay: 0,
      weightDecouple: false,
      rectify: false,
    });
    for (const o of ["adam", "adamw", "yogi", "adabound", "radam"] as const)
      expect(paper[o].options["epsilon"]).toBe(1e-8);
    expect(paper.adamw.options["weightDecay"]).toBe(1e-2);
    expect(paper.radam.options["variant"]).toBe("paper");
    for (const o of OPTIMIZERS) expect(paper[o].rationale).toMatch(/Paper/);
  });

  it("shares 5 critic steps, clip 0.01, λ 10 and batch 64 between WGAN and WGAN-GP", () => {
    expect(TASK_SETTINGS.wgan.values).toMatchObject({
      batchSize: 64,
      criticSteps: 5,
      weightClip: 0.01,
      gradientPenalty: 10,
      lr: 2e-4,
      beta1: 0.5,
      beta2: 0.999,
    });
    for (const t of [task, wganGpTask]) expect(t.paperReference).toContain(hparamTable("wgan"));
  });

  it("labels the tuned variant: only the tuned rates differ, each marked TUNED", () => {
    const tuned = HPARAMS["wgan-tuned"];
    const names = Object.keys(WGAN_TUNED_RATES);
    expect(names.length).toBeGreaterThan(0);
    for (const o of OPTIMIZERS) {
      const rate = WGAN_TUNED_RATES[o]?.rate;
      if (rate !== undefined) {
        expect(tuned[o].options).toEqual({ ...paper[o].options, learningRate: rate });
        expect(tuned[o].rationale).toMatch(/^TUNED \(not the paper's\)/);
      } else {
        expect(tuned[o].options).toEqual(paper[o].options);
        expect(tuned[o].rationale).toMatch(/^As the paper/);
      }
    }
    for (const t of [wganTunedTask, wganGpTunedTask]) {
      expect(t.title).toMatch(/TUNED/);
      expect(t.paperReference).toMatch(/not the paper's protocol/);
    }
    expect(task.title).not.toMatch(/TUNED/);
  });
});

describe("WGAN nets", () => {
  it("leakyRelu02 equals tf.leakyRelu(x, 0.2)", async () => {
    await useBackend("cpu");
    const x = tf.tensor1d([-3, -0.5, 0, 0.25, 4]);
    const ours = leakyRelu02(x).dataSync();
    const theirs = tf.leakyRelu(x, 0.2).dataSync();
    ours.forEach((v, i) => expect(v).toBeCloseTo(theirs[i]!, 6));
  });

  it("generates 28×28 images in (−1, 1); the critic maps them to one value each", async () => {
    await useBackend("wasm");
    const g = new DcganGenerator({ latent: 8, width: 4 }, 1);
    const d = new DcganCritic({ latent: 8, width: 4 }, "sigmoid", 2);
    const img = g.apply(tf.randomNormal([3, 8]) as tf.Tensor2D);
    expect(img.shape).toEqual([3, 28, 28, 1]);
    expect(Math.max(...Array.from(tf.abs(img).dataSync()))).toBeLessThan(1);
    const v = d.apply(img);
    expect(v.shape).toEqual([3]);
    for (const x of v.dataSync()) expect(x > 0 && x < 1).toBe(true); // WGAN's script: sigmoid head
    tf.dispose([img, v]);
    g.dispose();
    d.dispose();
  });

  it("weight clipping clamps every critic variable to [−c, c]", async () => {
    await useBackend("wasm");
    const d = new DcganCritic({ latent: 8, width: 4 }, "sigmoid", 3);
    d.head.assign(tf.fill(d.head.shape, 0.5));
    d.bias1.assign(tf.fill(d.bias1.shape, -2));
    d.clipWeights(0.01);
    for (const w of d.trainableWeights) {
      const v = w.dataSync();
      expect(Math.max(...Array.from(v))).toBeLessThanOrEqual(0.01);
      expect(Math.min(...Array.from(v))).toBeGreaterThanOrEqual(-0.01);
    }
    expect(d.head.dataSync()[0]).toBeCloseTo(0.01, 7);
    expect(d.bias1.dataSync()[0]).toBeCloseTo(-0.01, 7);
    expect(() => d.clipWeights(0)).toThrow(/c must be a number > 0/);
    d.dispose();
  });

  it("gradient penalty: λ(‖w‖ − 1)² for a linear critic, λ·mean(‖x̂‖ − 1)² for D(x) = ½‖x‖²", async () => {
    await useBackend("cpu");
    const real = tf.tensor4d([1, 2, 0, 0, 3, 0, 0, 4], [2, 2, 2, 1]);
    const fake = tf.tensor4d([0, 0, 0, 2, 1, 1, 1, 1], [2, 2, 2, 1]);
    const alpha = tf.tensor1d([0.5, 0.25]);
    // Linear critic D(x) = Σ w·x: ∇ₓD = w everywhere, ‖w‖ = √(0.25+1+0+4) = √5.25.
    const w = tf.tensor4d([0.5, 1, 0, 2], [1, 2, 2, 1]);
    const linear = (x: tf.Tensor4D) => tf.sum(tf.mul(x, w), [1, 2, 3]) as tf.Tensor1D;
    const gpLinear = gradientPenalty(linear, real, fake, alpha, 10).dataSync()[0]!;
    expect(gpLinear).toBeCloseTo(10 * (Math.sqrt(5.25) - 1) ** 2, 4);
    // D(x) = ½‖x‖²: ∇ₓD = x̂ = α·real + (1−α)·fake.
    const quad = (x: tf.Tensor4D) => tf.mul(0.5, tf.sum(tf.square(x), [1, 2, 3])) as tf.Tensor1D;
    const x1 = [0.5, 1, 0, 1]; // 0.5·(1,2,0,0) + 0.5·(0,0,0,2)
    const x2 = [0.25 * 3 + 0.75, 0.75, 0.75, 0.25 * 4 + 0.75]; // 0.25·(3,0,0,4) + 0.75·(1,1,1,1)
    const norm = (v: number[]) => Math.sqrt(v.reduce((s, a) => s + a * a, 0));
    const expected = (10 * ((norm(x1) - 1) ** 2 + (norm(x2) - 1) ** 2)) / 2;
    expect(gradientPenalty(quad, real, fake, alpha, 10).dataSync()[0]).toBeCloseTo(expected, 4);
    // λ scales it
    expect(gradientPenalty(quad, real, fake, alpha, 1).dataSync()[0]).toBeCloseTo(expected / 10, 5);
  });

  it.each(["cpu", "wasm"] as const)(
    "differentiates the penalty w.r.t. the critic's weights on %s (second order, against finite differences)",
    async (backend) => {
      await useBackend(backend);
      const d = new DcganCritic({ latent: 4, width: 2 }, "linear", 5);
      // Weights and inputs chosen so that every pre-activation is clearly positive or clearly negative: the
      // penalty is then smooth in the weights (no kink of |x| is crossed) and central differences are exact
      // up to rounding. Channel 0 of the first convolution sees the slope-1 side, channel 1 the 0.2 side.
      const mag = (shape: number[], seed: number) =>
        tf.add(tf.abs(tf.randomNormal(shape, 0, 0.2, "float32", seed)), 0.05);
      d.conv1.assign(tf.mul(mag([4, 4, 1, 2], 7), tf.tensor1d([1, -1])) as tf.Tensor4D);
      const outSign = tf.tensor1d([1, -1, 1, -1]);
      const inSign = tf.tensor4d([1, -1], [1, 1, 2, 1]);
      d.conv2.assign(tf.mul(tf.mul(mag([4, 4, 2, 4], 8), inSign), outSign) as tf.Tensor4D);
      d.head.assign(tf.randomNormal(d.head.shape, 0, 0.2, "float32", 9));
      const real = tf.randomUniform([3, 28, 28, 1], 0.1, 1, "float32", 1) as tf.Tensor4D;
      const fake = tf.randomUniform([3, 28, 28, 1], 0.1, 1, "float32", 2) as tf.Tensor4D;
      const alpha = tf.tensor1d([0.2, 0.5, 0.9]);
      const gp = () => gradientPenalty((x) => d.apply(x), real, fake, alpha, 10);
      const { value, grads } = tf.variableGrads(gp, [d.conv1, d.conv2, d.head]);
      expect(Number.isFinite(value.dataSync()[0])).toBe(true);
      for (const w of [d.conv1, d.conv2, d.head] as tf.Variable[]) {
        const analytic = grads[w.name]!.dataSync();
        expect(Array.from(analytic).some((g) => g !== 0)).toBe(true);
        const base = Float32Array.from(w.dataSync());
        const h = 1e-3;
        for (const i of [0, 5, 11, 15]) {
          const at = (delta: number) => {
            const p = Float32Array.from(base);
            p[i]! += delta;
            w.assign(tf.tensor(p, w.shape));
            return tf.tidy(() => gp().dataSync()[0]!);
          };
          const numeric = (at(h) - at(-h)) / (2 * h);
          w.assign(tf.tensor(base, w.shape));
          expect(Math.abs(numeric - analytic[i]!)).toBeLessThan(0.02 * Math.abs(numeric) + 0.02);
        }
      }
      d.dispose();
      tf.dispose([real, fake, alpha, value, ...Object.values(grads)]);
    },
  );
});

describe("WGAN runs", () => {
  const net = {
    ...FID_NET_CONFIG,
    filters: [4, 8, 8] as [number, number, number],
    features: 12,
    trainImages: 3000,
    epochs: 2,
    learningRate: 1e-2,
    minTestAccuracy: 50,
    testImages: 1000,
  };
  const tiny: WganSize = {
    trainImages: 640,
    generatorSteps: 4,
    interval: 2,
    samples: 100,
    realImages: 200,
    validationImages: 150,
    bootstrap: 20,
    latent: 8,
    width: 4,
    fidNet: net,
  };

  let dir = "";
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "abwgan-"));
    setCacheDir(dir);
    await useBackend("wasm");
    fidNet(net); // trained once here (tiny), so the runs below create no lasting tensor
  });
  afterAll(() => {
    setCacheDir(undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it("uses disjoint real sets for the reference and the floor", () => {
    for (const size of [tiny, WGAN_SIZES.quick, WGAN_SIZES.full]) {
      const r = wganRealRanges(size);
      expect(r.reference.split).toBe(r.floor.split);
      expect(r.floor.start).toBeGreaterThanOrEqual(r.reference.start + r.reference.count);
      expect(r.floor.count).toBe(size.samples);
      expect(r.floor.start + r.floor.count).toBeLessThanOrEqual(10000);
      expect(r.validation.split).toBe("validation");
    }
  });

  it.each([
    ["wgan", "clip"],
    ["wgan-gp", "gp"],
  ] as const)(
    "%s: trains a tiny run with 5 critic steps per generator step, FID with CI and floor",
    async (name, loss) => {
      await useBackend("wasm");
      const before = tf.memory().numTensors;
      const r = await runWgan(
        { task: name, optimizer: "adabelief", seed: 3, size: "quick", backend: "wasm" },
        { onProgress: () => {} },
        { loss, table: "wgan" },
        tiny,
      );
      const features = fidNet(net);
      expect(tf.memory().numTensors - before).toBe(0); // nothing leaked
      expect(r.curves.map((c) => c.epoch)).toEqual([0, 1, 2]);
      for (const c of r.curves) {
        expect(Number.isFinite(c["fd"])).toBe(true);
        expect(Number.isFinite(c["valFd"])).toBe(true);
      }
      expect(r.hyperparameters).toMatchObject({
        criticSteps: 5,
        batchSize: 64,
        generatorSteps: 4,
        criticOutput: loss === "clip" ? "sigmoid" : "linear",
        generator: { learningRate: 2e-4, beta1: 0.5, beta2: 0.999, epsilon: 1e-12 },
      });
      expect(String(r.hyperparameters["loss"])).toMatch(loss === "clip" ? /clipping 0.01/ : /penalty λ 10/);
      const f = r.final;
      expect(f["diverged"]).toBe(0);
      expect(f["fd"]).toBeCloseTo(r.curves[2]!["fd"]!, 8);
      expect(f["fdLow"]!).toBeLessThanOrEqual(f["fdHigh"]!);
      expect(f["fdFloorLow"]!).toBeLessThanOrEqual(f["fdFloorHigh"]!);
      // The floor is the distance between the disjoint real sets, recomputed here from their features.
      const ranges = wganRealRanges(tiny);
      const ref = realFeatures(features, ranges.reference);
      const other = realFeatures(features, ranges.floor);
      const floor = frechetDistance(
        gaussianStats(other, tiny.samples, features.dim),
        gaussianStats(ref, tiny.realImages, features.dim),
      );
      expect(f["fdFloor"]).toBeCloseTo(floor, 8);
      expect(f["fdFloor"]!).toBeLessThan(f["fd"]!); // an untrained generator is far from real images
      expect(f["fdFloor"]!).toBeGreaterThan(0); // finite samples: the floor is not 0
      expect(hyperparameters("wgan", "adabelief").options).toMatchObject(
        r.hyperparameters["critic"] as Record<string, unknown>,
      );
    },
  );

  it("wgan: the critic's weights stay within ±0.01 during training", async () => {
    await useBackend("wasm");
    // One generator step = 5 critic steps; measure the largest critic weight after each step through the
    // optimizer hook: with SGD at a large rate the unclipped weights would leave ±0.01 at once.
    const r = await runWgan(
      { task: "wgan", optimizer: "sgd", seed: 1, size: "quick", backend: "wasm", learningRate: 1 },
      { onProgress: () => {} },
      { loss: "clip", table: "wgan" },
      { ...tiny, generatorSteps: 1, interval: 1 },
    );
    expect(r.final["maxCriticWeight"]).toBeLessThanOrEqual(0.01 + 1e-9);
    expect(r.final["maxCriticWeight"]).toBeGreaterThan(0.009); // the rate pushed them to the bound
  });
});
