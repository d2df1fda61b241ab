import type * as tf from "@tensorflow/tfjs-core";

/**
 * The tensor-op form of an {@link UpdateRule}'s `update`: the same math written with TensorFlow.js ops, for
 * backends whose memory the optimizers cannot reach directly (webgl, webgpu, …). It returns the new
 * parameter and the new slots instead of writing in place; the caller runs it inside `tidy`.
 *
 * The scalars `c` are the core rule's `coefficients(t, lr, options)`, computed in double precision and
 * rounded to float32 where they meet a tensor, so this path agrees with the core loop to float32 precision
 * (not bit for bit: the core loop computes each element in double and rounds where it stores).
 *
 * @typeParam C - the rule's coefficient type
 */
export interface TensorRule<C> {
  /**
   * `true` when the update is purely elementwise (every element's result depends only on the same element
   * of θ, the gradient and the slots). Such rules run once over all variables of a step concatenated,
   * instead of once per variable, so many small variables do not pay per-variable op dispatch.
   */
  readonly elementwise: boolean;
  update(
    theta: tf.Tensor,
    grad: tf.Tensor,
    slots: readonly tf.Tensor[],
    c: C,
  ): { theta: tf.Tensor; slots: tf.Tensor[] };
}

/** {@link UpdateRule} is referenced in the TSDoc above. */
export type { UpdateRule } from "../../core/rule.js";
