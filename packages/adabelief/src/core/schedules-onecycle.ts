import { OptionError } from "./errors.js";
import type { Schedule } from "./types.js";
import { check } from "./validate.js";

/** Options of {@link oneCycle}; the names are PyTorch's `OneCycleLR` arguments in camelCase. */
export interface OneCycleOptions {
  /** The peak learning rate (PyTorch `max_lr`). A finite number ≥ 0. */
  maxLr: number;
  /**
   * Number of updates in the cycle (PyTorch `total_steps`; `epochs · steps_per_epoch` there). An integer ≥ 1.
   */
  totalSteps: number;
  /** Fraction of the cycle spent raising the rate (PyTorch `pct_start`); in [0, 1], ≤ 0.5 with `threePhase`. Default 0.3. */
  pctStart?: number;
  /** Shape of each phase: `"cos"` (default) or `"linear"` (PyTorch `anneal_strategy`). */
  annealStrategy?: "cos" | "linear";
  /** The first rate is `maxLr / divFactor` (PyTorch `div_factor`). A finite number > 0; default 25. */
  divFactor?: number;
  /** The last rate is `maxLr / divFactor / finalDivFactor` (PyTorch `final_div_factor`). Finite, > 0; default 1e4. */
  finalDivFactor?: number;
  /** Fast.ai's three phases (up, back down to the initial rate, then to the minimum) instead of two (PyTorch `three_phase`). Default false. */
  threePhase?: boolean;
}

const KNOWN: readonly (keyof OneCycleOptions)[] = [
  "maxLr",
  "totalSteps",
  "pctStart",
  "annealStrategy",
  "divFactor",
  "finalDivFactor",
  "threePhase",
];

interface Phase {
  /** Last step of the phase (PyTorch's `end_step`, a float: `pctStart · totalSteps − 1` need not be whole). */
  end: number;
  from: number;
  to: number;
}

/**
 * The 1cycle learning-rate policy (Smith & Topin, "Super-Convergence", 2017) exactly as PyTorch's
 * `torch.optim.lr_scheduler.OneCycleLR` (1.13) computes it, as a {@link Schedule} of the step.
 *
 * With `T = totalSteps`, `p = pctStart`, `initial = maxLr / divFactor` and `min = initial / finalDivFactor`,
 * the phases end at these steps (floats, as in PyTorch) and go between these rates:
 * ```
 * two phases (default):  [0, pT − 1]: initial → maxLr     (pT − 1, T − 1]: maxLr → min
 * threePhase:            [0, pT − 1]: initial → maxLr     (pT − 1, 2pT − 2]: maxLr → initial
 *                        (2pT − 2, T − 1]: initial → min
 * ```
 * Within a phase from step `a` to step `b` (a = 0 for the first, else the previous phase's end), with
 * `τ = (step − a) / (b − a)`:
 * ```
 * "cos":     lr = to + (from − to) / 2 · (1 + cos(π·τ))
 * "linear":  lr = (to − from) · τ + from
 * ```
 * evaluated in the same order of floating-point operations as PyTorch.
 *
 * **Step convention.** `oneCycle(o)(k)` is the learning rate of update number `k + 1` (this library's
 * convention: `k` updates were applied before it). In PyTorch's loop (`optimizer.step(); scheduler.step()`
 * per batch) that is the rate `scheduler.get_last_lr()[0]` reports after `k` calls of `scheduler.step()` —
 * the scheduler's constructor already sets the rate of the first update, `k = 0`. So the two agree step for
 * step: `oneCycle(o)(k) === OneCycleLR(...).get_last_lr()[0]` after `k` `scheduler.step()` calls, for every
 * `k` in `[0, T − 1]` (tested against PyTorch to 1e-12 relative; the last update, `k = T − 1`, uses `min`).
 *
 * **Differences from PyTorch**, all outside the `T` updates of the cycle or where PyTorch fails:
 * - For `k ≥ T` the rate stays at the last update's (`k = T − 1`, normally `min`). PyTorch raises after its `T + 1`-th
 *   `scheduler.step()`, and its rate after exactly `T` calls — used by no update of the cycle — extrapolates
 *   the last phase past its end (`τ > 1`).
 * - Where a phase has length 0 and PyTorch divides by zero (`pctStart · totalSteps = 1` raises
 *   `ZeroDivisionError` there), the phase's end rate is used.
 * - `threePhase` with `pctStart > 0.5` is refused: its second phase would end after the cycle (PyTorch
 *   accepts it and never reaches `min`).
 * - **Momentum cycling is out of scope**: PyTorch's `cycle_momentum` (default on) also moves SGD's momentum
 *   or Adam's β1 between `max_momentum` 0.95 and `base_momentum` 0.85, inversely to the rate. Here the
 *   optimizer keeps its own fixed momentum/β1; compare with PyTorch's `cycle_momentum=False`.
 *
 * The schedule's `peak` is `maxLr`.
 *
 * @example
 * ```ts
 * const lr = oneCycle({ maxLr: 0.01, totalSteps: epochs * batchesPerEpoch });
 * const opt = new AdaBelief(params, { learningRate: lr });
 * ```
 * @throws OptionError - an option is missing, out of range, of the wrong type, or unknown.
 */
export function oneCycle(options: OneCycleOptions): Schedule {
  if (typeof options !== "object" || options === null) {
    throw new OptionError(`oneCycle: options must be an object with maxLr and totalSteps`);
  }
  check.knownKeys("oneCycle", options, KNOWN);
  const maxLr = check.nonNegative("oneCycle: maxLr", options.maxLr);
  const total = check.integer("oneCycle: totalSteps", options.totalSteps, 1);
  const pct = check.inRange("oneCycle: pctStart", options.pctStart ?? 0.3, 0, 1);
  const strategy = check.oneOf("oneCycle: annealStrategy", options.annealStrategy ?? "cos", [
    "cos",
    "linear",
  ] as const);
  const divFactor = check.positive("oneCycle: divFactor", options.divFactor ?? 25);
  const finalDivFactor = check.positive("oneCycle: finalDivFactor", options.finalDivFactor ?? 1e4);
  const threePhase = check.boolean("oneCycle: threePhase", options.threePhase ?? false);
  if (threePhase && pct > 0.5) {
    throw new OptionError(
      `oneCycle: pctStart must be <= 0.5 with threePhase (its second phase ends at 2·pctStart·totalSteps − 2), got ${pct}`,
    );
  }
  const initial = maxLr / divFactor;
  const min = initial / finalDivFactor;
  const phases: Phase[] = threePhase
    ? [
        { end: pct * total - 1, from: initial, to: maxLr },
        { end: 2 * pct * total - 2, from: maxLr, to: initial },
        { end: total - 1, from: initial, to: min },
      ]
    : [
        { end: pct * total - 1, from: initial, to: maxLr },
        { end: total - 1, from: maxLr, to: min },
      ];
  const anneal =
    strategy === "cos"
      ? (from: number, to: number, tau: number) => to + ((from - to) / 2) * (Math.cos(Math.PI * tau) + 1)
      : (from: number, to: number, tau: number) => (to - from) * tau + from;
  const fn = (step: number): number => {
    const k = Math.max(0, Math.min(step, total - 1));
    // PyTorch's walk: the first phase whose end is not before k (the last phase takes everything after).
    let start = 0;
    let i = 0;
    while (i < phases.length - 1 && k > phases[i]!.end) start = phases[i++]!.end;
    const { end, from, to } = phases[i]!;
    return anneal(from, to, end === start ? 1 : (k - start) / (end - start));
  };
  return Object.assign(fn, { peak: maxLr });
}
