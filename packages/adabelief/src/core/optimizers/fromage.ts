import type { GroupOptions, ParamGroup } from "../groups.js";
import { fma, fma32 } from "../numerics.js";
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

/**
 * The scalars of one Fromage step, computed in double precision as the reference code does (the update rounds
 * them to float32 for float32 tensors, as torch does where a Python float meets a float32 tensor).
 */
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

const f = Math.fround;

/**
 * ‖a‖ of a float32 tensor exactly as torch 1.13's CPU `norm()` computes it with its AVX2 kernels (those of the
 * build the reference values were recorded with; another CPU capability may sum in another order): the sum of
 * squares is accumulated **in float32**, in this order:
 * ```
 * acc_j ← fma(x, x, acc_j)   for x = a[8k + j], over the whole blocks of 8 (8 accumulators, one per lane)
 * s ← acc_0 + acc_1 + … + acc_7                  (left to right, each sum rounded)
 * s ← s + x·x   for the next 4 elements if at least 4 remain   (square and sum each rounded)
 * s ← fma(x, x, s)   for the rest                (at most 3)
 * ‖a‖ = √s                                        (rounded to float32)
 * ```
 * fma rounds once ({@link fma32}). The order is the same for every length and shape (a contiguous tensor is
 * reduced as one row). Checked against torch on 2,136 random vectors of 1–300,007 elements, 1-D and 2-D,
 * normal, tiny (1e-25…1e-18), huge (1e17…1e21) and mixed magnitudes: identical in every case (the test
 * fixture of scripts/torch-norms.py keeps 110 of them).
 *
 * Because the squares are float32, the norm loses bits when the squares are subnormal (|x| below about
 * 1.1e-19), is 0 when every |x| is below about 2.6e-23 (x² rounds to 0), and is +∞ as soon as a square or the
 * sum exceeds 3.4e38 (|x| above about 1.8e19), where the exact norm is finite and nonzero. Fromage's branches
 * depend on that.
 *
 * @internal
 */
export function torchNormFloat32(a: FloatArray): number {
  const n = a.length;
  let d = 0;
  let sum = 0;
  if (n >= 8) {
    let a0 = 0;
    let a1 = 0;
    let a2 = 0;
    let a3 = 0;
    let a4 = 0;
    let a5 = 0;
    let a6 = 0;
    let a7 = 0;
    for (; d + 8 <= n; d += 8) {
      a0 = fma32(a[d]!, a[d]!, a0);
      a1 = fma32(a[d + 1]!, a[d + 1]!, a1);
      a2 = fma32(a[d + 2]!, a[d + 2]!, a2);
      a3 = fma32(a[d + 3]!, a[d + 3]!, a3);
      a4 = fma32(a[d + 4]!, a[d + 4]!, a4);
      a5 = fma32(a[d + 5]!, a[d + 5]!, a5);
      a6 = fma32(a[d + 6]!, a[d + 6]!, a6);
      a7 = fma32(a[d + 7]!, a[d + 7]!, a7);
    }
    sum = f(f(f(f(f(f(f(a0 + a1) + a2) + a3) + a4) + a5) + a6) + a7);
  }
  if (n - d >= 4) {
    for (const end = d + 4; d < end; d++) sum = f(sum + f(a[d]! * a[d]!));
  }
  for (; d < n; d++) sum = fma32(a[d]!, a[d]!, sum);
  return f(Math.sqrt(sum));
}

/**
 * ‖a‖ of a float64 tensor exactly as torch 1.13's CPU `norm()` computes it: a sequential sum of squares with
 * fused multiply-adds, `s ← fma(x, x, s)` ({@link fma}, one rounding each), then √s. Checked against torch on
 * the same kinds of vectors as {@link torchNormFloat32} (2,136): identical in every case (a plain `s += x*x`
 * differs in the last bit for 12 % of them).
 *
 * @internal
 */
export function torchNormFloat64(a: FloatArray): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum = fma(a[i]!, a[i]!, sum);
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
    // The reference, per tensor p with gradient g (all tensor ops in p's dtype):
    //   n_g = g.norm(); n_p = p.norm()
    //   if n_p > 0 and n_g > 0: p.add_(-lr, g * (n_p / n_g))   else: p.add_(-lr, g)
    //   p /= math.sqrt(1 + lr**2)
    // torch computes `p.add_(-lr, x)` as fma(x, −lr, p) (one rounding) and rounds the Python scalars −lr and
    // √(1 + lr²) to the dtype first. The comparison is written as the reference's, so NaN norms take the
    // plain branch; ∞ norms take the scaled one (ratio 0 or ∞), as they do there.
    if (theta instanceof Float32Array) {
      const negLr = f(-c.lr);
      const shrink = f(c.shrink);
      const nTheta = torchNormFloat32(theta);
      const nGrad = torchNormFloat32(grad);
      if (nTheta > 0 && nGrad > 0) {
        const ratio = f(nTheta / nGrad);
        for (let i = 0; i < theta.length; i++)
          theta[i] = fma32(f(grad[i]! * ratio), negLr, theta[i]!) / shrink;
      } else {
        for (let i = 0; i < theta.length; i++) theta[i] = fma32(grad[i]!, negLr, theta[i]!) / shrink;
      }
      return;
    }
    const negLr = -c.lr;
    const { shrink } = c;
    const nTheta = torchNormFloat64(theta);
    const nGrad = torchNormFloat64(grad);
    if (nTheta > 0 && nGrad > 0) {
      const ratio = nTheta / nGrad;
      for (let i = 0; i < theta.length; i++) theta[i] = fma(grad[i]! * ratio, negLr, theta[i]!) / shrink;
    } else {
      for (let i = 0; i < theta.length; i++) theta[i] = fma(grad[i]!, negLr, theta[i]!) / shrink;
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
 *
 * Arithmetic: every operation is the reference's, in its order and in the tensor's dtype, as torch 1.13's CPU
 * kernels compute it: the norms in torch's summation order with fused multiply-adds (see
 * {@link torchNormFloat32} and {@link torchNormFloat64}), `θ − α·x` as one fused multiply-add, α and
 * √(1 + α²) rounded to float32 for float32 tensors. This matters most for **float32**, where torch sums the
 * squares in float32. When every |g| of a tensor is below about 1.1e-19 the squares are subnormal and ‖g‖
 * loses precision (so does the ratio ‖θ‖/‖g‖); below about 2.6e-23 they are 0, ‖g‖ = 0, and the reference
 * takes the plain branch θ − α·g, a step of α·|g| instead of α·‖θ‖. When any |g| exceeds about 1.8e19 the
 * square overflows, ‖g‖ = +∞, the ratio is 0 and θ only shrinks. Likewise a θ beyond 1.8e19 makes ‖θ‖ = +∞
 * and the ratio ∞ (θ becomes ±∞, or NaN where g = 0). These are the reference's results and this class
 * returns them; a norm accumulated in double would step normally there. For float64 the fused order changes
 * only last bits.
 *
 * @example
 * ```ts
 * const w = new Float32Array([3, 4]);
 * const opt = new Fromage([w], { learningRate: 0.01 });
 * opt.step([new Float32Array([1, 0])]); // w moves by 0.01·‖w‖ = 0.05 along −x, then shrinks by 1/√1.0001
 * ```
 */
export class Fromage extends Optimizer<ResolvedFromageOptions, FromageCoefficients> {
  constructor(
    params: readonly FloatArray[] | readonly ParamGroup<GroupOptions<FromageOptions>>[],
    options: FromageOptions = {},
  ) {
    super(params, fromageRule, options);
  }
}
