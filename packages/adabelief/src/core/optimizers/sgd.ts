import { OptionError } from "../errors.js";
import type { GroupOptions, ParamGroup } from "../groups.js";
import { Optimizer } from "../optimizer.js";
import type { CommonOptions, ResolvedCommon, UpdateRule } from "../rule.js";
import type { FloatArray } from "../types.js";
import { NON_FINITE_POLICIES, check, stripUndefined } from "../validate.js";
import { warn } from "../warnings.js";

/**
 * Options of {@link SGD}. Every option is optional. The semantics are those of `torch.optim.SGD` 1.13;
 * torch has no default learning rate, so this library uses `0.01`, the default of Keras and TensorFlow.js SGD.
 */
export interface SGDOptions extends CommonOptions {
  /** Step size α. Default `0.01` (torch requires `lr`; Keras' default). May be a schedule. */
  learningRate?: CommonOptions["learningRate"];
  /**
   * Momentum μ in [0, 1). Default `0` (plain SGD, no state). Torch also accepts μ ≥ 1, where the buffer
   * never forgets; this library rejects it.
   */
  momentum?: number;
  /**
   * Dampening δ in [0, 1]: the buffer update is `b ← μ·b + (1 − δ)·g`. Default `0`. Has no effect without
   * momentum (warned) and must be 0 with `nesterov`.
   */
  dampening?: number;
  /** Nesterov momentum: step along `g + μ·b` instead of `b`. Default `false`. Needs `momentum > 0` and `dampening = 0`. */
  nesterov?: boolean;
  /** L2 weight decay λ: `g ← g + λθ`. Default `0`. */
  weightDecay?: number;
}

/** {@link SGDOptions} with defaults applied. */
export interface ResolvedSGDOptions extends ResolvedCommon {
  momentum: number;
  dampening: number;
  nesterov: boolean;
  weightDecay: number;
}

/** The scalars of one SGD step. */
export interface SGDCoefficients {
  /** −α: the update is θ ← θ + stepSize·d. */
  stepSize: number;
  /** λ of the L2 term `g + λθ`; `0` means none. */
  l2: number;
  /** μ; `0` means plain SGD (no momentum buffer). */
  momentum: number;
  /** 1 − dampening. */
  oneMinusDampening: number;
  nesterov: boolean;
  /** First update (t = 1): the momentum buffer is set to the gradient, as torch does when it has no buffer yet. */
  first: boolean;
}

const KNOWN = ["learningRate", "momentum", "dampening", "nesterov", "weightDecay", "nonFinite"] as const;

/** The defaults of {@link SGD}: torch.optim.SGD's, with learning rate 0.01 (torch has none). */
export const SGD_DEFAULTS: Readonly<Omit<ResolvedSGDOptions, "learningRate" | "nonFinite">> & {
  learningRate: number;
  nonFinite: "throw";
} = Object.freeze({
  learningRate: 0.01,
  momentum: 0,
  dampening: 0,
  nesterov: false,
  weightDecay: 0,
  nonFinite: "throw",
});

/** The SGD update rule (torch.optim.SGD 1.13, single-tensor path). See {@link SGD} for the math. */
export const sgdRule: UpdateRule<SGDOptions, ResolvedSGDOptions, SGDCoefficients> = {
  name: "SGD",

  resolve(options) {
    check.knownKeys("SGD", options, KNOWN);
    const o = { ...SGD_DEFAULTS, ...stripUndefined(options) };
    const r: ResolvedSGDOptions = {
      learningRate: check.learningRate("learningRate", o.learningRate),
      momentum: check.beta("momentum", o.momentum),
      dampening: check.inRange("dampening", o.dampening, 0, 1),
      nesterov: check.boolean("nesterov", o.nesterov),
      weightDecay: check.nonNegative("weightDecay", o.weightDecay),
      nonFinite: check.oneOf("nonFinite", o.nonFinite, NON_FINITE_POLICIES),
    };
    if (r.nesterov && r.momentum === 0) {
      throw new OptionError(
        `SGD: nesterov requires momentum > 0, got momentum ${r.momentum} (as in torch.optim.SGD)`,
      );
    }
    if (r.nesterov && r.dampening !== 0) {
      throw new OptionError(
        `SGD: nesterov requires dampening 0, got dampening ${r.dampening} (as in torch.optim.SGD)`,
      );
    }
    if (r.momentum === 0 && r.dampening !== 0) {
      warn(`SGD: dampening ${r.dampening} has no effect when momentum is 0`);
    }
    return r;
  },

  slots(o) {
    return o.momentum !== 0 ? ["momentumBuffer"] : [];
  },

  initialValue() {
    return 0;
  },

  coefficients(t, lr, o) {
    return {
      stepSize: -lr,
      l2: o.weightDecay,
      momentum: o.momentum,
      oneMinusDampening: 1 - o.dampening,
      nesterov: o.nesterov,
      first: t === 1,
    };
  },

  update(theta, grad, slots, c) {
    const { stepSize, l2, momentum, oneMinusDampening, nesterov, first } = c;
    // The L2 term as torch's `grad.add(p, alpha=λ)`: for float32, λ is rounded to float32 and g + λθ is
    // rounded to float32 (λθ is exact in double; torch's fused multiply-add rounds once, this rounds the
    // double sum, which differs only when that sum lies exactly halfway between two float32 values).
    const f32 = theta instanceof Float32Array;
    const lam = f32 ? Math.fround(l2) : l2;
    if (momentum === 0) {
      for (let i = 0; i < theta.length; i++) {
        const g =
          l2 === 0 ? grad[i]! : f32 ? Math.fround(grad[i]! + lam * theta[i]!) : grad[i]! + lam * theta[i]!;
        theta[i] = theta[i]! + stepSize * g;
      }
      return;
    }
    const buf = slots[0]!;
    for (let i = 0; i < theta.length; i++) {
      const g =
        l2 === 0 ? grad[i]! : f32 ? Math.fround(grad[i]! + lam * theta[i]!) : grad[i]! + lam * theta[i]!;
      buf[i] = first ? g : momentum * buf[i]! + oneMinusDampening * g;
      const b = buf[i]!;
      const d = nesterov ? g + momentum * b : b;
      theta[i] = theta[i]! + stepSize * d;
    }
  },
};

/**
 * Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight decay, exactly as
 * `torch.optim.SGD` 1.13 computes it.
 *
 * Per element, at step t with gradient g:
 * ```
 * g ← g + λθ                                   (weightDecay λ ≠ 0: L2 decay)
 * b_1 = g;   b_t = μ·b_{t−1} + (1 − δ)·g         (momentum μ ≠ 0; the first buffer is g, undampened)
 * d = g + μ·b_t  (nesterov)   or   d = b_t   (momentum)   or   d = g   (μ = 0)
 * θ ← θ − α·d
 * ```
 *
 * Float32: the L2 term is rounded to float32 as torch's `grad.add(p, alpha=λ)` rounds it,
 * `fl32(g + fl32(λ)·θ)`, and the moments use that rounded gradient.
 *
 * Defaults: α 0.01 (torch has no default; this is Keras'), μ 0, δ 0, nesterov false, λ 0.
 * As in torch, `nesterov` with `momentum: 0` or with `dampening ≠ 0` is an {@link OptionError}.
 * "First step" means the optimizer's step count is 0 (also after {@link Optimizer.setState} of a fresh
 * state), so a restored state continues exactly.
 *
 * @example
 * ```ts
 * const w = new Float64Array([1, 2]);
 * const opt = new SGD([w], { learningRate: 0.01, momentum: 0.9, nesterov: true });
 * opt.step([new Float64Array([0.1, -0.2])]);
 * ```
 */
export class SGD extends Optimizer<ResolvedSGDOptions, SGDCoefficients> {
  constructor(
    params: readonly FloatArray[] | readonly ParamGroup<GroupOptions<SGDOptions>>[],
    options: SGDOptions = {},
  ) {
    super(params, sgdRule, options);
  }
}
