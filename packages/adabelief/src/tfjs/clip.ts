import * as tf from "@tensorflow/tfjs-core";
import { clipByGlobalNorm, clipByValue } from "../core/clipping.js";

/**
 * The gradient-clipping options of the TensorFlow.js optimizers.
 *
 * The `nonFinite` check runs first, on the gradients as given (unclipped): a NaN or ±Infinity gradient
 * element is reported (`"throw"`), skipped (`"skip"`) or passed on (`"proceed"`) even when `clipValue`
 * would have clamped an Infinity to a finite number. Clipping cannot repair a non-finite gradient: a
 * non-finite global norm leaves the gradients unscaled, and value clipping keeps NaN as NaN.
 */
export interface ClipOptions {
  /**
   * Clip by global norm before the update, as PyTorch's `clip_grad_norm_`: with `n` the L2 norm of all the
   * gradients of one `applyGradients` call, every gradient is multiplied by `clipGlobalNorm / (n + 1e-6)`
   * when that factor is below 1. A finite number > 0; default: no clipping. The `nonFinite` scan runs on
   * the unclipped gradients (see {@link ClipOptions}).
   */
  clipGlobalNorm?: number;
  /**
   * Clamp every gradient element to `[−clipValue, clipValue]` (after the norm clipping). A finite number > 0;
   * default: no clipping. The `nonFinite` scan runs on the unclipped gradients: an Infinity element still
   * throws under `nonFinite: "throw"` (the default) although clamping would have made it finite.
   */
  clipValue?: number;
}

/**
 * Clips gradients held as typed arrays with the core's functions (norm in double precision). Returns new
 * arrays; the inputs are not modified.
 */
export function clipArrays(grads: readonly Float32Array[], o: ClipOptions): Float32Array[] {
  let out = grads as readonly Float32Array[];
  if (o.clipGlobalNorm !== undefined) out = clipByGlobalNorm(out, o.clipGlobalNorm) as Float32Array[];
  if (o.clipValue !== undefined) out = clipByValue(out, o.clipValue) as Float32Array[];
  return out === grads ? grads.map((g) => g.slice()) : (out as Float32Array[]);
}

/**
 * The same clipping with tensor ops (no read-back to the CPU); call inside `tidy`. The norm is computed in
 * float32 as `a·√(Σ (g/a)²)` with `a` the largest |g| (0 when every gradient is 0), so huge gradients do
 * not overflow to Infinity (a plain `√(Σ g²)` does beyond about 1.8e19) and the result agrees with
 * {@link clipArrays} (double accumulation) to float32 precision. As there, a non-finite norm leaves the
 * gradients unscaled.
 */
export function clipTensors(grads: readonly tf.Tensor[], o: ClipOptions): tf.Tensor[] {
  let out = [...grads];
  if (o.clipGlobalNorm !== undefined && out.length > 0) {
    const flat =
      out.length === 1 ? tf.reshape(out[0]!, [-1]) : tf.concat(out.map((g) => tf.reshape(g, [-1])));
    const maxAbs = tf.max(tf.abs(flat));
    const divisor = tf.where(tf.greater(maxAbs, 0), maxAbs, tf.onesLike(maxAbs));
    const norm = tf.mul(maxAbs, tf.sqrt(tf.sum(tf.square(tf.div(flat, divisor)))));
    const coef = tf.div(o.clipGlobalNorm, tf.add(norm, 1e-6));
    const scale = tf.where(tf.logicalAnd(tf.isFinite(norm), tf.less(coef, 1)), coef, tf.onesLike(coef));
    out = out.map((g) => tf.mul(g, scale));
  }
  if (o.clipValue !== undefined) {
    const v = o.clipValue;
    out = out.map((g) => tf.clipByValue(g, -v, v));
  }
  return out;
}

/** Whether any clipping is configured. */
export function clips(o: ClipOptions): boolean {
  return o.clipGlobalNorm !== undefined || o.clipValue !== undefined;
}
