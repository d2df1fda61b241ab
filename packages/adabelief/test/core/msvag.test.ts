import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MSVAG, OptionError, setWarningHandler } from "../../src/core/index.js";
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

  it("never moves θ in step 1, for any β1 and gradient, but records the moments", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.01, max: 0.999, noNaN: true }),
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
            const expected = (1 - beta1) * (weightDecay !== 0 ? gi + weightDecay * start[i]! : gi);
            expect(m[i] === expected, `m[${i}] = ${m[i]}, expected ${expected}`).toBe(true); // ±0 alike
          });
        },
      ),
      { numRuns: 50 },
    );
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

  it("computes ρ_1 = 1 exactly, so the first step is the undefined-variance case", () => {
    const c = msvagRule.coefficients(1, 1e-3, msvagRule.resolve({}));
    expect(c.rho).toBe(1);
    expect(c.oneMinusRho).toBe(0);
    expect(c.move).toBe(false);
    // For some β1 the double evaluation of ρ_1 is not exactly 1; step 1 still does not move.
    const odd = msvagRule.coefficients(1, 1e-3, msvagRule.resolve({ beta1: 0.030639178798870847 }));
    expect(odd.rho).not.toBe(1);
    expect(odd.move).toBe(false);
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
