import * as tf from "@tensorflow/tfjs-core";
import type { AdaBoundCoefficients } from "../../core/optimizers/adabound.js";
import type { TensorRule } from "./rule.js";

/** AdaBound's / AMSBound's update (see `adaboundRule.update` in the core) as TensorFlow.js ops. */
export const adaboundTensorRule: TensorRule<AdaBoundCoefficients> = {
  elementwise: true,
  update(theta, grad, slots, c) {
    const g = c.l2 !== 0 ? tf.add(grad, tf.mul(theta, c.l2)) : grad;
    const m = tf.add(tf.mul(slots[0]!, c.beta1), tf.mul(g, c.oneMinusBeta1));
    const v = tf.add(tf.mul(slots[1]!, c.beta2), tf.mul(tf.mul(g, c.oneMinusBeta2), g));
    const out = [m, v];
    let denomFrom = v;
    if (slots.length > 2) {
      const vMax = tf.maximum(slots[2]!, v);
      out.push(vMax);
      if (c.useMax) denomFrom = vMax;
    }
    const eta = tf.div(c.stepSize, tf.add(tf.sqrt(denomFrom), c.epsilon));
    const clamped = tf.clipByValue(eta, c.lower, c.upper);
    return { theta: tf.sub(theta, tf.mul(clamped, m)), slots: out };
  },
};
