/**
 * The top-level `<out>/README.md`: the suite's summary table (one column per task, headline metric mean ±
 * std, best in bold; a deterministic task's single value), where AdaBelief did not win, how the results
 * were made (the commands, the code, the machines, the compute: sum of run times and wall-clock time), and
 * links to every task report.
 *
 * @packageDocumentation
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../results.js";
import { OPTIMIZERS } from "../task.js";
import { formatMeanStd, markdownTable } from "./format.js";
import { OPTIMIZER_LABELS } from "./palette.js";
import {
  combineProvenance,
  isProvenanceSummary,
  provenanceMarkdown,
  type FolderCommands,
  type ProvenanceSummary,
} from "./provenance.js";
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
        const text = formatMeanStd(r) + (r.diverged ? ` (${r.diverged} diverged)` : "");
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
  /** The command that wrote this README from the run files (`report`), listed under how it was made. */
  reportCommand?: string;
  /** Commands listed by hand for run files that do not record theirs (the folder's `commands.json`). */
  folderCommands?: FolderCommands | null;
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
    `Headline metric of each task, mean ± sample standard deviation over seeds (best in **bold**; an ` +
      `optimizer with a diverged run is never marked best). Every number comes from the run files under ` +
      `each task's \`runs/\` folder; each task report adds 95 % confidence intervals and differences ` +
      `against Adam and SGD paired by seed.\n`,
  );
  const table = summaries.length > 0 ? summaryTable(summaries) : "No task has finished runs yet.\n";
  md.push(table);
  const deterministic = summaries.filter((s) => s.deterministic);
  if (deterministic.length > 0) {
    md.push(
      `${deterministic.map((s) => s.task).join(", ")}: every seed gave identical results (deterministic), so ` +
        `each value is shown once, without a spread.\n`,
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
  const parts = summaries.map((s) => ({
    name: s.task,
    summary: isProvenanceSummary(s.provenance) ? s.provenance : legacyProvenance(s),
  }));
  if (parts.length > 0) {
    md.push(`## How these results were made\n`);
    md.push(
      provenanceMarkdown(combineProvenance(parts.map((p) => p.summary)), {
        folderCommands: options.folderCommands ?? null,
        reportDir: out,
        ...(options.reportCommand ? { reportCommand: options.reportCommand } : {}),
        parts: parts.map((p) => ({ name: p.name, seconds: p.summary.runSeconds })),
      }),
    );
  }
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

/** What an older `summary.json` without provenance says: its runs and their total time, nothing else. */
function legacyProvenance(s: TaskSummary): ProvenanceSummary {
  return {
    runs: s.runs,
    commands: [],
    commits: [],
    machines: [],
    withoutCommand: s.runs,
    withoutCommit: s.runs,
    withoutMachine: s.runs,
    runSeconds: s.totalRunSeconds ?? 0,
    intervals: [],
    withoutTimes: s.runs,
  };
}
