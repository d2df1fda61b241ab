import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { FloatArray, Optimizer } from "../../src/core/index.js";
import { RAdamMode } from "../../src/core/optimizers/radam.js";
import { FLOAT32_COMPUTE, factories, type Factory } from "./configs.js";

/**
 * The randomized differential fixture written by scripts/random-cases.py (see its docstring for the format):
 * random configurations of the reference optimizers with their reference trajectories.
 */

/** A number as the fixture writes it: non-finite values are strings. */
export type Num = number | "NaN" | "Infinity" | "-Infinity";

export interface RandomCase {
  id: number;
  optimizer: string;
  config: Record<string, unknown>;
  dtype: "float32" | "float64";
  shapes: number[][];
  init: Num[];
  /** A flat row, or "=" (repeat the previous row), "-" (the previous row negated), 0 (all zeros). */
  grads: (Num[] | "=" | "-" | 0)[];
  /** A flat row, or "=" (unchanged from the previous row or the start). */
  trajectory: (Num[] | "=")[];
  /** The reference trajectory holds NaN or ±Infinity somewhere. */
  nonfinite?: boolean;
  /** [strict, relaxed] deviation of the reference from itself under ±1 ulp noise after every step. */
  noise: [Num, Num];
  /** [1 | 2 (β1 | β2), t, CPython's β ** t] where glibc's pow (CPython's) is not the exactly rounded power. */
  pow_not_correctly_rounded?: [number, number, number][];
}

export interface RandomFixture {
  generator: {
    command: string;
    seed: number;
    n: number;
    comparison: { tol: { float32: number; float64: number } };
    [key: string]: unknown;
  };
  cases: RandomCase[];
  edge_problem: { shapes: number[][]; init: number[]; grads: number[][]; dtype: "float64" };
  reference_raises: { optimizer: string; config: Record<string, unknown>; where: string; error: string }[];
  library_stricter: { optimizer: string; config: Record<string, unknown>; note: string }[];
}

const here = dirname(fileURLToPath(import.meta.url));

/** The fixture file: `$RANDOM_CASES`, else test/fixtures/random/random-cases.json. */
export function randomFixturePath(): string {
  return process.env.RANDOM_CASES
    ? resolve(process.env.RANDOM_CASES)
    : resolve(here, "../fixtures/random/random-cases.json");
}

export function loadRandomFixture(): RandomFixture {
  return JSON.parse(readFileSync(randomFixturePath(), "utf8")) as RandomFixture;
}

export function num(x: Num): number {
  if (typeof x === "number") return x;
  return x === "NaN" ? NaN : x === "Infinity" ? Infinity : -Infinity;
}

/** The gradient row of every step, decoded. */
export function gradientRows(kase: RandomCase): number[][] {
  const n = kase.init.length;
  const rows: number[][] = [];
  for (const g of kase.grads) {
    const prev = rows[rows.length - 1];
    if (g === "=") rows.push([...prev!]);
    else if (g === "-") rows.push(prev!.map((x) => -x));
    else if (g === 0) rows.push(new Array<number>(n).fill(0));
    else rows.push(g.map(num));
  }
  return rows;
}

/** The parameters after every step, decoded. */
export function trajectoryRows(kase: RandomCase): number[][] {
  const rows: number[][] = [];
  let prev = kase.init.map(num);
  for (const r of kase.trajectory) {
    prev = r === "=" ? [...prev] : r.map(num);
    rows.push(prev);
  }
  return rows;
}

const numel = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** Splits a flat row into one typed array per tensor. */
export function splitRow(row: number[], shapes: number[][], dtype: "float32" | "float64"): FloatArray[] {
  const Ctor = dtype === "float32" ? Float32Array : Float64Array;
  const out: FloatArray[] = [];
  let k = 0;
  for (const shape of shapes) {
    const n = numel(shape);
    out.push(Ctor.from(row.slice(k, k + n)));
    k += n;
  }
  return out;
}

export interface Failure {
  step: number;
  element: number;
  actual: number;
  expected: number;
  deviation: number;
}

/** The outcome of replaying one case with our core. */
export interface CaseResult {
  id: number;
  optimizer: string;
  dtype: "float32" | "float64";
  steps: number;
  /** Our optimizer threw (construction or a step). */
  error?: string;
  bitIdentical: boolean;
  /** Within tol·(1 + |expected|) everywhere, with the same non-finite pattern. */
  strict: boolean;
  /** Within tol·(1 + largest |expected| so far) everywhere, with the same non-finite pattern. */
  relaxed: boolean;
  worstStrict: number;
  worstRelaxed: number;
  firstBitDifference?: Failure;
  firstStrictFailure?: Failure;
  firstRelaxedFailure?: Failure;
  /** First place where the non-finite pattern differs. */
  nonfiniteMismatch?: Failure;
  /** Our parameters after every step (flat), for diagnosis. */
  actual: number[][];
}

/**
 * Replays a case: `factory` builds the optimizer (default: the golden harness's mapping of the official
 * keyword arguments), then every step's gradient is applied and the parameters are compared with the
 * reference after every step.
 */
export function replay(kase: RandomCase, tol: number, factory?: Factory): CaseResult {
  const make = factory ?? factories[kase.optimizer];
  const grads = gradientRows(kase);
  const expected = trajectoryRows(kase);
  const result: CaseResult = {
    id: kase.id,
    optimizer: kase.optimizer,
    dtype: kase.dtype,
    steps: expected.length,
    bitIdentical: true,
    strict: true,
    relaxed: true,
    worstStrict: 0,
    worstRelaxed: 0,
    actual: [],
  };
  const fail = (why: string) => {
    Object.assign(result, {
      error: why,
      bitIdentical: false,
      strict: false,
      relaxed: false,
      worstStrict: Infinity,
      worstRelaxed: Infinity,
    });
    return result;
  };
  if (!make) return fail(`no factory for optimizer ${kase.optimizer}`);
  // The paper folder's RAdam computes in float32 whatever the parameter dtype (see configs.ts).
  const float32Compute = FLOAT32_COMPUTE.has(kase.optimizer) && kase.dtype === "float64";
  const computeDtype = float32Compute ? "float32" : kase.dtype;
  const params = splitRow(kase.init.map(num), kase.shapes, computeDtype);
  // That code copies its float32 result back into the float64 parameter only on steps that move θ: during a
  // warm-up with degenerated_to_sgd=False the parameter keeps its float64 start value (which need not be a
  // float32 number), so the comparison reads the start until the first moving step.
  let movedYet = !float32Compute;
  let opt;
  try {
    opt = make(params, kase.config);
  } catch (e) {
    return fail(`constructor threw ${String(e)}`);
  }
  const scale = kase.init.map((x) => (Number.isFinite(num(x)) ? Math.abs(num(x)) : 0));
  for (let step = 0; step < expected.length; step++) {
    let g = splitRow(grads[step]!, kase.shapes, kase.dtype);
    if (float32Compute) g = g.map((x) => Float32Array.from(x));
    try {
      opt.step(g);
    } catch (e) {
      return fail(`step ${step + 1} threw ${String(e)}`);
    }
    if (!movedYet) {
      const o = opt as unknown as Optimizer;
      const c = o.rule.coefficients(step + 1, o.currentLearningRate, o.options) as { mode: number };
      movedYet = c.mode !== RAdamMode.None;
    }
    const row = expected[step]!;
    const actualRow: number[] = [];
    if (movedYet) for (const p of params) for (let i = 0; i < p.length; i++) actualRow.push(p[i]!);
    else actualRow.push(...kase.init.map(num));
    result.actual.push(actualRow);
    for (let k = 0; k < row.length; k++) {
      const e = row[k]!;
      const a = actualRow[k]!;
      const same = Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e));
      const at = (deviation: number): Failure => ({
        step: step + 1,
        element: k,
        actual: a,
        expected: e,
        deviation,
      });
      if (!same && result.bitIdentical) {
        result.bitIdentical = false;
        result.firstBitDifference = at(Number.isFinite(e) && Number.isFinite(a) ? Math.abs(a - e) : Infinity);
      }
      let strictDev: number;
      let relaxedDev: number;
      if (!Number.isFinite(e) || !Number.isFinite(a)) {
        strictDev = relaxedDev = same ? 0 : Infinity;
        if (!same && !result.nonfiniteMismatch) result.nonfiniteMismatch = at(Infinity);
      } else {
        scale[k] = Math.max(scale[k]!, Math.abs(e));
        const d = Math.abs(a - e);
        strictDev = d / (1 + Math.abs(e));
        relaxedDev = d / (1 + scale[k]!);
      }
      result.worstStrict = Math.max(result.worstStrict, strictDev);
      result.worstRelaxed = Math.max(result.worstRelaxed, relaxedDev);
      if (!(strictDev <= tol) && result.strict) {
        result.strict = false;
        result.firstStrictFailure = at(strictDev);
      }
      if (!(relaxedDev <= tol) && result.relaxed) {
        result.relaxed = false;
        result.firstRelaxedFailure = at(relaxedDev);
      }
    }
  }
  return result;
}
