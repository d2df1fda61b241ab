/**
 * Statistics over seeds for the reports: mean and sample standard deviation of final metrics and of curves.
 *
 * @packageDocumentation
 */
import { OPTIMIZERS, type OptimizerName, type RunResult } from "../task.js";

/** Mean, sample standard deviation (n − 1; 0 for one value) and count of a list of numbers. */
export interface MeanStd {
  mean: number;
  std: number;
  n: number;
}

/** Mean and sample standard deviation of `values` (NaN mean for an empty list). */
export function meanStd(values: readonly number[]): MeanStd {
  const n = values.length;
  if (n === 0) return { mean: Number.NaN, std: Number.NaN, n: 0 };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std, n };
}

/** Runs grouped by optimizer, in the suite's optimizer order (optimizers without runs are left out). */
export function byOptimizer(runs: readonly RunResult[]): Map<OptimizerName, RunResult[]> {
  const groups = new Map<OptimizerName, RunResult[]>();
  for (const name of OPTIMIZERS) {
    const g = runs.filter((r) => r.spec.optimizer === name);
    if (g.length > 0) groups.set(name, g);
  }
  return groups;
}

/** Mean ± std over seeds of one final metric, per optimizer (runs lacking the metric are left out). */
export function finalStats(runs: readonly RunResult[], metric: string): Map<OptimizerName, MeanStd> {
  const out = new Map<OptimizerName, MeanStd>();
  for (const [name, group] of byOptimizer(runs)) {
    const values = group
      .map((r) => r.final[metric])
      .filter((v): v is number => typeof v === "number" && Number.isFinite(v));
    if (values.length > 0) out.set(name, meanStd(values));
  }
  return out;
}

/**
 * The optimizers whose mean is best (ties included); empty if there are no finite means. Optimizers in
 * `notCredited` (say, those with a diverged run) are never best.
 */
export function best(
  stats: Map<OptimizerName, MeanStd>,
  higherIsBetter: boolean,
  notCredited: ReadonlySet<OptimizerName> = new Set(),
): OptimizerName[] {
  let top = higherIsBetter ? -Infinity : Infinity;
  for (const [name, s] of stats) {
    if (notCredited.has(name)) continue;
    if (Number.isFinite(s.mean) && (higherIsBetter ? s.mean > top : s.mean < top)) top = s.mean;
  }
  return [...stats.entries()].filter(([name, s]) => s.mean === top && !notCredited.has(name)).map(([n]) => n);
}

/** Whether a run diverged (its `final.diverged` is set). */
export function diverged(run: RunResult): boolean {
  return Boolean(run.final["diverged"]);
}

/**
 * Whether a group of runs (one optimizer's seeds) all gave identical results, curves and final metrics
 * alike: a deterministic task, whose seeds change nothing. False for a single run.
 */
export function identicalRuns(group: readonly RunResult[]): boolean {
  if (group.length < 2) return false;
  const key = (r: RunResult): string => JSON.stringify([r.final, r.curves]);
  const first = key(group[0]!);
  return group.every((r) => key(r) === first);
}

/** The values of one final metric per seed, for the runs that have a finite value. */
export function valuesBySeed(group: readonly RunResult[], metric: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const r of group) {
    const v = r.final[metric];
    if (typeof v === "number" && Number.isFinite(v)) out.set(r.spec.seed, v);
  }
  return out;
}

/** One point of an aggregated curve: mean and mean ± std over the seeds that have the metric at that epoch. */
export interface CurvePoint {
  optimizer: OptimizerName;
  epoch: number;
  mean: number;
  lo: number;
  hi: number;
  n: number;
}

/**
 * Aggregates one curve metric over seeds, per optimizer and x value; `x` maps a run's curve row (its
 * `epoch` field) to the plot's x value (default: the `epoch` field itself). `CurvePoint.epoch` is that x.
 */
export function curveStats(
  runs: readonly RunResult[],
  metric: string,
  x: (run: RunResult, epoch: number) => number = (_r, e) => e,
): CurvePoint[] {
  const points: CurvePoint[] = [];
  for (const [name, group] of byOptimizer(runs)) {
    const perEpoch = new Map<number, number[]>();
    for (const r of group) {
      for (const row of r.curves) {
        const v = row[metric];
        if (typeof v === "number" && Number.isFinite(v)) {
          const at = x(r, row.epoch);
          const list = perEpoch.get(at) ?? [];
          list.push(v);
          perEpoch.set(at, list);
        }
      }
    }
    for (const epoch of [...perEpoch.keys()].sort((a, b) => a - b)) {
      const s = meanStd(perEpoch.get(epoch)!);
      points.push({ optimizer: name, epoch, mean: s.mean, lo: s.mean - s.std, hi: s.mean + s.std, n: s.n });
    }
  }
  return points;
}

/** The curve metrics present in any run (every key but `epoch`), in first-seen order. */
export function curveMetrics(runs: readonly RunResult[]): string[] {
  const seen = new Set<string>();
  for (const r of runs)
    for (const row of r.curves) for (const k of Object.keys(row)) if (k !== "epoch") seen.add(k);
  return [...seen];
}

/** The final metrics present in any run, in first-seen order. */
export function finalMetrics(runs: readonly RunResult[]): string[] {
  const seen = new Set<string>();
  for (const r of runs) for (const k of Object.keys(r.final)) seen.add(k);
  return [...seen];
}
