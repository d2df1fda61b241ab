import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { contourLines, didNotWinStatements, writeSuiteReadme, writeTaskReport } from "../src/report/index.js";
import { curveAxis, decayEpochs, parseSchedule, updatesPerEpoch } from "../src/report/axes.js";
import { OPTIMIZER_COLORS, OPTIMIZER_DASHES, OPTIMIZER_SHAPES } from "../src/report/palette.js";
import { trajectorySpec, wrapTitle } from "../src/report/plots.js";
import { creditedSteps, toySection } from "../src/report/toy-report.js";
import { writeJsonAtomic } from "../src/results.js";
import { runSuite } from "../src/suite.js";
import { OPTIMIZERS } from "../src/task.js";
import { task as toyTask, type ToyExtra } from "../src/tasks/toy.js";
import { fakeTask } from "./suite-fake-task.js";
import { quietReporter, tmpDirs } from "./helpers.js";

const tmp = tmpDirs("report-test");

/** Checks that an SVG document is one well-nested <svg> element (a small tag-balance check). */
function expectValidSvg(svg: string): void {
  expect(svg.startsWith("<svg")).toBe(true);
  expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-zA-Z][\w:-]*)([^>]*?)(\/?)>/g)) {
    const [, close, name, , selfClose] = m;
    if (selfClose) continue;
    if (close) expect(stack.pop()).toBe(name);
    else stack.push(name!);
  }
  expect(stack).toEqual([]);
}

describe("task reports", () => {
  it("writes report.md with a mean ± std table (best bold), the paper's numbers, a did-not-win statement and valid SVGs", async () => {
    const out = tmp();
    const task = fakeTask();
    await runSuite({
      tasks: ["fake"],
      size: "quick",
      optimizers: ["sgd", "adam", "adabelief"],
      backend: "cpu",
      out,
      loadTask: async () => task,
      reporter: quietReporter(),
    });
    const dir = join(out, "fake");
    const md = readFileSync(join(dir, "report.md"), "utf8");
    // Adam: 85 + 3 + {0.5, 1} → 88.75 ± 0.3536; AdaBelief 87.75 ± 0.3536. The t-interval of two values:
    // 88.75 ± t_{0.975,1} · 0.3536/√2 = 88.75 ± 12.706 · 0.25 = [85.57, 91.93]; the bootstrap's: their range.
    expect(md).toContain(
      "| optimizer | test accuracy (%) | 95 % CI (t) | 95 % CI (bootstrap) | seeds | seconds per run |",
    );
    expect(md).toContain("| Adam | **88.75 ± 0.3536** | [85.57, 91.93] | [88.5, 89] | 2 |");
    expect(md).toContain("| AdaBelief | 87.75 ± 0.3536 | [84.57, 90.93] | [87.5, 88] | 2 |");
    // Paired by seed, AdaBelief − Adam is −1 on both seeds: a zero-width interval, "worse".
    expect(md).toContain("### Against Adam");
    expect(md).toContain("| AdaBelief | 2 | −1 | [−1, −1] | [−1, −1] | worse |");
    expect(md).toContain("### Against SGD");
    expect(md).toContain("| AdaBelief | 2 | +4 | [4, 4] | [4, 4] | better |");
    expect(md).toContain(
      "AdaBelief did not win on test accuracy (%): Adam was best with 88.75 ± 0.3536; AdaBelief ranked 2 of 3",
    );
    expect(md).toContain("The paper reports 91.17 for AdaBelief.");
    const svgs = readdirSync(dir)
      .filter((f) => f.endsWith(".svg"))
      .sort();
    expect(svgs).toEqual(["curve-testAcc.svg", "curve-trainLoss.svg", "final-testAcc.svg"]);
    for (const f of svgs) {
      expectValidSvg(readFileSync(join(dir, f), "utf8"));
      expect(md).toContain(`](${f})`);
    }
    // The shaded band is drawn (an area path per optimizer) and the fixed AdaBelief colour is used.
    const curve = readFileSync(join(dir, "curve-testAcc.svg"), "utf8");
    expect(curve).toContain("#D55E00");
    expect(curve).toMatch(/aria-roledescription="area mark" d="[^"]+" fill="#D55E00" opacity="0\.18"/);
    // A curve plot carries its legend: one entry per optimizer, drawn as strokes.
    expect(curve).toContain(
      "aria-label=\"Symbol legend titled 'optimizer' for fill color and stroke color with 3 values: SGD, Adam, AdaBelief\"",
    );
    const readme = readFileSync(join(out, "README.md"), "utf8");
    expect(readme).toContain("| optimizer | fake: test accuracy (%) (↑) |");
    expect(readme).toContain("| Adam | **88.75 ± 0.3536** |");
    expect(readme).toContain("- fake: AdaBelief did not win");
    const results = JSON.parse(readFileSync(join(dir, "results.json"), "utf8"));
    expect(results.runs).toHaveLength(6);
  });

  it("wraps long plot titles at spaces into lines of at most the width, keeping every word", () => {
    expect(wrapTitle("short", 10)).toBe("short");
    const text = "Fréchet distance on our Fashion-MNIST classifier features";
    const lines = wrapTitle(text, 20) as string[];
    expect(lines).toEqual(["Fréchet distance on", "our Fashion-MNIST", "classifier features"]);
    expect(lines.join(" ")).toBe(text);
  });

  it("returns null and writes nothing for a task without runs; README says so", async () => {
    const out = tmp();
    expect(await writeTaskReport(out, fakeTask())).toBeNull();
    const { table } = writeSuiteReadme(out);
    expect(table).toContain("No task has finished runs yet");
  });

  it("didNotWinStatements is empty when AdaBelief is (jointly) best and respects lower-is-better", () => {
    const s = new Map([
      ["adam", { mean: 60, std: 1, n: 3 }],
      ["adabelief", { mean: 61, std: 2, n: 3 }],
    ] as const);
    expect(didNotWinStatements(new Map(s), true, "acc")).toEqual([]);
    const lower = didNotWinStatements(new Map(s), false, "ppl");
    expect(lower[0]).toContain(
      "Adam was best with 60 ± 1; AdaBelief ranked 2 of 2 with 61 ± 2 (the gap is within one standard deviation)",
    );
  });
});

describe("contours", () => {
  it("the level-1 contour of x² + y² is a closed loop on the unit circle", () => {
    const lines = contourLines(
      (x, y) => x * x + y * y,
      [
        [-2, 2],
        [-2, 2],
      ],
      { resolution: 81, levels: [1] },
    );
    expect(lines).toHaveLength(1);
    const pts = lines[0]!.points;
    expect(pts.length).toBeGreaterThan(50);
    expect(pts[0]).toEqual(pts[pts.length - 1]);
    for (const [x, y] of pts) expect(Math.abs(Math.hypot(x, y) - 1)).toBeLessThan(0.01);
  });
});

describe("reports that do not mislead", () => {
  it("a deterministic task (every seed identical) is reported once: no ± 0, no intervals, no paired tables", async () => {
    const out = tmp();
    await runSuite({
      tasks: ["toy"],
      size: "quick",
      optimizers: ["adam", "adabelief"],
      seeds: 3,
      epochs: 300,
      backend: "cpu",
      out,
      reporter: quietReporter(),
    });
    const md = readFileSync(join(out, "toy", "report.md"), "utf8");
    expect(md).toContain("Every optimizer's 3 seeds gave identical results (the task is deterministic)");
    expect(md).toContain(
      "| optimizer | functions solved (final distance ≤ 0.01, of 5) | seeds | seconds per run |",
    );
    expect(md).toMatch(/\| Adam \| \**\d\**? \| 3 \(identical\) \|/);
    expect(md).not.toContain("± 0");
    expect(md).not.toContain("95 % CI");
    expect(md).not.toContain("paired by seed");
    expect(md).toContain("One curve per optimizer (its seeds gave identical results).");
    const readme = readFileSync(join(out, "README.md"), "utf8");
    expect(readme).not.toContain("± 0");
    expect(readme).toContain("toy: every seed gave identical results (deterministic)");
    const summary = JSON.parse(readFileSync(join(out, "toy", "summary.json"), "utf8"));
    expect(summary.deterministic).toBe(true);
    expect(summary.rows.map((r: { n: number; identical: boolean }) => [r.n, r.identical])).toEqual([
      [1, true],
      [1, true],
    ]);
  });

  it("an optimizer with a diverged run is never marked best, and the report says why", async () => {
    const out = tmp();
    const task = fakeTask({ epochs: 1 });
    const real = task.run.bind(task);
    // Adam's seed 2 diverges, with the highest "accuracy" of all.
    task.run = async (spec, hooks) => {
      const r = await real(spec, hooks);
      if (spec.optimizer === "adam" && spec.seed === 2) r.final = { ...r.final, testAcc: 99, diverged: 1 };
      return r;
    };
    await runSuite({
      tasks: ["fake"],
      size: "quick",
      optimizers: ["sgd", "adam", "adabelief"],
      backend: "cpu",
      out,
      loadTask: async () => task,
      reporter: quietReporter(),
    });
    const md = readFileSync(join(out, "fake", "report.md"), "utf8");
    expect(md).toContain(
      "A run that diverged is never credited: Adam had diverged runs and cannot be marked best.",
    );
    expect(md).toMatch(/\| Adam \| 92\.75 ± [^*|]+\| .* \| 2 \(1 diverged\) \|/);
    expect(md).toMatch(/\| AdaBelief \| \*\*85\.75 ± 0\.3536\*\* \|/);
    const summary = JSON.parse(readFileSync(join(out, "fake", "summary.json"), "utf8"));
    expect(summary.best).toEqual(["adabelief"]);
    expect(summary.adabeliefDidNotWin).toEqual([]);
  });

  it("toy: a run that reached the minimum and then diverged is not credited (AdaBound on Rosenbrock)", async () => {
    // AdaBound's step is clamped into [lower, upper] bounds that close in on SGD at final lr 0.1. Near
    // Rosenbrock's minimum the curvature is ≈ 1,000, where heavy-ball SGD is stable only below lr ≈ 0.004: once
    // the lower bound passes that (a few hundred steps after the run came within 0.01 of (1, 1), at step 524),
    // the iterates are thrown off and leave the box at step 1,404. The old report took the 524 as the fastest.
    const runs = [];
    for (const optimizer of ["sgd", "adabound", "adabelief"] as const)
      runs.push(
        await toyTask.run(
          { task: "toy", optimizer, seed: 1, size: "quick", epochs: 3000, backend: "cpu" },
          { onProgress: () => {} },
        ),
      );
    const rosenbrock = (runs[1]!.extra as ToyExtra).paths.find((p) => p.id === "rosenbrock")!;
    expect(rosenbrock.diverged).toBe(true);
    expect(rosenbrock.stepsToTolerance).toBe(524);
    expect(rosenbrock.steps).toBe(1404);
    expect(creditedSteps(rosenbrock)).toBeNull();
    const { markdown, statements } = await toySection(runs);
    const row = markdown.split("\n").find((l) => l.startsWith("| AdaBound |"))!;
    expect(row.split("|").at(-2)!.trim()).toBe("diverged at step 1404 (within 0.01 at step 524, then left)");
    // SGD (2329) is the fastest credited run on Rosenbrock: bold, and the only one named as faster than AdaBelief.
    expect(
      markdown
        .split("\n")
        .find((l) => l.startsWith("| SGD |"))!
        .split("|")
        .at(-2)!
        .trim(),
    ).toMatch(/^\*\*2329\*\* \//);
    const onRosenbrock = statements.filter((s) => s.startsWith("On Rosenbrock"));
    expect(onRosenbrock).toEqual([
      "On Rosenbrock, SGD (2329) reached the minimum in fewer steps than AdaBelief (2724).",
    ]);
  });
});

describe("curves in the paper's units", () => {
  const cnnHp = {
    learningRate: 0.001,
    lrSchedule: "×0.1 at updates 968",
    batchSize: 128,
    epochs: 3,
    trainImages: 55000,
  };
  const lstmHp = { lrSchedule: "×0.1 at updates 262, 392", batchSize: 32, bptt: 64, trainChars: 1071285 };

  it("places the learning-rate decays in epochs from what the run file records", () => {
    expect(parseSchedule("×0.1 at updates 262, 392")).toEqual({ factor: "0.1", updates: [262, 392] });
    expect(parseSchedule("constant")).toBeNull();
    expect(updatesPerEpoch(cnnHp)).toBe(430); // ⌈55,000 / 128⌉
    expect(updatesPerEpoch(lstmHp)).toBe(523); // ⌊⌊1,071,284 / 32⌋ / 64⌋
    expect(updatesPerEpoch({ updatesPerEpoch: 7, batchSize: 1 })).toBe(7);
    expect(updatesPerEpoch({ batchSize: 64 })).toBeNull();
    const run = (hyperparameters: Record<string, unknown>) =>
      ({ hyperparameters }) as unknown as Parameters<typeof decayEpochs>[0];
    expect(decayEpochs(run(cnnHp)).map((d) => d.epoch)).toEqual([968 / 430]);
    expect(decayEpochs(run(lstmHp)).map((d) => Number(d.epoch.toFixed(3)))).toEqual([0.501, 0.75]);
    // The committed CNN runs: 3 epochs, decay at 75 % of the updates.
    const committed = JSON.parse(
      readFileSync(join(import.meta.dirname, "../../../results/full/cnn/runs/adam-seed1.json"), "utf8"),
    );
    expect(decayEpochs(committed)[0]!.epoch).toBeCloseTo(2.25, 2);
    const gan = curveAxis("gan", [run({ interval: 500 })]);
    expect(gan.label).toBe("generator step");
    expect(gan.x(run({ interval: 500 }), 3)).toBe(1500);
    expect(curveAxis("toy", []).label).toBe("optimizer step");
  });

  /** Writes run files of a task straight into `<out>/<task>/runs`. */
  function writeRuns(
    out: string,
    task: string,
    runs: { optimizer: string; seed: number; hp: object; curves: object[] }[],
  ) {
    for (const r of runs)
      writeJsonAtomic(join(out, task, "runs", `${r.optimizer}-seed${r.seed}.json`), {
        spec: { task, optimizer: r.optimizer, seed: r.seed, size: "quick", backend: "cpu" },
        hyperparameters: r.hp,
        curves: r.curves,
        final: { m: r.seed },
        timings: { totalSeconds: 1, perEpochSeconds: [] },
        versions: {},
      });
  }

  /** The tick labels of an SVG's axes (text of the tick-label groups). */
  function tickLabels(svg: string): string[] {
    return [...svg.matchAll(/aria-roledescription="axis"[\s\S]*?<\/g><\/g><\/g>/g)].flatMap((m) =>
      [...m[0].matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((t) => t[1]!),
    );
  }

  it("CNN-like curves: epochs with whole-number ticks and a dashed rule at the decay", async () => {
    const out = tmp();
    const curves = [1, 2, 3].map((epoch) => ({ epoch, testAcc: 80 + epoch }));
    writeRuns(out, "cnn", [
      { optimizer: "adam", seed: 1, hp: cnnHp, curves },
      {
        optimizer: "adam",
        seed: 2,
        hp: cnnHp,
        curves: curves.map((c) => ({ ...c, testAcc: c.testAcc + 1 })),
      },
    ]);
    const meta = { name: "cnn", title: "CNN", headline: { metric: "m", higherIsBetter: true, label: "m" } };
    await writeTaskReport(out, meta);
    const md = readFileSync(join(out, "cnn", "report.md"), "utf8");
    expect(md).toContain(
      "The x axis is the epoch. Dashed vertical lines: the learning-rate decays (lr ×0.1 at epoch 2.25).",
    );
    const svg = readFileSync(join(out, "cnn", "curve-testAcc.svg"), "utf8");
    expect(svg).toContain(">lr ×0.1</text>");
    expect(svg).toMatch(/aria-roledescription="rule mark"/);
    expect(svg).toContain(">epoch</text>");
    const ticks = tickLabels(svg);
    expect(ticks).toContain("3");
    expect(ticks.filter((t) => /^\d+\.\d+$/.test(t) && Number(t) < 10)).toEqual([]);
  });

  it("GAN-like curves: generator steps (interval × measurement), not 0.5-spaced intervals", async () => {
    const out = tmp();
    const curves = [0, 1, 2, 3, 4].map((epoch) => ({ epoch, fd: 200 - 30 * epoch }));
    writeRuns(out, "gan", [
      { optimizer: "adam", seed: 1, hp: { interval: 500, steps: 2000 }, curves },
      { optimizer: "adam", seed: 2, hp: { interval: 500, steps: 2000 }, curves },
    ]);
    const meta = { name: "gan", title: "GAN", headline: { metric: "m", higherIsBetter: false, label: "m" } };
    await writeTaskReport(out, meta);
    const svg = readFileSync(join(out, "gan", "curve-fd.svg"), "utf8");
    expect(svg).toContain(">generator step</text>");
    expect(svg).not.toContain(">interval</text>");
    const ticks = tickLabels(svg);
    expect(ticks).toContain("2000");
    expect(ticks).not.toContain("0.5");
  });
});

describe("toy trajectories", () => {
  it("every optimizer has its own colour, dash and end-marker shape", () => {
    for (const table of [OPTIMIZER_COLORS, OPTIMIZER_SHAPES])
      expect(new Set(Object.values(table)).size).toBe(OPTIMIZERS.length);
    expect(new Set(Object.values(OPTIMIZER_DASHES).map((d) => d.join(","))).size).toBe(OPTIMIZERS.length - 1);
  });

  it("marks each path's end (the last point inside the window) with the optimizer's shape; a diverged one is named", () => {
    const spec = trajectorySpec(
      [
        {
          optimizer: "adam",
          trajectory: [
            [0, 0, 0],
            [1, 0.5, 0.5],
            [2, 1, 1],
          ],
        },
        {
          optimizer: "adamw",
          trajectory: [
            [0, 0, 0],
            [1, 0.5, 0.5],
            [2, 1, 1],
          ],
        },
        {
          optimizer: "radam",
          trajectory: [
            [0, 0, 0],
            [1, 1.5, 0],
            [2, 400, 0],
          ],
          diverged: true,
        },
      ],
      [],
      {
        title: "t",
        domain: [
          [-2, 2],
          [-2, 2],
        ],
        start: [0, 0],
        minimum: [1, 1],
      },
    ) as unknown as {
      layer: {
        data?: { values: { optimizer?: string; x: number; y: number }[] };
        encoding?: Record<string, { scale?: { domain: string[]; range: unknown[] } }>;
      }[];
    };
    const ends = spec.layer.at(-1)!;
    expect(ends.data!.values.map((v) => [v.optimizer, v.x, v.y])).toEqual([
      ["Adam", 1, 1],
      ["AdamW", 1, 1],
      ["RAdam (diverged)", 1.5, 0],
    ]);
    expect(ends.encoding!.shape!.scale!.range).toEqual(["circle", "triangle-up", "triangle-right"]);
    const lines = spec.layer[1]!;
    // Adam and AdamW lie on top of each other: different colours and dashes keep both visible.
    expect(lines.encoding!.color!.scale!.range).toEqual(["#0072B2", "#56B4E9", "#CC79A7"]);
    expect(lines.encoding!.strokeDash!.scale!.range).toEqual([
      [1, 0],
      [8, 4],
      [10, 3, 2, 3],
    ]);
  });
});
