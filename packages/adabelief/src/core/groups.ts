import { OptionError } from "./errors.js";
import type { CommonOptions, ResolvedCommon, UpdateRule } from "./rule.js";
import type { FloatArray } from "./types.js";
import { stripUndefined } from "./validate.js";
import { collectWarnings, warn } from "./warnings.js";

/**
 * The options a parameter group may set: the optimizer's options without `nonFinite` (which applies to the
 * whole optimizer). Optimizers with more optimizer-wide options narrow it further (see
 * `AdaBeliefGroupOptions`, `RAdamGroupOptions`).
 */
export type GroupOptions<O extends CommonOptions> = Omit<O, "nonFinite">;

/**
 * A parameter group, as PyTorch's `{"params": [...], "lr": ...}`: its parameters and the options it sets
 * differently from the optimizer's (the others are the optimizer's). Pass a list of groups instead of a
 * list of parameters:
 *
 * ```ts
 * new AdaBelief([{ params: [w1, w2] }, { params: [b1, b2], weightDecay: 0 }], { weightDecay: 1e-2 });
 * ```
 *
 * @typeParam O - the options the group may set, e.g. `AdaBeliefGroupOptions`.
 */
export type ParamGroup<O extends object = object> = {
  /** The group's parameters (Float32Array or Float64Array, the dtype of all the optimizer's parameters). */
  readonly params: readonly FloatArray[];
} & Readonly<O>;

/** One parameter group of an optimizer as `Optimizer.paramGroups` shows it (read-only). */
export interface ParamGroupView<R extends ResolvedCommon = ResolvedCommon> {
  /** The group's parameters, in order: a consecutive part of the optimizer's `params`. */
  readonly params: readonly FloatArray[];
  /** The group's resolved options: the optimizer's options with the group's own settings applied. */
  readonly options: Readonly<R>;
  /** The learning rate the group's next update will use (its schedule evaluated at the step count). */
  readonly currentLearningRate: number;
}

/** The resolved options of an optimizer and of each of its parameter groups. */
export interface ResolvedGroups<R> {
  /** The optimizer's options (what a parameter in no group, or a group setting nothing, uses). */
  defaults: Readonly<R>;
  /** Per group: its resolved options (the `defaults` object itself when the group sets nothing). */
  groups: Readonly<R>[];
  /** Per group: whether it sets its own `learningRate`. */
  ownLearningRate: boolean[];
}

/** The message of an option error without the leading `"<name>: "`. */
function bare(message: string, name: string): string {
  return message.startsWith(`${name}: `) ? message.slice(name.length + 2) : message;
}

/**
 * Resolves the optimizer's options and each group's (`{ ...options, ...overrides }`), checking that no
 * group sets an optimizer-wide option (`nonFinite`, the rule's `optimizerWide`, and `alsoWide`) and naming
 * the group in every error. Warnings of a group that repeat one of the optimizer's own options (a setting
 * the group inherits) are not repeated; a group's new warnings name the group.
 *
 * @param rule - the update rule.
 * @param options - the user's options for the whole optimizer (an object).
 * @param overrides - per group, the options it sets (without `params` / `match`).
 * @param extra - `alsoWide`: further optimizer-wide option names (the TensorFlow.js optimizers' own);
 *   `onError`: rewrites an error of the optimizer's own options (not a group's) before it is thrown.
 * @throws OptionError - naming the optimizer and, for a group, the group.
 * @internal
 */
export function resolveGroups<R extends ResolvedCommon>(
  rule: UpdateRule<never, R, unknown>,
  options: object,
  overrides: readonly Record<string, unknown>[],
  extra: { alsoWide?: readonly string[]; onError?: (e: unknown) => unknown } = {},
): ResolvedGroups<R> {
  const name = rule.name;
  const label = (k: number) => `param group ${k}`;
  const resolve = (o: object) => (rule.resolve as (o: object) => R)(o);
  let first: { value: R; warnings: string[] };
  try {
    first = collectWarnings(() => resolve(options));
  } catch (e) {
    // Every option error names the optimizer.
    const named =
      e instanceof OptionError && !e.message.startsWith(`${name}:`)
        ? new OptionError(`${name}: ${e.message}`, { cause: e })
        : e;
    throw extra.onError ? extra.onError(named) : named;
  }
  const defaults = Object.freeze(first.value);
  const seen = new Set(first.warnings);
  for (const w of first.warnings) warn(w);
  const wide = new Set(["nonFinite", ...(rule.optimizerWide ?? []), ...(extra.alsoWide ?? [])]);
  const groups: Readonly<R>[] = [];
  const ownLearningRate: boolean[] = [];
  overrides.forEach((group, k) => {
    const given = stripUndefined(group);
    for (const key of Object.keys(given)) {
      if (wide.has(key)) {
        throw new OptionError(
          `${name}: ${label(k)} sets ${key}, which applies to the whole optimizer and cannot differ between ` +
            `groups; set it in the optimizer's options`,
        );
      }
    }
    ownLearningRate.push("learningRate" in given);
    if (Object.keys(given).length === 0) {
      groups.push(defaults);
      return;
    }
    let resolved: { value: R; warnings: string[] };
    try {
      resolved = collectWarnings(() => resolve({ ...options, ...given }));
    } catch (e) {
      if (!(e instanceof OptionError)) throw e;
      let message = bare(e.message, name);
      // The list of known options: only those a group may set.
      message = message.replace(
        /; known options: ([^;]*)$/,
        (_, list: string) =>
          `; a group may set ${list
            .split(", ")
            .filter((o) => !wide.has(o))
            .join(", ")}`,
      );
      throw new OptionError(`${name}: ${label(k)}: ${message}`, { cause: e });
    }
    for (const w of resolved.warnings) {
      if (seen.has(w)) continue;
      seen.add(w);
      warn(`${name}: ${label(k)}: ${bare(w, name)}`);
    }
    groups.push(Object.freeze(resolved.value));
  });
  return { defaults, groups, ownLearningRate };
}
