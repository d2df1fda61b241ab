/**
 * Pieces shared by the experiment tasks' training loops: abort checks, divergence detection, timers, and the
 * evaluation of a classifier.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { ImageSet } from "../data/fashion-mnist.js";
import { imageBatch, range } from "./images.js";

/** Throws the abort reason when `signal` is aborted (Ctrl-C); the suite then drops the unfinished run. */
export function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    const reason: unknown = signal.reason;
    throw reason instanceof Error ? reason : new Error("run aborted");
  }
}

/**
 * Whether `err` means the optimizer met a non-finite gradient (the loss diverged): our optimizers throw a
 * `NonFiniteGradientError` before changing anything. Tasks then stop training and report the run as
 * diverged, with the metrics of the last finite weights.
 */
export function isDivergence(err: unknown): boolean {
  return err instanceof Error && (err.name === "NonFiniteGradientError" || /non-?finite/i.test(err.message));
}

/** Seconds elapsed since `start` (from `performance.now()`). */
export function secondsSince(start: number): number {
  return (performance.now() - start) / 1000;
}

/** Mean cross-entropy (nats) and accuracy (%) of a logits model on a set, in batches. */
export function evaluateClassifier(
  predict: (x: tf.Tensor4D) => tf.Tensor2D,
  set: ImageSet,
  count: number,
  batchSize = 500,
): { loss: number; acc: number } {
  const n = Math.min(count, set.count);
  let lossSum = 0;
  let correct = 0;
  for (let start = 0; start < n; start += batchSize) {
    const idx = range(start, batchSize, n);
    const [l, c] = tf.tidy(() => {
      const { x, y } = imageBatch(set, idx);
      const logits = predict(x);
      const loss = tf.sum(
        tf.losses.softmaxCrossEntropy(tf.oneHot(y, 10), logits, undefined, 0, tf.Reduction.NONE),
      );
      const hits = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), y), "float32"));
      return [loss, hits];
    });
    lossSum += l!.dataSync()[0]!;
    correct += c!.dataSync()[0]!;
    tf.dispose([l!, c!]);
  }
  return { loss: lossSum / n, acc: (100 * correct) / n };
}
