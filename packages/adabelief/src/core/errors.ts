/** A hyper-parameter is out of range or not a number. The message names the option and the value. */
export class OptionError extends RangeError {
  override name = "OptionError";
}

/** The gradients given to `step` do not match the parameters (count, length or element type). */
export class GradientMismatchError extends TypeError {
  override name = "GradientMismatchError";
}

/** A gradient holds NaN or ±Infinity and the non-finite policy is `"throw"`. */
export class NonFiniteGradientError extends RangeError {
  override name = "NonFiniteGradientError";
}

/** A saved state does not fit this optimizer (format, version, optimizer, shapes, dtype or step). */
export class StateError extends TypeError {
  override name = "StateError";
}
