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
 * The segments of the contour line `f = level`, by marching squares with linear interpolation on the cell
 * edges. Returned flat, in grid coordinates (column, row as real numbers): `[x1, y1, x2, y2, …]`, one
 * segment per four numbers. Saddle cells are resolved by the value at the cell's centre.
 */
export function contourSegments(grid: Grid, level: number): number[] {
  const { nx, ny, values } = grid;
  const out: number[] = [];
  const at = (i: number, j: number): number => values[j * nx + i]!;
  // Crossing on an edge between corners a (value va) and b (value vb): fraction from a.
  const t = (va: number, vb: number): number => (level - va) / (vb - va);
  for (let j = 0; j < ny - 1; j++) {
    for (let i = 0; i < nx - 1; i++) {
      const v0 = at(i, j); // bottom-left
      const v1 = at(i + 1, j); // bottom-right
      const v2 = at(i + 1, j + 1); // top-right
      const v3 = at(i, j + 1); // top-left
      const code = (v0 > level ? 1 : 0) | (v1 > level ? 2 : 0) | (v2 > level ? 4 : 0) | (v3 > level ? 8 : 0);
      if (code === 0 || code === 15) continue;
      // Edge crossing points: bottom (0–1), right (1–2), top (3–2), left (0–3).
      const bottom = (): [number, number] => [i + t(v0, v1), j];
      const right = (): [number, number] => [i + 1, j + t(v1, v2)];
      const top = (): [number, number] => [i + t(v3, v2), j + 1];
      const left = (): [number, number] => [i, j + t(v0, v3)];
      const seg = (a: [number, number], b: [number, number]): void => {
        out.push(a[0], a[1], b[0], b[1]);
      };
      switch (code) {
        case 1:
        case 14:
          seg(left(), bottom());
          break;
        case 2:
        case 13:
          seg(bottom(), right());
          break;
        case 3:
        case 12:
          seg(left(), right());
          break;
        case 4:
        case 11:
          seg(right(), top());
          break;
        case 6:
        case 9:
          seg(bottom(), top());
          break;
        case 7:
        case 8:
          seg(left(), top());
          break;
        case 5:
        case 10: {
          // Saddle. Corners 0 and 2 are on one side of the level, 1 and 3 on the other; the centre's side
          // says which diagonal pair is joined through the cell, and the lines cut off the other pair.
          const centreAbove = (v0 + v1 + v2 + v3) / 4 > level;
          const joined02 = centreAbove === (code === 5);
          if (joined02) {
            seg(bottom(), right());
            seg(left(), top());
          } else {
            seg(left(), bottom());
            seg(right(), top());
          }
          break;
        }
      }
    }
  }
  return out;
}
