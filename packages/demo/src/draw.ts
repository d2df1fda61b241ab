/** Canvas helpers shared by the contour plot and the loss chart. */
import type { LineStyle } from "./optimizers.js";

/** Draws `style`'s marker centred on (x, y), `r` pixels in radius, filled with its colour and outlined. */
export function drawMarker(
  ctx: CanvasRenderingContext2D,
  style: LineStyle,
  x: number,
  y: number,
  r = 5,
): void {
  ctx.save();
  ctx.setLineDash([]);
  ctx.beginPath();
  const poly = (points: [number, number][]): void => {
    points.forEach(([px, py], k) =>
      k === 0 ? ctx.moveTo(x + px * r, y + py * r) : ctx.lineTo(x + px * r, y + py * r),
    );
    ctx.closePath();
  };
  const regular = (n: number, rotation: number, inner = 1): [number, number][] =>
    Array.from({ length: n * (inner === 1 ? 1 : 2) }, (_, k) => {
      const step = inner === 1 ? n : 2 * n;
      const radius = inner === 1 || k % 2 === 0 ? 1 : inner;
      const a = rotation + (2 * Math.PI * k) / step;
      return [radius * Math.cos(a), radius * Math.sin(a)];
    });
  switch (style.marker) {
    case "circle":
      ctx.arc(x, y, r, 0, 2 * Math.PI);
      break;
    case "square":
      ctx.rect(x - r * 0.85, y - r * 0.85, r * 1.7, r * 1.7);
      break;
    case "triangle":
      poly(regular(3, -Math.PI / 2).map(([a, b]) => [a * 1.2, b * 1.2 + 0.2]));
      break;
    case "triangleDown":
      poly(regular(3, Math.PI / 2).map(([a, b]) => [a * 1.2, b * 1.2 - 0.2]));
      break;
    case "diamond":
      poly([
        [0, -1.25],
        [1, 0],
        [0, 1.25],
        [-1, 0],
      ]);
      break;
    case "hexagon":
      poly(regular(6, 0));
      break;
    case "star":
      poly(regular(5, -Math.PI / 2, 0.45).map(([a, b]) => [a * 1.3, b * 1.3]));
      break;
    case "cross":
      poly(regular(4, Math.PI / 4, 0.45).map(([a, b]) => [a * 1.3, b * 1.3]));
      break;
    case "plus":
      poly(regular(4, 0, 0.45).map(([a, b]) => [a * 1.3, b * 1.3]));
      break;
  }
  ctx.fillStyle = style.color;
  ctx.fill();
  ctx.lineWidth = 1.25;
  ctx.strokeStyle = "#1a1a1a";
  ctx.stroke();
  ctx.restore();
}

/**
 * Strokes the current path in `style`: a dark halo under the coloured, dashed line, so light colours
 * (yellow) stay visible on a light background.
 */
export function strokeStyled(ctx: CanvasRenderingContext2D, style: LineStyle, width = 2): void {
  ctx.save();
  ctx.lineJoin = "round";
  ctx.lineCap = "butt";
  ctx.setLineDash(style.dash.map((d) => d * width));
  ctx.strokeStyle = "rgba(20, 20, 20, 0.55)";
  ctx.lineWidth = width + 2;
  ctx.stroke();
  ctx.strokeStyle = style.color;
  ctx.lineWidth = width;
  ctx.stroke();
  ctx.restore();
}

/** About `count` round tick values covering [lo, hi] (steps of 1, 2 or 5 times a power of ten). */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) {
    ticks.push(Math.abs(v) < step * 1e-9 ? 0 : Number(v.toPrecision(12)));
  }
  return ticks;
}

/** A short, readable rendering of a number for tables and axes (e.g. `2.9951`, `3.80e-6`). */
export function formatNumber(v: number, digits = 4): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e-3 && a < 1e5) return v.toFixed(Math.max(0, digits - Math.max(0, Math.floor(Math.log10(a)))));
  return v.toExponential(2);
}

/**
 * Appends to the current path the points `from + 1 … to` of a polyline whose point k `point(k, out)` writes
 * into `out` (screen coordinates), skipping points closer than `minGap` pixels to the last point kept, so a
 * path of thousands of tiny steps costs only as many segments as it has visible pixels (and no allocation
 * per point). `last` is the last point kept before `from + 1` (the path must already be at it); returns the
 * new last point and the length added.
 */
export function traceDecimated(
  ctx: CanvasRenderingContext2D,
  point: (k: number, out: Float64Array) => void,
  from: number,
  to: number,
  last: readonly [number, number],
  minGap = 0.75,
): { last: [number, number]; length: number } {
  let lx = last[0];
  let ly = last[1];
  let length = 0;
  const p = SCRATCH;
  for (let k = from + 1; k <= to; k++) {
    point(k, p);
    const x = p[0]!;
    const y = p[1]!;
    const d = Math.hypot(x - lx, y - ly);
    if (d >= minGap || (k === to && d > 0.01)) {
      ctx.lineTo(x, y);
      length += d;
      lx = x;
      ly = y;
    }
  }
  return { last: [lx, ly], length };
}

const SCRATCH = new Float64Array(2);

/**
 * A canvas not in the document with `like`'s backing-store size, for a layer drawn once and then copied:
 * `layer` itself, cleared, when it has that size already (no new allocation per scene), else a new one.
 */
export function layerLike(like: HTMLCanvasElement, layer?: HTMLCanvasElement): HTMLCanvasElement {
  if (layer && layer.width === like.width && layer.height === like.height) {
    const ctx = layer.getContext("2d")!;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, layer.width, layer.height);
    return layer;
  }
  const fresh = document.createElement("canvas");
  fresh.width = like.width;
  fresh.height = like.height;
  return fresh;
}

/** Reads one pixel of a layer, which makes the browser rasterise what was drawn on it so far. */
export function layerPixel(layer: HTMLCanvasElement): void {
  layer.getContext("2d")?.getImageData(0, 0, 1, 1);
}

/** The dark outline drawn under every line (so light colours stay visible); composited at this opacity. */
export const HALO_ALPHA = 0.55;
