import * as tf from "@tensorflow/tfjs-core";
import type { FromageCoefficients } from "../../core/optimizers/fromage.js";
import type { TensorRule } from "./rule.js";

/**
 * Fromage's update (see `fromageRule.update` in the core) as TensorFlow.js ops. The norms are per variable,
 * `tf.norm` of the float32 tensor: the squares are float32, so they underflow and overflow in about the same
 * ranges as torch's (a norm of 0 or +∞ takes the same branch as in the reference); the summation order and the
 * unfused `θ − α·x` are TF.js's, so last bits can differ from the core, which follows torch's order exactly.
 */
export const fromageTensorRule: TensorRule<FromageCoefficients> = {
  elementwise: false,
  update(theta, grad, _slots, c) {
    const shrink = Math.fround(c.shrink);
    const nTheta = tf.norm(theta);
    const nGrad = tf.norm(grad);
    const both = tf.logicalAnd(tf.greater(nTheta, 0), tf.greater(nGrad, 0));
    const ratio = tf.where(both, tf.div(nTheta, nGrad), tf.onesLike(nTheta));
    const th = tf.div(tf.sub(theta, tf.mul(tf.mul(grad, ratio), c.lr)), shrink);
    return { theta: th, slots: [] };
  },
};
