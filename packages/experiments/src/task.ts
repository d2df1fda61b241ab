/**
 * The contract between the reproduction suite (CLI, runner, reports) and its tasks (toy 2-D problems,
 * image classification, language modelling, GAN). Every task module exports `task: Task`; the suite calls
 * {@link Task.run} once per (optimizer, seed) and stores the {@link RunResult} as one JSON file.
 *
 * @packageDocumentation
 */
import { OPTIMIZER_NAMES, type OptimizerName } from "adabelief";
import type { RunProvenance } from "./provenance.js";

/** Size of a suite run: `quick` (minutes on a laptop, reduced data and epochs) or `full`. */
export type Size = "quick" | "full";

/** The nine optimizers the paper compares, by the library's short names (its registry). */
export type { OptimizerName };

/**
 * The paper's nine optimizers in a fixed order (the order of tables, legends and colours), the library's
 * registry order: SGD with momentum, Adam, AdamW, Yogi, AdaBound, RAdam, MSVAG, Fromage, AdaBelief.
 */
export const OPTIMIZERS: readonly OptimizerName[] = OPTIMIZER_NAMES;

/** Everything that determines one run; stored inside its result file so a resume can check it. */
export interface RunSpec {
  /** Task name: `"toy"`, `"cnn"`, `"lstm"` or `"gan"`. */
  task: string;
  /** Which optimizer trains. */
  optimizer: OptimizerName;
  /** Seed of data order, initialisation and sampling (toy runs are deterministic and ignore it). */
  seed: number;
  /** Suite size; selects the task's default epochs and data sizes. */
  size: Size;
  /** Override of the size's default number of epochs (or steps/intervals, per task). */
  epochs?: number;
  /** TensorFlow.js backend the task trains on (ignored by tasks that do not use TensorFlow.js). */
  backend: "cpu" | "wasm";
  /** Learning-rate override, used by an optional sweep (selection on validation only). */
  learningRate?: number;
}

/** Metrics recorded at the end of one epoch (or interval), e.g. `trainLoss`, `testAcc`, `valPpl`, `fd`. */
export interface EpochMetrics {
  /** Epoch (or interval) number, starting at 1 (0 may denote the initial state). */
  epoch: number;
  [metric: string]: number;
}

/** What one run produces; serialised as `<out>/<task>/runs/<optimizer>-seed<k>.json`. */
export interface RunResult {
  /** The spec the run was made with. */
  spec: RunSpec;
  /** Exactly the options the optimizer received. */
  hyperparameters: Record<string, unknown>;
  /** Per epoch (or per interval for GAN/toy). */
  curves: EpochMetrics[];
  /** Headline metrics, e.g. `{ testAcc }`, `{ testPpl }`, `{ fd }`. */
  final: Record<string, number>;
  /** Task-specific payload (e.g. toy trajectories). */
  extra?: unknown;
  /** Wall-clock timings in seconds. */
  timings: { totalSeconds: number; perEpochSeconds: number[] };
  /** Versions of node, tfjs, adabelief and the backend used. */
  versions: Record<string, string>;
  /**
   * How and where the run was made: commit (and whether the tree was dirty), CPU, cores, command line,
   * shard, start and end. Added by the suite when it stores the run (tasks leave it out); absent in run
   * files made before it was recorded.
   */
  provenance?: RunProvenance;
}

/** Callbacks the suite hands to a running task. */
export interface ProgressHooks {
  /** Reports progress; drives the progress bar with ETA. `detail` is a short status (e.g. current loss). */
  onProgress(done: number, total: number, detail?: string): void;
  /** Aborted on Ctrl-C: the task should stop early (throwing is fine; the unfinished run is not written). */
  signal?: AbortSignal;
}

/** One experiment of the reproduction suite. */
export interface Task {
  /** Short name used on the command line and in paths (`toy`, `cnn`, `lstm`, `gan`). */
  name: string;
  /** Human-readable title for reports. */
  title: string;
  /** The metric of the summary table, and whether higher is better. */
  headline: { metric: string; higherIsBetter: boolean; label: string };
  /**
   * The metric a learning-rate sweep selects on (a validation-split metric of `RunResult.final`); absent
   * for tasks without a validation split (toy, GAN), which cannot be swept.
   */
  validation?: { metric: string; higherIsBetter: boolean; label: string };
  /** Markdown: the paper's numbers for context. */
  paperReference?: string;
  /** Default number of seeds per size (`full` >= 3). */
  defaultSeeds: Record<Size, number>;
  /** Performs one run. Must not write files; the suite stores the result. */
  run(spec: RunSpec, hooks: ProgressHooks): Promise<RunResult>;
}
