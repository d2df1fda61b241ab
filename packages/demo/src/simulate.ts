/**
 * Runs the race: every selected optimizer, built from the library's core, takes `steps` steps on the chosen
 * function from the start point. Pure computation, no DOM.
 */
import { setWarningHandler } from "adabelief";
import { findFunction } from "./functions.js";
import { gaussian } from "./noise.js";
import { createOptimizer, type OptimizerId } from "./optimizers.js";
import type { DemoState } from "./state.js";

/** A run stops when a coordinate leaves [−LIMIT, LIMIT]: it has diverged, and drawing it means nothing. */
export const LIMIT = 1e8;

/** One optimizer's trajectory. */
export interface Run {
  id: OptimizerId;
  /** The points visited, x and y interleaved: point k (after k steps) is `(path[2k], path[2k+1])`. */
  path: Float64Array;
  /** f at each point. */
  loss: Float64Array;
  /** Number of points: steps taken + 1 (fewer than `steps + 1` when the run stopped early). */
  points: number;
  /** Why the run stopped before `steps`, if it did. */
  stopped?: string;
  /** The core rejected the hyper-parameters (its message); then there is only the start point. */
  error?: string;
  /** Warnings the core emitted for this configuration. */
  warnings: string[];
}

/**
 * Computes the trajectory of every selected optimizer.
 *
 * The parameter is one `Float64Array` `[x, y]` (so Fromage's norms are those of the whole point). With
 * noise σ > 0, step t uses the gradient `∇f(θ) + σ·(z_x, z_y)` where `z` comes from {@link gaussian}(seed),
 * two draws per step (x first); each optimizer gets its own generator with the same seed, so all of them
 * see the same noise sequence.
 */
export function simulate(state: DemoState): Run[] {
  const fn = findFunction(state.fn);
  if (!fn) throw new Error(`unknown function ${state.fn}`);
  return state.selected.map((id) => {
    const n = state.steps;
    const path = new Float64Array(2 * (n + 1));
    const loss = new Float64Array(n + 1);
    path[0] = state.start[0];
    path[1] = state.start[1];
    loss[0] = fn.f(state.start[0], state.start[1]);
    const run: Run = { id, path, loss, points: 1, warnings: [] };
    const theta = new Float64Array(state.start);
    const grad = new Float64Array(2);
    const previous = setWarningHandler((message) => run.warnings.push(message));
    let optimizer;
    try {
      optimizer = createOptimizer(id, [theta], state.hyper[id]);
    } catch (e) {
      run.error = e instanceof Error ? e.message : String(e);
      return run;
    } finally {
      setWarningHandler(previous);
    }
    const z = state.noise > 0 ? gaussian(state.seed) : undefined;
    for (let k = 1; k <= n; k++) {
      fn.grad(theta[0]!, theta[1]!, grad);
      if (z) {
        grad[0] = grad[0]! + state.noise * z();
        grad[1] = grad[1]! + state.noise * z();
      }
      try {
        optimizer.step([grad]);
      } catch (e) {
        run.stopped = `stopped at step ${k}: ${e instanceof Error ? e.message : String(e)}`;
        break;
      }
      const x = theta[0]!;
      const y = theta[1]!;
      if (!(Math.abs(x) <= LIMIT && Math.abs(y) <= LIMIT)) {
        run.stopped = `diverged at step ${k} (|x| or |y| above ${LIMIT})`;
        break;
      }
      path[2 * k] = x;
      path[2 * k + 1] = y;
      loss[k] = fn.f(x, y);
      run.points = k + 1;
    }
    return run;
  });
}
