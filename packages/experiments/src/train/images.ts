/**
 * Mini-batches of 28×28 grey-scale images for TensorFlow.js: bytes → standardised float32
 * `[batch, 28, 28, 1]`, with the optional light augmentation of the image experiments (random horizontal
 * flip and a random shift of up to `shift` pixels with zero padding, the 28-pixel analogue of the paper's
 * CIFAR-10 "pad 4 and crop" with flips).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { IMAGE_PIXELS, IMAGE_SIZE, type ImageSet } from "../data/fashion-mnist.js";
import type { Random } from "./random.js";

/** Mean pixel intensity of Fashion-MNIST's training images (in [0, 1]). */
export const FASHION_MEAN = 0.286;
/** Standard deviation of Fashion-MNIST's training pixels (in [0, 1]). */
export const FASHION_STD = 0.353;

/** Augmentation of training batches. */
export interface Augmentation {
  /** Flip each image left–right with probability ½. */
  flip: boolean;
  /** Shift each image by a uniform integer offset in [−shift, shift] per axis (zero fill). */
  shift: number;
  /** The generator that draws flips and shifts. */
  random: Random;
}

/**
 * Writes the images `indices` of `set` into `out` (standardised: (v/255 − mean)/std; zero-padding uses the
 * standardised value of a black pixel) and their labels into `labels`.
 */
export function fillImageBatch(
  set: ImageSet,
  indices: ArrayLike<number>,
  out: Float32Array,
  labels: Int32Array,
  augment?: Augmentation,
): void {
  const n = indices.length;
  if (out.length < n * IMAGE_PIXELS || labels.length < n)
    throw new RangeError("fillImageBatch: output buffers too small");
  const scale = 1 / (255 * FASHION_STD);
  const offset = -FASHION_MEAN / FASHION_STD;
  const S = IMAGE_SIZE;
  for (let b = 0; b < n; b++) {
    const idx = indices[b]!;
    if (!(idx >= 0 && idx < set.count))
      throw new RangeError(`fillImageBatch: index ${idx} outside 0…${set.count - 1}`);
    const src = idx * IMAGE_PIXELS;
    const dst = b * IMAGE_PIXELS;
    labels[b] = set.labels[idx]!;
    if (!augment || (!augment.flip && augment.shift === 0)) {
      for (let p = 0; p < IMAGE_PIXELS; p++) out[dst + p] = set.images[src + p]! * scale + offset;
      continue;
    }
    const flip = augment.flip && augment.random() < 0.5;
    const dy = augment.shift > 0 ? Math.floor(augment.random() * (2 * augment.shift + 1)) - augment.shift : 0;
    const dx = augment.shift > 0 ? Math.floor(augment.random() * (2 * augment.shift + 1)) - augment.shift : 0;
    for (let y = 0; y < S; y++) {
      const sy = y - dy;
      for (let x = 0; x < S; x++) {
        let sx = x - dx;
        if (flip) sx = S - 1 - sx;
        out[dst + y * S + x] =
          sy >= 0 && sy < S && sx >= 0 && sx < S ? set.images[src + sy * S + sx]! * scale + offset : offset;
      }
    }
  }
}

/** A `[n, 28, 28, 1]` float32 tensor and `[n]` int32 labels for the images `indices` of `set`. */
export function imageBatch(
  set: ImageSet,
  indices: ArrayLike<number>,
  augment?: Augmentation,
): { x: tf.Tensor4D; y: tf.Tensor1D } {
  const n = indices.length;
  const buf = new Float32Array(n * IMAGE_PIXELS);
  const labels = new Int32Array(n);
  fillImageBatch(set, indices, buf, labels, augment);
  return { x: tf.tensor4d(buf, [n, IMAGE_SIZE, IMAGE_SIZE, 1]), y: tf.tensor1d(labels, "int32") };
}

/** Indices `start … start+count−1` (clamped to the set). */
export function range(start: number, count: number, limit: number): Uint32Array {
  const n = Math.max(0, Math.min(count, limit - start));
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = start + i;
  return out;
}
