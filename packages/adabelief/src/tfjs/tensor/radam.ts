import * as tf from "@tensorflow/tfjs-core";
import { RAdamMode, type RAdamCoefficients } from "../../core/optimizers/radam.js";
import type { TensorRule } from "./rule.js";

/** RAdam's update, both variants (see `radamRule.update` in the core), as TensorFlow.js ops. */
export const radamTensorRule: TensorRule<RAdamCoefficients> = {
  elementwise: true,
  update(theta, grad, slots, c) {
    if (c.paper) {
      const v = tf.add(tf.mul(slots[1]!, c.beta2), tf.mul(tf.mul(grad, c.oneMinusBeta2), grad));
      const m = tf.add(tf.mul(slots[0]!, c.beta1), tf.mul(grad, c.oneMinusBeta1));
      if (c.mode === RAdamMode.None) return { theta, slots: [m, v] };
      let th = c.decayTerm !== 0 ? tf.add(theta, tf.mul(theta, c.decayTerm)) : theta;
      th =
        c.mode === RAdamMode.Adaptive
          ? tf.add(th, tf.div(tf.mul(m, c.stepSize), tf.add(tf.sqrt(v), c.epsilon)))
          : tf.add(th, tf.mul(m, c.stepSize));
      return { theta: th, slots: [m, v] };
    }
    const g = c.l2 !== 0 ? tf.add(grad, tf.mul(theta, c.l2)) : grad;
    const m = tf.add(tf.mul(slots[0]!, c.beta1), tf.mul(g, c.oneMinusBeta1));
    const v = tf.add(tf.mul(slots[1]!, c.beta2), tf.mul(tf.mul(g, c.oneMinusBeta2), g));
    const scaled = tf.mul(tf.div(m, c.bc1), c.lr);
    const th =
      c.mode === RAdamMode.Adaptive
        ? tf.sub(
            theta,
            tf.mul(tf.mul(scaled, tf.mul(tf.div(1, tf.add(tf.sqrt(v), c.epsilon)), c.sqrtBc2)), c.rect),
          )
        : tf.sub(theta, scaled);
    return { theta: th, slots: [m, v] };
  },
};
