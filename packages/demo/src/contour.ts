/**
 * Contour lines of a function sampled on a grid (marching squares), and contour levels chosen from the
 * distribution of its values. Pure functions: no DOM.
 */

/** A function sampled on an `nx × ny` grid; `values[j * nx + i]` is the value at column i, row j. */
export interface Grid {
  nx: number;
  ny: number;
  values: Float64Array;
}

/** Samples `f` on an `nx × ny` grid spanning [x0, x1] × [y0, y1] (row 0 at y0). */
export function sample(
  f: (x: number, y: number) => number,
  x0: number,
  x1: number,
  y0: number,
  y1: number,
  nx: number,
  ny: number,
): Grid {
  if (!(Number.isInteger(nx) && Number.isInteger(ny) && nx >= 2 && ny >= 2)) {
    throw new RangeError(`sample: nx and ny must be integers >= 2, got ${nx} and ${ny}`);
  }
  const values = new Float64Array(nx * ny);
  for (let j = 0; j < ny; j++) {
    const y = y0 + ((y1 - y0) * j) / (ny - 1);
    for (let i = 0; i < nx; i++) values[j * nx + i] = f(x0 + ((x1 - x0) * i) / (nx - 1), y);
  }
  return { nx, ny, values };
}

/**
 * `count` contour levels at evenly spaced quantiles of the sampled values (excluding the extremes), so the
 * lines are spread over the picture whatever the function's scale (|x|+|y| is linear, Beale spans five
 * decades). Repeated values are dropped; the result is increasing.
 */
export function quantileLevels(values: Float64Array, count: number): number[] {
  const sorted = Float64Array.from(values).sort();
  const levels: number[] = [];
  for (let k = 1; k <= count; k++) {
    const q = sorted[Math.min(sorted.length - 1, Math.floor((k / (count + 1)) * sorted.length))]!;
    if (levels.length === 0 || q > levels[levels.length - 1]!) levels.push(q);
  }
  return levels;
}

/**
 * The cell edges a contour line crosses, per marching-squares case (bit k set when corner k is above the
 * level; corners: 0 bottom-left, 1 bottom-right, 2 top-right, 3 top-left), as pairs of edge numbers
 * (0 bottom, 1 right, 2 top, 3 left). The saddles (5 and 10) are resolved by the cell's centre.
 */
const CASES: readonly (readonly number[])[] = [
  [],
  [3, 0],
  [0, 1],
  [3, 1],
  [1, 2],
  [],
  [0, 2],
  [3, 2],
  [3, 2],
  [0, 2],
  [],
  [1, 2],
  [3, 1],
  [0, 1],
  [3, 0],
  [],
];

/**
 * The segments of the contour line `f = level`, by marching squares with linear interpolation on the cell
 * edges. Returned flat, in grid coordinates (column, row as real numbers): `[x1, y1, x2, y2, …]`, one
 * segment per four numbers. Saddle cells are resolved by the value at the cell's centre.
 *
 * Written without closures or allocations per cell: it runs over every cell of a 160 × 160 grid for each
 * of the plot's levels when the function or the view changes.
 */
export function contourSegments(grid: Grid, level: number): number[] {
  const { nx, ny, values } = grid;
  const out: number[] = [];
  // The crossing on edge e of cell (i, j) whose corner values are v0…v3, appended to `out`.
  const cross = (e: number, i: number, j: number, v0: number, v1: number, v2: number, v3: number): void => {
    switch (e) {
      case 0:
        out.push(i + (level - v0) / (v1 - v0), j);
        break;
      case 1:
        out.push(i + 1, j + (level - v1) / (v2 - v1));
        break;
      case 2:
        out.push(i + (level - v3) / (v2 - v3), j + 1);
        break;
      default:
        out.push(i, j + (level - v0) / (v3 - v0));
    }
  };
  for (let j = 0; j < ny - 1; j++) {
    const row = j * nx;
    for (let i = 0; i < nx - 1; i++) {
      const v0 = values[row + i]!; // bottom-left
      const v1 = values[row + i + 1]!; // bottom-right
      const v2 = values[row + nx + i + 1]!; // top-right
      const v3 = values[row + nx + i]!; // top-left
      const code = (v0 > level ? 1 : 0) | (v1 > level ? 2 : 0) | (v2 > level ? 4 : 0) | (v3 > level ? 8 : 0);
      if (code === 0 || code === 15) continue;
      if (code === 5 || code === 10) {
        // Saddle. Corners 0 and 2 are on one side of the level, 1 and 3 on the other; the centre's side
        // says which diagonal pair is joined through the cell, and the lines cut off the other pair.
        const centreAbove = (v0 + v1 + v2 + v3) / 4 > level;
        if (centreAbove === (code === 5)) {
          cross(0, i, j, v0, v1, v2, v3);
          cross(1, i, j, v0, v1, v2, v3);
          cross(3, i, j, v0, v1, v2, v3);
          cross(2, i, j, v0, v1, v2, v3);
        } else {
          cross(3, i, j, v0, v1, v2, v3);
          cross(0, i, j, v0, v1, v2, v3);
          cross(1, i, j, v0, v1, v2, v3);
          cross(2, i, j, v0, v1, v2, v3);
        }
        continue;
      }
      const edges = CASES[code]!;
      cross(edges[0]!, i, j, v0, v1, v2, v3);
      cross(edges[1]!, i, j, v0, v1, v2, v3);
    }
  }
  return out;
}
