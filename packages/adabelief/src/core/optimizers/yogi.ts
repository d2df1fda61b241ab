import { powInt } from "../numerics.js";
import type { GroupOptions, ParamGroup } from "../groups.js";
import { Optimizer } from "../optimizer.js";
import type { CommonOptions, ResolvedCommon, UpdateRule } from "../rule.js";
import type { FloatArray } from "../types.js";
import { NON_FINITE_POLICIES, check, stripUndefined } from "../validate.js";

/**
 * Options of {@link Yogi}. Every option is optional; the defaults are those of the reference code the
 * AdaBelief paper ran (`optimizers/Yogi.py` of the AdaBelief repository, forked from
 * jettify/pytorch-optimizer).
 */
export interface YogiOptions extends CommonOptions {
  /** Step size α. Default `1e-2` (the reference class default; the paper's CIFAR runs used `1e-3`). May be a schedule. */
  learningRate?: CommonOptions["learningRate"];
  /** β1, decay of the gradient EMA `m`. Default `0.9`. In [0, 1). */
  beta1?: number;
  /** β2: `v` moves by `(1 − β2)·g²` towards `g²` each step. Default `0.999`. In [0, 1). */
  beta2?: number;
  /**
   * ε, added to the bias-corrected `√v` in the denominator. Default `1e-3` (the reference's, and what the
   * paper's CIFAR runs used, since they did not pass eps). Gradients far below ε get steps much smaller than α.
   */
  epsilon?: number;
  /** Initial value of **both** `m` and `v`. Default `1e-6`. Must be ≥ 0. */
  initialAccumulator?: number;
  /** L2 weight decay λ: `g ← g + λθ` (the gradient array itself is not changed). Default `0`. */
  weightDecay?: number;
}

/** {@link YogiOptions} with defaults applied. */
export interface ResolvedYogiOptions extends ResolvedCommon {
  beta1: number;
  beta2: number;
  epsilon: number;
  initialAccumulator: number;
  weightDecay: number;
}

/** The scalars of one Yogi step, computed in double precision as the reference code does. */
export interface YogiCoefficients {
  /** L2 coefficient added to the gradient (`g + l2·θ`); `0` means none. */
  l2: number;
  beta1: number;
  oneMinusBeta1: number;
  oneMinusBeta2: number;
  epsilon: number;
  /** −α/(1 − β1^t). */
  stepSize: number;
  /** √(1 − β2^t); the denominator is √v / sqrtBc2 + ε. */
  sqrtBc2: number;
}

const KNOWN = [
  "learningRate",
  "beta1",
  "beta2",
  "epsilon",
  "initialAccumulator",
  "weightDecay",
  "nonFinite",
] as const;

/** The defaults of the reference Yogi (the AdaBelief repository's `Yogi.py`). */
export const YOGI_DEFAULTS: Readonly<Omit<ResolvedYogiOptions, "learningRate" | "nonFinite">> & {
  learningRate: number;
  nonFinite: "throw";
} = Object.freeze({
  learningRate: 1e-2,
  beta1: 0.9,
  beta2: 0.999,
  epsilon: 1e-3,
  initialAccumulator: 1e-6,
  weightDecay: 0,
  nonFinite: "throw",
});

/** The Yogi update rule (reference code of the AdaBelief paper). See {@link Yogi} for the math. */
export const yogiRule: UpdateRule<YogiOptions, ResolvedYogiOptions, YogiCoefficients> = {
  name: "Yogi",

  resolve(options) {
    check.knownKeys("Yogi", options, KNOWN);
    const o = { ...YOGI_DEFAULTS, ...stripUndefined(options) };
    return {
      learningRate: check.learningRate("learningRate", o.learningRate),
      beta1: check.beta("beta1", o.beta1),
      beta2: check.beta("beta2", o.beta2),
      epsilon: check.nonNegative("epsilon", o.epsilon),
      initialAccumulator: check.nonNegative("initialAccumulator", o.initialAccumulator),
      weightDecay: check.nonNegative("weightDecay", o.weightDecay),
      nonFinite: check.oneOf("nonFinite", o.nonFinite, NON_FINITE_POLICIES),
    };
  },

  nonNegativeSlots: ["v"],

  slots() {
    return ["m", "v"];
  },

  initialValue(_slot, o) {
    // The reference fills both m and v with initial_accumulator.
    return o.initialAccumulator;
  },

  coefficients(t, lr, o) {
    const bc1 = 1 - powInt(o.beta1, t);
    const bc2 = 1 - powInt(o.beta2, t);
    return {
      l2: o.weightDecay,
      beta1: o.beta1,
      oneMinusBeta1: 1 - o.beta1,
      oneMinusBeta2: 1 - o.beta2,
      epsilon: o.epsilon,
      stepSize: -lr / bc1,
      sqrtBc2: Math.sqrt(bc2),
    };
  },

  update(theta, grad, slots, c) {
    const m = slots[0]!;
    const v = slots[1]!;
    const { l2, beta1, oneMinusBeta1, oneMinusBeta2, epsilon, stepSize, sqrtBc2 } = c;
    // The reference rounds g² to the dtype before comparing it with v: for float32 the sign of v − g² is
    // taken against the rounded square, so v settles exactly where the reference's does.
    const f32 = theta instanceof Float32Array;
    // The L2 term as torch's `grad.add(p, alpha=λ)`: for float32, λ is rounded to float32 and g + λθ is
    // rounded to float32 (λθ is exact in double; torch's fused multiply-add rounds once, this rounds the
    // double sum, which differs only when that sum lies exactly halfway between two float32 values).
    const lam = f32 ? Math.fround(l2) : l2;
    for (let i = 0; i < theta.length; i++) {
      const g =
        l2 === 0 ? grad[i]! : f32 ? Math.fround(grad[i]! + lam * theta[i]!) : grad[i]! + lam * theta[i]!;
      m[i] = beta1 * m[i]! + oneMinusBeta1 * g;
      const mi = m[i]!;
      const g2 = f32 ? Math.fround(g * g) : g * g;
      const vi = v[i]!;
      v[i] = vi - oneMinusBeta2 * Math.sign(vi - g2) * g2;
      theta[i] = theta[i]! + (stepSize * mi) / (Math.sqrt(v[i]!) / sqrtBc2 + epsilon);
    }
  },
};

/**
 * Yogi (Zaheer et al., NeurIPS 2018), exactly as the reference code the AdaBelief paper compared against
 * computes it (`optimizers/Yogi.py` of the AdaBelief repository, forked from jettify/pytorch-optimizer).
 *
 * Per element, at step t with gradient g (m and v both start at `initialAccumulator`):
 * ```
 * g ← g + λθ                                     (L2, when λ ≠ 0)
 * m_t = β1·m_{t−1} + (1 − β1)·g
 * v_t = v_{t−1} − (1 − β2)·sign(v_{t−1} − g²)·g²       (sign(0) = 0: additive, no β2·v decay)
 * θ ← θ − α/(1 − β1^t) · m_t / (√v_t / √(1 − β2^t) + ε)
 * ```
 *
 * Float32: the L2 term is rounded to float32 as torch's `grad.add(p, alpha=λ)` rounds it,
 * `fl32(g + fl32(λ)·θ)`, and the moments use that rounded gradient.
 * β^t is the correctly rounded power, as CPython's `beta ** step` computes it (V8's `**` can be an ulp off).
 *
 * Defaults (reference): α 1e-2, β (0.9, 0.999), ε 1e-3, initialAccumulator 1e-6, λ 0. The paper's CIFAR
 * runs used α 1e-3, ε 1e-3 and λ 5e-4.
 *
 * Quirks of the reference, kept on purpose: both m and v start at `initialAccumulator` (1e-6), yet the bias
 * corrections assume they started at 0. So the first step uses m/(1−β1) = g + 9e-6, the denominator starts at
 * √(1e-6/0.001) ≈ 0.032, and a coordinate whose gradient is always 0 still moves (by 2.76e-8 at α 1e-4 in
 * step 1). ε is added after the bias correction of √v, as in Adam.
 *
 * @example
 * ```ts
 * const w = new Float64Array([1, 2]);
 * const opt = new Yogi([w], { learningRate: 1e-3 });
 * opt.step([new Float64Array([0.1, -0.2])]);
 * ```
 */
export class Yogi extends Optimizer<ResolvedYogiOptions, YogiCoefficients> {
  constructor(
    params: readonly FloatArray[] | readonly ParamGroup<GroupOptions<YogiOptions>>[],
    options: YogiOptions = {},
  ) {
    super(params, yogiRule, options);
  }
}
