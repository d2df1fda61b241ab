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

/** The optimizers whose mean is best (ties included); empty if there are no finite means. */
export function best(stats: Map<OptimizerName, MeanStd>, higherIsBetter: boolean): OptimizerName[] {
  let top = higherIsBetter ? -Infinity : Infinity;
  for (const s of stats.values()) {
    if (Number.isFinite(s.mean) && (higherIsBetter ? s.mean > top : s.mean < top)) top = s.mean;
  }
  return [...stats.entries()].filter(([, s]) => s.mean === top).map(([n]) => n);
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

/** Aggregates one curve metric over seeds, per optimizer and epoch. */
export function curveStats(runs: readonly RunResult[], metric: string): CurvePoint[] {
  const points: CurvePoint[] = [];
  for (const [name, group] of byOptimizer(runs)) {
    const perEpoch = new Map<number, number[]>();
    for (const r of group) {
      for (const row of r.curves) {
        const v = row[metric];
        if (typeof v === "number" && Number.isFinite(v)) {
          const list = perEpoch.get(row.epoch) ?? [];
          list.push(v);
          perEpoch.set(row.epoch, list);
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
