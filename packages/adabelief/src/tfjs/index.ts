/**
 * `adabelief/tfjs` — AdaBelief and the optimizers it was measured against as drop-in `tf.Optimizer`s for
 * TensorFlow.js (`@tensorflow/tfjs-core` is a peer dependency), driven by the same update rules as the
 * core, with fused in-place kernels on the cpu and wasm backends.
 *
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { adabelief } from "adabelief/tfjs";
 * model.compile({ optimizer: adabelief({ learningRate: 1e-3, weightDecay: 1e-2 }), loss: "meanSquaredError" });
 * ```
 *
 * Importing this module registers every optimizer class with `tf.serialization` (see
 * {@link registerOptimizers}).
 *
 * @packageDocumentation
 */
export {
  AdaBeliefOptimizer,
  AdamOptimizer,
  AdamWOptimizer,
  RAdamOptimizer,
  SGDOptimizer,
  YogiOptimizer,
  AdaBoundOptimizer,
  MSVAGOptimizer,
  FromageOptimizer,
  TFJS_OPTIMIZERS,
  registerOptimizers,
  adabelief,
  adam,
  adamw,
  radam,
  sgd,
  yogi,
  adabound,
  msvag,
  fromage,
} from "./optimizers.js";
export {
  RuleOptimizer,
  type TfjsOptions,
  type TfjsExtraOptions,
  type TfjsParamGroup,
  type TfjsParamGroupView,
  type VariableMatch,
  type NamedTensor,
} from "./optimizer.js";
export type { ClipOptions } from "./clip.js";
export type { KernelChoice, UpdatePath } from "./update.js";
export { MultiStepsOptimizer, multiSteps, MULTI_STEPS_COUNT, MULTI_STEPS_SUFFIX } from "./accumulate.js";
export { reduceOnPlateauCallback, type PlateauCallbackOptions } from "./plateau.js";
export {
  fromTorchState,
  toTorchState,
  type TfjsFromTorchStateOptions,
  type TfjsToTorchStateOptions,
  type TorchStateVariable,
} from "./torch-state.js";
