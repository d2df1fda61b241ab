import { FLOAT32_COMPUTE } from "./configs.js";
import {
  checkCoefficientCopies,
  diagnose,
  explainDifference,
  TORCH_EMULATION,
  variantFactory,
  type Diagnosis,
} from "./random-diagnose.js";
import { replay, type CaseResult, type RandomCase, type RandomFixture } from "./random-replay.js";

/**
 * Replays every random case, counts, and classifies the failures: shared by random.test.ts (assertions and a
 * summary) and random-report.ts (the full report, `npx tsx packages/adabelief/test/golden/random-report.ts`).
 */

export type DType = "float32" | "float64";

/**
 * The tolerance a case is held to: the golden rule's tol of the dtype the reference **computes** in. That is
 * the parameter dtype, except for the paper folder's RAdam, which computes in float32 for float64 parameters
 * (its own ±1-float32-ulp noise moves a float64 run by ~1e-7, far beyond 1e-10); such cases are counted under
 * float64 and also reported against the float64 tol.
 */
export function tolFor(fixture: RandomFixture, kase: RandomCase): number {
  const dtype = FLOAT32_COMPUTE.has(kase.optimizer) ? "float32" : kase.dtype;
  return fixture.generator.comparison.tol[dtype];
}

export interface Counts {
  cases: number;
  /** With the torch emulation of random-diagnose.ts instead of the library's loops (report only). */
  emulatedBitIdentical?: number;
  emulatedStrict?: number;
  bitIdentical: number;
  strict: number;
  relaxed: number;
  nonfinite: number;
}

export interface FailureRow {
  kase: RandomCase;
  result: CaseResult;
  strict: Diagnosis;
  relaxed?: Diagnosis;
}

export interface Evaluation {
  results: { kase: RandomCase; result: CaseResult }[];
  byDtype: Record<DType, Counts>;
  byOptimizer: Record<string, Record<DType, Counts>>;
  failures: FailureRow[];
  /** radam_paper float64 cases failing the float64 tol (1e-10) although within their float32 compute tol. */
  float32ComputeOverFloat64Tol: number[];
  /** Mismatches between the diagnosis' copies of the coefficient formulas and the library ("" = none). */
  copyMismatches: string[];
  /**
   * Report only: every case within the strict rule that is not bit-identical, with the cause of its
   * difference (see explainDifference).
   */
  differences?: { kase: RandomCase; cause: string }[];
}

const zero = (): Counts => ({ cases: 0, bitIdentical: 0, strict: 0, relaxed: 0, nonfinite: 0 });

/**
 * Replays every case. `withDiagnosis`: classify the cases outside the strict rule. `emulate` (the report): also
 * count what the torch emulation gets, and explain every difference within the rule.
 */
export function evaluate(fixture: RandomFixture, withDiagnosis = true, emulate = false): Evaluation {
  const byDtype: Record<DType, Counts> = { float32: zero(), float64: zero() };
  const byOptimizer: Record<string, Record<DType, Counts>> = {};
  const results: Evaluation["results"] = [];
  const failures: FailureRow[] = [];
  const float32ComputeOverFloat64Tol: number[] = [];
  const copyMismatches = new Set<string>();
  const differences: { kase: RandomCase; cause: string }[] = [];
  for (const kase of fixture.cases) {
    const tol = tolFor(fixture, kase);
    const result = replay(kase, tol);
    results.push({ kase, result });
    const per = (byOptimizer[kase.optimizer] ??= { float32: zero(), float64: zero() });
    for (const c of [byDtype[kase.dtype], per[kase.dtype]]) {
      c.cases++;
      if (result.bitIdentical) c.bitIdentical++;
      if (result.strict) c.strict++;
      if (result.relaxed) c.relaxed++;
      if (kase.nonfinite) c.nonfinite++;
    }
    if (emulate) {
      const em = replay(kase, tol, variantFactory(kase, TORCH_EMULATION));
      for (const c of [byDtype[kase.dtype], per[kase.dtype]]) {
        c.emulatedBitIdentical = (c.emulatedBitIdentical ?? 0) + (em.bitIdentical ? 1 : 0);
        c.emulatedStrict = (c.emulatedStrict ?? 0) + (em.strict ? 1 : 0);
      }
    }
    if (emulate && result.strict && !result.bitIdentical) {
      differences.push({ kase, cause: explainDifference(kase, result, tol) });
    }
    if (result.strict && tol !== fixture.generator.comparison.tol[kase.dtype]) {
      if (!replay(kase, fixture.generator.comparison.tol[kase.dtype]).strict)
        float32ComputeOverFloat64Tol.push(kase.id);
    }
    if (!result.strict && withDiagnosis) {
      const mismatch = checkCoefficientCopies(kase);
      if (mismatch) copyMismatches.add(mismatch);
      failures.push({
        kase,
        result,
        strict: diagnose(kase, result, tol, "strict"),
        ...(result.relaxed ? {} : { relaxed: diagnose(kase, result, tol, "relaxed") }),
      });
    }
  }
  return {
    results,
    byDtype,
    byOptimizer,
    failures,
    float32ComputeOverFloat64Tol,
    copyMismatches: [...copyMismatches],
    ...(emulate ? { differences } : {}),
  };
}

const pct = (n: number, d: number) => (d === 0 ? "  -  " : `${((100 * n) / d).toFixed(1).padStart(5)}%`);

function countsLine(c: Counts): string {
  return (
    `${String(c.cases).padStart(4)} cases  bit-identical ${String(c.bitIdentical).padStart(4)} ${pct(c.bitIdentical, c.cases)}` +
    `  strict ${String(c.strict).padStart(4)} ${pct(c.strict, c.cases)}  relaxed ${String(c.relaxed).padStart(4)} ${pct(c.relaxed, c.cases)}` +
    (c.emulatedBitIdentical !== undefined
      ? `  | torch emulation: bit-identical ${String(c.emulatedBitIdentical).padStart(4)}, strict ${String(c.emulatedStrict).padStart(4)}`
      : "") +
    (c.nonfinite ? `  (${c.nonfinite} with non-finite reference values)` : "")
  );
}

/** One line per dtype: the summary the test prints. */
export function summaryLine(e: Evaluation): string {
  const d = (k: DType) =>
    `${k}: ${e.byDtype[k].cases} cases, bit-identical ${pct(e.byDtype[k].bitIdentical, e.byDtype[k].cases).trim()}, ` +
    `strict ${pct(e.byDtype[k].strict, e.byDtype[k].cases).trim()}, relaxed ${pct(e.byDtype[k].relaxed, e.byDtype[k].cases).trim()}`;
  return `random differential: ${d("float64")}; ${d("float32")}`;
}

/** Short description of a case's configuration (the flags and edges that matter for diagnosis). */
export function describeCase(kase: RandomCase): string {
  const c = kase.config;
  const parts: string[] = [];
  for (const [k, v] of Object.entries(c)) {
    if (k === "print_change_log") continue;
    if (typeof v === "boolean") {
      if (v) parts.push(k);
    } else if (Array.isArray(v)) parts.push(`${k}=${v.map((x) => fmt(x as number)).join("/")}`);
    else parts.push(`${k}=${fmt(v as number)}`);
  }
  return parts.join(" ");
}

function fmt(x: number): string {
  if (x === 0) return "0";
  if (x === 0.9 || x === 0.999 || x === 0.1 || x === 1 || x === 10) return String(x);
  if (x > 0.99 && x < 1) return `1-${(1 - x).toExponential(1)}`;
  return x.toExponential(2);
}

/** The full report: counts per dtype and optimizer, and every failing case with its diagnosis. */
export function formatReport(e: Evaluation): string {
  const lines: string[] = [];
  lines.push(summaryLine(e));
  for (const k of ["float64", "float32"] as const)
    lines.push(`  ${k.padEnd(24)} ${countsLine(e.byDtype[k])}`);
  for (const [opt, per] of Object.entries(e.byOptimizer).sort(([a], [b]) => a.localeCompare(b))) {
    for (const k of ["float64", "float32"] as const)
      lines.push(`  ${`${opt}/${k}`.padEnd(24)} ${countsLine(per[k])}`);
  }
  if (e.float32ComputeOverFloat64Tol.length > 0) {
    lines.push(
      `  radam_paper float64 (computes in float32) held to the float32 tol; against the float64 tol 1e-10 ` +
        `${e.float32ComputeOverFloat64Tol.length} more would fail: ids ${e.float32ComputeOverFloat64Tol.join(" ")}`,
    );
  }
  if (e.differences) {
    for (const k of ["float64", "float32"] as const) {
      const rows = e.differences.filter((d) => d.kase.dtype === k);
      const causes = new Map<string, Map<string, number>>();
      for (const d of rows) {
        const per = causes.get(d.cause) ?? new Map<string, number>();
        per.set(d.kase.optimizer, (per.get(d.kase.optimizer) ?? 0) + 1);
        causes.set(d.cause, per);
      }
      lines.push(`${k}: within the strict rule but not bit-identical: ${rows.length}`);
      for (const [cause, per] of [...causes.entries()].sort(([a], [b]) => a.localeCompare(b))) {
        const total = [...per.values()].reduce((a, b) => a + b, 0);
        const list = [...per.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([o, n]) => `${o} ${n}`);
        const ids =
          cause === "fused multiply-adds" || cause === "float32 rounding order"
            ? ""
            : `  ids ${rows
                .filter((d) => d.cause === cause)
                .map((d) => d.kase.id)
                .join(" ")}`;
        lines.push(`  ${cause}: ${total}  (${list.join(", ")})${ids}`);
      }
    }
  }
  const cats = new Map<string, number>();
  for (const f of e.failures) cats.set(f.strict.category, (cats.get(f.strict.category) ?? 0) + 1);
  lines.push(
    `strict failures: ${e.failures.length}  (${[...cats.entries()].map(([c, n]) => `${c}: ${n}`).join(", ")})`,
  );
  for (const f of e.failures) {
    const r = f.result;
    const first = r.firstStrictFailure;
    lines.push(
      `  #${String(f.kase.id).padEnd(4)} ${`${f.kase.optimizer}/${f.kase.dtype}`.padEnd(20)} steps ${String(r.steps).padStart(2)}` +
        `  strict ${r.worstStrict.toExponential(2)} relaxed ${r.worstRelaxed.toExponential(2)}${r.relaxed ? "" : " (RELAXED FAILS)"}` +
        (first
          ? `  first at step ${first.step} elem ${first.element}: ${first.actual} vs ${first.expected}`
          : "") +
        `${f.kase.nonfinite ? "  [non-finite reference]" : ""}`,
    );
    lines.push(`        ${describeCase(f.kase)}`);
    lines.push(`        → ${f.strict.category}: ${f.strict.detail}`);
    if (f.relaxed && f.relaxed.category !== f.strict.category) {
      lines.push(`        → relaxed: ${f.relaxed.category}: ${f.relaxed.detail}`);
    }
  }
  if (e.copyMismatches.length > 0) {
    lines.push(
      `diagnosis copies of the coefficient formulas differ from the library: ${e.copyMismatches.join("; ")}`,
    );
  }
  return lines.join("\n");
}
