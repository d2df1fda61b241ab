import { StateError } from "./errors.js";
import { Optimizer, STATE_FORMAT, STATE_VERSION, type OptimizerState, type StateValue } from "./optimizer.js";
import { readSafetensors, writeSafetensors, type SafeTensor } from "./safetensors.js";
import { warn } from "./warnings.js";

/** The PyTorch optimizers whose `state_dict()` layout {@link toTorchState} writes and {@link fromTorchState} reads. */
export type TorchOptimizerName =
  | "adabelief_pytorch.AdaBelief"
  | "torch.optim.SGD"
  | "torch.optim.Adam"
  | "torch.optim.AdamW"
  | "torch.optim.RAdam";

/** Options of {@link toTorchState}. */
export interface ToTorchStateOptions {
  /**
   * The PyTorch shape of each parameter, in order (their products must be the parameters' lengths); by
   * default each state tensor is one-dimensional. PyTorch needs the state tensors shaped like the
   * parameters it continues with.
   */
  shapes?: readonly (readonly number[])[];
}

/** Options of {@link fromTorchState}. */
export interface FromTorchStateOptions {
  /**
   * The step count to continue from when the file has none: `torch.optim.SGD` keeps no step count. By
   * default the file's `adabelief.step` metadata (written by {@link toTorchState}), else 1 when momentum
   * buffers are present and 0 when not.
   */
  step?: number;
}

interface Layout {
  torch: TorchOptimizerName;
  /** Our slot → PyTorch's state key. */
  slots: Record<string, string>;
  /** Whether PyTorch keeps `step` as a float32 scalar tensor (torch ≥ 1.12's Adam, AdamW, RAdam) or a number. */
  step: "tensor" | "number" | "none";
  /** The param group PyTorch stores, from our resolved options and the current learning rate. */
  group(o: Record<string, unknown>, lr: number): Record<string, unknown>;
  /** Our options that PyTorch's constructor takes but does not store in the state (for the docs' snippet). */
  kwargs?(o: Record<string, unknown>): Record<string, unknown>;
}

const betas = (o: Record<string, unknown>) => [o["beta1"], o["beta2"]];
const adamGroup = (o: Record<string, unknown>, lr: number) => ({
  lr,
  betas: betas(o),
  eps: o["epsilon"],
  weight_decay: o["weightDecay"],
  amsgrad: o["amsgrad"],
  maximize: false,
  foreach: null,
  capturable: false,
  differentiable: false,
  fused: false,
});

const LAYOUTS: Record<string, Layout> = {
  AdaBelief: {
    torch: "adabelief_pytorch.AdaBelief",
    slots: { m: "exp_avg", s: "exp_avg_var", sMax: "max_exp_avg_var" },
    step: "number",
    group: (o, lr) => ({
      lr,
      betas: betas(o),
      eps: o["epsilon"],
      weight_decay: o["weightDecay"],
      amsgrad: o["amsgrad"],
      buffer: Array.from({ length: 10 }, () => [null, null, null]),
    }),
    kwargs: (o) => ({
      weight_decouple: o["weightDecouple"],
      fixed_decay: o["fixedDecay"],
      rectify: o["rectify"],
      degenerated_to_sgd: o["degeneratedToSgd"],
    }),
  },
  SGD: {
    torch: "torch.optim.SGD",
    slots: { momentumBuffer: "momentum_buffer" },
    step: "none",
    group: (o, lr) => ({
      lr,
      momentum: o["momentum"],
      dampening: o["dampening"],
      weight_decay: o["weightDecay"],
      nesterov: o["nesterov"],
      maximize: false,
      foreach: null,
      differentiable: false,
    }),
  },
  Adam: {
    torch: "torch.optim.Adam",
    slots: { m: "exp_avg", v: "exp_avg_sq", vMax: "max_exp_avg_sq" },
    step: "tensor",
    group: adamGroup,
  },
  AdamW: {
    torch: "torch.optim.AdamW",
    slots: { m: "exp_avg", v: "exp_avg_sq", vMax: "max_exp_avg_sq" },
    step: "tensor",
    // torch 1.13's AdamW stores no `differentiable` and `fused` (its Adam does).
    group: (o, lr) => {
      const { differentiable: _d, fused: _f, ...group } = adamGroup(o, lr);
      return group;
    },
  },
  RAdam: {
    torch: "torch.optim.RAdam",
    slots: { m: "exp_avg", v: "exp_avg_sq" },
    step: "tensor",
    group: (o, lr) => ({
      lr,
      betas: betas(o),
      eps: o["epsilon"],
      weight_decay: o["weightDecay"],
      foreach: null,
    }),
  },
};

/** The param-group keys compared on import (the others are PyTorch's implementation switches). */
const COMPARED = ["lr", "betas", "eps", "weight_decay", "amsgrad", "momentum", "dampening", "nesterov"];

/**
 * What the PyTorch codec needs of an optimizer, core or TF.js: the rule's name, its resolved options, the
 * parameter groups (each with its options, the learning rate of its next step, its parameters and slot
 * names), the dtype, the step count, every slot name and, per parameter, its length and slot values.
 * @internal
 */
export interface StateSnapshot {
  rule: string;
  /** The optimizer's own options (the optimizer-wide ones are the same in every group). */
  options: Record<string, unknown>;
  groups: readonly SnapshotGroup[];
  dtype: "float32" | "float64";
  step: number;
  /** Every slot name of the groups. */
  slotNames: readonly string[];
  sizes: readonly number[];
  /**
   * slot → per parameter → values (finite numbers or the state's non-finite markers); a parameter whose group
   * has no such slot has an empty entry.
   */
  slots: Record<string, readonly (readonly StateValue[] | ArrayLike<number>)[]>;
}

/**
 * One parameter group of a {@link StateSnapshot}.
 * @internal
 */
export interface SnapshotGroup {
  options: Record<string, unknown>;
  /** The learning rate of the group's next step. */
  lr: number;
  /** Indices of the group's parameters in the snapshot's parameter list, in order. */
  params: readonly number[];
  slotNames: readonly string[];
}

function layoutFor(rule: string, options: Record<string, unknown>, what: string): Layout {
  const layout = LAYOUTS[rule];
  if (!layout) {
    throw new StateError(
      `${what}: ${rule} has no PyTorch counterpart whose state this library maps (AdaBelief, SGD, Adam, AdamW and RAdam do)`,
    );
  }
  if (rule === "RAdam" && options["variant"] === "paper") {
    throw new StateError(
      `${what}: RAdam with variant "paper" is the paper's RAdam.py, not torch.optim.RAdam`,
    );
  }
  return layout;
}

function snapshotOf(opt: Optimizer, what: string): StateSnapshot {
  if (!(opt instanceof Optimizer)) {
    throw new TypeError(`${what}: expected a core optimizer (AdaBelief, SGD, Adam, AdamW or RAdam)`);
  }
  const state = opt.getState();
  let start = 0;
  const groups = opt.paramGroups.map((g) => {
    const params = g.params.map((_, j) => start + j);
    start += g.params.length;
    return {
      options: g.options as unknown as Record<string, unknown>,
      lr: g.currentLearningRate,
      params,
      slotNames: opt.rule.slots(g.options),
    };
  });
  return {
    rule: opt.rule.name,
    options: opt.options as unknown as Record<string, unknown>,
    groups,
    dtype: opt.dtype,
    step: state.step,
    slotNames: Object.keys(state.slots),
    sizes: state.sizes,
    slots: state.slots,
  };
}

/** Per parameter of a snapshot, the index of its group. */
function groupIndexByParam(snap: StateSnapshot): number[] {
  const out = new Array<number>(snap.sizes.length).fill(-1);
  snap.groups.forEach((g, k) => g.params.forEach((i) => (out[i] = k)));
  return out;
}

/** Per parameter of a snapshot, its group's slot names. */
function slotNamesByParam(snap: StateSnapshot): (readonly string[])[] {
  return groupIndexByParam(snap).map((k) => snap.groups[k]?.slotNames ?? []);
}

const valueOf = (x: StateValue | number): number => (typeof x === "number" ? x : Number(x));
const markerOf = (x: number): StateValue => (x - x === 0 ? x : (String(x) as StateValue));

/**
 * The optimizer's state in the layout of the PyTorch optimizer it reproduces, as a safetensors file, so a
 * run can continue in PyTorch (for example under DDP/FSDP): `AdaBelief` → the official
 * `adabelief_pytorch.AdaBelief` (0.2.x), `SGD`, `Adam`, `AdamW`, `RAdam` → `torch.optim`'s.
 *
 * The file holds one tensor per parameter and state entry, named `state.<i>.<key>` with PyTorch's keys
 * (`exp_avg`, `exp_avg_var`, `max_exp_avg_var`; `exp_avg_sq`, `max_exp_avg_sq`, `step`; `momentum_buffer`),
 * parameter `i` being the optimizer's i-th parameter (the groups' parameters in order); its `__metadata__`
 * holds `param_groups` (one per parameter group, with PyTorch's keys, `lr` the learning rate of the group's
 * next step, `params` the indices of its parameters) and `scalars` (AdaBelief's integer `step`) as JSON, the PyTorch class in `optimizer`, our step count in `adabelief.step` and, for AdaBelief,
 * the constructor arguments PyTorch does not store in the state (`weight_decouple`, `rectify`, …) in
 * `constructor`. The docs show the few lines of Python that load it into `load_state_dict`.
 *
 * @throws StateError for an optimizer without a PyTorch counterpart here (Yogi, AdaBound, MSVAG, Fromage,
 *   RAdam's paper variant), or shapes that do not match the parameters.
 */
export function toTorchState(opt: Optimizer, options: ToTorchStateOptions = {}): Uint8Array {
  return encodeTorchState(snapshotOf(opt, "toTorchState"), options.shapes, "toTorchState");
}

/**
 * {@link toTorchState} of a snapshot (shared by the core and the TF.js optimizers).
 * @internal
 */
export function encodeTorchState(
  snap: StateSnapshot,
  shapesOption: readonly (readonly number[])[] | undefined,
  what: string,
): Uint8Array {
  const layout = layoutFor(snap.rule, snap.options, what);
  const sizes = snap.sizes;
  const shapes = shapesOption ?? sizes.map((n) => [n]);
  if (shapes.length !== sizes.length) {
    throw new StateError(`${what}: ${shapes.length} shapes for ${sizes.length} parameters`);
  }
  shapes.forEach((s, i) => {
    const n = s.reduce((a, b) => a * b, 1);
    if (!s.every((d) => Number.isSafeInteger(d) && d >= 0) || n !== sizes[i]) {
      throw new StateError(
        `${what}: shape [${s.join(", ")}] of parameter ${i} does not hold its ${sizes[i]} values`,
      );
    }
  });
  const dtype = snap.dtype === "float64" ? "F64" : "F32";
  const Ctor = snap.dtype === "float64" ? Float64Array : Float32Array;
  const tensors: Record<string, SafeTensor> = {};
  const scalars: Record<string, Record<string, number>> = {};
  const slotsOf = slotNamesByParam(snap);
  // PyTorch creates the state at the first step: before it, the state is empty.
  if (snap.step > 0) {
    sizes.forEach((_, i) => {
      for (const [slot, key] of Object.entries(layout.slots)) {
        const values = snap.slots[slot]?.[i];
        if (values === undefined || !slotsOf[i]!.includes(slot)) continue;
        tensors[`state.${i}.${key}`] = {
          dtype,
          shape: [...shapes[i]!],
          data: (Ctor as typeof Float64Array).from(Array.from(values as ArrayLike<StateValue>, valueOf)),
        };
      }
      if (layout.step === "tensor") {
        tensors[`state.${i}.step`] = { dtype: "F32", shape: [], data: Float32Array.of(snap.step) };
      }
      if (layout.step === "number") scalars[String(i)] = { step: snap.step };
    });
  }
  const groups = snap.groups.map((g) => ({ ...layout.group(g.options, g.lr), params: [...g.params] }));
  const metadata: Record<string, string> = {
    format: "pt",
    content: "optimizer-state",
    optimizer: layout.torch,
    param_groups: JSON.stringify(groups),
    scalars: JSON.stringify(scalars),
    "adabelief.step": String(snap.step),
  };
  if (layout.kwargs) metadata["constructor"] = JSON.stringify(layout.kwargs(snap.options));
  return writeSafetensors(tensors, metadata);
}

function parseJson(metadata: Record<string, string>, key: string, what: string): unknown {
  const text = metadata[key];
  if (text === undefined) throw new StateError(`${what}: the file's metadata has no ${key}`);
  try {
    return JSON.parse(text);
  } catch {
    throw new StateError(`${what}: the file's ${key} metadata is not JSON`);
  }
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Continues from a PyTorch optimizer's state: reads a safetensors file in the layout {@link toTorchState}
 * writes (written from PyTorch with the docs' Python lines, or by {@link toTorchState}) into `opt`, which
 * must be the same kind of optimizer over parameters of the same sizes, in PyTorch's parameter order
 * (param groups concatenated). State tensors of another float dtype are cast, as PyTorch's
 * `load_state_dict` casts them to the parameters' dtype.
 *
 * Hyper-parameters stay `opt`'s own: where a saved param group differs (learning rate, betas, ε, weight
 * decay, AMSGrad, momentum…) from the options of `opt`'s parameters it holds (their parameter group's), a
 * warning names the difference, as {@link Optimizer.setState} does. All or nothing: a file that does not fit
 * is refused with a {@link StateError} and `opt` is left as it was.
 */
export function fromTorchState(opt: Optimizer, file: Uint8Array, options: FromTorchStateOptions = {}): void {
  const snap = snapshotOf(opt, "fromTorchState");
  const { step, slots, warning } = decodeTorchState(snap, file, options.step, "fromTorchState");
  const state: OptimizerState = {
    format: STATE_FORMAT,
    version: STATE_VERSION,
    optimizer: snap.rule,
    dtype: snap.dtype,
    step,
    sizes: [...snap.sizes],
    slots,
    groups: snap.groups.map((g) => ({ params: g.params.length })),
  };
  // A warning handler that throws (warnings as errors) stops here, before anything is replaced.
  if (warning !== null) warn(warning);
  opt.setState(state);
}

/**
 * Reads a PyTorch optimizer-state file for the optimizer described by `snap` (its rule, options, sizes and
 * slot names): the step count, the slot values in `snap`'s parameter order, and a warning naming the
 * hyper-parameters the file's param groups give differently, or `null`. Changes nothing.
 * @internal
 */
export function decodeTorchState(
  snap: StateSnapshot,
  file: Uint8Array,
  stepOption: number | undefined,
  what: string,
): { step: number; slots: Record<string, StateValue[][]>; warning: string | null } {
  const layout = layoutFor(snap.rule, snap.options, what);
  const { tensors, metadata } = readSafetensors(file);
  if (metadata["optimizer"] !== layout.torch) {
    throw new StateError(
      `${what}: the file holds ${metadata["optimizer"] ?? "an unnamed optimizer"}'s state, but ${snap.rule} continues ${layout.torch}`,
    );
  }
  const groups = parseJson(metadata, "param_groups", what);
  const scalars = (metadata["scalars"] === undefined ? {} : parseJson(metadata, "scalars", what)) as Record<
    string,
    Record<string, unknown>
  >;
  if (!Array.isArray(groups) || groups.length === 0) {
    throw new StateError(`${what}: param_groups is not a non-empty list`);
  }
  const order = groups.flatMap((g: { params?: unknown }) =>
    Array.isArray(g?.params) ? (g.params as unknown[]) : [NaN],
  );
  const n = snap.sizes.length;
  if (order.length !== n || !order.every((p) => Number.isSafeInteger(p))) {
    throw new StateError(
      `${what}: the file's param groups hold ${order.length} parameters, this optimizer ${n}`,
    );
  }
  // Each saved group is compared with the options of the parameters it holds here (their group's): the
  // file's parameter i (groups concatenated) is this optimizer's parameter i.
  const groupOf = groupIndexByParam(snap);
  const several = groups.length > 1 || snap.groups.length > 1;
  const differences = new Set<string>();
  let i0 = 0;
  (groups as Record<string, unknown>[]).forEach((g, f) => {
    const count = (g["params"] as unknown[]).length;
    const mine = new Set(groupOf.slice(i0, i0 + count));
    i0 += count;
    for (const k of mine) {
      const ours = layout.group(snap.groups[k]!.options, snap.groups[k]!.lr);
      for (const key of COMPARED) {
        if (key in ours && key in g && !same(ours[key], g[key])) {
          const where = several ? `param group ${f}: ` : "";
          differences.add(`${where}${key} ${JSON.stringify(g[key])} (here ${JSON.stringify(ours[key])})`);
        }
      }
    }
  });
  const slotsOf = slotNamesByParam(snap);
  // Steps: one per parameter in PyTorch; ours is one count for all.
  const steps = new Set<number>();
  const slots: Record<string, StateValue[][]> = {};
  for (const slot of snap.slotNames) slots[slot] = [];
  let anyState = false;
  for (let i = 0; i < n; i++) {
    const id = order[i] as number;
    const size = snap.sizes[i]!;
    for (const slot of snap.slotNames) {
      if (!slotsOf[i]!.includes(slot)) {
        slots[slot]!.push([]);
        continue;
      }
      const key = layout.slots[slot];
      const t = key === undefined ? undefined : tensors[`state.${id}.${key}`];
      if (t === undefined) {
        slots[slot]!.push(new Array<StateValue>(size).fill(0));
        continue;
      }
      anyState = true;
      if (t.data.length !== size) {
        throw new StateError(
          `${what}: state.${id}.${key} has ${t.data.length} values, parameter ${i} ${size}`,
        );
      }
      slots[slot]!.push(Array.from(t.data, markerOf));
    }
    const step = tensors[`state.${id}.step`]?.data[0] ?? scalars[String(id)]?.["step"];
    if (step !== undefined) steps.add(Number(step));
  }
  for (const slot of snap.slotNames) {
    const key = layout.slots[slot];
    const holders = order.filter((_, i) => slotsOf[i]!.includes(slot));
    const present = holders.filter((id) => tensors[`state.${id as number}.${key}`] !== undefined).length;
    if (present !== 0 && present !== holders.length) {
      throw new StateError(`${what}: ${key} is saved for ${present} of ${holders.length} parameters`);
    }
  }
  if (steps.size > 1) {
    throw new StateError(
      `${what}: the parameters were stepped different numbers of times (${[...steps].join(", ")})`,
    );
  }
  const saved = metadata["adabelief.step"] === undefined ? undefined : Number(metadata["adabelief.step"]);
  const step = stepOption ?? [...steps][0] ?? saved ?? (anyState ? 1 : 0);
  if (!Number.isSafeInteger(step) || step < 0) {
    throw new StateError(`${what}: step ${String(step)} is not a count of steps`);
  }
  const warning =
    differences.size > 0
      ? `${what}: the saved param groups differ from this optimizer's options: ${[...differences].join("; ")}; the optimizer keeps its own`
      : null;
  return { step, slots, warning };
}
