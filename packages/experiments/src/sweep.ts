/**
 * The learning-rate sweep: one task, every optimizer, each learning rate of a list, resumable; the rate of
 * each optimizer is **selected on the validation split only** (the task's {@link Task.validation} metric,
 * mean over seeds), and the test metric is reported for the selected rate, where it played no part in the
 * choice.
 *
 * Layout: every rate is a suite folder of its own, `<out>/<task>/lr-<rate>/` (run files, report, plots, as
 * {@link runSuite} writes them, so an interrupted sweep resumes run by run), and the choice is written
 * atomically as `<out>/<task>/sweep.json` and `<out>/<task>/sweep.md`.
 *
 * @packageDocumentation
 */
import { join } from "node:path";
import { readRuns, toJsonText, writeFileAtomic } from "./results.js";
import { formatMeanStd, formatNumber, markdownTable } from "./report/format.js";
import { OPTIMIZER_LABELS } from "./report/palette.js";
import { meanStd, type MeanStd } from "./report/stats.js";
import { cleanTemps, loadTasks, runSuite, type FailedRun, type SuiteOptions } from "./suite.js";
import type { OptimizerName, RunResult, Task } from "./task.js";

/** What to sweep: a suite run of one task, repeated for each learning rate. */
export interface SweepOptions extends Omit<SuiteOptions, "tasks" | "learningRate"> {
  /** The task (it must declare a validation metric). */
  task: string;
  /** The learning rates to try (positive, distinct; at least two). */
  rates: readonly number[];
}

/** The validation and test results of one (optimizer, rate) cell. */
export interface SweepCell {
  rate: number;
  /** Validation metric over seeds; `failed` counts seeds that diverged or have no finite value. */
  validation: MeanStd & { failed: number };
  /** The task's headline (test) metric over the seeds with a finite value. */
  headline: MeanStd;
}

/** One optimizer's row: every rate tried, and the one selected on validation. */
export interface SweepChoice {
  optimizer: OptimizerName;
  cells: SweepCell[];
  /** The selected rate, or `null` when no rate has a run. */
  selected: number | null;
}

/** What a sweep did. */
export interface SweepOutcome {
  /** Runs executed now / found on disk, over all rates. */
  ran: number;
  skipped: number;
  failed: FailedRun[];
  /** Run files left out (malformed, duplicates), one line each naming the file; see `readRuns`. */
  warnings: string[];
  aborted: boolean;
  choices: SweepChoice[];
  /** Paths of `sweep.md` and `sweep.json`. */
  report: string;
  json: string;
  /** The Markdown table of the selected rates. */
  table: string;
}

/** The folder name of one rate's suite run (`lr-0.001`, `lr-3e-7`: distinct for distinct rates). */
export function rateFolder(rate: number): string {
  return `lr-${String(rate)}`;
}

/** The folder of one rate's suite run. */
export function rateDir(out: string, task: string, rate: number): string {
  return join(out, task, rateFolder(rate));
}

function cellOf(task: Task, runs: readonly RunResult[], rate: number): SweepCell {
  const v = task.validation!;
  const good: number[] = [];
  let failed = 0;
  for (const r of runs) {
    const x = r.final[v.metric];
    if (typeof x === "number" && Number.isFinite(x) && !(r.final["diverged"] ?? 0)) good.push(x);
    else failed++;
  }
  const test = runs
    .map((r) => r.final[task.headline.metric])
    .filter((x): x is number => typeof x === "number" && Number.isFinite(x));
  return { rate, validation: { ...meanStd(good), failed }, headline: meanStd(test) };
}

/**
 * Selects a rate per optimizer from the runs of each rate: the best mean validation metric among the rates
 * all of whose seeds finished with a finite value (if none did, among the rates with any); ties go to the
 * rate listed first. The test metric is not read for the choice.
 */
export function selectRates(
  task: Task,
  rates: readonly number[],
  optimizers: readonly OptimizerName[],
  runsAt: (rate: number) => readonly RunResult[],
): SweepChoice[] {
  const v = task.validation;
  if (!v) throw new RangeError(`sweep: task ${task.name} has no validation metric to select on`);
  const byRate = new Map(rates.map((r) => [r, runsAt(r)]));
  return optimizers.map((optimizer) => {
    const cells = rates.map((rate) =>
      cellOf(
        task,
        byRate.get(rate)!.filter((r) => r.spec.optimizer === optimizer),
        rate,
      ),
    );
    const withRuns = cells.filter((c) => c.validation.n > 0);
    const clean = withRuns.filter((c) => c.validation.failed === 0);
    const pool = clean.length > 0 ? clean : withRuns;
    let selected: SweepCell | null = null;
    for (const c of pool) {
      const m = c.validation.mean;
      if (!selected || (v.higherIsBetter ? m > selected.validation.mean : m < selected.validation.mean))
        selected = c;
    }
    return { optimizer, cells, selected: selected?.rate ?? null };
  });
}

/** The Markdown of `sweep.md`. */
export function sweepMarkdown(task: Task, choices: readonly SweepChoice[], command?: string): string {
  const v = task.validation!;
  const rates = choices[0]?.cells.map((c) => c.rate) ?? [];
  const cellText = (c: SweepCell) =>
    c.validation.n === 0 && c.validation.failed === 0
      ? "–"
      : formatMeanStd(c.validation) + (c.validation.failed > 0 ? ` (${c.validation.failed} failed)` : "");
  const grid = markdownTable(
    ["optimizer", ...rates.map((r) => `lr ${formatNumber(r)}`)],
    choices.map((ch) => [
      OPTIMIZER_LABELS[ch.optimizer],
      ...ch.cells.map((c) => (c.rate === ch.selected ? `**${cellText(c)}**` : cellText(c))),
    ]),
    ["l", ...rates.map(() => "r" as const)],
  );
  const summary = selectedTable(task, choices);
  return [
    `# Learning-rate sweep: ${task.title}`,
    "",
    ...(command ? [`Made with \`${command}\`; rerunning it resumes and skips finished runs.`, ""] : []),
    `Each optimizer's learning rate is selected on the **${v.label}** (${v.higherIsBetter ? "higher" : "lower"} is better),`,
    "mean over seeds; a rate at which a seed diverged is chosen only if every rate had such a seed. The test",
    "metric played no part in the choice: it is shown for the selected rate only.",
    "",
    `## ${v.label.charAt(0).toUpperCase()}${v.label.slice(1)} per rate (selected in bold)`,
    "",
    grid,
    "",
    "## Selected rates",
    "",
    summary,
    "",
    "Each rate's runs, report and plots: " +
      rates.map((r) => `[lr ${formatNumber(r)}](${rateFolder(r)}/README.md)`).join(", ") +
      ".",
    "",
  ].join("\n");
}

function selectedTable(task: Task, choices: readonly SweepChoice[]): string {
  const v = task.validation!;
  return markdownTable(
    ["optimizer", "selected lr", v.label, task.headline.label],
    choices.map((ch) => {
      const c = ch.cells.find((x) => x.rate === ch.selected);
      return [
        OPTIMIZER_LABELS[ch.optimizer],
        ch.selected === null ? "–" : formatNumber(ch.selected),
        c ? formatMeanStd(c.validation) : "–",
        c ? formatMeanStd(c.headline) : "–",
      ];
    }),
    ["l", "r", "r", "r"],
  );
}

/**
 * Runs the sweep (each rate as a resumable suite run of the task, in the order given), then selects and
 * writes `sweep.json` and `sweep.md`. Stops after the current run when `signal` aborts; the choice is still
 * written from the runs on disk.
 */
export async function runSweep(options: SweepOptions): Promise<SweepOutcome> {
  const { tasks, unavailable } = await loadTasks([options.task], options.loadTask);
  const task = tasks[0];
  if (!task) throw new Error(`sweep: task ${options.task} is unavailable: ${unavailable[0]?.reason ?? "?"}`);
  if (!task.validation) {
    throw new RangeError(`sweep: task ${task.name} has no validation split to select a learning rate on`);
  }
  if (options.rates.length < 2) throw new RangeError("sweep: give at least two learning rates");
  let ran = 0;
  let skipped = 0;
  const failed: FailedRun[] = [];
  const warnings: string[] = [];
  let aborted = false;
  // The rates' suite runs clean their own folders; this also covers sweep.json and sweep.md.
  cleanTemps(options.out, options.reporter ? (line) => options.reporter!.log(line) : undefined);
  const { task: _name, rates, ...suiteOptions } = options;
  void _name;
  for (const rate of rates) {
    if (options.signal?.aborted) {
      aborted = true;
      break;
    }
    const outcome = await runSuite({
      ...suiteOptions,
      tasks: [task.name],
      learningRate: rate,
      out: rateDir(options.out, task.name, rate),
      loadTask: async () => task,
    });
    ran += outcome.ran.length;
    skipped += outcome.skipped.length;
    warnings.push(...outcome.warnings);
    failed.push(...outcome.failed.map((f) => ({ ...f, label: `lr ${formatNumber(rate)}: ${f.label}` })));
    if (outcome.aborted) {
      aborted = true;
      break;
    }
  }
  const seeds = options.seeds ?? task.defaultSeeds[options.size];
  const choices = selectRates(task, options.rates, options.optimizers, (rate) =>
    readRuns(rateDir(options.out, task.name, rate), task.name).runs.filter(
      (r) => r.spec.seed <= seeds && r.spec.learningRate === rate,
    ),
  );
  const report = join(options.out, task.name, "sweep.md");
  const json = join(options.out, task.name, "sweep.json");
  writeFileAtomic(
    json,
    toJsonText({
      task: task.name,
      size: options.size,
      seeds,
      ...(options.epochs !== undefined ? { epochs: options.epochs } : {}),
      selectedOn: task.validation,
      rates: options.rates,
      choices,
    }),
  );
  writeFileAtomic(report, sweepMarkdown(task, choices, options.command));
  return {
    ran,
    skipped,
    failed,
    warnings,
    aborted,
    choices,
    report,
    json,
    table: selectedTable(task, choices),
  };
}
