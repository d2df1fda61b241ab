/**
 * **Superseded by `wgan` and `wgan-gp` (`tasks/wgan.ts`), the paper's GAN protocol; kept, outside the
 * `suite` command, so that its earlier results can be rerun and their reports regenerated.**
 *
 * GAN: a small GAN on Fashion-MNIST with multilayer-perceptron generator and discriminator (the paper's
 * DCGAN-style WGAN/WGAN-GP/SN-GAN experiments, reduced to what a laptop CPU trains in seconds). Standard
 * non-saturating GAN loss (DCGAN's), one discriminator step per generator step, both nets trained by the
 * optimizer under test with the paper's GAN settings (lr 2e-4, β (0.5, 0.999), AdaBelief eps 1e-12, others
 * 1e-8, AdaBound final_lr 1e-2; `hparams.ts`), batch 64.
 *
 * Quality: the **Fréchet distance on our Fashion-MNIST classifier features** — the FID formula applied to
 * the 64-wide penultimate layer of a small classifier the suite trains once and caches
 * (`models/feature-classifier.ts`), between generated samples and real test images; *not* the Inception FID
 * and not comparable with published FIDs. Measured at fixed intervals; lower is better. Stability is the
 * spread of the final distance across seeds (the suite's mean ± std), plus, per run, the spread of the
 * distance over the second half of training (`fdLateStd`).
 *
 * Nets (leaky ReLU 0.2; tanh output for the generator): `quick` generator z(32) → 128 → 256 → 784 and
 * discriminator 784 → 256 → 128 → 1, 500 generator steps on the first 10,000 training images, distance every
 * 125 steps from 1,000 samples against 2,000 test images; `full` generator z(32) → 256 → 512 → 784 and
 * discriminator 784 → 512 → 256 → 1, 8,000 steps on all 55,000, every 500 steps, 5,000 samples against all
 * 10,000 test images.
 *
 * Curves: `epoch` k is the k-th measurement (0 = before training, k = after k·interval generator steps), with
 * `fd` and the mean discriminator and generator losses since the previous measurement. `RunSpec.epochs`, when
 * given, sets the number of intervals.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { loadFashionMnist, takeImages } from "../data/fashion-mnist.js";
import { hparamTable, hyperparameters, TASK_SETTINGS } from "../hparams.js";
import {
  FEATURE_CLASSIFIER_CONFIG,
  featureClassifier,
  pixelsInUnitRange,
  type FeatureClassifier,
  type FeatureClassifierConfig,
} from "../models/feature-classifier.js";
import { Mlp } from "../models/mlp.js";
import type { EpochMetrics, ProgressHooks, RunResult, RunSpec, Size, Task } from "../task.js";
import { runVersions, useBackend } from "../train/backend.js";
import { frechetDistance, gaussianStats, type GaussianStats } from "../train/frechet.js";
import { checkAborted, isDivergence, secondsSince } from "../train/loop.js";
import { describeRecipe, makeOptimizer } from "../train/optimizers.js";
import { deriveSeed, mulberry32, normals, permutation } from "../train/random.js";

/** Sizes of the GAN task per suite size. */
export interface GanSize {
  trainImages: number;
  /** Generator steps (one discriminator step each). */
  steps: number;
  /** Generator steps between two Fréchet-distance measurements. */
  interval: number;
  /** Generated samples per measurement. */
  samples: number;
  /** Real test images of the reference statistics. */
  realImages: number;
  latent: number;
  generator: number[];
  discriminator: number[];
  /** Feature classifier of the distance (default {@link FEATURE_CLASSIFIER_CONFIG}; tests use a cheaper one). */
  classifier?: Readonly<FeatureClassifierConfig>;
}

/** Sizes of the GAN task (see the module documentation). */
export const GAN_SIZES: Readonly<Record<Size, GanSize>> = Object.freeze({
  quick: {
    trainImages: 10000,
    steps: 500,
    interval: 125,
    samples: 1000,
    realImages: 2000,
    latent: 32,
    generator: [128, 256],
    discriminator: [256, 128],
  },
  full: {
    trainImages: 55000,
    steps: 8000,
    interval: 500,
    samples: 5000,
    realImages: 10000,
    latent: 32,
    generator: [256, 512],
    discriminator: [512, 256],
  },
});

const PAPER = `CIFAR-10, FID (lower is better), 5 runs each: WGAN — AdaBelief ≈ 82 vs Adam ≈ 98, SGD, AdaBound and
MSVAG fail (FID > 400); WGAN-GP — AdaBelief ≈ 60 vs Adam ≈ 72; SN-GAN — AdaBelief 12.52 ± 0.16 vs Adam
13.05 ± 0.19. Ours is a small MLP GAN on Fashion-MNIST measured by a Fréchet distance on our own classifier's
features (not the Inception FID): compare the ordering and the spread across seeds, not the numbers.`;

const realStatsMemo = new Map<string, GaussianStats>();

function featureStats(classifier: FeatureClassifier, images: tf.Tensor2D): GaussianStats {
  const feats = tf.tidy(() => classifier.features(images));
  const values = feats.dataSync();
  const [n, d] = feats.shape;
  feats.dispose();
  return gaussianStats(values, n, d);
}

/** Feature statistics of the first `count` test images (memoised per backend and count). */
function realStats(classifier: FeatureClassifier, count: number): GaussianStats {
  const key = `${tf.getBackend()}:${count}:${classifier.net.kernels[0]!.id}`;
  const hit = realStatsMemo.get(key);
  if (hit) return hit;
  const test = takeImages(loadFashionMnist().test, count);
  const x = pixelsInUnitRange(
    test,
    Array.from({ length: test.count }, (_, i) => i),
  );
  const stats = featureStats(classifier, x);
  x.dispose();
  realStatsMemo.set(key, stats);
  return stats;
}

/** Trains and evaluates one GAN run; see the module documentation. */
export async function runGan(
  spec: RunSpec,
  hooks: ProgressHooks,
  sizeOverride?: Partial<GanSize>,
): Promise<RunResult> {
  const t0 = performance.now();
  const size = { ...GAN_SIZES[spec.size], ...sizeOverride };
  const steps = spec.epochs !== undefined ? spec.epochs * size.interval : size.steps;
  if (!Number.isInteger(steps) || steps < 1)
    throw new RangeError(`gan: epochs (intervals) must be a positive integer, got ${spec.epochs}`);
  await useBackend(spec.backend);
  const classifier = featureClassifier(size.classifier ?? FEATURE_CLASSIFIER_CONFIG, (done, total) =>
    hooks.onProgress(0, steps, `training the feature classifier (once, then cached) ${done}/${total}`),
  );
  const reference = realStats(classifier, size.realImages);
  const train = takeImages(loadFashionMnist().train, size.trainImages);
  const batchSize = TASK_SETTINGS.gan.values["batchSize"] as number;
  const hp = hyperparameters("gan", spec.optimizer, spec.learningRate);
  const recipe = { options: hp.options };
  const gOpt = makeOptimizer(spec.optimizer, recipe);
  const dOpt = makeOptimizer(spec.optimizer, recipe);
  const initSeed = deriveSeed(spec.seed, "gan-init");
  const generator = new Mlp(
    [size.latent, ...size.generator, 784],
    [...size.generator.map(() => "leakyRelu" as const), "tanh"],
    initSeed,
    "generator",
  );
  const discriminator = new Mlp(
    [784, ...size.discriminator, 1],
    [...size.discriminator.map(() => "leakyRelu" as const), "linear"],
    initSeed + 1000,
    "discriminator",
  );
  const noise = mulberry32(deriveSeed(spec.seed, "gan-noise"));
  const shuffle = mulberry32(deriveSeed(spec.seed, "gan-shuffle"));
  const evalNoise = normals(size.samples * size.latent, mulberry32(deriveSeed(spec.seed, "gan-eval-noise")));
  const measure = (): number => {
    const fake = tf.tidy(() => generator.apply(tf.tensor2d(evalNoise, [size.samples, size.latent])));
    const stats = featureStats(classifier, fake);
    fake.dispose();
    return frechetDistance(stats, reference);
  };
  const curves: EpochMetrics[] = [{ epoch: 0, fd: measure() }];
  const perEpochSeconds: number[] = [];
  let order = permutation(train.count, shuffle);
  let cursor = 0;
  let diverged = 0;
  let te = performance.now();
  let dSum = 0;
  let gSum = 0;
  let count = 0;
  try {
    for (let step = 1; step <= steps && !diverged; step++) {
      checkAborted(hooks.signal);
      if (cursor + batchSize > train.count) {
        order = permutation(train.count, shuffle);
        cursor = 0;
      }
      const idx = order.subarray(cursor, cursor + batchSize);
      cursor += batchSize;
      const real = pixelsInUnitRange(train, idx);
      const z1 = tf.tensor2d(normals(batchSize * size.latent, noise), [batchSize, size.latent]);
      const z2 = tf.tensor2d(normals(batchSize * size.latent, noise), [batchSize, size.latent]);
      try {
        const dCost = dOpt.minimize(
          () => {
            const ones = tf.ones([batchSize, 1]);
            const zeros = tf.zeros([batchSize, 1]);
            const fake = generator.apply(z1);
            return tf.add(
              tf.losses.sigmoidCrossEntropy(ones, discriminator.apply(real)),
              tf.losses.sigmoidCrossEntropy(zeros, discriminator.apply(fake)),
            ) as tf.Scalar;
          },
          true,
          discriminator.trainableWeights,
        )!;
        const gCost = gOpt.minimize(
          () =>
            tf.losses.sigmoidCrossEntropy(
              tf.ones([batchSize, 1]),
              discriminator.apply(generator.apply(z2)),
            ) as tf.Scalar,
          true,
          generator.trainableWeights,
        )!;
        dSum += dCost.dataSync()[0]!;
        gSum += gCost.dataSync()[0]!;
        count++;
        tf.dispose([dCost, gCost]);
      } catch (err) {
        if (!isDivergence(err)) throw err;
        diverged = 1;
      } finally {
        tf.dispose([real, z1, z2]);
      }
      hooks.onProgress(
        step,
        steps,
        `step ${step}/${steps} D ${(dSum / Math.max(count, 1)).toFixed(3)} G ${(gSum / Math.max(count, 1)).toFixed(3)}`,
      );
      if (step % size.interval === 0 || step === steps || diverged) {
        curves.push({
          epoch: curves.length,
          fd: measure(),
          dLoss: count > 0 ? dSum / count : NaN,
          gLoss: count > 0 ? gSum / count : NaN,
        });
        perEpochSeconds.push(secondsSince(te));
        te = performance.now();
        dSum = gSum = count = 0;
      }
    }
  } finally {
    gOpt.dispose();
    dOpt.dispose();
    generator.dispose();
    discriminator.dispose();
  }
  const fds = curves.map((c) => c["fd"]!);
  const late = fds.slice(1).slice(Math.floor((fds.length - 1) / 2));
  const lateMean = late.reduce((s, v) => s + v, 0) / Math.max(late.length, 1);
  const lateStd = Math.sqrt(late.reduce((s, v) => s + (v - lateMean) ** 2, 0) / Math.max(late.length, 1));
  return {
    spec,
    hyperparameters: {
      generator: describeRecipe(recipe),
      discriminator: describeRecipe(recipe),
      batchSize,
      steps,
      interval: size.interval,
      latent: size.latent,
      generatorLayers: size.generator,
      discriminatorLayers: size.discriminator,
      trainImages: train.count,
      fdSamples: size.samples,
      fdRealImages: size.realImages,
      featureClassifierTestAccuracy: classifier.testAccuracy,
    },
    curves,
    final: {
      fd: fds[fds.length - 1]!,
      fdMin: Math.min(...fds),
      fdLateStd: lateStd,
      diverged,
    },
    timings: { totalSeconds: secondsSince(t0), perEpochSeconds },
    versions: runVersions(),
  };
}

/** The GAN task of the suite. */
export const task: Task = {
  name: "gan",
  title: "GAN: MLP GAN on Fashion-MNIST",
  headline: {
    metric: "fd",
    higherIsBetter: false,
    label: "Fréchet distance on our Fashion-MNIST classifier features",
  },
  paperReference: `${PAPER}\n\nOur settings:\n\n${hparamTable("gan")}`,
  defaultSeeds: { quick: 1, full: 3 },
  run: (spec, hooks) => runGan(spec, hooks),
};
