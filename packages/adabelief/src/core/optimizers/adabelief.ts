import { fma32, powInt } from "../numerics.js";
import type { ParamGroup } from "../groups.js";
import { Optimizer } from "../optimizer.js";
import type { CommonOptions, ResolvedCommon, UpdateRule } from "../rule.js";
import type { FloatArray } from "../types.js";
import { NON_FINITE_POLICIES, check, stripUndefined } from "../validate.js";
import { warn } from "../warnings.js";

/**
 * Options of {@link AdaBelief}. Every option is optional; the defaults are those of the official
 * `adabelief-pytorch` 0.2.1 package.
 */
export interface AdaBeliefOptions extends CommonOptions {
  /** Step size α. Default `1e-3`. May be a schedule. */
  learningRate?: CommonOptions["learningRate"];
  /** β1, decay of the gradient EMA `m`. Default `0.9`. In [0, 1); 0 makes `g − m ≡ 0` (warned). */
  beta1?: number;
  /** β2, decay of the EMA `s` of the squared residual `(g − m)²`. Default `0.999`. In [0, 1). */
  beta2?: number;
  /**
   * ε. Default `1e-16`. Added into `s` at every step (so the denominator's floor is about `√(ε/(1−β2))`)
   * and once more to the denominator. The paper's results used `1e-8`.
   */
  epsilon?: number;
  /** Weight decay λ. Default `0`. */
  weightDecay?: number;
  /** Decoupled (AdamW-style) decay `θ ← θ·(1 − αλ)`; `false` gives L2 decay `g ← g + λθ`. Default `true`. */
  weightDecouple?: boolean;
  /** With `weightDecouple`, decay by `θ ← θ·(1 − λ)`, independent of α. Default `false`. */
  fixedDecay?: boolean;
  /** RAdam-style rectification of the adaptive step. Default `true`. */
  rectify?: boolean;
  /**
   * With `rectify`, while ρ_t < `smaThreshold`: take bias-corrected momentum-SGD steps `θ ← θ − α·m̂`
   * (`true`, default) or no step at all (`false`).
   */
  degeneratedToSgd?: boolean;
  /** AMSGrad: use `max(s_max, s)` in the denominator. Default `false`. Ignored when `rectify` is on (as in the official code). */
  amsgrad?: boolean;
  /**
   * Rectification threshold on ρ_t (the length of the approximated SMA). Default `5`, as the PyTorch
   * package hard-codes and the TensorFlow package calls `sma_threshold`. Must be ≥ 4.
   */
  smaThreshold?: number;
}

/**
 * The options an AdaBelief parameter group may set: the per-group entries of the official code's
 * `param_groups` (`learningRate`, `beta1`, `beta2`, `epsilon`, `weightDecay`, `amsgrad`). `weightDecouple`,
 * `fixedDecay`, `rectify`, `degeneratedToSgd` (attributes of the official optimizer object), `smaThreshold`
 * (a constant there) and `nonFinite` apply to the whole optimizer.
 */
export type AdaBeliefGroupOptions = Omit<
  AdaBeliefOptions,
  "weightDecouple" | "fixedDecay" | "rectify" | "degeneratedToSgd" | "smaThreshold" | "nonFinite"
>;

/** {@link AdaBeliefOptions} with defaults applied. */
export interface ResolvedAdaBeliefOptions extends ResolvedCommon {
  beta1: number;
  beta2: number;
  epsilon: number;
  weightDecay: number;
  weightDecouple: boolean;
  fixedDecay: boolean;
  rectify: boolean;
  degeneratedToSgd: boolean;
  amsgrad: boolean;
  smaThreshold: number;
}

/**
 * Which update an AdaBelief step takes: `Adaptive` θ ← θ + stepSize·m/(√ŝ/sqrtBc2 + ε); `Sgd` (rectification
 * warm-up) θ ← θ + stepSize·m; `None` (warm-up with `degeneratedToSgd: false`) θ is not moved, the moments
 * still update.
 */
export const AdaBeliefMode = { Adaptive: 0, Sgd: 1, None: 2 } as const;
/** One of the values of {@link AdaBeliefMode}. */
export type AdaBeliefMode = (typeof AdaBeliefMode)[keyof typeof AdaBeliefMode];

/** The scalars of one AdaBelief step, computed in double precision as the official code does. */
export interface AdaBeliefCoefficients {
  /** Multiplier applied to θ before the step (decoupled decay); `1` means none. */
  decay: number;
  /** L2 coefficient added to the gradient (`g + l2·θ`); `0` means none. */
  l2: number;
  beta1: number;
  oneMinusBeta1: number;
  beta2: number;
  oneMinusBeta2: number;
  epsilon: number;
  mode: AdaBeliefMode;
  /** Adaptive: −α/(1−β1^t) or −α·r_t. SGD: −(1/(1−β1^t))·α. */
  stepSize: number;
  /** Adaptive: √(1−β2^t) (non-rectified) or 1 (rectified); the denominator is √ŝ / sqrtBc2 + ε. */
  sqrtBc2: number;
  /** Read `sMax` for the denominator (AMSGrad without rectification). */
  useMax: boolean;
}

const KNOWN = [
  "learningRate",
  "beta1",
  "beta2",
  "epsilon",
  "weightDecay",
  "weightDecouple",
  "fixedDecay",
  "rectify",
  "degeneratedToSgd",
  "amsgrad",
  "smaThreshold",
  "nonFinite",
] as const;

/** The defaults of the official `adabelief-pytorch` 0.2.1 package. */
export const ADABELIEF_DEFAULTS: Readonly<Omit<ResolvedAdaBeliefOptions, "learningRate" | "nonFinite">> & {
  learningRate: number;
  nonFinite: "throw";
} = Object.freeze({
  learningRate: 1e-3,
  beta1: 0.9,
  beta2: 0.999,
  epsilon: 1e-16,
  weightDecay: 0,
  weightDecouple: true,
  fixedDecay: false,
  rectify: true,
  degeneratedToSgd: true,
  amsgrad: false,
  smaThreshold: 5,
  nonFinite: "throw",
});

/** ρ∞ = 2/(1−β2) − 1 and ρ_t = ρ∞ − 2t·β2^t/(1−β2^t): the length of the approximated SMA (RAdam). */
export function rho(t: number, beta2: number): { rhoInf: number; rhoT: number } {
  const rhoInf = 2 / (1 - beta2) - 1;
  const beta2t = powInt(beta2, t);
  return { rhoInf, rhoT: rhoInf - (2 * t * beta2t) / (1 - beta2t) };
}

/**
 * RAdam's rectification term r_t, divided by the first bias correction, as the official code evaluates it
 * (left to right, in double): `√((1−β2^t)·(ρ_t−4)/(ρ∞−4)·(ρ_t−2)/ρ_t·ρ∞/(ρ∞−2)) / (1−β1^t)`.
 */
export function rectification(t: number, beta1: number, beta2: number): number {
  const { rhoInf, rhoT } = rho(t, beta2);
  return (
    Math.sqrt(
      ((((((1 - powInt(beta2, t)) * (rhoT - 4)) / (rhoInf - 4)) * (rhoT - 2)) / rhoT) * rhoInf) /
        (rhoInf - 2),
    ) /
    (1 - powInt(beta1, t))
  );
}

/** The AdaBelief update rule (official package 0.2.1). See {@link AdaBelief} for the math. */
export const adabeliefRule: UpdateRule<AdaBeliefOptions, ResolvedAdaBeliefOptions, AdaBeliefCoefficients> = {
  name: "AdaBelief",

  resolve(options) {
    check.knownKeys("AdaBelief", options, KNOWN);
    const given = stripUndefined(options);
    const o = { ...ADABELIEF_DEFAULTS, ...given };
    const r: ResolvedAdaBeliefOptions = {
      learningRate: check.learningRate("learningRate", o.learningRate),
      beta1: check.beta("beta1", o.beta1),
      beta2: check.beta("beta2", o.beta2),
      epsilon: check.nonNegative("epsilon", o.epsilon),
      weightDecay: check.nonNegative("weightDecay", o.weightDecay),
      weightDecouple: check.boolean("weightDecouple", o.weightDecouple),
      fixedDecay: check.boolean("fixedDecay", o.fixedDecay),
      rectify: check.boolean("rectify", o.rectify),
      degeneratedToSgd: check.boolean("degeneratedToSgd", o.degeneratedToSgd),
      amsgrad: check.boolean("amsgrad", o.amsgrad),
      smaThreshold: check.atLeast("smaThreshold", o.smaThreshold, 4),
      nonFinite: check.oneOf("nonFinite", o.nonFinite, NON_FINITE_POLICIES),
    };
    if (r.amsgrad && r.rectify) {
      warn(
        "AdaBelief: amsgrad has no effect while rectify is true (the official code keeps s_max but never reads it); " +
          "set rectify: false to use AMSGrad",
      );
    }
    if (r.beta1 === 0) {
      warn(
        "AdaBelief: beta1 = 0 makes the residual g − m identically 0, so the denominator is only its ε floor " +
          "and steps become huge; use beta1 > 0",
      );
    }
    if (r.epsilon === 0) {
      warn(
        "AdaBelief: epsilon = 0 removes the denominator's floor: a coordinate whose gradient is always 0 " +
          "gets 0/0 = NaN once the adaptive step starts; use epsilon > 0 (default 1e-16)",
      );
    }
    if (r.weightDecouple && r.weightDecay > 0) {
      const factor = r.fixedDecay
        ? 1 - r.weightDecay
        : typeof r.learningRate === "number"
          ? 1 - r.learningRate * r.weightDecay
          : 1;
      if (factor <= 0) {
        warn(
          `AdaBelief: the decoupled decay factor ${r.fixedDecay ? "1 − weightDecay" : "1 − learningRate·weightDecay"} = ${factor} ` +
            "is <= 0, so every step zeroes or flips the parameters",
        );
      }
    }
    if (!r.rectify && given.smaThreshold !== undefined) {
      warn("AdaBelief: smaThreshold has no effect when rectify is false");
    }
    if (r.fixedDecay && !r.weightDecouple) {
      warn("AdaBelief: fixedDecay has no effect when weightDecouple is false (L2 decay is used)");
    }
    return r;
  },

  nonNegativeSlots: ["s", "sMax"],

  optimizerWide: ["weightDecouple", "fixedDecay", "rectify", "degeneratedToSgd", "smaThreshold"],

  slots(o) {
    return o.amsgrad ? ["m", "s", "sMax"] : ["m", "s"];
  },

  initialValue() {
    return 0;
  },

  coefficients(t, lr, o) {
    const bc1 = 1 - powInt(o.beta1, t);
    const bc2 = 1 - powInt(o.beta2, t);
    let decay = 1;
    let l2 = 0;
    if (o.weightDecouple) decay = o.fixedDecay ? 1 - o.weightDecay : 1 - lr * o.weightDecay;
    else l2 = o.weightDecay;
    const base = {
      decay,
      l2,
      beta1: o.beta1,
      oneMinusBeta1: 1 - o.beta1,
      beta2: o.beta2,
      oneMinusBeta2: 1 - o.beta2,
      epsilon: o.epsilon,
      useMax: false,
    };
    if (!o.rectify) {
      return {
        ...base,
        mode: AdaBeliefMode.Adaptive,
        stepSize: -(lr / bc1),
        sqrtBc2: Math.sqrt(bc2),
        useMax: o.amsgrad,
      };
    }
    if (rho(t, o.beta2).rhoT >= o.smaThreshold) {
      return {
        ...base,
        mode: AdaBeliefMode.Adaptive,
        stepSize: -rectification(t, o.beta1, o.beta2) * lr,
        sqrtBc2: 1,
      };
    }
    if (o.degeneratedToSgd) {
      return { ...base, mode: AdaBeliefMode.Sgd, stepSize: -(1 / bc1) * lr, sqrtBc2: 1 };
    }
    return { ...base, mode: AdaBeliefMode.None, stepSize: 0, sqrtBc2: 1 };
  },

  update(theta, grad, slots, c) {
    if (c.mode === AdaBeliefMode.Adaptive && c.decay === 1 && c.l2 === 0 && slots.length === 2) {
      const m = slots[0]!;
      const s = slots[1]!;
      if (
        theta instanceof Float32Array &&
        grad instanceof Float32Array &&
        m instanceof Float32Array &&
        s instanceof Float32Array
      ) {
        adabeliefAdaptiveLoopF32(theta, grad, m, s, c);
      } else {
        adabeliefAdaptiveLoop(theta, grad, m, s, c);
      }
    } else {
      adabeliefLoop(theta, grad, slots, c);
    }
  },
};

/**
 * The AdaBelief update, every option: {@link adabeliefRule}'s `update` for all configurations.
 * @internal
 */
export function adabeliefLoop(
  theta: FloatArray,
  grad: FloatArray,
  slots: readonly FloatArray[],
  c: AdaBeliefCoefficients,
): void {
  if (theta instanceof Float32Array) {
    adabeliefLoopF32(theta, grad, slots, c);
    return;
  }
  const m = slots[0]!;
  const s = slots[1]!;
  const sMax = slots[2];
  const { decay, l2, beta1, oneMinusBeta1, beta2, oneMinusBeta2, epsilon, mode, stepSize, sqrtBc2 } = c;
  const denomFrom = c.useMax ? sMax! : s;
  for (let i = 0; i < theta.length; i++) {
    if (decay !== 1) theta[i] = theta[i]! * decay;
    const g = l2 === 0 ? grad[i]! : grad[i]! + l2 * theta[i]!;
    m[i] = beta1 * m[i]! + oneMinusBeta1 * g;
    const mi = m[i]!;
    const r = g - mi;
    s[i] = beta2 * s[i]! + oneMinusBeta2 * r * r;
    s[i] = s[i]! + epsilon;
    if (sMax !== undefined) sMax[i] = Math.max(sMax[i]!, s[i]!);
    if (mode === AdaBeliefMode.Adaptive) {
      theta[i] = theta[i]! + (stepSize * mi) / (Math.sqrt(denomFrom[i]!) / sqrtBc2 + epsilon);
    } else if (mode === AdaBeliefMode.Sgd) {
      theta[i] = theta[i]! + stepSize * mi;
    }
  }
}

/**
 * The same update specialised to the common case — an adaptive step, no decay factor, no L2 term, no
 * AMSGrad slot — with the loop-invariant branches taken out (about twice as fast on V8). Bit-identical to
 * {@link adabeliefLoop} (tested); float32 parameters go to {@link adabeliefLoopF32}.
 * @internal
 */
export function adabeliefAdaptiveLoop(
  theta: FloatArray,
  grad: FloatArray,
  m: FloatArray,
  s: FloatArray,
  c: AdaBeliefCoefficients,
): void {
  if (theta instanceof Float32Array) {
    adabeliefLoopF32(theta, grad, [m, s], c);
    return;
  }
  const { beta1, oneMinusBeta1, beta2, oneMinusBeta2, epsilon, stepSize, sqrtBc2 } = c;
  for (let i = 0; i < theta.length; i++) {
    const g = grad[i]!;
    m[i] = beta1 * m[i]! + oneMinusBeta1 * g;
    const mi = m[i]!;
    const r = g - mi;
    s[i] = beta2 * s[i]! + oneMinusBeta2 * r * r;
    s[i] = s[i]! + epsilon;
    theta[i] = theta[i]! + (stepSize * mi) / (Math.sqrt(s[i]!) / sqrtBc2 + epsilon);
  }
}

/**
 * {@link adabeliefLoop} on float32 parameters: the official code's tensor operations in its order, each
 * rounded to float32 as torch 1.13's CPU kernels compute them, with the Python-float scalars (β1, 1 − β1, β2,
 * 1 − β2, ε, λ, the decay factor, the step size, √(1 − β2^t)) rounded to float32 first:
 * ```
 * p.mul_(decay)                               θ = fl(θ·decay)                 (decoupled decay)
 * grad.add_(p, alpha=λ)                       g = fma(θ, λ, g)                (L2)
 * exp_avg.mul_(β1).add_(g, alpha=1 − β1)      m = fma(g, 1 − β1, fl(β1·m))
 * r = grad − exp_avg                          r = fl(g − m)
 * exp_avg_var.mul_(β2).addcmul_(r, r, 1 − β2) s = fma(fl((1 − β2)·r), r, fl(β2·s))
 * exp_avg_var.add_(ε)                         s = fl(s + ε)
 * denom = (√s / √(1 − β2^t)).add_(ε)          d = fl(fl(fl(√s) / sqrtBc2) + ε)
 * p.addcdiv_(m, denom, value=−stepSize)       θ = fl(θ + fl(fl(stepSize·m) / d))
 * p.add_(m, alpha=−stepSize)                  θ = fma(m, stepSize, θ)         (rectification warm-up)
 * ```
 * where fma rounds once ({@link fma32}). A single operation on float32 values computed in double and then
 * rounded with `Math.fround` (or by the store) gives the correctly rounded float32 result.
 * @internal
 */
export function adabeliefLoopF32(
  theta: Float32Array,
  grad: FloatArray,
  slots: readonly FloatArray[],
  c: AdaBeliefCoefficients,
): void {
  const f = Math.fround;
  const m = slots[0]!;
  const s = slots[1]!;
  const sMax = slots[2];
  const denomFrom = c.useMax ? sMax! : s;
  const mode = c.mode;
  const decay = f(c.decay);
  const hasL2 = c.l2 !== 0;
  const lam = f(c.l2);
  const b1 = f(c.beta1);
  const omb1 = f(c.oneMinusBeta1);
  const b2 = f(c.beta2);
  const omb2 = f(c.oneMinusBeta2);
  const eps = f(c.epsilon);
  const stepSize = f(c.stepSize);
  const sqrtBc2 = f(c.sqrtBc2);
  for (let i = 0; i < theta.length; i++) {
    let th = theta[i]!;
    if (decay !== 1) th = f(th * decay);
    const g = hasL2 ? fma32(th, lam, grad[i]!) : grad[i]!;
    const mi = fma32(g, omb1, f(b1 * m[i]!));
    m[i] = mi;
    const r = f(g - mi);
    const si = f(fma32(f(omb2 * r), r, f(b2 * s[i]!)) + eps);
    s[i] = si;
    if (sMax !== undefined) sMax[i] = Math.max(sMax[i]!, si);
    if (mode === AdaBeliefMode.Adaptive) {
      const denom = f(f(f(Math.sqrt(denomFrom[i]!)) / sqrtBc2) + eps);
      th = f(th + f(f(stepSize * mi) / denom));
    } else if (mode === AdaBeliefMode.Sgd) {
      th = fma32(mi, stepSize, th);
    }
    theta[i] = th;
  }
}

/**
 * {@link adabeliefLoopF32} specialised to the common case (an adaptive step, no decay factor, no L2 term, no
 * AMSGrad slot). Bit-identical to it (tested).
 * @internal
 */
export function adabeliefAdaptiveLoopF32(
  theta: Float32Array,
  grad: Float32Array,
  m: Float32Array,
  s: Float32Array,
  c: AdaBeliefCoefficients,
): void {
  const f = Math.fround;
  const b1 = f(c.beta1);
  const omb1 = f(c.oneMinusBeta1);
  const b2 = f(c.beta2);
  const omb2 = f(c.oneMinusBeta2);
  const eps = f(c.epsilon);
  const stepSize = f(c.stepSize);
  const sqrtBc2 = f(c.sqrtBc2);
  const noBc2 = sqrtBc2 === 1; // rectified: the reference does not divide (x/1 = x)
  const n = theta.length;
  for (let i = 0; i < n; i++) {
    const g = grad[i]!;
    // The two fused multiply-adds, fma32 inlined: the double sum rounded by fround, unless it may be a
    // float32 midpoint (at most 25 significant bits; see fma32), where fma32 decides.
    const bm = f(b1 * m[i]!);
    const ms = g * omb1 + bm;
    let mi = f(ms);
    const mt = ms * 268435457;
    if (mt - (mt - ms) === ms && mi !== ms) mi = fma32(g, omb1, bm);
    m[i] = mi;
    const r = f(g - mi);
    const r2 = f(omb2 * r);
    const bs = f(b2 * s[i]!);
    const ss = r2 * r + bs;
    let si = f(ss);
    const st = ss * 268435457;
    if (st - (st - ss) === ss && si !== ss) si = fma32(r2, r, bs);
    si = f(si + eps);
    s[i] = si;
    const root = f(Math.sqrt(si));
    const denom = f((noBc2 ? root : f(root / sqrtBc2)) + eps);
    theta[i] = theta[i]! + f(f(stepSize * mi) / denom); // the store rounds the sum
  }
}

/**
 * AdaBelief (Zhuang et al., NeurIPS 2020, arXiv 2010.07468), exactly as the official `adabelief-pytorch`
 * 0.2.1 package computes it.
 *
 * Per element, at step t with gradient g (m and s start at 0):
 * ```
 * θ ← θ·(1 − αλ)                (weightDecouple; θ·(1 − λ) with fixedDecay; applied even when λ = 0)
 * g ← g + λθ                     (instead, when weightDecouple is false and λ ≠ 0)
 * m_t = β1·m_{t−1} + (1 − β1)·g
 * s_t = β2·s_{t−1} + (1 − β2)·(g − m_t)² + ε        ← ε is added into s and kept, every step
 * s_max = max(s_max, s_t)                            (amsgrad, used only without rectify)
 * rectify = false:  θ ← θ − α/(1 − β1^t) · m_t / (√(s_t / (1 − β2^t)) + ε)
 * rectify = true:   ρ∞ = 2/(1 − β2) − 1,  ρ_t = ρ∞ − 2t·β2^t/(1 − β2^t),  ρ* = smaThreshold (default 5)
 *   ρ_t ≥ ρ*:       θ ← θ − α·r_t · m_t / (√s_t + ε),
 *                   r_t = √((1 − β2^t)(ρ_t − 4)(ρ_t − 2)ρ∞ / ((ρ∞ − 4)(ρ∞ − 2)ρ_t)) / (1 − β1^t)
 *   ρ_t < ρ*:       θ ← θ − α·m_t/(1 − β1^t)   (degeneratedToSgd; otherwise θ is not moved)
 * ```
 *
 * Float32: the step performs the official code's tensor operations in its order, each rounded to float32 as
 * PyTorch computes it on float32 tensors: the Python-float scalars (β1, 1 − β1, β2, 1 − β2, ε, λ, the decay
 * factor, the step size, √(1 − β2^t)) are rounded to float32 first, `add_(x, alpha)` and `addcmul_` are fused
 * multiply-adds rounded once, and `addcdiv_` is θ + (v·m)/d with each operation rounded. The trajectories are
 * PyTorch's bit for bit (the L2 gradient `g + λθ` included, so with β1 = 0 the residual g − m is exactly 0,
 * as in the reference). Float64 computes in double without fusing the multiply-adds (last-bit differences).
 * β^t is the correctly rounded power, as CPython's `beta ** step` computes it (V8's `**` can be an ulp off).
 *
 * Defaults (official 0.2.1): α 1e-3, β (0.9, 0.999), ε 1e-16, λ 0, weightDecouple true, fixedDecay false,
 * rectify true, degeneratedToSgd true, amsgrad false, smaThreshold 5. The paper's results used the 0.0.5
 * defaults: see {@link adabeliefPresets}`.paper`.
 *
 * Deviations that are the official code's, kept on purpose: ε accumulates in s (the denominator never falls
 * below ≈ √(ε/(1−β2))); in the rectified branch ε is not scaled by 1/√(1−β2^t); amsgrad is ignored when
 * rectify is on (a warning says so); the threshold is ρ_t ≥ 5 where torch's RAdam uses > 5.
 *
 * @example
 * ```ts
 * const w = new Float32Array([1, 2]);
 * const opt = new AdaBelief([w], { learningRate: 1e-3 });
 * opt.step([new Float32Array([0.1, -0.2])]);
 * ```
 */
export class AdaBelief extends Optimizer<ResolvedAdaBeliefOptions, AdaBeliefCoefficients> {
  constructor(
    params: readonly FloatArray[] | readonly ParamGroup<AdaBeliefGroupOptions>[],
    options: AdaBeliefOptions = {},
  ) {
    super(params, adabeliefRule, options);
  }
}
