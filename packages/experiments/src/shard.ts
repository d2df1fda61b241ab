/**
 * Spreading the runs of one command over several machines: `--shard k/n` makes a command do only the k-th
 * of n parts of its runs, into its own `--out` folder; `report --from` merges the folders afterwards.
 *
 * The assignment: every run the command would make — (task, learning rate, optimizer, seed) — is put in one
 * fixed order (tasks in the suite's order, then learning rates ascending, optimizers in the suite's order,
 * seeds ascending), and the run at position i (from 0) goes to shard `i mod n + 1`. It depends only on the
 * command's run list, not on what is on disk, so a resumed shard does the same runs; the shards' sizes
 * differ by at most one; and consecutive runs of one optimizer (its seeds) go to different machines, which
 * spreads slow and fast optimizers evenly. Every shard must be given the same run-selecting options
 * (tasks, `--optimizers`, `--seeds`, `--lrs`, size, epochs, backend); only `--shard` and `--out` differ.
 *
 * @packageDocumentation
 */
import { TASK_NAMES } from "./registry.js";
import { OPTIMIZERS, type RunSpec } from "./task.js";

/** One part of a command's runs: the `index`-th (from 1) of `count`. */
export interface Shard {
  index: number;
  count: number;
}

/** Most shards a command may be split into. */
export const MAX_SHARDS = 10_000;

/**
 * Parses `k/n` (1 ≤ k ≤ n ≤ {@link MAX_SHARDS}). Throws a RangeError with a one-line message otherwise.
 */
export function parseShard(text: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!m) throw new RangeError(`--shard must be k/n (e.g. 2/3), got "${text}"`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (!(count >= 1 && count <= MAX_SHARDS))
    throw new RangeError(`--shard: n must be from 1 to ${MAX_SHARDS}, got "${text}"`);
  if (!(index >= 1 && index <= count)) throw new RangeError(`--shard: k must be from 1 to n, got "${text}"`);
  return { index, count };
}

/** `k/n`. */
export function formatShard(shard: Shard): string {
  return `${shard.index}/${shard.count}`;
}

/** A run's identity within a command: task, learning rate, optimizer and seed. */
export function runKey(spec: Pick<RunSpec, "task" | "optimizer" | "seed" | "learningRate">): string {
  return `${spec.task}|${spec.learningRate ?? "default"}|${spec.optimizer}|${spec.seed}`;
}

function taskRank(task: string): number {
  const i = TASK_NAMES.indexOf(task);
  return i < 0 ? TASK_NAMES.length : i;
}

/** The fixed order of runs that shards are assigned from (see the module documentation). */
export function compareRuns(a: RunSpec, b: RunSpec): number {
  return (
    taskRank(a.task) - taskRank(b.task) ||
    (a.task < b.task ? -1 : a.task > b.task ? 1 : 0) ||
    (a.learningRate ?? 0) - (b.learningRate ?? 0) ||
    OPTIMIZERS.indexOf(a.optimizer) - OPTIMIZERS.indexOf(b.optimizer) ||
    a.seed - b.seed
  );
}

/**
 * The shard (1 … `count`) of every run of a command, by {@link runKey}: position in the order of
 * {@link compareRuns}, modulo `count`. Throws if a run is listed twice.
 */
export function assignShards(specs: readonly RunSpec[], count: number): Map<string, number> {
  if (!Number.isSafeInteger(count) || count < 1)
    throw new RangeError(`assignShards: count must be a positive integer, got ${count}`);
  const sorted = [...specs].sort(compareRuns);
  const out = new Map<string, number>();
  sorted.forEach((spec, i) => {
    const key = runKey(spec);
    if (out.has(key)) throw new RangeError(`assignShards: the run ${key} is listed twice`);
    out.set(key, (i % count) + 1);
  });
  return out;
}

/** The runs of `specs` that belong to `shard`, in their given order. */
export function shardRuns(specs: readonly RunSpec[], shard: Shard): RunSpec[] {
  const assigned = assignShards(specs, shard.count);
  return specs.filter((s) => assigned.get(runKey(s)) === shard.index);
}
