import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { rateDir, runSweep, selectRates, type SweepOptions } from "../src/sweep.js";
import type { RunResult, Task } from "../src/task.js";
import { fakeTask, fakeValAcc } from "./suite-fake-task.js";
import { quietReporter, tmpDirs } from "./helpers.js";

const tmp = tmpDirs("sweep-test");

function options(out: string, task: Task, extra: Partial<SweepOptions> = {}): SweepOptions {
  return {
    task: task.name,
    rates: [1e-4, 1e-3, 1e-2, 1e-1],
    size: "quick",
    optimizers: ["sgd", "adam", "adabelief"],
    backend: "cpu",
    out,
    loadTask: async () => task,
    reporter: quietReporter(),
    ...extra,
  };
}

describe("learning-rate sweep", () => {
  it("selects each optimizer's rate on validation (never test), reports test at that rate, writes sweep.md/json", async () => {
    const out = tmp();
    const task = fakeTask({ validation: true, epochs: 1 });
    const outcome = await runSweep(options(out, task));
    expect(outcome.ran).toBe(4 * 3 * 2);
    const chosen = Object.fromEntries(outcome.choices.map((c) => [c.optimizer, c.selected]));
    // Validation peaks at 0.01 for SGD and 0.001 for the others; test would have picked 0.1 for all.
    expect(chosen).toEqual({ sgd: 0.01, adam: 0.001, adabelief: 0.001 });
    const adam = outcome.choices.find((c) => c.optimizer === "adam")!;
    const cell = adam.cells.find((c) => c.rate === 0.001)!;
    expect(cell.validation.mean).toBeCloseTo(fakeValAcc("adam", 0.001) + 0.15, 10); // seeds 1, 2
    expect(cell.validation.n).toBe(2);
    expect(cell.headline.mean).toBeCloseTo(85 + 1 + 0.75 + 0.1, 10);
    // Each rate is its own resumable suite folder.
    for (const rate of [1e-4, 1e-3, 1e-2, 1e-1])
      expect(existsSync(join(rateDir(out, "fake", rate), "fake", "runs", "adam-seed2.json"))).toBe(true);
    const md = readFileSync(outcome.report, "utf8");
    expect(md).toContain("selected on the **validation accuracy (%)**");
    expect(md).toContain("| optimizer | lr 1.00e-4 | lr 0.001 | lr 0.01 | lr 0.1 |");
    expect(md).toContain("| optimizer | selected lr | validation accuracy (%) | test accuracy (%) |");
    expect(md).toContain("| SGD | 0.01 |");
    expect(md).toContain("[lr 0.001](lr-0.001/README.md)");
    const json = JSON.parse(readFileSync(outcome.json, "utf8"));
    expect(json.selectedOn.metric).toBe("valAcc");
    expect(json.choices.map((c: { selected: number }) => c.selected)).toEqual([0.01, 0.001, 0.001]);
  });

  it("resumes: a second sweep runs nothing and makes the same choice", async () => {
    const out = tmp();
    const task = fakeTask({ validation: true, epochs: 1 });
    const first = await runSweep(options(out, task, { rates: [1e-3, 1e-2] }));
    const again = await runSweep(options(out, task, { rates: [1e-3, 1e-2] }));
    expect(again.ran).toBe(0);
    expect(again.skipped).toBe(first.ran);
    expect(again.choices).toEqual(first.choices);
  });

  it("a rate where a seed diverged is not selected while a clean rate exists", () => {
    const task = fakeTask({ validation: true });
    const run = (rate: number, seed: number, valAcc: number, diverged = 0): RunResult => ({
      spec: { task: "fake", optimizer: "adam", seed, size: "quick", backend: "cpu", learningRate: rate },
      hyperparameters: {},
      curves: [],
      final: { valAcc, testAcc: 50, diverged },
      timings: { totalSeconds: 0, perEpochSeconds: [] },
      versions: {},
    });
    const runs: Record<number, RunResult[]> = {
      0.1: [run(0.1, 1, 99), run(0.1, 2, Number.NaN, 1)],
      0.01: [run(0.01, 1, 80), run(0.01, 2, 81)],
    };
    const [choice] = selectRates(task, [0.1, 0.01], ["adam"], (r) => runs[r]!);
    expect(choice!.selected).toBe(0.01);
    expect(choice!.cells[0]!.validation.failed).toBe(1);
  });

  it("refuses a task without a validation metric, and fewer than two rates", async () => {
    const out = tmp();
    await expect(runSweep(options(out, fakeTask()))).rejects.toThrow(/has no validation split/);
    await expect(runSweep(options(out, fakeTask({ validation: true }), { rates: [1e-3] }))).rejects.toThrow(
      /at least two learning rates/,
    );
  });
});
