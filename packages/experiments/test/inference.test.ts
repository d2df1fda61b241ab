import { describe, expect, it } from "vitest";
import {
  bootstrapMeanInterval,
  lnGamma,
  pairedDifference,
  quantileSorted,
  regularizedBeta,
  studentTCdf,
  studentTQuantile,
  tInterval,
} from "../src/report/inference.js";
import { mulberry32, normals } from "../src/train/random.js";

/** n standard-normal samples scaled to mean `mu`, standard deviation `sigma`. */
function normalSample(n: number, mu: number, sigma: number, random: () => number): number[] {
  return Array.from(normals(n, random), (z) => mu + sigma * z);
}

describe("Student's t distribution", () => {
  it("lnGamma and the incomplete beta match known values", () => {
    expect(lnGamma(1)).toBeCloseTo(0, 13);
    expect(lnGamma(0.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI)), 13);
    expect(lnGamma(10)).toBeCloseTo(Math.log(362880), 11);
    // I_x(1, 1) = x; I_x(a, 1) = x^a; symmetry I_x(a, b) = 1 − I_{1−x}(b, a).
    expect(regularizedBeta(0.3, 1, 1)).toBeCloseTo(0.3, 14);
    expect(regularizedBeta(0.6, 3, 1)).toBeCloseTo(0.216, 13);
    expect(regularizedBeta(0.2, 2.5, 4)).toBeCloseTo(1 - regularizedBeta(0.8, 4, 2.5), 13);
  });

  it("quantiles match the printed table (two-sided 95 %: t_0.975)", () => {
    const table: [number, number][] = [
      [1, 12.7062047362],
      [2, 4.30265272975],
      [3, 3.18244630528],
      [4, 2.7764451052],
      [9, 2.2621571628],
      [29, 2.04522964213],
      [1000, 1.96233908082],
    ];
    for (const [df, t] of table) expect(studentTQuantile(0.975, df), `df ${df}`).toBeCloseTo(t, 8);
    expect(studentTQuantile(0.995, 5)).toBeCloseTo(4.03214298356, 8);
    expect(studentTQuantile(0.025, 4)).toBeCloseTo(-2.7764451052, 8);
    expect(studentTCdf(studentTQuantile(0.9, 7), 7)).toBeCloseTo(0.9, 11);
    expect(studentTCdf(0, 3)).toBe(0.5);
  });
});

describe("t-interval of a mean", () => {
  it("matches a hand-computed interval", () => {
    // x = 1, 2, 3, 4, 5: mean 3, s = √2.5, s/√5 = 0.70711; t_{0.975,4} = 2.77645 → ±1.96324.
    const ci = tInterval([1, 2, 3, 4, 5])!;
    expect(ci.mean).toBe(3);
    expect(ci.lo).toBeCloseTo(3 - 1.963243161, 8);
    expect(ci.hi).toBeCloseTo(3 + 1.963243161, 8);
    expect(ci.n).toBe(5);
  });

  it("a constant sample gives a zero-width interval; one value gives none", () => {
    expect(tInterval([7, 7, 7])).toEqual({ mean: 7, lo: 7, hi: 7, n: 3 });
    expect(tInterval([7])).toBeNull();
    expect(tInterval([7, Number.NaN])).toBeNull();
  });

  it("covers the true mean of normal samples about 95 % of the time (n = 5: a z-interval would not)", () => {
    const random = mulberry32(11);
    const reps = 4000;
    let covered = 0;
    for (let r = 0; r < reps; r++) {
      const ci = tInterval(normalSample(5, 10, 2, random))!;
      if (ci.lo <= 10 && 10 <= ci.hi) covered++;
    }
    // Binomial standard error at 95 %: 0.0034. A z-interval (1.96 instead of 2.776) covers about 88 %.
    expect(covered / reps).toBeGreaterThan(0.94);
    expect(covered / reps).toBeLessThan(0.96);
  });
});

describe("bootstrap interval of a mean", () => {
  it("is reproducible (seeded), and a different seed moves it only a little", () => {
    const x = [3.1, 2.7, 3.8, 4.4, 2.2, 3.0, 3.9, 2.5];
    const a = bootstrapMeanInterval(x)!;
    expect(bootstrapMeanInterval(x)).toEqual(a);
    const b = bootstrapMeanInterval(x, { seed: 99 })!;
    expect(b).not.toEqual(a);
    expect(Math.abs(b.lo - a.lo)).toBeLessThan(0.05);
    expect(a.lo).toBeLessThan(a.mean);
    expect(a.hi).toBeGreaterThan(a.mean);
  });

  it("a constant sample gives a zero-width interval; one value gives none", () => {
    expect(bootstrapMeanInterval([2.5, 2.5, 2.5, 2.5])).toEqual({ mean: 2.5, lo: 2.5, hi: 2.5, n: 4 });
    expect(bootstrapMeanInterval([2.5])).toBeNull();
  });

  it("for two values it spans exactly their range at 95 % (resample means are x1, (x1+x2)/2 or x2)", () => {
    const ci = bootstrapMeanInterval([1, 3], { resamples: 4000 })!;
    expect(ci.lo).toBe(1);
    expect(ci.hi).toBe(3);
  });

  it("covers the true mean of normal samples about 95 % of the time (n = 30)", () => {
    const random = mulberry32(5);
    const reps = 1000;
    let covered = 0;
    for (let r = 0; r < reps; r++) {
      const ci = bootstrapMeanInterval(normalSample(30, -4, 3, random), { resamples: 2000, seed: r })!;
      if (ci.lo <= -4 && -4 <= ci.hi) covered++;
    }
    // The percentile bootstrap under-covers a little at n = 30 (≈ 93–94 %); standard error 0.007.
    expect(covered / reps).toBeGreaterThan(0.91);
    expect(covered / reps).toBeLessThan(0.97);
  });

  it("type-7 quantiles interpolate between order statistics", () => {
    expect(quantileSorted([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantileSorted([1, 2, 3, 4], 0)).toBe(1);
    expect(quantileSorted([1, 2, 3, 4], 1)).toBe(4);
    expect(quantileSorted([10, 20], 0.025)).toBe(10.25);
  });
});

describe("paired differences by seed", () => {
  it("pairs by seed, ignores unpaired and non-finite seeds, and gives the hand-computed paired t-interval", () => {
    const a = new Map([
      [1, 88.1],
      [2, 87.6],
      [3, 88.4],
      [4, 90],
      [5, Number.NaN],
    ]);
    const b = new Map([
      [1, 87.5],
      [2, 87.2],
      [3, 87.6],
      [5, 80],
      [6, 86],
    ]);
    const d = pairedDifference(a, b)!;
    expect(d.seeds).toEqual([1, 2, 3]);
    // d = 0.6, 0.4, 0.8: mean 0.6, s = 0.2, s/√3 = 0.11547; t_{0.975,2} = 4.30265 → ±0.49683.
    expect(d.differences.map((x) => Number(x.toFixed(10)))).toEqual([0.6, 0.4, 0.8]);
    expect(d.mean).toBeCloseTo(0.6, 12);
    expect(d.t!.lo).toBeCloseTo(0.6 - 0.496827, 5);
    expect(d.t!.hi).toBeCloseTo(0.6 + 0.496827, 5);
    // The bootstrap of three values stays within their range.
    expect(d.bootstrap!.lo).toBeGreaterThanOrEqual(0.4 - 1e-12);
    expect(d.bootstrap!.hi).toBeLessThanOrEqual(0.8 + 1e-12);
  });

  it("a constant shift gives a zero-width interval at the shift; no shared seed gives null", () => {
    const a = new Map([
      [1, 5],
      [2, 7],
      [3, 6],
    ]);
    const b = new Map([
      [1, 4],
      [2, 6],
      [3, 5],
    ]);
    const d = pairedDifference(a, b)!;
    expect(d.t).toMatchObject({ lo: 1, hi: 1 });
    expect(d.bootstrap).toMatchObject({ lo: 1, hi: 1 });
    expect(pairedDifference(a, new Map([[9, 1]]))).toBeNull();
  });

  it("pairing removes the seed effect that two independent intervals would include", () => {
    // Seeds shift both optimizers alike by a lot; A is better by exactly 1 ± 0.1.
    const random = mulberry32(3);
    const a = new Map<number, number>();
    const b = new Map<number, number>();
    for (let s = 1; s <= 8; s++) {
      const seedEffect = 10 * (random() - 0.5);
      b.set(s, 50 + seedEffect);
      a.set(s, 51 + seedEffect + 0.1 * (random() - 0.5));
    }
    const d = pairedDifference(a, b)!;
    expect(d.t!.lo).toBeGreaterThan(0.9);
    expect(d.t!.hi).toBeLessThan(1.1);
    const ia = tInterval([...a.values()])!;
    const ib = tInterval([...b.values()])!;
    expect(ia.lo).toBeLessThan(ib.hi); // the unpaired intervals overlap
  });
});
