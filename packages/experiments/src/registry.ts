/**
 * The suite's tasks, loaded lazily so that the CLI starts fast and a task whose module is missing or broken
 * only makes that task unavailable.
 *
 * @packageDocumentation
 */
import type { Task } from "./task.js";

/**
 * Loaders of every task of the reproduction suite, by name, in the suite's order (toy, cnn, lstm, gan).
 * Each module `./tasks/<name>.js` exports `task: Task`.
 */
export const TASKS: Record<string, () => Promise<Task>> = {
  toy: async () => (await import("./tasks/toy.js")).task,
  cnn: async () => (await import("./tasks/cnn.js")).task,
  lstm: async () => (await import("./tasks/lstm.js")).task,
  gan: async () => (await import("./tasks/gan.js")).task,
};

/** Names of the registered tasks, in the suite's order. */
export const TASK_NAMES: readonly string[] = Object.freeze(Object.keys(TASKS));
