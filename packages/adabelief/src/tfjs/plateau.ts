import { OptionError } from "../core/errors.js";
import { ReduceLROnPlateau } from "../core/schedules-plateau.js";

/** Options of {@link reduceOnPlateauCallback}. */
export interface PlateauCallbackOptions {
  /**
   * The entry of `model.fit`'s epoch logs to monitor; default `"val_loss"` (needs `validationData` or
   * `validationSplit`). Others: `"loss"`, `"acc"`, `"val_acc"`, … (use `mode: "max"` on the plateau for
   * accuracies).
   */
  monitor?: string;
  /**
   * An optimizer to give the new rate with `setLearningRate(plateau.learningRate)` after each epoch: for
   * optimizers that take a number only (TensorFlow.js's `tf.train.sgd`), or to keep this package's optimizers
   * serialisable (`getConfig` cannot write a schedule function). Not needed when the optimizer's
   * `learningRate` is `plateau.schedule`.
   */
  optimizer?: { setLearningRate(learningRate: number): void };
  /** Called after each reduction with the new rate and the (0-based) epoch, e.g. to log it. */
  onReduce?: (learningRate: number, epoch: number) => void;
}

/**
 * A `model.fit` callback (TensorFlow.js's `CustomCallbackArgs` shape: an object with `onEpochEnd`) that
 * feeds one entry of the epoch logs — `val_loss` by default — to a {@link ReduceLROnPlateau} at the end of
 * each epoch: the equivalent of calling PyTorch's `scheduler.step(val_loss)` after each epoch, or Keras'
 * `ReduceLROnPlateau` callback. The optimizer follows the plateau through its `learningRate: plateau.schedule`
 * (or through `options.optimizer`).
 *
 * A missing or non-finite log entry throws (aborting `fit`) with a message that names it: a monitor that
 * does not exist is a configuration error, and a NaN loss means training has diverged.
 *
 * @example
 * ```ts
 * const plateau = new ReduceLROnPlateau({ initial: 1e-3, factor: 0.5, patience: 2 });
 * model.compile({ optimizer: adabelief({ learningRate: plateau.schedule }), loss: "meanSquaredError" });
 * await model.fit(xs, ys, {
 *   epochs: 50,
 *   validationSplit: 0.2,
 *   callbacks: reduceOnPlateauCallback(plateau), // or [reduceOnPlateauCallback(plateau), { onEpochEnd… }]
 * });
 * ```
 * `model.fit` takes plain callback objects or `tf.CustomCallback`s, not a mix: next to
 * `tf.callbacks.earlyStopping(…)`, pass `new tf.CustomCallback(reduceOnPlateauCallback(plateau))`.
 * @param plateau - the plateau detector.
 * @param options - `monitor` (default `"val_loss"`), `optimizer`, `onReduce`.
 * @throws OptionError - bad options (at once), or a missing monitored value (at the end of an epoch).
 */
export function reduceOnPlateauCallback(
  plateau: ReduceLROnPlateau,
  options: PlateauCallbackOptions = {},
): { onEpochEnd: (epoch: number, logs?: Readonly<Record<string, number>>) => void } {
  if (!(plateau instanceof ReduceLROnPlateau)) {
    throw new OptionError(`reduceOnPlateauCallback: plateau must be a ReduceLROnPlateau`);
  }
  const monitor = options.monitor ?? "val_loss";
  if (typeof monitor !== "string" || monitor === "") {
    throw new OptionError(
      `reduceOnPlateauCallback: monitor must be a non-empty string, got ${String(monitor)}`,
    );
  }
  const { optimizer, onReduce } = options;
  if (optimizer !== undefined && typeof optimizer?.setLearningRate !== "function") {
    throw new OptionError(`reduceOnPlateauCallback: optimizer must have a setLearningRate method`);
  }
  if (onReduce !== undefined && typeof onReduce !== "function") {
    throw new OptionError(`reduceOnPlateauCallback: onReduce must be a function`);
  }
  return {
    onEpochEnd: (epoch, logs) => {
      const value = logs?.[monitor];
      if (value === undefined) {
        const known = Object.keys(logs ?? {}).join(", ") || "none";
        throw new OptionError(
          `reduceOnPlateauCallback: the epoch logs have no "${monitor}" (they have: ${known})` +
            (monitor.startsWith("val_") ? "; pass validationData or validationSplit to fit" : ""),
        );
      }
      if (typeof value !== "number" || !Number.isFinite(value)) {
        throw new RangeError(
          `reduceOnPlateauCallback: "${monitor}" is ${String(value)} at epoch ${epoch}; it must be a finite number (has training diverged?)`,
        );
      }
      const reduced = plateau.step(value);
      optimizer?.setLearningRate(plateau.learningRate);
      if (reduced) onReduce?.(plateau.learningRate, epoch);
    },
  };
}
