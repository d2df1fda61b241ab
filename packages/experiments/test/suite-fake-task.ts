import type { RunResult, RunSpec, Task } from "../src/task.js";

/** Options of {@link fakeTask}. */
export interface FakeTaskOptions {
  /** Called at the start of every run (e.g. to abort or throw at a chosen run). */
  onRun?: (spec: RunSpec, index: number) => void;
  /** Epochs per run (default 3). */
  epochs?: number;
  /** Declare a validation metric (`valAcc`, which peaks at a learning rate per optimizer: see the run). */
  validation?: boolean;
}

/**
 * The fake validation accuracy: best at lr 0.01 for SGD, 0.001 for the others; the fake test accuracy
 * instead grows with the learning rate, so a selection that peeked at test would pick differently.
 */
export function fakeValAcc(optimizer: string, lr: number): number {
  const bestLr = optimizer === "sgd" ? 0.01 : 0.001;
  return 90 - 5 * Math.abs(Math.log10(lr / bestLr));
}

/**
 * A fast deterministic Task for the suite tests: the "accuracy" depends on optimizer and seed only, and
 * the run checks the abort signal between epochs like a real task.
 */
export function fakeTask(options: FakeTaskOptions = {}): Task & { calls: RunSpec[] } {
  const calls: RunSpec[] = [];
  return {
    name: "fake",
    title: "Fake task",
    headline: { metric: "testAcc", higherIsBetter: true, label: "test accuracy (%)" },
    paperReference: "The paper reports 91.17 for AdaBelief.",
    defaultSeeds: { quick: 2, full: 3 },
    ...(options.validation
      ? { validation: { metric: "valAcc", higherIsBetter: true, label: "validation accuracy (%)" } }
      : {}),
    calls,
    async run(spec: RunSpec, hooks): Promise<RunResult> {
      calls.push(spec);
      options.onRun?.(spec, calls.length - 1);
      const epochs = spec.epochs ?? options.epochs ?? 3;
      const base = { sgd: 80, adam: 85, adabelief: 84 }[spec.optimizer as string] ?? 70;
      const curves = [];
      for (let e = 1; e <= epochs; e++) {
        await new Promise((r) => setTimeout(r, 1));
        if (hooks.signal?.aborted) {
          const err = new Error("aborted");
          err.name = "AbortError";
          throw err;
        }
        curves.push({ epoch: e, trainLoss: 1 / (e + spec.seed), testAcc: base + e + spec.seed * 0.5 });
        hooks.onProgress(e, epochs);
      }
      return {
        spec,
        hyperparameters: { learningRate: spec.learningRate ?? 1e-3 },
        curves,
        final: {
          testAcc: base + epochs + spec.seed * 0.5 + (spec.learningRate ?? 0) * 100,
          trainLoss: 1 / (epochs + spec.seed),
          ...(options.validation
            ? { valAcc: fakeValAcc(spec.optimizer, spec.learningRate ?? 1e-3) + spec.seed * 0.1 }
            : {}),
        },
        timings: { totalSeconds: 0.01, perEpochSeconds: curves.map(() => 0.003) },
        versions: { fake: "1" },
      };
    },
  };
}
