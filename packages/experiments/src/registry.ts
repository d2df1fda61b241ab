/**
 * The suite's tasks, loaded lazily so that the CLI starts fast and a task whose module is missing or broken
 * only makes that task unavailable.
 *
 * @packageDocumentation
 */
import type { Task } from "./task.js";

/**
 * Loaders of every task of the reproduction suite, by name, in the reports' order. Each module
 * `./tasks/<name>.js` exports `task: Task` (`word-lm.js` also `task2`/`task3`, `wgan.js` its variants).
 * `gan` (the earlier non-saturating MLP GAN) and the `-tuned` WGAN variants are registered, so they can be
 * run and their results reported, but are not part of the `suite` command ({@link SUITE_TASK_NAMES}).
 */
export const TASKS: Record<string, () => Promise<Task>> = {
  toy: async () => (await import("./tasks/toy.js")).task,
  cnn: async () => (await import("./tasks/cnn.js")).task,
  lstm: async () => (await import("./tasks/lstm.js")).task,
  "word-lm": async () => (await import("./tasks/word-lm.js")).task,
  "word-lm-2": async () => (await import("./tasks/word-lm.js")).task2,
  "word-lm-3": async () => (await import("./tasks/word-lm.js")).task3,
  wgan: async () => (await import("./tasks/wgan.js")).task,
  "wgan-gp": async () => (await import("./tasks/wgan.js")).wganGpTask,
  "wgan-tuned": async () => (await import("./tasks/wgan.js")).wganTunedTask,
  "wgan-gp-tuned": async () => (await import("./tasks/wgan.js")).wganGpTunedTask,
  gan: async () => (await import("./tasks/gan.js")).task,
};

/** Names of the registered tasks, in the reports' order. */
export const TASK_NAMES: readonly string[] = Object.freeze(Object.keys(TASKS));

/**
 * The tasks of the `suite` command (and `npm start`), in order: the paper's experiments as we reproduce
 * them. Not in it: `gan` (superseded by `wgan`/`wgan-gp`, the paper's protocol; kept so that its earlier
 * results can still be rerun and reported) and the `-tuned` variants (not the paper's settings).
 */
export const SUITE_TASK_NAMES: readonly string[] = Object.freeze([
  "toy",
  "cnn",
  "lstm",
  "word-lm",
  "word-lm-2",
  "word-lm-3",
  "wgan",
  "wgan-gp",
]);
