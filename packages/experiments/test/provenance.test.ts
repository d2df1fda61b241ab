import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { codeState, machine, provenanceProblem, runProvenance } from "../src/provenance.js";
import {
  combineProvenance,
  mergeIntervals,
  provenanceMarkdown,
  readFolderCommands,
  summarizeProvenance,
  wallClock,
} from "../src/report/provenance.js";
import { baseVersions, readRunFile, runPath, runResultProblem } from "../src/results.js";
import { rebuildReports, runSuite } from "../src/suite.js";
import type { RunResult } from "../src/task.js";
import { fakeTask } from "./suite-fake-task.js";
import { quietReporter, tmpDirs } from "./helpers.js";

const tmp = tmpDirs("provenance-test");

function git(args: string[]): string | null {
  const r = spawnSync("git", args, { cwd: import.meta.dirname, encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : null;
}

function run(seconds: number, provenance?: RunResult["provenance"]): RunResult {
  return {
    spec: { task: "fake", optimizer: "adam", seed: 1, size: "quick", backend: "cpu" },
    hyperparameters: {},
    curves: [],
    final: { testAcc: 1 },
    timings: { totalSeconds: seconds, perEpochSeconds: [] },
    versions: { node: "v20" },
    ...(provenance ? { provenance } : {}),
  };
}

describe("provenance of a run", () => {
  it("records the checkout's commit and dirty flag, the CPU, cores and platform", () => {
    const head = git(["rev-parse", "HEAD"]);
    const state = codeState();
    if (head) {
      expect(state.commit).toBe(head);
      expect(typeof state.dirty).toBe("boolean");
    } else {
      expect(state).toEqual({ commit: "unknown", dirty: null });
    }
    const m = machine();
    expect(m.cpu.length).toBeGreaterThan(0);
    expect(m.cores).toBeGreaterThanOrEqual(1);
    expect(m.platform).toBe(`${process.platform} ${process.arch}`);
    expect(runProvenance({ command: "cmd", shard: "1/2" })).toMatchObject({ command: "cmd", shard: "1/2" });
  });

  it("outside a checkout the commit is unknown and the dirty flag null", () => {
    expect(codeState({ cwd: tmp() })).toEqual({ commit: "unknown", dirty: null });
  });

  it("versions name node, the library and TensorFlow.js", () => {
    expect(baseVersions()).toMatchObject({
      node: process.version,
      adabelief: expect.stringMatching(/^\d+\.\d+\.\d+/),
      tfjs: expect.stringMatching(/^\d+\.\d+\.\d+/),
    });
  });

  it("the suite stores it in every run file: command, commit, machine, start and end", async () => {
    const out = tmp();
    const task = fakeTask({ epochs: 1 });
    const before = Date.now();
    await runSuite({
      tasks: ["fake"],
      size: "quick",
      optimizers: ["adam"],
      seeds: 1,
      backend: "cpu",
      out,
      loadTask: async () => task,
      reporter: quietReporter(),
      command: "npx tsx packages/experiments/src/cli.ts fake --out o",
    });
    const file = runPath(out, { task: "fake", optimizer: "adam", seed: 1 });
    const stored = JSON.parse(readFileSync(file, "utf8")) as RunResult;
    const p = stored.provenance!;
    expect(p.command).toBe("npx tsx packages/experiments/src/cli.ts fake --out o");
    expect(p.commit).toBe(codeState({ exclude: [out] }).commit);
    expect(p.cpu).toBe(machine().cpu);
    expect(p.cores).toBe(machine().cores);
    const started = Date.parse(p.startedAt!);
    const finished = Date.parse(p.finishedAt!);
    expect(started).toBeGreaterThanOrEqual(before - 1000);
    expect(finished).toBeGreaterThanOrEqual(started);
    expect(stored.versions).toMatchObject({ node: process.version, fake: "1" });
    expect(stored.versions.tfjs).toBeDefined();
  });

  it("old run files without provenance stay valid; a malformed provenance is named", () => {
    expect(runResultProblem(run(1))).toBeNull();
    expect(provenanceProblem(undefined)).toBeNull();
    expect(runResultProblem({ ...run(1), provenance: { commit: 3 } })).toBe(
      "provenance.commit: expected a string",
    );
    expect(runResultProblem({ ...run(1), provenance: { commit: "abc", dirty: "yes" } })).toBe(
      "provenance.dirty: expected a boolean or null",
    );
    expect(
      runResultProblem({ ...run(1), provenance: { commit: "abc", dirty: null, startedAt: "yesterday" } }),
    ).toBe("provenance.startedAt: expected an ISO 8601 time");
    expect(runResultProblem({ ...run(1), provenance: { commit: "abc", dirty: false, cores: 0 } })).toBe(
      "provenance.cores: expected a positive integer",
    );
  });

  it("a committed run file from before provenance is still read", () => {
    const file = join(import.meta.dirname, "../../../results/full/cnn/runs/adam-seed1.json");
    const read = readRunFile(file);
    expect("run" in read && read.run.provenance).toBeUndefined();
    expect("problem" in read).toBe(false);
  });
});

describe("the compute and provenance of a report", () => {
  it("merges overlapping spans and measures wall-clock from the first start to the last end", () => {
    expect(
      mergeIntervals([
        [5, 8],
        [0, 2],
        [1, 3],
        [8, 9],
      ]),
    ).toEqual([
      [0, 3],
      [5, 9],
    ]);
    const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
    const s = summarizeProvenance([
      run(10, {
        commit: "a".repeat(40),
        dirty: false,
        cpu: "X",
        cores: 2,
        command: "c1",
        startedAt: t(0),
        finishedAt: t(10),
      }),
      // A second process at the same time.
      run(8, {
        commit: "a".repeat(40),
        dirty: false,
        cpu: "X",
        cores: 2,
        command: "c1",
        startedAt: t(2),
        finishedAt: t(10),
      }),
      run(5, {
        commit: "b".repeat(40),
        dirty: true,
        cpu: "Y",
        cores: 4,
        command: "c2",
        startedAt: t(20),
        finishedAt: t(25),
      }),
      run(7),
    ]);
    expect(s.runSeconds).toBe(30);
    expect(s.commands).toEqual([
      { value: "c1", runs: 2 },
      { value: "c2", runs: 1 },
    ]);
    expect(s.commits).toEqual([
      { value: "aaaaaaaaaaaa", runs: 2 },
      { value: "bbbbbbbbbbbb (dirty)", runs: 1 },
    ]);
    expect(s.withoutCommand).toBe(1);
    expect(s.withoutTimes).toBe(1);
    expect(wallClock(s)).toEqual({ spanSeconds: 25, busySeconds: 15 });
    const md = provenanceMarkdown(s, {
      folderCommands: { commands: ["npm run suite -- old"], note: "as recorded then" },
      reportCommand: "cli report --out x",
    });
    expect(md).toContain("  - `c1`: 2 runs\n  - `c2`: 1 run\n");
    expect(md).toContain(
      "  - 1 run file does not record the command that made it (made before run files did); the folder's " +
        "`commands.json` lists the commands that made them, as recorded then:\n    - `npm run suite -- old`\n",
    );
    expect(md).toContain("- This report: `cli report --out x`");
    expect(md).toContain(
      "- Code: commit `aaaaaaaaaaaa` (2 runs); `bbbbbbbbbbbb (dirty)` (1 run); not recorded (1 run).",
    );
    expect(md).toContain("- Machines: X, 2 cores (2 runs); Y, 4 cores (1 run); not recorded (1 run).");
    expect(md).toContain(
      "- Compute: 30s of run time (the sum over 4 runs); wall-clock 25s from the first run's start to the " +
        "last run's end (over the 3 runs that record it), with runs in progress during 15s of it.",
    );
    // Combining per-task summaries keeps the counts and the spans.
    const both = combineProvenance([s, s]);
    expect(both.runs).toBe(8);
    expect(both.commands[0]).toEqual({ value: "c1", runs: 4 });
    expect(wallClock(both)).toEqual({ spanSeconds: 25, busySeconds: 15 });
  });

  it("run files without times: the wall-clock is said to be unknown", () => {
    const md = provenanceMarkdown(summarizeProvenance([run(3), run(4)]));
    expect(md).toContain(
      "- The run files do not record the command that made them (they predate that); it is not known.",
    );
    expect(md).toContain("- Compute: 7.0s of run time (the sum over 2 runs); wall-clock not recorded");
  });

  it("the README and the task report name the commands and the compute; commands.json is listed", async () => {
    const out = tmp();
    const task = fakeTask({ epochs: 1 });
    const options = {
      tasks: ["fake"],
      size: "quick" as const,
      optimizers: ["sgd", "adam"] as ("sgd" | "adam")[],
      backend: "cpu" as const,
      out,
      loadTask: async () => task,
      reporter: quietReporter(),
    };
    await runSuite({ ...options, seeds: 1, command: "cli fake --seeds 1" });
    await runSuite({ ...options, seeds: 2, command: "cli fake --seeds 2" });
    // A run file made before commands were recorded, and the folder's list of such commands.
    const old = runPath(out, { task: "fake", optimizer: "sgd", seed: 2 });
    const { provenance: _p, ...legacy } = JSON.parse(readFileSync(old, "utf8"));
    writeFileSync(old, JSON.stringify(legacy));
    writeFileSync(join(out, "commands.json"), JSON.stringify({ commands: ["cli fake --old"] }));
    expect(readFolderCommands(out)).toEqual({
      commands: ["cli fake --old"],
      file: join(out, "commands.json"),
    });
    const r = await rebuildReports(out, { loadTask: async () => task, command: "cli report --out o" });
    expect(r.warnings).toEqual([]);
    for (const [file, link] of [
      [join(out, "README.md"), "[`commands.json`](commands.json)"],
      [join(out, "fake", "report.md"), "[`../commands.json`](../commands.json)"],
    ] as const) {
      const md = readFileSync(file, "utf8");
      expect(md).toContain(
        `1 run file does not record the command that made it (made before run files did); ${link} lists`,
      );
      expect(md).toContain("  - `cli fake --seeds 1`: 2 runs\n  - `cli fake --seeds 2`: 1 run\n");
      expect(md).toContain("    - `cli fake --old`");
      expect(md).toContain("- This report: `cli report --out o`");
      expect(md).toMatch(
        /- Compute: [0-9.]+s of run time \(the sum over 4 runs\); wall-clock [0-9.]+s from the first/,
      );
    }
    writeFileSync(join(out, "commands.json"), JSON.stringify({ commands: [3] }));
    expect(() => readFolderCommands(out)).toThrow(/commands\.json: expected/);
  });
});
