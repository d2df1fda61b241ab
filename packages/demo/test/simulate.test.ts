/** The demo's computation (Node, no browser): runs, noise, presets, and how failures are reported. */
import { describe, expect, it } from "vitest";
import { AdaBelief, Adam, SGD, setWarningHandler } from "adabelief";
import { BEALE } from "@adabelief/experiments/toy-functions";
import { gaussian } from "../src/noise.js";
import { OPTIMIZERS } from "../src/optimizers.js";
import { coreDefaults, PRESETS, presetValues } from "../src/presets.js";
import { simulate } from "../src/simulate.js";
import { defaultState } from "../src/state.js";

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

describe("demo simulate", () => {
  it("gives exactly the trajectory of the core class, step by step", () => {
    const s = defaultState();
    s.steps = 50;
    const runs = simulate(s);
    expect(runs.map((r) => r.id)).toEqual(["adabelief", "sgd", "adam"]);
    const classes = { adabelief: AdaBelief, sgd: SGD, adam: Adam } as const;
    for (const run of runs) {
      const theta = new Float64Array(s.start);
      const opt = new classes[run.id as keyof typeof classes]([theta], s.hyper[run.id]);
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
    s.selected = ["adam"];
    const [run] = simulate(s);
    const theta = new Float64Array(s.start);
    const opt = new Adam([theta], s.hyper.adam);
    const z = gaussian(5);
    for (let k = 0; k < 20; k++) {
      const g = BEALE.grad(theta[0]!, theta[1]!);
      g[0] = g[0]! + 3 * z();
      g[1] = g[1]! + 3 * z();
      opt.step([g]);
    }
    expect([run!.path[40], run!.path[41]]).toEqual([theta[0], theta[1]]);
  });

  it("stops a diverging run and says when", () => {
    const s = defaultState();
    s.selected = ["sgd"];
    s.hyper.sgd.learningRate = 0.1;
    const [run] = simulate(s);
    expect(run!.points).toBeLessThan(10);
    expect(run!.stopped).toMatch(/^(diverged at step \d+|stopped at step \d+: )/);
    for (let k = 0; k < run!.points; k++) expect(Number.isFinite(run!.path[2 * k])).toBe(true);
  });

  it("reports options the core rejects with the core's message, and runs the others", () => {
    const s = defaultState();
    s.hyper.adam.beta1 = 1.5;
    const runs = simulate(s);
    const adam = runs.find((r) => r.id === "adam")!;
    expect(adam.error).toBe("Adam: beta1 must be a number in [0, 1), got 1.5");
    expect(adam.points).toBe(1);
    expect(runs.find((r) => r.id === "adabelief")!.points).toBe(s.steps + 1);
  });

  it("collects the core's warnings per optimizer and restores the warning handler", () => {
    const seen: string[] = [];
    const previous = setWarningHandler((m) => seen.push(m));
    try {
      const s = defaultState();
      s.steps = 3;
      s.hyper.adabelief.beta1 = 0;
      const runs = simulate(s);
      expect(runs.find((r) => r.id === "adabelief")!.warnings.join()).toContain("beta1 = 0");
      expect(seen).toEqual([]);
      new AdaBelief([new Float64Array(1)], { beta1: 0 });
      expect(seen.length).toBe(1);
    } finally {
      setWarningHandler(previous);
    }
  });
});

describe("demo presets", () => {
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

  it("every preset is accepted by every optimizer's core class", () => {
    for (const preset of PRESETS) {
      const s = defaultState();
      s.steps = 5;
      s.selected = OPTIMIZERS.map((o) => o.id);
      for (const o of OPTIMIZERS) s.hyper[o.id] = presetValues(preset.id, o.id);
      for (const run of simulate(s)) expect(run.error, `${preset.id} ${run.id}`).toBeUndefined();
    }
  });

  it("the toy preset: nobody diverges on Beale from (−2.5, −2.5) in 1,000 steps; SGD at 2.5e-4 does", () => {
    const s = defaultState();
    s.steps = 1000;
    s.selected = OPTIMIZERS.map((o) => o.id);
    for (const run of simulate(s)) expect(run.stopped, run.id).toBeUndefined();
    s.selected = ["sgd"];
    s.hyper.sgd.learningRate = 2.5e-4;
    expect(simulate(s)[0]!.stopped).toBeDefined();
  });
});
