import { OptionError } from "./errors.js";
import type { Schedule } from "./types.js";
import { check } from "./validate.js";

/**
 * Learning-rate schedules: pure functions of the step, accepted wherever a learning rate is.
 *
 * Convention (optax's): `step` is the number of updates already applied, so `schedule(0)` is the learning
 * rate of the first update. PyTorch's per-epoch schedulers map to these with `step = epoch · stepsPerEpoch`.
 *
 * @module
 */

const integer = check.integer;

/** Attaches the schedule's nominal (peak) learning rate, read by optimizers that scale by it. */
function withPeak(fn: (step: number) => number, peak: number): Schedule {
  return Object.assign(fn, { peak });
}

/** `lr(step) = value`. */
export function constant(value: number): Schedule {
  check.nonNegative("constant: value", value);
  return withPeak(() => value, value);
}

/**
 * Step decay (PyTorch `StepLR`): `lr(step) = initial · γ^⌊step / stepSize⌋`.
 * @param options.initial - the starting learning rate.
 * @param options.stepSize - updates between decays (an integer ≥ 1).
 * @param options.gamma - the factor applied at each decay; default 0.1.
 */
export function stepDecay(options: { initial: number; stepSize: number; gamma?: number }): Schedule {
  const initial = check.nonNegative("stepDecay: initial", options.initial);
  const stepSize = integer("stepDecay: stepSize", options.stepSize, 1);
  const gamma = check.nonNegative("stepDecay: gamma", options.gamma ?? 0.1);
  return withPeak((step) => initial * gamma ** Math.floor(step / stepSize), initial);
}

/**
 * Multi-step decay (PyTorch `MultiStepLR`): `lr(step) = initial · γ^k`, k = number of milestones ≤ step.
 * The paper's CIFAR runs decay ×0.1 at epoch 150; its LSTM runs ÷10 at epochs 100 and 145.
 * @param options.milestones - strictly increasing update counts (integers ≥ 1).
 * @param options.gamma - default 0.1.
 */
export function multiStepDecay(options: {
  initial: number;
  milestones: readonly number[];
  gamma?: number;
}): Schedule {
  const initial = check.nonNegative("multiStepDecay: initial", options.initial);
  const gamma = check.nonNegative("multiStepDecay: gamma", options.gamma ?? 0.1);
  const milestones = [...options.milestones];
  milestones.forEach((m, i) => {
    integer(`multiStepDecay: milestones[${i}]`, m, 1);
    if (i > 0 && m <= milestones[i - 1]!) {
      throw new OptionError(
        `multiStepDecay: milestones must increase strictly, got ${milestones.join(", ")}`,
      );
    }
  });
  return withPeak((step) => {
    let k = 0;
    while (k < milestones.length && milestones[k]! <= step) k++;
    return initial * gamma ** k;
  }, initial);
}

/**
 * Exponential decay (TensorFlow's / optax's): `lr(step) = initial · rate^(step / decaySteps)`, with the
 * exponent floored when `staircase` is true.
 */
export function exponentialDecay(options: {
  initial: number;
  decayRate: number;
  decaySteps?: number;
  staircase?: boolean;
}): Schedule {
  const initial = check.nonNegative("exponentialDecay: initial", options.initial);
  const rate = check.nonNegative("exponentialDecay: decayRate", options.decayRate);
  const decaySteps = check.positive("exponentialDecay: decaySteps", options.decaySteps ?? 1);
  const staircase = check.boolean("exponentialDecay: staircase", options.staircase ?? false);
  return withPeak((step) => {
    const p = step / decaySteps;
    return initial * rate ** (staircase ? Math.floor(p) : p);
  }, initial);
}

/**
 * Cosine decay (Loshchilov & Hutter, SGDR), optionally with warm restarts:
 * `lr = minValue + (initial − minValue) · (1 + cos(π · τ / T)) / 2` where τ counts updates since the
 * current period started and T is the period's length. Without `restarts`, `lr = minValue` after
 * `decaySteps`. With restarts, each period is `periodMultiplier` times longer than the one before
 * (PyTorch's `T_mult`, TensorFlow's `t_mul`) and starts from a peak `amplitudeMultiplier` times the
 * previous peak (TensorFlow's `m_mul`).
 */
export function cosineDecay(options: {
  initial: number;
  decaySteps: number;
  minValue?: number;
  restarts?: boolean | { periodMultiplier?: number; amplitudeMultiplier?: number };
}): Schedule {
  const initial = check.nonNegative("cosineDecay: initial", options.initial);
  const period = integer("cosineDecay: decaySteps", options.decaySteps, 1);
  const minValue = check.nonNegative("cosineDecay: minValue", options.minValue ?? 0);
  if (minValue > initial) {
    throw new OptionError(`cosineDecay: minValue ${minValue} must not exceed initial ${initial}`);
  }
  const restarts = options.restarts ?? false;
  const r = typeof restarts === "object" ? restarts : {};
  const tMul = check.inRange(
    "cosineDecay: restarts.periodMultiplier",
    r.periodMultiplier ?? 1,
    1,
    Number.MAX_VALUE,
  );
  const mMul = check.inRange("cosineDecay: restarts.amplitudeMultiplier", r.amplitudeMultiplier ?? 1, 0, 1);
  const cosine = (peak: number, tau: number, length: number) =>
    minValue + ((peak - minValue) * (1 + Math.cos((Math.PI * tau) / length))) / 2;
  if (restarts === false) return withPeak((step) => cosine(initial, Math.min(step, period), period), initial);
  return withPeak((step) => {
    // Period k (0-based) starts at T·(1 + m + … + m^(k−1)); find k in closed form, then fix rounding.
    let k =
      tMul === 1
        ? Math.floor(step / period)
        : Math.floor(Math.log1p((step * (tMul - 1)) / period) / Math.log(tMul));
    const startOf = (j: number) => (tMul === 1 ? period * j : (period * (tMul ** j - 1)) / (tMul - 1));
    while (k > 0 && startOf(k) > step) k--;
    while (startOf(k + 1) <= step) k++;
    const peak = minValue + (initial - minValue) * mMul ** k;
    return cosine(peak, step - startOf(k), period * tMul ** k);
  }, initial);
}

/**
 * Linear warmup then linear decay to a minimum, exactly as the official AdaBelief TensorFlow package
 * (`adabelief-tf` 0.2.1: `total_steps`, `warmup_proportion`, `min_lr`). With `k = step + 1`,
 * `W = totalSteps · warmupProportion` and `D = max(totalSteps − W, 1)`:
 * ```
 * k ≤ W:  lr = initial · k / W
 * k > W:  lr = initial + (minLr − initial) / D · min(k − W, D)
 * ```
 * @param options.warmupProportion - default 0.1 (the package's).
 * @param options.minLr - default 0.
 */
export function warmupLinearDecay(options: {
  initial: number;
  totalSteps: number;
  warmupProportion?: number;
  minLr?: number;
}): Schedule {
  const initial = check.nonNegative("warmupLinearDecay: initial", options.initial);
  const total = integer("warmupLinearDecay: totalSteps", options.totalSteps, 1);
  const proportion = check.inRange(
    "warmupLinearDecay: warmupProportion",
    options.warmupProportion ?? 0.1,
    0,
    1,
  );
  const minLr = check.nonNegative("warmupLinearDecay: minLr", options.minLr ?? 0);
  const warmup = total * proportion;
  const decaySteps = Math.max(total - warmup, 1);
  const rate = (minLr - initial) / decaySteps;
  return withPeak((step) => {
    const k = step + 1;
    return k <= warmup ? initial * (k / warmup) : initial + rate * Math.min(k - warmup, decaySteps);
  }, initial);
}

/**
 * Linear warmup composed with any schedule: for the first `warmupSteps` updates the rate rises linearly
 * from `peak / warmupSteps` to `peak = schedule(0)`; after that the schedule runs from its own step 0:
 * ```
 * step < W:  lr = schedule(0) · (step + 1) / W
 * step ≥ W:  lr = schedule(step − W)
 * ```
 */
export function withWarmup(schedule: Schedule | number, warmupSteps: number): Schedule {
  const inner: Schedule = typeof schedule === "number" ? constant(schedule) : schedule;
  if (typeof inner !== "function")
    throw new OptionError(`withWarmup: schedule must be a function or a number`);
  const w = integer("withWarmup: warmupSteps", warmupSteps, 0);
  const peak = inner(0);
  return withPeak((step) => (step < w ? (peak * (step + 1)) / w : inner(step - w)), inner.peak ?? peak);
}
