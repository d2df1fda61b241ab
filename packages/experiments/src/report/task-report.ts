/**
 * One task's report, regenerated from every run file found: `<out>/<task>/report.md` with the summary table
 * (mean ± std over seeds, 95 % confidence intervals of the mean, best in bold; a task whose seeds all gave
 * identical results is shown once, without a spread), differences against Adam and against SGD paired by
 * seed with their confidence intervals, the paper's numbers for context, a plain statement of where
 * AdaBelief did not win, SVG plots (curves in the paper's units with a ±std band and the learning-rate
 * decays marked, a bar chart with error bars; toy trajectories over contours), the run settings, how the
 * runs were made (commands, commits, machines, compute) and versions; `<out>/<task>/results.json` with every
 * run; and `<out>/<task>/summary.json` for the top-level README.
 *
 * A run that diverged is never credited: an optimizer with a diverged run is not marked best.
 *
 * @packageDocumentation
 */
import { rmSync, readdirSync, existsSync } from "node:fs";
import { basename, join } from "node:path";
import { readRuns, taskDir, unusedRunWarning, writeFileAtomic, writeJsonAtomic } from "../results.js";
import type { OptimizerName, RunResult, Task } from "../task.js";
import { curveAxis } from "./axes.js";
import { cell, formatMeanStd, formatNumber, markdownTable, metricLabel, slug } from "./format.js";
import { bootstrapMeanInterval, DEFAULT_RESAMPLES, pairedDifference, tInterval } from "./inference.js";
import { OPTIMIZER_LABELS } from "./palette.js";
import { barSpec, curvesSpec, renderSvg } from "./plots.js";
import {
  provenanceMarkdown,
  summarizeProvenance,
  type FolderCommands,
  type ProvenanceSummary,
} from "./provenance.js";
import {
  best,
  byOptimizer,
  curveMetrics,
  curveStats,
  diverged,
  finalMetrics,
  finalStats,
  identicalRuns,
  meanStd,
  valuesBySeed,
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
  /** Number of distinct results: the seeds with a value, or 1 when they were all identical. */
  n: number;
  /** Run files (seeds) of the optimizer. */
  seeds?: number;
  /** Every seed gave the same result (a deterministic task): the value is shown once. */
  identical?: boolean;
  /** Runs that diverged; an optimizer with any is never marked best. */
  diverged?: number;
  /** 95 % t-interval of the mean (two or more distinct seeds). */
  ci?: { lo: number; hi: number };
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
  /** Every optimizer's seeds gave identical results (each value is shown once). */
  deterministic?: boolean;
  /** How the run files were made (commands, commits, machines, times). */
  provenance?: ProvenanceSummary;
  generatedAt: string;
}

/**
 * Sentences saying where AdaBelief did not win on a metric; empty if it was (one of) the best. Optimizers
 * in `notCredited` (with a diverged run) are never best; AdaBelief among them is said to be so.
 */
export function didNotWinStatements(
  stats: Map<OptimizerName, MeanStd>,
  higherIsBetter: boolean,
  label: string,
  notCredited: ReadonlySet<OptimizerName> = new Set(),
): string[] {
  const ab = stats.get("adabelief");
  if (!ab) return stats.size > 0 ? [`AdaBelief has no result for ${label}.`] : [];
  const winners = best(stats, higherIsBetter, notCredited);
  if (winners.includes("adabelief")) return [];
  const ranked = [...stats.entries()]
    .filter(([, s]) => Number.isFinite(s.mean))
    .sort(([, a], [, b]) => (higherIsBetter ? b.mean - a.mean : a.mean - b.mean));
  // Rank with ties: 1 + the number of optimizers strictly better than AdaBelief.
  const rank = 1 + ranked.filter(([, s]) => (higherIsBetter ? s.mean > ab.mean : s.mean < ab.mean)).length;
  const tied = ranked.filter(([n, s]) => n !== "adabelief" && s.mean === ab.mean).length;
  const uncredited = notCredited.has("adabelief") ? " (a run of it diverged, so it is not credited)" : "";
  const w = winners[0];
  if (w === undefined)
    return [`AdaBelief did not win on ${label}: no optimizer is credited (each has a diverged run).`];
  const ws = stats.get(w)!;
  const within = ws.n > 1 && ab.n > 1 && Math.abs(ws.mean - ab.mean) <= Math.max(ws.std, ab.std);
  return [
    `AdaBelief did not win on ${label}: ${winners.map((n) => OPTIMIZER_LABELS[n]).join(", ")} ` +
      `${winners.length > 1 ? "were" : "was"} best with ${formatMeanStd(ws)}; AdaBelief ranked ${rank} of ${ranked.length}${tied > 0 ? ` (tied with ${tied} other${tied > 1 ? "s" : ""})` : ""} ` +
      `with ${formatMeanStd(ab)}${within ? " (the gap is within one standard deviation)" : ""}${uncredited}.`,
  ];
}

function settingsOf(r: RunResult): string {
  const s = r.spec;
  return `${s.size}, epochs ${s.epochs ?? "default"}, backend ${s.backend}${s.learningRate !== undefined ? `, lr ${s.learningRate}` : ""}`;
}

/** Whether a curve metric is better shown on a log axis (all positive, spanning ≥ 2 decades). */
function wantsLog(points: { mean: number }[]): boolean {
  const v = points.map((p) => p.mean);
  if (v.length === 0 || v.some((x) => !(x > 0))) return false;
  return Math.max(...v) / Math.min(...v) >= 100;
}

/** A number with a typographic minus sign: `−1.3`. */
function withMinus(v: number): string {
  return formatNumber(v).replace(/^-/, "−");
}

/** `[lo, hi]` with the report's number format. */
function formatInterval(i: { lo: number; hi: number } | null | undefined): string {
  return i ? `[${withMinus(i.lo)}, ${withMinus(i.hi)}]` : "–";
}

/** A signed number: `+0.42`, `−1.3`, `0`. */
function signed(v: number): string {
  return v > 0 ? `+${formatNumber(v)}` : withMinus(v);
}

/** Options of {@link writeTaskReport}. */
export interface TaskReportOptions {
  /**
   * Receives one line per run file not used (unreadable, malformed, another task's, or a duplicate),
   * naming the file; see {@link unusedRunWarning}. Called even when no usable run is left.
   */
  warn?: (line: string) => void;
  /** Commands listed by hand for run files that do not record theirs (the folder's `commands.json`). */
  folderCommands?: FolderCommands | null;
  /** The command that writes this report, when it is not the one that made the runs (`report`). */
  reportCommand?: string;
}

/** The paired-difference tables against `reference` (Adam, SGD): Markdown, or "" when nothing pairs. */
function pairedSection(
  groups: Map<OptimizerName, RunResult[]>,
  reference: OptimizerName,
  meta: TaskMeta,
  identical: ReadonlySet<OptimizerName>,
): string {
  const ref = groups.get(reference);
  if (!ref || identical.has(reference)) return "";
  const { metric, higherIsBetter } = meta.headline;
  const refValues = valuesBySeed(ref, metric);
  const rows: string[][] = [];
  for (const [name, group] of groups) {
    if (name === reference || identical.has(name)) continue;
    const d = pairedDifference(valuesBySeed(group, metric), refValues);
    if (!d || !d.t) continue;
    const better = higherIsBetter ? d.t.lo > 0 : d.t.hi < 0;
    const worse = higherIsBetter ? d.t.hi < 0 : d.t.lo > 0;
    rows.push([
      OPTIMIZER_LABELS[name],
      String(d.seeds.length),
      signed(d.mean),
      formatInterval(d.t),
      formatInterval(d.bootstrap),
      d.differences.every((x) => x === 0)
        ? "identical results"
        : better
          ? "better"
          : worse
            ? "worse"
            : "no clear difference",
    ]);
  }
  if (rows.length === 0) return "";
  return (
    `### Against ${OPTIMIZER_LABELS[reference]}\n\n` +
    markdownTable(
      [
        "optimizer",
        "pairs",
        `mean difference (optimizer − ${OPTIMIZER_LABELS[reference]})`,
        "95 % CI (t)",
        "95 % CI (bootstrap)",
        "reading (t-interval)",
      ],
      rows,
      ["l", "r", "r", "r", "r", "l"],
    )
  );
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
  const groups = byOptimizer(runs);
  // Optimizers whose seeds all gave identical results: one value, no spread, no interval.
  const identical = new Set([...groups].filter(([, g]) => identicalRuns(g)).map(([n]) => n));
  const deterministic = groups.size > 0 && identical.size === groups.size;
  const oneResult = (name: OptimizerName, s: MeanStd): MeanStd =>
    identical.has(name) ? { mean: s.mean, std: 0, n: Math.min(s.n, 1) } : s;
  const shown = (m: string): Map<OptimizerName, MeanStd> =>
    new Map([...finalStats(runs, m)].map(([n, s]) => [n, oneResult(n, s)]));
  const headline = shown(metric);
  const divergedCount = new Map([...groups].map(([n, g]) => [n, g.filter(diverged).length]));
  const notCredited = new Set([...divergedCount].filter(([, k]) => k > 0).map(([n]) => n));
  const winners = best(headline, higherIsBetter, notCredited);
  const settings = [...new Set(runs.map(settingsOf))];
  const statements = didNotWinStatements(headline, higherIsBetter, label, notCredited);
  // Confidence intervals need two or more distinct results of one optimizer.
  const withSpread = [...groups].some(([n, g]) => !identical.has(n) && valuesBySeed(g, metric).size > 1);
  const seedCounts = [...new Set([...groups.values()].map((g) => g.length))];

  md.push(`# ${meta.title}\n`);
  md.push(
    `Made from ${runs.length} run file${runs.length === 1 ? "" : "s"} in [\`runs/\`](runs/) ` +
      `(${groups.size} optimizer${groups.size === 1 ? "" : "s"}, seeds per optimizer: ` +
      `${seedCounts.join("/")}). Settings: ${settings.join("; ")}.\n`,
  );
  if (deterministic) {
    md.push(
      `Every optimizer's ${seedCounts.join("/")} seeds gave identical results (the task is deterministic), ` +
        `so each result is shown once, without a spread or a confidence interval.\n`,
    );
  } else if (identical.size > 0) {
    md.push(
      `The seeds of ${[...identical].map((n) => OPTIMIZER_LABELS[n]).join(", ")} gave identical results: ` +
        `shown once, without a spread.\n`,
    );
  }
  if (settings.length > 1) {
    md.push(
      `> **Warning:** the run files were made with different settings (${settings.join(" | ")}); the table mixes them.\n`,
    );
  }

  md.push(`## Summary: ${label}\n`);
  if (withSpread) {
    md.push(
      `Mean ± sample standard deviation over seeds, and the 95 % confidence interval of the mean two ways: ` +
        `Student's t-interval, and a percentile bootstrap (${DEFAULT_RESAMPLES.toLocaleString("en-US")} ` +
        `resamples, seeded). With few seeds the bootstrap interval is too narrow (3 values have only 10 ` +
        `distinct resamples): read the t-interval. Best mean in **bold** ` +
        `(${higherIsBetter ? "higher" : "lower"} is better).\n`,
    );
  } else {
    md.push(
      (deterministic
        ? "One result per optimizer"
        : "One seed per optimizer: no spread or confidence interval can be given") +
        `; best in **bold** (${higherIsBetter ? "higher" : "lower"} is better).\n`,
    );
  }
  if (notCredited.size > 0)
    md.push(
      `A run that diverged is never credited: ${[...notCredited].map((n) => OPTIMIZER_LABELS[n]).join(", ")} ` +
        `had diverged runs and cannot be marked best.\n`,
    );
  const rows: SummaryRow[] = [];
  const tableRows: string[][] = [];
  for (const [name, group] of groups) {
    const s = headline.get(name);
    const values = [...valuesBySeed(group, metric).values()];
    const t = identical.has(name) ? null : tInterval(values);
    const boot = identical.has(name) ? null : bootstrapMeanInterval(values);
    const k = divergedCount.get(name) ?? 0;
    if (s) {
      const row: SummaryRow = { optimizer: name, mean: s.mean, std: s.std, n: s.n, seeds: group.length };
      if (identical.has(name)) row.identical = true;
      if (k > 0) row.diverged = k;
      if (t) row.ci = { lo: t.lo, hi: t.hi };
      rows.push(row);
    }
    const text = s ? formatMeanStd(s) : "–";
    const secs = meanStd(group.map((r) => r.timings.totalSeconds));
    const seedsText =
      `${group.length}` + (identical.has(name) ? " (identical)" : "") + (k > 0 ? ` (${k} diverged)` : "");
    tableRows.push([
      OPTIMIZER_LABELS[name],
      winners.includes(name) ? `**${text}**` : text,
      ...(withSpread ? [formatInterval(t), formatInterval(boot)] : []),
      seedsText,
      formatNumber(Number(secs.mean.toFixed(secs.mean < 10 ? 2 : 0))),
    ]);
  }
  md.push(
    markdownTable(
      [
        "optimizer",
        cell(label),
        ...(withSpread ? ["95 % CI (t)", "95 % CI (bootstrap)"] : []),
        "seeds",
        "seconds per run",
      ],
      tableRows,
      ["l", "r", ...(withSpread ? (["r", "r"] as const) : []), "r", "r"],
    ),
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
  svgs.set(
    barFile,
    await renderSvg(barSpec(headline, { title: `${meta.title}: ${label}`, label, errorBars: withSpread })),
  );
  md.push(`![${label}](${barFile})\n`);
  if (withSpread) md.push(`The bars show the mean; the whiskers ± one standard deviation over seeds.\n`);

  if (withSpread) {
    const paired = (["adam", "sgd"] as const)
      .map((ref) => pairedSection(groups, ref, meta, identical))
      .filter((t) => t.length > 0);
    if (paired.length > 0) {
      md.push(`## Differences against Adam and against SGD, paired by seed\n`);
      md.push(
        `Each optimizer's ${label} minus the reference's, seed by seed (seed k of both used the same data ` +
          `order and initialisation seed, so pairing removes what the seed does to both): the mean ` +
          `difference and its 95 % confidence interval — the t-interval of the paired differences, and a ` +
          `percentile bootstrap of them (${DEFAULT_RESAMPLES.toLocaleString("en-US")} resamples, seeded; too ` +
          `narrow with 3 pairs). "Better" or "worse" (${higherIsBetter ? "higher" : "lower"} is better) when ` +
          `the t-interval excludes 0; "no clear difference" when it contains 0, which is not evidence that ` +
          `there is none. The intervals are not corrected for the many comparisons of a table: about one ` +
          `in twenty "better" or "worse" readings is expected by chance alone.\n`,
      );
      md.push(paired.join("\n"));
    }
  }

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
    md.push(withSpread ? `Mean ± sample standard deviation over seeds.\n` : "");
    const statsBy = otherFinal.map((m) => shown(m));
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
    const axis = curveAxis(meta.name, runs);
    const band = [...groups].some(([n, g]) => !identical.has(n) && g.length > 1);
    md.push(`## Curves\n`);
    md.push(
      (band
        ? "Mean over seeds; the shaded band is ± one standard deviation."
        : deterministic
          ? "One curve per optimizer (its seeds gave identical results)."
          : "One run per optimizer.") +
        ` The x axis is the ${axis.label}` +
        (axis.label === "generator step"
          ? " (the distance is measured every `interval` generator steps of the run's settings)"
          : "") +
        "." +
        (axis.decays.length > 0
          ? ` Dashed vertical lines: the learning-rate decays (${axis.decays
              .map((d) => `${d.label} at epoch ${formatNumber(Number(d.x.toFixed(2)))}`)
              .join(", ")}).`
          : "") +
        "\n",
    );
    for (const key of curveKeys) {
      const points = curveStats(runs, key, axis.x);
      if (points.length === 0) continue;
      const file = `curve-${slug(key)}.svg`;
      const yLabel = isToy ? `distance to the minimum (${key.slice(5)})` : metricLabel(key);
      svgs.set(
        file,
        await renderSvg(
          curvesSpec(points, {
            title: `${meta.title}: ${yLabel}`,
            xLabel: axis.label,
            yLabel,
            logY: wantsLog(points),
            rules: axis.decays,
            integerX: axis.integer,
            band,
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
  const provenance = summarizeProvenance(runs);
  md.push(`## How these runs were made\n`);
  md.push(
    provenanceMarkdown(provenance, {
      folderCommands: options.folderCommands ?? null,
      reportDir: dir,
      ...(options.reportCommand ? { reportCommand: options.reportCommand } : {}),
    }),
  );
  const versions = [...new Set(runs.map((r) => JSON.stringify(r.versions)))];
  md.push(`Versions: ${versions.map((v) => `\`${cell(v)}\``).join("; ")}.\n`);
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
    totalRunSeconds: provenance.runSeconds,
    settings,
    barChart: barFile,
    deterministic,
    provenance,
    generatedAt: new Date().toISOString(),
  };
  writeJsonAtomic(join(dir, "summary.json"), summary);
  return summary;
}
