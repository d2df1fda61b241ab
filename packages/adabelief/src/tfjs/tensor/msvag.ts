import * as tf from "@tensorflow/tfjs-core";
import type { MSVAGCoefficients } from "../../core/optimizers/msvag.js";
import type { TensorRule } from "./rule.js";

/** M-SVAG's update (see `msvagRule.update` in the core) as TensorFlow.js ops. */
export const msvagTensorRule: TensorRule<MSVAGCoefficients> = {
  elementwise: true,
  update(theta, grad, slots, c) {
    const g = c.l2 !== 0 ? tf.add(grad, tf.mul(theta, c.l2)) : grad;
    const m = tf.add(tf.mul(slots[0]!, c.beta1), tf.mul(g, c.oneMinusBeta1));
    const v = tf.add(tf.mul(slots[1]!, c.beta1), tf.mul(tf.mul(g, c.oneMinusBeta1), g));
    if (c.oneMinusRho === 0) return { theta, slots: [m, v] };
    const mHat = tf.div(m, c.bc1);
    const vHat = tf.div(v, c.bc1);
    const m2 = tf.mul(mHat, mHat);
    const s = tf.div(tf.sub(vHat, m2), c.oneMinusRho);
    const gammaRaw = tf.div(m2, tf.add(m2, tf.mul(s, c.rho)));
    const gamma = tf.where(tf.isNaN(gammaRaw), tf.zerosLike(gammaRaw), gammaRaw);
    return { theta: tf.add(theta, tf.mul(tf.mul(mHat, c.negLr), gamma)), slots: [m, v] };
  },
};
