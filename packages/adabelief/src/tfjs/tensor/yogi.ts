import * as tf from "@tensorflow/tfjs-core";
import type { YogiCoefficients } from "../../core/optimizers/yogi.js";
import type { TensorRule } from "./rule.js";

/** Yogi's update (see `yogiRule.update` in the core) as TensorFlow.js ops. */
export const yogiTensorRule: TensorRule<YogiCoefficients> = {
  elementwise: true,
  update(theta, grad, slots, c) {
    const g = c.l2 !== 0 ? tf.add(grad, tf.mul(theta, c.l2)) : grad;
    const m = tf.add(tf.mul(slots[0]!, c.beta1), tf.mul(g, c.oneMinusBeta1));
    const g2 = tf.mul(g, g);
    const vOld = slots[1]!;
    const v = tf.sub(vOld, tf.mul(tf.mul(tf.sign(tf.sub(vOld, g2)), c.oneMinusBeta2), g2));
    const denom = tf.add(tf.div(tf.sqrt(v), c.sqrtBc2), c.epsilon);
    return { theta: tf.add(theta, tf.div(tf.mul(m, c.stepSize), denom)), slots: [m, v] };
  },
};
