/**
 * The top-level `<out>/README.md`: the suite's summary table (one column per task, headline metric mean ±
 * std, best in bold), where AdaBelief did not win, and links to every task report.
 *
 * @packageDocumentation
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../results.js";
import { OPTIMIZERS } from "../task.js";
import { formatDuration } from "../progress.js";
import { formatMeanStd, markdownTable } from "./format.js";
import { OPTIMIZER_LABELS } from "./palette.js";
import type { TaskSummary } from "./task-report.js";

/** Reads every `<out>/<task>/summary.json`, ordered by `order` first, then by name. */
export function readSummaries(out: string, order: readonly string[] = []): TaskSummary[] {
  if (!existsSync(out)) return [];
  const found: TaskSummary[] = [];
  for (const name of readdirSync(out)) {
    const file = join(out, name, "summary.json");
    if (!existsSync(file)) continue;
    try {
      const s = JSON.parse(readFileSync(file, "utf8")) as TaskSummary;
      if (s && typeof s.task === "string" && Array.isArray(s.rows)) found.push(s);
    } catch {
      // An unreadable summary is simply left out; the task's report regenerates it on its next run.
    }
  }
  const rank = (t: string): number => (order.includes(t) ? order.indexOf(t) : order.length);
  return found.sort((a, b) => rank(a.task) - rank(b.task) || a.task.localeCompare(b.task));
}

/** The suite summary table (Markdown): rows are optimizers, columns are tasks. */
export function summaryTable(summaries: readonly TaskSummary[]): string {
  const header = [
    "optimizer",
    ...summaries.map((s) => `${s.task}: ${s.headline.label} (${s.headline.higherIsBetter ? "↑" : "↓"})`),
  ];
  const rows = OPTIMIZERS.filter((n) => summaries.some((s) => s.rows.some((r) => r.optimizer === n))).map(
    (n) => [
      OPTIMIZER_LABELS[n],
      ...summaries.map((s) => {
        const r = s.rows.find((x) => x.optimizer === n);
        if (!r) return "–";
        const text = formatMeanStd(r);
        return s.best.includes(n) ? `**${text}**` : text;
      }),
    ],
  );
  return markdownTable(
    header.map((h) => h.replace(/\|/g, "\\|")),
    rows,
    ["l", ...summaries.map(() => "r" as const)],
  );
}

/** Options of {@link writeSuiteReadme}. */
export interface SuiteReadmeOptions {
  /** Task order of the table (default: alphabetical). */
  order?: readonly string[];
  /** Tasks that could not be loaded, with the reason. */
  unavailable?: readonly { task: string; reason: string }[];
  /** The command that reproduces this folder. */
  command?: string;
  /** Instead of the "Made with" line: how the folder was assembled (Markdown, one paragraph). */
  note?: string;
}

/** Writes `<out>/README.md` atomically from the task summaries found; returns its path and the table. */
export function writeSuiteReadme(
  out: string,
  options: SuiteReadmeOptions = {},
): { path: string; table: string; summaries: TaskSummary[] } {
  const summaries = readSummaries(out, options.order);
  const md: string[] = [];
  md.push(`# AdaBelief reproduction suite: results\n`);
  if (options.note) md.push(`${options.note}\n`);
  else if (options.command)
    md.push(`Made with \`${options.command}\`; rerunning it resumes and skips finished runs.\n`);
  md.push(
    `Headline metric of each task, mean ± sample standard deviation over seeds (best in **bold**). ` +
      `Every number comes from the run files under each task's \`runs/\` folder.\n`,
  );
  const table = summaries.length > 0 ? summaryTable(summaries) : "No task has finished runs yet.\n";
  md.push(table);
  if (summaries.length > 0) {
    const seconds = summaries.map((s) => s.totalRunSeconds ?? 0);
    md.push(
      `Run time (sum of the runs' wall-clock times on the machine that made them): ` +
        summaries.map((s, i) => `${s.task} ${formatDuration(seconds[i]!)}`).join(", ") +
        `; total ${formatDuration(seconds.reduce((a, b) => a + b, 0))}.\n`,
    );
  }
  if (options.unavailable && options.unavailable.length > 0) {
    md.push(
      `Tasks not available in this run: ${options.unavailable.map((u) => `**${u.task}** (${u.reason})`).join("; ")}.\n`,
    );
  }
  const notWon = summaries.flatMap((s) => s.adabeliefDidNotWin.map((line) => `- ${s.task}: ${line}`));
  md.push(`## Where AdaBelief did not win\n`);
  md.push(
    notWon.length > 0 ? notWon.join("\n") + "\n" : "AdaBelief was best on every headline metric here.\n",
  );
  md.push(`## Task reports\n`);
  for (const s of summaries) {
    md.push(`### [${s.title}](${s.task}/report.md)\n`);
    md.push(`${s.runs} runs; settings: ${s.settings.join("; ")}.\n`);
    md.push(`![${s.task}: ${s.headline.label}](${s.task}/${s.barChart})\n`);
  }
  const path = join(out, "README.md");
  writeFileAtomic(path, md.join("\n"));
  return { path, table, summaries };
}
