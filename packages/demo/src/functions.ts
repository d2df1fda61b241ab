/**
 * The 2-D functions the demo can show: the experiment suite's toy problems (the AdaBelief paper's Fig. 3,
 * Beale and Rosenbrock), used as they are, so the project keeps one copy of each function and its gradient.
 */
import { TOY_FUNCTIONS, type ToyFunction } from "@adabelief/experiments/toy-functions";

/** A function the demo can show (the suite's {@link ToyFunction}). */
export type DemoFunction = ToyFunction;

/** Identifier of a function (its `id`, also its value in the URL), e.g. `"beale"`. */
export type FunctionId = string;

/** A rectangle of the plane shown by the contour plot. */
export interface View {
  xMin: number;
  xMax: number;
  yMin: number;
  yMax: number;
}

/** The functions, in the order the page lists them (the paper's). */
export const FUNCTIONS: readonly DemoFunction[] = TOY_FUNCTIONS;

/** Looks a function up by id; `undefined` if there is none. */
export function findFunction(id: string): DemoFunction | undefined {
  return FUNCTIONS.find((f) => f.id === id);
}

/** The function's plot window as a {@link View}. */
export function viewOf(fn: DemoFunction): View {
  const [[xMin, xMax], [yMin, yMax]] = fn.domain;
  return { xMin, xMax, yMin, yMax };
}
