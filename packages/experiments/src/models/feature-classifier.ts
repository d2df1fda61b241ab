/**
 * The feature extractor of the GAN task's quality measure: a small MLP classifier of Fashion-MNIST
 * (784 → 256 → 64 → 10, ReLU) whose 64-wide penultimate layer gives the features of the Fréchet distance.
 * It is trained once — with TensorFlow.js's own Adam, a fixed instrument independent of the optimizers under
 * test — and cached under `.cache/` by a hash of its configuration, so every GAN run is measured with the
 * same network. Its test accuracy is stored with it.
 *
 * Images enter as pixels scaled to [−1, 1] (the GAN generator's output range).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { hashKey, readCache, writeCache } from "../data/cache.js";
import { IMAGE_PIXELS, loadFashionMnist, takeImages, type ImageSet } from "../data/fashion-mnist.js";
import { deriveSeed, mulberry32, permutation } from "../train/random.js";
import { Mlp } from "./mlp.js";

/** Configuration of the feature classifier (its hash names the cache file). */
export const FEATURE_CLASSIFIER_CONFIG: Readonly<FeatureClassifierConfig> = Object.freeze({
  sizes: [IMAGE_PIXELS, 256, 64, 10],
  trainImages: 55000,
  epochs: 3,
  batchSize: 128,
  learningRate: 1e-3,
  seed: 20201015,
  version: 1,
});

/** Configuration of a feature classifier (its hash names the cache file). */
export interface FeatureClassifierConfig {
  /** Layer widths, input first; the features are the last hidden layer. */
  sizes: number[];
  /** Training images (a class-balanced prefix of the training split). */
  trainImages: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  seed: number;
  /** Bumped when the training procedure changes, to invalidate caches. */
  version: number;
}

/** The trained classifier: `features(x)` maps `[n, 784]` images in [−1, 1] to `[n, 64]`. */
export interface FeatureClassifier {
  readonly net: Mlp;
  readonly dim: number;
  /** Test accuracy (%) on the 10,000 Fashion-MNIST test images. */
  readonly testAccuracy: number;
  /** Whether the weights came from the cache. */
  readonly fromCache: boolean;
  features(x: tf.Tensor2D): tf.Tensor2D;
}

/** Pixels of `set` at `indices`, scaled to [−1, 1], as `[n, 784]`. */
export function pixelsInUnitRange(set: ImageSet, indices: ArrayLike<number>): tf.Tensor2D {
  const n = indices.length;
  const buf = new Float32Array(n * IMAGE_PIXELS);
  for (let b = 0; b < n; b++) {
    const src = indices[b]! * IMAGE_PIXELS;
    for (let p = 0; p < IMAGE_PIXELS; p++) buf[b * IMAGE_PIXELS + p] = set.images[src + p]! / 127.5 - 1;
  }
  return tf.tensor2d(buf, [n, IMAGE_PIXELS]);
}

function accuracy(net: Mlp, set: ImageSet): number {
  let correct = 0;
  for (let start = 0; start < set.count; start += 1000) {
    const idx = Array.from({ length: Math.min(1000, set.count - start) }, (_, i) => start + i);
    const hits = tf.tidy(() => {
      const pred = tf.argMax(net.apply(pixelsInUnitRange(set, idx)), 1);
      return tf.sum(
        tf.cast(
          tf.equal(
            pred,
            tf.tensor1d(
              Array.from(idx, (i) => set.labels[i]!),
              "int32",
            ),
          ),
          "float32",
        ),
      );
    });
    correct += hits.dataSync()[0]!;
    hits.dispose();
  }
  return (100 * correct) / set.count;
}

const memo = new Map<string, FeatureClassifier>();

/**
 * The feature classifier of configuration `cfg` (default {@link FEATURE_CLASSIFIER_CONFIG}): loaded from
 * `.cache/fd-classifier-<hash of cfg>.bin`, or trained (tens of seconds) and cached. Later calls with the
 * same configuration return the same object.
 */
export function featureClassifier(
  cfg: Readonly<FeatureClassifierConfig> = FEATURE_CLASSIFIER_CONFIG,
  onProgress?: (done: number, total: number) => void,
): FeatureClassifier {
  const key = hashKey(cfg);
  const hit = memo.get(key);
  if (hit && !hit.net.kernels[0]!.isDisposed) return hit;
  const acts = [...cfg.sizes.slice(2).map(() => "relu" as const), "linear" as const];
  const net = new Mlp(cfg.sizes, acts, cfg.seed, "fd_classifier");
  const name = `fd-classifier-${key}.bin`;
  const cached = readCache(name);
  const data = loadFashionMnist();
  let testAccuracy: number;
  let fromCache = false;
  const arrays = cached ? net.trainableWeights.map((_, i) => cached.arrays[`w${i}`]) : [];
  if (
    cached &&
    arrays.every((a) => a instanceof Float32Array) &&
    typeof cached.meta["testAccuracy"] === "number"
  ) {
    net.setWeightArrays(arrays as Float32Array[]);
    testAccuracy = cached.meta["testAccuracy"];
    fromCache = true;
  } else {
    const opt = tf.train.adam(cfg.learningRate);
    const random = mulberry32(deriveSeed(cfg.seed, "fd-classifier-shuffle"));
    const train = takeImages(data.train, cfg.trainImages);
    const steps = Math.ceil(train.count / cfg.batchSize);
    for (let e = 0; e < cfg.epochs; e++) {
      const order = permutation(train.count, random);
      for (let s = 0; s < steps; s++) {
        const idx = order.subarray(s * cfg.batchSize, Math.min((s + 1) * cfg.batchSize, train.count));
        tf.tidy(() => {
          const x = pixelsInUnitRange(train, idx);
          const y = tf.oneHot(
            tf.tensor1d(
              Array.from(idx, (i) => train.labels[i]!),
              "int32",
            ),
            10,
          );
          opt.minimize(
            () => tf.losses.softmaxCrossEntropy(y, net.apply(x)) as tf.Scalar,
            false,
            net.trainableWeights,
          );
        });
        onProgress?.(e * steps + s + 1, cfg.epochs * steps);
      }
    }
    opt.dispose();
    testAccuracy = accuracy(net, data.test);
    const weights: Record<string, Float32Array> = {};
    net.weightArrays().forEach((w, i) => (weights[`w${i}`] = w));
    writeCache(name, { meta: { config: cfg, testAccuracy }, arrays: weights });
  }
  const classifier: FeatureClassifier = {
    net,
    dim: cfg.sizes[cfg.sizes.length - 2]!,
    testAccuracy,
    fromCache,
    features: (x) => net.apply(x, cfg.sizes.length - 2),
  };
  memo.set(key, classifier);
  return classifier;
}
