import { OptionError, StateError } from "./errors.js";
import type { Schedule } from "./types.js";
import { check } from "./validate.js";
import { warn } from "./warnings.js";

/** Options of {@link ReduceLROnPlateau}; the names are PyTorch's `ReduceLROnPlateau` arguments in camelCase. */
export interface ReduceOnPlateauOptions {
  /**
   * The learning rate before any reduction (PyTorch reads it from the optimizer's `lr`). A finite number ≥ 0.
   */
  initial: number;
  /**
   * `"min"` (default): reduce when the metric stops decreasing (a loss); `"max"`: when it stops increasing
   * (an accuracy).
   */
  mode?: "min" | "max";
  /** `lr ← max(lr · factor, minLr)` at each reduction. A number in [0, 1); default 0.1. */
  factor?: number;
  /**
   * Number of epochs without improvement that are tolerated: the rate is reduced at the `patience + 1`-th
   * bad epoch in a row. An integer ≥ 0; default 10.
   */
  patience?: number;
  /**
   * How much better than the best so far a metric must be to count as an improvement (see `thresholdMode`).
   * A finite number ≥ 0, and < 1 with `mode: "min"` and `thresholdMode: "rel"`; default 1e-4.
   */
  threshold?: number;
  /**
   * `"rel"` (default): improvement means `metric < best · (1 − threshold)` (`"min"`) or
   * `metric > best · (1 + threshold)` (`"max"`); `"abs"`: `metric < best − threshold` or
   * `metric > best + threshold`.
   */
  thresholdMode?: "rel" | "abs";
  /** Epochs after a reduction during which bad epochs are not counted. An integer ≥ 0; default 0. */
  cooldown?: number;
  /** The rate is never reduced below this. A finite number ≥ 0; default 0. */
  minLr?: number;
  /**
   * A reduction smaller than or equal to this is not applied (the counters still reset). A finite number ≥ 0;
   * default 1e-8.
   */
  eps?: number;
}

/** {@link ReduceOnPlateauOptions} with the defaults applied. */
export type ResolvedReduceOnPlateauOptions = Required<ReduceOnPlateauOptions>;

/** The `format` tag of a saved {@link ReduceLROnPlateau} state. */
export const PLATEAU_STATE_FORMAT = "adabelief/reduce-lr-on-plateau-state";

/**
 * A {@link ReduceLROnPlateau}'s complete state as a plain JSON-serialisable object (PyTorch's
 * `state_dict()` of the scheduler, without the optimizer).
 */
export interface ReduceOnPlateauState {
  format: typeof PLATEAU_STATE_FORMAT;
  version: 1;
  /** The current learning rate. */
  learningRate: number;
  /** The best metric so far; `null` before the first one (PyTorch: ±inf). */
  best: number | null;
  /** Bad epochs in a row (PyTorch `num_bad_epochs`). */
  numBadEpochs: number;
  /** Epochs of cooldown left (PyTorch `cooldown_counter`). */
  cooldownCounter: number;
  /** Number of metrics received so far (PyTorch `last_epoch`). */
  epochs: number;
  /** The options of the object that wrote the state, for information (`setState` warns when they differ). */
  options: ResolvedReduceOnPlateauOptions;
}

const KNOWN: readonly (keyof ReduceOnPlateauOptions)[] = [
  "initial",
  "mode",
  "factor",
  "patience",
  "threshold",
  "thresholdMode",
  "cooldown",
  "minLr",
  "eps",
];

const NAME = "ReduceLROnPlateau";

function show(value: unknown): string {
  if (typeof value === "number") return String(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function resolve(options: ReduceOnPlateauOptions): ResolvedReduceOnPlateauOptions {
  if (typeof options !== "object" || options === null) {
    throw new OptionError(`${NAME}: options must be an object with at least initial, got ${show(options)}`);
  }
  check.knownKeys(NAME, options, KNOWN);
  const o = (name: string) => `${NAME}: ${name}`;
  const mode = check.oneOf(o("mode"), options.mode ?? "min", ["min", "max"] as const);
  const thresholdMode = check.oneOf(o("thresholdMode"), options.thresholdMode ?? "rel", [
    "rel",
    "abs",
  ] as const);
  const threshold = check.nonNegative(o("threshold"), options.threshold ?? 1e-4);
  if (mode === "min" && thresholdMode === "rel" && threshold >= 1) {
    throw new OptionError(
      `${NAME}: threshold must be < 1 with mode "min" and thresholdMode "rel" (improvement means metric < best · (1 − threshold)), got ${threshold}`,
    );
  }
  return {
    initial: check.nonNegative(o("initial"), options.initial),
    mode,
    factor: check.beta(o("factor"), options.factor ?? 0.1),
    patience: check.integer(o("patience"), options.patience ?? 10, 0),
    threshold,
    thresholdMode,
    cooldown: check.integer(o("cooldown"), options.cooldown ?? 0, 0),
    minLr: check.nonNegative(o("minLr"), options.minLr ?? 0),
    eps: check.nonNegative(o("eps"), options.eps ?? 1e-8),
  };
}

/**
 * Reduces the learning rate when a metric has stopped improving, exactly as PyTorch's
 * `torch.optim.lr_scheduler.ReduceLROnPlateau` (1.13), for one parameter group. Feed it the metric once per
 * epoch with {@link ReduceLROnPlateau.step}; give its {@link ReduceLROnPlateau.schedule} to an optimizer as
 * the learning rate (core or TensorFlow.js), and every update uses the current rate.
 *
 * Each `step(metric)`, in PyTorch's order:
 * ```
 * if better(metric, best): best ← metric, bad ← 0   else: bad ← bad + 1
 * if cooldown > 0:         cooldown ← cooldown − 1, bad ← 0
 * if bad > patience:       new ← max(lr · factor, minLr); if lr − new > eps: lr ← new
 *                          cooldown ← options.cooldown, bad ← 0
 * ```
 * where `better` is, with `threshold` θ: `metric < best·(1 − θ)` (min, rel), `metric < best − θ` (min, abs),
 * `metric > best·(1 + θ)` (max, rel), `metric > best + θ` (max, abs), and `best` starts at +∞ (min) or −∞
 * (max). As in PyTorch, the relative test scales `best` by its sign: with a negative `best` in mode `"min"`,
 * `best·(1 − θ)` is slightly *above* `best`, so a metric marginally worse still counts as better.
 *
 * Defaults are PyTorch's: `mode "min"`, `factor 0.1`, `patience 10`, `threshold 1e-4`, `thresholdMode "rel"`,
 * `cooldown 0`, `minLr 0`, `eps 1e-8`. Where PyTorch silently accepts nonsense this refuses it with an
 * {@link OptionError} naming the option: `factor` ≥ 1 (PyTorch refuses that too) or < 0, a negative or
 * fractional `patience` / `cooldown`, `threshold` ≥ 1 in min/rel mode, unknown options; and `step` refuses a
 * metric that is not a finite number (PyTorch counts a NaN as a bad epoch) with a `RangeError`, changing
 * nothing.
 *
 * Unlike the other schedules, {@link ReduceLROnPlateau.schedule} is not a pure function of the step: it
 * returns the current rate whatever step it is given, so it follows `step(metric)` calls between updates.
 * With TensorFlow.js, {@link ReduceLROnPlateau} is fed by `model.fit`'s `onEpochEnd` (see
 * `reduceOnPlateauCallback` in `adabelief/tfjs`).
 *
 * @example
 * ```ts
 * const plateau = new ReduceLROnPlateau({ initial: 1e-3, patience: 5 });
 * const opt = new AdaBelief(params, { learningRate: plateau.schedule });
 * for (let epoch = 0; epoch < 100; epoch++) {
 *   trainOneEpoch(opt);
 *   plateau.step(validationLoss());
 * }
 * ```
 */
export class ReduceLROnPlateau {
  /** The resolved options (defaults applied). */
  readonly options: Readonly<ResolvedReduceOnPlateauOptions>;
  /**
   * The current learning rate as a {@link Schedule}, to pass as an optimizer's `learningRate`. It ignores
   * its step argument. Its `peak` is `initial`.
   */
  readonly schedule: Schedule;
  private lr: number;
  private bestValue: number;
  private bad = 0;
  private cooldownLeft = 0;
  private count = 0;

  /** @throws OptionError - an option is missing, out of range, of the wrong type, or unknown. */
  constructor(options: ReduceOnPlateauOptions) {
    this.options = Object.freeze(resolve(options));
    this.lr = this.options.initial;
    this.bestValue = this.worst();
    this.schedule = Object.assign(() => this.lr, { peak: this.options.initial });
  }

  /** The current learning rate. */
  get learningRate(): number {
    return this.lr;
  }

  /** The best metric so far, or `undefined` before the first. */
  get best(): number | undefined {
    return Number.isFinite(this.bestValue) ? this.bestValue : undefined;
  }

  /** Bad epochs in a row (reset by an improvement, a reduction or the cooldown). */
  get numBadEpochs(): number {
    return this.bad;
  }

  /** Epochs of cooldown left. */
  get cooldownCounter(): number {
    return this.cooldownLeft;
  }

  /** Number of metrics received so far. */
  get epochs(): number {
    return this.count;
  }

  private worst(): number {
    return this.options.mode === "min" ? Infinity : -Infinity;
  }

  private isBetter(a: number, best: number): boolean {
    const { mode, thresholdMode, threshold } = this.options;
    if (mode === "min") return thresholdMode === "rel" ? a < best * (1 - threshold) : a < best - threshold;
    return thresholdMode === "rel" ? a > best * (threshold + 1) : a > best + threshold;
  }

  /**
   * Records the epoch's metric and reduces the learning rate if it has not improved for more than
   * `patience` epochs (outside a cooldown).
   *
   * @param metric - the monitored value, e.g. the validation loss (`"min"`) or accuracy (`"max"`).
   * @returns `true` if the learning rate was reduced by this call.
   * @throws RangeError - `metric` is not a finite number (nothing changes).
   */
  step(metric: number): boolean {
    if (typeof metric !== "number" || !Number.isFinite(metric)) {
      throw new RangeError(
        `${NAME}.step: metric must be a finite number, got ${show(metric)}; nothing was changed`,
      );
    }
    this.count++;
    if (this.isBetter(metric, this.bestValue)) {
      this.bestValue = metric;
      this.bad = 0;
    } else {
      this.bad++;
    }
    if (this.cooldownLeft > 0) {
      this.cooldownLeft--;
      this.bad = 0;
    }
    if (this.bad > this.options.patience) {
      const reduced = Math.max(this.lr * this.options.factor, this.options.minLr);
      const changed = this.lr - reduced > this.options.eps;
      if (changed) this.lr = reduced;
      this.cooldownLeft = this.options.cooldown;
      this.bad = 0;
      return changed;
    }
    return false;
  }

  /** The complete state as a plain JSON-serialisable object (a copy). */
  getState(): ReduceOnPlateauState {
    return {
      format: PLATEAU_STATE_FORMAT,
      version: 1,
      learningRate: this.lr,
      best: this.best ?? null,
      numBadEpochs: this.bad,
      cooldownCounter: this.cooldownLeft,
      epochs: this.count,
      options: { ...this.options },
    };
  }

  /**
   * Restores a state written by {@link ReduceLROnPlateau.getState}. Everything is checked first: a bad
   * state throws a {@link StateError} and changes nothing. The options are not restored: when the state's
   * differ from this object's, a warning says so.
   */
  setState(state: ReduceOnPlateauState): void {
    const fail = (what: string): never => {
      throw new StateError(`${NAME}.setState: ${what}; nothing was changed`);
    };
    if (typeof state !== "object" || state === null) fail(`expected a state object, got ${show(state)}`);
    if (state.format !== PLATEAU_STATE_FORMAT)
      fail(`format is ${show(state.format)}, expected "${PLATEAU_STATE_FORMAT}"`);
    if (state.version !== 1) fail(`version ${show(state.version)} is not supported (this library reads 1)`);
    const count = (key: "numBadEpochs" | "cooldownCounter" | "epochs") => {
      const v = state[key];
      if (!Number.isSafeInteger(v) || v < 0) fail(`${key} must be an integer >= 0, got ${show(v)}`);
      return v;
    };
    const bad = count("numBadEpochs");
    const cooldownLeft = count("cooldownCounter");
    const epochs = count("epochs");
    const lr = state.learningRate;
    if (typeof lr !== "number" || !Number.isFinite(lr) || lr < 0)
      fail(`learningRate must be a finite number >= 0, got ${show(lr)}`);
    const best = state.best;
    if (best !== null && (typeof best !== "number" || !Number.isFinite(best)))
      fail(`best must be a finite number or null, got ${show(best)}`);
    if (typeof state.options === "object" && state.options !== null) {
      const differ = KNOWN.filter((k) => k in state.options && state.options[k] !== this.options[k]);
      if (differ.length > 0) {
        warn(
          `${NAME}.setState: the state was written with ${differ.map((k) => `${k}=${String(state.options[k])}`).join(", ")}; ` +
            `this object has ${differ.map((k) => `${k}=${String(this.options[k])}`).join(", ")} (the state is restored, the options are not)`,
        );
      }
    }
    this.lr = lr;
    this.bestValue = best ?? this.worst();
    this.bad = bad;
    this.cooldownLeft = cooldownLeft;
    this.count = epochs;
  }
}

/** `new ReduceLROnPlateau(options)`; see {@link ReduceLROnPlateau}. */
export function reduceOnPlateau(options: ReduceOnPlateauOptions): ReduceLROnPlateau {
  return new ReduceLROnPlateau(options);
}
