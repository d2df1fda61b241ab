/**
 * The page's presets: whole scenes that reproduce the AdaBelief paper's toy figures (its three 2-D
 * functions and Beale), one on gradient noise and one comparing two ε of AdaBelief, each with a one-line
 * caption of what to look for; and hyper-parameter sets that can be applied to every optimizer.
 *
 * The settings and the numbers in the captions were found by running the library's core on a grid of
 * settings (`packages/demo/scripts/search-presets.ts` prints the tables); `test/presets.test.ts` checks
 * every number against the core. Every value a preset does not name is the core class's own default, read
 * from the class itself (never restated here).
 */
import { adabeliefPresets } from "adabelief";
import { findFunction } from "./functions.js";
import { createOptimizer, OPTIMIZERS, type HyperValues, type OptimizerId } from "./optimizers.js";
import type { DemoState, Entry } from "./state.js";

/** The core's defaults of an optimizer's editable hyper-parameters, read from a freshly built instance. */
export function coreDefaults(id: OptimizerId): HyperValues {
  const spec = OPTIMIZERS.find((o) => o.id === id)!;
  const resolved = createOptimizer(id, [new Float64Array(2)], {}).options as unknown as Record<
    string,
    unknown
  >;
  const values: HyperValues = {};
  for (const p of spec.params) {
    const v = resolved[p.key];
    if (typeof v !== "number" && typeof v !== "boolean" && typeof v !== "string") {
      throw new Error(`${spec.label}: the core resolved option ${p.key} to ${String(v)}`);
    }
    values[p.key] = v;
  }
  return values;
}

/** Identifier of a hyper-parameter set. */
export type HyperSetId = "paper" | "defaults";

/** A named set of hyper-parameters for every optimizer (applied to all entries at once). */
export interface HyperSet {
  id: HyperSetId;
  label: string;
  /** One sentence on where the numbers come from. */
  description: string;
  /** Per optimizer, the values that differ from the core defaults. */
  overrides: Readonly<Record<OptimizerId, HyperValues>>;
}

/** The hyper-parameter sets. */
export const HYPER_SETS: readonly HyperSet[] = Object.freeze<HyperSet[]>([
  {
    id: "paper",
    label: "Paper (CIFAR-10)",
    description:
      "The settings the paper's CIFAR-10 experiments gave each optimizer (weight decay left out except for AdamW: " +
      "these functions have no weights to regularise).",
    overrides: {
      adabelief: {
        learningRate: adabeliefPresets.paper.learningRate,
        beta1: adabeliefPresets.paper.beta1,
        beta2: adabeliefPresets.paper.beta2,
        epsilon: adabeliefPresets.paper.epsilon,
        rectify: adabeliefPresets.paper.rectify,
      },
      sgd: { learningRate: 0.1, momentum: 0.9 },
      adam: { learningRate: 1e-3 },
      adamw: { learningRate: 1e-3, weightDecay: 1e-2 },
      radam: { learningRate: 1e-3, variant: "paper", degeneratedToSgd: true },
      yogi: { learningRate: 1e-3, epsilon: 1e-3 },
      adabound: { learningRate: 1e-3, finalLr: 0.1, gamma: 1e-3 },
      msvag: { learningRate: 0.1 },
      fromage: { learningRate: 1e-2 },
    },
  },
  {
    id: "defaults",
    label: "Library defaults",
    description:
      "Each class's own defaults (AdaBelief: the official 0.2.1 package's, ε 1e-16 with rectification).",
    overrides: {
      adabelief: {},
      sgd: {},
      adam: {},
      adamw: {},
      radam: {},
      yogi: {},
      adabound: {},
      msvag: {},
      fromage: {},
    },
  },
]);

/** The complete values of hyper-parameter set `set` for optimizer `id`: core defaults, overridden by the set. */
export function hyperSetValues(set: HyperSetId, id: OptimizerId): HyperValues {
  const s = HYPER_SETS.find((x) => x.id === set)!;
  return { ...coreDefaults(id), ...s.overrides[id] };
}

/** Identifier of a preset. */
export type PresetId = "abs" | "abs-skewed" | "quadratic" | "beale" | "noise" | "epsilon";

/** What a preset's caption promises about one entry; the preset test checks it against the core. */
export interface Fact {
  /** The entry. */
  key: string;
  /**
   * The first step after which the entry is within {@link Preset.within} of the minimiser, or `null` if it
   * never is within the run.
   */
  reached: number | null;
  /** If given, f − f* after the last step is below this. */
  finalGapBelow?: number;
  /** If given, f − f* after the last step is above this. */
  finalGapAbove?: number;
  /** If given, the distance to the minimiser after the last step, to two significant digits. */
  finalDistance?: number;
}

/** A scene: function, run, optimizers and their settings, with what to look for. */
export interface Preset {
  id: PresetId;
  /** The button's text. */
  label: string;
  /** The function (its start point is the function's). */
  fn: string;
  steps: number;
  noise: number;
  seed: number;
  /** α of the scale-free adaptive methods (AdaBelief, Adam, AdamW, RAdam, Yogi, AdaBound, Fromage: 0.01). */
  alpha: number;
  /** Learning rate of the methods whose step scales with the gradient (SGD, MSVAG; AdaBound's final rate). */
  sgdLr: number;
  /** The ticked entries. */
  on: readonly string[];
  /** Copies of an optimizer in this scene (key `adabelief-2`, …): the optimizer's settings, then `overrides`. */
  copies?: readonly string[];
  /** Per entry, values that differ from the scene's common settings. */
  overrides?: Readonly<Record<string, HyperValues>>;
  /** One line on what to look for, and under which settings it shows. */
  caption: string;
  /** Distance to the minimiser that counts as "reached" in {@link Fact.reached}. */
  within: number;
  /** The numbers the caption quotes. */
  facts: readonly Fact[];
}

/**
 * The settings every scene starts from (then its α and SGD rate): the paper's AdaBelief (ε 1e-8, no
 * rectification, as the 0.0.5 code that produced its results), SGD without momentum (the plain "SGD" of
 * the paper's toy figure), the paper folder's RAdam, AdamW's decoupled decay 1e-2.
 */
const SCENE_BASE: Readonly<Record<OptimizerId, HyperValues>> = {
  adabelief: { epsilon: 1e-8, rectify: false },
  sgd: { momentum: 0, nesterov: false },
  adam: {},
  adamw: { weightDecay: 1e-2 },
  radam: { variant: "paper", degeneratedToSgd: true },
  yogi: {},
  adabound: {},
  msvag: {},
  fromage: { learningRate: 1e-2 },
};

const GRADIENT_SCALED: readonly OptimizerId[] = ["sgd", "msvag"];

/** The presets, in the order of the page's buttons. */
export const PRESETS: readonly Preset[] = Object.freeze<Preset[]>([
  {
    id: "abs",
    label: "Fig. 3a |x|+|y|",
    fn: "abs",
    steps: 1000,
    noise: 0,
    seed: 1,
    alpha: 3e-3,
    sgdLr: 3e-3,
    on: ["adabelief", "sgd", "adam"],
    caption:
      "The gradient never changes, so AdaBelief's surprise s shrinks and its steps grow: it reaches the minimum " +
      "in 198 steps, Adam and plain SGD (α per step) in 831. Shown at α 3e-3; the lead narrows as α grows " +
      "(80 vs 99 steps at 0.03), and SGD with momentum 0.9 gets there in 108.",
    within: 0.01,
    facts: [
      { key: "adabelief", reached: 198 },
      { key: "adam", reached: 831 },
      { key: "sgd", reached: 831 },
    ],
  },
  {
    id: "abs-skewed",
    label: "Fig. 3b |x+y|+|x−y|/10",
    fn: "abs-skewed",
    steps: 1000,
    noise: 0,
    seed: 1,
    alpha: 0.03,
    sgdLr: 0.03,
    on: ["adabelief", "sgd", "adam"],
    caption:
      "Only a small lead on this one: AdaBelief reaches the minimum in 708 steps, Adam in 764, and plain SGD " +
      "zig-zags across the valley without ever getting within 0.01 (shown at α 0.03; at 0.1 Adam is 2 steps ahead).",
    within: 0.01,
    facts: [
      { key: "adabelief", reached: 708 },
      { key: "adam", reached: 764 },
      { key: "sgd", reached: null },
    ],
  },
  {
    id: "quadratic",
    label: "Fig. 3c (x+y)²+(x−y)²/10",
    fn: "quadratic",
    steps: 1000,
    noise: 0,
    seed: 1,
    alpha: 0.01,
    sgdLr: 0.01,
    on: ["adabelief", "sgd", "adam"],
    caption:
      "Along the flat direction the gradient is small but steady, so AdaBelief keeps its steps large: it " +
      "reaches the minimum in 218 steps, Adam in 676, plain SGD not within 1,000 (shown at α 0.01).",
    within: 0.01,
    facts: [
      { key: "adabelief", reached: 218 },
      { key: "adam", reached: 676 },
      { key: "sgd", reached: null },
    ],
  },
  {
    id: "beale",
    label: "Beale",
    fn: "beale",
    steps: 5000,
    noise: 0,
    seed: 1,
    alpha: 0.1,
    sgdLr: 5e-4,
    on: ["adabelief", "sgd", "adam"],
    caption:
      "AdaBelief reaches (3, 0.5) first, at step 3,543, and SGD stalls 0.27 short of it (at 5e-4; faster rates " +
      "send it to another valley or diverge). Unlike in the paper's figure, Adam does not stall: it arrives at step 3,982.",
    within: 0.01,
    facts: [
      { key: "adabelief", reached: 3543 },
      { key: "adam", reached: 3982 },
      { key: "sgd", reached: null, finalDistance: 0.27 },
    ],
  },
  {
    id: "noise",
    label: "Noisy gradients",
    fn: "quadratic",
    steps: 2000,
    noise: 3,
    seed: 1,
    alpha: 0.01,
    sgdLr: 0.01,
    on: ["adabelief", "adam"],
    caption:
      "Noise does not separate them: with σ 3 both first get within 0.5 of the minimum after about 1,350 steps " +
      "(1,335 and 1,358) and jitter alike, since s and Adam's v are then both ≈ σ². Without noise AdaBelief is " +
      "3× faster here (218 vs 676 steps: Fig. 3c).",
    within: 0.5,
    facts: [
      { key: "adabelief", reached: 1335 },
      { key: "adam", reached: 1358 },
    ],
  },
  {
    id: "epsilon",
    label: "AdaBelief ε 1e-8 vs 1e-16",
    fn: "quadratic",
    steps: 2000,
    noise: 0,
    seed: 1,
    alpha: 1e-3,
    sgdLr: 1e-3,
    on: ["adabelief", "adabelief-2"],
    copies: ["adabelief-2"],
    overrides: {
      adabelief: { beta2: 0.99, epsilon: 1e-8 },
      "adabelief-2": { beta2: 0.99, epsilon: 1e-16 },
    },
    caption:
      "Same path on the plot; watch the loss: ε 1e-8 keeps sinking, while ε 1e-16 bounces back up from step " +
      "1,335 (to f ≈ 1e-7) and never settles. Below √(ε/(1−β2)) AdaBelief's steps shrink with the gradient, so " +
      "the larger ε damps the last steps. Shown at β2 0.99; at the default 0.999 the two stay together.",
    within: 0.01,
    facts: [
      { key: "adabelief", reached: 579, finalGapBelow: 1e-60 },
      { key: "adabelief-2", reached: 578, finalGapAbove: 1e-13 },
    ],
  },
]);

/** The preset a fresh page shows. */
export const DEFAULT_PRESET: PresetId = "beale";

/** Looks a preset up by id. */
export function findPreset(id: string): Preset | undefined {
  return PRESETS.find((p) => p.id === id);
}

/** The hyper-parameters of optimizer `id` in `preset`, before per-entry overrides. */
function sceneValues(preset: Preset, id: OptimizerId): HyperValues {
  const values: HyperValues = { ...coreDefaults(id), ...SCENE_BASE[id] };
  if (GRADIENT_SCALED.includes(id)) values.learningRate = preset.sgdLr;
  else if (id !== "fromage") values.learningRate = preset.alpha;
  if (id === "adabound") values.finalLr = preset.sgdLr;
  return values;
}

/** The whole page state of a preset (at step 0). */
export function stateOfPreset(id: PresetId): DemoState {
  const preset = findPreset(id)!;
  const fn = findFunction(preset.fn)!;
  const entries: Entry[] = OPTIMIZERS.map((o) => ({
    key: o.id,
    optimizer: o.id,
    on: preset.on.includes(o.id),
    hyper: sceneValues(preset, o.id),
  }));
  for (const key of preset.copies ?? []) {
    const optimizer = key.slice(0, key.lastIndexOf("-")) as OptimizerId;
    let at = -1;
    entries.forEach((e, i) => (at = e.optimizer === optimizer ? i : at));
    entries.splice(at + 1, 0, {
      key,
      optimizer,
      on: preset.on.includes(key),
      hyper: sceneValues(preset, optimizer),
    });
  }
  for (const entry of entries) Object.assign(entry.hyper, preset.overrides?.[entry.key]);
  return {
    fn: fn.id,
    start: [fn.start[0], fn.start[1]],
    steps: preset.steps,
    at: 0,
    noise: preset.noise,
    seed: preset.seed,
    entries,
  };
}
