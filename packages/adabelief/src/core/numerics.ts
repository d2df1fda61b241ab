/**
 * Exact arithmetic the reference code relies on without saying so: correctly rounded integer powers, for the
 * scalars the reference computes as `beta ** step` in Python floats, and fused multiply-adds (a·b + c rounded
 * once), which torch's CPU kernels use for `add_(x, alpha=…)`, `addcmul_` and the sums of squares of `norm()`.
 *
 * @module
 */

const view = new DataView(new ArrayBuffer(8));

/** 2^k exactly, for an integer k in [−1022, 1023] (built from its bits, not by `**`). */
function pow2(k: number): number {
  view.setUint32(0, (k + 1023) << 20);
  view.setUint32(4, 0);
  return view.getFloat64(0);
}

/** x·2^k, exact whenever the result is representable (also when it is subnormal), for an integer k. */
function scale2(x: number, k: number): number {
  while (k > 1023) {
    x *= pow2(1023);
    k -= 1023;
  }
  while (k < -1022) {
    x *= pow2(-1022);
    k += 1022;
  }
  return x * pow2(k);
}

/** ⌊log2 a⌋ for a finite a > 0 (subnormals included). */
function exponentOf(a: number): number {
  if (a < pow2(-1022)) return exponentOf(a * pow2(64)) - 64;
  view.setFloat64(0, a);
  return ((view.getUint32(0) >>> 20) & 0x7ff) - 1023;
}

/** Splits a double for Dekker's exact product: 2^27 + 1. */
const SPLITTER = 134217729;

/**
 * The power by squaring in double-double arithmetic, with the binary exponent kept apart so that no
 * intermediate overflows or underflows: `a^n ≈ (h + l)·2^e` with h in [1, 2), |l| ≤ ulp(h)/2 and h = RN(h + l).
 * The intermediate high parts are kept in [0.75, 1.5), so each exponent stays close to log2 of the power it
 * belongs to (for a base near 1, near 0), far from the 2^53 limit of exact integers.
 *
 * Error: each double-double product (Dekker's exact product of the high parts, the cross terms added in
 * double, the l·l' term dropped) has a relative error below 2^−103. An error made in the i-th squaring is
 * raised to the power ⌊n/2^i⌋ by the squarings and products that follow, so the errors add up to at most
 * (n + 64)·2^−103 relative (the input is exact; see {@link ddError}).
 */
function ddPow(a: number, n: number): { h: number; l: number; e: number } {
  let e0 = exponentOf(a);
  if (scale2(a, -e0) >= 1.5) e0 += 1;
  let bh = scale2(a, -e0); // in [0.75, 1.5), exact
  let bl = 0;
  let be = e0;
  let rh = 1;
  let rl = 0;
  let re = 0;
  let k = n;
  for (;;) {
    if (k % 2 === 1) {
      // r ← r·b
      const p = rh * bh;
      const ca = SPLITTER * rh;
      const ah = ca - (ca - rh);
      const al = rh - ah;
      const cb = SPLITTER * bh;
      const bhh = cb - (cb - bh);
      const blo = bh - bhh;
      const err = ah * bhh - p + ah * blo + al * bhh + al * blo + (rh * bl + rl * bh);
      rh = p + err;
      rl = err - (rh - p);
      re += be;
      if (rh >= 1.5) {
        rh /= 2;
        rl /= 2;
        re += 1;
      } else if (rh < 0.75) {
        rh *= 2;
        rl *= 2;
        re -= 1;
      }
    }
    k = Math.floor(k / 2);
    if (k === 0) break;
    // b ← b²
    const p = bh * bh;
    const c = SPLITTER * bh;
    const hh = c - (c - bh);
    const lo = bh - hh;
    const err = hh * hh - p + 2 * hh * lo + lo * lo + 2 * bh * bl;
    bh = p + err;
    bl = err - (bh - p);
    be *= 2;
    if (bh >= 1.5) {
      bh /= 2;
      bl /= 2;
      be += 1;
    } else if (bh < 0.75) {
      bh *= 2;
      bl *= 2;
      be -= 1;
    }
  }
  if (rh < 1) {
    rh *= 2;
    rl *= 2;
    re -= 1;
  }
  return { h: rh, l: rl, e: re };
}

/** M·2^q = a exactly with M an integer, for a finite a > 0. */
function toDyadic(a: number): { M: bigint; q: number } {
  const e = exponentOf(a);
  // a·2^(52 − e) is an integer below 2^53 for a normal a; a subnormal a is a multiple of 2^−1074.
  const q = Math.max(e - 52, -1074);
  return { M: BigInt(scale2(a, -q)), q };
}

const bitLength = (x: bigint): number => x.toString(2).length;

/** m·2^q rounded to the nearest double, ties to even (m > 0). */
function roundDyadic(m: bigint, q: number): number {
  const b = bitLength(m);
  const lead = q + b - 1; // m·2^q is in [2^lead, 2^(lead+1))
  if (lead > 1023) return Infinity;
  const keep = lead >= -1022 ? 53 : lead + 1075; // significant bits available (fewer for subnormals)
  if (keep < 0) return 0;
  const drop = b - keep;
  if (drop <= 0) return scale2(Number(m), q);
  const D = BigInt(drop);
  let top = m >> D;
  const rest = m - (top << D);
  const half = 1n << (D - 1n);
  if (rest > half || (rest === half && (top & 1n) === 1n)) top += 1n;
  return scale2(Number(top), q + drop);
}

/**
 * a^n correctly rounded from rigorous bounds in exact integer arithmetic: the power by squaring on K-bit
 * truncations (lower bounds rounded down, upper bounds up); K doubles until both bounds round to the same
 * double, which happens at the latest when the truncations stop (the bounds are then the exact power).
 */
function bigPow(a: number, n: number): number {
  const { M, q } = toDyadic(a);
  for (let K = 160; ; K *= 2) {
    // lo·2^shift ≤ (the power so far) ≤ hi·2^shift, and the same for the base b = a^(2^j). The exponents
    // follow the values (about log2 of each power, minus K), so they stay small integers.
    let lo = 1n;
    let hi = 1n;
    let shift = 0;
    let blo = M;
    let bhi = M;
    let bshift = q;
    const trim = (x: bigint, up: boolean): [bigint, number] => {
      const d = bitLength(x) - K;
      if (d <= 0) return [x, 0];
      const D = BigInt(d);
      const t = x >> D;
      return [up && t << D !== x ? t + 1n : t, d];
    };
    let k = n;
    for (;;) {
      if (k % 2 === 1) {
        const [l, dl] = trim(lo * blo, false);
        const [h, dh] = trim(hi * bhi, true);
        // Bring both to the larger shift (dropping more bits keeps each bound on its side).
        const d = Math.max(dl, dh);
        lo = l >> BigInt(d - dl);
        hi = dh < d ? (h + (1n << BigInt(d - dh)) - 1n) >> BigInt(d - dh) : h;
        shift += bshift + d;
      }
      k = Math.floor(k / 2);
      if (k === 0) break;
      const [l, dl] = trim(blo * blo, false);
      const [h, dh] = trim(bhi * bhi, true);
      const d = Math.max(dl, dh);
      blo = l >> BigInt(d - dl);
      bhi = dh < d ? (h + (1n << BigInt(d - dh)) - 1n) >> BigInt(d - dh) : h;
      bshift = 2 * bshift + d;
    }
    const down = roundDyadic(lo, shift);
    if (down === roundDyadic(hi, shift)) return down;
  }
}

/** A bound on the relative error of {@link ddPow}'s `h + l` for exponent n, with a factor 2 of margin. */
function ddError(n: number): number {
  return (n + 64) * 2 ** -102;
}

/**
 * `x^n` for a double `x` and an integer `n ≥ 0`, **correctly rounded**: the double nearest to the exact
 * power, ties to even — what C's `pow` gives when it is correctly rounded, as glibc's is in practice (its
 * error bound is 0.52 ulp), and so what CPython's `beta ** step` gives. V8's `x ** n` (`Math.pow`) is off by
 * an ulp for a few per cent of (β, t) pairs; the rectified steps of RAdam and AdaBelief amplify such a
 * difference.
 *
 * Method: exponentiation by squaring in double-double arithmetic with the binary exponent kept apart (so
 * nothing overflows or underflows on the way), then a rounding test (Ziv's): when the double-double result is
 * closer than its error bound (about n·2^−102 relative) to a rounding boundary — for n ≤ 10^6 about one call
 * in 2^30, or an exact tie such as 0.75^34 — or when the result is subnormal or next to the overflow
 * threshold, the power is recomputed from rigorous bounds in BigInt arithmetic. So the result is correctly
 * rounded for every input, not only in practice.
 *
 * Special values follow C's `pow` with an integer exponent: `x^0 = 1` (NaN included), NaN propagates,
 * (±0)^n = ±0 (the sign for odd n), (±∞)^n = ±∞ (likewise), and a negative base takes the sign of (−1)^n.
 *
 * @internal
 * @param x - the base, any double.
 * @param n - the exponent: an integer in [0, 2^53).
 * @throws RangeError - `n` is not such an integer.
 */
export function powInt(x: number, n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(`powInt: n must be an integer in [0, 2^53), got ${String(n)}`);
  }
  if (n === 0) return 1;
  if (x !== x) return NaN;
  const negative = x < 0 || Object.is(x, -0);
  const sign = negative && n % 2 === 1 ? -1 : 1;
  const a = Math.abs(x);
  if (a === 0 || a === Infinity || a === 1 || n === 1) return sign * a;
  // Far out of range (log2 of the result beyond ±2000, with room for the error of this estimate): 0 or ∞.
  const log2 = n * Math.log2(a);
  if (log2 < -2000) return sign * 0;
  if (log2 > 2000) return sign * Infinity;
  const { h, l, e } = ddPow(a, n);
  const err = ddError(n);
  // (h + l)·2^e is in [2^e, 2^(e+1)); the exact power is within a factor 1 ± err (< 1 ± 1/2) of it.
  if (e > 1024) return sign * Infinity; // at least 2^1024·(1 − err): beyond the largest double's rounding range
  if (e < -1076) return sign * 0; // below 2^−1075·(1 + err)/2: less than half the smallest subnormal
  if (e >= -1022 && e <= 1023) {
    // h = RN(h + l). It is RN of the exact power unless that is within the error bound (≤ 2·err absolute,
    // as h + l < 2) of a rounding boundary: ulp(h)/2 away from h, or ulp/4 below h = 1 (the spacing halves
    // below a power of two). A boundary cannot be crossed otherwise, as |l| ≤ ulp(h)/2.
    const half = h === 1 && l < 0 ? 2 ** -54 : 2 ** -53;
    if (Math.abs(Math.abs(l) - half) > 2 * err) return sign * scale2(h, e);
  }
  return sign * bigPow(a, n);
}

/** 2^−900 and 2^995, 2^1000: the range in which {@link fma}'s error-free transformations are exact. */
const FMA_TINY = 2 ** -900;
const FMA_SPLIT_MAX = 2 ** 995;
const FMA_HUGE = 2 ** 1000;

/** a·b + c exactly in BigInt arithmetic, rounded once (finite a, b, c; a·b ≠ 0; c ≠ 0). */
function fmaExact(a: number, b: number, c: number): number {
  const x = toDyadic(Math.abs(a));
  const y = toDyadic(Math.abs(b));
  const z = toDyadic(Math.abs(c));
  let P = x.M * y.M;
  if (a < 0 !== b < 0) P = -P;
  const Z = c < 0 ? -z.M : z.M;
  const pq = x.q + y.q;
  const q = Math.min(pq, z.q);
  const S = (P << BigInt(pq - q)) + (Z << BigInt(z.q - q));
  if (S === 0n) return 0; // exact cancellation: +0 when rounding to nearest
  return S < 0n ? -roundDyadic(-S, q) : roundDyadic(S, q);
}

/**
 * `a·b + c` rounded **once** to the nearest double, ties to even: IEEE 754's fusedMultiplyAdd, which C's
 * `fma` and the FMA instructions compute, and which JavaScript lacks (`a * b + c` rounds twice). torch's CPU
 * kernels compute `x.add_(y, alpha=α)` as `fma(α, y, x)` and `addcmul_` and the sums of squares of `norm()`
 * likewise, so reproducing their float64 results bit for bit needs it.
 *
 * Method: error-free transformations. With the exact product a·b = p + u_l (Veltkamp's splitting and Dekker's
 * product) and the exact sum c + p = t_h + t_l (Knuth's TwoSum), a·b + c = t_h + t_l + u_l exactly. Then
 * ```
 * v = RN(t_l + u_l),  e = t_l + u_l − v    (exact, TwoSum)
 * z = RN(t_h + v),    z_l = t_h + v − z     (exact, TwoSum)
 * ```
 * z is the correctly rounded result unless e ≠ 0 and t_h + v is exactly halfway between z and its neighbour
 * z + 2·z_l. |e| is at most half an ulp of v, far below the spacing of the halfway points around z (when
 * e ≠ 0 the sum c + p was inexact, so |t_l| and |u_l| are at most about 2 ulps of t_h), so e can only decide a
 * tie, which it then breaks towards its own side instead of to even. A tie is recognised exactly:
 * z + 2·z_l − z = 2·z_l holds only when z + 2·z_l is a double. About 30 flops; checked against exact BigInt
 * arithmetic on millions of operands chosen to make the roundings hard (cancellations, ties, sparse
 * significands). The transformations are exact when nothing overflows or underflows: this path is used for
 * 2^−900 ≤ |a·b| ≤ 2^1000, |a|, |b| ≤ 2^995, |c| ≤ 2^1000; otherwise the exact sum is computed in BigInt
 * arithmetic (subnormal and overflowing results included). Special values are IEEE's: NaN when an operand
 * is NaN or for ∞·0 and ∞ − ∞, an exact zero sum is +0 (−0 only for (−0) + (−0)), a nonzero product rounded
 * to 0 keeps its sign.
 *
 * @internal
 */
export function fma(a: number, b: number, c: number): number {
  const p = a * b;
  const ap = Math.abs(p);
  if (
    ap >= FMA_TINY &&
    ap <= FMA_HUGE &&
    Math.abs(c) <= FMA_HUGE &&
    Math.abs(a) <= FMA_SPLIT_MAX &&
    Math.abs(b) <= FMA_SPLIT_MAX
  ) {
    // a·b = p + ul exactly (Dekker).
    const ca = SPLITTER * a;
    const ah = ca - (ca - a);
    const al = a - ah;
    const cb = SPLITTER * b;
    const bh = cb - (cb - b);
    const bl = b - bh;
    const ul = ah * bh - p + ah * bl + al * bh + al * bl;
    // c + p = th + tl exactly (TwoSum).
    const th = c + p;
    const bv = th - c;
    const tl = c - (th - bv) + (p - bv);
    // tl + ul = v + e exactly.
    const v = tl + ul;
    const bw = v - tl;
    const e = tl - (v - bw) + (ul - bw);
    const z = th + v;
    if (e === 0) return z;
    // th + v = z + zl exactly; a tie when z + 2·zl is the neighbouring double.
    const bz = z - th;
    const zl = th - (z - bz) + (v - bz);
    const h = 2 * zl;
    if (zl === 0 || z + h - z !== h) return z;
    return e > 0 === zl > 0 ? z + h : z;
  }
  if (!Number.isFinite(a) || !Number.isFinite(b)) return p + c; // ±∞ or NaN product: as the fused operation
  if (!Number.isFinite(c)) return c; // finite product plus ±∞ or NaN
  if (a === 0 || b === 0) return p + c; // exact zero product: the sum of signed zeros (or c)
  if (c === 0) return p; // RN(a·b), its sign kept when it rounds to 0
  return fmaExact(a, b, c);
}

/** The largest float32, 2^128 − 2^104, and the threshold from which float32 rounding overflows, 2^128 − 2^103. */
const F32_MAX = 3.4028234663852886e38;
const F32_OVERFLOW = 3.4028235677973366e38;

/**
 * `a·b + c` rounded **once** to the nearest float32, ties to even, for float32 values a, b, c: torch's fused
 * multiply-add on float32 tensors.
 *
 * The product of two float32 values is exact in double; `Math.fround(a * b + c)` would still round twice (the
 * sum to double, then to float32), which is wrong when the double sum lands exactly halfway between two
 * float32 values while the exact sum does not. This function detects that case and rounds to the side of the
 * exact value (given by the error of the double sum, from TwoSum); everything else is `Math.fround(a * b + c)`.
 * Checked against exact BigInt arithmetic, including constructed double-rounding cases.
 *
 * @internal
 */
export function fma32(a: number, b: number, c: number): number {
  const p = a * b; // exact: 24-bit significands, exponents far inside double's range
  const s = p + c;
  const r = Math.fround(s);
  // Fast exit: a double halfway between two float32 values (and the overflow threshold) has at most 25
  // significant bits; Veltkamp's split t − (t − s), t = (2^28 + 1)·s, rounds s to 25 bits. Any s it leaves
  // unchanged (or NaN/±∞, which fail the test) goes to the exact check below.
  const t = s * 268435457;
  if (t - (t - s) !== s || r === s) return r;
  return fma32Near(p, c, s, r);
}

/** {@link fma32} when the double sum s = p + c may lie halfway between two float32 values. */
function fma32Near(p: number, c: number, s: number, r: number): number {
  // s is halfway between r and the float32 n on its other side iff r + 2(s − r) (exact) is a float32 ≠ r.
  const n = r + 2 * (s - r);
  if (n !== r && Math.fround(n) === n) {
    const bv = s - p;
    const e = p - (s - bv) + (c - bv); // s + e = a·b + c exactly
    if (e === 0) return r; // a true tie: to even, as fround did
    return e > 0 ? Math.max(r, n) : Math.min(r, n);
  }
  if (s === F32_OVERFLOW || s === -F32_OVERFLOW) {
    // Exactly on the overflow threshold (a tie that fround rounds away): the exact sum may lie inside.
    const bv = s - p;
    const e = p - (s - bv) + (c - bv);
    if (e !== 0 && e > 0 !== s > 0) return Math.sign(s) * F32_MAX;
  }
  return r; // also NaN and ±∞ (n is NaN then)
}
