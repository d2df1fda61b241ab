import { AdaBelief, type FloatArray } from "../../src/core/index.js";
import { paperFactories } from "./configs-paper.js";
import { torchFactories } from "./configs-torch.js";

/** Something that takes one gradient per parameter and updates the parameters in place. */
export interface Steppable {
  step(grads: FloatArray[]): unknown;
}

/** Builds our optimizer from a golden case's `config` (the reference's own keyword arguments). */
export type Factory = (params: FloatArray[], config: Record<string, unknown>) => Steppable;

/**
 * Reads a reference config, renaming its keys to our options; any key not listed makes the case fail
 * (a golden case we cannot express must never pass silently).
 */
export function translate(
  optimizer: string,
  config: Record<string, unknown>,
  names: Record<string, string | ((value: unknown) => Record<string, unknown>) | null>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    if (!(key in names))
      throw new Error(`${optimizer}: the golden config has option ${key}, which the harness cannot map`);
    const target = names[key];
    if (target === null || target === undefined) continue; // no numerical effect (e.g. print_change_log)
    if (typeof target === "function") Object.assign(out, target(value));
    else out[target] = value;
  }
  return out;
}

/** `betas: [b1, b2]` → `{ beta1, beta2 }`. */
export const betas = (value: unknown) => {
  const [beta1, beta2] = value as [number, number];
  return { beta1, beta2 };
};

/**
 * Optimizers whose reference code computes in float32 whatever the parameter dtype (the paper folder's
 * RAdam casts gradient, parameter and state to float32). The harness runs their float64 cases on float32
 * storage with the gradient computed in float64 and rounded, which is what that code does.
 */
export const FLOAT32_COMPUTE = new Set<string>(["radam_paper"]);

/** One factory per `optimizer` name in the golden files. */
export const factories: Record<string, Factory> = {
  adabelief: (params, config) =>
    new AdaBelief(
      params,
      translate("adabelief", config, {
        lr: "learningRate",
        betas,
        eps: "epsilon",
        weight_decay: "weightDecay",
        amsgrad: "amsgrad",
        weight_decouple: "weightDecouple",
        fixed_decay: "fixedDecay",
        rectify: "rectify",
        degenerated_to_sgd: "degeneratedToSgd",
        print_change_log: null,
      }),
    ),
  ...torchFactories,
  ...paperFactories,
};
