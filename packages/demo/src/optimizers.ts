/**
 * The nine optimizers the demo races, as the page describes them: label, the hyper-parameters it lets the
 * reader edit (with the core's option names), the presets, and a line style. The math itself is never
 * here: {@link createOptimizer} builds the library's own core classes.
 */
import { OPTIMIZERS as CORE_OPTIMIZERS, type Optimizer, type OptimizerName } from "adabelief";

/** Identifier of an optimizer on the page and in the URL (the names the experiment suite uses too). */
export type OptimizerId = OptimizerName;

/** A hyper-parameter value: a number, a flag or one of a few words. */
export type HyperValue = number | boolean | string;

/** The values of one optimizer's editable hyper-parameters, keyed by the core's option name. */
export type HyperValues = Record<string, HyperValue>;

/** One editable hyper-parameter. */
export interface HyperParam {
  /** The core option name, e.g. `learningRate`. */
  key: string;
  /** Short key used in the URL, e.g. `lr`. */
  short: string;
  /** Label shown on the page, e.g. `learning rate α`. */
  label: string;
  /** `number` (an `<input type=number>`), `boolean` (a checkbox) or `choice` (a `<select>`). */
  kind: "number" | "boolean" | "choice";
  /** For `choice`: the allowed words. */
  choices?: readonly string[];
  /** For the main numbers: a slider beside the field, on this scale (see {@link SliderScale}). */
  slider?: SliderScale;
}

/**
 * How a slider maps its position to a value: `log` (10^u between `min` and `max`), `linear`, or
 * `oneMinusLog` (for β2: 1 − β2 on a log scale between `1 − max` and `1 − min`, so 0.9, 0.99, 0.999 and
 * 0.9999 are evenly spaced).
 */
export interface SliderScale {
  kind: "log" | "linear" | "oneMinusLog";
  min: number;
  max: number;
  /** Significant digits of a value read from a log slider (default 2). */
  digits?: number;
}

/** How an optimizer is drawn: colour (Okabe–Ito), dash pattern and marker, so no reader depends on colour. */
export interface LineStyle {
  color: string;
  /** Canvas dash pattern in CSS pixels; empty for a solid line. */
  dash: readonly number[];
  marker:
    "circle" | "square" | "triangle" | "diamond" | "cross" | "plus" | "triangleDown" | "star" | "hexagon";
}

/** An optimizer as the page shows it. */
export interface OptimizerSpec {
  id: OptimizerId;
  /** Display name, the core class name. */
  label: string;
  /** The hyper-parameters the page lets the reader edit; all other options keep the core's defaults. */
  params: readonly HyperParam[];
  style: LineStyle;
}

type Ctor = new (params: Float64Array[], options: object) => Optimizer;

const lr: HyperParam = {
  key: "learningRate",
  short: "lr",
  label: "learning rate α",
  kind: "number",
  slider: { kind: "log", min: 1e-5, max: 10 },
};
const beta1: HyperParam = {
  key: "beta1",
  short: "b1",
  label: "β1",
  kind: "number",
  slider: { kind: "linear", min: 0, max: 0.999 },
};
const beta2: HyperParam = {
  key: "beta2",
  short: "b2",
  label: "β2",
  kind: "number",
  slider: { kind: "oneMinusLog", min: 0.9, max: 0.9999 },
};
const eps: HyperParam = {
  key: "epsilon",
  short: "eps",
  label: "ε",
  kind: "number",
  slider: { kind: "log", min: 1e-20, max: 1e-2, digits: 1 },
};

/**
 * The optimizers in the order of the page (AdaBelief first, then the paper's baselines). Colours are the
 * Okabe–Ito palette (plus its grey for the ninth); every line also has its own dash pattern and marker.
 */
export const OPTIMIZERS: readonly OptimizerSpec[] = Object.freeze([
  {
    id: "adabelief",
    label: "AdaBelief",
    params: [
      lr,
      beta1,
      beta2,
      eps,
      { key: "rectify", short: "rect", label: "rectify (RAdam warm-up)", kind: "boolean" },
    ],
    style: { color: "#D55E00", dash: [], marker: "circle" },
  },
  {
    id: "sgd",
    label: "SGD",
    params: [
      lr,
      {
        key: "momentum",
        short: "mom",
        label: "momentum μ",
        kind: "number",
        slider: { kind: "linear", min: 0, max: 0.99 },
      },
      { key: "nesterov", short: "nest", label: "Nesterov", kind: "boolean" },
    ],
    style: { color: "#000000", dash: [2, 3], marker: "square" },
  },
  {
    id: "adam",
    label: "Adam",
    params: [lr, beta1, beta2, eps],
    style: { color: "#0072B2", dash: [9, 4], marker: "triangle" },
  },
  {
    id: "adamw",
    label: "AdamW",
    params: [
      lr,
      beta1,
      beta2,
      eps,
      { key: "weightDecay", short: "wd", label: "weight decay λ", kind: "number" },
    ],
    style: { color: "#56B4E9", dash: [9, 3, 2, 3], marker: "diamond" },
  },
  {
    id: "radam",
    label: "RAdam",
    params: [
      lr,
      beta1,
      beta2,
      eps,
      { key: "variant", short: "var", label: "variant", kind: "choice", choices: ["pytorch", "paper"] },
      {
        key: "degeneratedToSgd",
        short: "sgd",
        label: "SGD steps in warm-up (paper variant only)",
        kind: "boolean",
      },
    ],
    style: { color: "#009E73", dash: [5, 4], marker: "cross" },
  },
  {
    id: "yogi",
    label: "Yogi",
    params: [lr, beta1, beta2, eps],
    style: { color: "#CC79A7", dash: [14, 4], marker: "plus" },
  },
  {
    id: "adabound",
    label: "AdaBound",
    params: [
      lr,
      beta1,
      beta2,
      { key: "finalLr", short: "flr", label: "final (SGD) learning rate", kind: "number" },
      { key: "gamma", short: "gam", label: "bound speed γ", kind: "number" },
    ],
    style: { color: "#E69F00", dash: [2, 2], marker: "triangleDown" },
  },
  {
    id: "msvag",
    label: "MSVAG",
    params: [lr, beta1],
    style: { color: "#F0E442", dash: [7, 2, 2, 2, 2, 2], marker: "star" },
  },
  {
    id: "fromage",
    label: "Fromage",
    params: [lr],
    style: { color: "#999999", dash: [1, 4], marker: "hexagon" },
  },
] satisfies OptimizerSpec[]);

/**
 * Line styles of the copies of an optimizer ("AdaBelief 2", …), in the order copies are added: colours not
 * in the Okabe–Ito set of the nine, each with its own dash pattern, and a hollow-looking marker of its own.
 */
export const COPY_STYLES: readonly LineStyle[] = Object.freeze([
  { color: "#6A3D9A", dash: [12, 3, 3, 3], marker: "diamond" },
  { color: "#8C510A", dash: [3, 2, 10, 2], marker: "square" },
  { color: "#01665E", dash: [16, 4, 2, 4], marker: "triangle" },
  { color: "#C51B7D", dash: [6, 6], marker: "circle" },
] satisfies LineStyle[]);

/**
 * Why a control has no effect under the other values, or `undefined` if it has one. The page disables
 * such a control (RAdam's warm-up SGD steps exist only in its `paper` variant).
 */
export function inertReason(id: OptimizerId, key: string, values: HyperValues): string | undefined {
  if (id === "radam" && key === "degeneratedToSgd" && values.variant !== "paper") {
    return "only the paper variant has SGD steps in its warm-up";
  }
  return undefined;
}

/** Looks an optimizer up by id; `undefined` if there is none. */
export function findOptimizer(id: string): OptimizerSpec | undefined {
  return OPTIMIZERS.find((o) => o.id === id);
}

/**
 * The options handed to the core constructor: the editable values, minus those the chosen configuration
 * does not accept (RAdam's `degeneratedToSgd` exists only for its `paper` variant).
 */
export function coreOptions(id: OptimizerId, values: HyperValues): Record<string, HyperValue> {
  const options: Record<string, HyperValue> = { ...values };
  if (id === "radam" && options.variant !== "paper") delete options.degeneratedToSgd;
  return options;
}

/**
 * Builds the core optimizer `id` over `params` with `values` (see {@link coreOptions}). Invalid values
 * throw the core's `OptionError`, whose message names the option and the value.
 */
export function createOptimizer(id: OptimizerId, params: Float64Array[], values: HyperValues): Optimizer {
  return new (CORE_OPTIMIZERS[id] as Ctor)(params, coreOptions(id, values));
}
