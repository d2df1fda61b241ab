/**
 * The paper's toy 2-D problems (Fig. 3) with analytic gradients. Framework-free and free of Node imports,
 * so the web demo can bundle it.
 *
 * @packageDocumentation
 */

/** A 2-D test function with its analytic gradient, its minimiser and a view window for plots. */
export interface ToyFunction {
  /** Short identifier used in file names and JSON keys, e.g. `"beale"`. */
  id: string;
  /** The formula as text, e.g. `"|x| + |y|"`. */
  label: string;
  /** f(x, y). */
  f(x: number, y: number): number;
  /**
   * ∇f(x, y), written into `out` (length ≥ 2) and returned. At the kinks of the non-smooth functions the
   * subgradient `sign(0) = 0` is used.
   */
  grad(x: number, y: number, out?: Float64Array): Float64Array;
  /** The starting point of the toy runs. */
  start: readonly [number, number];
  /** The global minimiser (x*, y*). */
  minimum: readonly [number, number];
  /** The minimum value f(x*, y*). */
  minValue: number;
  /** Plot window: [[xMin, xMax], [yMin, yMax]], containing the start and the minimiser. */
  domain: readonly [readonly [number, number], readonly [number, number]];
}

/** Sign with sign(0) = 0 (the subgradient the non-smooth functions use at their kinks). */
function sign(v: number): number {
  return v > 0 ? 1 : v < 0 ? -1 : 0;
}

function out2(out: Float64Array | undefined, gx: number, gy: number): Float64Array {
  const o = out ?? new Float64Array(2);
  o[0] = gx;
  o[1] = gy;
  return o;
}

/** `|x| + |y|`: non-smooth, minimum 0 at (0, 0). */
export const ABS: ToyFunction = {
  id: "abs",
  label: "|x| + |y|",
  f: (x, y) => Math.abs(x) + Math.abs(y),
  grad: (x, y, out) => out2(out, sign(x), sign(y)),
  start: [-2.5, 2],
  minimum: [0, 0],
  minValue: 0,
  domain: [
    [-3, 1],
    [-1, 3],
  ],
};

/** `|x + y| + |x − y|/10`: non-smooth and badly conditioned (10:1), minimum 0 at (0, 0). */
export const ABS_SKEWED: ToyFunction = {
  id: "abs-skewed",
  label: "|x + y| + |x − y| / 10",
  f: (x, y) => Math.abs(x + y) + Math.abs(x - y) / 10,
  grad: (x, y, out) => {
    const a = sign(x + y);
    const b = sign(x - y) / 10;
    return out2(out, a + b, a - b);
  },
  start: [-2.5, 2],
  minimum: [0, 0],
  minValue: 0,
  domain: [
    [-3, 1],
    [-1, 3],
  ],
};

/** `(x + y)² + (x − y)²/10`: a quadratic with condition number 10, minimum 0 at (0, 0). */
export const QUADRATIC: ToyFunction = {
  id: "quadratic",
  label: "(x + y)² + (x − y)² / 10",
  f: (x, y) => (x + y) ** 2 + (x - y) ** 2 / 10,
  grad: (x, y, out) => {
    const a = 2 * (x + y);
    const b = (x - y) / 5;
    return out2(out, a + b, a - b);
  },
  start: [-2.5, 2],
  minimum: [0, 0],
  minValue: 0,
  domain: [
    [-3, 1],
    [-1, 3],
  ],
};

/**
 * The Beale function `(1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)²`, from (−2.5, −2.5) as in the
 * paper; minimum 0 at (3, 0.5).
 */
export const BEALE: ToyFunction = {
  id: "beale",
  label: "Beale",
  f: (x, y) => (1.5 - x + x * y) ** 2 + (2.25 - x + x * y * y) ** 2 + (2.625 - x + x * y ** 3) ** 2,
  grad: (x, y, out) => {
    const y2 = y * y;
    const y3 = y2 * y;
    const r1 = 1.5 - x + x * y;
    const r2 = 2.25 - x + x * y2;
    const r3 = 2.625 - x + x * y3;
    const gx = 2 * r1 * (y - 1) + 2 * r2 * (y2 - 1) + 2 * r3 * (y3 - 1);
    const gy = 2 * r1 * x + 2 * r2 * 2 * x * y + 2 * r3 * 3 * x * y2;
    return out2(out, gx, gy);
  },
  start: [-2.5, -2.5],
  minimum: [3, 0.5],
  minValue: 0,
  domain: [
    [-4.5, 4.5],
    [-4.5, 4.5],
  ],
};

/** The Rosenbrock function `(1 − x)² + 100·(y − x²)²`, from (−1.5, 2); minimum 0 at (1, 1). */
export const ROSENBROCK: ToyFunction = {
  id: "rosenbrock",
  label: "Rosenbrock",
  f: (x, y) => (1 - x) ** 2 + 100 * (y - x * x) ** 2,
  grad: (x, y, out) => {
    const r = y - x * x;
    return out2(out, -2 * (1 - x) - 400 * x * r, 200 * r);
  },
  start: [-1.5, 2],
  minimum: [1, 1],
  minValue: 0,
  domain: [
    [-2, 2],
    [-1, 3],
  ],
};

/** The five toy functions of the paper's Fig. 3, in the paper's order. */
export const TOY_FUNCTIONS: readonly ToyFunction[] = Object.freeze([
  ABS,
  ABS_SKEWED,
  QUADRATIC,
  BEALE,
  ROSENBROCK,
]);

/** Euclidean distance from (x, y) to the function's minimiser. */
export function distanceToMinimum(fn: ToyFunction, x: number, y: number): number {
  return Math.hypot(x - fn.minimum[0], y - fn.minimum[1]);
}
