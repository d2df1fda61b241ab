/**
 * The contour plot: the function's level sets, its minimum, the start point and the trajectories.
 *
 * Drawn in layers so that a frame of the animation costs a few image copies, whatever the length of the
 * runs: the background (shading, contour lines, axes, the minimum and every run's whole path, faint) is
 * drawn once per scene; the solid part of each path is drawn on two offscreen layers (its dark outline,
 * then its colour) and only the segments added since the previous frame are drawn there; the frame itself
 * copies the three layers and draws the start and the markers on top.
 */
import { contourSegments, quantileLevels, sample } from "./contour.js";
import { drawMarker, HALO_ALPHA, layerLike, layerPixel, niceTicks, traceDecimated } from "./draw.js";
import { viewOf, type DemoFunction, type View } from "./functions.js";
import type { LineStyle } from "./optimizers.js";
import type { Run } from "./simulate.js";

const MARGIN = { left: 46, right: 12, top: 12, bottom: 38 };
/** Grid resolution of the shading and contour lines. */
const GRID = 160;
/** Number of contour levels. */
const LEVELS = 16;
/** Screen coordinates are clamped to this many pixels outside the canvas (far points of diverging runs). */
const CLAMP = 1e4;
/** Width of the solid lines, CSS pixels. */
const LINE = 2.25;

/** The canvas height of a plot `width` CSS pixels wide (a square plot area plus the margins). */
export function plotHeight(width: number): number {
  return width - MARGIN.left - MARGIN.right + MARGIN.top + MARGIN.bottom;
}

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

/** The computed half of a plot's shading: its key, the grid's pixels and the contour segments per level. */
interface ComputedShading {
  key: string;
  pixels: Uint8ClampedArray;
  segments: number[][];
}

/** One run's solid line on the trail layers: how far it is drawn. */
interface Trail {
  run: Run;
  style: LineStyle;
  /** The last point index drawn. */
  to: number;
  /** The last screen point kept (the decimated path's end). */
  last: [number, number];
  /** Length drawn so far (continues the dash pattern across frames). */
  dash: number;
}

/** Draws the plot on a canvas and maps clicks back to the plane. */
export class ContourPlot {
  private fn: DemoFunction | undefined;
  private view: View = { xMin: -1, xMax: 1, yMin: -1, yMax: 1 };
  private runs: readonly Run[] = [];
  private styles = new Map<string, LineStyle>();
  private start: readonly [number, number] = [0, 0];
  private width = 0;
  private height = 0;
  private plot = 0;
  private ratio = 1;
  private shading: HTMLCanvasElement | undefined;
  private shadingKey = "";
  /** The first half of a shading being prepared (see {@link prepareShading}). */
  private computed: ComputedShading | undefined;
  private background: HTMLCanvasElement | undefined;
  /** The last background layer, reused for the next one. */
  private spare: HTMLCanvasElement | undefined;
  private halo: HTMLCanvasElement | undefined;
  private ink: HTMLCanvasElement | undefined;
  private trails: Trail[] = [];
  private trailAt = -1;
  /** Per run key, how many points of its path are drawn solid (read by the test hook). */
  drawn: Record<string, number> = {};

  constructor(private readonly canvas: HTMLCanvasElement) {}

  /** Shows `runs` of `fn` over `view` from `start`; everything is redrawn on the next {@link draw}. */
  setScene(
    fn: DemoFunction,
    view: View,
    start: readonly [number, number],
    runs: readonly Run[],
    styles: Map<string, LineStyle>,
  ): void {
    this.fn = fn;
    this.view = view;
    this.start = start;
    this.runs = runs;
    this.styles = styles;
    this.background = undefined;
  }

  /** Fits the canvas to its CSS width (call when the layout changes); redraws everything next time. */
  resize(): void {
    const width = Math.max(200, Math.round(this.canvas.clientWidth || 600));
    const ratio = window.devicePixelRatio || 1;
    if (width === this.width && ratio === this.ratio && this.canvas.width > 0) return;
    this.width = width;
    this.ratio = ratio;
    this.height = plotHeight(width);
    this.plot = width - MARGIN.left - MARGIN.right;
    this.canvas.width = Math.round(width * ratio);
    this.canvas.height = Math.round(this.height * ratio);
    this.canvas.style.height = `${this.height}px`;
    this.background = undefined;
  }

  /** The plane point under canvas pixel (px, py) in CSS pixels, or `undefined` outside the plot area. */
  toPlane(px: number, py: number): [number, number] | undefined {
    const u = (px - MARGIN.left) / this.plot;
    const v = (py - MARGIN.top) / this.plot;
    if (!(u >= 0 && u <= 1 && v >= 0 && v <= 1)) return undefined;
    const { xMin, xMax, yMin, yMax } = this.view;
    return [xMin + u * (xMax - xMin), yMax - v * (yMax - yMin)];
  }

  private toScreen(x: number, y: number): [number, number] {
    const { xMin, xMax, yMin, yMax } = this.view;
    const clamp = (v: number): number => Math.max(-CLAMP, Math.min(CLAMP, v));
    return [
      clamp(MARGIN.left + ((x - xMin) / (xMax - xMin)) * this.plot),
      clamp(MARGIN.top + ((yMax - y) / (yMax - yMin)) * this.plot),
    ];
  }

  private context(canvas: HTMLCanvasElement): CanvasRenderingContext2D {
    // The visible canvas is opaque (cheaper to composite); the layers drawn on top of others are not.
    const ctx = canvas.getContext("2d", { alpha: canvas !== this.canvas });
    if (!ctx) throw new Error("this browser cannot draw on a 2-D canvas");
    ctx.setTransform(this.ratio, 0, 0, this.ratio, 0, 0);
    return ctx;
  }

  private clipToPlot(ctx: CanvasRenderingContext2D): void {
    ctx.beginPath();
    ctx.rect(MARGIN.left, MARGIN.top, this.plot, this.plot);
    ctx.clip();
  }

  private shadingKeyOf(fn: DemoFunction, view: View): string {
    return `${fn.id}|${view.xMin}|${view.xMax}|${view.yMin}|${view.yMax}|${this.plot}|${this.ratio}`;
  }

  /** Whether the shading of `fn` over `view` is ready (see {@link prepareShading}). */
  hasShading(fn: DemoFunction, view: View): boolean {
    if (this.width === 0) this.resize();
    return this.shading !== undefined && this.shadingKey === this.shadingKeyOf(fn, view);
  }

  /**
   * Prepares the shading and contour lines of `fn` over `view` in two halves, one per call, so that the
   * page can run them as tasks of their own before it draws a new scene: the first call computes them,
   * the second draws them (and has the canvas rasterise them). Returns whether they are ready.
   */
  prepareShading(fn: DemoFunction, view: View): boolean {
    if (this.hasShading(fn, view)) return true;
    const key = this.shadingKeyOf(fn, view);
    if (this.computed?.key !== key) {
      this.computed = this.computeShading(fn, view, key);
      return false;
    }
    this.drawShading(this.computed);
    this.computed = undefined;
    // Reading a pixel makes the canvas rasterise its drawing now, not in the frame that first copies it.
    layerPixel(this.shading!);
    return true;
  }

  /** The shading and contour lines of the plot area (kept while the function, view and size stay). */
  private renderShading(fn: DemoFunction, view: View): HTMLCanvasElement {
    const key = this.shadingKeyOf(fn, view);
    if (this.shading && this.shadingKey === key) return this.shading;
    this.drawShading(this.computed?.key === key ? this.computed : this.computeShading(fn, view, key));
    this.computed = undefined;
    return this.shading!;
  }

  /** The numbers of the shading: the grid's image (shaded by rank) and each contour level's segments. */
  private computeShading(fn: DemoFunction, view: View, key: string): ComputedShading {
    const { xMin, xMax, yMin, yMax } = view;
    const grid = sample((x, y) => fn.f(x, y), xMin, xMax, yMin, yMax, GRID, GRID);
    // Shade by rank (histogram equalisation): light where f is small, grey where it is large. The rank of
    // a value is its place in the sorted values (a typed-array sort and a binary search: fast).
    const sorted = Float64Array.from(grid.values).sort();
    const last = sorted.length - 1;
    const pixels = new Uint8ClampedArray(4 * GRID * GRID);
    for (let j = 0; j < GRID; j++) {
      for (let i = 0; i < GRID; i++) {
        const v = grid.values[j * GRID + i]!;
        let lo = 0;
        let hi = last;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (sorted[mid]! < v) lo = mid + 1;
          else hi = mid;
        }
        const r = lo / last;
        const o = 4 * ((GRID - 1 - j) * GRID + i); // image rows run top-down, grid rows bottom-up
        pixels[o] = 255 - 62 * r;
        pixels[o + 1] = 255 - 58 * r;
        pixels[o + 2] = 255 - 50 * r;
        pixels[o + 3] = 255;
      }
    }
    const segments = quantileLevels(grid.values, LEVELS).map((level) => contourSegments(grid, level));
    return { key, pixels, segments };
  }

  private drawShading(computed: ComputedShading): void {
    const { plot, ratio } = this;
    const small = document.createElement("canvas");
    small.width = GRID;
    small.height = GRID;
    const sctx = small.getContext("2d")!;
    const image = sctx.createImageData(GRID, GRID);
    image.data.set(computed.pixels);
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
    for (const s of computed.segments) {
      ctx.beginPath();
      for (let k = 0; k < s.length; k += 4) {
        ctx.moveTo(s[k]! * cell, plot - s[k + 1]! * cell);
        ctx.lineTo(s[k + 2]! * cell, plot - s[k + 3]! * cell);
      }
      ctx.stroke();
    }
    this.shading = bg;
    this.shadingKey = computed.key;
  }

  /** The background layer: shading, axes, the minimum and every run's whole path, faint. */
  private renderBackground(): HTMLCanvasElement {
    const bg = layerLike(this.canvas, this.spare);
    const ctx = this.context(bg);
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, this.width, this.height);
    ctx.drawImage(this.renderShading(this.fn!, this.view), MARGIN.left, MARGIN.top, this.plot, this.plot);
    this.drawAxes(ctx);
    ctx.save();
    this.clipToPlot(ctx);
    this.drawMinimum(ctx);
    // Where each run is going: its whole path, faint.
    ctx.globalAlpha = 0.3;
    ctx.lineWidth = 1.5;
    ctx.lineJoin = "round";
    for (const run of this.runs) {
      if (run.points < 2) continue;
      const style = this.styles.get(run.key)!;
      const first = this.point(run, 0);
      ctx.beginPath();
      ctx.moveTo(first[0], first[1]);
      // Solid, not dashed: a long dashed path is slow to draw, and the solid part carries the dash pattern.
      traceDecimated(ctx, (k, out) => this.pointInto(run, k, out), 0, run.points - 1, first, 1.5);
      ctx.strokeStyle = style.color;
      ctx.stroke();
    }
    ctx.restore();
    return bg;
  }

  private point(run: Run, k: number): [number, number] {
    return this.toScreen(run.path[2 * k]!, run.path[2 * k + 1]!);
  }

  private pointInto(run: Run, k: number, out: Float64Array): void {
    const { xMin, xMax, yMin, yMax } = this.view;
    const x = MARGIN.left + ((run.path[2 * k]! - xMin) / (xMax - xMin)) * this.plot;
    const y = MARGIN.top + ((yMax - run.path[2 * k + 1]!) / (yMax - yMin)) * this.plot;
    out[0] = x < -CLAMP ? -CLAMP : x > CLAMP ? CLAMP : x;
    out[1] = y < -CLAMP ? -CLAMP : y > CLAMP ? CLAMP : y;
  }

  /** Clears the trail layers: the solid paths are drawn again from step 0. */
  private resetTrails(): void {
    this.halo = layerLike(this.canvas, this.halo);
    this.ink = layerLike(this.canvas, this.ink);
    this.trails = this.runs.map((run) => ({
      run,
      style: this.styles.get(run.key)!,
      to: 0,
      last: this.point(run, 0),
      dash: 0,
    }));
    this.trailAt = 0;
  }

  /** Draws the solid part of every path up to step `at`, adding only the segments not drawn yet. */
  private extendTrails(at: number): void {
    const halo = this.context(this.halo!);
    const ink = this.context(this.ink!);
    for (const ctx of [halo, ink]) {
      ctx.save();
      this.clipToPlot(ctx);
      ctx.lineJoin = "round";
      ctx.lineCap = "butt";
    }
    for (const trail of this.trails) {
      const to = Math.min(at, trail.run.points - 1);
      if (to <= trail.to) continue;
      const dash = trail.style.dash.map((d) => d * LINE);
      let added = { last: trail.last, length: 0 };
      for (const [ctx, width, colour] of [
        [halo, LINE + 2, "#141414"],
        [ink, LINE, trail.style.color],
      ] as const) {
        ctx.beginPath();
        ctx.moveTo(trail.last[0], trail.last[1]);
        added = traceDecimated(ctx, (k, out) => this.pointInto(trail.run, k, out), trail.to, to, trail.last);
        ctx.setLineDash(dash);
        ctx.lineDashOffset = trail.dash;
        ctx.lineWidth = width;
        ctx.strokeStyle = colour;
        ctx.stroke();
      }
      trail.last = added.last;
      trail.dash += added.length;
      trail.to = to;
    }
    halo.restore();
    ink.restore();
    this.trailAt = at;
  }

  /**
   * Draws the layers of step `at` (the background if the scene is new, the solid paths up to `at`) without
   * showing them: {@link draw} then only copies them. The page calls it as a task of its own after a
   * change, so that no single task draws everything.
   */
  prepare(at: number): void {
    if (!this.fn) return;
    if (this.width === 0) this.resize();
    if (!this.background) {
      this.background = this.spare = this.renderBackground();
      this.resetTrails();
    }
    if (at < this.trailAt) this.resetTrails();
    this.extendTrails(at);
  }

  /** Draws the frame of step `at`: runs up to `at` solid, the rest of each faintly. */
  draw(at: number): void {
    if (!this.fn) return;
    this.prepare(at);

    const ctx = this.context(this.canvas);
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.drawImage(this.background!, 0, 0);
    ctx.globalAlpha = HALO_ALPHA;
    ctx.drawImage(this.halo!, 0, 0);
    ctx.globalAlpha = 1;
    ctx.drawImage(this.ink!, 0, 0);
    ctx.setTransform(this.ratio, 0, 0, this.ratio, 0, 0);
    ctx.save();
    this.clipToPlot(ctx);
    this.drawStart(ctx);
    this.drawn = {};
    for (const run of this.runs) {
      const k = Math.min(at, run.points - 1);
      const [x, y] = this.point(run, k);
      drawMarker(ctx, this.styles.get(run.key)!, x, y, 6);
      this.drawn[run.key] = k + 1;
    }
    ctx.restore();
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
    const right = MARGIN.left + this.plot;
    if (mx + 70 > right) {
      ctx.textAlign = "right";
      ctx.fillText("minimum", mx - 10, my - 8);
    } else ctx.fillText("minimum", mx + 10, my - 8);
    ctx.restore();
  }

  private drawStart(ctx: CanvasRenderingContext2D): void {
    const [sx, sy] = this.toScreen(this.start[0], this.start[1]);
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

  private drawAxes(ctx: CanvasRenderingContext2D): void {
    const { xMin, xMax, yMin, yMax } = this.view;
    const plot = this.plot;
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
