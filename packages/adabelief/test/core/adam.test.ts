import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  ADAMW_DEFAULTS,
  ADAM_DEFAULTS,
  Adam,
  AdamW,
  OptionError,
  StateError,
  setWarningHandler,
  type AdamOptions,
  type FloatArray,
} from "../../src/core/index.js";
import { fma32, powInt } from "../../src/core/numerics.js";

let warnings: string[] = [];
let restore: ReturnType<typeof setWarningHandler>;
beforeEach(() => {
  warnings = [];
  restore = setWarningHandler((m) => warnings.push(m));
});
afterEach(() => {
  setWarningHandler(restore);
});

type Cls = typeof Adam | typeof AdamW;

type ArrayCtor = { from(values: ArrayLike<number>): FloatArray };

function run(
  C: Cls,
  opts: AdamOptions,
  start: number[],
  grads: number[][],
  Ctor: ArrayCtor = Float64Array,
): FloatArray {
  const p = Ctor.from(start);
  const opt = new C([p], opts);
  for (const g of grads) opt.step([Ctor.from(g)]);
  return p;
}

const gradAt = (t: number, n: number) =>
  Float64Array.from({ length: n }, (_, i) => Math.cos(2 * t + i) * 10 ** (i - 1));
const finiteGrad = fc.double({ min: -1e3, max: 1e3, noNaN: true, noDefaultInfinity: true });

describe("Adam: hand-derived steps", () => {
  it("defaults are torch's: α 1e-3, β (0.9, 0.999), ε 1e-8, λ 0 (AdamW: λ 1e-2)", () => {
    expect(ADAM_DEFAULTS).toMatchObject({
      learningRate: 1e-3,
      beta1: 0.9,
      beta2: 0.999,
      epsilon: 1e-8,
      weightDecay: 0,
    });
    expect(ADAMW_DEFAULTS.weightDecay).toBe(1e-2);
    expect(new AdamW([new Float64Array(1)]).options.weightDecay).toBe(1e-2);
  });

  it("the first step is α·g/(|g| + ε): α·sign(g) up to ε, and 0 for g = 0", () => {
    fc.assert(
      fc.property(fc.array(finiteGrad, { minLength: 1, maxLength: 6 }), (g) => {
        const p = run(
          Adam,
          {},
          g.map(() => 0),
          [g],
        );
        g.forEach((gi, i) => {
          expect(p[i]).toBeCloseTo((-1e-3 * gi) / (Math.abs(gi) + 1e-8), 15);
          if (gi !== 0)
            expect(Math.abs(p[i]! + 1e-3 * Math.sign(gi))).toBeLessThanOrEqual(
              (1e-3 * 1e-8) / Math.abs(gi) + 1e-18,
            );
        });
      }),
    );
    expect(run(Adam, {}, [0.5], [[0]])[0]).toBe(0.5);
  });

  it("the second step, by hand", () => {
    const [lr, b1, b2, eps] = [0.1, 0.8, 0.9, 1e-3];
    const p = run(Adam, { learningRate: lr, beta1: b1, beta2: b2, epsilon: eps }, [1], [[2], [-1]]);
    let theta = 1 - ((lr / (1 - b1)) * ((1 - b1) * 2)) / (Math.sqrt((1 - b2) * 4) / Math.sqrt(1 - b2) + eps);
    const m = b1 * ((1 - b1) * 2) + (1 - b1) * -1;
    const v = b2 * ((1 - b2) * 4) + (1 - b2) * 1;
    theta -= ((lr / (1 - b1 ** 2)) * m) / (Math.sqrt(v) / Math.sqrt(1 - b2 ** 2) + eps);
    expect(p[0]).toBeCloseTo(theta, 15);
  });

  it("amsgrad keeps the larger v: after a large then a small gradient the denominator uses v_1", () => {
    const [lr, b1, b2] = [0.1, 0.9, 0.5];
    const plain = run(Adam, { learningRate: lr, beta1: b1, beta2: b2 }, [0], [[10], [0.1]]);
    const ams = run(Adam, { learningRate: lr, beta1: b1, beta2: b2, amsgrad: true }, [0], [[10], [0.1]]);
    const first = -lr * (10 / (10 + 1e-8));
    const m2 = b1 * (1 - b1) * 10 + (1 - b1) * 0.1;
    const v1 = (1 - b2) * 100;
    const v2 = b2 * v1 + (1 - b2) * 0.01;
    const step = (v: number) => ((lr / (1 - b1 ** 2)) * m2) / (Math.sqrt(v) / Math.sqrt(1 - b2 ** 2) + 1e-8);
    expect(ams[0]).toBeCloseTo(first - step(v1), 14);
    expect(plain[0]).toBeCloseTo(first - step(v2), 14);
    expect(Math.abs(ams[0]! - plain[0]!)).toBeGreaterThan(1e-4);
  });

  it("with ε = 0 the trajectory is invariant to the gradient's scale", () => {
    const nonZero = finiteGrad.filter((g) => Math.abs(g) > 1e-3);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(nonZero, nonZero), { minLength: 1, maxLength: 6 }),
        fc.constantFrom(1e-3, 0.5, 1e3),
        fc.boolean(),
        (steps, c, amsgrad) => {
          const grads = steps.map(([a, b]) => [a, b]);
          const p = run(Adam, { epsilon: 0, amsgrad, learningRate: 0.01 }, [1, -1], grads);
          const q = run(
            Adam,
            { epsilon: 0, amsgrad, learningRate: 0.01 },
            [1, -1],
            grads.map((g) => g.map((x) => x * c)),
          );
          for (let i = 0; i < 2; i++) expect(q[i]).toBeCloseTo(p[i]!, 12);
        },
      ),
      { numRuns: 50 },
    );
  });

  it("Adam's weight decay is L2: with g = 0 the first step is α·sign(θ)", () => {
    const p = run(Adam, { weightDecay: 0.5 }, [2, -3], [[0, 0]]);
    expect(p[0]).toBeCloseTo(2 - (1e-3 * 1) / (1 + 1e-8), 15);
    expect(p[1]).toBeCloseTo(-3 + (1e-3 * 1.5) / (1.5 + 1e-8), 15);
  });

  it("AdamW decays θ by (1 − αλ) first, then takes the Adam step", () => {
    const p = run(AdamW, { learningRate: 0.01, weightDecay: 0.1 }, [2, -3], [[0.5, 0]]);
    expect(p[0]).toBeCloseTo(2 * (1 - 0.001) - (0.01 * 0.5) / (0.5 + 1e-8), 15);
    expect(p[1]).toBe(-3 * (1 - 0.001));
  });

  it("AdamW with weightDecay 0 is bit-identical to Adam (float64 and float32, with and without amsgrad)", () => {
    for (const Ctor of [Float64Array, Float32Array]) {
      for (const amsgrad of [false, true]) {
        const grads = Array.from({ length: 20 }, (_, t) => Array.from(gradAt(t, 4)));
        const a = run(Adam, { learningRate: 0.05, amsgrad }, [1, -1, 0.5, 0], grads, Ctor);
        const w = run(AdamW, { learningRate: 0.05, amsgrad, weightDecay: 0 }, [1, -1, 0.5, 0], grads, Ctor);
        expect(Array.from(w)).toEqual(Array.from(a));
      }
    }
  });

  it("float32: torch's operations in its order, each rounded to float32, float32 scalars, fused multiply-adds", () => {
    const [lr, b1, b2, eps] = [0.1, 0.9, 0.999, 1e-8];
    const f = Math.fround;
    const n = 8;
    const start = Array.from({ length: n }, (_, i) => f(0.3 * i - 1));
    const grads = Array.from({ length: 10 }, (_, t) => Array.from(Float32Array.from(gradAt(t, n))));
    const p = run(Adam, { learningRate: lr }, start, grads, Float32Array);
    const expected = start.map((theta0, i) => {
      let [theta, m, v] = [theta0, 0, 0];
      grads.forEach((gt, k) => {
        const [t, g] = [k + 1, gt[i]!];
        m = fma32(g, f(1 - b1), f(f(b1) * m)); // exp_avg.mul_(β1).add_(g, alpha=1 − β1)
        v = fma32(f(f(1 - b2) * g), g, f(f(b2) * v)); // exp_avg_sq.mul_(β2).addcmul_(g, g, value=1 − β2)
        const denom = f(f(f(Math.sqrt(v)) / f(Math.sqrt(1 - powInt(b2, t)))) + f(eps));
        theta = f(theta + f(f(f(-(lr / (1 - powInt(b1, t)))) * m) / denom)); // addcdiv_
      });
      return theta;
    });
    expect(Array.from(p)).toEqual(expected);
  });
});

describe("Adam / AdamW: options", () => {
  const cases: [AdamOptions, RegExp][] = [
    [{ beta1: 1 }, /beta1 must be a number in \[0, 1\), got 1/],
    [{ beta2: -0.5 }, /beta2 .* got -0.5/],
    [{ epsilon: -1e-8 }, /epsilon must be a finite number >= 0, got -1e-8/],
    [{ weightDecay: NaN }, /weightDecay .* got NaN/],
    [{ amsgrad: "yes" as unknown as boolean }, /amsgrad must be true or false, got "yes"/],
    [{ betas: [0.9, 0.999] } as AdamOptions, /unknown option "betas"/],
  ];
  it.each(cases)("rejects %j, naming option and value", (options, message) => {
    for (const C of [Adam, AdamW]) {
      expect(() => new C([new Float64Array(1)], options)).toThrow(OptionError);
      expect(() => new C([new Float64Array(1)], options)).toThrow(message);
    }
  });

  it("warns about epsilon 0 and about an AdamW decay factor ≤ 0", () => {
    new Adam([new Float64Array(1)], { epsilon: 0 });
    expect(warnings.join("\n")).toMatch(/Adam: epsilon = 0/);
    warnings = [];
    new AdamW([new Float64Array(1)], { learningRate: 10, weightDecay: 0.1 });
    expect(warnings.join("\n")).toMatch(/AdamW: learningRate·weightDecay = 1 >= 1/);
    warnings = [];
    new AdamW([new Float64Array(1)], { learningRate: 1, weightDecay: 0.1 });
    new Adam([new Float64Array(1)], { learningRate: 10, weightDecay: 0.1 });
    expect(warnings).toEqual([]);
  });
});

describe("Adam / AdamW: state", () => {
  it("getState/setState (through JSON) continues bit-identically", () => {
    for (const [C, amsgrad, Ctor] of [
      [Adam, true, Float32Array],
      [Adam, false, Float64Array],
      [AdamW, true, Float64Array],
      [AdamW, false, Float32Array],
    ] as const) {
      const opts: AdamOptions = { learningRate: 0.02, amsgrad, weightDecay: 0.05 };
      const a = Ctor.from([1, -2, 3]);
      const optA = new C([a], opts);
      for (let t = 0; t < 4; t++) optA.step([Ctor.from(gradAt(t, 3))]);
      const b = Ctor.from(a);
      const optB = new C([b], opts);
      optB.setState(JSON.parse(JSON.stringify(optA.getState())));
      for (let t = 4; t < 8; t++) {
        optA.step([Ctor.from(gradAt(t, 3))]);
        optB.step([Ctor.from(gradAt(t, 3))]);
      }
      expect(Array.from(b)).toEqual(Array.from(a));
      expect(optB.getState()).toEqual(optA.getState());
    }
  });

  it("an Adam state does not load into AdamW, and amsgrad's vMax slot must match", () => {
    const adam = new Adam([new Float64Array(1)]).getState();
    expect(() => new AdamW([new Float64Array(1)]).setState(adam)).toThrow(StateError);
    expect(() => new AdamW([new Float64Array(1)]).setState(adam)).toThrow(/written by "Adam", not AdamW/);
    expect(() => new Adam([new Float64Array(1)], { amsgrad: true }).setState(adam)).toThrow(
      /slots are \[m, v\], expected \[m, v, vMax\]/,
    );
  });
});
