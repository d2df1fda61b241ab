import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MSVAG, OptionError, setWarningHandler } from "../../src/core/index.js";
import { fma } from "../../src/core/numerics.js";
import { msvagRule } from "../../src/core/optimizers/msvag.js";

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

const quiet = <T>(fn: () => T): T => {
  const previous = setWarningHandler(() => {});
  try {
    return fn();
  } finally {
    setWarningHandler(previous);
  }
};

describe("MSVAG", () => {
  it("uses the reference defaults", () => {
    expect(new MSVAG([new Float64Array(1)]).options).toMatchObject({
      learningRate: 1e-3,
      beta1: 0.9,
      beta2: 0.999,
      epsilon: 1e-8,
      weightDecay: 0,
      amsgrad: false,
    });
  });

  it("does not move θ in step 1 where ρ_1 evaluates to exactly 1 (β1 = 0.9 and most values), but records the moments", () => {
    fc.assert(
      fc.property(
        fc
          .double({ min: 0.01, max: 0.999, noNaN: true })
          .filter((b) => msvagRule.coefficients(1, 0.1, msvagRule.resolve({ beta1: b })).oneMinusRho === 0),
        fc.array(fc.double({ min: -1e3, max: 1e3, noNaN: true }), { minLength: 1, maxLength: 6 }),
        fc.double({ min: 0, max: 0.1, noNaN: true }),
        (beta1, g, weightDecay) => {
          const start = g.map((_, i) => i - 2.5);
          const w = Float64Array.from(start);
          const opt = new MSVAG([w], { beta1, weightDecay, learningRate: 0.1 });
          opt.step([Float64Array.from(g)]);
          expect(Array.from(w)).toEqual(start);
          const m = opt.getState().slots.m![0]!;
          g.forEach((gi, i) => {
            // torch: g = fma(θ, λ, g), m = fma(g, 1 − β1, β1·0) = RN((1 − β1)·g).
            const gd = weightDecay !== 0 ? fma(start[i]!, weightDecay, gi) : gi;
            const expected = (1 - beta1) * gd;
            expect(m[i] === expected, `m[${i}] = ${m[i]}, expected ${expected}`).toBe(true); // ±0 alike
          });
        },
      ),
      { numRuns: 50 },
    );
  });

  it("takes the reference's first step where ρ_1 evaluates to 1 ± 1 ulp (values from torch)", () => {
    // ρ_1 = (1 − β1)/(1 + β1)·(1 + β1)/(1 − β1) in double is 1 + 2^−52 for this β1, so the reference divides the
    // rounding residue v̂ − m̂² by 1 − ρ_1 = −2.2e-16 and γ = m̂²/(m̂² + ρ·s) is arbitrary (here 1 where the
    // residue is 0, other values elsewhere). torch 1.13 with MSVAG.py (affe9a2), θ = [1, 2, −3], g = [0.1, −0.2,
    // 0.3], lr = 0.1, betas = (β1, 0.999):
    const beta1 = 0.030639178798870847;
    const c = msvagRule.coefficients(1, 0.1, msvagRule.resolve({ beta1 }));
    expect(c.rho).toBe(1 + 2 ** -52);
    const d = new Float64Array([1, 2, -3]);
    new MSVAG([d], { learningRate: 0.1, beta1 }).step([new Float64Array([0.1, -0.2, 0.3])]);
    expect(Array.from(d)).toEqual([0.9943859649122807, 2.011228070175439, -3.017704918032787]);
    const f = new Float32Array([1, 2, -3]);
    new MSVAG([f], { learningRate: 0.1, beta1 }).step([new Float32Array([0.1, -0.2, 0.3])]);
    expect(Array.from(f)).toEqual([0.9900000095367432, 2.0199999809265137, -3]);
  });

  it("float32: computes every operation in float32 as torch does, so v/(1 − β1^t) overflows and γ = 0 (values from torch)", () => {
    // g = 3e19: v = 0.1·g² = 9e37 fits float32, v̂ = v/(1 − 0.9²) = 4.7e38 does not: s = ∞, γ = 0, θ_0 stays 1.
    // In float64 nothing overflows and θ_0 takes the (huge) step. torch 1.13, MSVAG.py, lr = 0.1:
    const grads = [
      [3e19, 1],
      [3e19, 2],
      [-1e19, 1.5],
    ];
    const f = new Float32Array([1, -2]);
    const opt32 = new MSVAG([f], { learningRate: 0.1 });
    const seen32: number[][] = [];
    for (const g of grads) {
      opt32.step([Float32Array.from(g)]);
      seen32.push(Array.from(f));
    }
    expect(seen32).toEqual([
      [1, -2],
      [1, -2.1378026008605957],
      [1, -2.2843894958496094],
    ]);
    const d = new Float64Array([1, -2]);
    const opt64 = new MSVAG([d], { learningRate: 0.1 });
    const seen64: number[][] = [];
    for (const g of grads) {
      opt64.step([Float64Array.from(g)]);
      seen64.push(Array.from(d));
    }
    expect(seen64).toEqual([
      [1, -2],
      [-3.000000000000001e18, -2.137802638641693],
      [-3.8415470877123625e18, -2.284389443847237],
    ]);
  });

  it("takes the hand-derived second step (both EMAs with β1)", () => {
    const w = new Float64Array([1]);
    const opt = new MSVAG([w], { learningRate: 0.01 });
    const [g1, g2] = [2, -1];
    opt.step([new Float64Array([g1])]);
    expect(w[0]).toBe(1);
    opt.step([new Float64Array([g2])]);
    const b = 0.9;
    const m = b * (1 - b) * g1 + (1 - b) * g2;
    const v = b * (1 - b) * g1 * g1 + (1 - b) * g2 * g2;
    const bc = 1 - b * b;
    const mHat = m / bc;
    const vHat = v / bc;
    const rho = ((1 - b) / (1 + b)) * ((1 + b * b) / (1 - b * b));
    expect(rho).toBeCloseTo(0.50139, 5);
    const s = (vHat - mHat * mHat) / (1 - rho);
    const gamma = (mHat * mHat) / (mHat * mHat + rho * s);
    expect(w[0]).toBeCloseTo(1 - 0.01 * mHat * gamma, 14);
    expect(opt.getState().slots.v![0]![0]).toBeCloseTo(v, 15);
  });

  it("is plain SGD (γ ≈ 1) for a constant gradient, and a zero gradient stays put", () => {
    const w = new Float64Array([0.75, 0.125]);
    const opt = new MSVAG([w], { learningRate: 1e-3 });
    for (let t = 0; t < 10; t++) opt.step([new Float64Array([0.25, 0])]);
    // 9 moving steps of lr·0.25 (step 1 does not move).
    expect(w[0]).toBeCloseTo(0.75 - 9 * 1e-3 * 0.25, 12);
    expect(w[1]).toBe(0.125);
  });

  it("computes ρ_1 = 1 exactly for the default β1, so the first step is the undefined-variance case", () => {
    const c = msvagRule.coefficients(1, 1e-3, msvagRule.resolve({}));
    expect(c.rho).toBe(1);
    expect(c.oneMinusRho).toBe(0);
    // For some β1 the double evaluation of ρ_1 is not exactly 1 (see the reference's first step above).
    const odd = msvagRule.coefficients(1, 1e-3, msvagRule.resolve({ beta1: 0.030639178798870847 }));
    expect(odd.oneMinusRho).toBe(-(2 ** -52));
    const c3 = msvagRule.coefficients(3, 1e-3, msvagRule.resolve({}));
    expect(c3.rho).toBeCloseTo(0.33579, 5);
  });

  it("warns about epsilon and amsgrad (unused by the reference) and beta1 = 0, but not about defaults or beta2", () => {
    const p = () => [new Float64Array(1)];
    expect(collectWarnings(() => new MSVAG(p()))).toEqual([]);
    expect(collectWarnings(() => new MSVAG(p(), { beta2: 0.99, amsgrad: false }))).toEqual([]);
    expect(collectWarnings(() => new MSVAG(p(), { epsilon: 1e-8 }))).toEqual([
      expect.stringMatching(/epsilon/),
    ]);
    expect(collectWarnings(() => new MSVAG(p(), { amsgrad: true }))).toEqual([
      expect.stringMatching(/amsgrad/),
    ]);
    expect(collectWarnings(() => new MSVAG(p(), { beta1: 0 }))).toEqual([expect.stringMatching(/beta1 = 0/)]);
  });

  it("with beta1 = 0 never moves (as warned)", () => {
    const w = new Float64Array([1, 2]);
    const opt = quiet(() => new MSVAG([w], { beta1: 0, learningRate: 0.1 }));
    for (let t = 0; t < 4; t++) opt.step([new Float64Array([1, -t])]);
    expect(Array.from(w)).toEqual([1, 2]);
  });

  it("rejects bad options with a message naming the option and the value", () => {
    const p = [new Float64Array(1)];
    expect(() => new MSVAG(p, { learningRate: -1 })).toThrow(OptionError);
    expect(() => new MSVAG(p, { learningRate: -1 })).toThrow(/learningRate.*-1/);
    expect(() => new MSVAG(p, { beta1: 1.5 })).toThrow(/beta1.*1\.5/);
    expect(() => new MSVAG(p, { beta2: Number.NaN })).toThrow(/beta2.*NaN/);
    expect(() => new MSVAG(p, { epsilon: -1e-8 })).toThrow(/epsilon.*-1e-8/);
    expect(() => new MSVAG(p, { eps: 1e-8 } as never)).toThrow(/"eps"/);
  });

  it("continues bit-identically after getState / setState through JSON", () => {
    const grads = (t: number) => [new Float32Array([Math.sin(t), 0.25, 0]), new Float32Array([Math.cos(t)])];
    const a = [new Float32Array([1, 2, 3]), new Float32Array([-1])];
    const optA = new MSVAG(a, { learningRate: 1e-2, weightDecay: 5e-4 });
    for (let t = 0; t < 5; t++) optA.step(grads(t));
    const saved = JSON.parse(JSON.stringify(optA.getState()));
    const b = a.map((p) => p.slice());
    const optB = new MSVAG(b, { learningRate: 1e-2, weightDecay: 5e-4 });
    optB.setState(saved);
    for (let t = 5; t < 10; t++) {
      optA.step(grads(t));
      optB.step(grads(t));
    }
    expect(b).toEqual(a);
    expect(optB.getState()).toEqual(optA.getState());
  });
});
