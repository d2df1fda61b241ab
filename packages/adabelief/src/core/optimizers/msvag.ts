import { fma, fma32, powInt } from "../numerics.js";
import type { GroupOptions, ParamGroup } from "../groups.js";
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

/**
 * The scalars of one MSVAG step, computed in double precision as the reference code does in Python floats (the
 * update rounds them to float32 for float32 tensors, as torch does where a Python float meets a float32
 * tensor).
 */
export interface MSVAGCoefficients {
  /** L2 coefficient added to the gradient (`g + l2·θ`); `0` means none. */
  l2: number;
  beta1: number;
  oneMinusBeta1: number;
  /** 1 − β1^t, the bias correction of both moving averages. */
  bc1: number;
  /** ρ_t = (1 − β1)/(1 + β1)·(1 + β1^t)/(1 − β1^t), the variance reduction of the EMA after t steps. */
  rho: number;
  /**
   * 1 − ρ_t. 0 when ρ_t evaluates to exactly 1: always for β1 = 0, and at step 1 for most β1 (ρ_1 = 1 in exact
   * arithmetic; the double evaluation is 1 ± 1 ulp for about 10 % of β1 values).
   */
  oneMinusRho: number;
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
      negLr: -lr,
    };
  },

  update(theta, grad, slots, c) {
    const m = slots[0]!;
    const v = slots[1]!;
    // The reference's tensor operations, in its order, each rounded in the tensor's dtype as torch 1.13's CPU
    // kernels compute them:
    //   grad.add_(λ, p)                    g = fma(θ, λ, g)
    //   exp_avg.mul_(β1).add_(1 − β1, g)   m = fma(g, 1 − β1, β1·m)
    //   exp_avg_sq.mul_(β1).addcmul_(1 − β1, g, g)   v = fma((1 − β1)·g, g, β1·v)
    //   m̂ = m/bc1, v̂ = v/bc1, s = (v̂ − m̂²)/(1 − ρ), γ = m̂²/(m̂² + ρ·s), γ[NaN] = 0, p.add_(−α·m̂·γ)
    // with the Python floats (β1, 1 − β1, bc1, 1 − ρ, ρ, −α, λ) rounded to float32 first for float32 tensors.
    // No step is special-cased: where ρ_t = 1 the division by 1 − ρ_t = 0 gives s = ±∞ or NaN and γ = 0 or NaN
    // → 0, as in the reference; where the double ρ_1 is 1 ± 1 ulp the reference's first step is taken too.
    if (theta instanceof Float32Array) {
      const f = Math.fround;
      const lam = f(c.l2);
      const b1 = f(c.beta1);
      const omb1 = f(c.oneMinusBeta1);
      const bc1 = f(c.bc1);
      const rho = f(c.rho);
      const omr = f(c.oneMinusRho);
      const negLr = f(c.negLr);
      for (let i = 0; i < theta.length; i++) {
        const g = c.l2 !== 0 ? fma32(theta[i]!, lam, grad[i]!) : grad[i]!;
        const mi = fma32(g, omb1, f(b1 * m[i]!));
        const vi = fma32(f(omb1 * g), g, f(b1 * v[i]!));
        m[i] = mi;
        v[i] = vi;
        const mHat = f(mi / bc1);
        const vHat = f(vi / bc1);
        const m2 = f(mHat * mHat);
        const s = f(f(vHat - m2) / omr);
        let gamma = f(m2 / f(m2 + f(rho * s)));
        if (gamma !== gamma) gamma = 0;
        theta[i] = theta[i]! + f(f(negLr * mHat) * gamma);
      }
      return;
    }
    const { l2, beta1, oneMinusBeta1, bc1, rho, oneMinusRho, negLr } = c;
    for (let i = 0; i < theta.length; i++) {
      const g = l2 !== 0 ? fma(theta[i]!, l2, grad[i]!) : grad[i]!;
      const mi = fma(g, oneMinusBeta1, beta1 * m[i]!);
      const vi = fma(oneMinusBeta1 * g, g, beta1 * v[i]!);
      m[i] = mi;
      v[i] = vi;
      const mHat = mi / bc1;
      const m2 = mHat * mHat;
      const s = (vi / bc1 - m2) / oneMinusRho;
      let gamma = m2 / (m2 + rho * s);
      if (gamma !== gamma) gamma = 0; // NaN (0/0 for a zero gradient, or ∞/∞) → 0, as the reference does
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
 * Arithmetic: every operation is the reference's, in its order and in the tensor's dtype, as torch 1.13's CPU
 * kernels compute it: `add_(x, alpha=a)` and `addcmul_` as fused multiply-adds (one rounding), the Python
 * floats (β1, 1 − β1, 1 − β1^t, ρ_t, 1 − ρ_t, −α, λ) rounded to float32 where they meet a float32 tensor, and
 * for **float32** every intermediate (g², v̂, m̂², s, γ, …) rounded to float32. This is not only a matter of
 * last bits: for |g| from about 1e19 on (depending on β1), v̂ = v/(1 − β1^t) or m̂² overflows to ∞ in float32,
 * so s = ∞ and γ = 0 (or NaN → 0), and the reference leaves θ where it is; in double the same step would be
 * huge. This class computes what the reference computes.
 * β^t is the correctly rounded power, which is what CPython's `beta ** step` (glibc's pow) gives except at rare
 * near-ties (V8's `**` is an ulp off for a few per cent of (β, t)).
 *
 * Defaults (reference): α 1e-3, β1 0.9, λ 0. β2 (0.999), ε (1e-8) and amsgrad (false) are accepted but unused,
 * as in the reference; giving ε or `amsgrad: true` emits a warning (β2 is documented, not warned about).
 *
 * Behaviour of the reference, kept on purpose: **step 1 does not move θ** when ρ_1 evaluates to exactly 1,
 * as it does for β1 = 0.9 and about 90 % of β1 values (the variance is x/0, so γ becomes 0); with a constant
 * gradient γ ≈ 1 and the step is plain SGD, α·m̂; a coordinate whose gradient is always 0 stays put
 * (γ = 0/0 → 0). γ is not clamped, so rounding can make it slightly above 1.
 * **The first step can be arbitrary**: ρ_1 = 1 in exact arithmetic, but the reference evaluates it in double,
 * (1 − β1)/(1 + β1)·(1 + β1)/(1 − β1), which is 1 ± 1 ulp for about 10 % of β1 values drawn uniformly from
 * [0, 1) (about 1 % of those in [0.9, 0.9999); e.g. β1 = 0.0306…). Then 1 − ρ_1 ≈ ±1e-16 and the reference
 * divides the rounding residue v̂ − m̂² by it: γ is 1 where the residue is exactly 0 (a full step of α·m̂) and
 * anything, of either sign, elsewhere. This class takes the same first step, bit for bit (float64 needs the
 * exact fused multiply-adds for that: the residue is made of their roundings).
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
  constructor(
    params: readonly FloatArray[] | readonly ParamGroup<GroupOptions<MSVAGOptions>>[],
    options: MSVAGOptions = {},
  ) {
    super(params, msvagRule, options);
  }
}
