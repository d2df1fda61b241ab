/** The loss-versus-step chart: f − f* (the gap to the minimum value) at every step of every run, on a log scale. */
import { drawMarker, fitCanvas, niceTicks, strokeStyled } from "./draw.js";
import { findOptimizer } from "./optimizers.js";
import type { Run } from "./simulate.js";

const MARGIN = { left: 56, right: 14, top: 12, bottom: 38 };
/** Losses below this are drawn at this value (a log scale has no 0). */
export const LOSS_FLOOR = 1e-16;

/** Draws the chart on a canvas. */
export class LossChart {
  constructor(private readonly canvas: HTMLCanvasElement) {}

  /**
   * Draws every run's gap `f − minValue` over steps 0…`steps`, full colour up to `at`, with a marker at `at`.
   */
  render(runs: readonly Run[], at: number, steps: number, minValue: number): void {
    const { ctx, width, height } = fitCanvas(this.canvas, (w) => Math.max(180, Math.min(260, w * 0.42)));
    const plotW = width - MARGIN.left - MARGIN.right;
    const plotH = height - MARGIN.top - MARGIN.bottom;
    ctx.clearRect(0, 0, width, height);
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, width, height);

    let lo = Infinity;
    let hi = -Infinity;
    for (const run of runs) {
      for (let k = 0; k < run.points; k++) {
        const v = Math.log10(Math.max(LOSS_FLOOR, run.loss[k]! - minValue));
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
    if (!Number.isFinite(lo)) {
      lo = -1;
      hi = 1;
    }
    lo = Math.floor(lo);
    hi = Math.max(lo + 1, Math.ceil(hi));
    const sx = (k: number): number => MARGIN.left + (k / Math.max(1, steps)) * plotW;
    const sy = (loss: number): number =>
      MARGIN.top + ((hi - Math.log10(Math.max(LOSS_FLOOR, loss - minValue))) / (hi - lo)) * plotH;

    // Axes and grid.
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
    for (const t of niceTicks(0, steps, 6)) {
      ctx.fillText(String(t), sx(t), MARGIN.top + plotH + 6);
    }
    ctx.fillText("step", MARGIN.left + plotW / 2, MARGIN.top + plotH + 21);
    ctx.save();
    ctx.translate(14, MARGIN.top + plotH / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.fillText("f − f*, log scale", 0, -6);
    ctx.restore();
    ctx.strokeStyle = "#444";
    ctx.strokeRect(MARGIN.left + 0.5, MARGIN.top + 0.5, plotW - 1, plotH - 1);
    // The step shown.
    ctx.strokeStyle = "#1a1a1a";
    ctx.setLineDash([3, 3]);
    ctx.beginPath();
    ctx.moveTo(sx(at), MARGIN.top);
    ctx.lineTo(sx(at), MARGIN.top + plotH);
    ctx.stroke();
    ctx.restore();

    ctx.save();
    ctx.beginPath();
    ctx.rect(MARGIN.left, MARGIN.top, plotW, plotH);
    ctx.clip();
    for (const run of runs) {
      const style = findOptimizer(run.id)!.style;
      const trace = (from: number, to: number): void => {
        ctx.beginPath();
        for (let k = from; k < to; k++) {
          if (k === from) ctx.moveTo(sx(k), sy(run.loss[k]!));
          else ctx.lineTo(sx(k), sy(run.loss[k]!));
        }
      };
      const shown = Math.min(at + 1, run.points);
      if (run.points > shown) {
        ctx.save();
        ctx.globalAlpha = 0.28;
        trace(shown - 1, run.points);
        ctx.setLineDash(style.dash.map((d) => d * 1.5));
        ctx.strokeStyle = style.color;
        ctx.lineWidth = 1.5;
        ctx.stroke();
        ctx.restore();
      }
      if (shown > 1) {
        trace(0, shown);
        strokeStyled(ctx, style, 2);
      }
    }
    for (const run of runs) {
      const k = Math.min(at, run.points - 1);
      drawMarker(ctx, findOptimizer(run.id)!.style, sx(k), sy(run.loss[k]!), 5);
    }
    ctx.restore();
  }
}
