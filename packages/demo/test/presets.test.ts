/**
 * The presets tell the truth: every number a caption quotes is what the library's core computes, run
 * here directly with the core classes (not through the page's simulate), and the behaviour each caption
 * describes holds for its settings.
 */
import { describe, expect, it } from "vitest";
import { OPTIMIZERS as CORE, type Optimizer } from "adabelief";
import { TOY_FUNCTIONS } from "@adabelief/experiments/toy-functions";
import { gaussian } from "../src/noise.js";
import { coreOptions, type HyperValues } from "../src/optimizers.js";
import { findPreset, PRESETS, stateOfPreset, type PresetId } from "../src/presets.js";
import { entryOf, type DemoState } from "../src/state.js";

interface Trace {
  /** Distance to the minimiser after each step (index 0: the start). */
  distance: number[];
  /** f − f* after each step. */
  gap: number[];
}

/** Runs one entry of `state` with the core class for `state.steps` steps (overriding `hyper` if given). */
function trace(state: DemoState, key: string, hyper?: HyperValues): Trace {
  const entry = entryOf(state, key)!;
  const fn = TOY_FUNCTIONS.find((f) => f.id === state.fn)!;
  const theta = Float64Array.from(state.start);
  type Ctor = new (p: Float64Array[], o: object) => Optimizer;
  const values = { ...entry.hyper, ...hyper };
  const opt = new (CORE[entry.optimizer] as Ctor)([theta], coreOptions(entry.optimizer, values));
  const z = state.noise > 0 ? gaussian(state.seed) : undefined;
  const g = new Float64Array(2);
  const out: Trace = { distance: [], gap: [] };
  const record = (): void => {
    out.distance.push(Math.hypot(theta[0]! - fn.minimum[0], theta[1]! - fn.minimum[1]));
    out.gap.push(fn.f(theta[0]!, theta[1]!) - fn.minValue);
  };
  record();
  for (let k = 0; k < state.steps; k++) {
    fn.grad(theta[0]!, theta[1]!, g);
    if (z) {
      g[0] = g[0]! + state.noise * z();
      g[1] = g[1]! + state.noise * z();
    }
    opt.step([g]);
    record();
  }
  return out;
}

/** The first step within `within` of the minimiser, or null. */
const reached = (t: Trace, within: number): number | null => {
  const k = t.distance.findIndex((d) => d <= within);
  return k < 0 ? null : k;
};

/** A preset's state with entry `key`'s settings changed. */
function variant(id: PresetId, change: (s: DemoState) => void): DemoState {
  const s = stateOfPreset(id);
  change(s);
  return s;
}

describe("demo presets: the captions' numbers are the core's", () => {
  for (const preset of PRESETS) {
    it(`${preset.label}: ${preset.facts.map((f) => `${f.key} ${f.reached ?? "never"}`).join(", ")}`, () => {
      const s = stateOfPreset(preset.id);
      expect(s.entries.filter((e) => e.on).map((e) => e.key)).toEqual([...preset.on]);
      for (const fact of preset.facts) {
        const t = trace(s, fact.key);
        expect(reached(t, preset.within), `${fact.key} reaches`).toBe(fact.reached);
        const last = t.gap[t.gap.length - 1]!;
        if (fact.finalGapBelow !== undefined) expect(last).toBeLessThan(fact.finalGapBelow);
        if (fact.finalGapAbove !== undefined) expect(last).toBeGreaterThan(fact.finalGapAbove);
        if (fact.finalDistance !== undefined) {
          expect(Number(t.distance[t.distance.length - 1]!.toPrecision(2))).toBe(fact.finalDistance);
        }
        // No preset shows a run that diverges.
        expect(t.distance.every(Number.isFinite)).toBe(true);
      }
    });
  }

  it("the captions' other claims hold", () => {
    const captions = Object.fromEntries(PRESETS.map((p) => [p.id, p.caption]));
    // Fig. 3a: "the lead narrows as α grows (80 vs 99 steps at 0.03), and SGD with momentum 0.9 gets there in 108".
    const abs03 = variant("abs", (s) => {
      entryOf(s, "adabelief")!.hyper.learningRate = 0.03;
      entryOf(s, "adam")!.hyper.learningRate = 0.03;
    });
    expect(reached(trace(abs03, "adabelief"), 0.01)).toBe(80);
    expect(reached(trace(abs03, "adam"), 0.01)).toBe(99);
    expect(reached(trace(stateOfPreset("abs"), "sgd", { momentum: 0.9 }), 0.01)).toBe(108);
    expect(captions.abs).toContain("80 vs 99 steps at 0.03");
    expect(captions.abs).toContain("momentum 0.9 gets there in 108");

    // Fig. 3b: "at 0.1 Adam is 2 steps ahead".
    const skewed = variant("abs-skewed", (s) => {
      entryOf(s, "adabelief")!.hyper.learningRate = 0.1;
      entryOf(s, "adam")!.hyper.learningRate = 0.1;
    });
    expect(reached(trace(skewed, "adabelief"), 0.01)! - reached(trace(skewed, "adam"), 0.01)!).toBe(2);

    // Beale: SGD's rate is the largest on a grid that reaches the minimum's valley; faster ones go elsewhere.
    for (const lr of [6e-4, 8e-4, 1e-3]) {
      const t = trace(stateOfPreset("beale"), "sgd", { learningRate: lr });
      const last = t.distance[t.distance.length - 1]!;
      expect(!Number.isFinite(last) || last > 1, `SGD at ${lr}`).toBe(true);
    }

    // Noise: "without noise AdaBelief is 3× faster here (218 vs 676 steps: Fig. 3c)" — the same settings.
    const quiet = variant("noise", (s) => (s.noise = 0));
    const [a, b] = [reached(trace(quiet, "adabelief"), 0.01), reached(trace(quiet, "adam"), 0.01)];
    expect([a, b]).toEqual([218, 676]);
    expect(findPreset("quadratic")!.facts.map((f) => f.reached)).toContain(218);
    // "jitter alike": over the second half, the two stay about as far from the minimum.
    const noisy = stateOfPreset("noise");
    const half = (t: Trace): number =>
      t.distance.slice(noisy.steps / 2).reduce((x, y) => x + y, 0) / (noisy.steps / 2 + 1);
    const ratio = half(trace(noisy, "adabelief")) / half(trace(noisy, "adam"));
    expect(ratio).toBeGreaterThan(0.7);
    expect(ratio).toBeLessThan(1.4);

    // ε: "ε 1e-16 bounces back up from step 1,335 (to f ≈ 1e-7)"; "at the default 0.999 the two stay together".
    const eps = stateOfPreset("epsilon");
    const e16 = trace(eps, "adabelief-2");
    const below = e16.gap.findIndex((g) => g < 1e-16);
    const back = e16.gap.findIndex((g, k) => k > below && g > 1e-12);
    expect(back).toBe(1335);
    expect(Math.max(...e16.gap.slice(back))).toBeGreaterThan(1e-7);
    expect(Math.max(...e16.gap.slice(back))).toBeLessThan(1e-6);
    const e8 = trace(eps, "adabelief");
    // ε 1e-8 stays below the chart's floor from well before that step on.
    expect(e8.gap.slice(900).every((g) => g < 1e-16)).toBe(true);
    const defaults = variant("epsilon", (s) => s.entries.forEach((e) => (e.hyper.beta2 = 0.999)));
    const [d8, d16] = [trace(defaults, "adabelief"), trace(defaults, "adabelief-2")];
    for (let k = 0; k <= defaults.steps; k++) {
      expect(Math.abs(d8.distance[k]! - d16.distance[k]!)).toBeLessThan(0.01);
    }
  });
});
