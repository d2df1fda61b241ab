import * as tf from "@tensorflow/tfjs-core";
import { GradientMismatchError } from "../core/errors.js";

/** A value as error messages quote it. */
export function show(value: unknown): string {
  if (typeof value === "function") return "a function";
  if (value instanceof tf.Tensor) return `a ${value.dtype} tensor of shape [${value.shape.join(",")}]`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** A shape as error messages quote it, e.g. `[3,2]`. */
export function shapeText(shape: readonly number[]): string {
  return `[${shape.join(",")}]`;
}

/** One checked gradient of an `applyGradients` call. */
export interface GivenGradient {
  name: string;
  variable: tf.Variable;
  grad: tf.Tensor;
}

/**
 * Reads `applyGradients`'s argument (a map `{name: gradient}` or an array `[{name, tensor}]`): skips null
 * gradients and checks the rest before anything changes — a registered float32 variable of that name, a live
 * float32 tensor of its shape, one gradient per variable. A problem throws a `GradientMismatchError` naming
 * `who` and the variable.
 */
export function collectGradients(
  variableGradients: tf.NamedTensorMap | { name: string; tensor: tf.Tensor }[],
  who: string,
): GivenGradient[] {
  const fail = (what: string): never => {
    throw new GradientMismatchError(`${who}.applyGradients: ${what}; nothing was changed`);
  };
  if (typeof variableGradients !== "object" || variableGradients === null) {
    fail(
      `expected a map {variableName: gradient} or an array [{name, tensor}], got ${show(variableGradients)}`,
    );
  }
  const list: { name: unknown; tensor: unknown }[] = Array.isArray(variableGradients)
    ? variableGradients.map((e, i) => {
        if (typeof e !== "object" || e === null)
          fail(`entry ${i} of the gradient array is ${show(e)}, not {name, tensor}`);
        return e;
      })
    : Object.keys(variableGradients).map((k) => ({ name: k, tensor: variableGradients[k] }));
  const registered = tf.engine().registeredVariables;
  // A map's keys are distinct names, so distinct variables: only the array form can repeat one.
  const seen = Array.isArray(variableGradients) ? new Set<tf.Variable>() : null;
  const out: GivenGradient[] = [];
  for (const { name: varName, tensor } of list) {
    if (tensor === null || tensor === undefined) continue;
    if (typeof varName !== "string") fail(`a gradient has the name ${show(varName)}; names must be strings`);
    const v = varName as string;
    const variable = Object.prototype.hasOwnProperty.call(registered, v) ? registered[v] : undefined;
    if (!variable) fail(`there is no registered variable named "${v}"`);
    if (!(tensor instanceof tf.Tensor))
      fail(`the gradient of variable "${v}" is ${show(tensor)}, not a tf.Tensor`);
    const grad = tensor as tf.Tensor;
    if (grad.isDisposed) fail(`the gradient of variable "${v}" is a disposed tensor`);
    if (seen) {
      if (seen.has(variable!)) fail(`variable "${v}" has more than one gradient`);
      seen.add(variable!);
    }
    if (variable!.dtype !== "float32")
      fail(`variable "${v}" has dtype ${variable!.dtype}; only float32 variables can be trained`);
    if (grad.dtype !== "float32")
      fail(`the gradient of variable "${v}" has dtype ${grad.dtype}, expected float32`);
    if (!tf.util.arraysEqual(grad.shape, variable!.shape)) {
      fail(
        `the gradient of variable "${v}" has shape ${shapeText(grad.shape)} but the variable has shape ${shapeText(variable!.shape)}`,
      );
    }
    out.push({ name: v, variable: variable!, grad });
  }
  return out;
}
