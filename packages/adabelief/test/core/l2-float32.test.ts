import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AdaBelief,
  AdaBound,
  Adam,
  MSVAG,
  RAdam,
  SGD,
  Yogi,
  setWarningHandler,
  type FloatArray,
  type Optimizer,
} from "../../src/core/index.js";
import { fma, fma32 } from "../../src/core/numerics.js";

let restore: ReturnType<typeof setWarningHandler>;
beforeAll(() => {
  restore = setWarningHandler(() => {});
});
afterAll(() => {
  setWarningHandler(restore);
});

describe("L2 weight decay in float32 is one float32 operation, as torch's grad.add(p, alpha=λ)", () => {
  it("official AdaBelief, β1 = 0: the residual g − m is exactly 0 (reference p = 19999778)", () => {
    // adabelief_pytorch 0.2.1, float32: AdaBelief([p], lr=1e-6, betas=(0, 0.999), eps=1e-9, weight_decay=1e-3,
    // weight_decouple=False, rectify=False, amsgrad=True), p = [-200], one step with grad [-2e10].
    // With g + λθ kept in double, g − m was a rounding error of about 1e3 and p became 99798.37.
    const p = Float32Array.of(-200);
    const opt = new AdaBelief([p], {
      learningRate: 1e-6,
      beta1: 0,
      beta2: 0.999,
      epsilon: 1e-9,
      weightDecay: 1e-3,
      weightDecouple: false,
      rectify: false,
      amsgrad: true,
    });
    opt.step([Float32Array.of(-2e10)]);
    expect(p[0]).toBe(19999778); // bit for bit: the float32 step follows torch's operations
    expect(opt.getState().slots.s).toEqual([[Math.fround(1e-9)]]); // s = 0 + ε: no residual
  });

  type Make = (params: FloatArray[], weightDecay: number) => Optimizer;
  const rules: [string, Make][] = [
    ["AdaBelief", (p, wd) => new AdaBelief(p, { weightDecay: wd, weightDecouple: false, epsilon: 1e-8 })],
    [
      "AdaBelief rectify false, amsgrad",
      (p, wd) => new AdaBelief(p, { weightDecay: wd, weightDecouple: false, rectify: false, amsgrad: true }),
    ],
    ["Adam", (p, wd) => new Adam(p, { weightDecay: wd, learningRate: 0.01 })],
    ["Adam amsgrad", (p, wd) => new Adam(p, { weightDecay: wd, amsgrad: true })],
    ["RAdam", (p, wd) => new RAdam(p, { weightDecay: wd, learningRate: 0.01 })],
    ["SGD", (p, wd) => new SGD(p, { weightDecay: wd })],
    ["SGD nesterov", (p, wd) => new SGD(p, { weightDecay: wd, momentum: 0.9, nesterov: true })],
    ["Yogi", (p, wd) => new Yogi(p, { weightDecay: wd })],
    ["AdaBound", (p, wd) => new AdaBound(p, { weightDecay: wd })],
    ["MSVAG", (p, wd) => new MSVAG(p, { weightDecay: wd, learningRate: 0.01 })],
  ];
  /**
   * g + λθ as the rule forms it: rounded once from the exact value for MSVAG, which follows torch's fused
   * `grad.add_(λ, p)` in both dtypes, and for AdaBelief and Adam in float32; the others round the double sum
   * (float32) or keep it (float64).
   */
  const decayed = (name: string, x: number, lam: number, theta: number, float32: boolean): number =>
    name === "MSVAG"
      ? (float32 ? fma32 : fma)(theta, lam, x)
      : float32 && (name.startsWith("AdaBelief") || name.startsWith("Adam"))
        ? fma32(theta, lam, x)
        : float32
          ? Math.fround(Math.fround(x) + lam * theta)
          : x + lam * theta;
  // Tiny magnitudes are left out: MSVAG's variance estimate can then cancel to 0 and its step overflow.
  const f32 = fc
    .float({ noNaN: true, noDefaultInfinity: true, min: -1e4, max: 1e4 })
    .filter((x) => x === 0 || Math.abs(x) > 1e-6);
  const f64 = fc.double({ min: -10, max: 10, noNaN: true }).filter((x) => x === 0 || Math.abs(x) > 1e-6);
  const vec = fc.array(f32, { minLength: 3, maxLength: 3 });

  it.each(rules)(
    "%s: with weightDecay λ equals weightDecay 0 fed fround(g + fround(λ)·θ), bit for bit (float32)",
    (name, make) => {
      fc.assert(
        fc.property(
          vec,
          fc.array(vec, { minLength: 1, maxLength: 8 }),
          fc.double({ min: 1e-4, max: 0.5, noNaN: true }),
          (start, grads, wd) => {
            const a = Float32Array.from(start);
            const b = Float32Array.from(start);
            const withL2 = make([a], wd);
            const byHand = make([b], 0);
            const lam = Math.fround(wd);
            for (const g of grads) {
              withL2.step([Float32Array.from(g)]);
              byHand.step([Float32Array.from(g, (x, i) => decayed(name, Math.fround(x), lam, b[i]!, true))]);
              expect(Array.from(a)).toEqual(Array.from(b));
            }
            expect(withL2.getState().slots).toEqual(byHand.getState().slots);
          },
        ),
        { numRuns: 200 },
      );
    },
  );

  it.each(rules)("%s: float64 keeps g + λθ in double (MSVAG: fused, as torch)", (name, make) => {
    fc.assert(
      fc.property(
        fc.array(f64, { minLength: 3, maxLength: 3 }),
        fc.array(fc.array(f64, { minLength: 3, maxLength: 3 }), {
          minLength: 1,
          maxLength: 5,
        }),
        fc.double({ min: 1e-4, max: 0.5, noNaN: true }),
        (start, grads, wd) => {
          const a = Float64Array.from(start);
          const b = Float64Array.from(start);
          const withL2 = make([a], wd);
          const byHand = make([b], 0);
          for (const g of grads) {
            withL2.step([Float64Array.from(g)]);
            byHand.step([Float64Array.from(g, (x, i) => decayed(name, x, wd, b[i]!, false))]);
          }
          expect(Array.from(a)).toEqual(Array.from(b));
        },
      ),
      { numRuns: 50 },
    );
  });
});
