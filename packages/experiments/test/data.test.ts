import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { hashKey, readCache, setCacheDir, writeCache } from "../src/data/cache.js";
import { IMAGE_PIXELS, loadFashionMnist, takeImages, type ImageSet } from "../src/data/fashion-mnist.js";
import { loadMnist } from "../src/data/mnist.js";
import { encodeChars, loadMobyDick, mobyDickText } from "../src/data/moby-dick.js";
import { deriveSeed, mulberry32, normals, permutation } from "../src/train/random.js";

/** Test images byte-identical to a train or validation image (documented in fashion-mnist.ts). */
const DUPLICATES = 12;
function classCounts(set: ImageSet): number[] {
  const counts = new Array<number>(10).fill(0);
  for (const l of set.labels) counts[l]!++;
  return counts;
}

function imageKeys(set: ImageSet): Set<string> {
  const keys = new Set<string>();
  for (let i = 0; i < set.count; i++) {
    keys.add(Buffer.from(set.images.subarray(i * IMAGE_PIXELS, (i + 1) * IMAGE_PIXELS)).toString("base64"));
  }
  return keys;
}

describe("Fashion-MNIST", () => {
  const data = loadFashionMnist();

  it("has the documented 55,000 / 5,000 / 10,000 split with 784 bytes per image", () => {
    expect(data.train.count).toBe(55000);
    expect(data.validation.count).toBe(5000);
    expect(data.test.count).toBe(10000);
    for (const s of [data.train, data.validation, data.test]) {
      expect(s.images.length).toBe(s.count * IMAGE_PIXELS);
      expect(s.labels.length).toBe(s.count);
    }
  });

  it("is class-balanced in every split and in every prefix", () => {
    expect(classCounts(data.train)).toEqual(new Array(10).fill(5500));
    expect(classCounts(data.validation)).toEqual(new Array(10).fill(500));
    expect(classCounts(data.test)).toEqual(new Array(10).fill(1000));
    expect(classCounts(takeImages(data.train, 1000))).toEqual(new Array(10).fill(100));
    expect(Array.from(data.train.labels.subarray(0, 12))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
  });

  it("holds bytes spanning 0–255, with plausible image statistics", () => {
    let min = 255;
    let max = 0;
    let sum = 0;
    for (const v of data.test.images) {
      if (v < min) min = v;
      if (v > max) max = v;
      sum += v;
    }
    expect(min).toBe(0);
    expect(max).toBe(255);
    const mean = sum / data.test.images.length / 255;
    expect(mean).toBeGreaterThan(0.2); // Fashion-MNIST's mean intensity is about 0.286
    expect(mean).toBeLessThan(0.4);
  });

  it("keeps test and validation apart from train except the documented duplicate images", () => {
    const train = imageKeys(data.train);
    const validation = imageKeys(data.validation);
    let testInTrain = 0;
    for (let i = 0; i < data.test.count; i++) {
      const k = Buffer.from(data.test.images.subarray(i * IMAGE_PIXELS, (i + 1) * IMAGE_PIXELS)).toString(
        "base64",
      );
      if (train.has(k) || validation.has(k)) testInTrain++;
    }
    expect(testInTrain).toBe(DUPLICATES);
    let validationInTrain = 0;
    for (const k of validation) if (train.has(k)) validationInTrain++;
    expect(validationInTrain).toBeLessThan(10);
  });

  it("returns the same object on later calls, and takeImages rejects bad counts", () => {
    expect(loadFashionMnist()).toBe(data);
    expect(() => takeImages(data.train, 0)).toThrow(/count/);
    expect(takeImages(data.test, 1e9).count).toBe(10000);
  });
});

describe("MNIST", () => {
  it("has 10,000 digits split 90/10 per digit, bytes 0–255, all digits present", () => {
    const { train, test } = loadMnist();
    expect(train.count + test.count).toBe(10000);
    expect(train.count).toBe(8995);
    expect(train.images.length).toBe(train.count * IMAGE_PIXELS);
    const counts = classCounts(train);
    expect(Math.min(...counts)).toBeGreaterThan(700);
    expect(classCounts(test).every((c) => c >= 86)).toBe(true);
    expect(train.images.reduce((m, v) => Math.max(m, v), 0)).toBe(255);
    expect(Array.from(train.labels.subarray(0, 10))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});

describe("Moby Dick", () => {
  it("splits the encoded book 90/5/5 by position, and decodes back to the text", () => {
    const c = loadMobyDick();
    const text = mobyDickText();
    const n = Array.from(text).length;
    expect(c.train.length + c.validation.length + c.test.length).toBe(n);
    expect(c.train.length).toBe(Math.floor(n * 0.9));
    expect(Math.abs(c.validation.length - n * 0.05)).toBeLessThan(2);
    expect(c.vocab.length).toBe(83);
    expect(c.train.buffer).toBe(c.test.buffer); // contiguous blocks of one encoding
    expect(c.test.byteOffset).toBe(c.train.length + c.validation.length);
    const head = Array.from(c.train.subarray(0, 40), (i) => c.vocab[i]).join("");
    expect(text.startsWith(head)).toBe(true);
    const tail = Array.from(c.test.subarray(c.test.length - 40), (i) => c.vocab[i]).join("");
    expect(text.endsWith(tail)).toBe(true);
    expect(Math.max(...c.test)).toBeLessThan(83);
  });

  it("encodes with a code-point-sorted vocabulary", () => {
    const e = encodeChars("baca—a");
    expect(e.vocab).toEqual(["a", "b", "c", "—"]);
    expect(Array.from(e.codes)).toEqual([1, 0, 2, 0, 3, 0]);
  });
});

describe("cache", () => {
  it("round-trips typed arrays and ignores corrupt files", () => {
    const dir = mkdtempSync(join(tmpdir(), "abcache-"));
    setCacheDir(dir);
    try {
      const f = new Float32Array([1.5, -2, 3]);
      const u = new Uint8Array([1, 2, 3, 4, 5]);
      expect(writeCache("x.bin", { meta: { a: 1 }, arrays: { u, f } })).toBe(true);
      const back = readCache("x.bin")!;
      expect(back.meta).toEqual({ a: 1 });
      expect(Array.from(back.arrays["f"]!)).toEqual([1.5, -2, 3]);
      expect(back.arrays["u"]).toBeInstanceOf(Uint8Array);
      expect(Array.from(back.arrays["u"]!)).toEqual([1, 2, 3, 4, 5]);
      expect(readCache("missing.bin")).toBeUndefined();
      expect(hashKey({ a: 1 })).not.toBe(hashKey({ a: 2 }));
    } finally {
      setCacheDir(undefined);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("random", () => {
  it("is reproducible per seed and gives valid permutations and normals", () => {
    const a = mulberry32(7);
    const b = mulberry32(7);
    expect([a(), a(), a()]).toEqual([b(), b(), b()]);
    const p = permutation(1000, mulberry32(1));
    expect([...p].sort((x, y) => x - y)).toEqual([...Array(1000).keys()]);
    expect(Array.from(p.subarray(0, 10))).not.toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(deriveSeed(1, "init")).not.toBe(deriveSeed(1, "shuffle"));
    const z = normals(20000, mulberry32(3));
    const mean = z.reduce((s, v) => s + v, 0) / z.length;
    const variance = z.reduce((s, v) => s + v * v, 0) / z.length - mean * mean;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(variance - 1)).toBeLessThan(0.05);
  });
});
