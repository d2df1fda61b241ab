import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import {
  OPTIMIZER_NAMES,
  OPTIMIZERS,
  OptionError,
  setWarningHandler,
  type FloatArray,
  type Optimizer,
} from "../../src/core/index.js";
import * as tfjsOpt from "../../src/tfjs/index.js";
import type { RuleOptimizer } from "../../src/tfjs/index.js";
import { factories } from "../golden/configs.js";
import { loadGoldenFiles, type GoldenCase, type GoldenProblem } from "../golden/load.js";
import { initialParams, makeGradient } from "../golden/problems.js";

setWarningHandler(() => {});

/** Switches to a backend, loading the wasm backend on demand (it reads its .wasm from the package). */
export async function useBackend(name: "cpu" | "wasm"): Promise<void> {
  if (name === "wasm" && !tf.findBackendFactory("wasm")) await import("@tensorflow/tfjs-backend-wasm");
  if (tf.getBackend() !== name) {
    const ok = await tf.setBackend(name);
    if (!ok) throw new Error(`backend ${name} failed to initialise`);
  }
  await tf.ready();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyRuleOptimizer = RuleOptimizer<any, any, any>;

/** The tfjs optimizer of each core rule name ("AdaBelief", …), from the library's registries. */
export const TFJS_FACTORIES: Record<string, (o: Record<string, unknown>) => AnyRuleOptimizer> =
  Object.fromEntries(
    OPTIMIZER_NAMES.map((name) => [
      OPTIMIZERS[name].name,
      (o: Record<string, unknown>) =>
        new (tfjsOpt.TFJS_OPTIMIZERS[name] as unknown as new (o: unknown) => AnyRuleOptimizer)(o),
    ]),
  );

/** Builds the tfjs twin of a core optimizer from its resolved options. */
export function twinOf(core: Optimizer, extra: Record<string, unknown>): AnyRuleOptimizer {
  const make = TFJS_FACTORIES[core.rule.name];
  if (!make) throw new Error(`no tfjs optimizer for core rule ${core.rule.name}`);
  const options: Record<string, unknown> = { ...core.options };
  for (;;) {
    try {
      return make({ ...options, ...extra });
    } catch (e) {
      // Resolved options can hold derived or defaulted entries the constructor rejects (AdaBound's
      // baseLearningRate, RAdam's degeneratedToSgd for variant "pytorch"): drop the one the error names.
      const named = e instanceof OptionError ? Object.keys(options).filter((k) => e.message.includes(k)) : [];
      if (named.length === 0) throw e;
      delete options[named.sort((a, b) => b.length - a.length)[0]!];
    }
  }
}

/** A float32 golden case with its problem. */
export interface Float32Case {
  kase: GoldenCase;
  problem: GoldenProblem;
}

/** Every float32 case of the golden files whose optimizer the core maps. */
export function float32Cases(): Float32Case[] {
  const out: Float32Case[] = [];
  for (const file of loadGoldenFiles()) {
    for (const kase of file.cases) {
      if (kase.dtype !== "float32" || !factories[kase.optimizer]) continue;
      out.push({ kase, problem: file.problems[kase.problem]! });
    }
  }
  return out;
}

/** Result of replaying a case through the core and a tfjs optimizer side by side. */
export interface Replay {
  worst: number;
  firstFailure: string;
  path: string | null;
  rule: string;
}

/**
 * Runs the core optimizer (the oracle) and its tfjs twin on the same golden problem for `steps` steps,
 * each computing its gradients from its own parameters (`feed: "own"`), or both fed the gradients computed
 * from the core's parameters (`feed: "core"`: float32 rounding differences then cannot be amplified by a
 * chaotic problem, e.g. the sign gradients of P3a), and returns the worst deviation
 * |tfjs − core| / (1 + |core|) over all steps and elements.
 */
export function replay(
  c: Float32Case,
  steps: number,
  extra: Record<string, unknown>,
  tol: number,
  feed: "own" | "core" = "own",
): Replay {
  const { kase, problem } = c;
  const params: FloatArray[] = initialParams(problem, "float32");
  const core = factories[kase.optimizer]!(params, kase.config) as Optimizer;
  const opt = twinOf(core, extra);
  const gradient = makeGradient(kase.problem, problem, "float32");
  const vars = initialParams(problem, "float32").map((p, i) =>
    tf.variable(
      tf.tensor(p, problem.param_shapes[problem.param_order[i]!]),
      true,
      `${kase.name}/${i}/${extra["kernel"] ?? ""}`,
    ),
  );
  let worst = 0;
  let firstFailure = "";
  try {
    for (let step = 0; step < steps; step++) {
      const coreGrads = gradient(params, step);
      const current = vars.map((v) => Float32Array.from(v.dataSync()));
      const grads = (feed === "core" ? coreGrads : gradient(current, step)).map((g, i) =>
        tf.tensor(g, vars[i]!.shape),
      );
      core.step(coreGrads);
      if (step % 2 === 0) opt.applyGradients(Object.fromEntries(vars.map((v, i) => [v.name, grads[i]!])));
      else opt.applyGradients(vars.map((v, i) => ({ name: v.name, tensor: grads[i]! })));
      tf.dispose(grads);
      vars.forEach((v, i) => {
        const got = v.dataSync();
        const want = params[i]!;
        for (let j = 0; j < want.length; j++) {
          const dev = Math.abs(got[j]! - want[j]!) / (1 + Math.abs(want[j]!));
          if (!(dev <= worst)) worst = Number.isNaN(dev) ? Infinity : Math.max(worst, dev);
          if (!(dev <= tol) && !firstFailure) {
            firstFailure = `${kase.name} step ${step + 1} param ${i}[${j}]: tfjs ${got[j]} vs core ${want[j]} (deviation ${dev})`;
          }
        }
      });
    }
    return { worst, firstFailure, path: opt.lastUpdatePath, rule: core.rule.name };
  } finally {
    opt.dispose();
    tf.dispose(vars);
  }
}
