import * as tf from "@tensorflow/tfjs-core";
import type { AdamCoefficients } from "../../core/optimizers/adam.js";
import type { TensorRule } from "./rule.js";

/** Adam's / AdamW's update (see `adamRule.update` in the core) as TensorFlow.js ops. */
export const adamTensorRule: TensorRule<AdamCoefficients> = {
  elementwise: true,
  update(theta, grad, slots, c) {
    let th = c.decay !== 1 ? tf.mul(theta, c.decay) : theta;
    const g = c.l2 !== 0 ? tf.add(grad, tf.mul(th, c.l2)) : grad;
    const m = tf.add(tf.mul(slots[0]!, c.beta1), tf.mul(g, c.oneMinusBeta1));
    const v = tf.add(tf.mul(slots[1]!, c.beta2), tf.mul(tf.mul(g, c.oneMinusBeta2), g));
    const out = [m, v];
    let vHat = v;
    if (slots.length > 2) {
      vHat = tf.maximum(slots[2]!, v);
      out.push(vHat);
    }
    const denom = tf.add(tf.div(tf.sqrt(vHat), c.sqrtBc2), c.epsilon);
    th = tf.add(th, tf.div(tf.mul(m, c.stepSize), denom));
    return { theta: th, slots: out };
  },
};
