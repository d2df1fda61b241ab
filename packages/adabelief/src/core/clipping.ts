import { GradientMismatchError } from "./errors.js";
import type { FloatArray } from "./types.js";
import { check } from "./validate.js";

/**
 * Gradient clipping as functions on the list of gradients. They never modify their input: each returns
 * new arrays of the same dtypes.
 *
 * @module
 */

function checkGrads(fn: string, grads: readonly FloatArray[]): void {
  if (!Array.isArray(grads)) throw new GradientMismatchError(`${fn}: grads must be an array of typed arrays`);
  grads.forEach((g, i) => {
    if (!(g instanceof Float32Array || g instanceof Float64Array)) {
      throw new GradientMismatchError(`${fn}: gradient ${i} must be a Float32Array or Float64Array`);
    }
  });
}

/** Below this sum of squares, squares of small values may have lost bits to underflow: the norm is rescaled. */
const SMALL_SUM = 2 ** -900;

/**
 * The global L2 norm `√(Σ_i Σ_j g_ij²)` over all gradients, correct for any finite values: NaN if some
 * element is NaN, else Infinity if some element is ±Infinity, else the norm (Infinity only when the norm
 * itself exceeds the largest double, about 1.8e308).
 *
 * The squares are accumulated in double precision. When their plain sum overflows (elements beyond about
 * 1e154) or is so small that squares may have underflowed (below 2^−900, 0 included), the norm is recomputed as
 * `a·√(Σ (g/a)²)` with `a` the largest |g|, the scaling of LAPACK's `dnrm2`: every term is then in [0, 1],
 * so nothing overflows or underflows. In the common range the result is exactly the plain `√(Σ g²)`.
 */
export function globalNorm(grads: readonly FloatArray[]): number {
  checkGrads("globalNorm", grads);
  let sum = 0;
  for (const g of grads) for (let j = 0; j < g.length; j++) sum += g[j]! * g[j]!;
  if (sum >= SMALL_SUM && sum !== Infinity) return Math.sqrt(sum);
  if (sum !== sum) return NaN; // a NaN element
  let maxAbs = 0;
  for (const g of grads) {
    for (let j = 0; j < g.length; j++) {
      const a = Math.abs(g[j]!);
      if (a > maxAbs) maxAbs = a;
    }
  }
  // All zeros, or an infinite element (a NaN element made the sum NaN, handled above).
  if (maxAbs === 0 || maxAbs === Infinity) return maxAbs;
  let scaled = 0;
  for (const g of grads) {
    for (let j = 0; j < g.length; j++) {
      const x = g[j]! / maxAbs;
      scaled += x * x;
    }
  }
  return maxAbs * Math.sqrt(scaled);
}

/** The factor {@link clipByGlobalNorm} multiplies by: `maxNorm / (norm + 1e-6)` when that is < 1, else 1. */
export function globalNormScale(norm: number, maxNorm: number): number {
  const coef = maxNorm / (norm + 1e-6);
  return coef < 1 ? coef : 1;
}

/**
 * Clipping by global norm, as PyTorch's `clip_grad_norm_` (the paper's LSTM runs use max norm 0.25):
 * with `n = ‖(g_1, …, g_k)‖₂` ({@link globalNorm}), every gradient is multiplied by `maxNorm / (n + 1e-6)`
 * when that factor is below 1, and left as it is otherwise. The direction of the full gradient is kept.
 *
 * The norm is computed with scaling, so huge finite gradients (whose squares overflow, e.g. 1e200) are
 * scaled down as they should be, and tiny ones are measured correctly.
 *
 * A non-finite norm (a NaN or ±Infinity in some gradient) leaves the gradients unscaled, so the
 * optimizer's `nonFinite` policy sees the offending values (PyTorch would turn every gradient into NaN).
 * So does a norm above the largest double (finite gradients only get there beyond about 1e308·√(1/size)).
 *
 * @returns new arrays (the input is not modified).
 */
export function clipByGlobalNorm(grads: readonly FloatArray[], maxNorm: number): FloatArray[] {
  check.positive("clipByGlobalNorm: maxNorm", maxNorm);
  const norm = globalNorm(grads);
  const scale = Number.isFinite(norm) ? globalNormScale(norm, maxNorm) : 1;
  return grads.map((g) => {
    const out = g.slice();
    if (scale !== 1) for (let j = 0; j < out.length; j++) out[j] = out[j]! * scale;
    return out;
  });
}

/**
 * Clipping by value, as PyTorch's `clip_grad_value_` and Keras's `clipvalue`: every element is clamped to
 * `[−limit, limit]`. NaN stays NaN.
 *
 * With AdaBelief this is risky: when a coordinate's gradient sits at the clamp for several steps, its
 * residual `g − m` shrinks to 0 and the step grows towards `α·limit / (√(ε/(1−β2)) + ε)`. Prefer
 * {@link clipByGlobalNorm}.
 *
 * @returns new arrays (the input is not modified).
 */
export function clipByValue(grads: readonly FloatArray[], limit: number): FloatArray[] {
  check.positive("clipByValue: limit", limit);
  checkGrads("clipByValue", grads);
  return grads.map((g) => {
    const out = g.slice();
    for (let j = 0; j < out.length; j++) {
      const v = out[j]!;
      if (v > limit) out[j] = limit;
      else if (v < -limit) out[j] = -limit;
    }
    return out;
  });
}
