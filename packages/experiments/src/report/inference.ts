/**
 * Statistics for a reviewer: 95 % confidence intervals of a mean over seeds (Student's t-interval and a
 * seeded percentile bootstrap) and of the mean difference between two optimizers paired by seed.
 *
 * Everything is deterministic: the bootstrap draws from a seeded generator, so a report regenerated from the
 * same run files shows the same intervals. No Node imports.
 *
 * @packageDocumentation
 */
import { mulberry32 } from "../train/random.js";

/** A confidence interval of a mean. */
export interface MeanInterval {
  /** The sample mean. */
  mean: number;
  /** Lower and upper end of the interval. */
  lo: number;
  hi: number;
  /** Number of values. */
  n: number;
}

/** Options of {@link bootstrapMeanInterval}. */
export interface BootstrapOptions {
  /** Number of resamples (default {@link DEFAULT_RESAMPLES}). */
  resamples?: number;
  /** Coverage of the interval (default 0.95). */
  level?: number;
  /** Seed of the resampling (default {@link DEFAULT_BOOTSTRAP_SEED}). */
  seed?: number;
}

/** Resamples of the reports' bootstrap intervals. */
export const DEFAULT_RESAMPLES = 10_000;

/** Seed of the reports' bootstrap intervals (any fixed number: it makes them reproducible). */
export const DEFAULT_BOOTSTRAP_SEED = 20_201_014;

/** ln Γ(x) for x > 0 (Lanczos approximation, g = 7, 9 terms; relative error below 1e-14). */
export function lnGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lnGamma(1 - x);
  const z = x - 1;
  let a = c[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** The continued fraction of the incomplete beta function (modified Lentz; Numerical Recipes' betacf). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 500; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return h;
}

/** The regularised incomplete beta function I_x(a, b), for a, b > 0 and 0 ≤ x ≤ 1. */
export function regularizedBeta(x: number, a: number, b: number): number {
  if (!(x >= 0 && x <= 1) || !(a > 0) || !(b > 0))
    throw new RangeError(`regularizedBeta: need 0 ≤ x ≤ 1 and a, b > 0, got x ${x}, a ${a}, b ${b}`);
  if (x === 0 || x === 1) return x;
  const front = Math.exp(lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log1p(-x));
  return x < (a + 1) / (a + b + 2)
    ? (front * betaContinuedFraction(a, b, x)) / a
    : 1 - (front * betaContinuedFraction(b, a, 1 - x)) / b;
}

/** P(T ≤ t) for Student's t distribution with `df` > 0 degrees of freedom. */
export function studentTCdf(t: number, df: number): number {
  if (!(df > 0)) throw new RangeError(`studentTCdf: df must be > 0, got ${df}`);
  if (Number.isNaN(t)) return Number.NaN;
  if (t === Infinity) return 1;
  if (t === -Infinity) return 0;
  const tail = 0.5 * regularizedBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/**
 * The `p` quantile of Student's t distribution with `df` > 0 degrees of freedom (0 < p < 1): exact for
 * df = 1 and 2, otherwise bisection on {@link studentTCdf} to about 1e-12.
 */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`studentTQuantile: p must be in (0, 1), got ${p}`);
  if (!(df > 0)) throw new RangeError(`studentTQuantile: df must be > 0, got ${df}`);
  if (p === 0.5) return 0;
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  if (df === 1) return Math.tan(Math.PI * (p - 0.5));
  if (df === 2) return (2 * p - 1) / Math.sqrt(2 * p * (1 - p));
  let lo = 0;
  let hi = 1;
  while (studentTCdf(hi, df) < p) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-13 * Math.max(1, hi); i++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

function checkLevel(level: number): void {
  if (!(level > 0 && level < 1)) throw new RangeError(`confidence level must be in (0, 1), got ${level}`);
}

function finite(values: readonly number[]): number[] {
  return values.filter((v) => Number.isFinite(v));
}

/**
 * Student's t-interval of the mean: mean ± t_{(1+level)/2, n−1} · s/√n. Non-finite values are left out;
 * `null` for fewer than two values (no spread to estimate). A constant sample gives a zero-width interval.
 */
export function tInterval(values: readonly number[], level = 0.95): MeanInterval | null {
  checkLevel(level);
  const x = finite(values);
  const n = x.length;
  if (n < 2) return null;
  const mean = x.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(x.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
  const half = studentTQuantile((1 + level) / 2, n - 1) * (sd / Math.sqrt(n));
  return { mean, lo: mean - half, hi: mean + half, n };
}

/** The `q` quantile of sorted values, linearly interpolated (R's type 7, numpy's default). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const h = (n - 1) * q;
  const i = Math.floor(h);
  const lo = sorted[i]!;
  return i + 1 < n ? lo + (h - i) * (sorted[i + 1]! - lo) : lo;
}

/**
 * The percentile bootstrap interval of the mean: the means of `resamples` resamples drawn with replacement
 * (seeded, so the interval is reproducible), and their (1 − level)/2 and (1 + level)/2 quantiles.
 * Non-finite values are left out; `null` for fewer than two values. A constant sample gives a zero-width
 * interval. With very few values (3 seeds have only 10 distinct resamples) the interval is too narrow: show
 * it next to the t-interval, not instead of it.
 */
export function bootstrapMeanInterval(
  values: readonly number[],
  options: BootstrapOptions = {},
): MeanInterval | null {
  const level = options.level ?? 0.95;
  checkLevel(level);
  const resamples = options.resamples ?? DEFAULT_RESAMPLES;
  if (!Number.isInteger(resamples) || resamples < 1)
    throw new RangeError(`bootstrap: resamples must be a positive integer, got ${resamples}`);
  const x = finite(values);
  const n = x.length;
  if (n < 2) return null;
  const mean = x.reduce((a, b) => a + b, 0) / n;
  const random = mulberry32(options.seed ?? DEFAULT_BOOTSTRAP_SEED);
  const means = new Float64Array(resamples);
  for (let b = 0; b < resamples; b++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += x[Math.floor(random() * n)]!;
    means[b] = sum / n;
  }
  means.sort();
  return {
    mean,
    lo: quantileSorted(means, (1 - level) / 2),
    hi: quantileSorted(means, (1 + level) / 2),
    n,
  };
}

/** The difference of two optimizers' results paired by seed (see {@link pairedDifference}). */
export interface PairedDifference {
  /** The seeds both have a finite value for, ascending. */
  seeds: number[];
  /** Per seed: a − b. */
  differences: number[];
  /** Mean of the differences. */
  mean: number;
  /** t-interval of the mean difference (`null` for fewer than two pairs). */
  t: MeanInterval | null;
  /** Percentile bootstrap interval of the mean difference (`null` for fewer than two pairs). */
  bootstrap: MeanInterval | null;
}

/**
 * The mean of `a − b` over the seeds both have a finite value for, with its t-interval (the paired
 * t-interval) and bootstrap interval. Pairing by seed removes what the seed does to both (same data order,
 * same initialisation), so the interval is narrower than that of two independent means when seeds matter.
 * `null` when no seed is shared.
 */
export function pairedDifference(
  a: ReadonlyMap<number, number>,
  b: ReadonlyMap<number, number>,
  level = 0.95,
  options: BootstrapOptions = {},
): PairedDifference | null {
  const seeds = [...a.keys()]
    .filter((s) => b.has(s) && Number.isFinite(a.get(s)!) && Number.isFinite(b.get(s)!))
    .sort((x, y) => x - y);
  if (seeds.length === 0) return null;
  const differences = seeds.map((s) => a.get(s)! - b.get(s)!);
  return {
    seeds,
    differences,
    mean: differences.reduce((x, y) => x + y, 0) / differences.length,
    t: tInterval(differences, level),
    bootstrap: bootstrapMeanInterval(differences, { ...options, level }),
  };
}
