/**
 * adabelief — the AdaBelief optimizer (NeurIPS 2020) and the optimizers it was measured against, on
 * Float32Array / Float64Array parameters. Framework-free: no TensorFlow.js import anywhere in the core.
 *
 * @packageDocumentation
 */
export * from "./types.js";
export * from "./errors.js";
export { setWarningHandler, type WarningHandler } from "./warnings.js";
export type { CommonOptions, ResolvedCommon, UpdateRule } from "./rule.js";
export { Optimizer, STATE_FORMAT, STATE_VERSION, firstNonFinite, type OptimizerState } from "./optimizer.js";
export * from "./optimizers/adabelief.js";
export * from "./optimizers/adabelief-presets.js";
export * from "./optimizers/sgd.js";
export * from "./optimizers/adam.js";
export * from "./optimizers/radam.js";
export * from "./schedules.js";
export * from "./clipping.js";
export * from "./optimizers/yogi.js";
export * from "./optimizers/adabound.js";
export * from "./optimizers/msvag.js";
export * from "./optimizers/fromage.js";
