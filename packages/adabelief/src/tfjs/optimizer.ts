import * as tf from "@tensorflow/tfjs-core";
import { NonFiniteGradientError, OptionError } from "../core/errors.js";
import { resolveGroups, type GroupOptions } from "../core/groups.js";
import type { CommonOptions, ResolvedCommon, UpdateRule } from "../core/rule.js";
import type { LearningRate } from "../core/types.js";
import { check, learningRateAt, stripUndefined } from "../core/validate.js";
import type { ClipOptions } from "./clip.js";
import { baseName, OptimizerState, type NamedTensor, type ValueChecks } from "./state.js";
import type { TensorRule } from "./tensor/rule.js";
import {
  canFuse,
  runCpu,
  runTensor,
  runWasm,
  scanNonFinite,
  selectRoute,
  type KernelChoice,
  type GroupStep,
  type UpdatePath,
  type Work,
} from "./update.js";
import { collectGradients, show } from "./gradients.js";
import { runGpu } from "./gpu-run.js";

/**
 * Which variables a parameter group of a TensorFlow.js optimizer takes, by name: a RegExp searched in the
 * name (`/(bias|gamma|beta)$/`), or a function of the name. A variable TensorFlow.js renamed on load (by
 * appending `_1`, `_2`, …) is also tested under its name without those suffixes.
 */
export type VariableMatch = RegExp | ((name: string) => boolean);

/**
 * A parameter group of a TensorFlow.js optimizer: the variables it takes (`match`; the first group that
 * matches a variable takes it) and the options it sets differently from the optimizer's.
 *
 * @typeParam G - the options a group may set, e.g. `AdaBeliefGroupOptions`.
 */
export type TfjsParamGroup<G extends object = object> = {
  /** Which variables the group takes, by name. */
  readonly match: VariableMatch;
} & Readonly<G>;

/** One parameter group of a TensorFlow.js optimizer as {@link RuleOptimizer.paramGroups} shows it. */
export interface TfjsParamGroupView<R extends ResolvedCommon = ResolvedCommon> {
  /** Which variables the group takes. */
  readonly match: VariableMatch;
  /** The group's resolved options: the optimizer's with the group's own settings applied. */
  readonly options: Readonly<R>;
  /** The learning rate the group's next step will use. */
  readonly currentLearningRate: number;
}

/** Options every TensorFlow.js optimizer of this package takes besides its core options. */
export interface TfjsExtraOptions<G extends object = object> extends ClipOptions {
  /** Which update paths may be used; default `"auto"`. See {@link KernelChoice}. */
  kernel?: KernelChoice;
  /**
   * Parameter groups: variables matched by name (first match wins) take the group's options, the others the
   * optimizer's. See {@link TfjsParamGroup}.
   */
  groups?: readonly TfjsParamGroup<G>[];
}

/**
 * The names of {@link TfjsExtraOptions}: the options a TensorFlow.js optimizer of this package takes besides
 * its core rule's (listed with those when an unknown option is refused; a parameter group cannot set them).
 */
const TFJS_EXTRA_OPTIONS = Object.freeze([
  "clipGlobalNorm",
  "clipValue",
  "kernel",
  "groups",
] as const) satisfies readonly (keyof TfjsExtraOptions)[];

/**
 * A core optimizer's options plus {@link TfjsExtraOptions}.
 *
 * @typeParam O - the core options.
 * @typeParam G - the options a parameter group may set (default: `O` without `nonFinite`).
 */
export type TfjsOptions<O extends CommonOptions, G extends object = GroupOptions<O>> = O &
  TfjsExtraOptions<G>;

/** A parameter group inside {@link RuleOptimizer}. */
interface TfjsGroup<R> {
  readonly match: VariableMatch;
  /** The options the group sets, as given (for `getConfig`). */
  readonly given: Readonly<Record<string, unknown>>;
  options: Readonly<R>;
  readonly ownLearningRate: boolean;
  readonly slotNames: readonly string[];
  readonly slotInit: readonly number[];
}

/** Whether `match` takes the variable name `name`. */
function matches(match: VariableMatch, name: string): boolean {
  // `search` ignores `lastIndex`, so a RegExp with the g or y flag gives the same answer every time.
  return typeof match === "function" ? match(name) === true : name.search(match) >= 0;
}

/** A gradient in `applyGradients`'s array form (TensorFlow.js does not export its `NamedTensor` type). */
export type { NamedTensor };

/**
 * The core rule refuses an option it does not know with "…; known options: a, b, c" (`check.knownKeys`),
 * which lists its own options only: add the TensorFlow.js ones. Other errors are returned unchanged.
 */
function withTfjsOptions(error: unknown): unknown {
  if (!(error instanceof OptionError) || !/: unknown option /.test(error.message)) return error;
  const extra = TFJS_EXTRA_OPTIONS.join(", ");
  const message = /; known options: [^;]*$/.test(error.message)
    ? `${error.message}, ${extra}`
    : `${error.message}; TensorFlow.js options: ${extra}`;
  return new OptionError(message, { cause: error });
}

/** A group's `match` as `getConfig` writes it (`{ source, flags }`) made a RegExp again; anything else unchanged. */
function regExpOf(match: unknown): unknown {
  if (typeof match !== "object" || match === null || match instanceof RegExp) return match;
  const { source, flags } = match as Record<string, unknown>;
  if (typeof source !== "string" || (flags !== undefined && typeof flags !== "string")) return match;
  try {
    return new RegExp(source, flags as string | undefined);
  } catch (e) {
    throw new OptionError(
      `fromConfig: a param group's match /${source}/${String(flags ?? "")} is not a valid RegExp`,
      {
        cause: e,
      },
    );
  }
}

/**
 * The `groups` option read once and checked: per group, its `match` and the options it sets (the rest of its
 * keys).
 */
function readGroups(
  name: string,
  groups: unknown,
): { match: VariableMatch; overrides: Record<string, unknown> }[] {
  if (groups === undefined) return [];
  if (!Array.isArray(groups)) {
    throw new OptionError(`${name}: groups must be an array of { match, ...options }, got ${show(groups)}`);
  }
  return groups.map((g: unknown, k) => {
    if (typeof g !== "object" || g === null || Array.isArray(g)) {
      throw new OptionError(
        `${name}: param group ${k} must be an object { match, ...options }, got ${show(g)}`,
      );
    }
    const { match, ...overrides } = g as Record<string, unknown>;
    if (!(match instanceof RegExp) && typeof match !== "function") {
      throw new OptionError(
        `${name}: param group ${k}: match must be a RegExp or a function (name) => boolean, got ${show(match)}`,
      );
    }
    return { match: match as VariableMatch, overrides };
  });
}

/**
 * A `tf.Optimizer` driven by one of the core's {@link UpdateRule}s, so the math lives in one place. Each
 * optimizer of `adabelief/tfjs` is a thin subclass (e.g. {@link AdaBeliefOptimizer}).
 *
 * What it adds over TensorFlow.js's own optimizers:
 * - **Fused in-place updates.** On the cpu backend the core's update loop runs in place on the tensors'
 *   storage; on the wasm backend a SIMD kernel (or the same loop) runs in place on the backend's heap; on
 *   other backends (webgl, webgpu) a tensor-op form of the rule runs inside `tidy`. A buffer shared with
 *   another tensor (`tf.variable(x)`, `clone`) is copied before it is written. No temporaries per step on
 *   the fused paths.
 * - **State keyed by variable**, not by position in the call (tfjs#4290); state is exactly the rule's slots.
 * - **Checks before changes**: unknown variables, wrong shapes or dtypes, non-finite gradients (per the
 *   `nonFinite` option), a loaded state that does not fit: a clear error naming the variable, nothing
 *   changed.
 * - Learning-rate schedules, weight decay and gradient clipping (`clipGlobalNorm`, `clipValue`).
 * - Parameter groups (`groups`): variables matched by name take options of their own (say, no weight decay
 *   for biases and normalisation parameters), on every update path.
 *
 * Caveat of updating in place on the cpu backend: TensorFlow.js hands out a tensor's storage itself from
 * `dataSync()`/`data()`, and keeps a typed array passed to `tf.tensor(array)` as the storage without a copy.
 * Such arrays, when they belong to a trained variable, show later updates (with TensorFlow.js's own
 * optimizers they kept the old values, since every step allocated new tensors). Copy them if you keep them.
 */
export abstract class RuleOptimizer<O extends CommonOptions, R extends ResolvedCommon, C>
  extends tf.Optimizer
{
  /** The core update rule. */
  readonly rule: UpdateRule<O, R, C>;
  private resolved: Readonly<R>;
  /** Global-norm clipping threshold, if any. */
  readonly clipGlobalNorm: number | undefined;
  /** Value clipping threshold, if any. */
  readonly clipValue: number | undefined;
  /** Which update paths may be used. */
  readonly kernel: KernelChoice;
  /**
   * Names of the per-variable state slots, in order: the optimizer's own (a parameter group whose options
   * change the slots, AMSGrad say, keeps its own for its variables).
   */
  readonly slotNames: readonly string[];
  private readonly tensorRule: TensorRule<C>;
  private readonly derived: readonly string[];
  private readonly slotInit: readonly number[];
  private readonly state: OptimizerState;
  private readonly groups: readonly TfjsGroup<R>[];
  private readonly groupByName = new Map<string, number>();
  private lastPath: UpdatePath | null = null;
  private disposed = false;

  /**
   * @param rule - the core rule.
   * @param tensorRule - the same rule as tensor ops.
   * @param options - the rule's options plus {@link TfjsExtraOptions}.
   * @param derived - keys of the resolved options that are derived, not options (not written by `getConfig`).
   */
  protected constructor(
    rule: UpdateRule<O, R, C>,
    tensorRule: TensorRule<C>,
    options: TfjsOptions<O> | undefined,
    derived: readonly string[] = [],
  ) {
    super();
    if (
      options !== undefined &&
      (typeof options !== "object" || options === null || Array.isArray(options))
    ) {
      throw new OptionError(`${rule.name}: options must be an object, got ${show(options)}`);
    }
    // The keys of TFJS_EXTRA_OPTIONS, taken out before the rest goes to the core rule.
    const { clipGlobalNorm, clipValue, kernel, groups, ...core } = options ?? ({} as TfjsOptions<O>);
    this.rule = rule;
    this.clipGlobalNorm =
      clipGlobalNorm === undefined ? undefined : check.positive("clipGlobalNorm", clipGlobalNorm);
    this.clipValue = clipValue === undefined ? undefined : check.positive("clipValue", clipValue);
    this.kernel =
      kernel === undefined ? "auto" : check.oneOf("kernel", kernel, ["auto", "loop", "tensor"] as const);
    const list = readGroups(rule.name, groups);
    const resolved = resolveGroups(
      rule as unknown as UpdateRule<never, R, unknown>,
      core,
      list.map((g) => g.overrides),
      { alsoWide: TFJS_EXTRA_OPTIONS, onError: withTfjsOptions },
    );
    this.resolved = resolved.defaults;
    this.derived = derived;
    this.slotNames = Object.freeze([...rule.slots(this.options)]);
    this.slotInit = this.slotNames.map((s) => rule.initialValue(s, this.options));
    this.tensorRule = tensorRule;
    this.groups = list.map((g, k) => {
      const o = resolved.groups[k]!;
      const slotNames = Object.freeze([...rule.slots(o)]);
      return {
        match: g.match,
        given: Object.freeze(stripUndefined(g.overrides)),
        options: o,
        ownLearningRate: resolved.ownLearningRate[k]!,
        slotNames,
        slotInit: slotNames.map((s) => rule.initialValue(s, o)),
      };
    });
    this.state = new OptimizerState(
      rule.name,
      this.slotNames,
      this.groups.length === 0
        ? undefined
        : {
            of: (v) => {
              const k = this.paramGroupOf(v.name);
              return k < 0 ? this.slotNames : this.groups[k]!.slotNames;
            },
            all: [this.slotNames, ...this.groups.map((g) => g.slotNames)],
          },
    );
  }

  /**
   * The parameter groups (option `groups`), in order: each with its `match`, its resolved options (the
   * optimizer's with the group's own settings; a group that sets no `learningRate` follows
   * {@link RuleOptimizer.learningRate}) and the learning rate of its next step. Empty without groups.
   */
  get paramGroups(): readonly TfjsParamGroupView<R>[] {
    return Object.freeze(
      this.groups.map((g) => {
        const view = { match: g.match, options: g.options };
        Object.defineProperty(view, "currentLearningRate", {
          enumerable: true,
          get: () => learningRateAt(view.options.learningRate, this.iterations),
        });
        return Object.freeze(view) as TfjsParamGroupView<R>;
      }),
    );
  }

  /**
   * The index of the parameter group that takes the variable named `name` (the first whose `match` takes
   * the name, or the name without the `_1`, `_2`, … suffixes TensorFlow.js appends when it renames a
   * variable on load), or −1 when none does and the variable uses the optimizer's options.
   */
  paramGroupOf(name: string): number {
    const known = this.groupByName.get(name);
    if (known !== undefined) return known;
    const base = baseName(name);
    const k = this.groups.findIndex(
      (g) => matches(g.match, name) || (base !== name && matches(g.match, base)),
    );
    this.groupByName.set(name, k);
    return k;
  }

  /**
   * The resolved core options (defaults applied); `learningRate` changes with
   * {@link RuleOptimizer.learningRate} or {@link RuleOptimizer.setLearningRate}.
   */
  get options(): Readonly<R> {
    return this.resolved;
  }

  /**
   * The learning rate, as on TensorFlow.js's own optimizers (`tf.train.adam(0.1).learningRate`): reading
   * gives the current setting — the number, or the schedule function if one was given (see
   * {@link RuleOptimizer.currentLearningRate} for the value the next step uses). Assigning
   * (`opt.learningRate = 0.5`) is {@link RuleOptimizer.setLearningRate}: a finite number ≥ 0 or a schedule,
   * used from the next step on, on every update path; a bad value throws an `OptionError` naming the
   * optimizer and leaves the old rate.
   */
  get learningRate(): LearningRate {
    return this.resolved.learningRate;
  }

  set learningRate(learningRate: LearningRate) {
    this.changeLearningRate("learningRate", learningRate);
  }

  /**
   * Sets the learning rate used from the next step on: a finite number ≥ 0 or a schedule `(step) => number`
   * (evaluated at {@link RuleOptimizer.iterations}, the number of steps taken so far, as at construction).
   * The state (moments, step count) is kept, and {@link RuleOptimizer.getConfig} reports the new value. As
   * TensorFlow.js's `SGDOptimizer.setLearningRate`, for learning-rate changes driven from outside (e.g. a
   * callback between epochs); `opt.learningRate = x` does the same. A bad value (checked as the constructor
   * checks it) throws an `OptionError` naming the optimizer and changes nothing. For AdaBound the bounds
   * keep the base learning rate recorded at construction (as PyTorch schedulers do with `base_lr`). Parameter
   * groups that set their own `learningRate` keep it; the others follow.
   */
  setLearningRate(learningRate: LearningRate): void {
    this.changeLearningRate("setLearningRate", learningRate);
  }

  private changeLearningRate(method: string, learningRate: unknown): void {
    this.assertLive(method);
    let lr: LearningRate;
    try {
      lr = check.learningRate("learningRate", learningRate);
    } catch (e) {
      if (!(e instanceof OptionError)) throw e;
      throw new OptionError(`${this.rule.name}.${method}: ${e.message}; the learning rate was not changed`, {
        cause: e,
      });
    }
    const old = this.resolved;
    this.resolved = Object.freeze({ ...old, learningRate: lr });
    for (const g of this.groups) {
      if (g.ownLearningRate) continue;
      g.options = g.options === old ? this.resolved : Object.freeze({ ...g.options, learningRate: lr });
    }
  }

  /** The update path the last step took (`null` before the first step); for diagnostics and tests. */
  get lastUpdatePath(): UpdatePath | null {
    return this.lastPath;
  }

  /** The learning rate the next update will use (the schedule evaluated at {@link RuleOptimizer.iterations}). */
  get currentLearningRate(): number {
    return learningRateAt(this.options.learningRate, this.iterations);
  }

  /**
   * Applies one update to the variables named in `variableGradients` (a map from variable name to
   * gradient, or TensorFlow.js's array form `{name, tensor}[]`). `null` gradients are skipped. Gradients
   * are only read. Everything is checked before anything changes: an unknown variable name, a gradient whose
   * shape or dtype differs from its variable's, a variable given twice, a non-finite gradient (option
   * `nonFinite`) or a loaded state that does not fit throws and leaves variables, state and the step count
   * as they were. With `nonFinite: "skip"` such a step is skipped silently.
   */
  applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    this.assertLive("applyGradients");
    const name = this.rule.name;
    const works = collectGradients(variableGradients, this.rule.name);
    this.state.prune();
    this.state.checkSlots(works.map((w) => w.variable));
    const binding = this.state.checkPending(works.map((w) => w.variable));
    const lr = learningRateAt(this.resolved.learningRate, this.iterations);
    const steps = this.groupSteps(works.map((w) => w.name));
    const route = selectRoute(this.kernel);
    if (this.options.nonFinite !== "proceed") {
      const hit = scanNonFinite(
        route,
        works.map((w) => w.grad),
      );
      if (hit) {
        if (this.options.nonFinite === "skip") return;
        throw new NonFiniteGradientError(
          `${name}.applyGradients: the gradient of variable "${works[hit.index]!.name}" has ${hit.value} at index ${hit.at}; ` +
            `nothing was changed (option nonFinite: "throw")`,
        );
      }
    }
    // Validation is over: from here on the step is applied.
    if (binding) this.state.commitPending(binding);
    const items: Work[] = works.map((w, i) => {
      const group = steps[i];
      const entry = this.state.entry(w.variable);
      return group ? { entry, grad: w.grad, group } : { entry, grad: w.grad };
    });
    const ctx = {
      rule: this.rule as unknown as UpdateRule<never, ResolvedCommon, C>,
      tensorRule: this.tensorRule,
      slotInit: this.slotInit,
      clip: { clipGlobalNorm: this.clipGlobalNorm, clipValue: this.clipValue },
      c: this.rule.coefficients(this.iterations + 1, lr, this.options),
    };
    if (route.kind !== "tensor" && canFuse(route, items)) {
      if (route.kind === "cpu") {
        this.lastPath = runCpu(route.cpu, items, ctx, route.simd);
      } else if (route.kind === "webgl" || route.kind === "webgpu") {
        this.lastPath = runGpu(route, items, ctx);
      } else {
        this.lastPath = runWasm(route.wasm, route.simd, items, ctx);
      }
    } else {
      runTensor(items, ctx);
      this.lastPath = "tensor";
    }
    this.incrementIterations();
  }

  /**
   * As `tf.Optimizer.minimize`: computes the gradients of the scalar `f()` with respect to `varList`
   * (default: every trainable variable), applies them with {@link RuleOptimizer.applyGradients}, disposes
   * them, and returns the cost when `returnCost` (the caller then owns it) or `null`. When the step is
   * refused (a non-finite gradient under `nonFinite: "throw"`, a loaded state that does not fit, …) the
   * gradients and the cost are disposed before the error is rethrown, so a refused step leaks no tensor; a
   * disposed optimizer throws before computing anything.
   */
  override minimize(f: () => tf.Scalar, returnCost = false, varList?: tf.Variable[]): tf.Scalar | null {
    this.assertLive("minimize");
    const { value, grads } = this.computeGradients(f, varList);
    try {
      this.applyGradients(
        varList != null ? varList.map((v) => ({ name: v.name, tensor: grads[v.name]! })) : grads,
      );
    } catch (e) {
      tf.dispose(grads);
      value.dispose();
      throw e;
    }
    tf.dispose(grads);
    if (returnCost) return value;
    value.dispose();
    return null;
  }

  /**
   * Per variable of a step, its parameter group's scalars and slot initial values (`undefined` for the
   * optimizer's own), computed once per group; a group's schedule that returns a bad rate throws here, before
   * anything changes.
   */
  private groupSteps(names: readonly string[]): (GroupStep | undefined)[] {
    if (this.groups.length === 0) return [];
    const byGroup = new Map<number, GroupStep | undefined>();
    return names.map((name) => {
      const k = this.paramGroupOf(name);
      if (k < 0) return undefined;
      if (!byGroup.has(k)) {
        const g = this.groups[k]!;
        if (g.options === this.resolved) byGroup.set(k, undefined);
        else {
          let lr: number;
          try {
            lr = learningRateAt(g.options.learningRate, this.iterations);
          } catch (e) {
            if (!(e instanceof OptionError)) throw e;
            throw new OptionError(
              `${this.rule.name}.applyGradients: param group ${k}: ${e.message}; nothing was changed`,
              { cause: e },
            );
          }
          byGroup.set(k, {
            c: this.rule.coefficients(this.iterations + 1, lr, g.options),
            slotInit: g.slotInit,
          });
        }
      }
      return byGroup.get(k);
    });
  }

  /**
   * `[iter, ...slots]`: the step count as an int32 scalar named `iter`, then each variable's slots named
   * `<variable name>/<slot>` (e.g. `dense_Dense1/kernel/m`), variables in creation order (`Variable.id`),
   * whatever order the optimizer first saw them in: the order in which `tf.loadLayersModel` recreates them.
   * The tensors are the optimizer's own (do not dispose them); the `iter` scalar is cached, so `model.save`
   * does not leak it (tfjs#8238).
   */
  override async getWeights(): Promise<NamedTensor[]> {
    this.assertLive("getWeights");
    return [this.state.iterWeight(this.iterations), ...this.state.weights()];
  }

  /**
   * Restores `[iter, ...slots]` as written by {@link RuleOptimizer.getWeights} (of the same optimizer class
   * and options). The slots are bound to the variables this optimizer already has state for, or, on a fresh
   * optimizer (as after `tf.loadLayersModel`), to the variables of the next `applyGradients` call. Each saved
   * slot group is matched to a variable **by name**: the exact name, or else the name with the `_<n>`
   * suffixes TensorFlow.js adds when it renames variables on load stripped (`kernel_1` ↔ `kernel`); only when
   * the names do not map one to one are they bound **by position**, variables in creation order. Everything
   * is checked first (names, slot count, shapes, a step count that is an integer in [0, 2^53 − 1], and the
   * values: every slot value finite, and ≥ 0 in the second-moment slots such as AdaBelief's `s` or Adam's
   * `v`: the rule's `nonNegativeSlots`); a mismatch throws a `StateError` naming the variable or slot and
   * changes nothing. An optimizer built with `nonFinite: "proceed"` loads the slot values as they are. The
   * caller keeps ownership of the tensors passed.
   */
  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    this.assertLive("setWeights");
    const checks: ValueChecks =
      this.options.nonFinite === "proceed"
        ? null
        : { nonNegative: new Set(this.rule.nonNegativeSlots ?? []) };
    const loaded = await this.state.load(weightValues, checks);
    this.state.install(loaded);
    this.iterations_ = loaded.iterations;
  }

  /**
   * Every option with its resolved value, for `model.save(…, {includeOptimizer: true})`: all the core
   * options (defaults included, as TensorFlow.js's own optimizers write theirs, so a loaded optimizer does
   * not depend on the defaults of the library version that loads it), the current learning rate (see
   * {@link RuleOptimizer.setLearningRate}), and `clipGlobalNorm` / `clipValue` (`null` when not clipping).
   * Derived values (AdaBound's base learning rate) and the diagnostic `kernel` are not written. Parameter
   * groups are written as `groups`: each group's `match` as `{ source, flags }` of its RegExp, and the
   * options it sets. A learning-rate schedule (a function), in the options or in a group, cannot be
   * serialised, nor can a group whose `match` is a function: this throws an `OptionError` then — save the
   * model without `includeOptimizer`, or use a numeric learning rate and RegExp matches to save it.
   */
  getConfig(): tf.serialization.ConfigDict {
    const config: tf.serialization.ConfigDict = {};
    for (const [key, value] of Object.entries(this.resolved)) {
      if (this.derived.includes(key)) continue;
      if (typeof value === "function") {
        throw new OptionError(
          `${this.rule.name}.getConfig: option ${key} is a schedule function, which cannot be serialised; ` +
            `save the model without includeOptimizer, or use a numeric ${key}`,
        );
      }
      config[key] = value as tf.serialization.ConfigDictValue;
    }
    config["clipGlobalNorm"] = this.clipGlobalNorm ?? null;
    config["clipValue"] = this.clipValue ?? null;
    if (this.groups.length > 0) {
      config["groups"] = this.groups.map((g, k) => {
        if (typeof g.match === "function") {
          throw new OptionError(
            `${this.rule.name}.getConfig: param group ${k} matches variables with a function, which cannot be ` +
              `serialised; save the model without includeOptimizer, or match with a RegExp`,
          );
        }
        const entry: tf.serialization.ConfigDict = {
          match: { source: g.match.source, flags: g.match.flags },
        };
        for (const [key, value] of Object.entries(g.given)) {
          if (typeof value === "function") {
            throw new OptionError(
              `${this.rule.name}.getConfig: option ${key} of param group ${k} is a schedule function, which ` +
                `cannot be serialised; save the model without includeOptimizer, or use a numeric ${key}`,
            );
          }
          entry[key] = value as tf.serialization.ConfigDictValue;
        }
        return entry;
      });
    }
    return config;
  }

  /**
   * Rebuilds an optimizer from {@link RuleOptimizer.getConfig}'s output (called by `tf.loadLayersModel`,
   * which adds a `customObjects` entry to the config; it is ignored). `null` clipping thresholds mean no
   * clipping. Entries equal to this version's defaults are passed as defaults (same resolved options), so
   * that options without effect in a configuration (e.g. `smaThreshold` with `rectify: false`) do not warn.
   * A group's `match` written as `{ source, flags }` becomes that RegExp again.
   */
  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    const { customObjects: _unused, ...given } = config ?? {};
    void _unused;
    const defaults = new cls({}) as unknown as { options?: Record<string, unknown> };
    const options: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(given)) {
      if (value === null && (key === "clipGlobalNorm" || key === "clipValue")) continue;
      if (key === "groups" && Array.isArray(value)) {
        options[key] = value.map((g) =>
          typeof g === "object" && g !== null && !Array.isArray(g)
            ? { ...g, match: regExpOf(g["match"]) }
            : g,
        );
        continue;
      }
      if (defaults.options && Object.is(defaults.options[key], value)) continue;
      options[key] = value;
    }
    return new cls(options);
  }

  /** Frees every tensor the optimizer owns (slots, loaded state, the cached `iter` scalar). Idempotent. */
  override dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.state.dispose();
  }

  private assertLive(method: string): void {
    if (this.disposed) throw new Error(`${this.rule.name}.${method}: the optimizer was disposed`);
  }
}
