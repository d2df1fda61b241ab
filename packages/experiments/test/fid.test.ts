import * as tf from "@tensorflow/tfjs-core";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setCacheDir } from "../src/data/cache.js";
import { FID_NET_CONFIG, fidNet } from "../src/models/fid-net.js";
import { useBackend } from "../src/train/backend.js";
import { bootstrapFrechet, frechetDistance, gaussianStats, quantileSorted } from "../src/train/frechet.js";
import { mulberry32, normals } from "../src/train/random.js";

/** `count` rows of `dim` normal values with per-dimension scale `scale` and offset `shift`. */
function gaussianRows(count: number, dim: number, seed: number, shift = 0, scale = 1): Float32Array {
  const z = normals(count * dim, mulberry32(seed));
  return z.map((v) => v * scale + shift);
}

describe("Fréchet distance with bootstrap intervals", () => {
  it("is ≈ 0 for identical sets, and its interval starts at ≈ 0 too", () => {
    const a = gaussianRows(400, 6, 1);
    const set = { values: a, count: 400, dim: 6 };
    const est = bootstrapFrechet(set, set, { seed: 3, resamples: 30 });
    expect(est.fd).toBeLessThan(1e-9);
    expect(est.low).toBeGreaterThanOrEqual(0);
    expect(est.high).toBeLessThan(0.2); // resampling noise only
  });

  it("brackets a known shift, is seeded, and narrows with more samples", () => {
    // Two Gaussians in 4 dimensions whose means differ by 1 in every coordinate: d² = 4.
    const small = bootstrapFrechet(
      { values: gaussianRows(300, 4, 11, 1), count: 300, dim: 4 },
      { values: gaussianRows(300, 4, 12), count: 300, dim: 4 },
      { seed: 5, resamples: 60 },
    );
    expect(small.low).toBeLessThan(4.3);
    expect(small.high).toBeGreaterThan(3.7);
    expect(small.low).toBeLessThanOrEqual(small.fd + 0.5);
    const again = bootstrapFrechet(
      { values: gaussianRows(300, 4, 11, 1), count: 300, dim: 4 },
      { values: gaussianRows(300, 4, 12), count: 300, dim: 4 },
      { seed: 5, resamples: 60 },
    );
    expect(again).toEqual(small);
    const other = bootstrapFrechet(
      { values: gaussianRows(300, 4, 11, 1), count: 300, dim: 4 },
      { values: gaussianRows(300, 4, 12), count: 300, dim: 4 },
      { seed: 6, resamples: 60 },
    );
    expect(other.low).not.toBe(small.low);
    const large = bootstrapFrechet(
      { values: gaussianRows(3000, 4, 13, 1), count: 3000, dim: 4 },
      { values: gaussianRows(3000, 4, 14), count: 3000, dim: 4 },
      { seed: 5, resamples: 60 },
    );
    expect(large.high - large.low).toBeLessThan((small.high - small.low) / 2);
    expect(Math.abs(large.fd - 4)).toBeLessThan(0.3);
  });

  it("computes statistics of selected rows (a resample) like those of the copied rows", () => {
    const values = gaussianRows(50, 3, 21);
    const rows = [4, 4, 0, 49, 7, 7, 7];
    const copy = new Float32Array(rows.length * 3);
    rows.forEach((r, k) => copy.set(values.subarray(r * 3, r * 3 + 3), k * 3));
    const a = gaussianStats(values, 50, 3, rows);
    const b = gaussianStats(copy, rows.length, 3);
    expect(Array.from(a.mean)).toEqual(Array.from(b.mean));
    expect(Array.from(a.cov)).toEqual(Array.from(b.cov));
    expect(() => gaussianStats(values, 50, 3, [0, 50])).toThrow(/row 50 outside/);
    expect(frechetDistance(a, b)).toBeLessThan(1e-9);
  });

  it("interpolates quantiles and rejects bad options", () => {
    expect(quantileSorted([0, 10], 0.25)).toBe(2.5);
    expect(quantileSorted([1, 2, 3], 1)).toBe(3);
    const set = { values: gaussianRows(10, 2, 1), count: 10, dim: 2 };
    expect(() => bootstrapFrechet(set, set, { seed: 1, resamples: 1 })).toThrow(/resamples/);
    expect(() => bootstrapFrechet(set, set, { seed: 1, level: 1 })).toThrow(/level/);
    expect(() =>
      bootstrapFrechet(set, { ...set, dim: 5, values: new Float32Array(50) }, { seed: 1 }),
    ).toThrow(/dimensions differ/);
  });
});

describe("the FID feature network", () => {
  let dir = "";
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "abfid-"));
    setCacheDir(dir);
  });
  afterAll(() => {
    setCacheDir(undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it("is a ≥ 90 % classifier at full size (the default configuration asserts it)", () => {
    expect(FID_NET_CONFIG.minTestAccuracy).toBeGreaterThanOrEqual(90);
    expect(FID_NET_CONFIG.testImages).toBe(10000);
    expect(FID_NET_CONFIG.trainImages).toBe(55000);
  });

  it("at reduced size (the suite's network, 6,000 images, 2 epochs): trains, reaches a reduced bar, caches with a version key, reloads the same weights", async () => {
    await useBackend("wasm");
    const cfg = {
      ...FID_NET_CONFIG,
      trainImages: 6000,
      epochs: 2,
      minTestAccuracy: 75,
      testImages: 2000,
    };
    const net = fidNet(cfg);
    expect(net.fromCache).toBe(false);
    expect(net.testAccuracy).toBeGreaterThanOrEqual(75); // measured 79.25 %; the full-size network: 91.15 %
    const files = readdirSync(dir).filter((f) => f.startsWith("fid-net-"));
    expect(files).toHaveLength(1);
    const x = tf.randomUniform([3, 784], -1, 1, "float32", 1) as tf.Tensor2D;
    const f1 = net.featureValues(x);
    expect(f1).toHaveLength(3 * 64);
    net.dispose();
    const again = fidNet(cfg);
    expect(again.fromCache).toBe(true);
    expect(again.testAccuracy).toBe(net.testAccuracy);
    expect(Array.from(again.featureValues(x))).toEqual(Array.from(f1));
    // A new version is a new network: another cache file.
    const bumped = {
      ...cfg,
      version: cfg.version + 1,
      trainImages: 256,
      epochs: 1,
      minTestAccuracy: 0,
      testImages: 100,
    };
    fidNet(bumped).dispose();
    expect(readdirSync(dir).filter((f) => f.startsWith("fid-net-"))).toHaveLength(2);
    again.dispose();
    x.dispose();
  }, 240_000);

  it("refuses (throws, caches nothing) a network below its accuracy bar", async () => {
    await useBackend("wasm");
    const before = readdirSync(dir).length;
    const tensors = tf.memory().numTensors;
    const cfg = {
      ...FID_NET_CONFIG,
      filters: [2, 2, 2] as [number, number, number],
      features: 2,
      trainImages: 256,
      epochs: 1,
      minTestAccuracy: 99.9,
      testImages: 500,
    };
    expect(() => fidNet(cfg)).toThrow(/below the required 99.9 %/);
    expect(readdirSync(dir).length).toBe(before);
    expect(tf.memory().numTensors).toBe(tensors);
  });
});
