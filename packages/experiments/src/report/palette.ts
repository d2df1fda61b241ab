/**
 * Fixed colours, dash patterns and end-marker shapes of the nine optimizers in every plot. Colours: the
 * Okabe–Ito colour-blind-safe palette, with AdaBound in purple and Fromage in olive instead of Okabe–Ito's
 * orange and yellow (next to AdaBelief's vermillion, and on white, those two were hard to tell apart), and
 * grey for MSVAG. AdaBelief is vermillion and drawn thicker; the order is the suite's. Dashes and shapes
 * tell apart paths that lie on top of each other (toy trajectories).
 *
 * @packageDocumentation
 */
import { OPTIMIZERS, type OptimizerName } from "../task.js";

/** Colour of each optimizer (no two alike; see the module documentation). */
export const OPTIMIZER_COLORS: Readonly<Record<OptimizerName, string>> = Object.freeze({
  sgd: "#000000",
  adam: "#0072B2",
  adamw: "#56B4E9",
  yogi: "#009E73",
  adabound: "#6A3D9A",
  radam: "#CC79A7",
  msvag: "#999999",
  fromage: "#8C8C1E",
  adabelief: "#D55E00",
});

/** Dash pattern of each optimizer's line in trajectory plots (vega `strokeDash`; solid for AdaBelief). */
export const OPTIMIZER_DASHES: Readonly<Record<OptimizerName, readonly number[]>> = Object.freeze({
  sgd: [6, 3],
  adam: [1, 0],
  adamw: [8, 4],
  yogi: [2, 2],
  adabound: [6, 2, 2, 2],
  radam: [10, 3, 2, 3],
  msvag: [3, 3],
  fromage: [12, 4],
  adabelief: [1, 0],
});

/** Shape of each optimizer's end marker in trajectory plots (vega point shapes). */
export const OPTIMIZER_SHAPES: Readonly<Record<OptimizerName, string>> = Object.freeze({
  sgd: "square",
  adam: "circle",
  adamw: "triangle-up",
  yogi: "triangle-down",
  adabound: "diamond",
  radam: "triangle-right",
  msvag: "triangle-left",
  fromage: "wedge",
  adabelief:
    "M0,-1.3L0.38,-0.4L1.24,-0.4L0.55,0.15L0.8,1.05L0,0.5L-0.8,1.05L-0.55,0.15L-1.24,-0.4L-0.38,-0.4Z",
});

/** Display names of the optimizers, as the paper writes them. */
export const OPTIMIZER_LABELS: Readonly<Record<OptimizerName, string>> = Object.freeze({
  sgd: "SGD",
  adam: "Adam",
  adamw: "AdamW",
  yogi: "Yogi",
  adabound: "AdaBound",
  radam: "RAdam",
  msvag: "MSVAG",
  fromage: "Fromage",
  adabelief: "AdaBelief",
});

/** A vega-lite colour scale with the fixed colours, over `names` (default: all nine, suite order). */
export function colorScale(names: readonly OptimizerName[] = OPTIMIZERS): {
  domain: string[];
  range: string[];
} {
  return { domain: names.map((n) => OPTIMIZER_LABELS[n]), range: names.map((n) => OPTIMIZER_COLORS[n]) };
}
