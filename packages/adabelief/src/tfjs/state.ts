import * as tf from "@tensorflow/tfjs-core";
import { StateError } from "../core/errors.js";
import { firstNonFinite } from "../core/optimizer.js";
import type { Entry } from "./update.js";

/** A named tensor, as in `applyGradients`'s array form and `getWeights` (not exported by TensorFlow.js). */
export interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

/**
 * How `setWeights` checks the loaded slot values (the step count is always checked): every value finite, and
 * ≥ 0 in the listed slots; `null` to load them as they are (option `nonFinite: "proceed"`).
 */
export type ValueChecks = { nonNegative: ReadonlySet<string> } | null;

/** A validated `setWeights` payload, copied out of the caller's tensors. */
export interface LoadedState {
  iterations: number;
  /** Per variable: the slots' names, their slot names (`m`, `s`, …), shape and values. */
  groups: { names: string[]; slots: readonly string[]; shape: number[]; values: Float32Array[] }[];
}

/** Which slots each variable has, when parameter groups with different slots make them differ. */
export interface SlotLayouts {
  /** The slot names of a variable: its parameter group's. */
  of(variable: tf.Variable): readonly string[];
  /** Every slot layout a variable can have. */
  readonly all: readonly (readonly string[])[];
}

const sameNames = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((x, i) => x === b[i]);
const listText = (names: readonly string[]) => `[${names.join(", ")}]`;

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(",")}]`;
}

/** A variable name without the `_<n>` suffixes TensorFlow.js appends to keep names unique (`w_1` → `w`). */
export function baseName(name: string): string {
  return name.replace(/(_\d+)+$/, "");
}

/** Variables in creation order (`Variable.id` grows as variables are created). */
function byCreation<T extends { id: number }>(items: readonly T[]): T[] {
  return [...items].sort((a, b) => a.id - b.id);
}

/**
 * How loaded slot groups (named after the variables they were saved for) map onto variables: by exact
 * name when the names map one to one, else by name with the `_<n>` suffixes stripped (variables renamed on
 * load), else by position in creation order. Returns, for each variable, the index of its group.
 */
export function matchGroups(
  savedNames: readonly string[],
  variables: readonly tf.Variable[],
): { order: number[]; by: "name" | "position" } {
  const ordered = byCreation(variables);
  for (const key of [(n: string) => n, baseName]) {
    const groups = new Map<string, number>();
    savedNames.forEach((n, i) => groups.set(key(n), i));
    if (groups.size !== savedNames.length || savedNames.length !== variables.length) continue;
    const order = variables.map((v) => groups.get(key(v.name)) ?? -1);
    if (order.every((g) => g >= 0) && new Set(order).size === order.length) return { order, by: "name" };
  }
  const position = new Map(ordered.map((v, i) => [v, i]));
  return { order: variables.map((v) => position.get(v)!), by: "position" };
}

/** The variable name a slot was saved for: `"<variable>/<slot>"` without `"/<slot>"`. */
function variableOf(slotName: string, slot: string): string {
  return slotName.slice(0, slotName.length - slot.length - 1);
}

/**
 * The per-variable state of one TensorFlow.js optimizer: slots keyed by the variable itself (not by its
 * position in a call, tfjs#4290), a loaded state waiting to be bound, and the cached `iter` scalar.
 */
export class OptimizerState {
  private readonly entries = new Map<tf.Variable, Entry>();
  private pending: {
    names: string[][];
    layouts: (readonly string[])[];
    variables: string[];
    slots: tf.Tensor[][];
  } | null = null;
  private iter: { value: number; tensor: tf.Tensor } | null = null;

  /**
   * @param owner - the optimizer's name, for messages.
   * @param slotNames - the rule's slot names, in order.
   * @param layouts - each variable's slot names, when parameter groups make them differ (default: `slotNames`).
   */
  constructor(
    private readonly owner: string,
    private readonly slotNames: readonly string[],
    private readonly layouts?: SlotLayouts,
  ) {}

  /** The slot names of a variable. */
  private namesOf(variable: tf.Variable): readonly string[] {
    return this.layouts ? this.layouts.of(variable) : this.slotNames;
  }

  /** The entry of a variable, created (without slots) on first use. */
  entry(variable: tf.Variable): Entry {
    let e = this.entries.get(variable);
    if (!e) {
      e = { variable, slots: [] };
      this.entries.set(variable, e);
    }
    return e;
  }

  /**
   * Throws a `StateError` when a slot of one of these variables was disposed from outside (the tensors
   * `getWeights` returns belong to the optimizer).
   */
  checkSlots(variables: readonly tf.Variable[]): void {
    for (const v of variables) {
      const e = this.entries.get(v);
      const k = e ? e.slots.findIndex((s) => s.isDisposed) : -1;
      if (k >= 0) {
        throw new StateError(
          `${this.owner}.applyGradients: slot "${v.name}/${this.namesOf(v)[k]}" was disposed; the tensors returned by ` +
            `getWeights belong to the optimizer and must not be disposed. Nothing was changed`,
        );
      }
    }
  }

  /** Number of variables with state. */
  get size(): number {
    return this.entries.size;
  }

  /** Drops (and frees) the state of variables that were disposed. */
  prune(): void {
    for (const [v, e] of this.entries) {
      if (v.isDisposed) {
        for (const s of e.slots) s.dispose();
        this.entries.delete(v);
      }
    }
  }

  /**
   * Checks that a pending loaded state fits the variables of the coming step: same count, and each variable
   * matched to a saved slot group of its shape (see {@link matchGroups}: by name, or by position in creation
   * order when the names do not map one to one). Returns the binding to commit, or `null` when nothing is
   * pending; throws a `StateError` otherwise.
   */
  checkPending(variables: readonly tf.Variable[]): { variables: tf.Variable[]; order: number[] } | null {
    const p = this.pending;
    if (!p) return null;
    const fail = (what: string): never => {
      throw new StateError(`${this.owner}.applyGradients: ${what}; nothing was changed`);
    };
    // Variables whose parameter group keeps no slots (SGD without momentum) take no part.
    if (this.layouts) variables = variables.filter((v) => this.namesOf(v).length > 0);
    if (variables.length !== p.slots.length) {
      fail(
        `the optimizer state loaded by setWeights has slots for ${p.slots.length} variables but this step updates ` +
          `${variables.length}; the same variables must be trained as when the state was saved`,
      );
    }
    const { order, by } = matchGroups(p.variables, variables);
    variables.forEach((v, i) => {
      const g = order[i]!;
      const s = p.slots[g]![0];
      const how = by === "name" ? "by name" : `by position (${g}, in creation order)`;
      if (s && !tf.util.arraysEqual(s.shape, v.shape)) {
        fail(
          `the loaded slot "${p.names[g]![0]}" has shape ${shapeText(s.shape)} but variable "${v.name}", matched to it ` +
            `${how}, has shape ${shapeText(v.shape)}`,
        );
      }
      if (!sameNames(p.layouts[g]!, this.namesOf(v))) {
        fail(
          `the loaded slots ${listText(p.layouts[g]!)} of "${p.variables[g]}" do not fit variable "${v.name}", matched ` +
            `to it ${how}, whose parameter group keeps ${listText(this.namesOf(v))}`,
        );
      }
    });
    return { variables: [...variables], order };
  }

  /** Binds the pending loaded state as checked by {@link checkPending}. */
  commitPending(binding: { variables: tf.Variable[]; order: number[] }): void {
    const p = this.pending!;
    binding.variables.forEach((v, i) => {
      const e = this.entry(v);
      for (const s of e.slots) s.dispose();
      e.slots = p.slots[binding.order[i]!]!;
    });
    this.pending = null;
  }

  /**
   * The slots as named tensors: `<variable name>/<slot>`, variables in creation order (`Variable.id`), which
   * is the order a model rebuilt by `tf.loadLayersModel` creates them in; or the pending ones as loaded.
   */
  weights(): { name: string; tensor: tf.Tensor }[] {
    this.prune();
    const out: { name: string; tensor: tf.Tensor }[] = [];
    if (this.pending) {
      this.pending.slots.forEach((group, i) =>
        group.forEach((t, k) => out.push({ name: this.pending!.names[i]![k]!, tensor: t })),
      );
      return out;
    }
    const entries = [...this.entries.values()].sort((a, b) => a.variable.id - b.variable.id);
    for (const e of entries) {
      const names = this.namesOf(e.variable);
      e.slots.forEach((t, k) => out.push({ name: `${e.variable.name}/${names[k]}`, tensor: t }));
    }
    return out;
  }

  /** The cached int32 `iter` scalar (recreated only when the count changed or someone disposed it). */
  iterWeight(iterations: number): { name: string; tensor: tf.Tensor } {
    if (!this.iter || this.iter.value !== iterations || this.iter.tensor.isDisposed) {
      if (this.iter && !this.iter.tensor.isDisposed) this.iter.tensor.dispose();
      this.iter = { value: iterations, tensor: tf.keep(tf.scalar(iterations, "int32")) };
    }
    return { name: "iter", tensor: this.iter.tensor };
  }

  /**
   * Validates a `setWeights` payload and copies its values; changes nothing. Besides the layout (names,
   * count, shapes, dtypes), the step count must be an integer in [0, 2^53 − 1], and with `checks` every slot
   * value must be finite and ≥ 0 in the slots `checks.nonNegative` names: a state that would poison the next
   * step is refused here, naming the slot, rather than discovered in the parameters later.
   */
  async load(
    weightValues: readonly { name: string; tensor: tf.Tensor }[],
    checks: ValueChecks,
  ): Promise<LoadedState> {
    const fail = (what: string): never => {
      throw new StateError(`${this.owner}.setWeights: ${what}; the optimizer was not changed`);
    };
    // With parameter groups of different slots, the slots of each variable are told apart by their names.
    const layouts = [
      ...new Map(
        (this.layouts?.all ?? [this.slotNames]).filter((l) => l.length > 0).map((l) => [l.join("\0"), l]),
      ).values(),
    ].sort((a, b) => b.length - a.length);
    const single = layouts.length <= 1 ? (layouts[0] ?? []) : null;
    const k = single?.length ?? 0;
    const layout = single
      ? `[iter, then for each variable its ${k} slot(s) ${single.join(", ")}]`
      : `[iter, then for each variable its slots, one of ${layouts.map(listText).join(" or ")}]`;
    if (!Array.isArray(weightValues) || weightValues.length === 0) fail(`expected an array ${layout}`);
    weightValues.forEach((w, i) => {
      if (
        typeof w !== "object" ||
        w === null ||
        typeof w.name !== "string" ||
        !(w.tensor instanceof tf.Tensor)
      ) {
        fail(`weight ${i} is not a {name, tensor} pair`);
      }
      if (w.tensor.isDisposed) fail(`weight ${i} ("${w.name}") is a disposed tensor`);
    });
    const [iter, ...rest] = weightValues;
    if (iter!.name !== "iter" || iter!.tensor.size !== 1) {
      fail(
        `the first weight must be the step count "iter" (one number), got "${iter!.name}" of shape ${shapeText(iter!.tensor.shape)}`,
      );
    }
    const iterations = Number((await iter!.tensor.data())[0]);
    if (!Number.isSafeInteger(iterations) || iterations < 0)
      fail(`iter must be an integer in [0, 2^53 − 1], got ${iterations}`);
    if (single && (k === 0 ? rest.length !== 0 : rest.length % k !== 0)) {
      fail(
        `got ${rest.length} slot tensors, which is not a whole number of variables at ${k} slot(s) each; expected ${layout}`,
      );
    }
    // Each variable's slots: the next k weights, or (several layouts) the longest layout their names spell.
    const spans: { at: number; slots: readonly string[] }[] = [];
    for (let at = 0; at < rest.length;) {
      let slots: readonly string[] | undefined = single ?? undefined;
      if (!slots) {
        slots = layouts.find((l) => {
          const first = rest[at]!.name;
          if (at + l.length > rest.length || !first.endsWith(`/${l[0]}`)) return false;
          const variable = variableOf(first, l[0]!);
          return l.every((slot, j) => rest[at + j]!.name === `${variable}/${slot}`);
        });
        if (!slots) {
          fail(
            `weight ${1 + at} ("${rest[at]!.name}") does not begin the slots of a variable; expected ${layout}`,
          );
        }
      }
      if (slots!.length === 0) break;
      spans.push({ at, slots: slots! });
      at += slots!.length;
    }
    const groups: LoadedState["groups"] = [];
    for (const { at, slots } of spans) {
      const members = rest.slice(at, at + slots.length);
      const shape = members[0]!.tensor.shape;
      members.forEach((w, j) => {
        if (!w.name.endsWith(`/${slots[j]}`)) {
          fail(
            `weight ${1 + at + j} is named "${w.name}" but slot ${j} of each variable must be named "<variable>/${slots[j]}"; expected ${layout}`,
          );
        }
        if (w.tensor.dtype !== "float32")
          fail(`slot "${w.name}" has dtype ${w.tensor.dtype}, expected float32`);
        if (!tf.util.arraysEqual(w.tensor.shape, shape)) {
          fail(
            `slot "${w.name}" has shape ${shapeText(w.tensor.shape)} but "${members[0]!.name}" has ${shapeText(shape)}`,
          );
        }
      });
      const values = await Promise.all(
        members.map(async (w) => Float32Array.from(await w.tensor.data<"float32">())),
      );
      if (checks) {
        values.forEach((vs, j) => {
          const name = members[j]!.name;
          const at = firstNonFinite(vs);
          if (at >= 0) {
            fail(
              `slot "${name}" has ${vs[at]} at index ${at}; loaded slot values must be finite unless the optimizer ` +
                `was built with nonFinite: "proceed"`,
            );
          }
          const slot = slots[j]!;
          if (!checks.nonNegative.has(slot)) return;
          const neg = vs.findIndex((x) => x < 0);
          if (neg >= 0) {
            fail(
              `slot "${name}" has ${vs[neg]} at index ${neg}, but ${slot} is a second moment (a running average ` +
                `of squares) and must be >= 0; such values are loaded only by an optimizer built with nonFinite: "proceed"`,
            );
          }
        });
      }
      groups.push({ names: members.map((w) => w.name), slots, shape: [...shape], values });
    }
    return { iterations, groups };
  }

  /**
   * Installs a loaded state: onto the variables that already have state when there are any (same count;
   * matched as in {@link matchGroups}; shapes must agree), or kept pending until the next step otherwise.
   * Checks before changing.
   */
  install(loaded: LoadedState): void {
    const bound = [...this.entries.values()].filter((e) => e.slots.length > 0);
    if (bound.length > 0) {
      const fail = (what: string): never => {
        throw new StateError(`${this.owner}.setWeights: ${what}; the optimizer was not changed`);
      };
      if (bound.length !== loaded.groups.length) {
        fail(
          `the weights hold slots for ${loaded.groups.length} variables but this optimizer has state for ${bound.length}`,
        );
      }
      const { order, by } = matchGroups(
        loaded.groups.map((g) => variableOf(g.names[0]!, g.slots[0]!)),
        bound.map((e) => e.variable),
      );
      bound.forEach((e, i) => {
        const g = loaded.groups[order[i]!]!;
        const how = by === "name" ? "by name" : `by position (${order[i]}, in creation order)`;
        if (!tf.util.arraysEqual(g.shape, e.variable.shape)) {
          fail(
            `slot "${g.names[0]}" has shape ${shapeText(g.shape)} but variable "${e.variable.name}", matched to it ` +
              `${how}, has shape ${shapeText(e.variable.shape)}`,
          );
        }
        if (!sameNames(g.slots, this.namesOf(e.variable))) {
          fail(
            `the slots ${listText(g.slots)} of "${variableOf(g.names[0]!, g.slots[0]!)}" do not fit variable ` +
              `"${e.variable.name}", matched to it ${how}, whose parameter group keeps ${listText(this.namesOf(e.variable))}`,
          );
        }
      });
      bound.forEach((e, i) => {
        const g = loaded.groups[order[i]!]!;
        for (const s of e.slots) s.dispose();
        e.slots = g.values.map((v) => tf.keep(tf.tensor(v, g.shape, "float32")));
      });
      return;
    }
    this.disposePending();
    if (loaded.groups.length > 0) {
      this.pending = {
        names: loaded.groups.map((g) => g.names),
        layouts: loaded.groups.map((g) => g.slots),
        variables: loaded.groups.map((g) => variableOf(g.names[0]!, g.slots[0]!)),
        slots: loaded.groups.map((g) => g.values.map((v) => tf.keep(tf.tensor(v, g.shape, "float32")))),
      };
    }
  }

  private disposePending(): void {
    if (this.pending) for (const group of this.pending.slots) for (const t of group) t.dispose();
    this.pending = null;
  }

  /** Frees every tensor held. */
  dispose(): void {
    for (const e of this.entries.values()) for (const s of e.slots) s.dispose();
    this.entries.clear();
    this.disposePending();
    if (this.iter && !this.iter.tensor.isDisposed) this.iter.tensor.dispose();
    this.iter = null;
  }
}
