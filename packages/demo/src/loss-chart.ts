/**
 * The loss-versus-step chart: f − f* (the gap to the minimum value) at every step of every run, on a log
 * scale.
 *
 * Cheap to draw whatever the run length: each curve is reduced once per scene to at most four points per
 * pixel column (the first, lowest, highest and last step in it), which draws exactly like the full curve.
 * Layered like the contour plot: the axes and every curve (faint) are drawn once per scene, the solid
 * curves grow on two offscreen layers by the points added since the last frame, and a frame copies them
 * and draws the last bit of each curve, the step line and the markers. While playing, the chart keeps to
 * a frame budget: when a draw takes longer than {@link FRAME_BUDGET_MS}, the following frames skip it (up
 * to three in a row), so the plot keeps its frame rate.
 */
import { drawMarker, HALO_ALPHA, layerLike, niceTicks } from "./draw.js";
import type { LineStyle } from "./optimizers.js";
import type { Run } from "./simulate.js";

const MARGIN = { left: 56, right: 20, top: 12, bottom: 36 };
/** Losses below this are drawn at this value (a log scale has no 0). */
export const LOSS_FLOOR = 1e-16;
/**
 * Decades shown above the start's gap at most: a run that blows up is drawn off the top rather than
 * squeezing every other line into the bottom of the chart.
 */
export const DECADES_ABOVE_START = 3;
/** Milliseconds a chart frame may take before the next frames skip it. */
export const FRAME_BUDGET_MS = 4;
const LINE = 2;

/** The canvas height of a chart `width` CSS pixels wide. */
export function chartHeight(width: number): number {
  return Math.round(Math.max(150, Math.min(240, width * 0.55)));
}

/**
 * The steps of a curve worth drawing at `columnOf(k)` pixel columns: per column, the first, lowest,
 * highest and last step in it (in step order, each once). `y(k)` is the curve's screen y at step k.
 */
export function reduceToColumns(
  points: number,
  columnOf: (k: number) => number,
  y: (k: number) => number,
): Int32Array {
  const keep: number[] = [];
  let col = NaN;
  let first = 0;
  let low = 0;
  let high = 0;
  let last = 0;
  const flush = (): void => {
    const ks = [first, low, high, last].sort((a, b) => a - b);
    for (let i = 0; i < 4; i++) if (i === 0 || ks[i] !== ks[i - 1]) keep.push(ks[i]!);
  };
  for (let k = 0; k < points; k++) {
    const c = columnOf(k);
    if (c !== col) {
      if (k > 0) flush();
      col = c;
      first = low = high = last = k;
      continue;
    }
    last = k;
    const v = y(k);
    if (v < y(low)) low = k;
    if (v > y(high)) high = k;
  }
  if (points > 0) flush();
  return Int32Array.from(keep);
}

interface Trail {
  run: Run;
  style: LineStyle;
  /** The steps drawn of the curve (see {@link reduceToColumns}). */
  ks: Int32Array;
  /** Index into `ks` of the last point on the trail layers. */
  to: number;
  /** Length drawn so far (continues the dash pattern). */
  dash: number;
}

/** Draws the chart on a canvas. */
export class LossChart {
  private runs: readonly Run[] = [];
  private styles = new Map<string, LineStyle>();
  private steps = 1;
  private minValue = 0;
  private lo = -1;
  private hi = 1;
  private width = 0;
  private height = 0;
  private ratio = 1;
  private background: HTMLCanvasElement | undefined;
  /** The last background layer, reused for the next one. */
  private spare: HTMLCanvasElement | undefined;
  private halo: HTMLCanvasElement | undefined;
  private ink: HTMLCanvasElement | undefined;
  private trails: Trail[] = [];
  private trailAt = -1;
  private skip = 0;
  /** Frames drawn and frames skipped to keep to the budget (read by the test hook). */
  readonly frames = { drawn: 0, skipped: 0 };

  constructor(private readonly canvas: HTMLCanvasElement) {}

  /** Shows `runs` over steps 0…`steps`, the gap measured from `minValue`; redrawn on the next {@link draw}. */
  setScene(runs: readonly Run[], steps: number, minValue: number, styles: Map<string, LineStyle>): void {
    this.runs = runs;
    this.styles = styles;
    this.steps = Math.max(1, steps);
    this.minValue = minValue;
    let lo = Infinity;
    let hi = -Infinity;
    let start = -Infinity;
    for (const run of runs) {
      start = Math.max(start, this.log(run.loss[0]!));
      for (let k = 0; k < run.points; k++) {
        const v = this.log(run.loss[k]!);
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
    if (!Number.isFinite(lo)) {
      lo = -1;
      hi = 1;
      start = 1;
    }
    hi = Math.min(hi, start + DECADES_ABOVE_START);
    this.lo = Math.floor(lo);
    this.hi = Math.max(this.lo + 1, Math.ceil(hi));
    this.background = undefined;
  }

  /** The decades the y axis spans: [lowest, highest] power of ten. */
  get axis(): [number, number] {
    return [this.lo, this.hi];
  }

  /** Fits the canvas to its CSS width; redraws everything next time. */
  resize(): void {
    const width = Math.max(200, Math.round(this.canvas.clientWidth || 400));
    const ratio = window.devicePixelRatio || 1;
    if (width === this.width && ratio === this.ratio && this.canvas.width > 0) return;
    this.width = width;
    this.ratio = ratio;
    this.height = chartHeight(width);
    this.canvas.width = Math.round(width * ratio);
    this.canvas.height = Math.round(this.height * ratio);
    this.canvas.style.height = `${this.height}px`;
    this.background = undefined;
  }

  private log(loss: number): number {
    return Math.log10(Math.max(LOSS_FLOOR, loss - this.minValue));
  }

  private get plotW(): number {
    return this.width - MARGIN.left - MARGIN.right;
  }

  private get plotH(): number {
    return this.height - MARGIN.top - MARGIN.bottom;
  }

  private sx(k: number): number {
    return MARGIN.left + (k / this.steps) * this.plotW;
  }

  private sy(loss: number): number {
    const v = this.log(loss);
    const y = MARGIN.top + ((this.hi - (Number.isNaN(v) ? this.hi : v)) / (this.hi - this.lo)) * this.plotH;
    return Math.max(-1e4, Math.min(1e4, y));
  }

  private context(canvas: HTMLCanvasElement): CanvasRenderingContext2D {
    // The visible canvas is opaque (cheaper to composite); the layers drawn on top of others are not.
    const ctx = canvas.getContext("2d", { alpha: canvas !== this.canvas });
    if (!ctx) throw new Error("this browser cannot draw on a 2-D canvas");
    ctx.setTransform(this.ratio, 0, 0, this.ratio, 0, 0);
    return ctx;
  }

  private clip(ctx: CanvasRenderingContext2D): void {
    ctx.beginPath();
    ctx.rect(MARGIN.left, MARGIN.top, this.plotW, this.plotH);
    ctx.clip();
  }

  /** Adds the curve of `run` through steps `ks[from…to]` to the current path (already at `ks[from]`). */
  private trace(ctx: CanvasRenderingContext2D, run: Run, ks: Int32Array, from: number, to: number): number {
    let length = 0;
    let px = this.sx(ks[from]!);
    let py = this.sy(run.loss[ks[from]!]!);
    for (let i = from + 1; i <= to; i++) {
      const k = ks[i]!;
      const x = this.sx(k);
      const y = this.sy(run.loss[k]!);
      ctx.lineTo(x, y);
      length += Math.hypot(x - px, y - py);
      px = x;
      py = y;
    }
    return length;
  }

  private renderBackground(): HTMLCanvasElement {
    const bg = layerLike(this.canvas, this.spare);
    const ctx = this.context(bg);
    const { plotW, plotH, lo, hi } = this;
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, this.width, this.height);
    ctx.save();
    ctx.font = "12px system-ui, sans-serif";
    ctx.fillStyle = "#222";
    ctx.strokeStyle = "#e3e3e3";
    ctx.lineWidth = 1;
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    const decadeStep = Math.max(1, Math.ceil((hi - lo) / 6));
    for (let d = lo; d <= hi; d += decadeStep) {
      const y = MARGIN.top + ((hi - d) / (hi - lo)) * plotH;
      ctx.beginPath();
      ctx.moveTo(MARGIN.left, y);
      ctx.lineTo(MARGIN.left + plotW, y);
      ctx.stroke();
      ctx.fillText(d === 0 ? "1" : `1e${d}`, MARGIN.left - 6, y);
    }
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    for (const t of niceTicks(0, this.steps, 5)) ctx.fillText(String(t), this.sx(t), MARGIN.top + plotH + 5);
    ctx.fillText("step", MARGIN.left + plotW / 2, MARGIN.top + plotH + 20);
    ctx.save();
    ctx.translate(14, MARGIN.top + plotH / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.fillText("f − f*, log scale", 0, -6);
    ctx.restore();
    ctx.strokeStyle = "#444";
    ctx.strokeRect(MARGIN.left + 0.5, MARGIN.top + 0.5, plotW - 1, plotH - 1);
    ctx.restore();

    // Each curve reduced to what its pixel columns show, then drawn whole, faint.
    const ratio = this.ratio;
    this.trails = this.runs.map((run) => ({
      run,
      style: this.styles.get(run.key)!,
      ks: reduceToColumns(
        run.points,
        (k) => Math.floor(this.sx(k) * ratio),
        (k) => this.sy(run.loss[k]!),
      ),
      to: 0,
      dash: 0,
    }));
    ctx.save();
    this.clip(ctx);
    ctx.globalAlpha = 0.3;
    ctx.lineWidth = 1.5;
    ctx.lineJoin = "round";
    for (const trail of this.trails) {
      if (trail.ks.length < 2) continue;
      ctx.beginPath();
      ctx.moveTo(this.sx(0), this.sy(trail.run.loss[0]!));
      this.trace(ctx, trail.run, trail.ks, 0, trail.ks.length - 1);
      ctx.strokeStyle = trail.style.color;
      ctx.stroke();
    }
    ctx.restore();
    return bg;
  }

  private resetTrails(): void {
    this.halo = layerLike(this.canvas, this.halo);
    this.ink = layerLike(this.canvas, this.ink);
    for (const trail of this.trails) {
      trail.to = 0;
      trail.dash = 0;
    }
    this.trailAt = 0;
  }

  /** Strokes the current path twice: its dark outline on `halo`, its colour on `ink`. */
  private strokeBoth(
    halo: CanvasRenderingContext2D,
    ink: CanvasRenderingContext2D,
    trail: Trail,
    path: (ctx: CanvasRenderingContext2D) => number,
  ): number {
    let length = 0;
    for (const [ctx, width, colour] of [
      [halo, LINE + 2, "#141414"],
      [ink, LINE, trail.style.color],
    ] as const) {
      ctx.beginPath();
      length = path(ctx);
      ctx.setLineDash(trail.style.dash.map((d) => d * LINE));
      ctx.lineDashOffset = trail.dash;
      ctx.lineWidth = width;
      ctx.strokeStyle = colour;
      ctx.stroke();
    }
    return length;
  }

  /** Adds to the trail layers the points of each curve up to step `at` not drawn yet. */
  private extendTrails(at: number): void {
    const halo = this.context(this.halo!);
    const ink = this.context(this.ink!);
    for (const ctx of [halo, ink]) {
      ctx.save();
      this.clip(ctx);
      ctx.lineJoin = "round";
    }
    for (const trail of this.trails) {
      let to = trail.to;
      while (to + 1 < trail.ks.length && trail.ks[to + 1]! <= at) to++;
      if (to <= trail.to) continue;
      const from = trail.to;
      trail.dash += this.strokeBoth(halo, ink, trail, (ctx) => {
        ctx.moveTo(this.sx(trail.ks[from]!), this.sy(trail.run.loss[trail.ks[from]!]!));
        return this.trace(ctx, trail.run, trail.ks, from, to);
      });
      trail.to = to;
    }
    halo.restore();
    ink.restore();
    this.trailAt = at;
  }

  /**
   * Draws the layers of step `at` (the background if the scene is new, the solid curves up to `at`)
   * without showing them: {@link draw} then only copies them.
   */
  prepare(at: number): void {
    if (this.width === 0) this.resize();
    if (!this.background) {
      this.background = this.spare = this.renderBackground();
      this.resetTrails();
    }
    if (at < this.trailAt) this.resetTrails();
    this.extendTrails(at);
  }

  /**
   * Draws step `at`: every curve solid up to `at` and faint after it, a dashed line at `at`, markers.
   * With `budget`, the draw may be skipped to keep to the frame budget; returns whether it drew.
   */
  draw(at: number, budget = false): boolean {
    if (budget && this.skip > 0) {
      this.skip--;
      this.frames.skipped++;
      return false;
    }
    const t0 = performance.now();
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
    this.clip(ctx);
    ctx.lineJoin = "round";
    // The last bit of each curve, from its last point on the layers to step `at` itself.
    for (const trail of this.trails) {
      const k0 = trail.ks[trail.to]!;
      const k1 = Math.min(at, trail.run.points - 1);
      if (k1 <= k0) continue;
      const x0 = this.sx(k0);
      const y0 = this.sy(trail.run.loss[k0]!);
      const x1 = this.sx(k1);
      const y1 = this.sy(trail.run.loss[k1]!);
      for (const [width, colour, alpha] of [
        [LINE + 2, "#141414", HALO_ALPHA],
        [LINE, trail.style.color, 1],
      ] as const) {
        ctx.beginPath();
        ctx.moveTo(x0, y0);
        ctx.lineTo(x1, y1);
        ctx.globalAlpha = alpha;
        ctx.setLineDash(trail.style.dash.map((d) => d * LINE));
        ctx.lineDashOffset = trail.dash;
        ctx.lineWidth = width;
        ctx.strokeStyle = colour;
        ctx.stroke();
      }
    }
    ctx.globalAlpha = 1;
    ctx.strokeStyle = "#1a1a1a";
    ctx.lineWidth = 1;
    ctx.setLineDash([3, 3]);
    ctx.lineDashOffset = 0;
    ctx.beginPath();
    const x = Math.round(this.sx(at)) + 0.5;
    ctx.moveTo(x, MARGIN.top);
    ctx.lineTo(x, MARGIN.top + this.plotH);
    ctx.stroke();
    for (const run of this.runs) {
      const k = Math.min(at, run.points - 1);
      drawMarker(ctx, this.styles.get(run.key)!, this.sx(k), this.sy(run.loss[k]!), 5);
    }
    ctx.restore();
    this.frames.drawn++;
    const cost = performance.now() - t0;
    this.skip = budget ? Math.min(3, Math.floor(cost / FRAME_BUDGET_MS)) : 0;
    return true;
  }
}
