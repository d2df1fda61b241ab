/**
 * The provenance part of the reports: which commands made a folder's run files, from which commits, on
 * which machines, and the compute they took (sum of run times, and wall-clock time where run files record
 * when they started and ended). Run files made before provenance was recorded are counted as such; the
 * commands that made them may be listed by hand in the folder's `commands.json` (see
 * {@link readFolderCommands}).
 *
 * @packageDocumentation
 */
import { existsSync, readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { formatDuration } from "../progress.js";
import type { RunResult } from "../task.js";

/** A value and how many run files have it. */
export interface Counted<T> {
  value: T;
  runs: number;
}

/** What the run files of a report record about how they were made (see {@link summarizeProvenance}). */
export interface ProvenanceSummary {
  /** Number of run files. */
  runs: number;
  /** Commands recorded in run files, in first-seen order. */
  commands: Counted<string>[];
  /** Commits (short form, with ` (dirty)` when the tree had changes), in first-seen order. */
  commits: Counted<string>[];
  /** Machines: `CPU model, N cores (platform)`, in first-seen order. */
  machines: Counted<string>[];
  /** Run files without a recorded command / commit / machine. */
  withoutCommand: number;
  withoutCommit: number;
  withoutMachine: number;
  /** Sum of the runs' own times (`timings.totalSeconds`), in seconds. */
  runSeconds: number;
  /** The time spans during which runs were in progress, merged, as `[start, end]` in ms since the epoch. */
  intervals: [number, number][];
  /** Run files that do not record when they started and ended. */
  withoutTimes: number;
}

function count<T>(list: Counted<T>[], value: T): void {
  const hit = list.find((c) => c.value === value);
  if (hit) hit.runs++;
  else list.push({ value, runs: 1 });
}

/** Merges overlapping or touching `[start, end]` spans; sorted by start. */
export function mergeIntervals(spans: readonly (readonly [number, number])[]): [number, number][] {
  const sorted = spans.filter(([a, b]) => b >= a).map(([a, b]) => [a, b] as [number, number]);
  sorted.sort((x, y) => x[0] - y[0]);
  const out: [number, number][] = [];
  for (const [a, b] of sorted) {
    const last = out[out.length - 1];
    if (last && a <= last[1]) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

/** Sums up the provenance of some run files. */
export function summarizeProvenance(runs: readonly RunResult[]): ProvenanceSummary {
  const s: ProvenanceSummary = {
    runs: runs.length,
    commands: [],
    commits: [],
    machines: [],
    withoutCommand: 0,
    withoutCommit: 0,
    withoutMachine: 0,
    runSeconds: 0,
    intervals: [],
    withoutTimes: 0,
  };
  const spans: [number, number][] = [];
  for (const r of runs) {
    s.runSeconds += r.timings.totalSeconds;
    const p = r.provenance;
    if (p?.command) count(s.commands, p.command);
    else s.withoutCommand++;
    if (p && p.commit !== "unknown")
      count(
        s.commits,
        `${p.commit.slice(0, 12)}${p.dirty ? " (dirty)" : p.dirty === null ? " (dirty: unknown)" : ""}`,
      );
    else s.withoutCommit++;
    if (p?.cpu) count(s.machines, `${p.cpu}, ${p.cores ?? "?"} cores${p.platform ? ` (${p.platform})` : ""}`);
    else s.withoutMachine++;
    const a = p?.startedAt ? Date.parse(p.startedAt) : Number.NaN;
    const b = p?.finishedAt ? Date.parse(p.finishedAt) : Number.NaN;
    if (Number.isFinite(a) && Number.isFinite(b)) spans.push([a, b]);
    else s.withoutTimes++;
  }
  s.intervals = mergeIntervals(spans);
  return s;
}

/** Combines the summaries of several reports (say, every task of a folder) into one. */
export function combineProvenance(parts: readonly ProvenanceSummary[]): ProvenanceSummary {
  const s: ProvenanceSummary = {
    runs: 0,
    commands: [],
    commits: [],
    machines: [],
    withoutCommand: 0,
    withoutCommit: 0,
    withoutMachine: 0,
    runSeconds: 0,
    intervals: [],
    withoutTimes: 0,
  };
  for (const p of parts) {
    s.runs += p.runs;
    for (const [key, list] of [
      ["commands", s.commands],
      ["commits", s.commits],
      ["machines", s.machines],
    ] as const) {
      for (const c of p[key]) {
        const hit = list.find((x) => x.value === c.value);
        if (hit) hit.runs += c.runs;
        else list.push({ ...c });
      }
    }
    s.withoutCommand += p.withoutCommand;
    s.withoutCommit += p.withoutCommit;
    s.withoutMachine += p.withoutMachine;
    s.runSeconds += p.runSeconds;
    s.withoutTimes += p.withoutTimes;
  }
  s.intervals = mergeIntervals(parts.flatMap((p) => p.intervals));
  return s;
}

/** Whether a parsed `summary.json` field is a {@link ProvenanceSummary} (older summaries have none). */
export function isProvenanceSummary(v: unknown): v is ProvenanceSummary {
  if (typeof v !== "object" || v === null) return false;
  const p = v as Partial<ProvenanceSummary>;
  return (
    typeof p.runs === "number" &&
    Array.isArray(p.commands) &&
    Array.isArray(p.commits) &&
    Array.isArray(p.machines) &&
    Array.isArray(p.intervals) &&
    typeof p.runSeconds === "number"
  );
}

/** Wall-clock facts of a summary: the span from the first start to the last end, and the busy time. */
export function wallClock(s: ProvenanceSummary): { spanSeconds: number; busySeconds: number } | null {
  if (s.intervals.length === 0) return null;
  const start = s.intervals[0]![0];
  const end = Math.max(...s.intervals.map((i) => i[1]));
  const busy = s.intervals.reduce((a, [x, y]) => a + (y - x), 0);
  return { spanSeconds: (end - start) / 1000, busySeconds: busy / 1000 };
}

/** The commands listed by hand for run files that do not record theirs: `<folder>/commands.json`. */
export interface FolderCommands {
  /** Commands, as typed from the repository's root. */
  commands: string[];
  /** Where the list comes from: a clause read after "lists the commands that made them, …". */
  note?: string;
  /** The file it was read from (set by {@link readFolderCommands}; not part of the file). */
  file?: string;
}

/** File name of {@link FolderCommands} in a results folder. */
export const FOLDER_COMMANDS_FILE = "commands.json";

/**
 * Reads `<folder>/commands.json` ({@link FolderCommands}); `null` when absent. Throws an Error naming the
 * file when it exists but is not `{ "commands": [string, …], "note"?: string }`.
 */
export function readFolderCommands(folder: string): FolderCommands | null {
  const file = join(folder, FOLDER_COMMANDS_FILE);
  if (!existsSync(file)) return null;
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new Error(`${file}: unreadable (${err instanceof Error ? err.message : String(err)})`);
  }
  const o = v as Partial<FolderCommands> | null;
  if (
    typeof o !== "object" ||
    o === null ||
    !Array.isArray(o.commands) ||
    !o.commands.every((c) => typeof c === "string" && c.trim() !== "") ||
    (o.note !== undefined && typeof o.note !== "string")
  )
    throw new Error(`${file}: expected { "commands": ["…"], "note": "…" }`);
  return { commands: o.commands, ...(o.note !== undefined ? { note: o.note } : {}), file };
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** A Markdown link to a {@link FolderCommands} file from the report's folder, or the file's name. */
function commandsLink(c: FolderCommands, reportDir?: string): string {
  if (!c.file || !reportDir) return `the folder's \`${FOLDER_COMMANDS_FILE}\``;
  const rel = relative(reportDir, c.file).split(sep).join("/");
  return `[\`${rel}\`](${rel})`;
}

/** Options of {@link provenanceMarkdown}. */
export interface ProvenanceMarkdownOptions {
  /** Commands listed by hand for run files that do not record theirs. */
  folderCommands?: FolderCommands | null;
  /** The folder the report is written to: the list's file is linked relative to it. */
  reportDir?: string;
  /** The command that wrote this report (when it was not one of the run commands). */
  reportCommand?: string;
  /** Run time per part (e.g. per task), shown after the total. */
  parts?: { name: string; seconds: number }[];
}

/**
 * Markdown lines (a bulleted list) saying how the run files were made: the commands (with the number of
 * runs each made), the command that wrote the report, the commits, the machines, and the compute: the sum
 * of the run times and the wall-clock time from the first start to the last end.
 */
export function provenanceMarkdown(s: ProvenanceSummary, options: ProvenanceMarkdownOptions = {}): string {
  const lines: string[] = [];
  const cmd = (c: string): string => `\`${c.replace(/`/g, "'")}\``;
  const runsMade = (n: number): string => (n === s.runs ? "all runs" : plural(n, "run"));
  if (s.commands.length > 0) {
    lines.push("- Commands that made the run files (run from the repository's root):");
    for (const c of s.commands) lines.push(`  - ${cmd(c.value)}: ${runsMade(c.runs)}`);
  }
  if (s.withoutCommand > 0) {
    const listed = options.folderCommands?.commands ?? [];
    const which =
      s.withoutCommand === s.runs
        ? "The run files do not record the command that made them (they predate that)"
        : `${plural(s.withoutCommand, "run file")} ${s.withoutCommand === 1 ? "does" : "do"} not record ` +
          "the command that made it (made before run files did)";
    const indent = s.commands.length > 0 ? "  " : "";
    lines.push(
      `${indent}- ${which}; ` +
        (listed.length > 0
          ? `${commandsLink(options.folderCommands!, options.reportDir)} lists the commands that made them` +
            (options.folderCommands?.note ? `, ${options.folderCommands.note.replace(/\.\s*$/, "")}` : "") +
            ":"
          : "it is not known."),
    );
    for (const c of listed) lines.push(`${indent}  - ${cmd(c)}`);
  }
  if (options.reportCommand)
    lines.push(`- This report: ${cmd(options.reportCommand)} (from the run files; it makes no run).`);
  const code = s.commits.map((c) => `\`${c.value}\` (${runsMade(c.runs)})`);
  if (s.withoutCommit > 0) code.push(`not recorded (${runsMade(s.withoutCommit)})`);
  if (code.length > 0) lines.push(`- Code: commit ${code.join("; ")}.`);
  const machines = s.machines.map((m) => `${m.value} (${runsMade(m.runs)})`);
  if (s.withoutMachine > 0) machines.push(`not recorded (${runsMade(s.withoutMachine)})`);
  if (machines.length > 0) lines.push(`- Machines: ${machines.join("; ")}.`);
  const parts =
    options.parts && options.parts.length > 1
      ? `: ${options.parts.map((p) => `${p.name} ${formatDuration(p.seconds)}`).join(", ")}`
      : "";
  let compute = `- Compute: ${formatDuration(s.runSeconds)} of run time (the sum over ${plural(s.runs, "run")}${parts})`;
  const wall = wallClock(s);
  if (wall) {
    const recorded = s.runs - s.withoutTimes;
    compute +=
      `; wall-clock ${formatDuration(wall.spanSeconds)} from the first run's start to the last run's end` +
      (recorded < s.runs ? ` (over the ${plural(recorded, "run")} that record it)` : "") +
      (wall.busySeconds < wall.spanSeconds - 1
        ? `, with runs in progress during ${formatDuration(wall.busySeconds)} of it`
        : "");
  } else if (s.runs > 0) {
    compute += "; wall-clock not recorded (the run files predate start and end times)";
  }
  lines.push(`${compute}.`);
  return lines.join("\n") + "\n";
}
