/**
 * The report's plots as SVG, made with vega-lite compiled to vega and rendered headless in Node
 * (`renderer: "none"`, no canvas): curves with a shaded ±std band, bar charts with error bars, and toy
 * trajectories over contour lines.
 *
 * @packageDocumentation
 */
import * as vega from "vega";
import * as vl from "vega-lite";
import { OPTIMIZERS, type OptimizerName } from "../task.js";
import type { ContourLine } from "./contours.js";
import { colorScale, OPTIMIZER_LABELS } from "./palette.js";
import type { CurvePoint, MeanStd } from "./stats.js";

/** Renders a vega-lite spec to an SVG string. */
export async function renderSvg(spec: vl.TopLevelSpec): Promise<string> {
  const compiled = vl.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const FONT_CONFIG = {
  font: "Helvetica, Arial, sans-serif",
  axis: { labelFontSize: 11, titleFontSize: 12, grid: true, gridOpacity: 0.5 },
  legend: { labelFontSize: 11, titleFontSize: 12 },
  title: { fontSize: 14, anchor: "start" as const },
};

/**
 * Splits a long title into lines of at most `width` characters at spaces (Vega-Lite draws a string array
 * as several lines), so long metric names neither get cut off nor run past the plot.
 */
export function wrapTitle(text: string, width = 48): string | string[] {
  if (text.length <= width) return text;
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

function presentOptimizers(names: Iterable<OptimizerName>): OptimizerName[] {
  const set = new Set(names);
  return OPTIMIZERS.filter((n) => set.has(n));
}

/** Options of {@link curvesSpec}. */
export interface CurvesOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  /** Logarithmic y axis; the band's lower edge is clamped to the smallest positive value. */
  logY?: boolean;
}

/** A line chart of mean curves per optimizer with a shaded mean ± std band over seeds. */
export function curvesSpec(points: readonly CurvePoint[], options: CurvesOptions): vl.TopLevelSpec {
  const positive = points.map((p) => p.mean).filter((v) => v > 0);
  const floor = positive.length > 0 ? Math.min(...positive) : 1e-12;
  const values = points
    .filter((p) => !options.logY || p.mean > 0)
    .map((p) => ({
      optimizer: OPTIMIZER_LABELS[p.optimizer],
      epoch: p.epoch,
      mean: p.mean,
      lo: options.logY ? Math.max(p.lo, floor) : p.lo,
      hi: p.hi,
      bold: p.optimizer === "adabelief" ? 1 : 0,
    }));
  const names = presentOptimizers(points.map((p) => p.optimizer));
  const color = {
    field: "optimizer",
    type: "nominal" as const,
    scale: colorScale(names),
    title: "optimizer",
    sort: names.map((n) => OPTIMIZER_LABELS[n]),
  };
  const x = { field: "epoch", type: "quantitative" as const, title: options.xLabel };
  const yScale = options.logY ? { type: "log" as const } : { zero: false };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: wrapTitle(options.title),
    width: 440,
    height: 280,
    config: FONT_CONFIG,
    data: { values },
    // One colour scale, but the legends apart: with a shared legend the bands' `legend: null` removes the
    // lines' legend too. The lines' legend shows strokes.
    resolve: { legend: { color: "independent" } },
    layer: [
      {
        mark: { type: "area", opacity: 0.18 },
        encoding: {
          x,
          y: { field: "lo", type: "quantitative", scale: yScale, title: wrapTitle(options.yLabel, 36) },
          y2: { field: "hi" },
          color: { ...color, legend: null },
        },
      },
      {
        mark: { type: "line", clip: true },
        encoding: {
          x,
          y: { field: "mean", type: "quantitative", scale: yScale, title: wrapTitle(options.yLabel, 36) },
          color: { ...color, legend: { symbolType: "stroke", symbolStrokeWidth: 2.5 } },
          strokeWidth: {
            field: "bold",
            type: "quantitative",
            scale: { domain: [0, 1], range: [1.5, 3] },
            legend: null,
          },
        },
      },
    ],
  };
}

/** Options of {@link barSpec}. */
export interface BarOptions {
  title: string;
  label: string;
}

/** A bar chart of a final metric's mean per optimizer with ±std error bars. */
export function barSpec(stats: ReadonlyMap<OptimizerName, MeanStd>, options: BarOptions): vl.TopLevelSpec {
  const names = presentOptimizers(stats.keys());
  const values = names.map((n) => {
    const s = stats.get(n)!;
    return { optimizer: OPTIMIZER_LABELS[n], mean: s.mean, lo: s.mean - s.std, hi: s.mean + s.std, n: s.n };
  });
  const x = {
    field: "optimizer",
    type: "nominal" as const,
    sort: names.map((n) => OPTIMIZER_LABELS[n]),
    title: null,
    axis: { labelAngle: -40 },
  };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: wrapTitle(options.title),
    width: 400,
    height: 260,
    config: FONT_CONFIG,
    data: { values },
    layer: [
      {
        mark: { type: "bar" },
        encoding: {
          x,
          y: { field: "mean", type: "quantitative", title: wrapTitle(options.label, 36) },
          color: { field: "optimizer", type: "nominal", scale: colorScale(names), legend: null },
        },
      },
      {
        mark: { type: "rule", strokeWidth: 1.5, color: "#333333" },
        encoding: { x, y: { field: "lo", type: "quantitative" }, y2: { field: "hi" } },
      },
      {
        mark: { type: "tick", color: "#333333", thickness: 1.5, size: 10 },
        encoding: { x, y: { field: "lo", type: "quantitative" } },
      },
      {
        mark: { type: "tick", color: "#333333", thickness: 1.5, size: 10 },
        encoding: { x, y: { field: "hi", type: "quantitative" } },
      },
    ],
  };
}

/** One optimizer's path for {@link trajectorySpec}: `[step, x, y]` rows. */
export interface TrajectoryInput {
  optimizer: OptimizerName;
  trajectory: readonly (readonly [number, number, number])[];
}

/** Options of {@link trajectorySpec}. */
export interface TrajectoryOptions {
  title: string;
  domain: readonly [readonly [number, number], readonly [number, number]];
  start: readonly [number, number];
  minimum: readonly [number, number];
}

/** Trajectories of the optimizers over the function's contour lines (grey), with the start and the minimum. */
export function trajectorySpec(
  paths: readonly TrajectoryInput[],
  contours: readonly ContourLine[],
  options: TrajectoryOptions,
): vl.TopLevelSpec {
  const round = (v: number): number => Math.round(v * 1e4) / 1e4;
  const contourValues = contours.flatMap((line, k) =>
    line.points.map(([x, y], order) => ({ line: k, order, x: round(x), y: round(y) })),
  );
  const [[x0, x1], [y0, y1]] = options.domain;
  const inBox = (x: number, y: number): boolean => {
    const mx = (x1 - x0) * 0.5;
    const my = (y1 - y0) * 0.5;
    return x >= x0 - mx && x <= x1 + mx && y >= y0 - my && y <= y1 + my;
  };
  const pathValues = paths.flatMap((p) => {
    const rows: { optimizer: string; step: number; x: number; y: number; bold: number }[] = [];
    for (const [step, x, y] of p.trajectory) {
      // Points far outside the window (diverged runs) would only stretch nothing; the line is clipped anyway.
      if (!inBox(x, y)) break;
      rows.push({
        optimizer: OPTIMIZER_LABELS[p.optimizer],
        step,
        x: round(x),
        y: round(y),
        bold: p.optimizer === "adabelief" ? 1 : 0,
      });
    }
    return rows;
  });
  const names = presentOptimizers(paths.map((p) => p.optimizer));
  const xEnc = {
    field: "x",
    type: "quantitative" as const,
    scale: { domain: [x0, x1], nice: false },
    title: "x",
  };
  const yEnc = {
    field: "y",
    type: "quantitative" as const,
    scale: { domain: [y0, y1], nice: false },
    title: "y",
  };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: wrapTitle(options.title),
    width: 340,
    height: 340,
    config: FONT_CONFIG,
    layer: [
      {
        data: { values: contourValues },
        mark: { type: "line", clip: true, color: "#b8b8b8", strokeWidth: 0.8 },
        encoding: {
          x: xEnc,
          y: yEnc,
          detail: { field: "line", type: "nominal" },
          order: { field: "order", type: "quantitative" },
        },
      },
      {
        data: { values: pathValues },
        mark: { type: "line", clip: true, opacity: 0.9 },
        encoding: {
          x: xEnc,
          y: yEnc,
          order: { field: "step", type: "quantitative" },
          color: {
            field: "optimizer",
            type: "nominal",
            scale: colorScale(names),
            sort: names.map((n) => OPTIMIZER_LABELS[n]),
            title: "optimizer",
          },
          strokeWidth: {
            field: "bold",
            type: "quantitative",
            scale: { domain: [0, 1], range: [1.3, 2.6] },
            legend: null,
          },
        },
      },
      {
        data: {
          values: [
            { x: options.start[0], y: options.start[1], what: "start" },
            { x: options.minimum[0], y: options.minimum[1], what: "minimum" },
          ],
        },
        mark: { type: "point", filled: true, size: 90, color: "#222222", clip: true },
        encoding: {
          x: xEnc,
          y: yEnc,
          shape: {
            field: "what",
            type: "nominal",
            scale: { domain: ["start", "minimum"], range: ["circle", "cross"] },
            title: null,
          },
        },
      },
    ],
    resolve: { scale: { color: "independent", shape: "independent" } },
  };
}
