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
import {
  colorScale,
  OPTIMIZER_COLORS,
  OPTIMIZER_DASHES,
  OPTIMIZER_LABELS,
  OPTIMIZER_SHAPES,
} from "./palette.js";
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

/** One layer of a layered vega-lite spec. */
type Layer = Extract<vl.TopLevelSpec, { layer: unknown }>["layer"][number];

const FONT_CONFIG = {
  font: "Helvetica, Arial, sans-serif",
  axis: { labelFontSize: 11, titleFontSize: 12, grid: true, gridOpacity: 0.5 },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 240 },
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
  /** Vertical dashed rules with a label at the top, e.g. the learning-rate decays: `{ x, label }`. */
  rules?: readonly { x: number; label: string }[];
  /** x takes whole numbers only: ticks at whole numbers (no 0.5 ticks), axis from 0. */
  integerX?: boolean;
  /** Draw the ± std band (default true; off when every seed gave the same result). */
  band?: boolean;
}

/** Most points per curve that are still drawn as dots on the line (a one-epoch curve is a single dot). */
const MAX_DOTTED_POINTS = 12;

/**
 * A line chart of mean curves per optimizer with a shaded mean ± std band over seeds, dots on the points
 * of short curves, and optional vertical rules (learning-rate decays).
 */
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
  const rules = options.rules ?? [];
  const xMax = Math.max(...values.map((v) => v.epoch), ...rules.map((r) => r.x));
  const x = {
    field: "epoch",
    type: "quantitative" as const,
    title: options.xLabel,
    ...(options.integerX
      ? {
          // A little room at both ends, so the dots of the first and last points are not cut in half.
          scale: { domain: [0, Number.isFinite(xMax) && xMax > 0 ? xMax : 1], nice: false, padding: 6 },
          axis: { tickMinStep: 1, format: "d" },
        }
      : {}),
  };
  const yScale = options.logY ? { type: "log" as const } : { zero: false };
  const perCurve = Math.max(
    0,
    ...names.map((n) => values.filter((v) => v.optimizer === OPTIMIZER_LABELS[n]).length),
  );
  const band: Layer[] =
    options.band === false
      ? []
      : [
          {
            mark: { type: "area", opacity: 0.18 },
            encoding: {
              x,
              y: { field: "lo", type: "quantitative", scale: yScale, title: wrapTitle(options.yLabel, 36) },
              y2: { field: "hi" },
              color: { ...color, legend: null },
            },
          },
        ];
  const ruleLayers: Layer[] =
    rules.length === 0
      ? []
      : [
          {
            data: { values: rules.map((r) => ({ epoch: r.x, label: r.label })) },
            mark: { type: "rule", color: "#555555", strokeDash: [5, 4], strokeWidth: 1.2 },
            encoding: { x },
          },
          {
            data: { values: rules.map((r) => ({ epoch: r.x, label: r.label })) },
            mark: {
              type: "text",
              align: "left",
              baseline: "top",
              dx: 3,
              dy: 2,
              fontSize: 10,
              color: "#555555",
            },
            encoding: { x, y: { value: 0 }, text: { field: "label", type: "nominal" } },
          },
        ];
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
      ...band,
      ...ruleLayers,
      {
        mark: {
          type: "line",
          clip: true,
          ...(perCurve <= MAX_DOTTED_POINTS ? { point: { filled: true, size: 28 } } : {}),
        },
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
  /** Draw ± std error bars (default true; off when every seed gave the same result). */
  errorBars?: boolean;
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
      ...(options.errorBars === false
        ? []
        : [
            {
              mark: { type: "rule" as const, strokeWidth: 1.5, color: "#333333" },
              encoding: { x, y: { field: "lo", type: "quantitative" as const }, y2: { field: "hi" } },
            },
            {
              mark: { type: "tick" as const, color: "#333333", thickness: 1.5, size: 10 },
              encoding: { x, y: { field: "lo", type: "quantitative" as const } },
            },
            {
              mark: { type: "tick" as const, color: "#333333", thickness: 1.5, size: 10 },
              encoding: { x, y: { field: "hi", type: "quantitative" as const } },
            },
          ]),
    ],
  };
}

/** One optimizer's path for {@link trajectorySpec}: `[step, x, y]` rows. */
export interface TrajectoryInput {
  optimizer: OptimizerName;
  trajectory: readonly (readonly [number, number, number])[];
  /** The run diverged: its legend entry says so. */
  diverged?: boolean;
}

/** Options of {@link trajectorySpec}. */
export interface TrajectoryOptions {
  title: string;
  domain: readonly [readonly [number, number], readonly [number, number]];
  start: readonly [number, number];
  minimum: readonly [number, number];
}

/**
 * Trajectories of the optimizers over the function's contour lines (grey): each optimizer in its own colour
 * and dash pattern (paths that lie on top of each other stay visible), its last point marked with its own
 * shape, AdaBelief drawn last and thicker; the start as a black dot and the minimum as a black cross. A
 * diverged path is drawn until it leaves the window, and its legend entry says "(diverged)".
 */
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
  const inWindow = (x: number, y: number): boolean => x >= x0 && x <= x1 && y >= y0 && y <= y1;
  const names = presentOptimizers(paths.map((p) => p.optimizer));
  const labelOf = new Map(
    paths.map((p) => [p.optimizer, `${OPTIMIZER_LABELS[p.optimizer]}${p.diverged ? " (diverged)" : ""}`]),
  );
  const labels = names.map((n) => labelOf.get(n)!);
  type Row = { optimizer: string; step: number; x: number; y: number; bold: number };
  const pathValues: Row[] = [];
  const endValues: Row[] = [];
  for (const n of names) {
    const p = paths.find((q) => q.optimizer === n)!;
    const rows: Row[] = [];
    for (const [step, x, y] of p.trajectory) {
      // Points far outside the window (diverged runs) would only stretch nothing; the line is clipped anyway.
      if (!inBox(x, y)) break;
      rows.push({
        optimizer: labelOf.get(n)!,
        step,
        x: round(x),
        y: round(y),
        bold: n === "adabelief" ? 1 : 0,
      });
    }
    pathValues.push(...rows);
    // The end marker: the last point, or for a path that left the window, its last point inside it.
    const end = [...rows].reverse().find((r) => inWindow(r.x, r.y));
    if (end) endValues.push(end);
  }
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
  const legendTitle = "optimizer";
  const color = {
    field: "optimizer",
    type: "nominal" as const,
    scale: { domain: labels, range: names.map((n) => OPTIMIZER_COLORS[n]) },
    sort: labels,
    title: legendTitle,
  };
  const shape = {
    field: "optimizer",
    type: "nominal" as const,
    scale: { domain: labels, range: names.map((n) => OPTIMIZER_SHAPES[n]) },
    sort: labels,
    title: legendTitle,
  };
  const marker = (x: number, y: number, shapeName: string, size: number): Layer => ({
    data: { values: [{ x, y }] },
    mark: { type: "point", filled: true, size, color: "#222222", shape: shapeName, clip: true },
    encoding: { x: xEnc, y: yEnc },
  });
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: wrapTitle(options.title),
    width: 340,
    height: 340,
    config: FONT_CONFIG,
    layer: [
      {
        data: { values: contourValues },
        mark: { type: "line", clip: true, color: "#c4c4c4", strokeWidth: 0.8 },
        encoding: {
          x: xEnc,
          y: yEnc,
          detail: { field: "line", type: "nominal" },
          order: { field: "order", type: "quantitative" },
        },
      },
      {
        data: { values: pathValues },
        mark: { type: "line", clip: true, opacity: 0.92 },
        encoding: {
          x: xEnc,
          y: yEnc,
          order: { field: "step", type: "quantitative" },
          color,
          strokeDash: {
            field: "optimizer",
            type: "nominal",
            scale: { domain: labels, range: names.map((n) => [...OPTIMIZER_DASHES[n]]) },
            sort: labels,
            title: legendTitle,
          },
          strokeWidth: {
            field: "bold",
            type: "quantitative",
            scale: { domain: [0, 1], range: [1.4, 2.6] },
            legend: null,
          },
        },
      },
      marker(options.start[0], options.start[1], "circle", 90),
      marker(options.minimum[0], options.minimum[1], "cross", 150),
      {
        data: { values: endValues },
        mark: {
          type: "point",
          filled: true,
          size: 95,
          opacity: 1,
          stroke: "#ffffff",
          strokeWidth: 0.8,
          clip: true,
        },
        encoding: { x: xEnc, y: yEnc, color, shape },
      },
    ],
  };
}
