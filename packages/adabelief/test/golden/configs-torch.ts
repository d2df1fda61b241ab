import { Adam, AdamW, RAdam, SGD } from "../../src/core/index.js";
import { betas, translate, type Factory } from "./configs.js";

// configs.ts imports this module, so its `betas` is read only when a factory runs (not at load time).
const adamNames = () => ({
  lr: "learningRate",
  betas,
  eps: "epsilon",
  weight_decay: "weightDecay",
  amsgrad: "amsgrad",
});
const radamNames = () => ({ lr: "learningRate", betas, eps: "epsilon", weight_decay: "weightDecay" });

/**
 * Factories for the torch.optim baselines of baselines.json (sgd, adam, adamw, radam), and for the paper
 * folder's RAdam of paper_baselines.json (radam_paper), which is {@link RAdam} with variant "paper".
 */
export const torchFactories: Record<string, Factory> = {
  sgd: (params, config) =>
    new SGD(
      params,
      translate("sgd", config, {
        lr: "learningRate",
        momentum: "momentum",
        dampening: "dampening",
        nesterov: "nesterov",
        weight_decay: "weightDecay",
      }),
    ),
  adam: (params, config) => new Adam(params, translate("adam", config, adamNames())),
  adamw: (params, config) => new AdamW(params, translate("adamw", config, adamNames())),
  radam: (params, config) => new RAdam(params, translate("radam", config, radamNames())),
  radam_paper: (params, config) =>
    new RAdam(params, {
      variant: "paper",
      ...translate("radam_paper", config, { ...radamNames(), degenerated_to_sgd: "degeneratedToSgd" }),
    }),
};
