import type { Factory } from "./configs.js";

/** Factories for the reference baselines of paper_baselines.json: yogi, adabound, msvag, fromage, radam_paper. */
export const paperFactories: Record<string, Factory> = {};
