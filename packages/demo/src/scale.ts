/**
 * Slider positions ↔ values for the hyper-parameter sliders: a log scale for rates and ε, a linear one for
 * β1 and momentum, and 1 − β2 on a log scale for β2. Pure functions: no DOM.
 */
import type { SliderScale } from "./optimizers.js";

/** Positions of every slider: integers 0 … SLIDER_STEPS. */
export const SLIDER_STEPS = 1000;

/** A value rounded to `digits` significant digits (the slider's values stay short in the URL). */
export function roundTo(v: number, digits: number): number {
  return v === 0 ? 0 : Number(v.toPrecision(digits));
}

/** The slider position of `value` on `scale` (clamped to the ends; NaN gives 0). */
export function toPosition(value: number, scale: SliderScale): number {
  let u: number;
  if (scale.kind === "linear") u = (value - scale.min) / (scale.max - scale.min);
  else if (scale.kind === "log") {
    u = value <= 0 ? 0 : Math.log10(value / scale.min) / Math.log10(scale.max / scale.min);
  } else {
    // 1 − β2, log scale; the left end is β2 = min (1 − β2 largest).
    const hi = 1 - scale.min;
    const lo = 1 - scale.max;
    const gap = 1 - value;
    u = gap <= 0 ? 1 : Math.log10(hi / gap) / Math.log10(hi / lo);
  }
  if (!Number.isFinite(u)) return 0;
  return Math.round(Math.min(1, Math.max(0, u)) * SLIDER_STEPS);
}

/** The value at slider position `position` on `scale`, rounded to a short decimal. */
export function fromPosition(position: number, scale: SliderScale): number {
  const u = Math.min(1, Math.max(0, position / SLIDER_STEPS));
  if (scale.kind === "linear") return roundTo(scale.min + u * (scale.max - scale.min), 3);
  if (scale.kind === "log") return roundTo(scale.min * (scale.max / scale.min) ** u, scale.digits ?? 2);
  const hi = 1 - scale.min;
  const lo = 1 - scale.max;
  return Number((1 - roundTo(hi * (lo / hi) ** u, 2)).toPrecision(12));
}

/**
 * The noise σ slider: position 0 is σ = 0 (exact gradients), positions 1 … SLIDER_STEPS run on a log scale
 * from 0.01 to 1000.
 */
export const NOISE_SCALE: SliderScale = { kind: "log", min: 0.01, max: 1000 };

/** Slider position of noise σ. */
export function noiseToPosition(sigma: number): number {
  return sigma <= 0 ? 0 : Math.max(1, toPosition(sigma, NOISE_SCALE));
}

/** Noise σ at a slider position. */
export function noiseFromPosition(position: number): number {
  return position <= 0 ? 0 : fromPosition(position, NOISE_SCALE);
}

/** The steps slider: 10 … 5000 on a log scale, rounded to two significant digits. */
export const STEPS_SCALE: SliderScale = { kind: "log", min: 10, max: 5000 };
