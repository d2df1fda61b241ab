import * as tf from "@tensorflow/tfjs-core";
import type { SGDCoefficients } from "../../core/optimizers/sgd.js";
import type { TensorRule } from "./rule.js";

/** SGD's update (see `sgdRule.update` in the core) as TensorFlow.js ops. */
export const sgdTensorRule: TensorRule<SGDCoefficients> = {
  elementwise: true,
  update(theta, grad, slots, c) {
    const g = c.l2 !== 0 ? tf.add(grad, tf.mul(theta, c.l2)) : grad;
    if (c.momentum === 0) return { theta: tf.add(theta, tf.mul(g, c.stepSize)), slots: [] };
    const buf = c.first ? g : tf.add(tf.mul(slots[0]!, c.momentum), tf.mul(g, c.oneMinusDampening));
    const d = c.nesterov ? tf.add(g, tf.mul(buf, c.momentum)) : buf;
    return { theta: tf.add(theta, tf.mul(d, c.stepSize)), slots: [buf] };
  },
};
