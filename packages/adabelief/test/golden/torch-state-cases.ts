/** The cases of scripts/torch-state-fixtures.py (fixtures/torch-state) and the core optimizer of each. */
import { readFileSync } from "node:fs";
import type { FloatArray, Optimizer } from "../../src/core/index.js";
import { factories } from "./configs.js";
import { torchFactories } from "./configs-torch.js";

/** One case: PyTorch's state after `savedAfter` steps (in `file`), and the parameters of every step. */
export interface TorchStateCase {
  name: string;
  optimizer: string;
  config: Record<string, unknown>;
  dtype: "float32" | "float64";
  shapes: number[][];
  file: string;
  savedAfter: number;
  init: number[][];
  grads: number[][][];
  trajectory: number[][][];
}

const dir = new URL("../fixtures/torch-state/", import.meta.url);

/** Every case of the fixture. */
export const TORCH_STATE_CASES = (
  JSON.parse(readFileSync(new URL("cases.json", dir), "utf8")) as { cases: TorchStateCase[] }
).cases;

/** The bytes of a case's safetensors file. */
export const torchStateFile = (c: TorchStateCase) => new Uint8Array(readFileSync(new URL(c.file, dir)));

const FACTORY: Record<string, (p: FloatArray[], c: Record<string, unknown>) => unknown> = {
  "adabelief_pytorch.AdaBelief": (p, c) => factories["adabelief"]!(p, { ...c, print_change_log: false }),
  "torch.optim.SGD": torchFactories["sgd"]!,
  "torch.optim.Adam": torchFactories["adam"]!,
  "torch.optim.AdamW": torchFactories["adamw"]!,
  "torch.optim.RAdam": torchFactories["radam"]!,
};

/** The core optimizer of a case over `params`, built from the reference's keyword arguments. */
export const coreOptimizerOf = (c: TorchStateCase, params: FloatArray[]) =>
  FACTORY[c.optimizer]!(params, c.config) as Optimizer;
