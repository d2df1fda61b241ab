import { AdaBound, Fromage, MSVAG, Yogi } from "../../src/core/index.js";
import { betas, translate, type Factory } from "./configs.js";

/**
 * Factories for the reference baselines of paper_baselines.json: yogi, adabound, msvag, fromage (radam_paper
 * is built with the RAdam class in configs-torch.ts). Reference keyword arguments are renamed by `translate`,
 * so a key with no mapping fails the case.
 */
export const paperFactories: Record<string, Factory> = {
  yogi: (params, config) =>
    new Yogi(
      params,
      translate("yogi", config, {
        lr: "learningRate",
        betas,
        eps: "epsilon",
        initial_accumulator: "initialAccumulator",
        weight_decay: "weightDecay",
      }),
    ),
  adabound: (params, config) =>
    new AdaBound(
      params,
      translate("adabound", config, {
        lr: "learningRate",
        betas,
        final_lr: "finalLr",
        gamma: "gamma",
        eps: "epsilon",
        weight_decay: "weightDecay",
        amsbound: "amsbound",
      }),
    ),
  msvag: (params, config) =>
    new MSVAG(
      params,
      translate("msvag", config, {
        lr: "learningRate",
        betas,
        eps: "epsilon",
        weight_decay: "weightDecay",
        amsgrad: "amsgrad",
      }),
    ),
  fromage: (params, config) => new Fromage(params, translate("fromage", config, { lr: "learningRate" })),
};
