import type { Factory } from "./configs.js";

/** Factories for the torch.optim baselines of baselines.json: sgd, adam, adamw, radam. */
export const torchFactories: Record<string, Factory> = {};
