/**
 * The toy 2-D task (paper Fig. 3): each of the nine optimizers minimises the five toy functions from a fixed
 * start, using the core optimizers directly on a `Float64Array [x, y]` with analytic gradients.
 *
 * Deterministic: there is no data and no random initialisation, so one seed is the whole story (the seed
 * is recorded but changes nothing).
 *
 * @packageDocumentation
 */
import {
  AdaBelief,
  AdaBound,
  Adam,
  AdamW,
  adabeliefPresets,
  Fromage,
  MSVAG,
  RAdam,
  SGD,
  Yogi,
  type Optimizer,
} from "adabelief";
import { baseVersions } from "../results.js";
import type { EpochMetrics, OptimizerName, ProgressHooks, RunResult, RunSpec, Size, Task } from "../task.js";
import { distanceToMinimum, TOY_FUNCTIONS, type ToyFunction } from "./toy-functions.js";

/** A run reaches a function's optimum when its Euclidean distance to the minimiser is at most this. */
export const TOY_TOLERANCE = 1e-2;

/** A run has diverged when |x| or |y| exceeds this (or a value is not finite); it stops there. */
export const TOY_DIVERGENCE_BOUND = 1e3;

/** Number of optimizer steps per function, per suite size (`--epochs` overrides it). */
export const TOY_STEPS: Record<Size, number> = { quick: 2000, full: 5000 };

/** Most points kept per stored trajectory (evenly subsampled; the start and the last point are always kept). */
export const TOY_TRAJECTORY_POINTS = 400;

/** Number of curve points recorded per run (evenly spaced in steps). */
export const TOY_CURVE_POINTS = 100;

/**
 * Learning rates of the toy task, per function and optimizer, fixed before any run was looked at (the paper
 * never published its own). The rule behind them:
 * - the scale-free adaptive methods (Adam, AdamW, Yogi, AdaBound's initial rate, RAdam, AdaBelief) move
 *   about α per coordinate per step, so α = 0.01 everywhere: the starts are 2.7–6.3 away from the minima;
 * - Fromage moves α·‖θ‖ per step, so α = 0.01 (its paper setting) everywhere;
 * - SGD with momentum and MSVAG step in proportion to the gradient: α = 0.01 where |∇f| is O(1) (the first
 *   three functions); on Beale and Rosenbrock the curvature at the start (~7,700 and ~1,900) bounds a stable
 *   heavy-ball rate below 3.8/λ_max, so α = 1e-4 (Beale) and 5e-4 (Rosenbrock).
 *
 * `spec.learningRate`, when given, replaces every entry for that run.
 */
export const TOY_LEARNING_RATES: Readonly<Record<string, Readonly<Record<OptimizerName, number>>>> = (() => {
  const row = (gradientScaled: number): Record<OptimizerName, number> => ({
    sgd: gradientScaled,
    adam: 0.01,
    adamw: 0.01,
    yogi: 0.01,
    adabound: 0.01,
    radam: 0.01,
    msvag: gradientScaled,
    fromage: 0.01,
    adabelief: 0.01,
  });
  return Object.freeze({
    abs: row(0.01),
    "abs-skewed": row(0.01),
    quadratic: row(0.01),
    beale: row(1e-4),
    rosenbrock: row(5e-4),
  });
})();

/**
 * The other options of each optimizer on the toy task (everything but the learning rate): the settings the
 * paper's CIFAR-10 experiments used (PAPER.md), i.e. AdaBelief's `paper` preset (ε 1e-8, no decoupling, no
 * rectification), SGD momentum 0.9, AdamW decoupled decay 1e-2, Yogi ε 1e-3, AdaBound final rate 0.1, the
 * paper folder's RAdam; library defaults otherwise (β 0.9/0.999, ε 1e-8).
 */
export const TOY_OPTIONS: Readonly<Record<OptimizerName, Readonly<Record<string, unknown>>>> = Object.freeze({
  sgd: { momentum: 0.9 },
  adam: { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 },
  adamw: { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 1e-2 },
  yogi: { beta1: 0.9, beta2: 0.999, epsilon: 1e-3 },
  adabound: { beta1: 0.9, beta2: 0.999, finalLr: 0.1, gamma: 1e-3, epsilon: 1e-8 },
  radam: { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, variant: "paper" },
  msvag: { beta1: 0.9 },
  fromage: {},
  adabelief: { ...adabeliefPresets.paper },
});

/** Builds one core optimizer over the parameter `[x, y]`. */
export function makeToyOptimizer(
  name: OptimizerName,
  params: Float64Array,
  options: Record<string, unknown>,
): Optimizer {
  const p = [params];
  switch (name) {
    case "sgd":
      return new SGD(p, options);
    case "adam":
      return new Adam(p, options);
    case "adamw":
      return new AdamW(p, options);
    case "yogi":
      return new Yogi(p, options);
    case "adabound":
      return new AdaBound(p, options);
    case "radam":
      return new RAdam(p, options);
    case "msvag":
      return new MSVAG(p, options);
    case "fromage":
      return new Fromage(p, options);
    case "adabelief":
      return new AdaBelief(p, options);
  }
}

/** One optimizer's path on one toy function. */
export interface ToyPath {
  /** The function's id (see `TOY_FUNCTIONS`). */
  id: string;
  label: string;
  start: readonly [number, number];
  minimum: readonly [number, number];
  domain: ToyFunction["domain"];
  /** The learning rate used. */
  learningRate: number;
  /** Steps taken (fewer than asked only if the run diverged). */
  steps: number;
  /** Subsampled trajectory, starting at the start point: `[step, x, y]` rows. */
  trajectory: [number, number, number][];
  /** First step after which the distance to the minimiser was ≤ {@link TOY_TOLERANCE}, or null if never. */
  stepsToTolerance: number | null;
  /** Distance to the minimiser after the last step. */
  finalDistance: number;
  /** f − f* after the last step. */
  finalGap: number;
  /** True if the run left the ±{@link TOY_DIVERGENCE_BOUND} box or produced a non-finite value. */
  diverged: boolean;
}

/** The `extra` payload of a toy run. */
export interface ToyExtra {
  tolerance: number;
  paths: ToyPath[];
}

function abortError(): Error {
  const e = new Error("toy run aborted");
  e.name = "AbortError";
  return e;
}

/**
 * Runs one optimizer on one function for `steps` steps; `every` controls the curve sampling and
 * `onStep(k)` is called every `progressEvery` steps.
 */
export function runToyPath(
  fn: ToyFunction,
  optimizer: OptimizerName,
  learningRate: number,
  steps: number,
  onChunk?: (done: number) => void,
): { path: ToyPath; distances: Float64Array; gaps: Float64Array } {
  const theta = new Float64Array(fn.start);
  const opt = makeToyOptimizer(optimizer, theta, { ...TOY_OPTIONS[optimizer], learningRate });
  const grad = new Float64Array(2);
  const stride = Math.max(1, Math.ceil(steps / TOY_TRAJECTORY_POINTS));
  // Stored to 8 significant digits: plenty for plots, a third of the JSON.
  const r8 = (v: number): number => Number(v.toPrecision(8));
  const trajectory: [number, number, number][] = [[0, r8(theta[0]!), r8(theta[1]!)]];
  const distances = new Float64Array(steps + 1).fill(Number.NaN);
  const gaps = new Float64Array(steps + 1).fill(Number.NaN);
  distances[0] = distanceToMinimum(fn, theta[0]!, theta[1]!);
  gaps[0] = fn.f(theta[0]!, theta[1]!) - fn.minValue;
  let stepsToTolerance: number | null = distances[0]! <= TOY_TOLERANCE ? 0 : null;
  let diverged = false;
  let k = 0;
  while (k < steps) {
    fn.grad(theta[0]!, theta[1]!, grad);
    if (!Number.isFinite(grad[0]!) || !Number.isFinite(grad[1]!)) {
      diverged = true;
      break;
    }
    opt.step([grad]);
    k++;
    const x = theta[0]!;
    const y = theta[1]!;
    if (
      !Number.isFinite(x) ||
      !Number.isFinite(y) ||
      Math.abs(x) > TOY_DIVERGENCE_BOUND ||
      Math.abs(y) > TOY_DIVERGENCE_BOUND
    ) {
      diverged = true;
      if (Number.isFinite(x) && Number.isFinite(y)) trajectory.push([k, r8(x), r8(y)]);
      break;
    }
    const d = distanceToMinimum(fn, x, y);
    distances[k] = d;
    gaps[k] = fn.f(x, y) - fn.minValue;
    if (stepsToTolerance === null && d <= TOY_TOLERANCE) stepsToTolerance = k;
    if (k % stride === 0 || k === steps) trajectory.push([k, r8(x), r8(y)]);
    if (onChunk && k % 250 === 0) onChunk(k);
  }
  const last = trajectory[trajectory.length - 1]!;
  if (last[0] !== k && Number.isFinite(theta[0]!) && Number.isFinite(theta[1]!))
    trajectory.push([k, r8(theta[0]!), r8(theta[1]!)]);
  // Final distance and gap from the exact last point (the stored one is rounded).
  const end: [number, number, number] =
    Number.isFinite(theta[0]!) && Number.isFinite(theta[1]!)
      ? [k, theta[0]!, theta[1]!]
      : trajectory[trajectory.length - 1]!;
  return {
    path: {
      id: fn.id,
      label: fn.label,
      start: fn.start,
      minimum: fn.minimum,
      domain: fn.domain,
      learningRate,
      steps: k,
      trajectory,
      stepsToTolerance,
      finalDistance: distanceToMinimum(fn, end[1], end[2]),
      finalGap: fn.f(end[1], end[2]) - fn.minValue,
      diverged,
    },
    distances,
    gaps,
  };
}

/**
 * The toy task. Headline: how many of the five functions end within {@link TOY_TOLERANCE} of their minimum.
 *
 * One run = one optimizer on all five functions for `epochs` steps each (default {@link TOY_STEPS}). `curves`
 * hold `dist_<id>` (distance to the minimiser) and `gap_<id>` (f − f*) at ~{@link TOY_CURVE_POINTS} steps
 * (`epoch` is the step); `final` holds `finalDistance_<id>`, `stepsToTolerance_<id>` (only if reached),
 * `diverged_<id>` and `solved`; `extra` is a {@link ToyExtra} with the trajectories;
 * `timings.perEpochSeconds` has one entry per function.
 */
export const task: Task = {
  name: "toy",
  title: "Toy 2-D problems (paper Fig. 3)",
  headline: {
    metric: "solved",
    higherIsBetter: true,
    label: `functions solved (final distance ≤ ${TOY_TOLERANCE}, of 5)`,
  },
  paperReference:
    "The paper (Fig. 3) shows trajectories only: AdaBelief reaches the optimum in fewer steps than the " +
    "others on all five functions, and on Beale from (−2.5, −2.5) only AdaBelief reaches the minimum " +
    "(3, 0.5) while Adam and SGD stall. Its learning rates and step counts were never published.",
  defaultSeeds: { quick: 1, full: 3 },
  async run(spec: RunSpec, hooks: ProgressHooks): Promise<RunResult> {
    const started = performance.now();
    const steps = spec.epochs ?? TOY_STEPS[spec.size];
    if (!Number.isInteger(steps) || steps < 1)
      throw new RangeError(`toy: epochs (steps) must be a positive integer, got ${steps}`);
    const total = steps * TOY_FUNCTIONS.length;
    const paths: ToyPath[] = [];
    const curveEvery = Math.max(1, Math.ceil(steps / TOY_CURVE_POINTS));
    const curveSteps: number[] = [];
    for (let k = 0; k <= steps; k += curveEvery) curveSteps.push(k);
    if (curveSteps[curveSteps.length - 1] !== steps) curveSteps.push(steps);
    const curves: EpochMetrics[] = curveSteps.map((k) => ({ epoch: k }));
    const perFunctionSeconds: number[] = [];
    const hyper: Record<string, unknown> = {};
    const final: Record<string, number> = {};
    let solved = 0;
    for (const [i, fn] of TOY_FUNCTIONS.entries()) {
      if (hooks.signal?.aborted) throw abortError();
      const t0 = performance.now();
      const lr = spec.learningRate ?? TOY_LEARNING_RATES[fn.id]![spec.optimizer];
      hyper[fn.id] = { ...TOY_OPTIONS[spec.optimizer], learningRate: lr };
      const { path, distances, gaps } = runToyPath(fn, spec.optimizer, lr, steps, (done) => {
        hooks.onProgress(i * steps + done, total, fn.id);
      });
      paths.push(path);
      curveSteps.forEach((k, j) => {
        const c = curves[j]!;
        // Once a run diverged there is no point: the curve stops (no NaN in JSON).
        if (Number.isFinite(distances[k]!)) {
          c[`dist_${fn.id}`] = distances[k]!;
          c[`gap_${fn.id}`] = gaps[k]!;
        }
      });
      final[`finalDistance_${fn.id}`] = path.finalDistance;
      if (path.stepsToTolerance !== null) final[`stepsToTolerance_${fn.id}`] = path.stepsToTolerance;
      final[`diverged_${fn.id}`] = path.diverged ? 1 : 0;
      if (!path.diverged && path.finalDistance <= TOY_TOLERANCE) solved++;
      perFunctionSeconds.push((performance.now() - t0) / 1000);
      hooks.onProgress((i + 1) * steps, total, fn.id);
      // Yield to the event loop so a Ctrl-C can be seen between functions.
      await new Promise((resolve) => setImmediate(resolve));
    }
    final.solved = solved;
    const extra: ToyExtra = { tolerance: TOY_TOLERANCE, paths };
    return {
      spec,
      hyperparameters: hyper,
      curves,
      final,
      extra,
      timings: { totalSeconds: (performance.now() - started) / 1000, perEpochSeconds: perFunctionSeconds },
      versions: { ...baseVersions(), backend: "none (core optimizers on Float64Array)" },
    };
  },
};
