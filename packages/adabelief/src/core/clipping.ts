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

/** The global L2 norm `√(Σ_i Σ_j g_ij²)` over all gradients, accumulated in double precision. */
export function globalNorm(grads: readonly FloatArray[]): number {
  checkGrads("globalNorm", grads);
  let sum = 0;
  for (const g of grads) for (let j = 0; j < g.length; j++) sum += g[j]! * g[j]!;
  return Math.sqrt(sum);
}

/** The factor {@link clipByGlobalNorm} multiplies by: `maxNorm / (norm + 1e-6)` when that is < 1, else 1. */
export function globalNormScale(norm: number, maxNorm: number): number {
  const coef = maxNorm / (norm + 1e-6);
  return coef < 1 ? coef : 1;
}

/**
 * Clipping by global norm, as PyTorch's `clip_grad_norm_` (the paper's LSTM runs use max norm 0.25):
 * with `n = ‖(g_1, …, g_k)‖₂`, every gradient is multiplied by `maxNorm / (n + 1e-6)` when that factor is
 * below 1, and left as it is otherwise. The direction of the full gradient is kept.
 *
 * A non-finite norm (a NaN or ±Infinity in some gradient) leaves the gradients unscaled, so the
 * optimizer's `nonFinite` policy sees the offending values (PyTorch would turn every gradient into NaN).
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
