import { Optimizer } from "../optimizer.js";
import type { CommonOptions, ResolvedCommon, UpdateRule } from "../rule.js";
import type { FloatArray } from "../types.js";
import { NON_FINITE_POLICIES, check, stripUndefined } from "../validate.js";

/**
 * Options of {@link Fromage}. The reference (`optimizers/Fromage.py` of the AdaBelief repository, from
 * jxbz/fromage) takes only a learning rate, and requires it.
 */
export interface FromageOptions extends CommonOptions {
  /**
   * Step size α: each step moves a tensor by α·‖θ‖ (relative to its size). Default `0.01`, the paper's
   * CIFAR-10 setting (the reference has no default: `lr` is required there). May be a schedule.
   */
  learningRate?: CommonOptions["learningRate"];
}

/** {@link FromageOptions} with defaults applied. */
export type ResolvedFromageOptions = ResolvedCommon;

/** The scalars of one Fromage step, computed in double precision as the reference code does. */
export interface FromageCoefficients {
  /** α. */
  lr: number;
  /** √(1 + α²): every tensor is divided by it after the step. */
  shrink: number;
}

const KNOWN = ["learningRate", "nonFinite"] as const;

/** The defaults of {@link Fromage}: α = 0.01 (the paper's CIFAR-10 setting; the reference requires lr). */
export const FROMAGE_DEFAULTS: Readonly<{ learningRate: number; nonFinite: "throw" }> = Object.freeze({
  learningRate: 1e-2,
  nonFinite: "throw",
});

/** Euclidean norm of a whole tensor, accumulated in double precision. */
function norm(a: FloatArray): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * a[i]!;
  return Math.sqrt(sum);
}

/** The Fromage update rule (reference code of the AdaBelief paper). See {@link Fromage} for the math. */
export const fromageRule: UpdateRule<FromageOptions, ResolvedFromageOptions, FromageCoefficients> = {
  name: "Fromage",

  resolve(options) {
    check.knownKeys("Fromage", options, KNOWN);
    const o = { ...FROMAGE_DEFAULTS, ...stripUndefined(options) };
    return {
      learningRate: check.learningRate("learningRate", o.learningRate),
      nonFinite: check.oneOf("nonFinite", o.nonFinite, NON_FINITE_POLICIES),
    };
  },

  slots() {
    return [];
  },

  initialValue() {
    return 0;
  },

  coefficients(_t, lr) {
    return { lr, shrink: Math.sqrt(1 + lr * lr) };
  },

  update(theta, grad, _slots, c) {
    const { lr } = c;
    // The reference rounds the double √(1 + α²) to the dtype before dividing. The division repeats every step,
    // so for float32 the rounding would otherwise accumulate into a systematic drift.
    const shrink = theta instanceof Float32Array ? Math.fround(c.shrink) : c.shrink;
    const nTheta = norm(theta);
    const nGrad = norm(grad);
    // Written as the reference's `p_norm > 0 and d_p_norm > 0`, so NaN norms take the plain branch.
    if (nTheta > 0 && nGrad > 0) {
      const ratio = nTheta / nGrad;
      for (let i = 0; i < theta.length; i++) theta[i] = (theta[i]! - lr * (grad[i]! * ratio)) / shrink;
    } else {
      for (let i = 0; i < theta.length; i++) theta[i] = (theta[i]! - lr * grad[i]!) / shrink;
    }
  },
};

/**
 * Fromage, "Frobenius matched gradient descent" (Bernstein et al., NeurIPS 2020), exactly as the reference
 * code the AdaBelief paper ran computes it (`optimizers/Fromage.py` of the AdaBelief repository, from
 * jxbz/fromage).
 *
 * Per parameter **tensor** (each array passed to the constructor is one tensor; norms are over all of its
 * elements), at step t with gradient g:
 * ```
 * θ ← θ − α·(‖θ‖/‖g‖)·g        (when ‖θ‖ > 0 and ‖g‖ > 0; otherwise θ ← θ − α·g)
 * θ ← θ / √(1 + α²)
 * ```
 *
 * There is no state, momentum or weight decay. Each step moves a tensor by α·‖θ‖ along −g/‖g‖: the step is
 * relative to the tensor's size and ignores the gradient's scale. The division by √(1 + α²) then shrinks the
 * whole tensor, so coordinates with zero gradient still decay geometrically, and steps shrink as θ shrinks.
 * A tensor that is exactly 0 can only move by the plain −α·g fallback.
 *
 * Default α = 0.01 (the paper's CIFAR-10 setting). Deviation: the reference has no default and requires lr.
 * Norms are accumulated in double precision (the reference computes them in the dtype; the difference is
 * within float32 rounding).
 *
 * @example
 * ```ts
 * const w = new Float32Array([3, 4]);
 * const opt = new Fromage([w], { learningRate: 0.01 });
 * opt.step([new Float32Array([1, 0])]); // w moves by 0.01·‖w‖ = 0.05 along −x, then shrinks by 1/√1.0001
 * ```
 */
export class Fromage extends Optimizer<ResolvedFromageOptions, FromageCoefficients> {
  constructor(params: readonly FloatArray[], options: FromageOptions = {}) {
    super(params, fromageRule, options);
  }
}
