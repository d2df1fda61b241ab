/**
 * The reproduction suite's command line: `toy`, `cnn`, `lstm`, `gan` (one task) and `suite` (all four), each
 * with `--quick` / `--full`, `--optimizers`, `--seeds`, `--epochs`, `--backend`, `--lr`, `--shard`, `--out`
 * and `--help`; `sweep <task> --lrs a,b,…`, a learning-rate sweep that selects each optimizer's rate on the
 * validation split only (`sweep.ts`); and `report`, which regenerates a folder's reports from its run files,
 * or with `--from` merges the run files of several folders (the shards of a command run on several
 * machines) into one and reports on them (`merge.ts`).
 *
 * Run with tsx: `npx tsx packages/experiments/src/cli.ts suite --quick` (`npm start`), or
 * `npm run suite -- <command>`; or in-process with {@link main} (`main(argv, io)`). Bad arguments, and an
 * output folder that cannot be created or written, get a one-line error and exit code 2 before any work
 * starts. Ctrl-C stops the current run (finished runs are already on disk; a second Ctrl-C quits at once);
 * rerunning the same command resumes. Run files left out of a report (malformed, duplicates) are warned
 * about on stderr, each naming its file.
 *
 * @packageDocumentation
 */
import { Command, CommanderError, Option } from "commander";
import { accessSync, constants, existsSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { createReporter, formatDuration } from "./progress.js";
import { SUITE_TASK_NAMES, TASK_NAMES } from "./registry.js";
import { makeDirs, tempPathFor } from "./results.js";
import { formatShard, parseShard, type Shard } from "./shard.js";
import type { SuiteOptions } from "./suite.js";
import type { SweepOptions } from "./sweep.js";
import { OPTIMIZERS, type OptimizerName, type Size } from "./task.js";

/** The first line of an error's message. */
function oneLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split("\n")[0]!.slice(0, 300);
}

/** A bad command line: its message is one line; the CLI prints it and exits with code 2. */
export class CliError extends Error {
  override name = "CliError";
}

/** The parsed command line. */
export interface CliCommand {
  /**
   * `help` when `--help` was shown (nothing else to do); `sweep` for a learning-rate sweep of one task;
   * `report` to regenerate the reports of `out` from its run files.
   */
  kind: "run" | "help" | "sweep" | "report";
  /** Tasks to run, in order. */
  tasks: string[];
  size: Size;
  optimizers: OptimizerName[];
  seeds?: number;
  epochs?: number;
  backend: "cpu" | "wasm";
  learningRate?: number;
  /** The learning rates of a sweep (`sweep` only), in the order given. */
  rates?: number[];
  /** Output folder as given (default `results/<size>`; a sweep: `results/sweep-<size>`). */
  out: string;
  /** Make only this part of the command's runs (`--shard k/n`, see `shard.ts`). */
  shard?: Shard;
  /** `report --from`: the folders whose run files are merged into `out`. */
  from?: string[];
  /** True for the `suite` command: unavailable tasks are reported, not fatal. */
  suite: boolean;
}

/** How the CLI is shown in the READMEs it writes (run from the repository's root). */
const SCRIPT = "npx tsx packages/experiments/src/cli.ts";

const MAX_SEEDS = 1000;
const MAX_EPOCHS = 1_000_000;

function positiveInt(name: string, max: number) {
  return (value: string): number => {
    if (!/^\s*\d+\s*$/.test(value)) throw new CliError(`${name} must be a positive integer, got "${value}"`);
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < 1 || n > max)
      throw new CliError(`${name} must be an integer from 1 to ${max}, got "${value}"`);
    return n;
  };
}

function parseOptimizers(value: string): OptimizerName[] {
  const names = value
    .split(",")
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s.length > 0);
  if (names.length === 0)
    throw new CliError(`--optimizers needs at least one name (known: ${OPTIMIZERS.join(", ")})`);
  if (names.length === 1 && names[0] === "all") return [...OPTIMIZERS];
  for (const n of names) {
    if (!OPTIMIZERS.includes(n as OptimizerName)) {
      throw new CliError(
        `unknown optimizer "${n}" in --optimizers (known: ${OPTIMIZERS.join(", ")}, or all)`,
      );
    }
  }
  // Suite order, duplicates removed.
  return OPTIMIZERS.filter((o) => names.includes(o));
}

function parseRates(value: string): number[] {
  const parts = value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  const rates = parts.map((p) => {
    const n = Number(p);
    if (!Number.isFinite(n) || n <= 0) throw new CliError(`--lrs must list positive numbers, got "${p}"`);
    return n;
  });
  if (new Set(rates).size !== rates.length) throw new CliError(`--lrs lists a rate twice: "${value}"`);
  if (rates.length < 2) throw new CliError(`--lrs needs at least two learning rates, got "${value}"`);
  return rates;
}

function parseShardOption(value: string): Shard {
  try {
    return parseShard(value);
  } catch (err) {
    throw new CliError(oneLine(err));
  }
}

function parseRate(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n <= 0)
    throw new CliError(`--lr must be a positive number, got "${value}"`);
  return n;
}

const TASK_DESCRIPTIONS: Record<string, string> = {
  toy: "toy 2-D problems (|x|+|y|, |x+y|+|x−y|/10, (x+y)²+(x−y)²/10, Beale, Rosenbrock): trajectories, steps to the minimum",
  cnn: "image classification: a small VGG-style CNN on Fashion-MNIST, test accuracy",
  lstm: "language modelling: an LSTM on Moby Dick, test perplexity",
  gan: "earlier non-saturating MLP GAN on Fashion-MNIST (not the paper's protocol; not in the suite)",
  "word-lm":
    "language modelling: a word-level 1-layer LSTM on the State of the Union addresses, test perplexity",
  "word-lm-2": "language modelling: word-level 2-layer LSTM (the paper's 2-3-layer settings)",
  "word-lm-3": "language modelling: word-level 3-layer LSTM (the paper's 2-3-layer settings)",
  wgan: "WGAN (weight clipping 0.01, 5 critic steps), the paper's protocol: FID on our CNN features, floor, CI",
  "wgan-gp": "WGAN-GP (gradient penalty 10, 5 critic steps), the paper's protocol: FID, floor, CI",
  "wgan-tuned": "WGAN with TUNED learning rates for SGD, Fromage, MSVAG (not the paper's; not in the suite)",
  "wgan-gp-tuned":
    "WGAN-GP with TUNED learning rates for SGD, Fromage, MSVAG (not the paper's; not in the suite)",
};

function addRunOptions(cmd: Command): Command {
  return cmd
    .option("--quick", "reduced size, minutes on a laptop (the default)")
    .option("--full", "the full size (≥ 3 seeds per optimizer)")
    .option(
      "--optimizers <list>",
      `comma-separated subset of: ${OPTIMIZERS.join(", ")} (default: all)`,
      parseOptimizers,
    )
    .option(
      "--seeds <n>",
      "seeds per optimizer, seeds 1..n (default: the task's default for the size)",
      positiveInt("--seeds", MAX_SEEDS),
    )
    .option(
      "--epochs <n>",
      "override the size's number of epochs (toy: optimizer steps per function)",
      positiveInt("--epochs", MAX_EPOCHS),
    )
    .addOption(
      new Option("--backend <name>", "TensorFlow.js backend").choices(["cpu", "wasm"]).default("wasm"),
    )
    .option(
      "--lr <rate>",
      "learning-rate override for every optimizer (for a sweep: use a separate --out)",
      parseRate,
    )
    .option(
      "--shard <k/n>",
      "make only the k-th of n parts of the runs (for n machines, each with its own --out; merge the " +
        "folders with report --from). Runs are assigned by position in a fixed order, modulo n",
      parseShardOption,
    )
    .option("--out <dir>", "output folder (default: results/quick or results/full)");
}

interface RawOptions {
  quick?: boolean;
  full?: boolean;
  optimizers?: OptimizerName[];
  seeds?: number;
  epochs?: number;
  backend: "cpu" | "wasm";
  lr?: number;
  shard?: Shard;
  out?: string;
}

/** Builds the commander program; `onRun` receives the parsed command of whichever subcommand ran. */
function buildProgram(onRun: (c: CliCommand) => void): Command {
  const program = new Command()
    .name("adabelief-suite")
    .description(
      "Reproduces the AdaBelief paper's comparisons (toy problems, CNN, LSTM, GAN) with all nine optimizers.\n" +
        "Each finished run is saved at once as <out>/<task>/runs/<optimizer>-seed<k>.json; rerunning a command\n" +
        "resumes, skipping saved runs whose settings match. Reports: <out>/README.md and <out>/<task>/report.md.",
    )
    .showSuggestionAfterError(false)
    .addHelpText(
      "after",
      `\nExamples:\n  npm start                                 # = suite --quick\n  ${SCRIPT} toy --optimizers adam,adabelief\n  ${SCRIPT} suite --full --out results/full`,
    );
  const build = (tasks: string[], suite: boolean, opts: RawOptions): CliCommand => {
    if (opts.quick && opts.full) throw new CliError("--quick and --full exclude each other");
    const size: Size = opts.full ? "full" : "quick";
    const c: CliCommand = {
      kind: "run",
      tasks,
      size,
      optimizers: opts.optimizers ?? [...OPTIMIZERS],
      backend: opts.backend,
      out: opts.out ?? join("results", size),
      suite,
    };
    if (opts.seeds !== undefined) c.seeds = opts.seeds;
    if (opts.epochs !== undefined) c.epochs = opts.epochs;
    if (opts.lr !== undefined) c.learningRate = opts.lr;
    if (opts.shard !== undefined) c.shard = opts.shard;
    if (c.out.trim() === "") throw new CliError("--out must not be empty");
    return c;
  };
  const finish = (tasks: string[], suite: boolean) => (opts: RawOptions) => onRun(build(tasks, suite, opts));
  for (const name of TASK_NAMES) {
    addRunOptions(program.command(name).description(TASK_DESCRIPTIONS[name] ?? `the ${name} task`)).action(
      finish([name], false),
    );
  }
  addRunOptions(
    program
      .command("suite")
      .description(`the paper's tasks (${SUITE_TASK_NAMES.join(", ")}), one after another`),
  ).action(finish([...SUITE_TASK_NAMES], true));
  addRunOptions(
    program
      .command("sweep")
      .description(
        "learning-rate sweep of one task (cnn or lstm): every optimizer at each rate of --lrs, the rate " +
          "selected per optimizer on the validation split only; writes <out>/<task>/sweep.md",
      )
      .argument("<task>", `the task to sweep (${TASK_NAMES.join(", ")})`),
  )
    .requiredOption("--lrs <list>", "comma-separated learning rates to try, e.g. 3e-4,1e-3,3e-3", parseRates)
    .action((taskName: string, opts: RawOptions & { lrs: number[] }) => {
      if (!TASK_NAMES.includes(taskName))
        throw new CliError(`unknown task "${taskName}" for sweep (known: ${TASK_NAMES.join(", ")})`);
      if (opts.lr !== undefined)
        throw new CliError("--lr and sweep exclude each other: list rates with --lrs");
      const size: Size = opts.full ? "full" : "quick";
      const c = build([taskName], false, { ...opts, out: opts.out ?? join("results", `sweep-${size}`) });
      onRun({ ...c, kind: "sweep", rates: opts.lrs });
    });
  program
    .command("report")
    .description(
      "regenerate every report of an output folder (suite or sweep) from its run files (no run is made); " +
        "with --from, first merge the run files of other folders (say, one per --shard) into it",
    )
    .option("--out <dir>", "the folder (default: results/quick)")
    .option(
      "--from <dirs...>",
      "folders whose run files are merged into --out; refused, naming the files, when runs disagree " +
        "(same run with other settings, different sizes or budgets); duplicates are counted once",
    )
    .action((opts: { out?: string; from?: string[] }) => {
      const out = opts.out ?? join("results", "quick");
      if (out.trim() === "") throw new CliError("--out must not be empty");
      if (opts.from && opts.from.some((d) => d.trim() === ""))
        throw new CliError("--from must not list an empty folder name");
      onRun({
        kind: "report",
        tasks: [],
        size: "quick",
        optimizers: [],
        backend: "wasm",
        out,
        suite: false,
        ...(opts.from ? { from: opts.from } : {}),
      });
    });
  return program;
}

/**
 * Parses a command line (without `node` and the script path). Throws {@link CliError} with a one-line
 * message on bad input; returns `{ kind: "help" }` after printing help. Touches no file.
 */
export function parseCli(
  argv: readonly string[],
  out: { write(s: string): void } = process.stdout,
): CliCommand {
  let parsed: CliCommand | undefined;
  const errors: string[] = [];
  const program = buildProgram((c) => {
    parsed = c;
  });
  const configure = (cmd: Command): void => {
    cmd.exitOverride().configureOutput({ writeOut: (s) => out.write(s), writeErr: (s) => errors.push(s) });
    cmd.commands.forEach(configure);
  };
  configure(program);
  try {
    program.parse([...argv], { from: "user" });
  } catch (err) {
    if (err instanceof CliError) throw err;
    if (err instanceof CommanderError) {
      if (err.code === "commander.helpDisplayed" || err.code === "commander.version") {
        return {
          kind: "help",
          tasks: [],
          size: "quick",
          optimizers: [],
          backend: "wasm",
          out: "",
          suite: false,
        };
      }
      if (err.code === "commander.help" || err.code === "commander.executeSubCommandAsync") {
        throw new CliError(
          `missing command: one of ${[...TASK_NAMES, "suite", "sweep", "report"].join(", ")} (see --help)`,
        );
      }
      // A CliError thrown in an argument parser reaches us wrapped by commander as invalidArgument.
      const msg = err.message
        .replace(/^error:\s*/, "")
        .replace(/\s*\n\s*/g, " ")
        .trim();
      throw new CliError(msg);
    }
    throw err;
  }
  if (!parsed)
    throw new CliError(
      `missing command: one of ${[...TASK_NAMES, "suite", "sweep", "report"].join(", ")} (see --help)`,
    );
  return parsed;
}

/**
 * Checks that `out` (resolved against `cwd`) is, or can be created as, a writable folder: creates it (see
 * {@link makeDirs}: never spins, even on `/proc/x`), then writes and removes a probe file in it. Returns
 * the absolute path; throws {@link CliError} with a one-line message at once otherwise. Called only once
 * every other argument is valid, so bad input writes nothing.
 */
export function prepareOutDir(out: string, cwd: string = process.cwd()): string {
  const abs = resolve(cwd, out);
  let probe = abs;
  while (!existsSync(probe)) {
    const parent = dirname(probe);
    if (parent === probe) break;
    probe = parent;
  }
  try {
    if (!statSync(probe).isDirectory()) {
      throw new CliError(`--out ${out} is not writable: ${probe} is not a folder`);
    }
    accessSync(probe, constants.W_OK);
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`--out ${out} is not writable: ${oneLine(err)}`);
  }
  try {
    makeDirs(abs);
    // Named like an atomic write's temporary file, so that a kill right here leaves nothing the next
    // run's clean-up would not remove.
    const test = tempPathFor(join(abs, ".write-test"));
    writeFileSync(test, "");
    rmSync(test);
  } catch (err) {
    throw new CliError(`--out ${out} is not writable: ${oneLine(err)}`);
  }
  return abs;
}

/** Where {@link main} writes, and what it runs against; by default the process's own. */
export interface CliIo {
  /** The plan, progress (bars when it is a TTY, plain lines otherwise), summary tables, `--help`. */
  stdout: NodeJS.WritableStream;
  /** Errors and warnings. */
  stderr: NodeJS.WritableStream;
  /** The folder a relative `--out` is resolved against. Default: `process.cwd()`. */
  cwd?: string;
  /** Aborting it stops the current run, as Ctrl-C does (finished runs are kept). */
  signal?: AbortSignal;
}

const PROCESS_IO: CliIo = { stdout: process.stdout, stderr: process.stderr };

/**
 * Runs the CLI on `argv` (the arguments after the script path) in this process; resolves to the exit
 * code: 0 ok, 1 failed runs or unavailable tasks, 2 bad input (including an unusable `--out`), 130
 * interrupted. Errors are one line on `io.stderr` prefixed `adabelief-suite: error:`, warnings are
 * prefixed `adabelief-suite: warning:`. While it runs, Ctrl-C (SIGINT) stops the current run.
 */
export async function main(
  argv: readonly string[] = process.argv.slice(2),
  io: CliIo = PROCESS_IO,
): Promise<number> {
  const error = (message: string): number => {
    io.stderr.write(`adabelief-suite: error: ${message}\n`);
    return 2;
  };
  const warn = (line: string): void => void io.stderr.write(`adabelief-suite: warning: ${line}\n`);
  const cwd = io.cwd ?? process.cwd();
  let cmd: CliCommand;
  try {
    cmd = parseCli(argv, io.stdout);
    if (cmd.kind === "help") return 0;
  } catch (err) {
    return error(oneLine(err));
  }
  const commandLine = `${SCRIPT} ${argv.join(" ")}`.trim();
  // Loaded only now, so that bad input and --help answer at once (the reports pull in vega).
  const { loadTasks, runSuite } = await import("./suite.js");
  if (cmd.kind === "report") return await report(cmd, cwd, commandLine, io);
  // With --shard every task of the command must load: the parts are drawn from all their runs.
  if (cmd.suite && cmd.shard) {
    const { unavailable } = await loadTasks(cmd.tasks);
    if (unavailable.length > 0)
      return error(
        `--shard ${formatShard(cmd.shard)} needs every task of the command, and ${unavailable[0]!.task} is ` +
          `unavailable here (${unavailable[0]!.reason}): the runs would be split differently than on the ` +
          "other machines",
      );
  }
  // Single-task commands need their task: check it loads before anything is written.
  if (!cmd.suite) {
    const { tasks, unavailable } = await loadTasks(cmd.tasks);
    if (unavailable.length > 0)
      return error(`task ${unavailable[0]!.task} is unavailable: ${unavailable[0]!.reason}`);
    if (cmd.kind === "sweep" && !tasks[0]!.validation) {
      return error(
        `task ${cmd.tasks[0]} has no validation split to select a learning rate on ` +
          `(sweep works for ${await sweepableTasks()})`,
      );
    }
  }
  let outAbs: string;
  try {
    outAbs = prepareOutDir(cmd.out, cwd);
  } catch (err) {
    return error(oneLine(err));
  }

  const controller = new AbortController();
  const onAbort = (): void => controller.abort();
  io.signal?.addEventListener("abort", onAbort, { once: true });
  if (io.signal?.aborted) controller.abort();
  const reporter = createReporter({ stream: io.stdout });
  let interrupts = 0;
  const onSigint = (): void => {
    interrupts++;
    if (interrupts === 1) {
      process.stderr.write(
        "\nInterrupted: stopping the current run (finished runs are saved). Ctrl-C again quits at once.\n",
      );
      controller.abort();
    } else {
      process.exit(130);
    }
  };
  process.on("SIGINT", onSigint);
  const started = performance.now();
  io.stdout.write(
    `Tasks: ${cmd.tasks.join(", ")} · size ${cmd.size} · optimizers ${cmd.optimizers.join(", ")} · ` +
      `seeds ${cmd.seeds ?? "task default"} · backend ${cmd.backend}` +
      (cmd.shard ? ` · shard ${formatShard(cmd.shard)}` : "") +
      ` · out ${outAbs}\n`,
  );
  try {
    if (cmd.kind === "sweep") return await sweep(cmd, outAbs, controller.signal, commandLine, io);
    const options: SuiteOptions = {
      tasks: cmd.tasks,
      size: cmd.size,
      optimizers: cmd.optimizers,
      backend: cmd.backend,
      out: outAbs,
      reporter,
      signal: controller.signal,
      command: commandLine,
    };
    if (cmd.seeds !== undefined) options.seeds = cmd.seeds;
    if (cmd.epochs !== undefined) options.epochs = cmd.epochs;
    if (cmd.learningRate !== undefined) options.learningRate = cmd.learningRate;
    if (cmd.shard) options.shard = cmd.shard;
    const outcome = await runSuite(options);
    const total = (performance.now() - started) / 1000;
    io.stdout.write(`\n${outcome.table}\n`);
    io.stdout.write(
      `Runs: ${outcome.ran.length} done now, ${outcome.skipped.length} resumed from disk` +
        (cmd.shard ? `, ${outcome.otherShards} left to the other shards` : "") +
        (outcome.redone.length > 0 ? `, ${outcome.redone.length} redone (settings differed)` : "") +
        (outcome.failed.length > 0 ? `, ${outcome.failed.length} FAILED` : "") +
        `. Time: ${formatDuration(total)} (${Object.entries(outcome.seconds)
          .map(([t, s]) => `${t} ${formatDuration(s)}`)
          .join(", ")}).\n`,
    );
    for (const f of outcome.failed) io.stdout.write(`  failed: ${f.label}: ${f.error}\n`);
    for (const u of outcome.unavailable) io.stdout.write(`  unavailable: ${u.task}: ${u.reason}\n`);
    for (const line of outcome.warnings) warn(line);
    io.stdout.write(`Report: ${outcome.readme}\n`);
    if (outcome.aborted) {
      io.stdout.write("Interrupted: rerun the same command to resume.\n");
      return 130;
    }
    return outcome.failed.length > 0 || outcome.unavailable.length > 0 ? 1 : 0;
  } finally {
    process.off("SIGINT", onSigint);
    io.signal?.removeEventListener("abort", onAbort);
  }
}

/**
 * The `report` command: regenerates the reports of `--out` from its run files, after merging those of the
 * `--from` folders into it when given. Merge problems are errors (exit 2), one line each naming the files.
 */
async function report(cmd: CliCommand, cwd: string, commandLine: string, io: CliIo): Promise<number> {
  const { mergeFolders, MergeError, rebuildFolder } = await import("./merge.js");
  const error = (message: string): number => {
    io.stderr.write(`adabelief-suite: error: ${message}\n`);
    return 2;
  };
  const warn = (line: string): void => void io.stderr.write(`adabelief-suite: warning: ${line}\n`);
  const out = resolve(cwd, cmd.out);
  let r: Awaited<ReturnType<typeof rebuildFolder>>;
  if (cmd.from) {
    for (const d of cmd.from) {
      const abs = resolve(cwd, d);
      if (!existsSync(abs) || !statSync(abs).isDirectory()) return error(`--from ${d} is not a folder`);
    }
    try {
      prepareOutDir(cmd.out, cwd);
    } catch (err) {
      return error(oneLine(err));
    }
    try {
      const m = await mergeFolders(
        out,
        cmd.from.map((d) => resolve(cwd, d)),
        { command: commandLine },
      );
      for (const line of m.warnings) warn(line);
      io.stdout.write(`Merged ${m.copied.length} run file${m.copied.length === 1 ? "" : "s"} into ${out}.\n`);
      r = m.rebuild;
    } catch (err) {
      if (err instanceof MergeError) {
        for (const p of err.problems) io.stderr.write(`adabelief-suite: error: cannot merge: ${p}\n`);
        return 2;
      }
      throw err;
    }
  } else {
    if (!existsSync(out) || !statSync(out).isDirectory()) return error(`--out ${cmd.out} is not a folder`);
    try {
      prepareOutDir(out);
    } catch (err) {
      return error(oneLine(err));
    }
    r = await rebuildFolder(out, { command: commandLine });
  }
  for (const line of r.warnings) warn(line);
  if (r.tasks.length === 0 && r.failed.length === 0) {
    return error(`--out ${cmd.out} holds no task folder with ${r.warnings.length > 0 ? "usable " : ""}runs`);
  }
  io.stdout.write(`${r.table}\n`);
  for (const f of r.failed) io.stdout.write(`  failed: ${f.label}: ${f.error}\n`);
  io.stdout.write(`Reports regenerated: ${r.tasks.join(", ")}. README: ${r.readme}\n`);
  return r.failed.length > 0 ? 1 : 0;
}

/** The tasks that declare a validation metric, e.g. "cnn, lstm". */
async function sweepableTasks(): Promise<string> {
  const { loadTasks } = await import("./suite.js");
  const { tasks } = await loadTasks(TASK_NAMES);
  return tasks
    .filter((t) => t.validation)
    .map((t) => t.name)
    .join(", ");
}

async function sweep(
  cmd: CliCommand,
  out: string,
  signal: AbortSignal,
  command: string,
  io: CliIo,
): Promise<number> {
  const { runSweep } = await import("./sweep.js");
  const options: SweepOptions = {
    task: cmd.tasks[0]!,
    rates: cmd.rates!,
    size: cmd.size,
    optimizers: cmd.optimizers,
    backend: cmd.backend,
    out,
    reporter: createReporter({ stream: io.stdout }),
    signal,
    command,
  };
  if (cmd.seeds !== undefined) options.seeds = cmd.seeds;
  if (cmd.epochs !== undefined) options.epochs = cmd.epochs;
  if (cmd.shard) options.shard = cmd.shard;
  io.stdout.write(`Sweep: learning rates ${cmd.rates!.join(", ")}\n`);
  const outcome = await runSweep(options);
  io.stdout.write(`\n${outcome.table}\n`);
  io.stdout.write(
    `Runs: ${outcome.ran} done now, ${outcome.skipped} resumed from disk` +
      (cmd.shard ? `, ${outcome.otherShards} left to the other shards` : "") +
      (outcome.failed.length > 0 ? `, ${outcome.failed.length} FAILED` : "") +
      ".\n",
  );
  for (const f of outcome.failed) io.stdout.write(`  failed: ${f.label}: ${f.error}\n`);
  for (const line of outcome.warnings) io.stderr.write(`adabelief-suite: warning: ${line}\n`);
  io.stdout.write(`Report: ${outcome.report}\n`);
  if (outcome.aborted) {
    io.stdout.write("Interrupted: rerun the same command to resume.\n");
    return 130;
  }
  return outcome.failed.length > 0 ? 1 : 0;
}

const invokedDirectly =
  process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (invokedDirectly) {
  main().then(
    (code) => {
      process.exitCode = code;
      // tfjs backends may keep handles open; the work is done and written.
      setTimeout(() => process.exit(code), 100).unref();
    },
    (err: unknown) => {
      process.stderr.write(`adabelief-suite: error: ${oneLine(err)}\n`);
      process.exit(1);
    },
  );
}
