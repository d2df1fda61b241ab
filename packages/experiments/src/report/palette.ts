/**
 * Fixed colours of the nine optimizers in every plot: the Okabe–Ito colour-blind-safe palette (its eight
 * colours) plus a neutral grey. AdaBelief is vermillion and drawn thicker; the order is the suite's.
 *
 * @packageDocumentation
 */
import { OPTIMIZERS, type OptimizerName } from "../task.js";

/** Colour of each optimizer (Okabe–Ito, plus grey for MSVAG). */
export const OPTIMIZER_COLORS: Readonly<Record<OptimizerName, string>> = Object.freeze({
  sgd: "#000000",
  adam: "#0072B2",
  adamw: "#56B4E9",
  yogi: "#009E73",
  adabound: "#E69F00",
  radam: "#CC79A7",
  msvag: "#999999",
  fromage: "#F0E442",
  adabelief: "#D55E00",
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
