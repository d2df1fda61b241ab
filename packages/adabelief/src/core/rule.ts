import type { FloatArray, LearningRate, NonFinitePolicy } from "./types.js";

/** Options every optimizer accepts. */
export interface CommonOptions {
  /** Step size α: a number or a schedule `(step) => number`. Each optimizer documents its default. */
  learningRate?: LearningRate;
  /** What to do with NaN or ±Infinity in a gradient; default `"throw"`. See {@link NonFinitePolicy}. */
  nonFinite?: NonFinitePolicy;
}

/** Common options after defaults were applied and the values checked. */
export interface ResolvedCommon {
  learningRate: LearningRate;
  nonFinite: NonFinitePolicy;
}

/**
 * One optimizer's math, as a small pure rule with explicit state (the optax shape).
 *
 * The rule never owns parameters or state: {@link Optimizer} (core) and the TensorFlow.js optimizers both
 * drive the same rule, so the math lives in one place.
 *
 * @typeParam O - the user-facing options (all optional)
 * @typeParam R - the resolved options (defaults applied, validated)
 * @typeParam C - the per-step scalars the update loop needs
 */
export interface UpdateRule<O, R extends ResolvedCommon, C> {
  /** Class name, e.g. `"AdaBelief"`: used in error messages and saved states. */
  readonly name: string;
  /** Applies defaults, validates every option (throwing {@link OptionError}), warns about useless settings. */
  resolve(options: O): R;
  /** Names of the per-parameter state slots, in order (each slot has the parameter's length and dtype). */
  slots(options: R): readonly string[];
  /**
   * Names of the slots that can never hold a negative number (second-moment estimates such as Adam's `v`).
   * `Optimizer.setState` refuses a negative value in one of them. Omitted: no slot is restricted.
   */
  readonly nonNegativeSlots?: readonly string[];
  /**
   * Options that apply to the whole optimizer rather than to a parameter group: in the reference code they
   * are attributes of the optimizer object, not entries of its `param_groups` (AdaBelief's `weightDecouple`,
   * `rectify`, …). A parameter group that sets one is refused; `nonFinite` is always optimizer-wide.
   * Omitted: every other option may differ between groups.
   */
  readonly optimizerWide?: readonly string[];
  /** Initial value of a slot's elements (0 unless the reference code says otherwise). */
  initialValue(slot: string, options: R): number;
  /**
   * The scalars of update number `t` (1-based) at learning rate `lr`, computed in double precision, the
   * way the reference Python code computes them. Powers β^t (Python's `beta ** step`, i.e. C's `pow`) are
   * correctly rounded (`powInt` of `numerics.ts`), not V8's `**`, which is an ulp off for a few per cent
   * of (β, t).
   */
  coefficients(t: number, lr: number, options: R): C;
  /**
   * Updates one parameter tensor in place: `theta` and the slot buffers are written, `grad` is only read.
   * All arrays have the same length and dtype. Loops are plain, one pass over memory.
   */
  update(theta: FloatArray, grad: FloatArray, slots: readonly FloatArray[], c: C): void;
}
