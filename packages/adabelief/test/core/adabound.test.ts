import { describe, expect, it } from "vitest";
import { AdaBound, OptionError, setWarningHandler, withWarmup } from "../../src/core/index.js";
import { adaboundRule } from "../../src/core/optimizers/adabound.js";

/** Rosenbrock gradient at (x, y), textbook form. */
const rosenbrock = (x: number, y: number) => [-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)];

function collectWarnings(fn: () => void): string[] {
  const seen: string[] = [];
  const previous = setWarningHandler((m) => seen.push(m));
  try {
    fn();
  } finally {
    setWarningHandler(previous);
  }
  return seen;
}

describe("AdaBound", () => {
  it("uses the reference defaults and records base_lr", () => {
    const opt = new AdaBound([new Float64Array(1)]);
    expect(opt.options).toMatchObject({
      learningRate: 1e-3,
      beta1: 0.9,
      beta2: 0.999,
      finalLr: 0.1,
      gamma: 1e-3,
      epsilon: 1e-8,
      weightDecay: 0,
      amsbound: false,
      baseLearningRate: 1e-3,
    });
    expect(opt.getState().slots).toHaveProperty("m");
    expect(Object.keys(opt.getState().slots).sort()).toEqual(["m", "v"]);
    expect(
      Object.keys(new AdaBound([new Float64Array(1)], { amsbound: true }).getState().slots).sort(),
    ).toEqual(["m", "v", "vMax"]);
  });

  it("bounds follow the README table (f = 0.1, γ = 1e-3)", () => {
    const o = adaboundRule.resolve({});
    const at = (t: number) => adaboundRule.coefficients(t, 1e-3, o);
    expect(at(1).lower).toBeCloseTo(9.99e-5, 7);
    expect(at(1).upper).toBeCloseTo(100.1, 10);
    expect(at(1000).lower).toBeCloseTo(0.05, 14);
    expect(at(1000).upper).toBeCloseTo(0.2, 14);
    expect(at(1).stepSize).toBe((1e-3 * Math.sqrt(1 - 0.999)) / (1 - 0.9));
  });

  it("takes lower_1·m_1 as the first step in x on Rosenbrock (the lower bound is active)", () => {
    const [gx, gy] = rosenbrock(-1.5, 2) as [number, number];
    expect(gx).toBe(-155);
    expect(gy).toBe(-50);
    const w = new Float64Array([-1.5, 2]);
    new AdaBound([w]).step([Float64Array.of(gx, gy)]);
    const lower1 = 0.1 * (1 - 1 / (1e-3 * 1 + 1));
    const alpha1 = (1e-3 * Math.sqrt(1 - 0.999)) / (1 - 0.9);
    // x: α_1/(√v_1 + ε) = 3.16e-4/(155·0.0316) ≈ 6.5e-5 < lower_1, so η = lower_1 and m is not bias-corrected.
    expect(alpha1 / (Math.sqrt(0.001 * gx * gx) + 1e-8)).toBeLessThan(lower1);
    expect(w[0]).toBe(-1.5 - lower1 * ((1 - 0.9) * gx));
    expect(w[0]! + 1.5).toBeCloseTo(1.55e-3, 5);
    // y: α_1/(√v_1 + ε) ≈ 2e-4 lies inside the bounds, so the Adam-like step is taken.
    const etaY = alpha1 / (Math.sqrt(0.001 * gy * gy) + 1e-8);
    expect(etaY).toBeGreaterThan(lower1);
    expect(w[1]).toBeCloseTo(2 - etaY * (0.1 * gy), 15);
  });

  it("does not move a zero-gradient coordinate, but L2 decay moves it at the upper bound", () => {
    const w = new Float64Array([0.125]);
    new AdaBound([w]).step([new Float64Array([0])]);
    expect(w[0]).toBe(0.125);
    const d = new Float64Array([0.125]);
    new AdaBound([d], { weightDecay: 5e-4 }).step([new Float64Array([0])]);
    const upper1 = 0.1 * (1 + 1 / 1e-3);
    expect(0.125 - d[0]!).toBeCloseTo(upper1 * 0.1 * 5e-4 * 0.125, 15);
    expect(0.125 - d[0]!).toBeCloseTo(6.3e-4, 5);
  });

  it("AMSBound keeps the running maximum of v and divides by it", () => {
    const wA = new Float64Array([1]);
    const wB = new Float64Array([1]);
    const ams = new AdaBound([wA], { amsbound: true, gamma: 0 });
    const plain = new AdaBound([wB], { gamma: 0 });
    const gs = [10, 0.1, 0.1];
    let vMax = 0;
    let v = 0;
    gs.forEach((g) => {
      ams.step([new Float64Array([g])]);
      plain.step([new Float64Array([g])]);
      v = 0.999 * v + 0.001 * g * g;
      vMax = Math.max(vMax, v);
    });
    const s = ams.getState().slots as Record<string, number[][]>;
    expect(s.v![0]![0]).toBeCloseTo(v, 15);
    expect(s.vMax![0]![0]).toBeCloseTo(vMax, 15);
    expect(s.vMax![0]![0]).toBeGreaterThan(s.v![0]![0]!);
    // A larger denominator gives smaller steps once the gradient falls.
    expect(1 - wA[0]!).toBeLessThan(1 - wB[0]!);
  });

  it("scales the bounds by lr/base_lr under a schedule, with base_lr = the schedule's value at step 0", () => {
    const schedule = (step: number) => 1e-3 * 0.5 ** step;
    const opt = new AdaBound([new Float64Array(1)], { learningRate: schedule });
    expect(opt.options.baseLearningRate).toBe(1e-3);
    const c = adaboundRule.coefficients(3, schedule(2), opt.options);
    const f = (0.1 * schedule(2)) / 1e-3;
    expect(c.lower).toBe(f * (1 - 1 / (1e-3 * 3 + 1)));
    expect(c.upper).toBe(f * (1 + 1 / (1e-3 * 3)));
    expect(f).toBeCloseTo(0.025, 15);
  });

  it("with γ = 0 leaves the step unbounded (Adam with AdaBound's ε placement)", () => {
    const c = adaboundRule.coefficients(1, 1e-3, adaboundRule.resolve({ gamma: 0 }));
    expect(c.lower).toBe(0);
    expect(c.upper).toBe(Infinity);
  });

  it("rejects bad options with a message naming the option and the value", () => {
    const p = [new Float64Array(1)];
    expect(() => new AdaBound(p, { gamma: 1 })).toThrow(OptionError);
    expect(() => new AdaBound(p, { gamma: 1 })).toThrow(/gamma.*1/);
    expect(() => new AdaBound(p, { finalLr: -0.1 })).toThrow(/finalLr.*-0\.1/);
    expect(() => new AdaBound(p, { beta1: -0.5 })).toThrow(/beta1.*-0\.5/);
    expect(() => new AdaBound(p, { amsbound: "yes" as never })).toThrow(/amsbound.*"yes"/);
    expect(() => new AdaBound(p, { final_lr: 0.1 } as never)).toThrow(/final_lr/);
    expect(() => new AdaBound(p, { learningRate: 0 })).toThrow(/learningRate.*0/);
    expect(() => new AdaBound(p, { learningRate: (s: number) => s * 1e-4 })).toThrow(
      /learningRate schedule has a nominal learning rate of 0/,
    );
  });

  it("warns when finalLr = 0 would freeze the parameters", () => {
    expect(collectWarnings(() => new AdaBound([new Float64Array(1)], { finalLr: 0 }))).toEqual([
      expect.stringMatching(/finalLr = 0/),
    ]);
    expect(collectWarnings(() => new AdaBound([new Float64Array(1)]))).toEqual([]);
  });

  it("continues bit-identically after getState / setState through JSON", () => {
    const grads = (t: number) => [
      new Float64Array([Math.sin(t), -3]),
      new Float64Array([Math.cos(t) * 1e-3]),
    ];
    const options = { amsbound: true, weightDecay: 5e-4 };
    const a = [new Float64Array([1, 2]), new Float64Array([-1])];
    const optA = new AdaBound(a, options);
    for (let t = 0; t < 5; t++) optA.step(grads(t));
    const saved = JSON.parse(JSON.stringify(optA.getState()));
    const b = a.map((p) => p.slice());
    const optB = new AdaBound(b, options);
    optB.setState(saved);
    for (let t = 5; t < 10; t++) {
      optA.step(grads(t));
      optB.step(grads(t));
    }
    expect(b).toEqual(a);
    expect(optB.getState()).toEqual(optA.getState());
  });
});

describe("AdaBound with a warmup schedule", () => {
  it("scales its bounds by the schedule's peak, not by its first (warmup) value", () => {
    const warm = new AdaBound([new Float64Array(1)], { learningRate: withWarmup(1e-3, 100) });
    expect(warm.options.baseLearningRate).toBe(1e-3);
    // After warmup lr = 1e-3 = base, so f = finalLr exactly and the bounds match a constant-lr run.
    const plain = adaboundRule.coefficients(150, 1e-3, new AdaBound([new Float64Array(1)]).options);
    const scheduled = adaboundRule.coefficients(150, 1e-3, warm.options);
    expect(scheduled).toEqual(plain);
  });
});
