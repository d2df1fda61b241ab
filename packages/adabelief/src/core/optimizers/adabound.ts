import { OptionError } from "../errors.js";
import { powInt } from "../numerics.js";
import type { GroupOptions, ParamGroup } from "../groups.js";
import { Optimizer } from "../optimizer.js";
import type { CommonOptions, ResolvedCommon, UpdateRule } from "../rule.js";
import type { FloatArray } from "../types.js";
import { NON_FINITE_POLICIES, check, nominalLearningRate, stripUndefined } from "../validate.js";
import { warn } from "../warnings.js";

/**
 * Options of {@link AdaBound}. Every option is optional; the defaults are those of the reference package
 * `adabound` 0.0.5 (github.com/Luolc/AdaBound), which the AdaBelief paper used.
 */
export interface AdaBoundOptions extends CommonOptions {
  /**
   * Adam-phase step size α. Default `1e-3`. May be a schedule; its nominal rate (a built-in schedule's
   * `peak`, else its value at step 0) is the base learning rate the bounds are scaled by (see
   * {@link AdaBound}), so it must not be 0.
   */
  learningRate?: CommonOptions["learningRate"];
  /** β1, decay of the gradient EMA `m`. Default `0.9`. In [0, 1). */
  beta1?: number;
  /** β2, decay of the squared-gradient EMA `v`. Default `0.999`. In [0, 1). */
  beta2?: number;
  /** The final (SGD) learning rate both bounds converge to. Default `0.1`. Must be ≥ 0. */
  finalLr?: number;
  /**
   * γ, the speed at which the bounds close in on `finalLr`. Default `1e-3`. In [0, 1). With `0` the bounds are
   * [0, ∞) for ever (no clamping; the reference would divide by zero).
   */
  gamma?: number;
  /** ε, added to √v (not bias-corrected). Default `1e-8`. */
  epsilon?: number;
  /** L2 weight decay λ: `g ← g + λθ` (the gradient array itself is not changed). Default `0`. */
  weightDecay?: number;
  /** AMSBound: use `max(v_max, v)` in the denominator. Default `false`. */
  amsbound?: boolean;
}

/** {@link AdaBoundOptions} with defaults applied. */
export interface ResolvedAdaBoundOptions extends ResolvedCommon {
  beta1: number;
  beta2: number;
  finalLr: number;
  gamma: number;
  epsilon: number;
  weightDecay: number;
  amsbound: boolean;
  /**
   * The learning rate recorded at construction (`base_lr` in the reference): the constant learning rate, or
   * the schedule's nominal rate (`peak` of a built-in schedule, else its value at step 0). Derived, not an option.
   */
  baseLearningRate: number;
}

/** The scalars of one AdaBound step, computed in double precision as the reference code does. */
export interface AdaBoundCoefficients {
  /** L2 coefficient added to the gradient (`g + l2·θ`); `0` means none. */
  l2: number;
  beta1: number;
  oneMinusBeta1: number;
  beta2: number;
  oneMinusBeta2: number;
  epsilon: number;
  /** α_t = (α·√(1 − β2^t))/(1 − β1^t). */
  stepSize: number;
  /** lower_t = f·(1 − 1/(γt + 1)), with f = finalLr·α/baseLearningRate. */
  lower: number;
  /** upper_t = f·(1 + 1/(γt)). */
  upper: number;
  /** Read `vMax` for the denominator (AMSBound). */
  useMax: boolean;
}

const KNOWN = [
  "learningRate",
  "beta1",
  "beta2",
  "finalLr",
  "gamma",
  "epsilon",
  "weightDecay",
  "amsbound",
  "nonFinite",
] as const;

/** The defaults of the reference `adabound` 0.0.5 package. */
export const ADABOUND_DEFAULTS: Readonly<
  Omit<ResolvedAdaBoundOptions, "learningRate" | "nonFinite" | "baseLearningRate">
> & {
  learningRate: number;
  nonFinite: "throw";
} = Object.freeze({
  learningRate: 1e-3,
  beta1: 0.9,
  beta2: 0.999,
  finalLr: 0.1,
  gamma: 1e-3,
  epsilon: 1e-8,
  weightDecay: 0,
  amsbound: false,
  nonFinite: "throw",
});

/** The AdaBound / AMSBound update rule (reference `adabound` 0.0.5). See {@link AdaBound} for the math. */
export const adaboundRule: UpdateRule<AdaBoundOptions, ResolvedAdaBoundOptions, AdaBoundCoefficients> = {
  name: "AdaBound",

  resolve(options) {
    check.knownKeys("AdaBound", options, KNOWN);
    const o = { ...ADABOUND_DEFAULTS, ...stripUndefined(options) };
    const learningRate = check.learningRate("learningRate", o.learningRate);
    const baseLearningRate = nominalLearningRate(learningRate);
    if (!(baseLearningRate > 0)) {
      throw new OptionError(
        typeof learningRate === "function"
          ? `learningRate schedule has a nominal learning rate of 0 (its peak, or its value at step 0); AdaBound ` +
              `scales finalLr by lr/base_lr, so it must be > 0`
          : `learningRate must be > 0 for AdaBound (the bounds scale finalLr by lr/base_lr), got 0`,
      );
    }
    const r: ResolvedAdaBoundOptions = {
      learningRate,
      beta1: check.beta("beta1", o.beta1),
      beta2: check.beta("beta2", o.beta2),
      finalLr: check.nonNegative("finalLr", o.finalLr),
      gamma: check.beta("gamma", o.gamma),
      epsilon: check.nonNegative("epsilon", o.epsilon),
      weightDecay: check.nonNegative("weightDecay", o.weightDecay),
      amsbound: check.boolean("amsbound", o.amsbound),
      nonFinite: check.oneOf("nonFinite", o.nonFinite, NON_FINITE_POLICIES),
      baseLearningRate,
    };
    if (r.finalLr === 0 && r.gamma > 0) {
      warn(
        "AdaBound: finalLr = 0 makes both bounds 0, so every step is clamped to 0 and the parameters never move; " +
          "use finalLr > 0 (the reference default is 0.1)",
      );
    }
    return r;
  },

  nonNegativeSlots: ["v", "vMax"],

  slots(o) {
    return o.amsbound ? ["m", "v", "vMax"] : ["m", "v"];
  },

  initialValue() {
    return 0;
  },

  coefficients(t, lr, o) {
    const bc1 = 1 - powInt(o.beta1, t);
    const bc2 = 1 - powInt(o.beta2, t);
    const f = (o.finalLr * lr) / o.baseLearningRate;
    const gt = o.gamma * t;
    return {
      l2: o.weightDecay,
      beta1: o.beta1,
      oneMinusBeta1: 1 - o.beta1,
      beta2: o.beta2,
      oneMinusBeta2: 1 - o.beta2,
      epsilon: o.epsilon,
      stepSize: (lr * Math.sqrt(bc2)) / bc1,
      lower: f * (1 - 1 / (gt + 1)),
      // γ = 0: the reference divides by zero; the natural limit is no upper bound.
      upper: gt === 0 ? Infinity : f * (1 + 1 / gt),
      useMax: o.amsbound,
    };
  },

  update(theta, grad, slots, c) {
    const m = slots[0]!;
    const v = slots[1]!;
    const vMax = slots[2];
    const { l2, beta1, oneMinusBeta1, beta2, oneMinusBeta2, epsilon, stepSize, lower, upper, useMax } = c;
    const denomFrom = useMax ? vMax! : v;
    // The L2 term as torch's `grad.add(p, alpha=λ)`: for float32, λ is rounded to float32 and g + λθ is
    // rounded to float32 (λθ is exact in double; torch's fused multiply-add rounds once, this rounds the
    // double sum, which differs only when that sum lies exactly halfway between two float32 values).
    const f32 = theta instanceof Float32Array;
    const lam = f32 ? Math.fround(l2) : l2;
    for (let i = 0; i < theta.length; i++) {
      const g =
        l2 === 0 ? grad[i]! : f32 ? Math.fround(grad[i]! + lam * theta[i]!) : grad[i]! + lam * theta[i]!;
      m[i] = beta1 * m[i]! + oneMinusBeta1 * g;
      v[i] = beta2 * v[i]! + oneMinusBeta2 * g * g;
      if (vMax !== undefined) vMax[i] = Math.max(vMax[i]!, v[i]!);
      const eta = stepSize / (Math.sqrt(denomFrom[i]!) + epsilon);
      // torch.clamp(x, lo, hi) = min(max(x, lo), hi); NaN stays NaN.
      const clamped = eta < lower ? lower : eta > upper ? upper : eta;
      theta[i] = theta[i]! - clamped * m[i]!;
    }
  },
};

/**
 * AdaBound, and AMSBound with `amsbound: true` (Luo et al., ICLR 2019), exactly as the reference package
 * `adabound` 0.0.5 (github.com/Luolc/AdaBound) computes it.
 *
 * Per element, at step t with gradient g (m, v and v_max start at 0):
 * ```
 * g ← g + λθ                                          (L2, when λ ≠ 0)
 * m_t = β1·m_{t−1} + (1 − β1)·g
 * v_t = β2·v_{t−1} + (1 − β2)·g²
 * v_max = max(v_max, v_t)                               (amsbound; then v̂ = v_max, otherwise v̂ = v_t)
 * α_t = α·√(1 − β2^t)/(1 − β1^t)
 * f = finalLr·α/α_0,  lower_t = f·(1 − 1/(γt + 1)),  upper_t = f·(1 + 1/(γt))
 * θ ← θ − clamp(α_t/(√v̂ + ε), lower_t, upper_t)·m_t
 * ```
 *
 * Float32: the L2 term is rounded to float32 as torch's `grad.add(p, alpha=λ)` rounds it,
 * `fl32(g + fl32(λ)·θ)`, and the moments use that rounded gradient.
 * β^t is the correctly rounded power, as CPython's `beta ** step` computes it (V8's `**` can be an ulp off).
 *
 * Defaults (reference): α 1e-3, β (0.9, 0.999), finalLr 0.1, γ 1e-3, ε 1e-8, λ 0, amsbound false.
 *
 * **Learning-rate schedules.** The reference records `base_lr` = the learning rate at construction and scales
 * `finalLr` by `lr/base_lr` at every step, so a scheduler moves the bounds too. Here α_0 (`base_lr`) is the
 * schedule's nominal rate — the `peak` a built-in schedule carries (so a warmup does not inflate the
 * bounds), else the schedule's value at step 0 — available as `options.baseLearningRate`. A nominal rate of
 * 0 is rejected at construction, where the reference would divide by zero at the first step.
 *
 * Behaviour of the reference, kept on purpose: neither ε nor √v is bias-corrected; the bias corrections
 * sit inside α_t, so a step that hits a bound uses m_t **without** 1/(1 − β1^t) (the first step on a steep
 * function is lower_1·m_1 = 9.99e-5·m_1 with the defaults). The clamp is active most of the time early on,
 * so AdaBound soon behaves like momentum SGD with learning rate lower_t. A coordinate with zero gradient
 * hits the upper bound but does not move (η·0 = 0).
 *
 * Deviation: with γ = 0 (allowed by the reference's check but a division by zero at its first step) the
 * bounds here are [0, ∞), i.e. no clamping at all.
 *
 * @example
 * ```ts
 * const w = new Float32Array([1, 2]);
 * const opt = new AdaBound([w], { learningRate: 1e-3, finalLr: 0.1 });
 * opt.step([new Float32Array([0.1, -0.2])]);
 * ```
 */
export class AdaBound extends Optimizer<ResolvedAdaBoundOptions, AdaBoundCoefficients> {
  constructor(
    params: readonly FloatArray[] | readonly ParamGroup<GroupOptions<AdaBoundOptions>>[],
    options: AdaBoundOptions = {},
  ) {
    super(params, adaboundRule, options);
  }
}
