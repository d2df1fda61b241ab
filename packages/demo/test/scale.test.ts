/** The sliders' scales: positions ↔ values. */
import { describe, expect, it } from "vitest";
import { OPTIMIZERS } from "../src/optimizers.js";
import {
  fromPosition,
  noiseFromPosition,
  noiseToPosition,
  SLIDER_STEPS,
  STEPS_SCALE,
  toPosition,
} from "../src/scale.js";

describe("demo slider scales", () => {
  const scaleOf = (key: string) =>
    OPTIMIZERS.flatMap((o) => o.params).find((p) => p.key === key && p.slider)!.slider!;

  it("puts the usual values where a reader expects them and reads back short numbers", () => {
    const lr = scaleOf("learningRate");
    expect(fromPosition(0, lr)).toBe(1e-5);
    expect(fromPosition(SLIDER_STEPS, lr)).toBe(10);
    expect(fromPosition(toPosition(0.1, lr), lr)).toBeCloseTo(0.1, 3);
    const beta2 = scaleOf("beta2");
    // 0.9, 0.99, 0.999 and 0.9999 evenly spaced.
    expect([0.9, 0.99, 0.999, 0.9999].map((v) => toPosition(v, beta2))).toEqual([0, 333, 667, 1000]);
    expect(fromPosition(667, beta2)).toBe(0.999);
    const eps = scaleOf("epsilon");
    expect(fromPosition(toPosition(1e-8, eps), eps)).toBe(1e-8);
    expect(fromPosition(toPosition(1e-16, eps), eps)).toBe(1e-16);
    expect(toPosition(0, eps)).toBe(0);
    expect(toPosition(1e9, eps)).toBe(SLIDER_STEPS);
  });

  it("noise: the left end is exact gradients, then 0.01 … 1000", () => {
    expect(noiseFromPosition(0)).toBe(0);
    expect(noiseToPosition(0)).toBe(0);
    expect(noiseFromPosition(1)).toBeCloseTo(0.01, 3);
    expect(noiseFromPosition(SLIDER_STEPS)).toBe(1000);
    expect(noiseToPosition(1e-9)).toBe(1);
    expect(Math.round(fromPosition(toPosition(400, STEPS_SCALE), STEPS_SCALE))).toBe(400);
  });
});
