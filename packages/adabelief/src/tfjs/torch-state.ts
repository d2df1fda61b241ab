import * as tf from "@tensorflow/tfjs-core";
import { StateError } from "../core/errors.js";
import type { StateValue } from "../core/optimizer.js";
import { decodeTorchState, encodeTorchState, type StateSnapshot } from "../core/torch-state.js";
import { learningRateAt } from "../core/validate.js";
import { warn } from "../core/warnings.js";
import { RuleOptimizer } from "./optimizer.js";

/** A variable as {@link toTorchState} and {@link fromTorchState} need it: a `tf.Variable` or a Layers `LayerVariable`. */
export interface TorchStateVariable {
  readonly name: string;
  readonly shape: readonly number[];
}

/** Options of the TF.js {@link toTorchState}. */
export interface TfjsToTorchStateOptions {
  /**
   * The variables in PyTorch's parameter order (for a Layers model, `model.trainableWeights` when the
   * PyTorch model lists its parameters in the same order). Default: the variables this optimizer holds
   * state for, in the order they were created. Their shapes are written as the tensors' shapes.
   */
  variables?: readonly TorchStateVariable[];
}

/** Options of the TF.js {@link fromTorchState}. */
export interface TfjsFromTorchStateOptions {
  /** The variables in PyTorch's parameter order (param groups concatenated): their names and sizes. */
  variables: readonly TorchStateVariable[];
  /** As the core's `FromTorchStateOptions.step`: the step count when the file has none (`torch.optim.SGD`). */
  step?: number;
}

function check(opt: unknown, what: string): asserts opt is RuleOptimizer<never, never, never> {
  if (!(opt instanceof RuleOptimizer)) {
    throw new TypeError(
      `${what}: expected an optimizer of adabelief/tfjs (adabelief(), adam(), adamw(), radam(), sgd())`,
    );
  }
}

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

function snapshot(opt: RuleOptimizer<never, never, never>): Omit<StateSnapshot, "sizes" | "slots"> {
  const options = opt.options as unknown as Record<string, unknown>;
  return {
    rule: opt.rule.name,
    options,
    lr: learningRateAt(opt.learningRate, opt.iterations),
    dtype: "float32",
    step: opt.iterations,
    slotNames: opt.rule.slots(opt.options as never),
  };
}

/**
 * The TF.js optimizer's state as a PyTorch optimizer-state file: the same layout as the core's
 * `toTorchState` (see there), parameter `i` being the i-th variable of `options.variables` (default: the
 * variables this optimizer holds state for, in creation order), each state tensor shaped as its variable.
 * Keep in mind that TensorFlow.js and PyTorch lay out some weights differently (a dense kernel is
 * `[in, out]` in TensorFlow.js and `[out, in]` in PyTorch; convolution kernels `HWIO` against `OIHW`): the
 * state tensors follow their variables, so transpose them as you transpose the weights.
 *
 * @throws StateError for an optimizer without a PyTorch counterpart here, or a variable without state.
 */
export async function toTorchState(
  opt: tf.Optimizer,
  options: TfjsToTorchStateOptions = {},
): Promise<Uint8Array> {
  check(opt, "toTorchState");
  const base = snapshot(opt);
  const weights = (await opt.getWeights()).filter((w) => w.name !== "iter");
  const byVariable = new Map<string, Map<string, tf.Tensor>>();
  for (const { name, tensor } of weights) {
    const cut = name.lastIndexOf("/");
    const variable = name.slice(0, cut);
    if (!byVariable.has(variable)) byVariable.set(variable, new Map());
    byVariable.get(variable)!.set(name.slice(cut + 1), tensor);
  }
  const variables =
    options.variables ??
    [...byVariable.entries()].map(([name, slots]) => ({ name, shape: [...slots.values()][0]?.shape ?? [0] }));
  const slots: Record<string, Float32Array[]> = {};
  for (const slot of base.slotNames) slots[slot] = [];
  for (const v of variables) {
    const own = byVariable.get(v.name);
    if (own === undefined && base.step > 0) {
      throw new StateError(`toTorchState: this optimizer holds no state for variable ${v.name}`);
    }
    for (const slot of base.slotNames) {
      const t = own?.get(slot);
      if (t !== undefined && size(t.shape) !== size(v.shape)) {
        throw new StateError(
          `toTorchState: variable ${v.name} has shape [${v.shape.join(", ")}], its ${slot} [${t.shape.join(", ")}]`,
        );
      }
      slots[slot]!.push(
        t === undefined ? new Float32Array(size(v.shape)) : ((await t.data()) as Float32Array),
      );
    }
  }
  return encodeTorchState(
    { ...base, sizes: variables.map((v) => size(v.shape)), slots },
    variables.map((v) => [...v.shape]),
    "toTorchState",
  );
}

/**
 * Continues a TF.js optimizer from a PyTorch optimizer-state file (see the core's `fromTorchState`):
 * PyTorch's parameter `i` becomes `options.variables[i]`, whose names bind the state (through
 * `setWeights`, so a fresh optimizer takes it at its next step, as after `tf.loadLayersModel`). The
 * optimizer keeps its own hyper-parameters; differing ones are named in a warning. All or nothing: a file
 * that does not fit is refused with a `StateError` and the optimizer is left as it was.
 */
export async function fromTorchState(
  opt: tf.Optimizer,
  file: Uint8Array,
  options: TfjsFromTorchStateOptions,
): Promise<void> {
  check(opt, "fromTorchState");
  const variables = options?.variables;
  if (!Array.isArray(variables) || variables.length === 0) {
    throw new TypeError(
      "fromTorchState: options.variables must list the variables in PyTorch's parameter order",
    );
  }
  const base = snapshot(opt);
  const snap: StateSnapshot = { ...base, sizes: variables.map((v) => size(v.shape)), slots: {} };
  const { step, slots, warning } = decodeTorchState(snap, file, options.step, "fromTorchState");
  if (warning !== null) warn(warning);
  const values = (v: readonly StateValue[]) =>
    Float32Array.from(v, (x) => (typeof x === "number" ? x : Number(x)));
  const named: { name: string; tensor: tf.Tensor }[] = [{ name: "iter", tensor: tf.scalar(step, "int32") }];
  try {
    variables.forEach((v, i) => {
      for (const slot of base.slotNames) {
        named.push({
          name: `${v.name}/${slot}`,
          tensor: tf.tensor(values(slots[slot]![i]!), [...v.shape], "float32"),
        });
      }
    });
    await opt.setWeights(named);
  } finally {
    for (const { tensor } of named) tensor.dispose();
  }
}
