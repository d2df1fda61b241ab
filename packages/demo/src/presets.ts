/**
 * Hyper-parameter presets of the demo. Every value not named by a preset is the core class's own default,
 * read from the class itself (never restated here).
 */
import { adabeliefPresets } from "adabelief";
import { createOptimizer, OPTIMIZERS, type HyperValues, type OptimizerId } from "./optimizers.js";

/** Identifier of a preset. */
export type PresetId = "toy" | "paper" | "defaults";

/** A named set of hyper-parameters for every optimizer. */
export interface Preset {
  id: PresetId;
  label: string;
  /** One sentence on where the numbers come from. */
  description: string;
  /** Per optimizer, the values that differ from the core defaults. */
  overrides: Readonly<Record<OptimizerId, HyperValues>>;
}

/** The presets, the first being the page's default. */
export const PRESETS: readonly Preset[] = Object.freeze<Preset[]>([
  {
    id: "toy",
    label: "2-D toy",
    description:
      "The paper never published its toy learning rates. Adaptive methods at α 0.1; SGD-like methods at α 1e-4 " +
      "(SGD diverges on Beale from (−2.5, −2.5) at 2.5e-4); AdaBelief as the paper ran it (ε 1e-8, no rectification).",
    overrides: {
      adabelief: { learningRate: 0.1, epsilon: 1e-8, rectify: false },
      sgd: { learningRate: 1e-4, momentum: 0.9 },
      adam: { learningRate: 0.1 },
      adamw: { learningRate: 0.1, weightDecay: 1e-2 },
      radam: { learningRate: 0.1, variant: "paper", degeneratedToSgd: false },
      yogi: { learningRate: 0.1 },
      adabound: { learningRate: 0.1, finalLr: 1e-4 },
      msvag: { learningRate: 1e-4 },
      fromage: { learningRate: 1e-2 },
    },
  },
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

/** The complete values of `preset` for optimizer `id`: core defaults, overridden by the preset. */
export function presetValues(preset: PresetId, id: OptimizerId): HyperValues {
  const p = PRESETS.find((x) => x.id === preset)!;
  return { ...coreDefaults(id), ...p.overrides[id] };
}
