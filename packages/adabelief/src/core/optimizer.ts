import { GradientMismatchError, NonFiniteGradientError, OptionError, StateError } from "./errors.js";
import { resolveGroups, type ParamGroup, type ParamGroupView } from "./groups.js";
import type { ResolvedCommon, UpdateRule } from "./rule.js";
import { dtypeOf, type DType, type FloatArray } from "./types.js";
import { learningRateAt } from "./validate.js";
import { warn } from "./warnings.js";

/** The `format` tag of a saved optimizer state. */
export const STATE_FORMAT = "adabelief/optimizer-state";
/**
 * The version of the saved-state layout this library writes. {@link Optimizer.setState} reads it and
 * version 1 (whose slots hold numbers only; see {@link OptimizerStateV1}).
 */
export const STATE_VERSION = 2;

/** How a saved state writes a non-finite slot value: JSON has no NaN or Infinity (it writes them as `null`). */
export type NonFiniteMarker = "NaN" | "Infinity" | "-Infinity";

/** One element of a saved state slot: a finite number, or the {@link NonFiniteMarker} of NaN or ±Infinity. */
export type StateValue = number | NonFiniteMarker;

/**
 * An optimizer's complete state as a plain JSON-serialisable object (layout version 2).
 *
 * Finite numbers are stored as JavaScript numbers: float32 values are exactly representable, and
 * `JSON.stringify` writes the shortest text that reads back to the same double, so a round trip through
 * JSON is bit-identical — except that JSON writes −0 as `0` (which can only change the sign of a
 * parameter that is exactly zero). NaN, Infinity and −Infinity, which `JSON.stringify` would turn into
 * `null`, are written as the strings `"NaN"`, `"Infinity"` and `"-Infinity"`; they appear only after a
 * step overflowed or ran on a non-finite gradient under `nonFinite: "proceed"`.
 */
export interface OptimizerState {
  format: typeof STATE_FORMAT;
  version: typeof STATE_VERSION;
  /** Class name of the optimizer that wrote it, e.g. `"AdaBelief"`. */
  optimizer: string;
  /** Element type of the parameters. */
  dtype: DType;
  /** Number of updates applied so far. */
  step: number;
  /** Length of each parameter, in order (the parameters of all groups, group after group). */
  sizes: number[];
  /**
   * Each state slot (e.g. `m`, `s`): one array of values per parameter. When parameter groups have different
   * slots (AMSGrad in one group only, say), a parameter whose group has no such slot has an empty array there.
   */
  slots: Record<string, StateValue[][]>;
  /**
   * The resolved options of the optimizer that wrote the state (schedules appear as `"schedule"`). For
   * information: `setState` warns when they differ from the restoring optimizer's but does not apply them.
   */
  options?: Record<string, number | boolean | string>;
  /**
   * The parameter groups, in order: how many parameters each holds and (for information, as `options`) its
   * resolved options. `setState` refuses a state whose groups do not match the optimizer's. Absent in states
   * written before parameter groups existed, which hold one group.
   */
  groups?: OptimizerStateGroup[];
}

/** One parameter group of a saved {@link OptimizerState}. */
export interface OptimizerStateGroup {
  /** Number of parameters in the group. */
  params: number;
  /** The group's resolved options (schedules appear as `"schedule"`); for information. */
  options?: Record<string, number | boolean | string>;
}

/**
 * A state written by version 1 of the layout (before non-finite values had markers): the same fields, with
 * `version: 1` and numbers only in the slots. {@link Optimizer.setState} still reads it.
 */
export interface OptimizerStateV1 extends Omit<OptimizerState, "version" | "slots"> {
  version: 1;
  slots: Record<string, number[][]>;
}

/** The marker of a non-finite number (the caller checked that `x` is not finite). */
function markerOf(x: number): NonFiniteMarker {
  return x > 0 ? "Infinity" : x < 0 ? "-Infinity" : "NaN";
}

/** A slot buffer as saved-state values: finite numbers as they are, NaN and ±Infinity as markers. */
function encodeValues(a: FloatArray): StateValue[] {
  const out: StateValue[] = new Array<StateValue>(a.length);
  for (let j = 0; j < a.length; j++) {
    const x = a[j]!;
    out[j] = x - x === 0 ? x : markerOf(x);
  }
  return out;
}

/** A short description of a value found in a saved state, for error messages (never throws). */
function showValue(v: unknown): string {
  if (typeof v === "number") return Object.is(v, -0) ? "-0" : String(v);
  if (typeof v === "string") return JSON.stringify(v);
  if (v === null || typeof v === "boolean" || typeof v === "undefined") return String(v);
  return typeof v === "object" ? "an object" : `a ${typeof v}`;
}

/** The message of something thrown while reading a state (never throws). */
function thrownMessage(e: unknown): string {
  try {
    return e instanceof Error ? `${e.name}: ${e.message}` : showValue(e);
  } catch {
    return "an exception";
  }
}

function isFloatArray(a: unknown): a is FloatArray {
  return a instanceof Float32Array || a instanceof Float64Array;
}

/** Whether `g` looks like a parameter group: an object that is neither an array nor a typed array. */
function isGroupLike(g: unknown): boolean {
  return typeof g === "object" && g !== null && !Array.isArray(g) && !ArrayBuffer.isView(g);
}

function describe(a: unknown): string {
  if (isFloatArray(a)) return `${dtypeOf(a)}[${a.length}]`;
  if (a === null) return "null";
  if (Array.isArray(a)) return `an Array of length ${a.length}`;
  return typeof a === "object" ? (a.constructor?.name ?? "an object") : typeof a;
}

/** A parameter group inside {@link Optimizer}: parameters `start` to `end − 1`, their options and slots. */
interface Group<R> {
  readonly start: number;
  readonly end: number;
  readonly options: Readonly<R>;
  readonly slotNames: readonly string[];
}

/**
 * Base class of every core optimizer: owns the parameters (updated in place) and the state buffers, and
 * drives an {@link UpdateRule}.
 *
 * `step(grads)` checks everything before it changes anything: the number of gradients, their lengths,
 * their dtypes, finiteness (per the `nonFinite` policy) and the learning rate. A rejected step leaves the
 * parameters, the state and the step count exactly as they were.
 *
 * **Parameter groups.** As in PyTorch, the parameters may come as a list of groups, each with options of its
 * own (`[{ params: [w1, w2] }, { params: [b1, b2], weightDecay: 0 }]`); a group's other options are the
 * optimizer's. Options the reference code keeps for the whole optimizer (`nonFinite`, AdaBelief's
 * `weightDecouple`, `rectify`, …) cannot be set in a group. `step` takes the gradients in the order the
 * parameters appear across the groups, and updates each group exactly as a separate optimizer with the
 * group's options would.
 */
export class Optimizer<R extends ResolvedCommon = ResolvedCommon, C = unknown> {
  /** The parameters, updated in place by {@link Optimizer.step}: with groups, all groups' in order. */
  readonly params: readonly FloatArray[];
  /**
   * The resolved options (defaults applied): the optimizer's own, which a parameter group uses except where
   * it sets its own (see {@link Optimizer.paramGroups}).
   */
  readonly options: Readonly<R>;
  /**
   * The parameter groups, in order, each with its parameters, its resolved options and the learning rate of
   * its next update (read-only). One group holding every parameter when the optimizer was given a plain list.
   */
  readonly paramGroups: readonly ParamGroupView<R>[];
  /** The update rule this optimizer runs. */
  readonly rule: UpdateRule<unknown, R, C>;
  /** Element type shared by all parameters. */
  readonly dtype: DType;
  private t = 0;
  private readonly groups: readonly Group<R>[];
  /** Per parameter, its group's index. */
  private readonly groupOf: readonly number[];
  /** Per parameter, one buffer per slot of its group, in the group's slot order. */
  private readonly state: FloatArray[][];
  /** Every slot name of the groups, in order of first appearance (the keys of a saved state's `slots`). */
  private readonly slotNames: readonly string[];

  /**
   * @param params - the parameters: Float32Array or Float64Array, all of one dtype, no array twice; or a
   *   list of parameter groups `{ params, ...options }` (see {@link ParamGroup}).
   * @param rule - the update rule.
   * @param options - the user's options, resolved by `rule.resolve`.
   */
  constructor(
    params: readonly FloatArray[] | readonly ParamGroup[],
    rule: UpdateRule<never, R, C>,
    options: unknown,
  ) {
    this.rule = rule as UpdateRule<unknown, R, C>;
    const name = rule.name;
    if (!Array.isArray(params) || params.length === 0) {
      throw new TypeError(
        `${name}: params must be a non-empty array of Float32Array or Float64Array, or of parameter groups { params, ...options }`,
      );
    }
    const grouped = isGroupLike(params[0]);
    const overrides: Record<string, unknown>[] = [];
    const counts: number[] = [];
    let flat: FloatArray[];
    if (grouped) {
      flat = [];
      (params as readonly unknown[]).forEach((g, k) => {
        if (!isGroupLike(g)) {
          throw new TypeError(
            `${name}: param group ${k} must be an object { params, ...options } (as group 0), got ${describe(g)}`,
          );
        }
        // Read once (a getter may return something else the next time).
        const { params: list, ...rest } = g as { params?: unknown };
        if (!Array.isArray(list)) {
          throw new TypeError(
            `${name}: param group ${k} must have params: an array of parameters, got ${describe(list)}`,
          );
        }
        list.forEach((p, j) => {
          if (!isFloatArray(p)) {
            throw new TypeError(
              `${name}: param group ${k}: parameter ${j} must be a Float32Array or Float64Array, got ${describe(p)}`,
            );
          }
        });
        flat.push(...(list as FloatArray[]));
        counts.push(list.length);
        overrides.push(rest);
      });
      if (flat.length === 0) throw new TypeError(`${name}: the parameter groups hold no parameter`);
    } else {
      flat = [...(params as readonly FloatArray[])];
      counts.push(flat.length);
      overrides.push({});
    }
    const groupOf = counts.flatMap((n, k) => new Array<number>(n).fill(k));
    const at = (i: number) => (grouped ? `parameter ${i} (param group ${groupOf[i]})` : `parameter ${i}`);
    flat.forEach((p, i) => {
      if (!isFloatArray(p)) {
        throw new TypeError(
          `${name}: parameter ${i} must be a Float32Array or Float64Array, got ${describe(p)}`,
        );
      }
      const first = flat.indexOf(p);
      if (first !== i) throw new TypeError(`${name}: ${at(i)} is the same array as ${at(first)}`);
    });
    const dtype = dtypeOf(flat[0]!);
    flat.forEach((p, i) => {
      if (dtypeOf(p) !== dtype) {
        throw new TypeError(
          `${name}: ${at(i)} is ${dtypeOf(p)} but ${at(0)} is ${dtype}; all parameters must share one dtype`,
        );
      }
    });
    flat.forEach((p, i) => {
      const j = flat.findIndex((q, k) => k < i && overlaps(p, q));
      if (j >= 0) throw new TypeError(`${name}: ${at(i)} overlaps ${at(j)} in memory`);
    });
    if (options !== undefined && (typeof options !== "object" || options === null)) {
      throw new OptionError(`${name}: options must be an object, got ${describe(options)}`);
    }
    const resolved = resolveGroups(rule as UpdateRule<never, R, unknown>, options ?? {}, overrides);
    this.options = resolved.defaults;
    this.params = Object.freeze(flat);
    this.dtype = dtype;
    let start = 0;
    this.groups = Object.freeze(
      resolved.groups.map((o, k) => {
        const g: Group<R> = {
          start,
          end: start + counts[k]!,
          options: o,
          slotNames: Object.freeze([...this.rule.slots(o)]),
        };
        start = g.end;
        return Object.freeze(g);
      }),
    );
    this.groupOf = Object.freeze(groupOf);
    this.slotNames = Object.freeze([...new Set(this.groups.flatMap((g) => g.slotNames))]);
    const Ctor = dtype === "float64" ? Float64Array : Float32Array;
    this.state = this.params.map((p, i) => {
      const g = this.groups[groupOf[i]!]!;
      return g.slotNames.map((slot) => new Ctor(p.length).fill(this.rule.initialValue(slot, g.options)));
    });
    this.paramGroups = Object.freeze(
      this.groups.map((g) => {
        const view = { params: Object.freeze(this.params.slice(g.start, g.end)), options: g.options };
        Object.defineProperty(view, "currentLearningRate", {
          enumerable: true,
          get: () => learningRateAt(g.options.learningRate, this.t),
        });
        return Object.freeze(view) as ParamGroupView<R>;
      }),
    );
  }

  /** Number of updates applied so far. */
  get iterations(): number {
    return this.t;
  }

  /**
   * The learning rate the next update will use (the schedule evaluated at {@link Optimizer.iterations}): that
   * of the optimizer's options, which every parameter group that sets no `learningRate` of its own uses.
   * Each group's: `paramGroups[k].currentLearningRate`.
   */
  get currentLearningRate(): number {
    return learningRateAt(this.options.learningRate, this.t);
  }

  /**
   * Applies one update in place.
   *
   * @param grads - one gradient per parameter, same order, same length and dtype. Gradients are only read.
   * @returns `true` if the update was applied; `false` if it was skipped under `nonFinite: "skip"`.
   * @throws GradientMismatchError - wrong number, length or dtype of gradients (nothing changes).
   * @throws NonFiniteGradientError - NaN/Infinity under `nonFinite: "throw"` (nothing changes).
   * @throws OptionError - a learning-rate schedule returned a negative or non-finite value (nothing changes).
   */
  step(grads: readonly FloatArray[]): boolean {
    const name = this.rule.name;
    if (!Array.isArray(grads)) {
      throw new GradientMismatchError(
        `${name}.step: grads must be an array of ${this.params.length} typed arrays, got ${describe(grads)}`,
      );
    }
    if (grads.length !== this.params.length) {
      throw new GradientMismatchError(
        `${name}.step: got ${grads.length} gradients for ${this.params.length} parameters`,
      );
    }
    grads.forEach((g, i) => {
      const p = this.params[i]!;
      if (!isFloatArray(g) || dtypeOf(g) !== this.dtype) {
        throw new GradientMismatchError(
          `${name}.step: gradient ${i} is ${describe(g)} but parameter ${i} is ${dtypeOf(p)}[${p.length}]; a gradient must have its parameter's dtype`,
        );
      }
      if (g.length !== p.length) {
        throw new GradientMismatchError(
          `${name}.step: gradient ${i} has length ${g.length} but parameter ${i} has length ${p.length}`,
        );
      }
      const j = this.params.findIndex((q) => overlaps(g, q));
      if (j >= 0) {
        throw new GradientMismatchError(
          `${name}.step: gradient ${i} shares memory with parameter ${j}; pass a copy (the update would read a gradient it has already changed)`,
        );
      }
    });
    if (this.options.nonFinite !== "proceed") {
      for (let i = 0; i < grads.length; i++) {
        const j = firstNonFinite(grads[i]!);
        if (j >= 0) {
          if (this.options.nonFinite === "skip") return false;
          throw new NonFiniteGradientError(
            `${name}.step: gradient ${i} has ${grads[i]![j]} at index ${j}; nothing was changed (option nonFinite: "throw")`,
          );
        }
      }
    }
    // Each group's scalars, once per step (shared by groups with the same options), before anything changes:
    // a schedule that returns a bad rate throws here.
    const t = this.t + 1;
    const byOptions = new Map<object, C>();
    const cs = this.groups.map((g, k) => {
      let c = byOptions.get(g.options);
      if (c === undefined) {
        let lr: number;
        try {
          lr = learningRateAt(g.options.learningRate, this.t);
        } catch (e) {
          if (e instanceof OptionError && this.groups.length > 1) {
            throw new OptionError(`${name}.step: param group ${k}: ${e.message}; nothing was changed`, {
              cause: e,
            });
          }
          throw e;
        }
        c = this.rule.coefficients(t, lr, g.options);
        byOptions.set(g.options, c);
      }
      return c;
    });
    this.groups.forEach((g, k) => {
      const c = cs[k]!;
      for (let i = g.start; i < g.end; i++) this.rule.update(this.params[i]!, grads[i]!, this.state[i]!, c);
    });
    this.t = t;
    return true;
  }

  /**
   * The complete state as a plain JSON-serialisable object (a copy: later steps do not change it). NaN and
   * ±Infinity in a slot are written as the strings `"NaN"`, `"Infinity"`, `"-Infinity"` (see
   * {@link OptimizerState}), so `setState(JSON.parse(JSON.stringify(getState())))` always restores it.
   */
  getState(): OptimizerState {
    const slots: Record<string, StateValue[][]> = {};
    for (const slot of this.slotNames) {
      slots[slot] = this.state.map((buffers, i) => {
        const k = this.groups[this.groupOf[i]!]!.slotNames.indexOf(slot);
        return k < 0 ? [] : encodeValues(buffers[k]!);
      });
    }
    return {
      format: STATE_FORMAT,
      version: STATE_VERSION,
      optimizer: this.rule.name,
      dtype: this.dtype,
      step: this.t,
      sizes: this.params.map((p) => p.length),
      slots,
      options: describeOptions(this.options),
      groups: this.groups.map((g) => ({ params: g.end - g.start, options: describeOptions(g.options) })),
    };
  }

  /**
   * Restores a state written by {@link Optimizer.getState} of the same optimizer class over parameters of
   * the same sizes and dtype, in parameter groups of the same sizes (layout version 2, or version 1 of
   * earlier releases; a state without `groups` holds one group).
   *
   * All or nothing: every field is read once and every value is checked and copied into new buffers first;
   * a problem throws a {@link StateError} and leaves this optimizer exactly as it was. That includes a
   * getter of the state object that throws (its exception becomes the `cause`) and a warning handler that
   * throws: the warning about differing options is emitted before anything is replaced.
   *
   * Slot values are refused (naming the slot, the parameter and the index) when they are:
   * - neither a finite number nor (version 2) one of the markers `"NaN"`, `"Infinity"`, `"-Infinity"`:
   *   `null` (what `JSON.stringify` makes of NaN and ±Infinity), other strings, and NaN or ±Infinity as
   *   numbers (`getState` never writes them so; a non-finite value must be spelled as its marker);
   * - finite but too large for the dtype (in a float32 state, |x| ≥ 2^128·(1 − 2^−25) ≈ 3.4028235677973366e38
   *   would be stored as ±Infinity);
   * - negative (−Infinity included) in a slot that holds a second moment (AdaBelief's `s`, `sMax`; the `v`
   *   and `vMax` of Adam, AdamW, RAdam, Yogi, AdaBound and MSVAG), which an update never makes negative.
   *
   * The markers are accepted whatever this optimizer's `nonFinite` policy: they record values a run really
   * produced, and finite gradients produce them under every policy (a float32 `v` overflows to Infinity
   * once (1 − β2)·g² > 3.4e38; NaN follows, e.g. as Infinity − Infinity in Yogi's update or from a parameter that
   * overflowed), so `setState(getState())` always succeeds. Finite values are stored as they are (rounded
   * to float32 in a float32 state).
   */
  setState(state: OptimizerState | OptimizerStateV1): void {
    const loaded = this.readState(state);
    // Warn before anything is replaced: a handler that throws (warnings as errors) leaves the optimizer as it was.
    if (loaded.warning !== null) warn(loaded.warning);
    loaded.buffers.forEach((perSlot, i) => perSlot.forEach((b, k) => this.state[i]![k]!.set(b)));
    this.t = loaded.step;
  }

  /**
   * Validates a saved state and copies it into new buffers (`buffers[i][k]`: parameter i, slot k), without
   * changing anything. Throws a {@link StateError}; anything else thrown while reading becomes its cause.
   */
  private readState(state: unknown): { step: number; buffers: FloatArray[][]; warning: string | null } {
    const name = this.rule.name;
    const fail = (what: string): never => {
      throw new StateError(`${name}.setState: ${what}; the optimizer was not changed`);
    };
    try {
      return this.readStateUnguarded(state, fail);
    } catch (e) {
      if (e instanceof StateError) throw e;
      throw new StateError(
        `${name}.setState: reading the state threw (${thrownMessage(e)}); the optimizer was not changed`,
        { cause: e },
      );
    }
  }

  private readStateUnguarded(
    state: unknown,
    fail: (what: string) => never,
  ): { step: number; buffers: FloatArray[][]; warning: string | null } {
    const name = this.rule.name;
    if (typeof state !== "object" || state === null) fail(`expected a state object, got ${describe(state)}`);
    // Each field is read exactly once (a getter may throw or return something else the next time).
    const { format, version, optimizer, dtype, step, sizes, slots, options, groups } = state as Record<
      string,
      unknown
    >;
    if (format !== STATE_FORMAT) fail(`format is ${showValue(format)}, expected "${STATE_FORMAT}"`);
    if (version !== STATE_VERSION && version !== 1)
      fail(
        `version ${showValue(version)} is not supported (this library reads versions 1 and ${STATE_VERSION})`,
      );
    if (optimizer !== name) fail(`the state was written by ${showValue(optimizer)}, not ${name}`);
    if (dtype !== this.dtype) fail(`the state is ${showValue(dtype)} but the parameters are ${this.dtype}`);
    if (typeof step !== "number" || !Number.isSafeInteger(step) || step < 0)
      fail(`step must be an integer >= 0, got ${showValue(step)}`);
    const n = this.params.length;
    if (!Array.isArray(sizes) || sizes.length !== n) {
      fail(
        `the state has ${Array.isArray(sizes) ? sizes.length : "no"} parameter sizes, this optimizer has ${n} parameters`,
      );
    }
    const lengths = this.params.map((p) => p.length);
    for (let i = 0; i < n; i++) {
      const size: unknown = (sizes as unknown[])[i];
      if (size !== lengths[i])
        fail(`parameter ${i} has length ${lengths[i]} but the state's has ${showValue(size)}`);
    }
    // The groups: as many, each with as many parameters (a state without groups holds one group).
    const K = this.groups.length;
    const counts = this.groups.map((g) => g.end - g.start);
    const savedGroups: unknown[] = groups === undefined ? [{ params: n, options }] : (groups as unknown[]);
    if (!Array.isArray(savedGroups)) fail(`groups must be an array, got ${describe(groups)}`);
    if (savedGroups.length !== K) {
      fail(
        groups === undefined
          ? `the state has no param groups (it holds one group of ${n} parameters); this optimizer has ${K} groups of ${counts.join(", ")} parameters`
          : `the state has ${savedGroups.length} param groups, this optimizer ${K} (of ${counts.join(", ")} parameters)`,
      );
    }
    const savedOptions: unknown[] = [];
    savedGroups.forEach((g, k) => {
      if (typeof g !== "object" || g === null)
        fail(`param group ${k} of the state is ${describe(g)}, not an object`);
      const { params: count, options: o } = g as Record<string, unknown>;
      if (count !== counts[k]) {
        fail(
          `param group ${k} of the state has ${showValue(count)} parameters, this optimizer's has ${counts[k]}`,
        );
      }
      savedOptions.push(o);
    });
    if (typeof slots !== "object" || slots === null) fail("slots are missing");
    const names = Object.keys(slots as object).sort();
    const expected = [...this.slotNames].sort();
    if (names.join(",") !== expected.join(","))
      fail(`slots are [${names.join(", ")}], expected [${expected.join(", ")}]`);

    const markers = version !== 1;
    const nonNegative = new Set(this.rule.nonNegativeSlots ?? []);
    const Ctor = this.dtype === "float64" ? Float64Array : Float32Array;
    const buffers: FloatArray[][] = this.state.map((own) => new Array<FloatArray>(own.length));
    for (const slot of this.slotNames) {
      const perParam: unknown = (slots as Record<string, unknown>)[slot];
      if (!Array.isArray(perParam) || perParam.length !== n)
        fail(`slot ${slot} must hold one array per parameter`);
      for (let i = 0; i < n; i++) {
        const values: unknown = (perParam as unknown[])[i];
        const length = Array.isArray(values) ? values.length : -1;
        const own = this.groups[this.groupOf[i]!]!.slotNames.indexOf(slot);
        if (own < 0) {
          if (length !== 0) {
            fail(
              `slot ${slot} of parameter ${i} has ${length >= 0 ? `length ${length}` : "no values"}, but its param group ${this.groupOf[i]} has no ${slot}: expected an empty array`,
            );
          }
          continue;
        }
        if (length !== lengths[i]) {
          fail(
            `slot ${slot} of parameter ${i} has ${length >= 0 ? `length ${length}` : "no values"}, expected length ${lengths[i]}`,
          );
        }
        const buf = new Ctor(length);
        for (let j = 0; j < length; j++) {
          const raw: unknown = (values as unknown[])[j];
          const at = () => `slot ${slot} of parameter ${i} has ${showValue(raw)} at index ${j}`;
          let x: number;
          if (typeof raw === "number") x = raw;
          else if (markers && raw === "NaN") x = NaN;
          else if (markers && raw === "Infinity") x = Infinity;
          else if (markers && raw === "-Infinity") x = -Infinity;
          else {
            fail(
              `${at()}; expected a number` +
                (markers
                  ? ` or one of "NaN", "Infinity", "-Infinity"`
                  : raw === null
                    ? ` (JSON writes NaN and ±Infinity as null; a version 1 state cannot hold them)`
                    : ""),
            );
          }
          buf[j] = x!;
          const stored = buf[j]!;
          if (typeof raw === "number" && stored - stored !== 0) {
            fail(
              raw - raw === 0
                ? `${at()}, which overflows to ${stored} in ${this.dtype}`
                : markers
                  ? `${at()}; a non-finite value must be written as the string ${JSON.stringify(markerOf(raw))}`
                  : `${at()}; a version 1 state cannot hold NaN or ±Infinity`,
            );
          }
          if (stored < 0 && nonNegative.has(slot))
            fail(`${at()}, but this slot holds a second moment, which is never negative`);
        }
        buffers[i]![own] = buf;
      }
    }

    // Options that differ, group by group (named only when there are several groups).
    const differ: { key: string; theirs: string; mine: string }[] = [];
    savedGroups.forEach((_, k) => {
      const o = savedOptions[k];
      if (typeof o !== "object" || o === null) return;
      const mine = describeOptions(this.groups[k]!.options);
      const saved = o as Record<string, unknown>;
      const key = (option: string) => (K > 1 ? `param group ${k}: ${option}` : option);
      for (const kk of Object.keys(mine)) {
        if (!(kk in saved)) continue;
        const theirs: unknown = saved[kk];
        if (theirs !== mine[kk])
          differ.push({ key: key(kk), theirs: showOption(theirs), mine: String(mine[kk]) });
      }
    });
    const warning =
      differ.length > 0
        ? `${name}.setState: the state was written with ${differ.map((d) => `${d.key}=${d.theirs}`).join(", ")}; ` +
          `this optimizer has ${differ.map((d) => `${d.key}=${d.mine}`).join(", ")} (the state is restored, the options are not)`
        : null;
    return { step: step as number, buffers, warning };
  }
}

/** An option value of a saved state as the warning shows it: primitives as `String` does, others by type. */
function showOption(v: unknown): string {
  return typeof v === "number" || typeof v === "boolean" || typeof v === "string" ? String(v) : showValue(v);
}

/** The options as plain JSON values; a schedule function appears as `"schedule"`. */
function describeOptions(options: object): Record<string, number | boolean | string> {
  const out: Record<string, number | boolean | string> = {};
  for (const [k, v] of Object.entries(options)) {
    if (typeof v === "function") out[k] = "schedule";
    else if (typeof v === "number" || typeof v === "boolean" || typeof v === "string") out[k] = v;
  }
  return out;
}

/** True when two typed arrays view overlapping bytes of the same buffer. */
function overlaps(a: FloatArray, b: FloatArray): boolean {
  return (
    a.buffer === b.buffer &&
    a.byteOffset < b.byteOffset + b.byteLength &&
    b.byteOffset < a.byteOffset + a.byteLength
  );
}

/** Index of the first NaN or ±Infinity in `a`, or −1. */
export function firstNonFinite(a: FloatArray): number {
  // v - v is NaN exactly when v is NaN or ±Infinity, and a sum with a NaN term is NaN: one test per block of
  // 8 (about 1.7× faster than a test per element), then the block with a hit is searched element by element.
  const n = a.length;
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const x =
      a[i]! -
      a[i]! +
      (a[i + 1]! - a[i + 1]!) +
      (a[i + 2]! - a[i + 2]!) +
      (a[i + 3]! - a[i + 3]!) +
      (a[i + 4]! - a[i + 4]! + (a[i + 5]! - a[i + 5]!) + (a[i + 6]! - a[i + 6]!) + (a[i + 7]! - a[i + 7]!));
    if (x !== 0) break;
  }
  for (; i < n; i++) {
    const v = a[i]!;
    if (v - v !== 0) return i;
  }
  return -1;
}
