/**
 * The x axis of a task's curves in the paper's units, and where the learning rate was decayed.
 *
 * - Toy runs: optimizer steps (a curve row's `epoch` is the step).
 * - GAN runs (and any task whose run files record `hyperparameters.interval`): generator steps. A curve row's
 *   `epoch` counts measurement intervals; the run file records the interval (generator steps per
 *   measurement), so row k is at k · interval steps.
 * - Everything else (CNN, LSTM): epochs, with a vertical rule at every learning-rate decay. The run file
 *   records the decays as update counts (`hyperparameters.lrSchedule`, `"×0.1 at updates 968, 1200"`); an
 *   update count u is epoch u / (updates per epoch), where the updates per epoch come from
 *   `hyperparameters.updatesPerEpoch` when a task records it, else from the recorded data size:
 *   ⌈trainImages / batchSize⌉ for image batches, ⌊⌊(trainChars − 1) / batchSize⌋ / bptt⌋ for the
 *   character streams of truncated back-propagation.
 *
 * @packageDocumentation
 */
import type { RunResult } from "../task.js";

/** How a task's curves are plotted. */
export interface CurveAxis {
  /** Title of the x axis. */
  label: string;
  /** Maps a curve row's `epoch` field of a run to the x value. */
  x(run: RunResult, epoch: number): number;
  /** Learning-rate decays to mark with a vertical rule: x value and label (e.g. `lr ×0.1`). */
  decays: { x: number; label: string }[];
  /** Whether x takes whole numbers only (ticks at whole numbers). */
  integer: boolean;
}

function num(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) && v > 0 ? v : null;
}

/** Parses `"×0.1 at updates 968, 1200"` into the factor and the update counts; null if it is not that. */
export function parseSchedule(text: unknown): { factor: string; updates: number[] } | null {
  if (typeof text !== "string") return null;
  const m = /^×\s*([0-9.eE+-]+) at updates ([0-9,\s]+)$/.exec(text.trim());
  if (!m) return null;
  const updates = m[2]!
    .split(",")
    .map((s) => Number(s.trim()))
    .filter((u) => Number.isInteger(u) && u > 0);
  return updates.length > 0 ? { factor: m[1]!, updates } : null;
}

/** Updates per epoch of a run, from what its file records (see the module documentation), or null. */
export function updatesPerEpoch(hp: Record<string, unknown>): number | null {
  const recorded = num(hp["updatesPerEpoch"]);
  if (recorded) return recorded;
  const batch = num(hp["batchSize"]);
  if (!batch) return null;
  const images = num(hp["trainImages"]);
  if (images) return Math.ceil(images / batch);
  const chars = num(hp["trainChars"]);
  const bptt = num(hp["bptt"]);
  if (chars && bptt) {
    const perEpoch = Math.floor(Math.floor((chars - 1) / batch) / bptt);
    return perEpoch > 0 ? perEpoch : null;
  }
  return null;
}

/** The learning-rate decays of one run, in epochs (empty when the run records none it can place). */
export function decayEpochs(run: RunResult): { epoch: number; factor: string }[] {
  const schedule = parseSchedule(run.hyperparameters["lrSchedule"]);
  const perEpoch = updatesPerEpoch(run.hyperparameters);
  if (!schedule || !perEpoch) return [];
  return schedule.updates.map((u) => ({ epoch: u / perEpoch, factor: schedule.factor }));
}

/** The curve axis of a task's runs (see the module documentation). */
export function curveAxis(task: string, runs: readonly RunResult[]): CurveAxis {
  if (task === "toy") return { label: "optimizer step", x: (_r, e) => e, decays: [], integer: true };
  const interval = (r: RunResult): number | null => num(r.hyperparameters["interval"]);
  if (runs.length > 0 && runs.every((r) => interval(r) !== null)) {
    const label = task.includes("gan") ? "generator step" : "step";
    return { label, x: (r, e) => e * interval(r)!, decays: [], integer: true };
  }
  if (task.includes("gan"))
    return { label: "measurement interval", x: (_r, e) => e, decays: [], integer: true };
  const seen = new Map<string, { x: number; label: string }>();
  for (const r of runs) {
    for (const d of decayEpochs(r)) {
      const x = Number(d.epoch.toPrecision(6));
      const key = `${x}|${d.factor}`;
      if (!seen.has(key)) seen.set(key, { x, label: `lr ×${d.factor}` });
    }
  }
  return {
    label: "epoch",
    x: (_r, e) => e,
    decays: [...seen.values()].sort((a, b) => a.x - b.x),
    integer: true,
  };
}
