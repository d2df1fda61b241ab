import * as tf from "@tensorflow/tfjs-core";
import { AdaBeliefMode, type AdaBeliefCoefficients } from "../../core/optimizers/adabelief.js";
import type { TensorRule } from "./rule.js";

/** AdaBelief's update (see `adabeliefRule.update` in the core) as TensorFlow.js ops. */
export const adabeliefTensorRule: TensorRule<AdaBeliefCoefficients> = {
  elementwise: true,
  update(theta, grad, slots, c) {
    let th = c.decay !== 1 ? tf.mul(theta, c.decay) : theta;
    const g = c.l2 !== 0 ? tf.add(grad, tf.mul(th, c.l2)) : grad;
    const m = tf.add(tf.mul(slots[0]!, c.beta1), tf.mul(g, c.oneMinusBeta1));
    const r = tf.sub(g, m);
    const s = tf.add(tf.add(tf.mul(slots[1]!, c.beta2), tf.mul(tf.mul(r, c.oneMinusBeta2), r)), c.epsilon);
    const out = [m, s];
    let denomFrom = s;
    if (slots.length > 2) {
      const sMax = tf.maximum(slots[2]!, s);
      out.push(sMax);
      if (c.useMax) denomFrom = sMax;
    }
    if (c.mode === AdaBeliefMode.Adaptive) {
      const denom = tf.add(tf.div(tf.sqrt(denomFrom), c.sqrtBc2), c.epsilon);
      th = tf.add(th, tf.div(tf.mul(m, c.stepSize), denom));
    } else if (c.mode === AdaBeliefMode.Sgd) {
      th = tf.add(th, tf.mul(m, c.stepSize));
    }
    return { theta: th, slots: out };
  },
};
