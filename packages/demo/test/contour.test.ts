/** The demo's contour lines (marching squares) and level choice. */
import { describe, expect, it } from "vitest";
import { contourSegments, quantileLevels, sample, type Grid } from "../src/contour.js";
import { niceTicks } from "../src/draw.js";

describe("demo contours", () => {
  it("traces a circle: every segment end lies on it, and the line goes all the way round", () => {
    // f = x² + y² on [−2, 2]², 41 × 41 points (spacing 0.1); the level 1 line is the unit circle.
    const grid = sample((x, y) => x * x + y * y, -2, 2, -2, 2, 41, 41);
    const s = contourSegments(grid, 1);
    expect(s.length % 4).toBe(0);
    const angles: number[] = [];
    for (let k = 0; k < s.length; k += 2) {
      const x = -2 + s[k]! * 0.1;
      const y = -2 + s[k + 1]! * 0.1;
      // Linear interpolation of a quadratic along a 0.1 edge is off by less than 0.01 in radius.
      expect(Math.abs(Math.hypot(x, y) - 1)).toBeLessThan(0.01);
      angles.push(Math.atan2(y, x));
    }
    angles.sort((a, b) => a - b);
    let gap = angles[0]! + 2 * Math.PI - angles[angles.length - 1]!;
    for (let i = 1; i < angles.length; i++) gap = Math.max(gap, angles[i]! - angles[i - 1]!);
    expect(gap).toBeLessThan(0.15);
  });

  it("resolves a saddle cell by its centre value", () => {
    // Corners (bottom-left, bottom-right, top-right, top-left) = (1, 0, 1, 0): a saddle at level 0.5.
    const saddle = (centreHigh: boolean): Grid => {
      const v = centreHigh ? [1, 0.1, 1, 0.1] : [0.9, 0, 0.9, 0];
      return { nx: 2, ny: 2, values: Float64Array.from([v[0]!, v[1]!, v[3]!, v[2]!]) };
    };
    // Centre above: the high corners (0, 2) are joined; the lines cut off the low corners 1 and 3.
    const high = contourSegments(saddle(true), 0.5);
    expect(high.length).toBe(8);
    const cutsCorner = (s: number[], cx: number, cy: number): boolean =>
      [0, 4].some(
        (o) => Math.hypot(s[o]! - cx, s[o + 1]! - cy) < 1 && Math.hypot(s[o + 2]! - cx, s[o + 3]! - cy) < 1,
      );
    expect(cutsCorner(high, 1, 0)).toBe(true);
    expect(cutsCorner(high, 0, 1)).toBe(true);
    // Centre below: the high corners are cut off instead.
    const low = contourSegments(saddle(false), 0.5);
    expect(cutsCorner(low, 0, 0)).toBe(true);
    expect(cutsCorner(low, 1, 1)).toBe(true);
  });

  it("draws nothing where the level is not crossed", () => {
    const grid = sample((x, y) => x + y, 0, 1, 0, 1, 5, 5);
    expect(contourSegments(grid, 10)).toEqual([]);
    expect(contourSegments(grid, -10)).toEqual([]);
  });

  it("chooses increasing levels spread over the values, whatever their scale", () => {
    const grid = sample((x, y) => Math.exp(10 * (x + y)), 0, 1, 0, 1, 30, 30);
    const levels = quantileLevels(grid.values, 10);
    expect(levels.length).toBe(10);
    for (let i = 1; i < levels.length; i++) expect(levels[i]!).toBeGreaterThan(levels[i - 1]!);
    const flat = quantileLevels(new Float64Array(100).fill(3), 10);
    expect(flat).toEqual([3]);
  });

  it("rejects a grid smaller than 2 × 2", () => {
    expect(() => sample(() => 0, 0, 1, 0, 1, 1, 5)).toThrow("nx and ny must be integers >= 2, got 1 and 5");
  });

  it("picks round axis ticks", () => {
    expect(niceTicks(-4.5, 4.5, 6)).toEqual([-4, -2, 0, 2, 4]);
    expect(niceTicks(0, 300, 6)).toEqual([0, 50, 100, 150, 200, 250, 300]);
    expect(niceTicks(-1, 3, 6)).toEqual([-1, 0, 1, 2, 3]);
    expect(niceTicks(0, 0.3, 3)).toEqual([0, 0.1, 0.2, 0.3]);
  });
});
