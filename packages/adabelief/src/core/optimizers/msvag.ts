import { powInt } from "../numerics.js";
import { Optimizer } from "../optimizer.js";
import type { CommonOptions, ResolvedCommon, UpdateRule } from "../rule.js";
import type { FloatArray } from "../types.js";
import { NON_FINITE_POLICIES, check, stripUndefined } from "../validate.js";
import { warn } from "../warnings.js";

/**
 * Options of {@link MSVAG}. Every option is optional; the defaults are those of the reference code the
 * AdaBelief paper ran (`optimizers/MSVAG.py` of the AdaBelief repository at commit `affe9a2`).
 *
 * `beta2`, `epsilon` and `amsgrad` are accepted (so reference configurations carry over) but have no effect,
 * exactly as in the reference.
 */
export interface MSVAGOptions extends CommonOptions {
  /** Step size α. Default `1e-3`. May be a schedule. */
  learningRate?: CommonOptions["learningRate"];
  /** β1, the decay of **both** moving averages (of g and of g²). Default `0.9`. In [0, 1); 0 is warned about. */
  beta1?: number;
  /**
   * β2. Default `0.999`. In [0, 1). **Unused**: the reference computes a bias correction from it and throws the
   * result away (the second moment is averaged with β1). Validated, but no warning is emitted, so generic
   * Adam-style configurations (β1, β2) can be passed unchanged.
   */
  beta2?: number;
  /** ε. Default `1e-8`. **Unused** by the reference; giving it emits a warning. */
  epsilon?: number;
  /** L2 weight decay λ: `g ← g + λθ`. Default `0`. */
  weightDecay?: number;
  /** Default `false`. **Unused** by the reference (no AMSGrad variant exists); `true` emits a warning. */
  amsgrad?: boolean;
}

/** {@link MSVAGOptions} with defaults applied. */
export interface ResolvedMSVAGOptions extends ResolvedCommon {
  beta1: number;
  beta2: number;
  epsilon: number;
  weightDecay: number;
  amsgrad: boolean;
}

/** The scalars of one MSVAG step, computed in double precision as the reference code does. */
export interface MSVAGCoefficients {
  /** L2 coefficient added to the gradient (`g + l2·θ`); `0` means none. */
  l2: number;
  beta1: number;
  oneMinusBeta1: number;
  /** 1 − β1^t, the bias correction of both moving averages. */
  bc1: number;
  /** ρ_t = (1 − β1)/(1 + β1)·(1 + β1^t)/(1 − β1^t), the variance reduction of the EMA after t steps. */
  rho: number;
  /** 1 − ρ_t. */
  oneMinusRho: number;
  /**
   * `false` when the variance estimate is undefined, so γ = 0 and θ does not move: at step 1 (ρ_1 = 1 exactly in
   * exact arithmetic, whatever β1) and whenever ρ_t = 1 (β1 = 0).
   */
  move: boolean;
  /** −α. */
  negLr: number;
}

const KNOWN = ["learningRate", "beta1", "beta2", "epsilon", "weightDecay", "amsgrad", "nonFinite"] as const;

/** The defaults of the reference MSVAG (the AdaBelief repository's `MSVAG.py` at `affe9a2`). */
export const MSVAG_DEFAULTS: Readonly<Omit<ResolvedMSVAGOptions, "learningRate" | "nonFinite">> & {
  learningRate: number;
  nonFinite: "throw";
} = Object.freeze({
  learningRate: 1e-3,
  beta1: 0.9,
  beta2: 0.999,
  epsilon: 1e-8,
  weightDecay: 0,
  amsgrad: false,
  nonFinite: "throw",
});

/** The M-SVAG update rule (reference code of the AdaBelief paper). See {@link MSVAG} for the math. */
export const msvagRule: UpdateRule<MSVAGOptions, ResolvedMSVAGOptions, MSVAGCoefficients> = {
  name: "MSVAG",

  resolve(options) {
    check.knownKeys("MSVAG", options, KNOWN);
    const given = stripUndefined(options);
    const o = { ...MSVAG_DEFAULTS, ...given };
    const r: ResolvedMSVAGOptions = {
      learningRate: check.learningRate("learningRate", o.learningRate),
      beta1: check.beta("beta1", o.beta1),
      beta2: check.beta("beta2", o.beta2),
      epsilon: check.nonNegative("epsilon", o.epsilon),
      weightDecay: check.nonNegative("weightDecay", o.weightDecay),
      amsgrad: check.boolean("amsgrad", o.amsgrad),
      nonFinite: check.oneOf("nonFinite", o.nonFinite, NON_FINITE_POLICIES),
    };
    if (given.epsilon !== undefined) {
      warn(`MSVAG: epsilon (${r.epsilon}) has no effect; the reference MSVAG never reads eps`);
    }
    if (r.amsgrad) {
      warn("MSVAG: amsgrad has no effect; the reference MSVAG accepts the flag but has no AMSGrad variant");
    }
    if (r.beta1 === 0) {
      warn(
        "MSVAG: beta1 = 0 makes the variance estimate 0/0 at every step (ρ_t = 1), so γ = 0 and the parameters " +
          "never move; use beta1 > 0",
      );
    }
    return r;
  },

  nonNegativeSlots: ["v"],

  slots() {
    return ["m", "v"];
  },

  initialValue() {
    return 0;
  },

  coefficients(t, lr, o) {
    const b1t = powInt(o.beta1, t);
    const rho = (((1 - o.beta1) / (1 + o.beta1)) * (1 + b1t)) / (1 - b1t);
    return {
      l2: o.weightDecay,
      beta1: o.beta1,
      oneMinusBeta1: 1 - o.beta1,
      bc1: 1 - b1t,
      rho,
      oneMinusRho: 1 - rho,
      move: t > 1 && rho !== 1,
      negLr: -lr,
    };
  },

  update(theta, grad, slots, c) {
    const m = slots[0]!;
    const v = slots[1]!;
    const { l2, beta1, oneMinusBeta1, bc1, rho, oneMinusRho, move, negLr } = c;
    // The L2 term as torch's `grad.add(p, alpha=λ)`: for float32, λ is rounded to float32 and g + λθ is
    // rounded to float32 (λθ is exact in double; torch's fused multiply-add rounds once, this rounds the
    // double sum, which differs only when that sum lies exactly halfway between two float32 values).
    const f32 = theta instanceof Float32Array;
    const lam = f32 ? Math.fround(l2) : l2;
    // Step 1 (ρ_1 = 1): s = x/0 and γ = m̂²/(m̂² + ρ·s) is 0, −0 or NaN → 0 in the reference, so θ is unchanged.
    for (let i = 0; i < theta.length; i++) {
      const g =
        l2 === 0 ? grad[i]! : f32 ? Math.fround(grad[i]! + lam * theta[i]!) : grad[i]! + lam * theta[i]!;
      m[i] = beta1 * m[i]! + oneMinusBeta1 * g;
      v[i] = beta1 * v[i]! + oneMinusBeta1 * g * g;
      if (!move) continue;
      const mHat = m[i]! / bc1;
      const vHat = v[i]! / bc1;
      const m2 = mHat * mHat;
      const s = (vHat - m2) / oneMinusRho;
      let gamma = m2 / (m2 + rho * s);
      if (gamma !== gamma) gamma = 0; // NaN (0/0 for a zero gradient) → 0, as the reference does
      theta[i] = theta[i]! + negLr * mHat * gamma;
    }
  },
};

/**
 * M-SVAG, the momentum variant of stochastic variance-adapted gradient (Balles & Hennig, ICML 2018), exactly
 * as the reference code the AdaBelief paper ran computes it (`optimizers/MSVAG.py` of the AdaBelief
 * repository at commit `affe9a2`, the version of the paper).
 *
 * Per element, at step t with gradient g (m and v start at 0):
 * ```
 * g ← g + λθ                                       (L2, when λ ≠ 0)
 * m_t = β1·m_{t−1} + (1 − β1)·g
 * v_t = β1·v_{t−1} + (1 − β1)·g²                   ← β1, not β2
 * m̂ = m_t/(1 − β1^t),  v̂ = v_t/(1 − β1^t)
 * ρ_t = (1 − β1)/(1 + β1) · (1 + β1^t)/(1 − β1^t)
 * s = (v̂ − m̂²)/(1 − ρ_t)                          (variance estimate)
 * γ = m̂²/(m̂² + ρ_t·s)    (NaN → 0; not clamped)
 * θ ← θ − α·m̂·γ
 * ```
 *
 * Float32: the L2 term is rounded to float32 as torch's `grad.add(p, alpha=λ)` rounds it,
 * `fl32(g + fl32(λ)·θ)`, and the moments use that rounded gradient.
 * β^t is the correctly rounded power, as CPython's `beta ** step` computes it (V8's `**` can be an ulp off).
 *
 * Defaults (reference): α 1e-3, β1 0.9, λ 0. β2 (0.999), ε (1e-8) and amsgrad (false) are accepted but unused,
 * as in the reference; giving ε or `amsgrad: true` emits a warning (β2 is documented, not warned about).
 *
 * Behaviour of the reference, kept on purpose: **step 1 never moves θ** (ρ_1 = 1, so the variance is x/0 and
 * γ becomes 0); with a constant gradient γ ≈ 1 and the step is plain SGD, α·m̂; a coordinate whose gradient
 * is always 0 stays put (γ = 0/0 → 0). γ is not clamped, so rounding can make it slightly above 1.
 * Deviation: step 1 is skipped explicitly (γ = 0) for every β1. The reference gets there by evaluating ρ_1 in
 * double, which gives exactly 1 for β1 = 0.9 and most values, but for some β1 (e.g. 0.0306…) leaves 1 − ρ_1 ≈ 1e-16
 * and then takes a rounding-driven first step.
 * The later version of the reference file (`c975ac8`, after the paper) divides v by 1 − β2^t instead; that is
 * not what the paper ran and not what this class computes.
 *
 * @example
 * ```ts
 * const w = new Float64Array([1, 2]);
 * const opt = new MSVAG([w], { learningRate: 1e-2 });
 * opt.step([new Float64Array([0.1, -0.2])]); // step 1: w is unchanged, the moments are recorded
 * ```
 */
export class MSVAG extends Optimizer<ResolvedMSVAGOptions, MSVAGCoefficients> {
  constructor(params: readonly FloatArray[], options: MSVAGOptions = {}) {
    super(params, msvagRule, options);
  }
}
