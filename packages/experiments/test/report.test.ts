import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  contourLines,
  didNotWinStatements,
  writeSuiteReadme,
  writeTaskReport,
} from "../src/report/index.js";
import { wrapTitle } from "../src/report/plots.js";
import { runSuite } from "../src/suite.js";
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
    // Adam: 85 + 3 + {0.5, 1} → 88.75 ± 0.3536; AdaBelief 87.75 ± 0.3536.
    expect(md).toContain("| optimizer | test accuracy (%) | seeds | seconds per run |");
    expect(md).toContain("| Adam | **88.75 ± 0.3536** | 2 |");
    expect(md).toContain("| AdaBelief | 87.75 ± 0.3536 | 2 |");
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
      "aria-label=\"Symbol legend titled 'optimizer' for stroke color with 3 values: SGD, Adam, AdaBelief\"",
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
