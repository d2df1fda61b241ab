/**
 * One task's report, regenerated from every run file found: `<out>/<task>/report.md` with the summary table
 * (mean ± std over seeds, best in bold), the paper's numbers for context, a plain statement of where
 * AdaBelief did not win, SVG plots (curves with a ±std band, a bar chart with error bars; toy trajectories
 * over contours), the run settings and versions; `<out>/<task>/results.json` with every run (without the
 * task-specific `extra` payload, which stays in the run files); and
 * `<out>/<task>/summary.json` for the top-level README.
 *
 * @packageDocumentation
 */
import { rmSync, readdirSync, existsSync } from "node:fs";
import { basename, join } from "node:path";
import { readRuns, taskDir, unusedRunWarning, writeFileAtomic, writeJsonAtomic } from "../results.js";
import type { OptimizerName, RunResult, Task } from "../task.js";
import { cell, formatMeanStd, formatNumber, markdownTable, metricLabel, slug } from "./format.js";
import { OPTIMIZER_LABELS } from "./palette.js";
import { barSpec, curvesSpec, renderSvg } from "./plots.js";
import {
  best,
  byOptimizer,
  curveMetrics,
  curveStats,
  finalMetrics,
  finalStats,
  meanStd,
  type MeanStd,
} from "./stats.js";
import { toySection } from "./toy-report.js";

/** The parts of a {@link Task} a report needs. */
export type TaskMeta = Pick<Task, "name" | "title" | "headline" | "paperReference">;

/** One row of a task's summary: the headline metric of one optimizer. */
export interface SummaryRow {
  optimizer: OptimizerName;
  mean: number;
  std: number;
  n: number;
}

/** What the top-level README needs from a task report (stored as `<out>/<task>/summary.json`). */
export interface TaskSummary {
  task: string;
  title: string;
  headline: Task["headline"];
  rows: SummaryRow[];
  best: OptimizerName[];
  /** Plain sentences: where AdaBelief did not win (empty if it won everything the report looks at). */
  adabeliefDidNotWin: string[];
  /** Number of run files the report was made from. */
  runs: number;
  /** Sum of the runs' wall-clock times, in seconds. */
  totalRunSeconds: number;
  /** Distinct run settings found, e.g. `quick, epochs default, backend wasm`. */
  settings: string[];
  /** The headline bar chart, relative to the task folder. */
  barChart: string;
  generatedAt: string;
}

/** Sentences saying where AdaBelief did not win on a metric; empty if it was (one of) the best. */
export function didNotWinStatements(
  stats: Map<OptimizerName, MeanStd>,
  higherIsBetter: boolean,
  label: string,
): string[] {
  const ab = stats.get("adabelief");
  if (!ab) return stats.size > 0 ? [`AdaBelief has no result for ${label}.`] : [];
  const winners = best(stats, higherIsBetter);
  if (winners.includes("adabelief")) return [];
  const ranked = [...stats.entries()]
    .filter(([, s]) => Number.isFinite(s.mean))
    .sort(([, a], [, b]) => (higherIsBetter ? b.mean - a.mean : a.mean - b.mean));
  // Rank with ties: 1 + the number of optimizers strictly better than AdaBelief.
  const rank = 1 + ranked.filter(([, s]) => (higherIsBetter ? s.mean > ab.mean : s.mean < ab.mean)).length;
  const tied = ranked.filter(([n, s]) => n !== "adabelief" && s.mean === ab.mean).length;
  const w = winners[0]!;
  const ws = stats.get(w)!;
  const within = ws.n > 1 && ab.n > 1 && Math.abs(ws.mean - ab.mean) <= Math.max(ws.std, ab.std);
  return [
    `AdaBelief did not win on ${label}: ${winners.map((n) => OPTIMIZER_LABELS[n]).join(", ")} ` +
      `${winners.length > 1 ? "were" : "was"} best with ${formatMeanStd(ws)}; AdaBelief ranked ${rank} of ${ranked.length}${tied > 0 ? ` (tied with ${tied} other${tied > 1 ? "s" : ""})` : ""} ` +
      `with ${formatMeanStd(ab)}${within ? " (the gap is within one standard deviation)" : ""}.`,
  ];
}

function settingsOf(r: RunResult): string {
  const s = r.spec;
  return `${s.size}, epochs ${s.epochs ?? "default"}, backend ${s.backend}${s.learningRate !== undefined ? `, lr ${s.learningRate}` : ""}`;
}

/** The x axis of the curves: what `EpochMetrics.epoch` counts, per task (default `epoch`). */
const X_LABELS: Record<string, string> = { toy: "step", gan: "interval" };

/** Whether a curve metric is better shown on a log axis (all positive, spanning ≥ 2 decades). */
function wantsLog(points: { mean: number }[]): boolean {
  const v = points.map((p) => p.mean);
  if (v.length === 0 || v.some((x) => !(x > 0))) return false;
  return Math.max(...v) / Math.min(...v) >= 100;
}

/** Options of {@link writeTaskReport}. */
export interface TaskReportOptions {
  /**
   * Receives one line per run file not used (unreadable, malformed, another task's, or a duplicate),
   * naming the file; see {@link unusedRunWarning}. Called even when no usable run is left.
   */
  warn?: (line: string) => void;
}

/**
 * Regenerates one task's report from all run files under `<out>/<task>/runs` (see {@link readRuns}: a
 * malformed file or a duplicate is left out, listed in the report and passed to `options.warn`). Returns
 * its summary, or `null` if there are no usable runs. Every file is written atomically; stale SVGs of this
 * report are removed.
 */
export async function writeTaskReport(
  out: string,
  meta: TaskMeta,
  options: TaskReportOptions = {},
): Promise<TaskSummary | null> {
  const { runs, skipped } = readRuns(out, meta.name);
  for (const u of skipped) options.warn?.(unusedRunWarning(u));
  if (runs.length === 0) return null;
  const dir = taskDir(out, meta.name);
  const isToy = meta.name === "toy";
  const svgs = new Map<string, string>();
  const md: string[] = [];
  const { metric, higherIsBetter, label } = meta.headline;
  const headline = finalStats(runs, metric);
  const winners = best(headline, higherIsBetter);
  const groups = byOptimizer(runs);
  const settings = [...new Set(runs.map(settingsOf))];
  const statements = didNotWinStatements(headline, higherIsBetter, label);

  md.push(`# ${meta.title}\n`);
  md.push(
    `Made from ${runs.length} run file${runs.length === 1 ? "" : "s"} in [\`runs/\`](runs/) ` +
      `(${groups.size} optimizer${groups.size === 1 ? "" : "s"}, seeds per optimizer: ` +
      `${[...new Set([...groups.values()].map((g) => g.length))].join("/")}). ` +
      `Settings: ${settings.join("; ")}.` +
      (isToy
        ? " The toy task is deterministic (no data, fixed start), so a single seed is the whole result."
        : "") +
      "\n",
  );
  if (settings.length > 1) {
    md.push(
      `> **Warning:** the run files were made with different settings (${settings.join(" | ")}); the table mixes them.\n`,
    );
  }

  md.push(`## Summary: ${label}\n`);
  md.push(
    `Mean ± sample standard deviation over seeds; best in **bold** (${higherIsBetter ? "higher" : "lower"} is better).\n`,
  );
  const rows: SummaryRow[] = [];
  const tableRows: string[][] = [];
  for (const [name, group] of groups) {
    const s = headline.get(name);
    if (s) rows.push({ optimizer: name, mean: s.mean, std: s.std, n: s.n });
    const text = s ? formatMeanStd(s) : "–";
    const secs = meanStd(group.map((r) => r.timings.totalSeconds));
    tableRows.push([
      OPTIMIZER_LABELS[name],
      winners.includes(name) ? `**${text}**` : text,
      String(group.length),
      formatNumber(Number(secs.mean.toFixed(secs.mean < 10 ? 2 : 0))),
    ]);
  }
  md.push(
    markdownTable(["optimizer", cell(label), "seeds", "seconds per run"], tableRows, ["l", "r", "r", "r"]),
  );
  md.push("");
  md.push(
    statements.length > 0
      ? statements.join(" ") + "\n"
      : headline.size > 1
        ? `AdaBelief was best on ${label}.\n`
        : `Only one optimizer has runs here: nothing to compare.\n`,
  );
  const barFile = `final-${slug(metric)}.svg`;
  svgs.set(barFile, await renderSvg(barSpec(headline, { title: `${meta.title}: ${label}`, label })));
  md.push(`![${label}](${barFile})\n`);

  if (meta.paperReference) {
    md.push(`## The paper, for context\n`);
    md.push(`${meta.paperReference.trim()}\n`);
    md.push(
      `The paper's numbers come from other data sets and far larger budgets; they are context, not targets.\n`,
    );
  }

  let toyStatements: string[] = [];
  if (isToy) {
    const toy = await toySection(runs);
    md.push(toy.markdown);
    for (const [f, svg] of toy.svgs) svgs.set(f, svg);
    toyStatements = toy.statements;
  }

  const otherFinal = finalMetrics(runs).filter((m) => m !== metric);
  if (!isToy && otherFinal.length > 0) {
    md.push(`## Other final metrics\n`);
    const statsBy = otherFinal.map((m) => finalStats(runs, m));
    md.push(
      markdownTable(
        ["optimizer", ...otherFinal.map((m) => cell(metricLabel(m)))],
        [...groups.keys()].map((name) => [
          OPTIMIZER_LABELS[name],
          ...statsBy.map((s) => (s.get(name) ? formatMeanStd(s.get(name)!) : "–")),
        ]),
        ["l", ...otherFinal.map(() => "r" as const)],
      ),
    );
    md.push("");
  }

  // Counters (the step or update number of an interval) are x values, not metrics: not plotted.
  const counters = new Set(["step", "steps", "update", "updates", "iteration", "iterations"]);
  const curveKeys = curveMetrics(runs).filter((m) => (!isToy || m.startsWith("dist_")) && !counters.has(m));
  if (curveKeys.length > 0) {
    md.push(`## Curves\n`);
    md.push(`Mean over seeds; the shaded band is ± one standard deviation.\n`);
    for (const key of curveKeys) {
      const points = curveStats(runs, key);
      if (points.length === 0) continue;
      const file = `curve-${slug(key)}.svg`;
      const yLabel = isToy ? `distance to the minimum (${key.slice(5)})` : metricLabel(key);
      svgs.set(
        file,
        await renderSvg(
          curvesSpec(points, {
            title: `${meta.title}: ${yLabel}`,
            xLabel: X_LABELS[meta.name] ?? "epoch",
            yLabel,
            logY: wantsLog(points),
          }),
        ),
      );
      md.push(`![${cell(yLabel)}](${file})\n`);
    }
  }

  md.push(`## Settings\n`);
  md.push(`Exactly what each optimizer received (from the first run file of each optimizer).\n`);
  md.push(
    markdownTable(
      ["optimizer", "hyper-parameters"],
      [...groups.entries()].map(([name, g]) => [
        OPTIMIZER_LABELS[name],
        `\`${cell(JSON.stringify(g[0]!.hyperparameters))}\``,
      ]),
    ),
  );
  md.push("");
  const versions = [...new Set(runs.map((r) => JSON.stringify(r.versions)))];
  md.push(`Versions: ${versions.map((v) => `\`${cell(v)}\``).join("; ")}.\n`);
  const total = runs.reduce((a, r) => a + r.timings.totalSeconds, 0);
  md.push(`Total run time of these files: ${formatNumber(Number(total.toFixed(1)))} s.\n`);
  if (skipped.length > 0) {
    md.push(
      `Run files not used: ${skipped.map((u) => `\`${cell(`runs/${basename(u.file)}: ${u.reason}`)}\``).join("; ")}.\n`,
    );
  }

  // Remove SVGs of an earlier report that this one no longer makes, then write everything atomically.
  if (existsSync(dir)) {
    for (const f of readdirSync(dir))
      if (f.endsWith(".svg") && !svgs.has(f)) rmSync(join(dir, f), { force: true });
  }
  for (const [f, svg] of svgs) writeFileAtomic(join(dir, f), svg);
  writeFileAtomic(join(dir, "report.md"), md.join("\n"));
  writeJsonAtomic(join(dir, "results.json"), {
    task: meta.name,
    title: meta.title,
    headline: meta.headline,
    runs,
  });
  const summary: TaskSummary = {
    task: meta.name,
    title: meta.title,
    headline: meta.headline,
    rows,
    best: winners,
    adabeliefDidNotWin: [...statements, ...toyStatements],
    runs: runs.length,
    totalRunSeconds: total,
    settings,
    barChart: barFile,
    generatedAt: new Date().toISOString(),
  };
  writeJsonAtomic(join(dir, "summary.json"), summary);
  return summary;
}
