/**
 * Runs the race: every ticked entry, built from the library's core, takes `steps` steps on the chosen
 * function from the start point; and looks inside one step of a run (the core's `m` and `s`/`v` from its
 * `getState()`). Pure computation, no DOM.
 */
import { setWarningHandler, type Optimizer, type OptimizerState } from "adabelief";
import { findFunction, type DemoFunction } from "./functions.js";
import { gaussian } from "./noise.js";
import { createOptimizer, findOptimizer, type OptimizerId } from "./optimizers.js";
import { encodeHyper, ticked, type DemoState, type Entry, type Problem } from "./state.js";

/** A run "reaches" the minimum when it gets this close to the minimiser (the experiment suite's tolerance). */
export const REACH = 0.01;
/** A run keeps the core's state every this many steps, so that any step can be looked inside quickly. */
export const CHECKPOINT_EVERY = 100;
/** A run has diverged when it gets this many times farther from the minimiser than the start or the view. */
export const DIVERGENCE_FACTOR = 10;

/** One optimizer's trajectory. */
export interface Run {
  /** The entry's key (`adabelief`, `adabelief-2`, …). */
  key: string;
  optimizer: OptimizerId;
  /** The points visited, x and y interleaved: point k (after k steps) is `(path[2k], path[2k+1])`. */
  path: Float64Array;
  /** f at each point. */
  loss: Float64Array;
  /** Number of points: steps taken + 1 (fewer than `steps + 1` when the run stopped early). */
  points: number;
  /** Why the run stopped before `steps`, if it did (one line, for the legend and the settings). */
  stopped?: string;
  /** The step at which it diverged (see {@link divergenceRadius}), if it did. */
  diverged?: number;
  /** The core rejected the hyper-parameters (its message); then there is only the start point. */
  error?: string;
  /** The option the core's message names, when it names one of the page's fields (e.g. `beta1`). */
  errorOption?: string;
  /** Warnings the core emitted for this configuration. */
  warnings: string[];
  /** The first step after which the run is within {@link REACH} of the minimiser, or `null`. */
  reached: number | null;
  /** The core's state after steps `CHECKPOINT_EVERY`, `2·CHECKPOINT_EVERY`, … (for {@link inspectStep}). */
  checkpoints: OptimizerState[];
}

/**
 * The distance from the minimiser beyond which a run counts as diverged: {@link DIVERGENCE_FACTOR} times the
 * larger of the start's distance and the width of the function's plot window. Relative to the start, so
 * that a far start is not itself "divergence", and a run that flies off is caught before its values
 * overflow.
 */
export function divergenceRadius(fn: DemoFunction, start: readonly [number, number]): number {
  const d0 = Math.hypot(start[0] - fn.minimum[0], start[1] - fn.minimum[1]);
  const [[x0, x1], [y0, y1]] = fn.domain;
  return DIVERGENCE_FACTOR * Math.max(d0, x1 - x0, y1 - y0);
}

/** A cache key of one run: everything its trajectory depends on. */
export function runKey(problem: Problem, entry: Entry): string {
  return [
    problem.fn,
    problem.start[0],
    problem.start[1],
    problem.steps,
    problem.noise,
    problem.noise > 0 ? problem.seed : 0,
    entry.optimizer,
    encodeHyper(entry.optimizer, entry.hyper),
  ].join("|");
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Builds the entry's optimizer over `theta`, collecting the core's warnings into `warnings`. */
function build(entry: Entry, theta: Float64Array, warnings: string[]): Optimizer {
  const previous = setWarningHandler((m) => warnings.push(m));
  try {
    return createOptimizer(entry.optimizer, [theta], entry.hyper);
  } finally {
    setWarningHandler(previous);
  }
}

/**
 * Computes the trajectory of one entry.
 *
 * The parameter is one `Float64Array` `[x, y]` (so Fromage's norms are those of the whole point). With
 * noise σ > 0, step t uses the gradient `∇f(θ) + σ·(z_x, z_y)` where `z` comes from {@link gaussian}(seed),
 * two draws per step (x first); each entry gets its own generator with the same seed, so all of them
 * see the same noise sequence.
 */
export function simulateEntry(problem: Problem, entry: Entry): Run {
  const fn = findFunction(problem.fn);
  if (!fn) throw new Error(`unknown function ${problem.fn}`);
  const n = problem.steps;
  const path = new Float64Array(2 * (n + 1));
  const loss = new Float64Array(n + 1);
  const [x0, y0] = problem.start;
  path[0] = x0;
  path[1] = y0;
  loss[0] = fn.f(x0, y0);
  const run: Run = {
    key: entry.key,
    optimizer: entry.optimizer,
    path,
    loss,
    points: 1,
    warnings: [],
    reached: null,
    checkpoints: [],
  };
  const [mx, my] = fn.minimum;
  if (Math.hypot(x0 - mx, y0 - my) <= REACH) run.reached = 0;
  const theta = Float64Array.of(x0, y0);
  const grad = new Float64Array(2);
  let optimizer: Optimizer;
  try {
    optimizer = build(entry, theta, run.warnings);
  } catch (e) {
    run.error = message(e);
    const named = /^\w+: (\w+) /.exec(run.error)?.[1];
    if (named && findOptimizer(entry.optimizer)!.params.some((p) => p.key === named)) run.errorOption = named;
    return run;
  }
  const radius = divergenceRadius(fn, problem.start);
  const z = problem.noise > 0 ? gaussian(problem.seed) : undefined;
  for (let k = 1; k <= n; k++) {
    fn.grad(theta[0]!, theta[1]!, grad);
    if (z) {
      grad[0] = grad[0]! + problem.noise * z();
      grad[1] = grad[1]! + problem.noise * z();
    }
    try {
      optimizer.step([grad]);
    } catch (e) {
      run.stopped = `stopped at step ${k}: ${message(e)}`;
      break;
    }
    const x = theta[0]!;
    const y = theta[1]!;
    const d = Math.hypot(x - mx, y - my);
    if (!(d <= radius)) {
      run.diverged = k;
      const far = Number.isFinite(d) ? `${d.toPrecision(2)} from the minimum` : "to infinity";
      run.stopped = `diverged at step ${k}: it went ${far}, over ${DIVERGENCE_FACTOR}× farther than the start`;
      break;
    }
    path[2 * k] = x;
    path[2 * k + 1] = y;
    loss[k] = fn.f(x, y);
    run.points = k + 1;
    if (run.reached === null && d <= REACH) run.reached = k;
    if (k % CHECKPOINT_EVERY === 0) run.checkpoints.push(optimizer.getState());
  }
  return run;
}

/** Computes the trajectory of every ticked entry of `state`, in order. */
export function simulate(state: DemoState): Run[] {
  return ticked(state).map((entry) => simulateEntry(state, entry));
}

/** What one step of one run did, from the core's own state. */
export interface StepInside {
  /** The step (1 … points − 1): the update from point k − 1 to point k. */
  step: number;
  /** The gradient the step used (noise included). */
  grad: [number, number];
  /** The core's state slots after the step, by name (`m`, `s`, `v`, `momentumBuffer`, …), per coordinate. */
  slots: Record<string, [number, number]>;
  /** The first-moment slot's name, if the optimizer has one (`m`, or SGD's `momentumBuffer`). */
  first?: string;
  /** The second-moment slot's name, if it has one (AdaBelief's `s`, the others' `v`). */
  second?: string;
  /** The step taken: θ_k − θ_{k−1}. */
  delta: [number, number];
  /**
   * The effective step size per coordinate: the step divided by −m (by −g when there is no m), i.e. what
   * the optimizer multiplied its momentum by. For AdaBelief without rectification it is
   * α / (1 − β1^t) / (√(s / (1 − β2^t)) + ε).
   */
  effective: [number, number];
}

const FIRST_SLOTS = ["m", "momentumBuffer"];
const SECOND_SLOTS = ["s", "v"];

/** A saved-state value as a number (the core writes NaN and ±Infinity as strings). */
function valueOf(v: number | string): number {
  return typeof v === "number" ? v : Number(v);
}

/**
 * Looks inside step `k` of `run` (computed by {@link simulateEntry} for `problem` and `entry`): replays the
 * core from the nearest checkpoint before it (restored with `setState`), takes the step, and reads `m`
 * and `s`/`v` with `getState()`. `undefined` for step 0 and for steps the run did not take.
 */
export function inspectStep(problem: Problem, entry: Entry, run: Run, k: number): StepInside | undefined {
  if (run.error || !Number.isInteger(k) || k < 1 || k >= run.points) return undefined;
  const fn = findFunction(problem.fn)!;
  const c = Math.min(Math.floor((k - 1) / CHECKPOINT_EVERY), run.checkpoints.length);
  const from = c * CHECKPOINT_EVERY;
  const theta = Float64Array.of(run.path[2 * from]!, run.path[2 * from + 1]!);
  const optimizer = build(entry, theta, []);
  if (c > 0) {
    const previous = setWarningHandler(() => undefined);
    try {
      optimizer.setState(run.checkpoints[c - 1]!);
    } finally {
      setWarningHandler(previous);
    }
  }
  const z = problem.noise > 0 ? gaussian(problem.seed) : undefined;
  if (z) for (let j = 0; j < 2 * from; j++) z();
  const grad = new Float64Array(2);
  for (let j = from + 1; j <= k; j++) {
    fn.grad(theta[0]!, theta[1]!, grad);
    if (z) {
      grad[0] = grad[0]! + problem.noise * z();
      grad[1] = grad[1]! + problem.noise * z();
    }
    optimizer.step([grad]);
  }
  const state = optimizer.getState();
  const slots: Record<string, [number, number]> = {};
  for (const [name, perParam] of Object.entries(state.slots)) {
    const values = perParam[0]!;
    slots[name] = [valueOf(values[0]!), valueOf(values[1]!)];
  }
  const first = FIRST_SLOTS.find((s) => s in slots);
  const second = SECOND_SLOTS.find((s) => s in slots);
  const delta: [number, number] = [
    run.path[2 * k]! - run.path[2 * k - 2]!,
    run.path[2 * k + 1]! - run.path[2 * k - 1]!,
  ];
  const by = first ? slots[first]! : [grad[0]!, grad[1]!];
  const effective: [number, number] = [-delta[0] / by[0]!, -delta[1] / by[1]!];
  return {
    step: k,
    grad: [grad[0]!, grad[1]!],
    slots,
    ...(first ? { first } : {}),
    ...(second ? { second } : {}),
    delta,
    effective,
  };
}
