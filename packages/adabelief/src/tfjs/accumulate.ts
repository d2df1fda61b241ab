import * as tf from "@tensorflow/tfjs-core";
import {
  resolveMultiSteps,
  type MultiStepsOptions,
  type ResolvedMultiStepsOptions,
} from "../core/accumulate.js";
import { NonFiniteGradientError, OptionError, StateError } from "../core/errors.js";
import { collectGradients, show, shapeText } from "./gradients.js";
import { matchGroups, type NamedTensor } from "./state.js";
import { scanNonFinite, selectRoute, type KernelChoice } from "./update.js";

/** Name of the `getWeights` entry holding the number of gradients accumulated (an int32 scalar). */
export const MULTI_STEPS_COUNT = "multiSteps/count";
/** Suffix of the `getWeights` entries holding the accumulated sums: `<variable name>/accumulator`. */
export const MULTI_STEPS_SUFFIX = "/accumulator";

const NAME = "MultiStepsOptimizer";

/**
 * Gradient accumulation as a `tf.Optimizer` (optax's `MultiSteps`): wraps any TensorFlow.js optimizer —
 * this package's or TensorFlow.js's own — and applies it once every `k = every` calls of `applyGradients`
 * (so once every `k` batches of `model.fit`), to the mean (default) or the sum of the `k` gradients each
 * variable received. Works with `model.compile` / `fit`, `minimize`, `getWeights` / `setWeights` and
 * `model.save(…, {includeOptimizer: true})` + `tf.loadLayersModel` (registered as `"adabelief.MultiSteps"`).
 * ```
 * call j = 1 … k−1:  a_v ← g₁ + … + g_j           per variable v (tf.add; the inner optimizer is not called)
 * call k:            inner.applyGradients({v: (a_v + g_k) / k})   ("sum": a_v + g_k); a_v freed
 * ```
 * The same float32 operations as the core `MultiSteps` (`tf.add`, then `tf.div` by `k`): on the cpu
 * backend the inner optimizer gets the same averaged gradient as the core's, bit for bit, and the result is
 * identical to one step of the inner optimizer on that average. A variable missing from some calls of a
 * window counts as a zero gradient in them (the mean still divides by `k`).
 *
 * Checks before changes: an unknown variable, a gradient of the wrong shape or dtype, a variable given
 * twice throw a `GradientMismatchError`; a NaN/±Infinity, when the inner optimizer is one of this package's
 * with `nonFinite` `"throw"` (default) or `"skip"`, throws a `NonFiniteGradientError` or drops the call (it is
 * not counted). On the `k`-th call the inner optimizer checks the combined gradients too; when it throws or
 * skips, the accumulation stays as it was before that call. A refused call changes nothing.
 *
 * Memory: one float32 accumulator per variable, held only in the middle of a window (none after the `k`-th
 * call); each call frees what it replaces, so `tf.memory().numTensors` does not grow across windows.
 *
 * `iterations` is the inner optimizer's (the number of updates). {@link MultiStepsOptimizer.getWeights}
 * returns the inner optimizer's weights, then `multiSteps/count`, then `<variable>/accumulator` per
 * variable in creation order; {@link MultiStepsOptimizer.setWeights} takes them back. The wrapper owns the
 * inner optimizer: {@link MultiStepsOptimizer.dispose} disposes it too.
 *
 * @example
 * ```ts
 * // Batches of 32 trained as batches of 128: one AdaBelief update per 4 batches.
 * model.compile({ optimizer: multiSteps(adabelief({ learningRate: 1e-3 }), { every: 4 }), loss: "meanSquaredError" });
 * await model.fit(xs, ys, { batchSize: 32, epochs: 10 });
 * ```
 */
export class MultiStepsOptimizer extends tf.Optimizer {
  /** The name `tf.serialization` knows this class by. */
  static get className(): string {
    return "adabelief.MultiSteps";
  }
  /** The wrapped optimizer. */
  readonly inner: tf.Optimizer;
  /** The resolved options. */
  readonly options: Readonly<ResolvedMultiStepsOptions>;
  private count = 0;
  private acc = new Map<tf.Variable, tf.Tensor>();
  /** Accumulators loaded by `setWeights`, bound to variables by the next `applyGradients`. */
  private pending: { names: string[]; tensors: tf.Tensor[] } | null = null;
  private countWeight: { value: number; tensor: tf.Tensor } | null = null;
  private disposed = false;

  /**
   * @param inner - the optimizer to apply every `every` calls (a `tf.Optimizer`; the wrapper owns it).
   * @param options - `every` (required) and `reduction` (`"mean"` default, or `"sum"`).
   * @throws OptionError - bad options, or `inner` is not a `tf.Optimizer`.
   */
  constructor(inner: tf.Optimizer, options: MultiStepsOptions) {
    super();
    if (!(inner instanceof tf.Optimizer)) {
      throw new OptionError(`${NAME}: inner must be a tf.Optimizer, got ${show(inner)}`);
    }
    this.options = Object.freeze(resolveMultiSteps(NAME, options));
    this.inner = inner;
  }

  /** Number of gradients accumulated since the last inner update, in [0, every − 1]. */
  get pendingCount(): number {
    return this.count;
  }

  /** The number of updates the inner optimizer has applied. */
  override get iterations(): number {
    return this.inner.iterations;
  }

  /** The inner optimizer's non-finite policy (this package's optimizers); TensorFlow.js's own proceed. */
  private policy(): "throw" | "skip" | "proceed" {
    const p = (this.inner as unknown as { options?: { nonFinite?: unknown } }).options?.nonFinite;
    return p === "throw" || p === "skip" ? p : "proceed";
  }

  /**
   * Adds the gradients to the accumulation and, on every `every`-th call, applies the inner optimizer to
   * their mean (or sum). Same arguments as `tf.Optimizer.applyGradients`; `null` gradients are skipped.
   * Gradients are only read.
   */
  applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    this.assertLive("applyGradients");
    const given = collectGradients(variableGradients, NAME);
    this.prune();
    const current = this.pending ? this.bindPending(given.map((g) => g.variable)) : this.acc;
    const policy = this.policy();
    if (policy !== "proceed" && given.length > 0) {
      const kernel = (this.inner as unknown as { kernel?: KernelChoice }).kernel ?? "auto";
      const hit = scanNonFinite(
        selectRoute(kernel),
        given.map((g) => g.grad),
      );
      if (hit) {
        if (policy === "skip") return;
        throw new NonFiniteGradientError(
          `${NAME}.applyGradients: the gradient of variable "${given[hit.index]!.name}" has ${hit.value} at index ${hit.at}; ` +
            `nothing was changed (option nonFinite: "throw" of the inner optimizer)`,
        );
      }
    }
    const k = this.options.every;
    if (this.count + 1 < k) {
      // Validation is over. The first gradient of a window is cloned, the next added.
      const next = new Map(current);
      for (const { variable, grad } of given) {
        const old = current.get(variable);
        next.set(variable, tf.keep(old ? tf.add(old, grad) : tf.clone(grad)));
      }
      for (const { variable } of given) current.get(variable)?.dispose();
      this.commit(next);
      this.count++;
      return;
    }
    // The k-th call: combine into temporaries; the accumulation changes only if the inner step happens.
    const mean = this.options.reduction === "mean" && k > 1;
    const grads = new Map(given.map((g) => [g.variable, g.grad]));
    const variables = [...new Set([...given.map((g) => g.variable), ...current.keys()])];
    const combined: tf.NamedTensorMap = {};
    const temporaries: tf.Tensor[] = [];
    try {
      for (const v of variables) {
        const g = grads.get(v);
        const a = current.get(v);
        let out = a && g ? tf.keep(tf.add(a, g)) : (a ?? g)!;
        if (out !== a && out !== g) temporaries.push(out);
        if (mean) {
          out = tf.keep(tf.div(out, k));
          temporaries.push(out);
        }
        combined[v.name] = out;
      }
      const before = this.inner.iterations;
      this.inner.applyGradients(combined);
      if (this.inner.iterations === before) return; // the inner optimizer skipped the step (nonFinite "skip")
    } finally {
      tf.dispose(temporaries);
    }
    for (const t of current.values()) t.dispose();
    this.commit(new Map());
    this.count = 0;
  }

  /** Makes `next` the accumulation (and drops a pending state that `next` was built from). */
  private commit(next: Map<tf.Variable, tf.Tensor>): void {
    this.acc = next;
    this.pending = null;
  }

  /**
   * The accumulators loaded by `setWeights`, matched to the variables of this call (as the optimizers'
   * slots: by name, with TensorFlow.js's `_<n>` renaming suffixes stripped, else by creation order). Checks
   * only; the binding is committed with the call.
   */
  private bindPending(variables: readonly tf.Variable[]): Map<tf.Variable, tf.Tensor> {
    const p = this.pending!;
    const fail = (what: string): never => {
      throw new StateError(`${NAME}.applyGradients: ${what}; nothing was changed`);
    };
    if (variables.length !== p.names.length) {
      fail(
        `the accumulators loaded by setWeights are for ${p.names.length} variables but this step has gradients for ` +
          `${variables.length}; the same variables must be trained as when the state was saved`,
      );
    }
    const { order, by } = matchGroups(p.names, variables);
    const out = new Map<tf.Variable, tf.Tensor>();
    variables.forEach((v, i) => {
      const t = p.tensors[order[i]!]!;
      if (!tf.util.arraysEqual(t.shape, v.shape)) {
        fail(
          `the loaded accumulator "${p.names[order[i]!]}${MULTI_STEPS_SUFFIX}" has shape ${shapeText(t.shape)} but variable ` +
            `"${v.name}", matched to it ${by === "name" ? "by name" : "by position (in creation order)"}, has shape ${shapeText(v.shape)}`,
        );
      }
      out.set(v, t);
    });
    return out;
  }

  /** Frees the accumulators of variables that were disposed. */
  private prune(): void {
    for (const [v, t] of this.acc) {
      if (v.isDisposed) {
        t.dispose();
        this.acc.delete(v);
      }
    }
  }

  /**
   * The inner optimizer's weights, then `multiSteps/count` (an int32 scalar), then one
   * `<variable name>/accumulator` per variable with an accumulation (none when the count is 0), in
   * creation order. The count and accumulators are the wrapper's own tensors (do not dispose them).
   */
  override async getWeights(): Promise<NamedTensor[]> {
    this.assertLive("getWeights");
    this.prune();
    const inner = await this.inner.getWeights();
    if (!this.countWeight || this.countWeight.value !== this.count || this.countWeight.tensor.isDisposed) {
      if (this.countWeight && !this.countWeight.tensor.isDisposed) this.countWeight.tensor.dispose();
      this.countWeight = { value: this.count, tensor: tf.keep(tf.scalar(this.count, "int32")) };
    }
    const ours: NamedTensor[] = this.pending
      ? this.pending.names.map((n, i) => ({
          name: n + MULTI_STEPS_SUFFIX,
          tensor: this.pending!.tensors[i]!,
        }))
      : [...this.acc.entries()]
          .sort(([a], [b]) => a.id - b.id)
          .map(([v, t]) => ({ name: v.name + MULTI_STEPS_SUFFIX, tensor: t }));
    return [...inner, { name: MULTI_STEPS_COUNT, tensor: this.countWeight.tensor }, ...ours];
  }

  /**
   * Restores weights written by {@link MultiStepsOptimizer.getWeights}: the part before `multiSteps/count`
   * goes to the inner optimizer's `setWeights`; the accumulators are bound to the variables of the next
   * `applyGradients` (by name, or by creation order when the names do not map one to one, as the
   * optimizers' slots). Everything is checked first (layout, count in [0, every − 1], dtypes, then the inner
   * optimizer's own checks); a mismatch throws a `StateError` and changes nothing. The caller keeps
   * ownership of the tensors passed.
   */
  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    this.assertLive("setWeights");
    const fail = (what: string): never => {
      throw new StateError(`${NAME}.setWeights: ${what}; nothing was changed`);
    };
    const layout = `[...the inner optimizer's weights, "${MULTI_STEPS_COUNT}", ..."<variable>${MULTI_STEPS_SUFFIX}"]`;
    if (!Array.isArray(weightValues)) fail(`expected an array ${layout}`);
    weightValues.forEach((w, i) => {
      if (
        typeof w !== "object" ||
        w === null ||
        typeof w.name !== "string" ||
        !(w.tensor instanceof tf.Tensor)
      )
        fail(`weight ${i} is not a {name, tensor} pair`);
      if (w.tensor.isDisposed) fail(`weight ${i} ("${w.name}") is a disposed tensor`);
    });
    const at = weightValues.map((w) => w.name).lastIndexOf(MULTI_STEPS_COUNT);
    if (at < 0) fail(`there is no "${MULTI_STEPS_COUNT}" weight; expected ${layout}`);
    const countTensor = weightValues[at]!.tensor;
    if (countTensor.size !== 1)
      fail(`"${MULTI_STEPS_COUNT}" must hold one number, got shape ${shapeText(countTensor.shape)}`);
    const count = Number((await countTensor.data())[0]);
    const every = this.options.every;
    if (!Number.isSafeInteger(count) || count < 0 || count >= every)
      fail(
        `"${MULTI_STEPS_COUNT}" must be an integer in [0, ${every - 1}] (every is ${every}), got ${count}`,
      );
    const ours = weightValues.slice(at + 1);
    ours.forEach((w) => {
      if (!w.name.endsWith(MULTI_STEPS_SUFFIX))
        fail(
          `weight "${w.name}" after "${MULTI_STEPS_COUNT}" is not named "<variable>${MULTI_STEPS_SUFFIX}"`,
        );
      if (w.tensor.dtype !== "float32")
        fail(`accumulator "${w.name}" has dtype ${w.tensor.dtype}, expected float32`);
    });
    if (count === 0 && ours.length > 0)
      fail(`"${MULTI_STEPS_COUNT}" is 0 but ${ours.length} accumulators follow it`);
    if (count > 0 && ours.length === 0)
      fail(`"${MULTI_STEPS_COUNT}" is ${count} but no accumulators follow it`);
    const names = ours.map((w) => w.name.slice(0, -MULTI_STEPS_SUFFIX.length));
    if (new Set(names).size !== names.length) fail(`an accumulator is given twice`);
    const values = await Promise.all(
      ours.map(async (w) => Float32Array.from(await w.tensor.data<"float32">())),
    );
    await this.inner.setWeights(weightValues.slice(0, at));
    // Checked, and the inner optimizer took its part: install ours.
    this.dropAccumulation();
    this.count = count;
    if (ours.length > 0) {
      this.pending = {
        names,
        tensors: ours.map((w, i) => tf.keep(tf.tensor(values[i]!, w.tensor.shape, "float32"))),
      };
    }
  }

  private dropAccumulation(): void {
    for (const t of this.acc.values()) t.dispose();
    this.acc = new Map();
    if (this.pending) tf.dispose(this.pending.tensors);
    this.pending = null;
  }

  /**
   * `{every, reduction, inner: {className, config}}`, for `model.save(…, {includeOptimizer: true})`; the
   * inner optimizer must be serialisable (this package's optimizers throw for a schedule function).
   */
  getConfig(): tf.serialization.ConfigDict {
    return {
      every: this.options.every,
      reduction: this.options.reduction,
      inner: { className: this.inner.getClassName(), config: this.inner.getConfig() },
    };
  }

  /**
   * Rebuilds the wrapper from {@link MultiStepsOptimizer.getConfig}'s output (called by
   * `tf.loadLayersModel`): the inner optimizer through the `tf.serialization` registry by its class name.
   */
  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    const spec = config?.["inner"] as { className?: unknown; config?: unknown } | undefined;
    const className = spec?.className;
    if (typeof className !== "string") {
      throw new OptionError(
        `${NAME}.fromConfig: config.inner.className must be a string, got ${show(className)}`,
      );
    }
    const entry = tf.serialization.SerializationMap.getMap().classNameMap[className];
    if (!entry) {
      throw new OptionError(
        `${NAME}.fromConfig: the inner optimizer class "${className}" is not registered with tf.serialization`,
      );
    }
    const [innerClass, innerFromConfig] = entry;
    const inner = innerFromConfig(innerClass, (spec!.config ?? {}) as tf.serialization.ConfigDict);
    return new cls(inner, {
      every: config["every"],
      reduction: config["reduction"] ?? undefined,
    });
  }

  /** Frees the accumulators and the cached count scalar, and disposes the inner optimizer. Idempotent. */
  override dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.dropAccumulation();
    if (this.countWeight && !this.countWeight.tensor.isDisposed) this.countWeight.tensor.dispose();
    this.countWeight = null;
    this.inner.dispose();
  }

  private assertLive(method: string): void {
    if (this.disposed) throw new Error(`${NAME}.${method}: the optimizer was disposed`);
  }
}

/**
 * `new MultiStepsOptimizer(inner, options)`: gradient accumulation over `every` calls for any `tf.Optimizer`
 * (see {@link MultiStepsOptimizer}); `model.compile({optimizer: multiSteps(adabelief(), {every: 4})})`.
 */
export function multiSteps(inner: tf.Optimizer, options: MultiStepsOptions): MultiStepsOptimizer {
  return new MultiStepsOptimizer(inner, options);
}

// Registered where the class is defined (as the optimizers), for tf.loadLayersModel.
tf.serialization.registerClass(MultiStepsOptimizer);
