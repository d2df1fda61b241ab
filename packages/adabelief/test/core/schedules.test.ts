import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  OptionError,
  constant,
  cosineDecay,
  exponentialDecay,
  multiStepDecay,
  stepDecay,
  warmupLinearDecay,
  withWarmup,
} from "../../src/core/index.js";

describe("schedules", () => {
  it("constant", () => expect([0, 10, 1e6].map(constant(0.1))).toEqual([0.1, 0.1, 0.1]));

  it("stepDecay follows torch StepLR", () => {
    const s = stepDecay({ initial: 1, stepSize: 3, gamma: 0.5 });
    expect([0, 2, 3, 5, 6].map(s)).toEqual([1, 1, 0.5, 0.5, 0.25]);
  });

  it("multiStepDecay follows torch MultiStepLR (the paper's ×0.1 at epoch 150)", () => {
    const s = multiStepDecay({ initial: 0.1, milestones: [150, 225] });
    expect(s(149)).toBe(0.1);
    expect(s(150)).toBeCloseTo(0.01, 15);
    expect(s(225)).toBeCloseTo(0.001, 15);
    expect(() => multiStepDecay({ initial: 1, milestones: [5, 5] })).toThrow(/increase strictly/);
  });

  it("exponentialDecay, smooth and staircase", () => {
    expect(exponentialDecay({ initial: 1, decayRate: 0.5, decaySteps: 2 })(1)).toBeCloseTo(Math.SQRT1_2, 15);
    expect(exponentialDecay({ initial: 1, decayRate: 0.5, decaySteps: 2, staircase: true })(3)).toBe(0.5);
  });

  it("cosineDecay goes from initial to minValue and stays there", () => {
    const s = cosineDecay({ initial: 1, decaySteps: 100, minValue: 0.1 });
    expect(s(0)).toBe(1);
    expect(s(50)).toBeCloseTo(0.55, 12);
    expect(s(100)).toBeCloseTo(0.1, 15);
    expect(s(1000)).toBeCloseTo(0.1, 15);
  });

  it("cosineDecay with restarts: periods grow by periodMultiplier and peaks shrink by amplitudeMultiplier", () => {
    const s = cosineDecay({
      initial: 1,
      decaySteps: 10,
      restarts: { periodMultiplier: 2, amplitudeMultiplier: 0.5 },
    });
    expect(s(0)).toBe(1);
    expect(s(10)).toBe(0.5); // second period starts at a peak of 0.5 and lasts 20 steps
    expect(s(20)).toBeCloseTo(0.25, 15);
    expect(s(30)).toBe(0.25);
    expect(cosineDecay({ initial: 1, decaySteps: 10, restarts: true })(10)).toBe(1);
  });

  it("cosineDecay with restarts agrees with a period-by-period walk, also far out", () => {
    for (const [tMul, mMul] of [
      [1, 1],
      [2, 0.5],
      [1.5, 0.9],
    ] as const) {
      const s = cosineDecay({
        initial: 1,
        decaySteps: 7,
        minValue: 0.01,
        restarts: { periodMultiplier: tMul, amplitudeMultiplier: mMul },
      });
      let start = 0;
      let length = 7;
      let peak = 1;
      for (let step = 0; step < 3000; step++) {
        while (step >= start + length) {
          start += length;
          length *= tMul;
          peak = 0.01 + (peak - 0.01) * mMul;
        }
        const expected = 0.01 + ((peak - 0.01) * (1 + Math.cos((Math.PI * (step - start)) / length))) / 2;
        expect(Math.abs(s(step) - expected)).toBeLessThan(1e-12);
      }
      expect(Number.isFinite(s(1e12))).toBe(true); // closed form: no walk over past periods
    }
  });

  it("built-in schedules carry their nominal peak; withWarmup keeps the inner schedule's", () => {
    expect(stepDecay({ initial: 0.5, stepSize: 2 }).peak).toBe(0.5);
    expect(withWarmup(cosineDecay({ initial: 1e-3, decaySteps: 10 }), 100).peak).toBe(1e-3);
    expect(withWarmup(1e-3, 100).peak).toBe(1e-3);
    expect(warmupLinearDecay({ initial: 2e-3, totalSteps: 10 }).peak).toBe(2e-3);
  });

  it("warmupLinearDecay matches the official TF package's formula", () => {
    const s = warmupLinearDecay({ initial: 1e-3, totalSteps: 100, warmupProportion: 0.1, minLr: 1e-5 });
    // local step k = step + 1; warmup 10 steps; decay over 90 steps to 1e-5.
    expect(s(0)).toBeCloseTo(1e-4, 18);
    expect(s(9)).toBeCloseTo(1e-3, 18);
    expect(s(10)).toBeCloseTo(1e-3 + ((1e-5 - 1e-3) / 90) * 1, 18);
    expect(s(99)).toBeCloseTo(1e-5, 18);
    expect(s(500)).toBeCloseTo(1e-5, 18);
  });

  it("withWarmup ramps linearly to the schedule's start, then runs it from its step 0", () => {
    const inner = stepDecay({ initial: 1, stepSize: 5, gamma: 0.1 });
    const s = withWarmup(inner, 4);
    expect([0, 1, 2, 3].map(s)).toEqual([0.25, 0.5, 0.75, 1]);
    expect(s(4)).toBe(1);
    expect(s(9)).toBeCloseTo(0.1, 15);
    expect(withWarmup(0.1, 0)(0)).toBe(0.1);
  });

  it("every schedule stays within [min, initial] and never increases without restarts or warmup", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1e-6, max: 1, noNaN: true }),
        fc.integer({ min: 1, max: 500 }),
        (initial, n) => {
          const schedules = [
            stepDecay({ initial, stepSize: 7 }),
            multiStepDecay({ initial, milestones: [3, 40, 200] }),
            exponentialDecay({ initial, decayRate: 0.97 }),
            cosineDecay({ initial, decaySteps: 100 }),
          ];
          for (const s of schedules) {
            let previous = Infinity;
            for (let step = 0; step < n; step += 13) {
              const v = s(step);
              expect(v).toBeLessThanOrEqual(previous + 1e-15);
              expect(v).toBeGreaterThanOrEqual(0);
              expect(v).toBeLessThanOrEqual(initial);
              previous = v;
            }
          }
        },
      ),
    );
  });

  it("rejects bad settings naming the option", () => {
    expect(() => stepDecay({ initial: 1, stepSize: 0 })).toThrow(OptionError);
    expect(() => stepDecay({ initial: 1, stepSize: 0 })).toThrow(
      /stepDecay: stepSize must be an integer >= 1, got 0/,
    );
    expect(() => cosineDecay({ initial: 0.1, decaySteps: 10, minValue: 1 })).toThrow(
      /minValue 1 must not exceed initial 0.1/,
    );
    expect(() => warmupLinearDecay({ initial: 1, totalSteps: 10, warmupProportion: 2 })).toThrow(
      /warmupProportion/,
    );
    expect(() => constant(-1)).toThrow(/constant: value must be a finite number >= 0, got -1/);
  });
});
