/** A parameter, gradient or state buffer: the core works on flat typed arrays. */
export type FloatArray = Float32Array | Float64Array;

/** Name of the element type of a {@link FloatArray}. */
export type DType = "float32" | "float64";

/**
 * A learning-rate schedule: a pure function of the step.
 *
 * `step` is the number of updates already applied (0 for the first update), as in optax: the schedule
 * gives the learning rate used by update number `step + 1`.
 */
export type Schedule = ((step: number) => number) & {
  /**
   * The schedule's nominal (peak) learning rate, set by the built-in schedules. Optimizers that scale by
   * the learning rate the user configured (AdaBound's bounds) read it; a plain function has none, and
   * `schedule(0)` is used instead.
   */
  readonly peak?: number;
};

/** A learning rate: a constant or a {@link Schedule}. */
export type LearningRate = number | Schedule;

/**
 * What `step` does when a gradient holds NaN or ±Infinity.
 *
 * - `"throw"` (default): throw a {@link NonFiniteGradientError}; parameters and state stay exactly as they were.
 * - `"skip"`: leave parameters and state exactly as they were (the step counter does not advance) and
 *   report `false` from `step`.
 * - `"proceed"`: apply the update anyway, as PyTorch and TensorFlow.js do (NaN spreads into the
 *   parameters and the state).
 */
export type NonFinitePolicy = "throw" | "skip" | "proceed";

/** Returns the dtype name of a typed array. */
export function dtypeOf(a: FloatArray): DType {
  return a instanceof Float64Array ? "float64" : "float32";
}
