/**
 * Progress display of the suite: two bars with ETA on a terminal (runs of the current task, progress of the
 * current run), plain throttled lines otherwise (CI logs, pipes, tests).
 *
 * @packageDocumentation
 */
import cliProgress from "cli-progress";

/** What the suite runner tells the user while it works. */
export interface Reporter {
  /** Prints one line (above the bars on a terminal). */
  log(line: string): void;
  /** A task with `runs` runs to do (runs already on disk excluded) starts. */
  beginTask(task: string, runs: number): void;
  /** A run starts; returns the `onProgress` callback to hand to the task. */
  beginRun(label: string): (done: number, total: number, detail?: string) => void;
  /** The current run ended (finished, failed or aborted). */
  endRun(): void;
  /** The current task ended. */
  endTask(): void;
  /** Removes the bars; call before printing the final summary. */
  stop(): void;
}

/** Formats seconds as `1h02m`, `3m05s` or `12s`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return seconds < 10 ? `${seconds.toFixed(1)}s` : `${s}s`;
}

/** Options of {@link createReporter}. */
export interface ReporterOptions {
  /** Where to write. Default `process.stdout`. */
  stream?: NodeJS.WriteStream | NodeJS.WritableStream;
  /** Force bars (`true`) or plain lines (`false`). Default: bars exactly when the stream is a TTY. */
  tty?: boolean;
  /** Plain mode: the least time between two progress lines of one run, in seconds. Default 10. */
  plainIntervalSeconds?: number;
}

/** Creates the reporter: cli-progress bars on a TTY, plain lines otherwise. */
export function createReporter(options: ReporterOptions = {}): Reporter {
  const stream = options.stream ?? process.stdout;
  const tty = options.tty ?? Boolean((stream as NodeJS.WriteStream).isTTY);
  return tty ? barReporter(stream) : plainReporter(stream, options.plainIntervalSeconds ?? 10);
}

function barReporter(stream: NodeJS.WritableStream): Reporter {
  const multi = new cliProgress.MultiBar(
    {
      stream,
      format: "{name} [{bar}] {percentage}% | {value}/{total} | ETA {eta_formatted} | {detail}",
      barsize: 28,
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 50,
      fps: 5,
      forceRedraw: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let taskBar: cliProgress.SingleBar | undefined;
  let runBar: cliProgress.SingleBar | undefined;
  let taskName = "";
  let runsDone = 0;
  return {
    log(line) {
      if (taskBar || runBar) multi.log(line + "\n");
      else stream.write(line + "\n");
    },
    beginTask(task, runs) {
      taskName = task;
      runsDone = 0;
      taskBar = multi.create(runs, 0, { name: `${task.padEnd(5)} runs`, detail: "" });
    },
    beginRun(label) {
      runBar = multi.create(1, 0, { name: "  this run", detail: label });
      let lastTotal = 1;
      return (done, total, detail) => {
        if (total !== lastTotal) {
          runBar?.setTotal(total);
          lastTotal = total;
        }
        runBar?.update(done, { detail: detail ? `${label} · ${detail}` : label });
      };
    },
    endRun() {
      runsDone++;
      if (runBar) {
        multi.remove(runBar);
        runBar = undefined;
      }
      taskBar?.update(runsDone, { detail: taskName });
    },
    endTask() {
      if (taskBar) {
        taskBar.stop();
        multi.remove(taskBar);
        taskBar = undefined;
      }
    },
    stop() {
      multi.stop();
    },
  };
}

function plainReporter(stream: NodeJS.WritableStream, intervalSeconds: number): Reporter {
  let task = "";
  let runs = 0;
  let runIndex = 0;
  return {
    log(line) {
      stream.write(line + "\n");
    },
    beginTask(name, n) {
      task = name;
      runs = n;
      runIndex = 0;
      stream.write(`${name}: ${n} run${n === 1 ? "" : "s"} to do\n`);
    },
    beginRun(label) {
      runIndex++;
      const prefix = `${task} [${runIndex}/${runs}] ${label}`;
      const start = performance.now();
      let last = start;
      stream.write(`${prefix}: started\n`);
      return (done, total, detail) => {
        const now = performance.now();
        if (now - last < intervalSeconds * 1000 || total <= 0 || done >= total) return;
        last = now;
        const elapsed = (now - start) / 1000;
        const eta = done > 0 ? (elapsed * (total - done)) / done : Number.NaN;
        const pct = ((100 * done) / total).toFixed(0);
        stream.write(
          `${prefix}: ${pct}% (${done}/${total}), ETA ${formatDuration(eta)}${detail ? ` · ${detail}` : ""}\n`,
        );
      };
    },
    endRun() {},
    endTask() {},
    stop() {},
  };
}
