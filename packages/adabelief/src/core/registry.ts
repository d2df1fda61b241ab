import { AdaBelief } from "./optimizers/adabelief.js";
import { AdaBound } from "./optimizers/adabound.js";
import { Adam, AdamW } from "./optimizers/adam.js";
import { Fromage } from "./optimizers/fromage.js";
import { MSVAG } from "./optimizers/msvag.js";
import { RAdam } from "./optimizers/radam.js";
import { SGD } from "./optimizers/sgd.js";
import { Yogi } from "./optimizers/yogi.js";

/**
 * The nine optimizers of the AdaBelief paper by their short names, in the order of the paper's tables
 * (AdaBelief last): name → core class. `adabelief/tfjs` keys its `TFJS_OPTIMIZERS` by the same names.
 *
 * ```ts
 * const opt = new OPTIMIZERS.adabelief([w], { learningRate: 1e-3 });
 * ```
 */
export const OPTIMIZERS = Object.freeze({
  sgd: SGD,
  adam: Adam,
  adamw: AdamW,
  yogi: Yogi,
  adabound: AdaBound,
  radam: RAdam,
  msvag: MSVAG,
  fromage: Fromage,
  adabelief: AdaBelief,
} as const);

/** The short name of one of the nine optimizers: `"sgd"`, `"adam"`, …, `"adabelief"`. */
export type OptimizerName = keyof typeof OPTIMIZERS;

/** The options object of optimizer `N`'s constructor, e.g. `OptionsOf<"adabelief">` is `AdaBeliefOptions`. */
export type OptionsOf<N extends OptimizerName> = NonNullable<
  ConstructorParameters<(typeof OPTIMIZERS)[N]>[1]
>;

/** The nine names, in the order of {@link OPTIMIZERS}. */
export const OPTIMIZER_NAMES: readonly OptimizerName[] = Object.freeze(
  Object.keys(OPTIMIZERS) as OptimizerName[],
);

/** Whether `name` is one of the nine optimizer names (own keys of {@link OPTIMIZERS} only). */
export function isOptimizerName(name: unknown): name is OptimizerName {
  return typeof name === "string" && Object.prototype.hasOwnProperty.call(OPTIMIZERS, name);
}
