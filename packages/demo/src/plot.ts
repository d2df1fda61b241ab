/** The contour plot: the function's level sets, its minimum, the start point and the trajectories. */
import { contourSegments, quantileLevels, sample } from "./contour.js";
import { drawMarker, fitCanvas, niceTicks, strokeStyled } from "./draw.js";
import { viewOf, type DemoFunction, type View } from "./functions.js";
import { findOptimizer, type OptimizerId } from "./optimizers.js";
import type { Run } from "./simulate.js";

const MARGIN = { left: 46, right: 12, top: 12, bottom: 38 };
/** Grid resolution of the shading and contour lines. */
const GRID = 160;
/** Number of contour levels. */
const LEVELS = 16;
/** Screen coordinates are clamped to this many pixels outside the canvas (far points of diverging runs). */
const CLAMP = 1e4;

/** The view of `fn`, widened (keeping it square) so that the start point lies inside with a margin. */
export function viewFor(fn: DemoFunction, start: readonly [number, number]): View {
  let { xMin, xMax, yMin, yMax } = viewOf(fn);
  const pad = 0.08 * (xMax - xMin);
  const [x, y] = start;
  if (Number.isFinite(x) && Number.isFinite(y)) {
    xMin = Math.min(xMin, x - pad);
    xMax = Math.max(xMax, x + pad);
    yMin = Math.min(yMin, y - pad);
    yMax = Math.max(yMax, y + pad);
  }
  const half = Math.max(xMax - xMin, yMax - yMin) / 2;
  const cx = (xMin + xMax) / 2;
  const cy = (yMin + yMax) / 2;
  return { xMin: cx - half, xMax: cx + half, yMin: cy - half, yMax: cy + half };
}

/** Draws the plot on a canvas and maps clicks back to the plane. */
export class ContourPlot {
  private fn: DemoFunction | undefined;
  private view: View = { xMin: -1, xMax: 1, yMin: -1, yMax: 1 };
  private background: HTMLCanvasElement | undefined;
  private backgroundKey = "";
  private size = { width: 0, height: 0, plot: 0 };
  /** Per optimizer, how many points of its path the last frame drew (read by the test hook). */
  drawn: Partial<Record<OptimizerId, number>> = {};

  constructor(private readonly canvas: HTMLCanvasElement) {}

  /** Shows `fn` over `view` (the shading is recomputed on the next render). */
  setFunction(fn: DemoFunction, view: View): void {
    this.fn = fn;
    this.view = view;
  }

  /** The plane point under canvas pixel (px, py) in CSS pixels, or `undefined` outside the plot area. */
  toPlane(px: number, py: number): [number, number] | undefined {
    const { plot } = this.size;
    const u = (px - MARGIN.left) / plot;
    const v = (py - MARGIN.top) / plot;
    if (!(u >= 0 && u <= 1 && v >= 0 && v <= 1)) return undefined;
    const { xMin, xMax, yMin, yMax } = this.view;
    return [xMin + u * (xMax - xMin), yMax - v * (yMax - yMin)];
  }

  private toScreen(x: number, y: number): [number, number] {
    const { xMin, xMax, yMin, yMax } = this.view;
    const { plot } = this.size;
    const clamp = (v: number): number => Math.max(-CLAMP, Math.min(CLAMP, v));
    return [
      clamp(MARGIN.left + ((x - xMin) / (xMax - xMin)) * plot),
      clamp(MARGIN.top + ((yMax - y) / (yMax - yMin)) * plot),
    ];
  }

  private renderBackground(ratio: number): HTMLCanvasElement {
    const fn = this.fn!;
    const { plot } = this.size;
    const { xMin, xMax, yMin, yMax } = this.view;
    const key = `${fn.id}|${xMin}|${xMax}|${yMin}|${yMax}|${plot}|${ratio}`;
    if (this.background && this.backgroundKey === key) return this.background;
    const grid = sample((x, y) => fn.f(x, y), xMin, xMax, yMin, yMax, GRID, GRID);
    // Shade by rank (histogram equalisation): light where f is small, grey where it is large.
    const order = Array.from(grid.values.keys()).sort((a, b) => grid.values[a]! - grid.values[b]!);
    const rank = new Float64Array(order.length);
    order.forEach((index, r) => (rank[index] = r / (order.length - 1)));
    const small = document.createElement("canvas");
    small.width = GRID;
    small.height = GRID;
    const sctx = small.getContext("2d")!;
    const image = sctx.createImageData(GRID, GRID);
    for (let j = 0; j < GRID; j++) {
      for (let i = 0; i < GRID; i++) {
        const r = rank[j * GRID + i]!;
        const o = 4 * ((GRID - 1 - j) * GRID + i); // image rows run top-down, grid rows bottom-up
        image.data[o] = 255 - 62 * r;
        image.data[o + 1] = 255 - 58 * r;
        image.data[o + 2] = 255 - 50 * r;
        image.data[o + 3] = 255;
      }
    }
    sctx.putImageData(image, 0, 0);
    const bg = document.createElement("canvas");
    bg.width = Math.round(plot * ratio);
    bg.height = Math.round(plot * ratio);
    const ctx = bg.getContext("2d")!;
    ctx.scale(ratio, ratio);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(small, 0, 0, plot, plot);
    const cell = plot / (GRID - 1);
    ctx.strokeStyle = "rgba(55, 55, 55, 0.45)";
    ctx.lineWidth = 1;
    for (const level of quantileLevels(grid.values, LEVELS)) {
      const s = contourSegments(grid, level);
      ctx.beginPath();
      for (let k = 0; k < s.length; k += 4) {
        ctx.moveTo(s[k]! * cell, plot - s[k + 1]! * cell);
        ctx.lineTo(s[k + 2]! * cell, plot - s[k + 3]! * cell);
      }
      ctx.stroke();
    }
    this.background = bg;
    this.backgroundKey = key;
    return bg;
  }

  /** Draws everything: runs up to step `at` in full colour, their remainder faintly. */
  render(runs: readonly Run[], at: number, start: readonly [number, number]): void {
    if (!this.fn) return;
    const { ctx, width, height } = fitCanvas(
      this.canvas,
      (w) => w - MARGIN.left - MARGIN.right + MARGIN.top + MARGIN.bottom,
    );
    const plot = width - MARGIN.left - MARGIN.right;
    this.size = { width, height, plot };
    const ratio = window.devicePixelRatio || 1;
    ctx.clearRect(0, 0, width, height);
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, width, height);
    ctx.drawImage(this.renderBackground(ratio), MARGIN.left, MARGIN.top, plot, plot);
    this.drawAxes(ctx, plot);

    ctx.save();
    ctx.beginPath();
    ctx.rect(MARGIN.left, MARGIN.top, plot, plot);
    ctx.clip();
    this.drawMinimum(ctx);
    this.drawn = {};
    for (const run of runs) {
      const style = findOptimizer(run.id)!.style;
      const shown = Math.min(at + 1, run.points);
      // The rest of the path, faint: where the run is going.
      if (run.points > shown) {
        ctx.save();
        ctx.globalAlpha = 0.28;
        this.tracePath(ctx, run, shown - 1, run.points);
        ctx.setLineDash(style.dash.map((d) => d * 1.5));
        ctx.strokeStyle = style.color;
        ctx.lineWidth = 1.5;
        ctx.stroke();
        ctx.restore();
      }
      if (shown > 1) {
        this.tracePath(ctx, run, 0, shown);
        strokeStyled(ctx, style, 2.25);
      }
      this.drawn[run.id] = shown;
    }
    this.drawStart(ctx, start);
    for (const run of runs) {
      const style = findOptimizer(run.id)!.style;
      const k = Math.min(at, run.points - 1);
      const [x, y] = this.toScreen(run.path[2 * k]!, run.path[2 * k + 1]!);
      drawMarker(ctx, style, x, y, 6);
    }
    ctx.restore();
  }

  private tracePath(ctx: CanvasRenderingContext2D, run: Run, from: number, to: number): void {
    ctx.beginPath();
    for (let k = from; k < to; k++) {
      const [x, y] = this.toScreen(run.path[2 * k]!, run.path[2 * k + 1]!);
      if (k === from) ctx.moveTo(x, y);
      else ctx.lineTo(x, y);
    }
  }

  private drawMinimum(ctx: CanvasRenderingContext2D): void {
    const [mx, my] = this.toScreen(this.fn!.minimum[0], this.fn!.minimum[1]);
    ctx.save();
    ctx.lineCap = "round";
    for (const [color, width] of [
      ["#ffffff", 5],
      ["#1a1a1a", 2],
    ] as const) {
      ctx.strokeStyle = color;
      ctx.lineWidth = width;
      ctx.beginPath();
      ctx.moveTo(mx - 7, my - 7);
      ctx.lineTo(mx + 7, my + 7);
      ctx.moveTo(mx + 7, my - 7);
      ctx.lineTo(mx - 7, my + 7);
      ctx.stroke();
    }
    ctx.font = "12px system-ui, sans-serif";
    ctx.fillStyle = "#1a1a1a";
    const right = MARGIN.left + this.size.plot;
    if (mx + 70 > right) {
      ctx.textAlign = "right";
      ctx.fillText("minimum", mx - 10, my - 8);
    } else ctx.fillText("minimum", mx + 10, my - 8);
    ctx.restore();
  }

  private drawStart(ctx: CanvasRenderingContext2D, start: readonly [number, number]): void {
    const [sx, sy] = this.toScreen(start[0], start[1]);
    ctx.save();
    ctx.setLineDash([]);
    ctx.beginPath();
    ctx.arc(sx, sy, 8, 0, 2 * Math.PI);
    ctx.strokeStyle = "#ffffff";
    ctx.lineWidth = 5;
    ctx.stroke();
    ctx.strokeStyle = "#1a1a1a";
    ctx.lineWidth = 2;
    ctx.stroke();
    ctx.font = "12px system-ui, sans-serif";
    ctx.fillStyle = "#1a1a1a";
    ctx.fillText("start", sx + 11, sy + 16);
    ctx.restore();
  }

  private drawAxes(ctx: CanvasRenderingContext2D, plot: number): void {
    const { xMin, xMax, yMin, yMax } = this.view;
    ctx.save();
    ctx.strokeStyle = "#444";
    ctx.lineWidth = 1;
    ctx.strokeRect(MARGIN.left + 0.5, MARGIN.top + 0.5, plot - 1, plot - 1);
    ctx.fillStyle = "#222";
    ctx.font = "12px system-ui, sans-serif";
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    for (const t of niceTicks(xMin, xMax, 6)) {
      const [x] = this.toScreen(t, yMin);
      ctx.beginPath();
      ctx.moveTo(x, MARGIN.top + plot);
      ctx.lineTo(x, MARGIN.top + plot + 5);
      ctx.stroke();
      ctx.fillText(String(t), x, MARGIN.top + plot + 7);
    }
    ctx.fillText("x", MARGIN.left + plot / 2, MARGIN.top + plot + 22);
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (const t of niceTicks(yMin, yMax, 6)) {
      const [, y] = this.toScreen(xMin, t);
      ctx.beginPath();
      ctx.moveTo(MARGIN.left - 5, y);
      ctx.lineTo(MARGIN.left, y);
      ctx.stroke();
      ctx.fillText(String(t), MARGIN.left - 7, y);
    }
    ctx.textAlign = "left";
    ctx.fillText("y", 4, MARGIN.top + 8);
    ctx.restore();
  }
}
