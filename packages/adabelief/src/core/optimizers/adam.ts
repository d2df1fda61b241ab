import { fma32, powInt } from "../numerics.js";
import type { GroupOptions, ParamGroup } from "../groups.js";
import { Optimizer } from "../optimizer.js";
import type { CommonOptions, ResolvedCommon, UpdateRule } from "../rule.js";
import type { FloatArray } from "../types.js";
import { NON_FINITE_POLICIES, check, stripUndefined } from "../validate.js";
import { warn } from "../warnings.js";

/**
 * Options of {@link Adam} and {@link AdamW}. Every option is optional; the defaults are torch.optim's
 * (1.13), which differ between the two classes only in `weightDecay`.
 */
export interface AdamOptions extends CommonOptions {
  /** Step size α. Default `1e-3`. May be a schedule. */
  learningRate?: CommonOptions["learningRate"];
  /** β1, decay of the gradient EMA `m`. Default `0.9`. In [0, 1). */
  beta1?: number;
  /** β2, decay of the squared-gradient EMA `v`. Default `0.999`. In [0, 1). */
  beta2?: number;
  /** ε, added to the bias-corrected `√v̂` in the denominator. Default `1e-8`. */
  epsilon?: number;
  /**
   * Weight decay λ. {@link Adam}: L2 decay `g ← g + λθ`, default `0`. {@link AdamW}: decoupled decay
   * `θ ← θ·(1 − αλ)` before the step, default `1e-2`.
   */
  weightDecay?: number;
  /** AMSGrad: use `v_max = max(v_max, v_t)` in the denominator. Default `false`. */
  amsgrad?: boolean;
}

/** {@link AdamOptions} with defaults applied. */
export interface ResolvedAdamOptions extends ResolvedCommon {
  beta1: number;
  beta2: number;
  epsilon: number;
  weightDecay: number;
  amsgrad: boolean;
}

/** The scalars of one Adam / AdamW step, computed in double precision as torch computes them. */
export interface AdamCoefficients {
  /** Multiplier applied to θ before the step (AdamW: 1 − αλ); `1` means none. */
  decay: number;
  /** L2 coefficient added to the gradient (Adam: `g + λθ`); `0` means none. */
  l2: number;
  beta1: number;
  oneMinusBeta1: number;
  beta2: number;
  oneMinusBeta2: number;
  epsilon: number;
  /** −α/(1 − β1^t). */
  stepSize: number;
  /** √(1 − β2^t); the denominator is √v / sqrtBc2 + ε. */
  sqrtBc2: number;
}

const KNOWN = ["learningRate", "beta1", "beta2", "epsilon", "weightDecay", "amsgrad", "nonFinite"] as const;

/** The type of {@link ADAM_DEFAULTS} and {@link ADAMW_DEFAULTS}. */
export type AdamDefaults = Readonly<Omit<ResolvedAdamOptions, "learningRate" | "nonFinite">> & {
  learningRate: number;
  nonFinite: "throw";
};

/** The defaults of torch.optim.Adam 1.13. */
export const ADAM_DEFAULTS: AdamDefaults = Object.freeze({
  learningRate: 1e-3,
  beta1: 0.9,
  beta2: 0.999,
  epsilon: 1e-8,
  weightDecay: 0,
  amsgrad: false,
  nonFinite: "throw",
});

/** The defaults of torch.optim.AdamW 1.13: Adam's, with `weightDecay` 1e-2. */
export const ADAMW_DEFAULTS: AdamDefaults = Object.freeze({ ...ADAM_DEFAULTS, weightDecay: 1e-2 });

/** Builds the Adam rule (L2 decay) or the AdamW rule (decoupled decay): one math, two names and defaults. */
function makeAdamRule(
  name: "Adam" | "AdamW",
  decoupled: boolean,
  defaults: AdamDefaults,
): UpdateRule<AdamOptions, ResolvedAdamOptions, AdamCoefficients> {
  return {
    name,

    resolve(options) {
      check.knownKeys(name, options, KNOWN);
      const o = { ...defaults, ...stripUndefined(options) };
      const r: ResolvedAdamOptions = {
        learningRate: check.learningRate("learningRate", o.learningRate),
        beta1: check.beta("beta1", o.beta1),
        beta2: check.beta("beta2", o.beta2),
        epsilon: check.nonNegative("epsilon", o.epsilon),
        weightDecay: check.nonNegative("weightDecay", o.weightDecay),
        amsgrad: check.boolean("amsgrad", o.amsgrad),
        nonFinite: check.oneOf("nonFinite", o.nonFinite, NON_FINITE_POLICIES),
      };
      if (r.epsilon === 0) {
        warn(
          `${name}: epsilon = 0 turns a coordinate whose gradients were all 0 into 0/0 = NaN; use epsilon > 0`,
        );
      }
      if (decoupled && typeof r.learningRate === "number" && r.learningRate * r.weightDecay >= 1) {
        warn(
          `${name}: learningRate·weightDecay = ${r.learningRate * r.weightDecay} >= 1 makes the decay factor ` +
            "1 − learningRate·weightDecay ≤ 0, which zeroes or flips the weights at every step",
        );
      }
      return r;
    },

    nonNegativeSlots: ["v", "vMax"],

    slots(o) {
      return o.amsgrad ? ["m", "v", "vMax"] : ["m", "v"];
    },

    initialValue() {
      return 0;
    },

    coefficients(t, lr, o) {
      return {
        decay: decoupled ? 1 - lr * o.weightDecay : 1,
        l2: decoupled ? 0 : o.weightDecay,
        beta1: o.beta1,
        oneMinusBeta1: 1 - o.beta1,
        beta2: o.beta2,
        oneMinusBeta2: 1 - o.beta2,
        epsilon: o.epsilon,
        stepSize: -(lr / (1 - powInt(o.beta1, t))),
        sqrtBc2: Math.sqrt(1 - powInt(o.beta2, t)),
      };
    },

    update(theta, grad, slots, c) {
      const m = slots[0]!;
      const v = slots[1]!;
      const vMax = slots[2];
      if (theta instanceof Float32Array) {
        adamLoopF32(theta, grad, m, v, vMax, c);
        return;
      }
      const { decay, l2, beta1, oneMinusBeta1, beta2, oneMinusBeta2, epsilon, stepSize, sqrtBc2 } = c;
      for (let i = 0; i < theta.length; i++) {
        if (decay !== 1) theta[i] = theta[i]! * decay;
        const g = l2 === 0 ? grad[i]! : grad[i]! + l2 * theta[i]!;
        m[i] = beta1 * m[i]! + oneMinusBeta1 * g;
        v[i] = beta2 * v[i]! + oneMinusBeta2 * g * g;
        let vi = v[i]!;
        if (vMax !== undefined) {
          vMax[i] = Math.max(vMax[i]!, vi);
          vi = vMax[i]!;
        }
        theta[i] = theta[i]! + (stepSize * m[i]!) / (Math.sqrt(vi) / sqrtBc2 + epsilon);
      }
    },
  };
}

/**
 * The Adam/AdamW update on float32 parameters: torch 1.13's single-tensor operations in its order, each
 * rounded to float32, with the Python-float scalars (decay factor, λ, β1, 1 − β1, β2, 1 − β2, ε, step size,
 * √(1 − β2^t)) rounded to float32 first and the fused operations rounded once ({@link fma32}):
 * ```
 * param.mul_(1 − αλ)                           θ = fl(θ·decay)                  (AdamW)
 * grad.add(param, alpha=λ)                     g = fma(θ, λ, g)                 (Adam, L2)
 * exp_avg.mul_(β1).add_(g, alpha=1 − β1)       m = fma(g, 1 − β1, fl(β1·m))
 * exp_avg_sq.mul_(β2).addcmul_(g, g, 1 − β2)   v = fma(fl((1 − β2)·g), g, fl(β2·v))
 * denom = (v.sqrt() / √(1 − β2^t)).add_(ε)     d = fl(fl(fl(√v) / sqrtBc2) + ε)   (v_max with amsgrad)
 * param.addcdiv_(exp_avg, denom, −stepSize)    θ = fl(θ + fl(fl(stepSize·m) / d))
 * ```
 * @internal
 */
export function adamLoopF32(
  theta: Float32Array,
  grad: FloatArray,
  m: FloatArray,
  v: FloatArray,
  vMax: FloatArray | undefined,
  c: AdamCoefficients,
): void {
  const f = Math.fround;
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
  const n = theta.length;
  for (let i = 0; i < n; i++) {
    let th = theta[i]!;
    if (decay !== 1) th = f(th * decay);
    const g = hasL2 ? fma32(th, lam, grad[i]!) : grad[i]!;
    // The two fused multiply-adds, fma32 inlined (about twice as fast on V8): the double sum rounded by
    // fround, unless it may be a float32 midpoint (at most 25 significant bits; see fma32), where fma32 decides.
    const bm = f(b1 * m[i]!);
    const ms = g * omb1 + bm;
    let mi = f(ms);
    const mt = ms * 268435457;
    if (mt - (mt - ms) === ms && mi !== ms) mi = fma32(g, omb1, bm);
    m[i] = mi;
    const g2 = f(omb2 * g);
    const bv = f(b2 * v[i]!);
    const vs = g2 * g + bv;
    let vi = f(vs);
    const vt = vs * 268435457;
    if (vt - (vt - vs) === vs && vi !== vs) vi = fma32(g2, g, bv);
    v[i] = vi;
    if (vMax !== undefined) {
      vi = Math.max(vMax[i]!, vi);
      vMax[i] = vi;
    }
    const denom = f(f(f(Math.sqrt(vi)) / sqrtBc2) + eps);
    theta[i] = th + f(f(stepSize * mi) / denom); // the store rounds the sum
  }
}

/** The Adam update rule (torch.optim.Adam 1.13, single-tensor path). See {@link Adam} for the math. */
export const adamRule = makeAdamRule("Adam", false, ADAM_DEFAULTS);

/** The AdamW update rule (torch.optim.AdamW 1.13, single-tensor path). See {@link AdamW} for the math. */
export const adamwRule = makeAdamRule("AdamW", true, ADAMW_DEFAULTS);

/**
 * Adam (Kingma & Ba, 2015), exactly as `torch.optim.Adam` 1.13 computes it.
 *
 * Per element, at step t with gradient g (m, v and v_max start at 0):
 * ```
 * g ← g + λθ                                   (weightDecay λ ≠ 0: L2 decay)
 * m_t = β1·m_{t−1} + (1 − β1)·g
 * v_t = β2·v_{t−1} + (1 − β2)·g²
 * v_max = max(v_max, v_t)                      (amsgrad; then v̂ uses v_max)
 * θ ← θ − α/(1 − β1^t) · m_t / (√v_t / √(1 − β2^t) + ε)
 * ```
 *
 * Float32: the step performs torch's tensor operations in its order, each rounded to float32 as torch computes
 * it on float32 tensors: the Python-float scalars are rounded to float32 first, `add(x, alpha)` and
 * `addcmul_` are fused multiply-adds rounded once, and `addcdiv_` is θ + (v·m)/d with each operation rounded,
 * so the trajectories are torch's bit for bit. Float64 computes in double without fusing the multiply-adds.
 * β^t is the correctly rounded power, as CPython's `beta ** step` computes it (V8's `**` can be an ulp off).
 *
 * This is the paper's `θ ← θ − α·m̂/(√v̂ + ε)` with m̂ = m/(1 − β1^t) and v̂ = v/(1 − β2^t), evaluated in
 * torch's order. ε is not inside the AMSGrad maximum.
 *
 * Defaults (torch 1.13): α 1e-3, β (0.9, 0.999), ε 1e-8, λ 0, amsgrad false. The AdaBelief paper's
 * experiments used these with ε 1e-8.
 *
 * @example
 * ```ts
 * const w = new Float32Array([1, 2]);
 * const opt = new Adam([w], { learningRate: 1e-3, amsgrad: true });
 * opt.step([new Float32Array([0.1, -0.2])]);
 * ```
 */
export class Adam extends Optimizer<ResolvedAdamOptions, AdamCoefficients> {
  constructor(
    params: readonly FloatArray[] | readonly ParamGroup<GroupOptions<AdamOptions>>[],
    options: AdamOptions = {},
  ) {
    super(params, adamRule, options);
  }
}

/**
 * AdamW (Loshchilov & Hutter, "Decoupled Weight Decay Regularization", ICLR 2019), exactly as
 * `torch.optim.AdamW` 1.13 computes it (the AdaBelief paper folder's `AdamW.py` is bit-identical to it).
 *
 * Per element, at step t: first the decoupled decay `θ ← θ·(1 − αλ)`, then the {@link Adam} step without
 * an L2 term:
 * ```
 * θ ← θ·(1 − αλ)
 * m_t = β1·m_{t−1} + (1 − β1)·g,   v_t = β2·v_{t−1} + (1 − β2)·g²,   v_max = max(v_max, v_t) (amsgrad)
 * θ ← θ − α/(1 − β1^t) · m_t / (√v_t / √(1 − β2^t) + ε)
 * ```
 * The decay is scaled by the (scheduled) learning rate α, as in torch; the paper writes it as η_t·λ with a
 * separate schedule multiplier η_t.
 * With `weightDecay: 0` AdamW is exactly {@link Adam}.
 *
 * Defaults (torch 1.13): α 1e-3, β (0.9, 0.999), ε 1e-8, λ 1e-2, amsgrad false.
 *
 * @example
 * ```ts
 * const w = new Float64Array([1, 2]);
 * const opt = new AdamW([w], { learningRate: 1e-3, weightDecay: 0.01 });
 * opt.step([new Float64Array([0.1, -0.2])]);
 * ```
 */
export class AdamW extends Optimizer<ResolvedAdamOptions, AdamCoefficients> {
  constructor(
    params: readonly FloatArray[] | readonly ParamGroup<GroupOptions<AdamOptions>>[],
    options: AdamOptions = {},
  ) {
    super(params, adamwRule, options);
  }
}
