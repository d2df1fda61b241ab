import * as tf from "@tensorflow/tfjs-core";
import {
  adabeliefRule,
  type AdaBeliefCoefficients,
  type AdaBeliefGroupOptions,
  type AdaBeliefOptions,
  type ResolvedAdaBeliefOptions,
} from "../core/optimizers/adabelief.js";
import {
  adaboundRule,
  type AdaBoundCoefficients,
  type AdaBoundOptions,
  type ResolvedAdaBoundOptions,
} from "../core/optimizers/adabound.js";
import {
  adamRule,
  adamwRule,
  type AdamCoefficients,
  type AdamOptions,
  type ResolvedAdamOptions,
} from "../core/optimizers/adam.js";
import {
  fromageRule,
  type FromageCoefficients,
  type FromageOptions,
  type ResolvedFromageOptions,
} from "../core/optimizers/fromage.js";
import {
  msvagRule,
  type MSVAGCoefficients,
  type MSVAGOptions,
  type ResolvedMSVAGOptions,
} from "../core/optimizers/msvag.js";
import {
  radamRule,
  type RAdamCoefficients,
  type RAdamGroupOptions,
  type RAdamOptions,
  type ResolvedRAdamOptions,
} from "../core/optimizers/radam.js";
import {
  sgdRule,
  type ResolvedSGDOptions,
  type SGDCoefficients,
  type SGDOptions,
} from "../core/optimizers/sgd.js";
import {
  yogiRule,
  type ResolvedYogiOptions,
  type YogiCoefficients,
  type YogiOptions,
} from "../core/optimizers/yogi.js";
import type { OptimizerName } from "../core/registry.js";
import { RuleOptimizer, type TfjsOptions } from "./optimizer.js";
import { adabeliefTensorRule } from "./tensor/adabelief.js";
import { adaboundTensorRule } from "./tensor/adabound.js";
import { adamTensorRule } from "./tensor/adam.js";
import { fromageTensorRule } from "./tensor/fromage.js";
import { msvagTensorRule } from "./tensor/msvag.js";
import { radamTensorRule } from "./tensor/radam.js";
import { sgdTensorRule } from "./tensor/sgd.js";
import { yogiTensorRule } from "./tensor/yogi.js";

/**
 * AdaBelief as a `tf.Optimizer` (official `adabelief-pytorch` 0.2.1 semantics and defaults; see the core
 * class `AdaBelief` for every detail). Per element: `m ← β1·m + (1−β1)·g`,
 * `s ← β2·s + (1−β2)·(g − m)² + ε`, `θ ← θ − α·m̂/(√ŝ + ε)` with RAdam-style rectification by default.
 * Slots per variable: `m`, `s` (and `sMax` with `amsgrad`). Registered as `"adabelief.AdaBelief"`.
 */
export class AdaBeliefOptimizer extends RuleOptimizer<
  AdaBeliefOptions,
  ResolvedAdaBeliefOptions,
  AdaBeliefCoefficients
> {
  /** The name `tf.serialization` knows this class by. */
  static get className(): string {
    return "adabelief.AdaBelief";
  }
  /** @param options - the core `AdaBeliefOptions` plus clipping and `kernel`. */
  constructor(options?: TfjsOptions<AdaBeliefOptions, AdaBeliefGroupOptions>) {
    super(adabeliefRule, adabeliefTensorRule, options);
  }
}

/**
 * Adam as a `tf.Optimizer`, exactly as `torch.optim.Adam` 1.13 (see the core class `Adam`): L2 weight decay
 * `g ← g + λθ`, `m ← β1·m + (1−β1)·g`, `v ← β2·v + (1−β2)·g²`, `θ ← θ − α/(1−β1^t)·m/(√v/√(1−β2^t) + ε)`.
 * Over `tf.train.adam` it adds fused in-place kernels, AMSGrad, weight decay, schedules, clipping and a
 * state keyed by variable. Slots: `m`, `v` (and `vMax`). Registered as `"adabelief.Adam"`.
 */
export class AdamOptimizer extends RuleOptimizer<AdamOptions, ResolvedAdamOptions, AdamCoefficients> {
  /** The name `tf.serialization` knows this class by. */
  static get className(): string {
    return "adabelief.Adam";
  }
  /** @param options - the core `AdamOptions` plus clipping and `kernel`. */
  constructor(options?: TfjsOptions<AdamOptions>) {
    super(adamRule, adamTensorRule, options);
  }
}

/**
 * AdamW as a `tf.Optimizer`, exactly as `torch.optim.AdamW` 1.13 (see the core class `AdamW`): Adam with
 * decoupled decay `θ ← θ·(1 − αλ)` before the step (default λ = 0.01). Slots: `m`, `v` (and `vMax`).
 * Registered as `"adabelief.AdamW"`.
 */
export class AdamWOptimizer extends RuleOptimizer<AdamOptions, ResolvedAdamOptions, AdamCoefficients> {
  /** The name `tf.serialization` knows this class by. */
  static get className(): string {
    return "adabelief.AdamW";
  }
  /** @param options - the core `AdamOptions` (AdamW defaults) plus clipping and `kernel`. */
  constructor(options?: TfjsOptions<AdamOptions>) {
    super(adamwRule, adamTensorRule, options);
  }
}

/**
 * RAdam as a `tf.Optimizer`, variant `"pytorch"` (torch.optim.RAdam 1.13) or `"paper"` (see the core class
 * `RAdam`): Adam whose adaptive step is rectified by r_t once ρ_t exceeds 5, momentum SGD before.
 * Slots: `m`, `v`. Registered as `"adabelief.RAdam"`.
 */
export class RAdamOptimizer extends RuleOptimizer<RAdamOptions, ResolvedRAdamOptions, RAdamCoefficients> {
  /** The name `tf.serialization` knows this class by. */
  static get className(): string {
    return "adabelief.RAdam";
  }
  /** @param options - the core `RAdamOptions` plus clipping and `kernel`. */
  constructor(options?: TfjsOptions<RAdamOptions, RAdamGroupOptions>) {
    super(radamRule, radamTensorRule, options);
  }
}

/**
 * SGD with momentum, Nesterov and L2 decay as a `tf.Optimizer`, exactly as `torch.optim.SGD` 1.13 (see the
 * core class `SGD`): `b ← μ·b + (1−δ)·g` (b₁ = g), `θ ← θ − α·(g + μ·b or b)`. Over `tf.train.sgd` it adds
 * momentum with torch semantics, weight decay, schedules, clipping and in-place kernels. Slot:
 * `momentumBuffer` when μ ≠ 0, none otherwise. Registered as `"adabelief.SGD"`.
 */
export class SGDOptimizer extends RuleOptimizer<SGDOptions, ResolvedSGDOptions, SGDCoefficients> {
  /** The name `tf.serialization` knows this class by. */
  static get className(): string {
    return "adabelief.SGD";
  }
  /** @param options - the core `SGDOptions` plus clipping and `kernel`. */
  constructor(options?: TfjsOptions<SGDOptions>) {
    super(sgdRule, sgdTensorRule, options);
  }
}

/**
 * Yogi as a `tf.Optimizer`, as the AdaBelief paper's reference code (see the core class `Yogi`):
 * `v ← v − (1−β2)·sign(v − g²)·g²`, m and v start at `initialAccumulator`. Slots: `m`, `v`.
 * Registered as `"adabelief.Yogi"`.
 */
export class YogiOptimizer extends RuleOptimizer<YogiOptions, ResolvedYogiOptions, YogiCoefficients> {
  /** The name `tf.serialization` knows this class by. */
  static get className(): string {
    return "adabelief.Yogi";
  }
  /** @param options - the core `YogiOptions` plus clipping and `kernel`. */
  constructor(options?: TfjsOptions<YogiOptions>) {
    super(yogiRule, yogiTensorRule, options);
  }
}

/**
 * AdaBound / AMSBound as a `tf.Optimizer`, as the `adabound` 0.0.5 package (see the core class `AdaBound`):
 * the Adam step size clamped to bounds that converge to `finalLr`. Slots: `m`, `v` (and `vMax`).
 * Registered as `"adabelief.AdaBound"`.
 */
export class AdaBoundOptimizer extends RuleOptimizer<
  AdaBoundOptions,
  ResolvedAdaBoundOptions,
  AdaBoundCoefficients
> {
  /** The name `tf.serialization` knows this class by. */
  static get className(): string {
    return "adabelief.AdaBound";
  }
  /** @param options - the core `AdaBoundOptions` plus clipping and `kernel`. */
  constructor(options?: TfjsOptions<AdaBoundOptions>) {
    super(adaboundRule, adaboundTensorRule, options, ["baseLearningRate"]);
  }
}

/**
 * M-SVAG as a `tf.Optimizer`, as the AdaBelief paper's reference code (see the core class `MSVAG`):
 * `θ ← θ − α·m̂·γ`, γ = m̂²/(m̂² + ρ_t·s). Slots: `m`, `v`. Registered as `"adabelief.MSVAG"`.
 */
export class MSVAGOptimizer extends RuleOptimizer<MSVAGOptions, ResolvedMSVAGOptions, MSVAGCoefficients> {
  /** The name `tf.serialization` knows this class by. */
  static get className(): string {
    return "adabelief.MSVAG";
  }
  /** @param options - the core `MSVAGOptions` plus clipping and `kernel`. */
  constructor(options?: TfjsOptions<MSVAGOptions>) {
    super(msvagRule, msvagTensorRule, options);
  }
}

/**
 * Fromage as a `tf.Optimizer`, as the AdaBelief paper's reference code (see the core class `Fromage`), per
 * variable: `θ ← (θ − α·(‖θ‖/‖g‖)·g)/√(1 + α²)`. No slots. Registered as `"adabelief.Fromage"`.
 */
export class FromageOptimizer extends RuleOptimizer<
  FromageOptions,
  ResolvedFromageOptions,
  FromageCoefficients
> {
  /** The name `tf.serialization` knows this class by. */
  static get className(): string {
    return "adabelief.Fromage";
  }
  /** @param options - the core `FromageOptions` plus clipping and `kernel`. */
  constructor(options?: TfjsOptions<FromageOptions>) {
    super(fromageRule, fromageTensorRule, options);
  }
}

/**
 * The nine optimizers as `tf.Optimizer` classes, by the core's short names (see the core's `OPTIMIZERS`),
 * in the order of the paper's tables: name → class. `new TFJS_OPTIMIZERS[name](options)` is what the
 * factory of that name (`adabelief(options)`, …) does.
 */
export const TFJS_OPTIMIZERS = Object.freeze({
  sgd: SGDOptimizer,
  adam: AdamOptimizer,
  adamw: AdamWOptimizer,
  yogi: YogiOptimizer,
  adabound: AdaBoundOptimizer,
  radam: RAdamOptimizer,
  msvag: MSVAGOptimizer,
  fromage: FromageOptimizer,
  adabelief: AdaBeliefOptimizer,
} as const satisfies Record<OptimizerName, new (options?: never) => tf.Optimizer>);

/**
 * Registers every optimizer class with `tf.serialization.registerClass` so that `tf.loadLayersModel` can
 * rebuild a model saved with `includeOptimizer: true`. Importing `adabelief/tfjs` already does this;
 * calling it again (or loading two copies of the package) is harmless: a registration replaces the previous
 * one under the same name.
 */
export function registerOptimizers(): void {
  for (const cls of Object.values(TFJS_OPTIMIZERS)) tf.serialization.registerClass(cls);
}

/** AdaBelief (see {@link AdaBeliefOptimizer}); `model.compile({optimizer: adabelief({learningRate: 1e-3})})`. */
export const adabelief = (
  options?: TfjsOptions<AdaBeliefOptions, AdaBeliefGroupOptions>,
): AdaBeliefOptimizer => new AdaBeliefOptimizer(options);
/** Adam, torch semantics (see {@link AdamOptimizer}). */
export const adam = (options?: TfjsOptions<AdamOptions>): AdamOptimizer => new AdamOptimizer(options);
/** AdamW (see {@link AdamWOptimizer}). */
export const adamw = (options?: TfjsOptions<AdamOptions>): AdamWOptimizer => new AdamWOptimizer(options);
/** RAdam (see {@link RAdamOptimizer}). */
export const radam = (options?: TfjsOptions<RAdamOptions, RAdamGroupOptions>): RAdamOptimizer =>
  new RAdamOptimizer(options);
/** SGD with momentum (see {@link SGDOptimizer}). */
export const sgd = (options?: TfjsOptions<SGDOptions>): SGDOptimizer => new SGDOptimizer(options);
/** Yogi (see {@link YogiOptimizer}). */
export const yogi = (options?: TfjsOptions<YogiOptions>): YogiOptimizer => new YogiOptimizer(options);
/** AdaBound (see {@link AdaBoundOptimizer}). */
export const adabound = (options?: TfjsOptions<AdaBoundOptions>): AdaBoundOptimizer =>
  new AdaBoundOptimizer(options);
/** M-SVAG (see {@link MSVAGOptimizer}). */
export const msvag = (options?: TfjsOptions<MSVAGOptions>): MSVAGOptimizer => new MSVAGOptimizer(options);
/** Fromage (see {@link FromageOptimizer}). */
export const fromage = (options?: TfjsOptions<FromageOptions>): FromageOptimizer =>
  new FromageOptimizer(options);

// Registered where the classes are defined (not in the index), so that bundlers honouring the package's
// `"sideEffects": false` cannot drop the registration while keeping the classes.
registerOptimizers();
