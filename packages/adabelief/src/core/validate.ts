import { OptionError } from "./errors.js";
import type { LearningRate } from "./types.js";

function show(value: unknown): string {
  if (typeof value === "number") return Object.is(value, -0) ? "-0" : String(value);
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "function") return "a function";
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Option validation for the optimizers' constructors: each check names the option and the value. */
export const check = {
  /** A finite number ≥ 0. */
  nonNegative(option: string, value: unknown): number {
    if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
      throw new OptionError(`${option} must be a finite number >= 0, got ${show(value)}`);
    }
    return value;
  },
  /** A finite number > 0. */
  positive(option: string, value: unknown): number {
    if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
      throw new OptionError(`${option} must be a finite number > 0, got ${show(value)}`);
    }
    return value;
  },
  /** A number in [0, 1). */
  beta(option: string, value: unknown): number {
    if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || value >= 1) {
      throw new OptionError(`${option} must be a number in [0, 1), got ${show(value)}`);
    }
    return value;
  },
  /** A number in [lo, hi]. */
  inRange(option: string, value: unknown, lo: number, hi: number): number {
    if (typeof value !== "number" || Number.isNaN(value) || value < lo || value > hi) {
      throw new OptionError(`${option} must be a number in [${lo}, ${hi}], got ${show(value)}`);
    }
    return value;
  },
  /** A number ≥ lo. */
  atLeast(option: string, value: unknown, lo: number): number {
    if (typeof value !== "number" || !Number.isFinite(value) || value < lo) {
      throw new OptionError(`${option} must be a finite number >= ${lo}, got ${show(value)}`);
    }
    return value;
  },
  /** An integer ≥ lo. */
  integer(option: string, value: unknown, lo: number): number {
    if (typeof value !== "number" || !Number.isInteger(value) || value < lo) {
      throw new OptionError(`${option} must be an integer >= ${lo}, got ${show(value)}`);
    }
    return value;
  },
  /** A boolean. */
  boolean(option: string, value: unknown): boolean {
    if (typeof value !== "boolean")
      throw new OptionError(`${option} must be true or false, got ${show(value)}`);
    return value;
  },
  /** One of the listed strings. */
  oneOf<T extends string>(option: string, value: unknown, allowed: readonly T[]): T {
    if (typeof value !== "string" || !allowed.includes(value as T)) {
      throw new OptionError(
        `${option} must be one of ${allowed.map((a) => show(a)).join(", ")}, got ${show(value)}`,
      );
    }
    return value as T;
  },
  /** A learning rate: a finite number ≥ 0 or a schedule function. */
  learningRate(option: string, value: unknown): LearningRate {
    if (typeof value === "function") return value as LearningRate;
    return check.nonNegative(option, value);
  },
  /** Rejects option names the optimizer does not know (catches typos such as `beta_1`). */
  knownKeys(optimizer: string, options: object, known: readonly string[]): void {
    for (const key of Object.keys(options)) {
      if (!known.includes(key)) {
        throw new OptionError(
          `${optimizer}: unknown option ${show(key)}; known options: ${known.join(", ")}`,
        );
      }
    }
  },
};

/** The values of the `nonFinite` option. */
export const NON_FINITE_POLICIES = ["throw", "skip", "proceed"] as const;

/** The nominal learning rate: the number itself, a built-in schedule's `peak`, or else `schedule(0)`. */
export function nominalLearningRate(lr: LearningRate): number {
  return typeof lr === "function" ? (lr.peak ?? learningRateAt(lr, 0)) : lr;
}

/** Evaluates a learning rate for the update that follows `step` completed updates, and checks the result. */
export function learningRateAt(lr: LearningRate, step: number): number {
  const value = typeof lr === "function" ? lr(step) : lr;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new OptionError(
      `learningRate schedule returned ${show(value)} at step ${step}; it must be a finite number >= 0`,
    );
  }
  return value;
}

/** A copy of `o` without the keys whose value is `undefined` (so `{ beta1: undefined }` means the default). */
export function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
