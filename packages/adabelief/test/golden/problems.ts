import type { FloatArray } from "../../src/core/index.js";
import type { GoldenProblem } from "./load.js";

/** Rounds to the run's dtype: identity for float64, Math.fround for float32. */
type Round = (x: number) => number;

/**
 * Gradient oracles for the golden problems, evaluated in the run's dtype the way torch autograd does
 * (one rounding per operation), as described in each problem's `description`.
 */
export function makeGradient(
  name: string,
  problem: GoldenProblem,
  dtype: "float32" | "float64",
): (params: FloatArray[], step: number) => FloatArray[] {
  const r: Round = dtype === "float32" ? Math.fround : (x) => x;
  const Ctor = dtype === "float32" ? Float32Array : Float64Array;
  const sign = (v: number) => (v > 0 ? 1 : v < 0 ? -1 : 0);
  switch (name) {
    case "P1_gradient_sequence":
      return (_params, step) => [Ctor.from(problem.gradients![step]!)];
    case "P2_rosenbrock":
      return ([xy]) => {
        const x = xy![0]!;
        const y = xy![1]!;
        const u = r(y - r(x * x));
        const gy = r(100 * r(2 * u));
        const gx = r(r(-2 * r(1 - x)) + r(-gy * r(2 * x)));
        return [Ctor.of(gx, gy)];
      };
    case "P3a_abs_sum":
      return ([xy]) => [Ctor.of(sign(xy![0]!), sign(xy![1]!))];
    case "P3b_abs_rotated":
      return ([xy]) => {
        const c = r(1 / 10);
        const s1 = sign(r(xy![0]! + xy![1]!));
        const s2 = sign(r(xy![0]! - xy![1]!));
        return [Ctor.of(r(s1 + r(c * s2)), r(s1 - r(c * s2)))];
      };
    case "P4_least_squares": {
      const X = problem.data!.X;
      const Y = problem.data!.Y;
      const n = X.length;
      const k = X[0]!.length;
      const cols = Y[0]!.length;
      const scale = r(1 / (n * cols));
      return ([W, b]) => {
        // G = (1/(n·cols)) · 2R, R = X·W + b − Y: autograd of mean((XW + b − Y)²).
        const G: number[][] = [];
        for (let i = 0; i < n; i++) {
          const row: number[] = [];
          for (let j = 0; j < cols; j++) {
            let acc = 0;
            for (let q = 0; q < k; q++) acc = r(acc + r(X[i]![q]! * W![q * cols + j]!));
            const res = r(r(acc + b![j]!) - Y[i]![j]!);
            row.push(r(scale * r(2 * res)));
          }
          G.push(row);
        }
        const dW = new Ctor(k * cols);
        for (let q = 0; q < k; q++) {
          for (let j = 0; j < cols; j++) {
            let acc = 0;
            for (let i = 0; i < n; i++) acc = r(acc + r(X[i]![q]! * G[i]![j]!));
            dW[q * cols + j] = acc;
          }
        }
        const db = new Ctor(cols);
        for (let j = 0; j < cols; j++) {
          let acc = 0;
          for (let i = 0; i < n; i++) acc = r(acc + G[i]![j]!);
          db[j] = acc;
        }
        return [dW, db];
      };
    }
    default:
      throw new Error(`golden problem ${name} is unknown to the test harness`);
  }
}

/** The problem's starting point, one typed array per parameter in `param_order`. */
export function initialParams(problem: GoldenProblem, dtype: "float32" | "float64"): FloatArray[] {
  const Ctor = dtype === "float32" ? Float32Array : Float64Array;
  return problem.param_order.map((name) => Ctor.from((problem.init[name] as unknown[]).flat(4) as number[]));
}
