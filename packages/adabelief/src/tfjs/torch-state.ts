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
   * state for, in the order they were created. Their shapes are written as the tensors' shapes. With
   * parameter groups, PyTorch's order is group by group: the variables of the first group (in this list's
   * order), then the second group's, …, then those that match no group.
   */
  variables?: readonly TorchStateVariable[];
}

/** Options of the TF.js {@link fromTorchState}. */
export interface TfjsFromTorchStateOptions {
  /**
   * The variables in PyTorch's parameter order (param groups concatenated): their names and sizes. With
   * parameter groups, taken group by group as {@link TfjsToTorchStateOptions.variables} says.
   */
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

/**
 * The variables in PyTorch's parameter order for the optimizer's parameter groups: those of the first group
 * (in the order given), then the second's, …, then those of no group. Without groups, as given.
 */
function inGroupOrder<T extends TorchStateVariable>(
  opt: RuleOptimizer<never, never, never>,
  variables: readonly T[],
): T[] {
  const last = opt.paramGroups.length;
  return variables
    .map((v, i) => ({ v, i, k: opt.paramGroupOf(v.name) }))
    .map((x) => ({ ...x, k: x.k < 0 ? last : x.k }))
    .sort((a, b) => a.k - b.k || a.i - b.i)
    .map((x) => x.v);
}

/**
 * The optimizer's side of a snapshot over `names` (the variables in PyTorch's order): one PyTorch param group
 * per parameter group of the optimizer, in order, then one for the variables that match none (the
 * optimizer's own options); without groups, that one.
 */
function snapshot(
  opt: RuleOptimizer<never, never, never>,
  names: readonly string[],
): Omit<StateSnapshot, "sizes" | "slots"> {
  const rule = opt.rule as unknown as { slots(o: unknown): readonly string[] };
  const own = { options: opt.options as unknown, lr: learningRateAt(opt.learningRate, opt.iterations) };
  const sources = [
    ...opt.paramGroups.map((g) => ({ options: g.options as unknown, lr: g.currentLearningRate })),
    own,
  ];
  const groupOf = names.map((n) => {
    const k = opt.paramGroupOf(n);
    return k < 0 ? sources.length - 1 : k;
  });
  const groups = sources.map((g, k) => ({
    options: g.options as Record<string, unknown>,
    lr: g.lr,
    params: groupOf.flatMap((j, i) => (j === k ? [i] : [])),
    slotNames: rule.slots(g.options),
  }));
  return {
    rule: opt.rule.name,
    options: opt.options as unknown as Record<string, unknown>,
    groups,
    dtype: "float32",
    step: opt.iterations,
    slotNames: [...new Set(groups.flatMap((g) => g.slotNames))],
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
 * With parameter groups (option `groups`), the file holds one PyTorch param group per group, in order, with
 * the group's options and its variables, then one for the variables that match no group (the optimizer's
 * own options; empty groups included), the parameters numbered group by group as PyTorch numbers them:
 * build the PyTorch optimizer with the same groups in that order.
 *
 * @throws StateError for an optimizer without a PyTorch counterpart here, or a variable without state.
 */
export async function toTorchState(
  opt: tf.Optimizer,
  options: TfjsToTorchStateOptions = {},
): Promise<Uint8Array> {
  check(opt, "toTorchState");
  const weights = (await opt.getWeights()).filter((w) => w.name !== "iter");
  const byVariable = new Map<string, Map<string, tf.Tensor>>();
  for (const { name, tensor } of weights) {
    const cut = name.lastIndexOf("/");
    const variable = name.slice(0, cut);
    if (!byVariable.has(variable)) byVariable.set(variable, new Map());
    byVariable.get(variable)!.set(name.slice(cut + 1), tensor);
  }
  const variables = inGroupOrder(
    opt,
    options.variables ??
      [...byVariable.entries()].map(([name, slots]) => ({
        name,
        shape: [...slots.values()][0]?.shape ?? [0],
      })),
  );
  const base = snapshot(
    opt,
    variables.map((v) => v.name),
  );
  const namesOf = new Map(base.groups.flatMap((g) => g.params.map((i) => [i, g.slotNames] as const)));
  const slots: Record<string, Float32Array[]> = {};
  for (const slot of base.slotNames) slots[slot] = [];
  for (const [i, v] of variables.entries()) {
    const own = byVariable.get(v.name);
    const mine = namesOf.get(i) ?? [];
    if (own === undefined && base.step > 0 && mine.length > 0) {
      throw new StateError(`toTorchState: this optimizer holds no state for variable ${v.name}`);
    }
    for (const slot of base.slotNames) {
      if (!mine.includes(slot)) {
        slots[slot]!.push(new Float32Array(0));
        continue;
      }
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
 * optimizer keeps its own hyper-parameters; where a saved param group differs from the options of the
 * variables it holds here (their parameter group's), a warning names the difference. All or nothing: a file
 * that does not fit is refused with a `StateError` and the optimizer is left as it was.
 */
export async function fromTorchState(
  opt: tf.Optimizer,
  file: Uint8Array,
  options: TfjsFromTorchStateOptions,
): Promise<void> {
  check(opt, "fromTorchState");
  const given = options?.variables;
  if (!Array.isArray(given) || given.length === 0) {
    throw new TypeError(
      "fromTorchState: options.variables must list the variables in PyTorch's parameter order",
    );
  }
  const variables = inGroupOrder(opt, given);
  const base = snapshot(
    opt,
    variables.map((v) => v.name),
  );
  const snap: StateSnapshot = { ...base, sizes: variables.map((v) => size(v.shape)), slots: {} };
  const namesOf = new Map(base.groups.flatMap((g) => g.params.map((i) => [i, g.slotNames] as const)));
  const { step, slots, warning } = decodeTorchState(snap, file, options.step, "fromTorchState");
  if (warning !== null) warn(warning);
  const values = (v: readonly StateValue[]) =>
    Float32Array.from(v, (x) => (typeof x === "number" ? x : Number(x)));
  const named: { name: string; tensor: tf.Tensor }[] = [{ name: "iter", tensor: tf.scalar(step, "int32") }];
  try {
    variables.forEach((v, i) => {
      for (const slot of base.slotNames) {
        if (!namesOf.get(i)?.includes(slot)) continue; // not a slot of its parameter group
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
