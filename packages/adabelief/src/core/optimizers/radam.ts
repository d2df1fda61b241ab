import { OptionError } from "../errors.js";
import { powInt } from "../numerics.js";
import type { ParamGroup } from "../groups.js";
import { Optimizer } from "../optimizer.js";
import type { CommonOptions, ResolvedCommon, UpdateRule } from "../rule.js";
import type { FloatArray } from "../types.js";
import { NON_FINITE_POLICIES, check, stripUndefined } from "../validate.js";
import { warn } from "../warnings.js";
import { rectification, rho } from "./adabelief.js";

/** Which reference {@link RAdam} reproduces: `torch.optim.RAdam` 1.13, or the AdaBelief paper folder's `RAdam.py`. */
export type RAdamVariant = "pytorch" | "paper";

/** Options of {@link RAdam}. Every option is optional; the defaults are those of both references. */
export interface RAdamOptions extends CommonOptions {
  /** Step size α. Default `1e-3`. May be a schedule. */
  learningRate?: CommonOptions["learningRate"];
  /** β1, decay of the gradient EMA `m`. Default `0.9`. In [0, 1). */
  beta1?: number;
  /**
   * β2, decay of the squared-gradient EMA `v`. Default `0.999`. In [0, 1). With β2 ≤ 2/3, ρ∞ ≤ 5 and the
   * rectified (adaptive) step is never taken (warned).
   */
  beta2?: number;
  /** ε, added to `√v` in the denominator. Default `1e-8`. */
  epsilon?: number;
  /**
   * Weight decay λ. Default `0`. Variant `"pytorch"`: L2 decay `g ← g + λθ`. Variant `"paper"`: decoupled
   * decay `θ ← θ − αλθ`, applied only on steps that move θ.
   */
  weightDecay?: number;
  /**
   * Which reference to reproduce. Default `"pytorch"` (torch.optim.RAdam 1.13); `"paper"` is the RAdam the
   * AdaBelief paper's CIFAR-10 experiments ran (github.com/LiyuanLucasLiu/RAdam, as copied into the
   * AdaBelief repository). See {@link RAdam} for the differences.
   */
  variant?: RAdamVariant;
  /**
   * Variant `"paper"` only: while ρ_t < 5, take bias-corrected momentum-SGD steps (`true`, default) or
   * leave θ unchanged, decay included (`false`). Setting it with variant `"pytorch"` is an
   * {@link OptionError} (torch always takes the SGD-like steps).
   */
  degeneratedToSgd?: boolean;
}

/**
 * The options an RAdam parameter group may set: `learningRate`, `beta1`, `beta2`, `epsilon`, `weightDecay`
 * (the per-group entries of both references). `variant` (which reference), `degeneratedToSgd` (an attribute
 * of the paper's optimizer object) and `nonFinite` apply to the whole optimizer.
 */
export type RAdamGroupOptions = Omit<RAdamOptions, "variant" | "degeneratedToSgd" | "nonFinite">;

/** {@link RAdamOptions} with defaults applied. `degeneratedToSgd` is `true` for variant `"pytorch"`. */
export interface ResolvedRAdamOptions extends ResolvedCommon {
  beta1: number;
  beta2: number;
  epsilon: number;
  weightDecay: number;
  variant: RAdamVariant;
  degeneratedToSgd: boolean;
}

/**
 * Which update an RAdam step takes: `Adaptive` (rectified step), `Sgd` (warm-up: bias-corrected
 * momentum SGD), `None` (warm-up of variant `"paper"` with `degeneratedToSgd: false`: θ is not changed, the
 * moments still update).
 */
export const RAdamMode = { Adaptive: 0, Sgd: 1, None: 2 } as const;
/** One of the values of {@link RAdamMode}. */
export type RAdamMode = (typeof RAdamMode)[keyof typeof RAdamMode];

/** The scalars of one RAdam step, computed in double precision as the reference code computes them. */
export interface RAdamCoefficients {
  /** `true` for variant `"paper"` (its operation order), `false` for `"pytorch"`. */
  paper: boolean;
  mode: RAdamMode;
  /** Variant `"pytorch"`: λ of the L2 term `g + λθ`; `0` means none. */
  l2: number;
  /** Variant `"paper"`: −λ·α, the decoupled decay `θ ← θ + decayTerm·θ`; `0` means none. */
  decayTerm: number;
  beta1: number;
  oneMinusBeta1: number;
  beta2: number;
  oneMinusBeta2: number;
  epsilon: number;
  /** Variant `"pytorch"`: α, 1 − β1^t, √(1 − β2^t) and the rectification term r_t (without 1/(1 − β1^t)). */
  lr: number;
  bc1: number;
  sqrtBc2: number;
  rect: number;
  /** Variant `"paper"`: −r_t·α (r_t including √(1 − β2^t)/(1 − β1^t)) or, in the warm-up, −(1/(1 − β1^t))·α. */
  stepSize: number;
}

const KNOWN = [
  "learningRate",
  "beta1",
  "beta2",
  "epsilon",
  "weightDecay",
  "variant",
  "degeneratedToSgd",
  "nonFinite",
] as const;

/** The defaults of {@link RAdam} (those of torch.optim.RAdam 1.13 and of the paper folder's RAdam). */
export const RADAM_DEFAULTS: Readonly<Omit<ResolvedRAdamOptions, "learningRate" | "nonFinite">> & {
  learningRate: number;
  nonFinite: "throw";
} = Object.freeze({
  learningRate: 1e-3,
  beta1: 0.9,
  beta2: 0.999,
  epsilon: 1e-8,
  weightDecay: 0,
  variant: "pytorch",
  degeneratedToSgd: true,
  nonFinite: "throw",
});

/** The RAdam update rule, both variants. See {@link RAdam} for the math. */
export const radamRule: UpdateRule<RAdamOptions, ResolvedRAdamOptions, RAdamCoefficients> = {
  name: "RAdam",

  resolve(options) {
    check.knownKeys("RAdam", options, KNOWN);
    const given = stripUndefined(options);
    const o = { ...RADAM_DEFAULTS, ...given };
    const variant = check.oneOf("variant", o.variant, ["pytorch", "paper"] as const);
    if (variant === "pytorch" && given.degeneratedToSgd === false) {
      throw new OptionError(
        `RAdam: degeneratedToSgd false applies only to variant "paper"; ` +
          `variant "pytorch" always takes SGD-like warm-up steps`,
      );
    }
    const r: ResolvedRAdamOptions = {
      learningRate: check.learningRate("learningRate", o.learningRate),
      beta1: check.beta("beta1", o.beta1),
      beta2: check.beta("beta2", o.beta2),
      epsilon: check.nonNegative("epsilon", o.epsilon),
      weightDecay: check.nonNegative("weightDecay", o.weightDecay),
      variant,
      degeneratedToSgd: check.boolean("degeneratedToSgd", o.degeneratedToSgd),
      nonFinite: check.oneOf("nonFinite", o.nonFinite, NON_FINITE_POLICIES),
    };
    if (r.epsilon === 0) {
      warn(
        "RAdam: epsilon = 0 turns a coordinate whose gradients were all 0 into 0·∞ = NaN; use epsilon > 0",
      );
    }
    const { rhoInf } = rho(1, r.beta2);
    if (rhoInf <= 5) {
      warn(
        r.degeneratedToSgd
          ? `RAdam: beta2 = ${r.beta2} gives ρ∞ = ${rhoInf} <= 5, so the rectified adaptive step is never ` +
              "taken and RAdam is momentum SGD; use beta2 > 2/3"
          : `RAdam: beta2 = ${r.beta2} gives ρ∞ = ${rhoInf} <= 5 and degeneratedToSgd is false, so the ` +
              "parameters never change; use beta2 > 2/3",
      );
    }
    return r;
  },

  nonNegativeSlots: ["v"],

  optimizerWide: ["variant", "degeneratedToSgd"],

  slots() {
    return ["m", "v"];
  },

  initialValue() {
    return 0;
  },

  coefficients(t, lr, o) {
    const paper = o.variant === "paper";
    const bc1 = 1 - powInt(o.beta1, t);
    const bc2 = 1 - powInt(o.beta2, t);
    const { rhoInf, rhoT } = rho(t, o.beta2);
    const adaptive = paper ? rhoT >= 5 : rhoT > 5;
    const mode: RAdamMode = adaptive
      ? RAdamMode.Adaptive
      : o.degeneratedToSgd
        ? RAdamMode.Sgd
        : RAdamMode.None;
    let rect = 1;
    let stepSize = 0;
    if (paper) {
      if (mode === RAdamMode.Adaptive) stepSize = -rectification(t, o.beta1, o.beta2) * lr;
      else if (mode === RAdamMode.Sgd) stepSize = -(1 / bc1) * lr;
    } else if (adaptive) {
      rect = Math.sqrt(((rhoT - 4) * (rhoT - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rhoT));
    }
    return {
      paper,
      mode,
      l2: paper ? 0 : o.weightDecay,
      decayTerm: paper && mode !== RAdamMode.None ? -o.weightDecay * lr : 0,
      beta1: o.beta1,
      oneMinusBeta1: 1 - o.beta1,
      beta2: o.beta2,
      oneMinusBeta2: 1 - o.beta2,
      epsilon: o.epsilon,
      lr,
      bc1,
      sqrtBc2: Math.sqrt(bc2),
      rect,
      stepSize,
    };
  },

  update(theta, grad, slots, c) {
    const m = slots[0]!;
    const v = slots[1]!;
    const { mode, l2, decayTerm, beta1, oneMinusBeta1, beta2, oneMinusBeta2, epsilon } = c;
    if (c.paper) {
      const { stepSize } = c;
      for (let i = 0; i < theta.length; i++) {
        const g = grad[i]!;
        v[i] = beta2 * v[i]! + oneMinusBeta2 * g * g;
        m[i] = beta1 * m[i]! + oneMinusBeta1 * g;
        if (mode === RAdamMode.None) continue;
        if (decayTerm !== 0) theta[i] = theta[i]! + decayTerm * theta[i]!;
        if (mode === RAdamMode.Adaptive) {
          theta[i] = theta[i]! + (stepSize * m[i]!) / (Math.sqrt(v[i]!) + epsilon);
        } else {
          theta[i] = theta[i]! + stepSize * m[i]!;
        }
      }
      return;
    }
    const { lr, bc1, sqrtBc2, rect } = c;
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
      const scaled = (m[i]! / bc1) * lr;
      if (mode === RAdamMode.Adaptive) {
        const adaptiveLr = (1 / (Math.sqrt(v[i]!) + epsilon)) * sqrtBc2;
        theta[i] = theta[i]! - scaled * adaptiveLr * rect;
      } else {
        theta[i] = theta[i]! - scaled;
      }
    }
  },
};

/**
 * RAdam, "Rectified Adam" (Liu et al., "On the Variance of the Adaptive Learning Rate and Beyond", ICLR
 * 2020), in two variants that match their reference code to the last bits.
 *
 * Per element, at step t with gradient g (m and v start at 0), ρ∞ = 2/(1 − β2) − 1 and
 * ρ_t = ρ∞ − 2t·β2^t/(1 − β2^t):
 * ```
 * m_t = β1·m_{t−1} + (1 − β1)·g,   v_t = β2·v_{t−1} + (1 − β2)·g²
 * rectified (ρ_t > 5 "pytorch", ρ_t ≥ 5 "paper"):
 *   r_t = √((ρ_t − 4)(ρ_t − 2)ρ∞ / ((ρ∞ − 4)(ρ∞ − 2)ρ_t))
 *   θ ← θ − α·r_t · (m_t/(1 − β1^t)) · √(1 − β2^t)/(√v_t + ε)
 * warm-up (otherwise; steps 1–5 for β2 = 0.999):
 *   θ ← θ − α·m_t/(1 − β1^t)                   (the "paper" variant with degeneratedToSgd false: no change)
 * ```
 *
 * Variant `"pytorch"` (default) is `torch.optim.RAdam` 1.13: weight decay is an L2 term `g ← g + λθ`, the
 * threshold is strict (ρ_t > 5), and the step is evaluated as `((m/(1−β1^t))·α·(1/(√v+ε))·√(1−β2^t))·r_t`.
 * With L2 decay on float32 parameters, `g + λθ` is rounded as torch rounds it, `fl32(g + fl32(λ)·θ)`.
 * β^t is the correctly rounded power, as CPython's `beta ** step` computes it (V8's `**` can be an ulp off).
 *
 * Variant `"paper"` is the RAdam of the AdaBelief paper's CIFAR-10 experiments (LiyuanLucasLiu/RAdam): v is
 * updated before m; weight decay is decoupled and scaled by α, `θ ← θ − αλθ`, applied before each step that
 * moves θ; the threshold is ρ_t ≥ 5 (the same steps for β2 = 0.999); with `degeneratedToSgd: false` the
 * warm-up steps change nothing, not even by decay. Deviation, on purpose: the reference casts gradient,
 * parameters and state to float32 even for float64 parameters; this class computes float64 parameters in
 * float64. To reproduce the reference bit for bit on float64 data, run it on Float32Array copies.
 *
 * Defaults: α 1e-3, β (0.9, 0.999), ε 1e-8, λ 0, variant "pytorch" (degeneratedToSgd true for "paper").
 *
 * @example
 * ```ts
 * const w = new Float32Array([1, 2]);
 * const opt = new RAdam([w], { variant: "paper", weightDecay: 5e-4 });
 * opt.step([new Float32Array([0.1, -0.2])]);
 * ```
 */
export class RAdam extends Optimizer<ResolvedRAdamOptions, RAdamCoefficients> {
  constructor(
    params: readonly FloatArray[] | readonly ParamGroup<RAdamGroupOptions>[],
    options: RAdamOptions = {},
  ) {
    super(params, radamRule, options);
  }
}
