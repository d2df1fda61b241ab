/**
 * Builds the optimizer under test for a run: one of the paper's nine, from this package's TensorFlow.js
 * classes (`TFJS_OPTIMIZERS` of `adabelief/tfjs`), with the table's settings, a learning-rate schedule and optional gradient clipping.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs-core";
import { isOptimizerName, multiStepDecay } from "adabelief";
import { TFJS_OPTIMIZERS } from "adabelief/tfjs";
import type { OptimizerName } from "../task.js";

/** What {@link makeOptimizer} needs besides the optimizer's name. */
export interface OptimizerRecipe {
  /** The optimizer's options (from `hparams.ts`); `learningRate` is the schedule's initial value. */
  options: Readonly<Record<string, number | boolean | string>> & { readonly learningRate: number };
  /** Learning-rate multipliers: `lr(step) = learningRate · γ^k`, k = number of milestones ≤ step. */
  milestones?: readonly number[];
  /** Multiplier per milestone (default 0.1). */
  gamma?: number;
  /** Global-norm gradient clipping (the tfjs optimizers' `clipGlobalNorm`). */
  clipGlobalNorm?: number;
}

/**
 * Milestones (update counts) at the given fractions of `totalUpdates`, rounded, ≥ 1, strictly increasing
 * (duplicates from very short runs are dropped).
 */
export function milestonesAt(fractions: readonly number[], totalUpdates: number): number[] {
  const out: number[] = [];
  for (const f of fractions) {
    const m = Math.max(1, Math.round(f * totalUpdates));
    if (m < totalUpdates && (out.length === 0 || m > out[out.length - 1]!)) out.push(m);
  }
  return out;
}

/**
 * The options exactly as the optimizer receives them, for the run's record (`RunResult.hyperparameters`):
 * the schedule is described in words instead of a function.
 */
export function describeRecipe(recipe: OptimizerRecipe): Record<string, unknown> {
  const out: Record<string, unknown> = { ...recipe.options };
  if (recipe.milestones && recipe.milestones.length > 0) {
    out["lrSchedule"] = `×${recipe.gamma ?? 0.1} at updates ${recipe.milestones.join(", ")}`;
  }
  if (recipe.clipGlobalNorm !== undefined) out["clipGlobalNorm"] = recipe.clipGlobalNorm;
  return out;
}

/**
 * Creates a fresh optimizer `name` from our TensorFlow.js factories, with their default update path (fused
 * and in place on the cpu and wasm backends).
 */
export function makeOptimizer(name: OptimizerName, recipe: OptimizerRecipe): tf.Optimizer {
  const lr = recipe.options.learningRate;
  const learningRate =
    recipe.milestones && recipe.milestones.length > 0
      ? multiStepDecay({ initial: lr, milestones: recipe.milestones, gamma: recipe.gamma ?? 0.1 })
      : lr;
  const options = {
    ...recipe.options,
    learningRate,
    ...(recipe.clipGlobalNorm !== undefined ? { clipGlobalNorm: recipe.clipGlobalNorm } : {}),
  };
  if (!isOptimizerName(name))
    throw new RangeError(`makeOptimizer: unknown optimizer ${JSON.stringify(name)}`);
  const Optimizer = TFJS_OPTIMIZERS[name] as new (options: object) => tf.Optimizer;
  return new Optimizer(options);
}
