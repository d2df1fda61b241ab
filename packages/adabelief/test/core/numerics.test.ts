import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AdaBelief, setWarningHandler } from "../../src/core/index.js";
import { fma, fma32, powInt } from "../../src/core/numerics.js";
import { fma as bigIntFma } from "../golden/random-diagnose.js";

/**
 * a·b + c rounded once, in exact BigInt arithmetic (the golden diagnosis' fma), with IEEE's rule for a finite
 * product plus an infinite c (that fma falls back to a·b + c when something is not finite, which is NaN when
 * the finite product overflows).
 */
function exactFma(a: number, b: number, c: number, float32 = false): number {
  if (Number.isFinite(a) && Number.isFinite(b) && !Number.isFinite(c)) return c;
  return bigIntFma(a, b, c, float32);
}

/*
 * An independent check that a double r is the correctly rounded value of β^t: the exact power is enclosed
 * in [lo, hi]·2^s by exponentiation by squaring on BigInts truncated to K bits (lower bound rounded down,
 * upper bound up), and the enclosure must lie strictly between the midpoints from r to its neighbours
 * (or, when it is exact and on a midpoint, r must have an even significand).
 */

const view = new DataView(new ArrayBuffer(8));

/** x = M·2^E exactly, M ≥ 0 an integer (x ≥ 0 finite). */
function dyadic(x: number): { M: bigint; E: number } {
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  const frac = bits & ((1n << 52n) - 1n);
  return biased === 0 ? { M: frac, E: -1074 } : { M: frac | (1n << 52n), E: biased - 1075 };
}

/** The next double above / below a finite x ≥ 0 (by its bit pattern). */
function neighbour(x: number, up: boolean): number {
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  view.setBigUint64(0, up ? bits + 1n : bits - 1n);
  return view.getFloat64(0);
}

/** Compares a·2^ea with b·2^eb (a, b ≥ 0): −1, 0 or 1. */
function compare(a: bigint, ea: number, b: bigint, eb: number): number {
  const e = Math.min(ea, eb);
  const x = a << BigInt(ea - e);
  const y = b << BigInt(eb - e);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** [lo, hi]·2^s enclosing b^t (b > 0 finite, t ≥ 1), with K-bit truncations. */
function enclose(b: number, t: number, K: number): { lo: bigint; hi: bigint; s: number } {
  const { M, E } = dyadic(b);
  const cut = (x: bigint, up: boolean, drop: number) => {
    if (drop <= 0) return x;
    const q = x >> BigInt(drop);
    return up && q << BigInt(drop) !== x ? q + 1n : q;
  };
  const len = (x: bigint) => x.toString(2).length;
  let r = { lo: 1n, hi: 1n, s: 0 };
  let p = { lo: M, hi: M, s: E };
  for (let k = t; ;) {
    if (k % 2 === 1) {
      const lo = r.lo * p.lo;
      const hi = r.hi * p.hi;
      const drop = Math.max(0, len(hi) - K);
      r = { lo: cut(lo, false, drop), hi: cut(hi, true, drop), s: r.s + p.s + drop };
    }
    k = Math.floor(k / 2);
    if (k === 0) break;
    const lo = p.lo * p.lo;
    const hi = p.hi * p.hi;
    const drop = Math.max(0, len(hi) - K);
    p = { lo: cut(lo, false, drop), hi: cut(hi, true, drop), s: 2 * p.s + drop };
  }
  return r;
}

/** Whether r is the correctly rounded b^t (b in (0, 1), t ≥ 1, r > 0 normal or subnormal, or 0). */
function isCorrectlyRounded(b: number, t: number, r: number): boolean {
  // b < 2^(e+1): when (e+1)·t ≤ −1076 the power is below 2^−1076, under half the smallest subnormal.
  const { M, E } = dyadic(b);
  const e = E + M.toString(2).length - 1;
  if ((e + 1) * t <= -1076) return Object.is(r, 0);
  for (const K of [256, 1024, 8192]) {
    const { lo, hi, s } = enclose(b, t, K);
    // Midpoints (r + r⁻)/2 and (r + r⁺)/2 as dyadics: (M_r·2^E_r + M_n·2^E_n)·2^−1.
    const mid = (n: number) => {
      const x = dyadic(r);
      const y = dyadic(n);
      const e = Math.min(x.E, y.E);
      return { m: (x.M << BigInt(x.E - e)) + (y.M << BigInt(y.E - e)), e: e - 1 };
    };
    const below = r === 0 ? { m: 0n, e: 0 } : mid(neighbour(r, false));
    const above = mid(neighbour(r, true));
    const loVsBelow = compare(lo, s, below.m, below.e);
    const hiVsAbove = compare(hi, s, above.m, above.e);
    if ((r === 0 ? loVsBelow >= 0 : loVsBelow > 0) && hiVsAbove < 0) return true;
    if (lo === hi) {
      // Exact power: a tie must have gone to the even significand.
      const even = (dyadic(r).M & 1n) === 0n;
      if (loVsBelow === 0 || hiVsAbove === 0) return even && loVsBelow >= 0 && hiVsAbove <= 0;
      return false;
    }
    // Entirely outside r's rounding interval: r is wrong. Otherwise it straddles a midpoint: narrow it.
    if (compare(hi, s, below.m, below.e) < 0 || compare(lo, s, above.m, above.e) > 0) return false;
  }
  throw new Error(`could not decide ${b}^${t}`);
}

describe("powInt: correctly rounded integer powers (β^t as CPython's glibc pow gives it)", () => {
  it("is correctly rounded for random β in (0, 1) and t up to 10^6 (checked against BigInt bounds)", () => {
    // fast-check's doubles favour extremes; uniform draws k/2^53 cover the middle of (0, 1).
    const beta = fc.oneof(
      fc.double({ min: Number.MIN_VALUE, max: 1, maxExcluded: true, noNaN: true }),
      fc.integer({ min: 1, max: 2 ** 53 - 1 }).map((k) => k / 2 ** 53),
    );
    // Most powers of a uniform β underflow long before 10^6: small t too.
    const step = fc.oneof(fc.integer({ min: 1, max: 1_000_000 }), fc.integer({ min: 1, max: 3000 }));
    fc.assert(
      fc.property(beta, step, (b, t) => {
        const r = powInt(b, t);
        expect(isCorrectlyRounded(b, t, r), `${b}^${t} → ${r}`).toBe(true);
        // The check has teeth: the next double is refused.
        expect(isCorrectlyRounded(b, t, neighbour(r, true)), `${b}^${t} → ${neighbour(r, true)}`).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });

  it("is correctly rounded for the βs optimizers use (near 1) and the step counts of training", () => {
    const nearOne = fc.integer({ min: 1, max: 2 ** 40 }).map((k) => 1 - k * 2 ** -53);
    const typical = fc.constantFrom(0.9, 0.99, 0.999, 0.9999, 0.5, 0.95, 0.98, 0.99757, 0.8, 0.3);
    fc.assert(
      fc.property(fc.oneof(nearOne, typical), fc.integer({ min: 1, max: 1_000_000 }), (b, t) => {
        expect(isCorrectlyRounded(b, t, powInt(b, t)), `${b}^${t} → ${powInt(b, t)}`).toBe(true);
      }),
      { numRuns: 400 },
    );
    for (const b of [0.9, 0.999, 0.99757]) {
      for (let t = 1; t <= 300; t++) expect(isCorrectlyRounded(b, t, powInt(b, t)), `${b}^${t}`).toBe(true);
    }
  });

  it("rounds exact ties to even, and results near and below the subnormal range", () => {
    // 3^34 has 54 bits: 0.75^34 lies exactly halfway between two doubles.
    for (let t = 30; t <= 40; t++)
      expect(isCorrectlyRounded(0.75, t, powInt(0.75, t)), `0.75^${t}`).toBe(true);
    for (const [b, t] of [
      [0.5, 1074],
      [0.5, 1075],
      [0.5, 1076],
      [0.9, 7000],
      [0.9, 7063],
      [0.75, 2590],
      [0.999, 745000],
      [0.999, 744440],
      [Number.MIN_VALUE, 1],
      [1e-200, 2],
    ] as [number, number][]) {
      expect(isCorrectlyRounded(b, t, powInt(b, t)), `${b}^${t} → ${powInt(b, t)}`).toBe(true);
    }
    expect(powInt(0.5, 1074)).toBe(Number.MIN_VALUE);
    expect(powInt(0.5, 1075)).toBe(0); // exactly half the smallest subnormal: ties to even (0)
  });

  it("equals CPython's `beta ** t` where V8's `**` is an ulp off", () => {
    // [β, t, CPython 3.11 / glibc 2.36 `β ** t`]: each one where V8's β ** t differs.
    const cpython: [number, number, number][] = [
      [0.9, 4, 0.6561],
      [0.9, 23, 0.08862938119652507],
      [0.9, 29, 0.047101286972462485],
      [0.999, 16, 0.9841194418156399],
      [0.999, 32, 0.9684910757595268],
      [0.999, 103, 0.902080484144017],
      [0.99, 6, 0.941480149401],
      [0.99, 12, 0.8863848717161292],
      [0.99, 19, 0.8261686238355866],
      [0.98, 4, 0.9223681599999999],
      [0.98, 10, 0.8170728068875467],
      [0.95, 20, 0.3584859224085419],
      [0.99757, 18, 0.9571518469653394],
      [0.99757, 33, 0.9228509064722924],
      [0.99757, 65, 0.8537283554805496],
    ];
    let v8Differs = 0;
    for (const [b, t, want] of cpython) {
      expect(powInt(b, t), `${b}^${t}`).toBe(want);
      expect(isCorrectlyRounded(b, t, want)).toBe(true);
      expect(isCorrectlyRounded(b, t, b ** t)).toBe(false);
      if (b ** t !== want) v8Differs++;
    }
    expect(v8Differs).toBe(cpython.length);
  });

  it("follows C's pow for special values and rejects a non-integer or negative exponent", () => {
    expect(powInt(NaN, 0)).toBe(1);
    expect(powInt(NaN, 3)).toBeNaN();
    expect(Object.is(powInt(-0, 3), -0)).toBe(true);
    expect(Object.is(powInt(-0, 2), 0)).toBe(true);
    expect(powInt(-Infinity, 3)).toBe(-Infinity);
    expect(powInt(Infinity, 2)).toBe(Infinity);
    expect(powInt(-0.5, 3)).toBe(-0.125);
    expect(powInt(-2, 1024)).toBe(Infinity);
    expect(powInt(-2, 1025)).toBe(-Infinity);
    expect(powInt(2, 1023)).toBe(2 ** 1023);
    expect(isCorrectlyRounded(1 + 2 ** -52, 2 ** 52, powInt(1 + 2 ** -52, 2 ** 52))).toBe(true); // ≈ e
    expect(powInt(1 - 2 ** -53, 2 ** 53 - 1)).toBe(0.36787944117144233); // e^−1, correctly rounded
    expect(() => powInt(0.9, 1.5)).toThrow(RangeError);
    expect(() => powInt(0.9, -1)).toThrow(/n must be an integer in \[0, 2\^53\)/);
  });
});

describe("the optimizers use the correctly rounded β^t", () => {
  it("official AdaBelief, rectified, float64: the reference's trajectory, not one an ulp of β2^t away", () => {
    setWarningHandler(() => {});
    // adabelief-pytorch 0.2.1 on float64: p = [0.01], lr 0.1106, betas (0.5, 0.99757), eps 0, weight_decay
    // 0.01 with weight_decouple=False (L2), rectify=True, 78 steps with zero gradient. The official code run
    // with torch 1.13 gives −0.029469434833354107. V8's `**` misses β2^t by an ulp at t = 18, 33, 36, 46, 49
    // and 65, which the rectification amplifies: with it the library gave −0.029469434832424812.
    const p = Float64Array.of(0.01);
    const opt = new AdaBelief([p], {
      learningRate: 0.1106,
      beta1: 0.5,
      beta2: 0.99757,
      epsilon: 0,
      weightDecay: 0.01,
      weightDecouple: false,
    });
    for (let t = 0; t < 78; t++) opt.step([Float64Array.of(0)]);
    expect(p[0]).toBe(-0.029469434833354107);
  });
});

/** A small deterministic generator (the cases must be the same on every run). */
function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

/** Random operand triples that exercise the rounding: cancellation, ties, short significands, extremes. */
function triples(n: number, float32: boolean, seed: number): [number, number, number][] {
  const rnd = lcg(seed);
  const r = float32 ? Math.fround : (x: number) => x;
  const sign = () => (rnd() < 0.5 ? -1 : 1);
  const span = float32 ? 140 : 1000;
  const value = (): number => {
    const k = rnd();
    if (k < 0.4) return r(sign() * (0.5 + rnd() / 2) * 2 ** Math.floor(rnd() * 60 - 30));
    if (k < 0.7) {
      // short or sparse significands: exact products and sums, ties
      const bits = float32 ? 23 : 52;
      let x = 1;
      for (let j = Math.floor(rnd() * 3); j >= 0; j--) x += sign() * 2 ** -Math.floor(1 + rnd() * bits);
      return r(sign() * x * 2 ** Math.floor(rnd() * 16 - 8));
    }
    if (k < 0.97) return r(sign() * rnd() * 2 ** Math.floor(rnd() * 2 * span - span));
    return r(
      [0, -0, 2 ** -1074, 2 ** -149, 2 ** -1022, 2 ** -126, 1.7976931348623157e308, 3.4028234663852886e38][
        Math.floor(rnd() * 8)
      ]! * sign(),
    );
  };
  const out: [number, number, number][] = [];
  for (let i = 0; i < n; i++) {
    const a = value();
    const b = value();
    const m = rnd();
    let c: number;
    if (m < 0.3)
      c = r(-(a * b) * (1 + (rnd() - 0.5) * 2 ** -(float32 ? 20 : 45))); // near cancellation
    else if (m < 0.4) c = r(-(a * b));
    else if (m < 0.6)
      c = r(a * b * sign() * 2 ** Math.floor(rnd() * 80 - 40)); // far apart: long sums
    else c = value();
    out.push([a, b, c]);
  }
  return out;
}

describe("fused multiply-add", () => {
  it("fma(a, b, c) is a·b + c rounded once, on 200,000 hard cases (checked in exact BigInt arithmetic)", () => {
    let differsFromTwoRoundings = 0;
    const off: string[] = [];
    for (const [a, b, c] of triples(200_000, false, 1)) {
      const got = fma(a, b, c);
      const want = exactFma(a, b, c);
      if (!Object.is(got, want)) off.push(`fma(${a}, ${b}, ${c}) = ${got}, exact ${want}`);
      if (!Object.is(want, a * b + c)) differsFromTwoRoundings++;
    }
    expect(off.slice(0, 5)).toEqual([]);
    expect(differsFromTwoRoundings).toBeGreaterThan(20_000); // the cases are ones where fusing matters
  });

  it("fma: the classic cases and IEEE 754's special values", () => {
    expect(fma(0.1, 10, -1)).toBe(5.551115123125783e-17); // 0.1·10 − 1 gives 0
    expect(fma(1 + 2 ** -52, 1 + 2 ** -52, -1)).toBe(2 ** -51 + 2 ** -104);
    expect(fma(2 ** 600, 2 ** 500, -Infinity)).toBe(-Infinity); // a·b + c gives NaN (∞ − ∞)
    expect(fma(2 ** 600, 2 ** 500, 1)).toBe(Infinity);
    expect(fma(2 ** 512, 2 ** 512, -1.7976931348623157e308)).toBe(2 ** 971); // 2^1024 − (2^1024 − 2^971)
    expect(fma(2 ** 600, 2 ** 424, -(2 ** 1023))).toBe(2 ** 1023); // the product overflows, the sum does not
    expect(fma(Infinity, 0, 1)).toBeNaN();
    expect(fma(NaN, 1, 1)).toBeNaN();
    expect(fma(1, 1, NaN)).toBeNaN();
    expect(Object.is(fma(-0, 1, -0), -0)).toBe(true);
    expect(Object.is(fma(1, 1, -1), 0)).toBe(true); // exact cancellation: +0
    expect(Object.is(fma(1e-200, -1e-200, 0), -0)).toBe(true); // the product rounds to −0 and keeps its sign
    expect(fma(2 ** -1074, 0.5, 2 ** -1074)).toBe(2 ** -1073); // a tie in the subnormal range, to even
    expect(fma(2 ** -1074, 0.5, 0)).toBe(0);
    expect(fma(2 ** -600, 2 ** -475, 2 ** -1074)).toBe(2 ** -1073); // 1.5·2^−1074: a tie, to even
    expect(fma(2 ** -600, 2 ** -500, 2 ** -1074)).toBe(2 ** -1074);
  });

  it("fma: when the exact result lies next to a tie of the two-step sum, it rounds by the exact value", () => {
    // a·b = 2^−53·(1 − 2^−88): the exact a·b + c lies just below the midpoint between c and its upper neighbour.
    // c = 1 + 2^−52 is odd, so rounding the midpoint to even (what a sum without the lowest bits does) is wrong.
    const [a, b, c] = [(1 + 2 ** -44) * 2 ** -53, 1 - 2 ** -44, 1 + 2 ** -52];
    expect(a * b + c).toBe(1 + 2 ** -51);
    expect(fma(a, b, c)).toBe(1 + 2 ** -52);
    expect(fma(-a, b, -c)).toBe(-(1 + 2 ** -52));
    // The same construction at random: c with a random significand, a·b = 2^−53·ulp-scale·(1 ∓ 2^−2k).
    const rnd = lcg(3);
    let naiveWrong = 0;
    const off: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      const k = 27 + Math.floor(rnd() * 24);
      const s = rnd() < 0.5 ? 1 : -1;
      const e = Math.floor(rnd() * 40) - 20;
      const cc = (1 + Math.floor(rnd() * 2 ** 52) * 2 ** -52) * 2 ** e * (rnd() < 0.5 ? 1 : -1);
      const aa = (1 + s * 2 ** -k) * 2 ** (e - 53) * (rnd() < 0.5 ? 1 : 3);
      const bb = (1 - s * 2 ** -k) * (rnd() < 0.5 ? 1 : -1);
      const want = exactFma(aa, bb, cc);
      if (!Object.is(fma(aa, bb, cc), want)) off.push(`fma(${aa}, ${bb}, ${cc})`);
      if (!Object.is(aa * bb + cc, want)) naiveWrong++;
    }
    expect(off.slice(0, 5)).toEqual([]);
    expect(naiveWrong).toBeGreaterThan(5_000);
  });

  it("fma32(a, b, c) is a·b + c rounded once to float32, on 200,000 hard cases (checked in exact BigInt arithmetic)", () => {
    const off: string[] = [];
    let doubleRoundingWrong = 0;
    for (const [a, b, c] of triples(200_000, true, 2)) {
      const got = fma32(a, b, c);
      const want = exactFma(a, b, c, true);
      if (!Object.is(got, want)) off.push(`fma32(${a}, ${b}, ${c}) = ${got}, exact ${want}`);
      if (!Object.is(want, Math.fround(a * b + c))) doubleRoundingWrong++;
    }
    expect(off.slice(0, 5)).toEqual([]);
    expect(doubleRoundingWrong).toBeGreaterThan(0); // cases where Math.fround(a * b + c) is wrong
  });

  it("fma32 rounds the exact sum, not the double one: the double sum can land on a float32 midpoint", () => {
    // c = 1 + 2^−23 (odd), a·b = 2^−24·(1 − 2^−46): the exact sum lies just below the midpoint 1 + 2^−23 + 2^−24
    // and rounds down, but its double rounding is the midpoint itself, which Math.fround rounds to even (up).
    const a = 1 + 2 ** -23;
    const b = (1 - 2 ** -23) * 2 ** -24;
    const c = 1 + 2 ** -23;
    expect(Math.fround(a * b + c)).toBe(1 + 2 ** -22);
    expect(fma32(a, b, c)).toBe(1 + 2 ** -23);
    expect(fma32(-a, b, -c)).toBe(-(1 + 2 ** -23));
    // and on the other side of the midpoint (exact sum just above it, double sum on it, even is below)
    expect(Math.fround(1 + 2 ** -24 + 2 ** -70)).toBe(1);
    expect(fma32(1 + 2 ** -23, (1 + 2 ** -23) * 2 ** -24, 1)).toBe(1 + 2 ** -23);
    // the overflow threshold 2^128 − 2^103 approached from below rounds to the largest float32, not ∞
    const max = 3.4028234663852886e38; // 2^128 − 2^104
    const [oa, ob] = [2 ** 103 * (1 + 2 ** -23), 1 - 2 ** -23]; // product 2^103 − 2^57: sum 2^57 below 2^128 − 2^103
    expect(Math.fround(oa * ob + max)).toBe(Infinity);
    expect(fma32(oa, ob, max)).toBe(max);
    expect(fma32(2 ** 64, 2 ** 64, max)).toBe(Infinity);
    expect(fma32(Infinity, 0, 1)).toBeNaN();
    expect(Object.is(fma32(-0, 1, -0), -0)).toBe(true);
  });
});
