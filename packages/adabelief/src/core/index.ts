/**
 * adabelief — the AdaBelief optimizer (NeurIPS 2020) and the optimizers it was measured against, on
 * Float32Array / Float64Array parameters. Framework-free: no TensorFlow.js import anywhere in the core.
 *
 * @packageDocumentation
 */
export type { DType, FloatArray, LearningRate, NonFinitePolicy, Schedule } from "./types.js";
export { GradientMismatchError, NonFiniteGradientError, OptionError, StateError } from "./errors.js";
export { setWarningHandler, type WarningHandler } from "./warnings.js";
export type { CommonOptions } from "./rule.js";
export {
  Optimizer,
  STATE_FORMAT,
  STATE_VERSION,
  type NonFiniteMarker,
  type OptimizerState,
  type OptimizerStateGroup,
  type OptimizerStateV1,
  type StateValue,
} from "./optimizer.js";
export type { GroupOptions, ParamGroup, ParamGroupView } from "./groups.js";
export {
  OPTIMIZERS,
  OPTIMIZER_NAMES,
  isOptimizerName,
  type OptimizerName,
  type OptionsOf,
} from "./registry.js";

export {
  AdaBelief,
  ADABELIEF_DEFAULTS,
  type AdaBeliefGroupOptions,
  type AdaBeliefOptions,
  type ResolvedAdaBeliefOptions,
} from "./optimizers/adabelief.js";
export { adabeliefPresets, type AdaBeliefPreset } from "./optimizers/adabelief-presets.js";
export { SGD, SGD_DEFAULTS, type SGDOptions, type ResolvedSGDOptions } from "./optimizers/sgd.js";
export {
  Adam,
  AdamW,
  ADAM_DEFAULTS,
  ADAMW_DEFAULTS,
  type AdamDefaults,
  type AdamOptions,
  type ResolvedAdamOptions,
} from "./optimizers/adam.js";
export {
  RAdam,
  RADAM_DEFAULTS,
  type RAdamGroupOptions,
  type RAdamOptions,
  type RAdamVariant,
  type ResolvedRAdamOptions,
} from "./optimizers/radam.js";
export { Yogi, YOGI_DEFAULTS, type YogiOptions, type ResolvedYogiOptions } from "./optimizers/yogi.js";
export {
  AdaBound,
  ADABOUND_DEFAULTS,
  type AdaBoundOptions,
  type ResolvedAdaBoundOptions,
} from "./optimizers/adabound.js";
export { MSVAG, MSVAG_DEFAULTS, type MSVAGOptions, type ResolvedMSVAGOptions } from "./optimizers/msvag.js";
export {
  Fromage,
  FROMAGE_DEFAULTS,
  type FromageOptions,
  type ResolvedFromageOptions,
} from "./optimizers/fromage.js";

export {
  constant,
  cosineDecay,
  exponentialDecay,
  multiStepDecay,
  stepDecay,
  warmupLinearDecay,
  withWarmup,
} from "./schedules.js";
export { oneCycle, type OneCycleOptions } from "./schedules-onecycle.js";
export {
  ReduceLROnPlateau,
  reduceOnPlateau,
  PLATEAU_STATE_FORMAT,
  type ReduceOnPlateauOptions,
  type ReduceOnPlateauState,
  type ResolvedReduceOnPlateauOptions,
} from "./schedules-plateau.js";
export {
  MultiSteps,
  multiSteps,
  MULTI_STEPS_STATE_FORMAT,
  type MultiStepsOptions,
  type MultiStepsState,
  type MultiStepsReduction,
  type ResolvedMultiStepsOptions,
} from "./accumulate.js";
export { clipByGlobalNorm, clipByValue, globalNorm, globalNormScale } from "./clipping.js";
export {
  fromTorchState,
  toTorchState,
  type FromTorchStateOptions,
  type ToTorchStateOptions,
  type TorchOptimizerName,
} from "./torch-state.js";
export { readSafetensors, writeSafetensors, type SafeTensor, type SafetensorsFile } from "./safetensors.js";
