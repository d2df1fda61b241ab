import { GradientMismatchError, NonFiniteGradientError, OptionError, StateError } from "./errors.js";
import { firstNonFinite, Optimizer, type OptimizerState, type StateValue } from "./optimizer.js";
import { dtypeOf, type FloatArray } from "./types.js";
import { check } from "./validate.js";
import { warn } from "./warnings.js";

/** How {@link MultiSteps} combines the gradients of a window: their mean (default) or their sum. */
export type MultiStepsReduction = "mean" | "sum";

/** Options of {@link MultiSteps} (and of the TensorFlow.js `MultiStepsOptimizer`). */
export interface MultiStepsOptions {
  /** Gradients per update `k` (optax `every_k_schedule`): the inner optimizer steps once every `k` calls. An integer ≥ 1. */
  every: number;
  /** `"mean"` (default): the inner optimizer gets `(g₁ + … + g_k) / k`; `"sum"`: `g₁ + … + g_k`. */
  reduction?: MultiStepsReduction;
}

/** {@link MultiStepsOptions} with the defaults applied. */
export type ResolvedMultiStepsOptions = Required<MultiStepsOptions>;

/** The `format` tag of a saved {@link MultiSteps} state. */
export const MULTI_STEPS_STATE_FORMAT = "adabelief/multi-steps-state";

/**
 * A {@link MultiSteps}'s complete state as a plain JSON-serialisable object: the accumulation and, under
 * `inner`, the wrapped optimizer's own state.
 */
export interface MultiStepsState {
  format: typeof MULTI_STEPS_STATE_FORMAT;
  version: 1;
  /** `every` of the wrapper that wrote it (for information: `setState` warns when it differs). */
  every: number;
  /** `reduction` of the wrapper that wrote it (for information). */
  reduction: MultiStepsReduction;
  /** Gradients accumulated since the last inner update, in [0, every − 1]. */
  count: number;
  /**
   * The running sums, one array per parameter (all zeros when `count` is 0); NaN and ±Infinity (possible
   * under `nonFinite: "proceed"`) written as `"NaN"`, `"Infinity"`, `"-Infinity"`, as in {@link OptimizerState}.
   */
  accumulators: StateValue[][];
  /** The inner optimizer's {@link OptimizerState}. */
  inner: OptimizerState;
}

const KNOWN: readonly (keyof MultiStepsOptions)[] = ["every", "reduction"];
const NAME = "MultiSteps";

/**
 * Resolves and checks {@link MultiStepsOptions} (shared with the TensorFlow.js wrapper).
 * @internal
 */
export function resolveMultiSteps(name: string, options: MultiStepsOptions): ResolvedMultiStepsOptions {
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new OptionError(`${name}: options must be an object with every (an integer >= 1)`);
  }
  check.knownKeys(name, options, KNOWN);
  return {
    every: check.integer(`${name}: every`, options.every, 1),
    reduction: check.oneOf(`${name}: reduction`, options.reduction ?? "mean", ["mean", "sum"] as const),
  };
}

function describe(a: unknown): string {
  if (a instanceof Float32Array || a instanceof Float64Array) return `${dtypeOf(a)}[${a.length}]`;
  if (a === null) return "null";
  if (Array.isArray(a)) return `an Array of length ${a.length}`;
  return typeof a === "object" ? (a.constructor?.name ?? "an object") : typeof a;
}

/**
 * Gradient accumulation (optax's `MultiSteps`, PyTorch's "call `backward()` k times, then `step()`"): wraps a
 * core optimizer and applies it once every `k = every` calls of {@link MultiSteps.step}, to the mean (default)
 * or the sum of the `k` gradients received since its last update. With micro-batches of size `b`, this
 * trains as batches of `k·b` (mean of the micro-batch mean losses) at the memory cost of one extra copy of
 * the parameters.
 * ```
 * call j = 1 … k−1:  a ← g₁ + … + g_j            (nothing else changes; step returns false)
 * call k:            inner.step((a + g_k) / k)    ("sum": a + g_k); a ← 0; step returns true
 * ```
 * The sums are accumulated in the parameters' dtype, by adding the gradients in the order received, each
 * addition rounded to that dtype, and the mean divides the sum by `k` once — the same float operations as
 * `tf.add` then `tf.div` on float32 tensors, so the TensorFlow.js `MultiStepsOptimizer` on the cpu backend
 * hands its inner optimizer the same averaged gradient, bit for bit (the updates then agree as the inner
 * optimizers do: identically with `kernel: "loop"`). Unlike optax's running mean `a + (g − a)/(j + 1)`, the
 * result is exactly "one step on the averaged gradient" as one would compute that average by hand.
 *
 * The inner optimizer's schedule sees its own step count: with `every: 4`, a schedule's step 10 is the 11th
 * inner update, the 41st-44th calls of `step` (as in optax, where the inner transformation counts its own
 * updates).
 *
 * Checks before changes, like the optimizers: a gradient of the wrong count, length or dtype throws a
 * {@link GradientMismatchError}; a NaN/±Infinity throws a {@link NonFiniteGradientError} or, with the inner
 * optimizer's `nonFinite: "skip"`, is dropped (the call returns `false` and is not counted); with
 * `"proceed"` it is accumulated. On the `k`-th call the inner optimizer checks the combined gradient too (an
 * overflow to Infinity, a schedule returning a bad rate): when it throws or skips, the accumulation is kept
 * as it was before that call. A refused call changes nothing.
 *
 * The state (count, sums, the inner optimizer's state) is saved and restored by
 * {@link MultiSteps.getState} / {@link MultiSteps.setState}, also in the middle of a window.
 *
 * @example
 * ```ts
 * const opt = new MultiSteps(new AdaBelief(params, { learningRate: 1e-3 }), { every: 4 });
 * for (const microBatch of batches) opt.step(gradientsOf(microBatch)); // one AdaBelief update per 4 calls
 * ```
 * @typeParam T - the wrapped optimizer's class.
 */
export class MultiSteps<T extends Optimizer = Optimizer> {
  /** The wrapped optimizer (it owns the parameters; do not step it directly while wrapped). */
  readonly inner: T;
  /** The resolved options. */
  readonly options: Readonly<ResolvedMultiStepsOptions>;
  private readonly acc: FloatArray[];
  private count = 0;

  /**
   * @param inner - a core optimizer; its parameters, dtype and `nonFinite` policy are the wrapper's.
   * @param options - `every` (required) and `reduction`.
   * @throws OptionError - bad options.
   */
  constructor(inner: T, options: MultiStepsOptions) {
    if (!(inner instanceof Optimizer)) {
      throw new TypeError(`${NAME}: inner must be a core optimizer (an Optimizer), got ${describe(inner)}`);
    }
    this.options = Object.freeze(resolveMultiSteps(NAME, options));
    this.inner = inner;
    const Ctor = inner.dtype === "float64" ? Float64Array : Float32Array;
    this.acc = inner.params.map((p) => new Ctor(p.length));
  }

  /** The wrapped optimizer's parameters (updated in place on every `every`-th call). */
  get params(): readonly FloatArray[] {
    return this.inner.params;
  }

  /** Number of gradients accumulated since the last inner update, in [0, every − 1]. */
  get pending(): number {
    return this.count;
  }

  /** Number of updates the inner optimizer has applied. */
  get iterations(): number {
    return this.inner.iterations;
  }

  /** The learning rate the next inner update will use. */
  get currentLearningRate(): number {
    return this.inner.currentLearningRate;
  }

  /**
   * Adds one gradient per parameter to the accumulation; on every `every`-th call applies the inner
   * optimizer to their mean (or sum).
   *
   * @param grads - one gradient per parameter, same order, length and dtype. Only read.
   * @returns `true` if the inner optimizer updated the parameters in this call.
   * @throws GradientMismatchError - wrong number, length or dtype of gradients (nothing changes).
   * @throws NonFiniteGradientError - NaN/Infinity under the inner `nonFinite: "throw"` (nothing changes).
   * @throws OptionError - the inner schedule returned a bad rate on the `every`-th call (nothing changes).
   */
  step(grads: readonly FloatArray[]): boolean {
    const params = this.inner.params;
    if (!Array.isArray(grads)) {
      throw new GradientMismatchError(
        `${NAME}.step: grads must be an array of ${params.length} typed arrays, got ${describe(grads)}; nothing was changed`,
      );
    }
    if (grads.length !== params.length) {
      throw new GradientMismatchError(
        `${NAME}.step: got ${grads.length} gradients for ${params.length} parameters; nothing was changed`,
      );
    }
    grads.forEach((g, i) => {
      const p = params[i]!;
      if (!(g instanceof Float32Array || g instanceof Float64Array) || dtypeOf(g) !== this.inner.dtype) {
        throw new GradientMismatchError(
          `${NAME}.step: gradient ${i} is ${describe(g)} but parameter ${i} is ${dtypeOf(p)}[${p.length}]; a gradient must have its parameter's dtype; nothing was changed`,
        );
      }
      if (g.length !== p.length) {
        throw new GradientMismatchError(
          `${NAME}.step: gradient ${i} has length ${g.length} but parameter ${i} has length ${p.length}; nothing was changed`,
        );
      }
    });
    const policy = this.inner.options.nonFinite;
    if (policy !== "proceed") {
      for (let i = 0; i < grads.length; i++) {
        const j = firstNonFinite(grads[i]!);
        if (j < 0) continue;
        if (policy === "skip") return false;
        throw new NonFiniteGradientError(
          `${NAME}.step: gradient ${i} has ${grads[i]![j]} at index ${j}; nothing was changed (option nonFinite: "throw" of ${this.inner.rule.name})`,
        );
      }
    }
    const first = this.count === 0;
    if (this.count + 1 < this.options.every) {
      // The first gradient of a window is copied (no zeroing pass; −0 stays −0, as tf.clone), the next added.
      grads.forEach((g, i) => {
        const a = this.acc[i]!;
        if (first) a.set(g);
        else for (let j = 0; j < a.length; j++) a[j] = a[j]! + g[j]!;
      });
      this.count++;
      return false;
    }
    // The k-th gradient: combine into fresh buffers, so that a refusal by the inner optimizer leaves the
    // accumulation as it was.
    const k = this.options.every;
    const mean = this.options.reduction === "mean" && k > 1;
    const combined = grads.map((g, i) => {
      const a = this.acc[i]!;
      const out = g instanceof Float64Array ? new Float64Array(g.length) : new Float32Array(g.length);
      if (first) out.set(g);
      else for (let j = 0; j < out.length; j++) out[j] = a[j]! + g[j]!;
      // Reading back the stored sum rounds it to the dtype first, as tf.add then tf.div would.
      if (mean) for (let j = 0; j < out.length; j++) out[j] = out[j]! / k;
      return out;
    });
    if (!this.inner.step(combined)) return false;
    this.count = 0;
    return true;
  }

  /** The complete state (accumulation and inner optimizer) as a plain JSON-serialisable object (a copy). */
  getState(): MultiStepsState {
    return {
      format: MULTI_STEPS_STATE_FORMAT,
      version: 1,
      every: this.options.every,
      reduction: this.options.reduction,
      count: this.count,
      accumulators: this.acc.map((a) => (this.count === 0 ? new Array<number>(a.length).fill(0) : encode(a))),
      inner: this.inner.getState(),
    };
  }

  /**
   * Restores a state written by {@link MultiSteps.getState} over an inner optimizer of the same class,
   * sizes and dtype (checked by the inner optimizer's `setState`). All or nothing: the accumulation is
   * checked and copied first, then the inner optimizer's `setState` checks its part before writing it; a
   * problem throws a {@link StateError} and changes nothing. A state written with another `every` or
   * `reduction` is restored with a warning (the sums do not depend on them; the warning comes before
   * anything is replaced), unless it holds more gradients than this wrapper's `every` allows.
   */
  setState(state: MultiStepsState): void {
    const fail = (what: string): never => {
      throw new StateError(`${NAME}.setState: ${what}; nothing was changed`);
    };
    let loaded: { count: number; buffers: FloatArray[]; inner: unknown; warning: string | null };
    try {
      loaded = this.readState(state, fail);
    } catch (e) {
      if (e instanceof StateError) throw e;
      const message = e instanceof Error ? `${e.name}: ${e.message}` : "an exception";
      throw new StateError(`${NAME}.setState: reading the state threw (${message}); nothing was changed`, {
        cause: e,
      });
    }
    if (loaded.warning !== null) warn(loaded.warning);
    this.inner.setState(loaded.inner as OptimizerState);
    loaded.buffers.forEach((b, i) => this.acc[i]!.set(b));
    this.count = loaded.count;
  }

  private readState(
    state: unknown,
    fail: (what: string) => never,
  ): { count: number; buffers: FloatArray[]; inner: unknown; warning: string | null } {
    if (typeof state !== "object" || state === null) fail(`expected a state object, got ${describe(state)}`);
    // Each field is read once (a getter could answer differently the next time).
    const { format, version, every, reduction, count, accumulators, inner } = state as Record<
      string,
      unknown
    >;
    if (format !== MULTI_STEPS_STATE_FORMAT)
      fail(`format is ${show(format)}, expected "${MULTI_STEPS_STATE_FORMAT}"`);
    if (version !== 1) fail(`version ${show(version)} is not supported (this library reads 1)`);
    const k = this.options.every;
    if (typeof count !== "number" || !Number.isSafeInteger(count) || count < 0 || count >= k)
      fail(`count must be an integer in [0, ${k - 1}] (every is ${k}), got ${show(count)}`);
    const params = this.inner.params;
    if (!Array.isArray(accumulators) || accumulators.length !== params.length)
      fail(`accumulators must hold one array per parameter (${params.length})`);
    const Ctor = this.inner.dtype === "float64" ? Float64Array : Float32Array;
    const buffers = params.map((p, i) => {
      const values: unknown = (accumulators as unknown[])[i];
      const length = Array.isArray(values) ? values.length : -1;
      if (length !== p.length)
        fail(
          `accumulator ${i} has ${length >= 0 ? `length ${length}` : "no values"}, expected length ${p.length}`,
        );
      const buf = new Ctor(length);
      for (let j = 0; j < length; j++) {
        const raw: unknown = (values as unknown[])[j];
        const x = decode(raw);
        if (x === undefined)
          fail(
            `accumulator ${i} has ${show(raw)} at index ${j}; expected a finite number or one of "NaN", "Infinity", "-Infinity"`,
          );
        buf[j] = x!;
        if (typeof raw === "number" && buf[j]! - buf[j]! !== 0)
          fail(
            `accumulator ${i} has ${show(raw)} at index ${j}, which overflows to ${buf[j]} in ${this.inner.dtype}`,
          );
      }
      return buf;
    });
    if (typeof inner !== "object" || inner === null) fail(`inner (the inner optimizer's state) is missing`);
    const differ: string[] = [];
    if (every !== undefined && every !== k) differ.push(`every=${show(every)}`);
    if (reduction !== undefined && reduction !== this.options.reduction)
      differ.push(`reduction=${show(reduction)}`);
    const warning =
      differ.length === 0
        ? null
        : `${NAME}.setState: the state was written with ${differ.join(", ")}; this wrapper has ` +
          `every=${k}, reduction=${this.options.reduction} (the state is restored, the options are not)`;
    return { count: count as number, buffers, inner, warning };
  }
}

/** A value as error messages show it (never throws). */
function show(v: unknown): string {
  if (typeof v === "number") return Object.is(v, -0) ? "-0" : String(v);
  if (typeof v === "string") return JSON.stringify(v);
  if (v === null || typeof v === "boolean" || typeof v === "undefined") return String(v);
  return typeof v === "object" ? "an object" : `a ${typeof v}`;
}

/** An accumulator as saved-state values: finite numbers as they are, NaN and ±Infinity as markers. */
function encode(a: FloatArray): StateValue[] {
  return Array.from(a, (x) => (x - x === 0 ? x : x > 0 ? "Infinity" : x < 0 ? "-Infinity" : "NaN"));
}

/** A saved-state value as a number; `undefined` when it is neither a finite number nor a marker. */
function decode(raw: unknown): number | undefined {
  if (typeof raw === "number") return raw - raw === 0 ? raw : undefined;
  if (raw === "NaN") return NaN;
  if (raw === "Infinity") return Infinity;
  if (raw === "-Infinity") return -Infinity;
  return undefined;
}

/** `new MultiSteps(inner, options)`; see {@link MultiSteps}. */
export function multiSteps<T extends Optimizer>(inner: T, options: MultiStepsOptions): MultiSteps<T> {
  return new MultiSteps(inner, options);
}
