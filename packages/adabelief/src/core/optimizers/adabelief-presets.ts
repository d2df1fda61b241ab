import type { AdaBeliefOptions } from "./adabelief.js";

/**
 * An AdaBelief configuration as the authors' table gives it: learning rate, betas, ε, weight decay and its
 * kind, rectification, AMSGrad and fixed decay (the others keep their defaults).
 */
export type AdaBeliefPreset = Readonly<
  Required<Omit<AdaBeliefOptions, "nonFinite" | "smaThreshold" | "degeneratedToSgd" | "learningRate">> & {
    learningRate: number;
  }
>;

const base = { beta1: 0.9, beta2: 0.999, amsgrad: false, fixedDecay: false } as const;

/**
 * Ready-made AdaBelief settings, so users stop guessing. Spread one into the options and override what
 * you need: `new AdaBelief(params, { ...adabeliefPresets.cifar, learningRate: 5e-4 })`.
 *
 * - `paper`: the 0.0.5-era defaults that produced the paper's results (ε 1e-8, L2 decay, no
 *   rectification). The official 0.2.1 defaults are the constructor's own defaults.
 * - The others are the authors' recommended per-task hyper-parameters (the official README's table,
 *   PyTorch): `cifar`, `imagenet`, `objectDetection`, `lstm1Layer`, `lstmMultiLayer` (2–3 layers),
 *   `ganSmall`, `snGan` (large, spectral-norm GAN), `transformer`, `reinforcementLearning` (the table
 *   gives lr 1e-4…1e-3 and ε 1e-10…1e-12: the preset takes 1e-4 and 1e-12).
 */
export const adabeliefPresets = deepFreeze({
  paper: {
    ...base,
    learningRate: 1e-3,
    epsilon: 1e-8,
    weightDecay: 0,
    weightDecouple: false,
    rectify: false,
  },
  cifar: {
    ...base,
    learningRate: 1e-3,
    epsilon: 1e-8,
    weightDecay: 5e-4,
    weightDecouple: false,
    rectify: false,
  },
  imagenet: {
    ...base,
    learningRate: 1e-3,
    epsilon: 1e-8,
    weightDecay: 1e-2,
    weightDecouple: true,
    rectify: false,
  },
  objectDetection: {
    ...base,
    learningRate: 1e-4,
    epsilon: 1e-8,
    weightDecay: 1e-4,
    weightDecouple: false,
    rectify: false,
  },
  lstm1Layer: {
    ...base,
    learningRate: 1e-3,
    epsilon: 1e-16,
    weightDecay: 1.2e-6,
    weightDecouple: false,
    rectify: false,
  },
  lstmMultiLayer: {
    ...base,
    learningRate: 1e-2,
    epsilon: 1e-12,
    weightDecay: 1.2e-6,
    weightDecouple: false,
    rectify: false,
  },
  ganSmall: {
    ...base,
    beta1: 0.5,
    learningRate: 2e-4,
    epsilon: 1e-12,
    weightDecay: 0,
    weightDecouple: false,
    rectify: false,
  },
  snGan: {
    ...base,
    beta1: 0.5,
    learningRate: 2e-4,
    epsilon: 1e-16,
    weightDecay: 0,
    weightDecouple: false,
    rectify: true,
  },
  transformer: {
    ...base,
    learningRate: 5e-4,
    epsilon: 1e-16,
    weightDecay: 1e-4,
    weightDecouple: true,
    rectify: true,
  },
  reinforcementLearning: {
    ...base,
    learningRate: 1e-4,
    epsilon: 1e-12,
    weightDecay: 0,
    weightDecouple: false,
    rectify: true,
  },
} satisfies Record<string, AdaBeliefPreset>);

function deepFreeze<T extends Record<string, object>>(o: T): { readonly [K in keyof T]: Readonly<T[K]> } {
  for (const v of Object.values(o)) Object.freeze(v);
  return Object.freeze(o);
}
