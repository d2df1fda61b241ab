import { afterAll, describe, expect, it } from "vitest";
import { OptionError, setWarningHandler } from "../../src/core/index.js";
import { FLOAT32_COMPUTE, factories } from "./configs.js";
import { loadRandomFixture, replay, splitRow } from "./random-replay.js";
import { TORCH_EMULATION, powDifferences, sameRows, variantFactory } from "./random-diagnose.js";
import { evaluate, formatReport, summaryLine, tolFor, type DType } from "./random-summary.js";

/**
 * The randomized differential fixture (scripts/random-cases.py): 1,200 random configurations of the ten
 * reference optimizers, random starting points and gradient sequences (tiny, huge, zero, repeated, flipped),
 * 1–30 steps, float32 and float64, with the reference trajectories. Nobody tuned these cases to pass.
 *
 * Every case is replayed with the core through the golden harness's option mapping (configs*.ts) and compared
 * after every step with the golden rule |a − e| ≤ tol·(1 + |e|) ("strict"), and with the scale taken as the
 * largest |value| the element has held so far, its start included ("relaxed": an error inherited from when
 * the parameter was large is not held against it once it has come back near 0). tol is 1e-10 for float64 and
 * 1e-5 for float32, taken from the dtype the reference computes in (float32 for the paper folder's RAdam,
 * whatever the parameter dtype). Where the reference holds NaN or ±Infinity we must hold the same.
 *
 * Targets: 100 % of the cases within the relaxed rule, ≥ 99 % within the strict rule for float64 and for
 * float32 separately. The library meets them (see the floors below and the diagnosis printed after the run:
 * `npx tsx packages/adabelief/test/golden/random-report.ts` prints it in full; docs/parity.md explains every
 * remaining difference). The test asserts what it measures as tight floors: a change that makes a passing
 * case fail, or a bit-identical case differ, is caught.
 */

const fixture = loadRandomFixture();
setWarningHandler(() => {});
const evaluation = evaluate(fixture);

/**
 * The most cases allowed outside each rule, and the fewest bit-identical cases (measured on the library; tight:
 * one more failure, or one fewer bit-identical case, fails the test). Targets: relaxed 0 in both dtypes;
 * strict at most 1 % (float64: 5 of 571, float32: 6 of 629).
 *
 * What is outside the strict rule (all within the relaxed rule): 5 ill-conditioned cases, 1 float64 and 4
 * float32, where a parameter grows to 1e12–1e18 and comes back near 0 or to a much smaller value; the rounding
 * of the large values is then large against 1 + |θ|, and the reference itself moves as much when ±1 ulp of
 * noise is added to its state (the fixture's `noise`). The torch emulation reproduces them bit for bit.
 */
const MAX_OUTSIDE: Record<DType, { strict: number; relaxed: number }> = {
  float64: { strict: 1, relaxed: 0 },
  float32: { strict: 4, relaxed: 0 },
};
const MIN_BIT_IDENTICAL: Record<DType, number> = { float64: 315, float32: 386 };

/** Reference errors the library deliberately does not raise (documented deviations). */
const ACCEPTED_BY_LIBRARY = new Set([
  // AdaBound: the reference divides by γ·t at step 1; the library documents γ = 0 as "no upper bound".
  'adabound {"gamma":0}',
  // Yogi: the reference rejects lr = 0 (`lr <= 0.0`); the library accepts 0 for every optimizer.
  'yogi {"lr":0}',
]);

describe("random differential fixture", () => {
  it("holds the cases the generator says it wrote, every optimizer and every AdaBelief flag combination", () => {
    expect(fixture.cases.length).toBe(fixture.generator.n);
    const optimizers = new Set(fixture.cases.map((c) => c.optimizer));
    expect([...optimizers].sort()).toEqual(Object.keys(factories).sort());
    const combos = new Set(
      fixture.cases
        .filter((c) => c.optimizer === "adabelief")
        .map((c) =>
          ["weight_decouple", "fixed_decay", "rectify", "amsgrad", "degenerated_to_sgd"]
            .map((k) => (c.config[k] ? 1 : 0))
            .join(""),
        ),
    );
    expect(combos.size).toBe(32);
  });

  for (const dtype of ["float64", "float32"] as const) {
    it(`${dtype}: cases within the relaxed rule (target 100 %)`, () => {
      const c = evaluation.byDtype[dtype];
      expect(c.cases - c.relaxed).toBeLessThanOrEqual(MAX_OUTSIDE[dtype].relaxed);
    });
    it(`${dtype}: cases within the strict rule (target ≥ 99 %)`, () => {
      const c = evaluation.byDtype[dtype];
      expect(c.cases - c.strict).toBeLessThanOrEqual(MAX_OUTSIDE[dtype].strict);
      expect(c.strict / c.cases).toBeGreaterThanOrEqual(0.99);
    });
    it(`${dtype}: bit-identical cases`, () => {
      expect(evaluation.byDtype[dtype].bitIdentical).toBeGreaterThanOrEqual(MIN_BIT_IDENTICAL[dtype]);
    });
  }

  it("reproduces the non-finite pattern of every case whose reference overflows or goes NaN, or fails it explicitly", () => {
    const flagged = evaluation.results.filter(({ kase }) => kase.nonfinite);
    expect(flagged.length).toBeGreaterThan(0);
    // Mismatched patterns count as failures of both rules above; here we only check the flag is consistent.
    for (const { result } of flagged) if (result.relaxed) expect(result.nonfiniteMismatch).toBeUndefined();
  });

  it("is reproduced bit for bit by the test-side model of torch's op sequence (so the diagnosis can trust it)", () => {
    // random-diagnose.ts' torch emulation: per-op rounding in the dtype, fused multiply-adds, CPython's β^t.
    // If this fails, the fixture or the emulation is wrong, not the library.
    const off = fixture.cases
      .filter(
        (kase) => !replay(kase, tolFor(fixture, kase), variantFactory(kase, TORCH_EMULATION)).bitIdentical,
      )
      .map((kase) => kase.id);
    expect(off).toEqual([]);
  });

  it("AdaBelief, Adam and AdamW compute torch's operations in torch's order in float32: all bit-identical", () => {
    const perOp = ["adabelief", "adam", "adamw"];
    const off = evaluation.results
      .filter(
        ({ kase, result }) =>
          perOp.includes(kase.optimizer) && kase.dtype === "float32" && !result.bitIdentical,
      )
      .map(({ kase }) => kase.id);
    expect(off).toEqual([]);
  });

  it("Fromage and MSVAG compute torch's operations in torch's order: bit-identical but at glibc pow near-ties", () => {
    // Both dtypes: per-op rounding in the dtype, fused multiply-adds, torch's norm order, ρ_1 as evaluated. The
    // only differences left come from CPython's β ** t, which is glibc's pow and not the exactly rounded power
    // at rare near-ties (MSVAG only; Fromage has no power): with CPython's power the case is bit-identical.
    const off: string[] = [];
    for (const { kase, result } of evaluation.results) {
      if (kase.optimizer !== "fromage" && kase.optimizer !== "msvag") continue;
      if (result.bitIdentical) continue;
      const withGlibcPow = replay(
        kase,
        tolFor(fixture, kase),
        variantFactory(kase, { name: "pow", pow: true }),
      );
      if (powDifferences(kase).length === 0 || !withGlibcPow.bitIdentical)
        off.push(`#${kase.id} ${kase.optimizer}`);
    }
    expect(off).toEqual([]);
  });

  it("float64: every other element-wise optimizer computes torch's op sequence without its fusion, bit for bit", () => {
    // So the float64 differences from the reference are torch's fused multiply-adds (and glibc pow near-ties)
    // and nothing else: the torch emulation with each fused multiply-add rounded as a product and a sum, and the
    // exactly rounded power, gives exactly the library's parameters after every step.
    const off: number[] = [];
    for (const { kase, result } of evaluation.results) {
      if (kase.dtype !== "float64" || FLOAT32_COMPUTE.has(kase.optimizer)) continue;
      if (kase.optimizer === "fromage" || kase.optimizer === "msvag") continue;
      const unfused = replay(
        kase,
        tolFor(fixture, kase),
        variantFactory(kase, { name: "unfused", torch: true, unfused: true }),
      );
      if (!sameRows(result, unfused)) off.push(kase.id);
    }
    expect(off).toEqual([]);
  });

  it("the diagnosis' copies of the coefficient formulas still match the library", () => {
    expect(evaluation.copyMismatches).toEqual([]);
  });

  it("rejects what the reference rejects (except the documented deviations)", () => {
    const p = fixture.edge_problem;
    const notRaised: string[] = [];
    for (const probe of fixture.reference_raises) {
      const config = Object.fromEntries(
        Object.entries(probe.config).filter(([k]) => k !== "print_change_log"),
      );
      let raised = false;
      try {
        const params = splitRow(p.init, p.shapes, p.dtype);
        const opt = factories[probe.optimizer]!(params, probe.config);
        for (const g of p.grads) opt.step(splitRow(g, p.shapes, p.dtype));
      } catch (e) {
        expect(e, `${probe.optimizer} ${JSON.stringify(config)}`).toBeInstanceOf(OptionError);
        raised = true;
      }
      if (!raised) notRaised.push(`${probe.optimizer} ${JSON.stringify(config)}`);
    }
    expect(notRaised.sort()).toEqual([...ACCEPTED_BY_LIBRARY].sort());
  });

  it("rejects, with an OptionError, the settings it validates more strictly than the reference", () => {
    const p = fixture.edge_problem;
    for (const probe of fixture.library_stricter) {
      expect(
        () => factories[probe.optimizer]!(splitRow(p.init, p.shapes, p.dtype), probe.config),
        `${probe.optimizer} ${JSON.stringify(probe.config)}: ${probe.note}`,
      ).toThrow(OptionError);
    }
  });
});

afterAll(() => {
  console.log(
    process.env.RANDOM_REPORT ? formatReport(evaluation) : `${summaryLine(evaluation)}\n${failuresBrief()}`,
  );
});

/** One line per failing case: id, optimizer/dtype, deviation, diagnosis category. */
function failuresBrief(): string {
  const cats = new Map<string, number[]>();
  for (const f of evaluation.failures) {
    const key = `${f.kase.optimizer}/${f.kase.dtype}: ${f.strict.category}${f.result.relaxed ? " (strict only)" : ""}`;
    cats.set(key, [...(cats.get(key) ?? []), f.kase.id]);
  }
  return [...cats.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, ids]) => `  ${k}: ${ids.length} (#${ids.join(" #")})`)
    .join("\n");
}
