/** The demo's computation (Node, no browser): runs, noise, divergence, failures and the step inspector. */
import { describe, expect, it } from "vitest";
import { AdaBelief, Adam, OPTIMIZERS as CORE, SGD, setWarningHandler, type Optimizer } from "adabelief";
import { BEALE, TOY_FUNCTIONS } from "@adabelief/experiments/toy-functions";
import { gaussian } from "../src/noise.js";
import { coreOptions, OPTIMIZERS } from "../src/optimizers.js";
import { coreDefaults, HYPER_SETS, hyperSetValues, PRESETS, stateOfPreset } from "../src/presets.js";
import {
  CHECKPOINT_EVERY,
  DIVERGENCE_FACTOR,
  divergenceRadius,
  inspectStep,
  REACH,
  runKey,
  simulate,
  simulateEntry,
} from "../src/simulate.js";
import { defaultState, entryOf, type DemoState, type Entry } from "../src/state.js";

describe("demo noise", () => {
  it("is a fixed sequence per seed", () => {
    const a = gaussian(42);
    const b = gaussian(42);
    const c = gaussian(43);
    const sa = Array.from({ length: 50 }, a);
    expect(Array.from({ length: 50 }, b)).toEqual(sa);
    expect(Array.from({ length: 50 }, c)).not.toEqual(sa);
  });

  it("is standard normal (mean ≈ 0, variance ≈ 1 over 20,000 draws of a fixed seed)", () => {
    const z = gaussian(7);
    let sum = 0;
    let sq = 0;
    let allFinite = true;
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const v = z();
      allFinite &&= Number.isFinite(v);
      sum += v;
      sq += v * v;
    }
    expect(allFinite).toBe(true);
    const mean = sum / n;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(sq / n - mean * mean - 1)).toBeLessThan(0.04);
  });

  it("rejects a seed that is not an integer", () => {
    expect(() => gaussian(1.5)).toThrow("seed must be an integer, got 1.5");
  });
});

/** Runs entry `key` of `state` with the core directly for `steps` steps; returns the optimizer and θ. */
function coreRun(state: DemoState, key: string, steps: number): { opt: Optimizer; theta: Float64Array } {
  const entry = entryOf(state, key)!;
  const fn = TOY_FUNCTIONS.find((f) => f.id === state.fn)!;
  const theta = Float64Array.from(state.start);
  type Ctor = new (p: Float64Array[], o: object) => Optimizer;
  const opt = new (CORE[entry.optimizer] as Ctor)([theta], coreOptions(entry.optimizer, entry.hyper));
  const z = state.noise > 0 ? gaussian(state.seed) : undefined;
  const g = new Float64Array(2);
  for (let k = 0; k < steps; k++) {
    fn.grad(theta[0]!, theta[1]!, g);
    if (z) {
      g[0] = g[0]! + state.noise * z();
      g[1] = g[1]! + state.noise * z();
    }
    opt.step([g]);
  }
  return { opt, theta };
}

describe("demo simulate", () => {
  it("gives exactly the trajectory of the core class, step by step", () => {
    const s = defaultState();
    s.steps = 50;
    const runs = simulate(s);
    expect(runs.map((r) => r.key)).toEqual(["adabelief", "sgd", "adam"]);
    const classes = { adabelief: AdaBelief, sgd: SGD, adam: Adam } as const;
    for (const run of runs) {
      const theta = new Float64Array(s.start);
      const opt = new classes[run.optimizer as keyof typeof classes]([theta], entryOf(s, run.key)!.hyper);
      expect(run.points).toBe(51);
      for (let k = 1; k <= 50; k++) {
        opt.step([BEALE.grad(theta[0]!, theta[1]!)]);
        expect([run.path[2 * k], run.path[2 * k + 1]]).toEqual([theta[0], theta[1]]);
        expect(run.loss[k]).toBe(BEALE.f(theta[0]!, theta[1]!));
      }
    }
  });

  it("adds σ·z to each gradient, the same noise for every optimizer", () => {
    const s = defaultState();
    s.steps = 20;
    s.noise = 3;
    s.seed = 5;
    const [, , adam] = simulate(s);
    const { theta } = coreRun(s, "adam", 20);
    expect([adam!.path[40], adam!.path[41]]).toEqual([theta[0], theta[1]]);
  });

  it("runs a copy with its own settings, keyed apart", () => {
    const s = stateOfPreset("epsilon");
    const [a, b] = simulate(s);
    expect([a!.key, b!.key]).toEqual(["adabelief", "adabelief-2"]);
    expect(a!.optimizer).toBe("adabelief");
    expect(b!.optimizer).toBe("adabelief");
    const k = s.steps;
    expect([b!.path[2 * k], b!.path[2 * k + 1]]).toEqual(Array.from(coreRun(s, "adabelief-2", k).theta));
    expect(runKey(s, entryOf(s, "adabelief")!)).not.toBe(runKey(s, entryOf(s, "adabelief-2")!));
  });

  it("judges divergence relative to the start: AdaBelief at α 1e6 diverges at step 1, a far start does not", () => {
    const s = defaultState();
    entryOf(s, "adabelief")!.hyper.learningRate = 1e6;
    const [adabelief] = simulate(s);
    expect(adabelief!.diverged).toBe(1);
    expect(adabelief!.points).toBe(1);
    expect(adabelief!.stopped).toMatch(
      /^diverged at step 1: it went .* from the minimum, over 10× farther than the start$/,
    );
    // SGD at 0.01 diverges too (as it always did).
    entryOf(s, "sgd")!.hyper.learningRate = 0.01;
    expect(simulate(s)[1]!.diverged).toBeDefined();
    // From a start 200 away, the bound is 10× that: AdaBelief at α 0.1 crawls but does not "diverge".
    const far = defaultState();
    far.start = [200, -200];
    far.steps = 100;
    const fn = BEALE;
    expect(divergenceRadius(fn, far.start)).toBeCloseTo(DIVERGENCE_FACTOR * Math.hypot(197, 200.5), 6);
    const [ab] = simulate(far);
    expect(ab!.diverged).toBeUndefined();
    expect(ab!.points).toBe(101);
  });

  it("records the first step within REACH of the minimum", () => {
    const s = stateOfPreset("abs");
    const [adabelief] = simulate(s);
    const fn = TOY_FUNCTIONS.find((f) => f.id === "abs")!;
    const k = adabelief!.reached!;
    const d = (j: number): number =>
      Math.hypot(adabelief!.path[2 * j]! - fn.minimum[0], adabelief!.path[2 * j + 1]! - fn.minimum[1]);
    expect(d(k)).toBeLessThanOrEqual(REACH);
    expect(d(k - 1)).toBeGreaterThan(REACH);
  });

  it("reports options the core rejects with the core's message and the option it names; runs the others", () => {
    const s = defaultState();
    entryOf(s, "adam")!.hyper.beta1 = 1.5;
    const runs = simulate(s);
    const adam = runs.find((r) => r.key === "adam")!;
    expect(adam.error).toBe("Adam: beta1 must be a number in [0, 1), got 1.5");
    expect(adam.errorOption).toBe("beta1");
    expect(adam.points).toBe(1);
    expect(runs.find((r) => r.key === "adabelief")!.points).toBe(s.steps + 1);
  });

  it("collects the core's warnings per optimizer and restores the warning handler", () => {
    const seen: string[] = [];
    const previous = setWarningHandler((m) => seen.push(m));
    try {
      const s = defaultState();
      s.steps = 3;
      entryOf(s, "adabelief")!.hyper.beta1 = 0;
      const runs = simulate(s);
      expect(runs.find((r) => r.key === "adabelief")!.warnings.join()).toContain("beta1 = 0");
      expect(seen).toEqual([]);
      new AdaBelief([new Float64Array(1)], { beta1: 0 });
      expect(seen.length).toBe(1);
    } finally {
      setWarningHandler(previous);
    }
  });
});

describe("demo step inspector", () => {
  it("shows the core's own m and s (getState) at the chosen step, across checkpoints, with noise", () => {
    const s = defaultState();
    s.steps = 3 * CHECKPOINT_EVERY + 7;
    s.noise = 0.5;
    s.seed = 3;
    s.entries.forEach((e) => (e.on = true));
    const runs = simulate(s);
    for (const k of [
      1,
      CHECKPOINT_EVERY - 1,
      CHECKPOINT_EVERY,
      CHECKPOINT_EVERY + 1,
      2 * CHECKPOINT_EVERY + 50,
    ]) {
      let looked = 0;
      for (const run of runs) {
        if (k >= run.points) {
          expect(inspectStep(s, entryOf(s, run.key)!, run, k)).toBeUndefined();
          continue;
        }
        looked++;
        const entry = entryOf(s, run.key)!;
        const inside = inspectStep(s, entry, run, k)!;
        const { opt, theta } = coreRun(s, run.key, k);
        const state = opt.getState();
        for (const [name, values] of Object.entries(state.slots)) {
          expect(inside.slots[name], `${run.key} ${name} at ${k}`).toEqual(values[0]);
        }
        expect([run.path[2 * k], run.path[2 * k + 1]]).toEqual([theta[0], theta[1]]);
        // The step itself, and the effective step size: the move divided by −m (−g without m).
        const first = inside.first ? inside.slots[inside.first]! : inside.grad;
        for (let i = 0; i < 2; i++) {
          expect(inside.effective[i]).toBeCloseTo(-inside.delta[i]! / first[i]!, 12);
        }
      }
      expect(looked, `runs inspected at step ${k}`).toBeGreaterThanOrEqual(6);
    }
    const adabelief = inspectStep(s, entryOf(s, "adabelief")!, runs[0]!, 5)!;
    expect([adabelief.first, adabelief.second]).toEqual(["m", "s"]);
    const adam = runs.find((r) => r.key === "adam")!;
    expect(inspectStep(s, entryOf(s, "adam")!, adam, 5)!.second).toBe("v");
    const fromage = runs.find((r) => r.key === "fromage")!;
    expect(inspectStep(s, entryOf(s, "fromage")!, fromage, 5)!.first).toBeUndefined();
    expect(inspectStep(s, entryOf(s, "adabelief")!, runs[0]!, 0)).toBeUndefined();
  });

  it("AdaBelief's step size is α / (1 − β1^t) / (√(s / (1 − β2^t)) + ε), without rectification", () => {
    const s = stateOfPreset("quadratic");
    const entry: Entry = entryOf(s, "adabelief")!;
    const run = simulateEntry(s, entry);
    const { learningRate: a, beta1, beta2, epsilon } = entry.hyper as Record<string, number>;
    for (const t of [1, 17, 150]) {
      const inside = inspectStep(s, entry, run, t)!;
      for (let i = 0; i < 2; i++) {
        const expected =
          a! / (1 - beta1! ** t) / (Math.sqrt(inside.slots.s![i]! / (1 - beta2! ** t)) + epsilon!);
        expect(inside.effective[i]).toBeCloseTo(expected, 9);
      }
    }
  });
});

describe("demo hyper-parameter sets and presets", () => {
  it("reads the defaults from the core classes", () => {
    expect(coreDefaults("adabelief")).toEqual({
      learningRate: 1e-3,
      beta1: 0.9,
      beta2: 0.999,
      epsilon: 1e-16,
      rectify: true,
    });
    expect(coreDefaults("sgd")).toEqual({ learningRate: 0.01, momentum: 0, nesterov: false });
  });

  it("every set and every preset is accepted by every optimizer's core class", () => {
    for (const set of HYPER_SETS) {
      const s = defaultState();
      s.steps = 5;
      for (const e of s.entries) {
        e.on = true;
        e.hyper = hyperSetValues(set.id, e.optimizer);
      }
      for (const run of simulate(s)) expect(run.error, `${set.id} ${run.key}`).toBeUndefined();
    }
    for (const preset of PRESETS) {
      const s = stateOfPreset(preset.id);
      s.steps = 5;
      s.entries.forEach((e) => (e.on = true));
      for (const run of simulate(s)) expect(run.error, `${preset.id} ${run.key}`).toBeUndefined();
    }
    expect(OPTIMIZERS.length).toBe(9);
  });
});
