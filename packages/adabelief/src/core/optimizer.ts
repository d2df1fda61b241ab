import { GradientMismatchError, NonFiniteGradientError, OptionError, StateError } from "./errors.js";
import type { ResolvedCommon, UpdateRule } from "./rule.js";
import { dtypeOf, type DType, type FloatArray } from "./types.js";
import { learningRateAt } from "./validate.js";
import { warn } from "./warnings.js";

/** The `format` tag of a saved optimizer state. */
export const STATE_FORMAT = "adabelief/optimizer-state";
/** The version of the saved-state layout this library writes and reads. */
export const STATE_VERSION = 1;

/**
 * An optimizer's complete state as a plain JSON-serialisable object.
 *
 * Numbers are stored as JavaScript numbers: float32 values are exactly representable, and `JSON.stringify`
 * writes the shortest text that reads back to the same double, so a round trip through JSON is
 * bit-identical.
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
  /** Length of each parameter, in order. */
  sizes: number[];
  /** Each state slot (e.g. `m`, `s`): one array of numbers per parameter. */
  slots: Record<string, number[][]>;
  /**
   * The resolved options of the optimizer that wrote the state (schedules appear as `"schedule"`). For
   * information: `setState` warns when they differ from the restoring optimizer's but does not apply them.
   */
  options?: Record<string, number | boolean | string>;
}

function isFloatArray(a: unknown): a is FloatArray {
  return a instanceof Float32Array || a instanceof Float64Array;
}

function describe(a: unknown): string {
  if (isFloatArray(a)) return `${dtypeOf(a)}[${a.length}]`;
  if (a === null) return "null";
  if (Array.isArray(a)) return `an Array of length ${a.length}`;
  return typeof a === "object" ? (a.constructor?.name ?? "an object") : typeof a;
}

/**
 * Base class of every core optimizer: owns the parameters (updated in place) and the state buffers, and
 * drives an {@link UpdateRule}.
 *
 * `step(grads)` checks everything before it changes anything: the number of gradients, their lengths,
 * their dtypes, finiteness (per the `nonFinite` policy) and the learning rate. A rejected step leaves the
 * parameters, the state and the step count exactly as they were.
 */
export class Optimizer<R extends ResolvedCommon = ResolvedCommon, C = unknown> {
  /** The parameters, updated in place by {@link Optimizer.step}. */
  readonly params: readonly FloatArray[];
  /** The resolved options (defaults applied). */
  readonly options: Readonly<R>;
  /** The update rule this optimizer runs. */
  readonly rule: UpdateRule<unknown, R, C>;
  /** Element type shared by all parameters. */
  readonly dtype: DType;
  private t = 0;
  private readonly state: FloatArray[][];
  private readonly slotNames: readonly string[];

  /**
   * @param params - the parameters: Float32Array or Float64Array, all of one dtype, no array twice.
   * @param rule - the update rule.
   * @param options - the user's options, resolved by `rule.resolve`.
   */
  constructor(params: readonly FloatArray[], rule: UpdateRule<never, R, C>, options: unknown) {
    this.rule = rule as UpdateRule<unknown, R, C>;
    if (!Array.isArray(params) || params.length === 0) {
      throw new TypeError(`${rule.name}: params must be a non-empty array of Float32Array or Float64Array`);
    }
    params.forEach((p, i) => {
      if (!isFloatArray(p)) {
        throw new TypeError(
          `${rule.name}: parameter ${i} must be a Float32Array or Float64Array, got ${describe(p)}`,
        );
      }
      if (params.indexOf(p) !== i) {
        throw new TypeError(
          `${rule.name}: parameter ${i} is the same array as parameter ${params.indexOf(p)}`,
        );
      }
    });
    const dtype = dtypeOf(params[0]!);
    params.forEach((p, i) => {
      if (dtypeOf(p) !== dtype) {
        throw new TypeError(
          `${rule.name}: parameter ${i} is ${dtypeOf(p)} but parameter 0 is ${dtype}; all parameters must share one dtype`,
        );
      }
    });
    params.forEach((p, i) => {
      const j = params.findIndex((q, k) => k < i && overlaps(p, q));
      if (j >= 0) throw new TypeError(`${rule.name}: parameter ${i} overlaps parameter ${j} in memory`);
    });
    if (options !== undefined && (typeof options !== "object" || options === null)) {
      throw new OptionError(`${rule.name}: options must be an object, got ${describe(options)}`);
    }
    try {
      this.options = Object.freeze(this.rule.resolve(options ?? {}));
    } catch (e) {
      // Every option error names the optimizer.
      if (e instanceof OptionError && !e.message.startsWith(`${rule.name}:`)) {
        throw new OptionError(`${rule.name}: ${e.message}`);
      }
      throw e;
    }
    this.params = Object.freeze([...params]);
    this.dtype = dtype;
    this.slotNames = this.rule.slots(this.options);
    const Ctor = dtype === "float64" ? Float64Array : Float32Array;
    this.state = this.params.map((p) =>
      this.slotNames.map((name) => new Ctor(p.length).fill(this.rule.initialValue(name, this.options))),
    );
  }

  /** Number of updates applied so far. */
  get iterations(): number {
    return this.t;
  }

  /** The learning rate the next update will use (the schedule evaluated at {@link Optimizer.iterations}). */
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
    const lr = learningRateAt(this.options.learningRate, this.t);
    const t = this.t + 1;
    const c = this.rule.coefficients(t, lr, this.options);
    for (let i = 0; i < this.params.length; i++) {
      this.rule.update(this.params[i]!, grads[i]!, this.state[i]!, c);
    }
    this.t = t;
    return true;
  }

  /** The complete state as a plain JSON-serialisable object (a copy: later steps do not change it). */
  getState(): OptimizerState {
    const slots: Record<string, number[][]> = {};
    this.slotNames.forEach((slot, k) => {
      slots[slot] = this.state.map((buffers) => Array.from(buffers[k]!));
    });
    return {
      format: STATE_FORMAT,
      version: STATE_VERSION,
      optimizer: this.rule.name,
      dtype: this.dtype,
      step: this.t,
      sizes: this.params.map((p) => p.length),
      slots,
      options: describeOptions(this.options),
    };
  }

  /**
   * Restores a state written by {@link Optimizer.getState} of the same optimizer class over parameters of
   * the same sizes and dtype. Everything is checked before anything is written: a mismatch throws a
   * {@link StateError} and leaves this optimizer as it was.
   */
  setState(state: OptimizerState): void {
    const name = this.rule.name;
    const fail = (what: string): never => {
      throw new StateError(`${name}.setState: ${what}; the optimizer was not changed`);
    };
    if (typeof state !== "object" || state === null) fail(`expected a state object, got ${describe(state)}`);
    if (state.format !== STATE_FORMAT)
      fail(`format is ${JSON.stringify(state.format)}, expected "${STATE_FORMAT}"`);
    if (state.version !== STATE_VERSION)
      fail(
        `version ${JSON.stringify(state.version)} is not supported (this library reads version ${STATE_VERSION})`,
      );
    if (state.optimizer !== name)
      fail(`the state was written by ${JSON.stringify(state.optimizer)}, not ${name}`);
    if (state.dtype !== this.dtype)
      fail(`the state is ${JSON.stringify(state.dtype)} but the parameters are ${this.dtype}`);
    if (!Number.isSafeInteger(state.step) || state.step < 0)
      fail(`step must be an integer >= 0, got ${JSON.stringify(state.step)}`);
    if (!Array.isArray(state.sizes) || state.sizes.length !== this.params.length) {
      fail(
        `the state has ${Array.isArray(state.sizes) ? state.sizes.length : "no"} parameter sizes, this optimizer has ${this.params.length} parameters`,
      );
    }
    this.params.forEach((p, i) => {
      if (state.sizes[i] !== p.length)
        fail(`parameter ${i} has length ${p.length} but the state's has ${JSON.stringify(state.sizes[i])}`);
    });
    const slots = state.slots;
    if (typeof slots !== "object" || slots === null) fail("slots are missing");
    const names = Object.keys(slots).sort();
    const expected = [...this.slotNames].sort();
    if (names.join(",") !== expected.join(","))
      fail(`slots are [${names.join(", ")}], expected [${expected.join(", ")}]`);
    for (const slot of this.slotNames) {
      const perParam = slots[slot];
      if (!Array.isArray(perParam) || perParam.length !== this.params.length)
        fail(`slot ${slot} must hold one array per parameter`);
      perParam!.forEach((values, i) => {
        if (!Array.isArray(values) || values.length !== this.params[i]!.length) {
          fail(
            `slot ${slot} of parameter ${i} has ${Array.isArray(values) ? `length ${values.length}` : "no values"}, expected length ${this.params[i]!.length}`,
          );
        }
        for (let j = 0; j < values.length; j++) {
          if (typeof values[j] !== "number")
            fail(`slot ${slot} of parameter ${i} has a non-number at index ${j}`);
        }
      });
    }
    this.slotNames.forEach((slot, k) => {
      slots[slot]!.forEach((values, i) => this.state[i]![k]!.set(values));
    });
    this.t = state.step;
    if (state.options && typeof state.options === "object") {
      const mine = describeOptions(this.options);
      const differ = Object.keys(mine).filter((k) => k in state.options! && state.options![k] !== mine[k]);
      if (differ.length > 0) {
        warn(
          `${name}.setState: the state was written with ${differ.map((k) => `${k}=${String(state.options![k])}`).join(", ")}; ` +
            `this optimizer has ${differ.map((k) => `${k}=${String(mine[k])}`).join(", ")} (the state is restored, the options are not)`,
        );
      }
    }
  }
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
