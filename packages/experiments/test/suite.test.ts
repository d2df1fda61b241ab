import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runPath } from "../src/results.js";
import { rebuildReports, runSuite, type SuiteOptions } from "../src/suite.js";
import type { Task } from "../src/task.js";
import { fakeTask } from "./suite-fake-task.js";
import { quietReporter, tmpDirs } from "./helpers.js";

const tmp = tmpDirs("suite-test");

function options(out: string, task: Task, extra: Partial<SuiteOptions> = {}): SuiteOptions {
  return {
    tasks: [task.name],
    size: "quick",
    optimizers: ["sgd", "adam", "adabelief"],
    backend: "cpu",
    out,
    loadTask: async (name) => {
      if (name !== task.name) throw new Error(`no task ${name}`);
      return task;
    },
    reporter: quietReporter(),
    ...extra,
  };
}

function runFiles(out: string, task = "fake"): string[] {
  return readdirSync(join(out, task, "runs")).sort();
}

describe("runSuite resume", () => {
  it("an interrupted suite keeps finished runs, and the rerun skips them and gives identical results", async () => {
    const out = tmp();
    const controller = new AbortController();
    // Abort during the 4th run (adam seed 2): runs 1-3 are finished and must survive.
    const first = fakeTask({ onRun: (_spec, i) => i === 3 && controller.abort() });
    const o1 = await runSuite(options(out, first, { signal: controller.signal }));
    expect(o1.aborted).toBe(true);
    expect(o1.ran).toEqual(["fake/sgd-seed1", "fake/sgd-seed2", "fake/adam-seed1"]);
    expect(runFiles(out)).toEqual(["adam-seed1.json", "sgd-seed1.json", "sgd-seed2.json"]);
    // No temporary files are left behind, and the interrupted run was not written.
    expect(readdirSync(join(out, "fake", "runs")).filter((f) => f.includes(".tmp"))).toEqual([]);
    const before = Object.fromEntries(
      runFiles(out).map((f) => [f, readFileSync(join(out, "fake", "runs", f), "utf8")]),
    );
    const mtimes = Object.fromEntries(
      runFiles(out).map((f) => [f, statSync(join(out, "fake", "runs", f)).mtimeMs]),
    );

    const second = fakeTask();
    const o2 = await runSuite(options(out, second));
    expect(o2.aborted).toBe(false);
    expect(o2.skipped).toEqual(["fake/sgd-seed1", "fake/sgd-seed2", "fake/adam-seed1"]);
    expect(o2.ran).toEqual(["fake/adam-seed2", "fake/adabelief-seed1", "fake/adabelief-seed2"]);
    expect(second.calls.map((s) => `${s.optimizer}-${s.seed}`)).toEqual([
      "adam-2",
      "adabelief-1",
      "adabelief-2",
    ]);
    for (const f of Object.keys(before)) {
      expect(readFileSync(join(out, "fake", "runs", f), "utf8")).toBe(before[f]);
      expect(statSync(join(out, "fake", "runs", f)).mtimeMs).toBe(mtimes[f]);
    }

    // The same suite in one go in a fresh folder gives the same final results.
    const fresh = tmp();
    await runSuite(options(fresh, fakeTask()));
    for (const f of runFiles(fresh)) {
      const a = JSON.parse(readFileSync(join(out, "fake", "runs", f), "utf8"));
      const b = JSON.parse(readFileSync(join(fresh, "fake", "runs", f), "utf8"));
      expect(a.final).toEqual(b.final);
      expect(a.curves).toEqual(b.curves);
      expect(a.spec).toEqual(b.spec);
    }
    // A third run does nothing but regenerate reports.
    const third = fakeTask();
    const o3 = await runSuite(options(out, third));
    expect(third.calls).toEqual([]);
    expect(o3.skipped).toHaveLength(6);
  });

  it("redoes a stored run whose spec differs (e.g. epochs) and says so", async () => {
    const out = tmp();
    await runSuite(options(out, fakeTask(), { optimizers: ["adam"], seeds: 1 }));
    const lines: string[] = [];
    const task = fakeTask();
    const o = await runSuite(
      options(out, task, { optimizers: ["adam"], seeds: 1, epochs: 5, reporter: quietReporter(lines) }),
    );
    expect(task.calls).toHaveLength(1);
    const file = runPath(out, { task: "fake", optimizer: "adam", seed: 1 });
    expect(o.redone).toEqual([
      { label: "fake/adam-seed1", reason: "its spec differs: epochs default ≠ 5", file },
    ]);
    expect(lines.join("")).toContain(
      `fake/adam-seed1: redoing the stored run ${file}: its spec differs: epochs default ≠ 5`,
    );
    const stored = JSON.parse(readFileSync(file, "utf8"));
    expect(stored.spec.epochs).toBe(5);
    expect(stored.curves).toHaveLength(5);
  });

  it("redoes an unreadable run file", async () => {
    const out = tmp();
    await runSuite(options(out, fakeTask(), { optimizers: ["sgd"], seeds: 1 }));
    writeFileSync(runPath(out, { task: "fake", optimizer: "sgd", seed: 1 }), '{"spec": {"task": "fa');
    const task = fakeTask();
    const o = await runSuite(options(out, task, { optimizers: ["sgd"], seeds: 1 }));
    expect(task.calls).toHaveLength(1);
    expect(o.redone[0]!.reason).toMatch(/^unreadable/);
  });

  it("redoes a run file with a run's shape but a field missing, and warns about a malformed file of another seed", async () => {
    const out = tmp();
    await runSuite(options(out, fakeTask(), { optimizers: ["sgd"], seeds: 2 }));
    const seed1 = runPath(out, { task: "fake", optimizer: "sgd", seed: 1 });
    const seed2 = runPath(out, { task: "fake", optimizer: "sgd", seed: 2 });
    const { hyperparameters: _h, ...noHyper } = JSON.parse(readFileSync(seed1, "utf8"));
    writeFileSync(seed1, JSON.stringify(noHyper));
    writeFileSync(seed2, JSON.stringify({ ...JSON.parse(readFileSync(seed2, "utf8")), curves: [null] }));
    const lines: string[] = [];
    const task = fakeTask();
    // Seed 2 is not asked for: it is not redone, but the report leaves it out and says so.
    const o = await runSuite(
      options(out, task, { optimizers: ["sgd"], seeds: 1, reporter: quietReporter(lines) }),
    );
    expect(task.calls.map((s) => s.seed)).toEqual([1]);
    expect(o.redone).toEqual([
      {
        label: "fake/sgd-seed1",
        reason: "malformed (hyperparameters: expected an object, found nothing)",
        file: seed1,
      },
    ]);
    const warning = `${seed2}: not used: malformed (curves[0]: expected an object, found null)`;
    expect(o.warnings).toEqual([warning]);
    expect(lines.join("")).toContain(`warning: ${warning}`);
    expect(o.failed).toEqual([]);
    expect(o.summaries[0]!.runs).toBe(1);
  });

  it("a run that throws is reported, the others are written, and it is retried on the next run", async () => {
    const out = tmp();
    const crashing = fakeTask({
      onRun: (spec) => {
        if (spec.optimizer === "adam") throw new Error("out of memory\nstack...");
      },
    });
    const o = await runSuite(options(out, crashing, { seeds: 1 }));
    expect(o.failed).toEqual([{ label: "fake/adam-seed1", error: "out of memory" }]);
    expect(runFiles(out)).toEqual(["adabelief-seed1.json", "sgd-seed1.json"]);
    const retry = fakeTask();
    const o2 = await runSuite(options(out, retry, { seeds: 1 }));
    expect(retry.calls.map((s) => s.optimizer)).toEqual(["adam"]);
    expect(o2.failed).toEqual([]);
  });

  it("reports an unavailable task clearly and still runs the others", async () => {
    const out = tmp();
    const task = fakeTask();
    const o = await runSuite({
      ...options(out, task, { seeds: 1 }),
      tasks: ["missing", "fake"],
    });
    expect(o.unavailable).toEqual([{ task: "missing", reason: "no task missing" }]);
    expect(o.ran).toHaveLength(3);
    const readme = readFileSync(join(out, "README.md"), "utf8");
    expect(readme).toContain("Tasks not available in this run: **missing** (no task missing)");
    expect(readme).toContain("[Fake task](fake/report.md)");
  });

  it("registry: the toy task loads and runs through the suite in a few seconds", async () => {
    const out = tmp();
    const o = await runSuite({
      tasks: ["toy"],
      size: "quick",
      optimizers: ["adam", "adabelief"],
      epochs: 300,
      backend: "cpu",
      out,
      reporter: quietReporter(),
    });
    expect(o.unavailable).toEqual([]);
    expect(o.ran).toEqual(["toy/adam-seed1", "toy/adabelief-seed1"]);
    expect(readdirSync(join(out, "toy")).filter((f) => f.startsWith("trajectory-"))).toHaveLength(5);
  });

  it("rebuildReports regenerates reports and the README from the run files alone, running nothing", async () => {
    const out = tmp();
    const task = fakeTask();
    await runSuite(options(out, task));
    const calls = task.calls.length;
    rmSync(join(out, "fake", "report.md"));
    writeFileSync(join(out, "README.md"), "stale");
    mkdirSync(join(out, "notes")); // a folder without runs is not a task
    const r = await rebuildReports(out, { loadTask: async () => task, command: "cli report --out x" });
    expect(task.calls.length).toBe(calls);
    expect(r.tasks).toEqual(["fake"]);
    expect(r.failed).toEqual([]);
    expect(r.warnings).toEqual([]);
    expect(readFileSync(join(out, "fake", "report.md"), "utf8")).toContain("# Fake task");
    const readme = readFileSync(join(out, "README.md"), "utf8");
    expect(readme).toContain("Assembled by `cli report --out x` from the run files in this folder");
    expect(readme).not.toContain("rerunning it resumes");
    expect(readme).toContain("| Adam | **88.75 ± 0.3536** |");
  });
});
