import { describe, expect, it } from "vitest";
import { OptionError, Yogi, YOGI_DEFAULTS } from "../../src/core/index.js";
import { yogiRule } from "../../src/core/optimizers/yogi.js";

describe("Yogi", () => {
  it("uses the reference defaults", () => {
    const opt = new Yogi([new Float64Array(1)]);
    expect(opt.options).toMatchObject({
      learningRate: 1e-2,
      beta1: 0.9,
      beta2: 0.999,
      epsilon: 1e-3,
      initialAccumulator: 1e-6,
      weightDecay: 0,
      nonFinite: "throw",
    });
    expect(YOGI_DEFAULTS.learningRate).toBe(1e-2);
  });

  it("starts m and v at initialAccumulator", () => {
    const opt = new Yogi([new Float64Array(3)], { initialAccumulator: 0.25 });
    const s = opt.getState();
    expect(s.slots.m).toEqual([[0.25, 0.25, 0.25]]);
    expect(s.slots.v).toEqual([[0.25, 0.25, 0.25]]);
  });

  it("moves a zero-gradient coordinate by 2.76e-8 in step 1 at lr 1e-4 (README, P1 coordinate 6)", () => {
    const w = new Float64Array([0.125]);
    new Yogi([w], { learningRate: 1e-4 }).step([new Float64Array([0])]);
    // m1 = 0.9·1e-6, v1 = 1e-6 (g² = 0 moves v by 0), step = lr/(1−0.9) · m1 / (√1e-6/√(1−0.999) + 1e-3)
    const m1 = 0.9 * 1e-6;
    const expected = 0.125 - ((1e-4 / (1 - 0.9)) * m1) / (Math.sqrt(1e-6) / Math.sqrt(1 - 0.999) + 1e-3);
    expect(w[0]).toBeCloseTo(expected, 15);
    expect(0.125 - w[0]!).toBeCloseTo(2.76e-8, 10);
  });

  it("takes the hand-derived first step for a nonzero gradient", () => {
    const w = new Float64Array([1, -2]);
    const g = [3, -0.5];
    new Yogi([w], { learningRate: 1e-3, epsilon: 1e-8 }).step([Float64Array.from(g)]);
    g.forEach((gi, i) => {
      const m1 = 0.9 * 1e-6 + 0.1 * gi;
      const v1 = 1e-6 + 0.001 * gi * gi; // g² > v0, so v grows by (1−β2)·g²
      const start = [1, -2][i]!;
      const expected = start - ((1e-3 / 0.1) * m1) / (Math.sqrt(v1) / Math.sqrt(0.001) + 1e-8);
      expect(w[i]).toBeCloseTo(expected, 14);
    });
  });

  it("moves v additively towards g², without a β2 decay", () => {
    const opt = new Yogi([new Float64Array([0, 0, 0])], { initialAccumulator: 1 });
    opt.step([new Float64Array([0.5, 2, 1])]);
    const v = opt.getState().slots.v![0]!;
    expect(v[0]).toBeCloseTo(1 - 0.001 * 0.25, 15); // g² < v: down
    expect(v[1]).toBeCloseTo(1 + 0.001 * 4, 15); // g² > v: up
    expect(v[2]).toBe(1); // g² = v: unchanged (sign(0) = 0)
    // A zero gradient leaves v where it is (the step is (1−β2)·sign·0).
    const z = new Yogi([new Float64Array([1])], { initialAccumulator: 0.5 });
    for (let t = 0; t < 3; t++) z.step([new Float64Array([0])]);
    expect(z.getState().slots.v![0]![0]).toBe(0.5);
  });

  it("for float32 compares v with g² rounded to float32, so v rests where the reference's does", () => {
    const g = Math.fround(0.1);
    const g2 = Math.fround(g * g);
    expect(g2).not.toBe(g * g);
    const opt = new Yogi([new Float32Array([1])], { initialAccumulator: g2 });
    opt.step([Float32Array.of(g)]);
    expect(opt.getState().slots.v![0]![0]).toBe(g2); // sign(v − g²) = 0 in float32: v does not move
  });

  it("adds L2 weight decay to the gradient without changing the gradient array", () => {
    const w = new Float64Array([2]);
    const g = new Float64Array([0]);
    const withDecay = new Yogi([w], { weightDecay: 0.1, learningRate: 1e-3 });
    withDecay.step([g]);
    expect(g[0]).toBe(0);
    const w2 = new Float64Array([2]);
    new Yogi([w2], { learningRate: 1e-3 }).step([new Float64Array([0.2])]);
    expect(w[0]).toBe(w2[0]);
  });

  it("agrees between float32 and float64 to float32 precision", () => {
    const w32 = new Float32Array([1, -0.5, 0.25]);
    const w64 = Float64Array.from(w32);
    const a = new Yogi([w32], { learningRate: 1e-2 });
    const b = new Yogi([w64], { learningRate: 1e-2 });
    for (let t = 0; t < 50; t++) {
      const g = [Math.sin(t), Math.cos(3 * t), 0.25].map(Math.fround);
      a.step([Float32Array.from(g)]);
      b.step([Float64Array.from(g)]);
    }
    for (let i = 0; i < 3; i++) expect(Math.abs(w32[i]! - w64[i]!)).toBeLessThan(1e-5);
  });

  it("rejects bad options with a message naming the option and the value", () => {
    const p = [new Float64Array(1)];
    expect(() => new Yogi(p, { epsilon: -1 })).toThrow(OptionError);
    expect(() => new Yogi(p, { epsilon: -1 })).toThrow(/epsilon.*-1/);
    expect(() => new Yogi(p, { initialAccumulator: Number.NaN })).toThrow(/initialAccumulator.*NaN/);
    expect(() => new Yogi(p, { beta2: 1 })).toThrow(/beta2.*1/);
    expect(() => new Yogi(p, { weightDecay: -0.1 })).toThrow(/weightDecay.*-0\.1/);
    expect(() => new Yogi(p, { initial_accumulator: 1e-6 } as never)).toThrow(/initial_accumulator/);
  });

  it("continues bit-identically after getState / setState through JSON", () => {
    const grads = (t: number) => [new Float32Array([Math.sin(t), -0.3]), new Float32Array([Math.cos(t)])];
    const a = [new Float32Array([1, 2]), new Float32Array([-1])];
    const optA = new Yogi(a, { learningRate: 1e-2, weightDecay: 1e-3 });
    for (let t = 0; t < 5; t++) optA.step(grads(t));
    const saved = JSON.parse(JSON.stringify(optA.getState()));
    const b = a.map((p) => p.slice());
    const optB = new Yogi(b, { learningRate: 1e-2, weightDecay: 1e-3 });
    optB.setState(saved);
    expect(optB.iterations).toBe(5);
    for (let t = 5; t < 10; t++) {
      optA.step(grads(t));
      optB.step(grads(t));
    }
    expect(b).toEqual(a);
    expect(optB.getState()).toEqual(optA.getState());
  });

  it("computes the step scalars in double as the reference does", () => {
    const c = yogiRule.coefficients(3, 1e-3, yogiRule.resolve({}));
    expect(c.stepSize).toBe(-1e-3 / (1 - 0.9 ** 3));
    expect(c.sqrtBc2).toBe(Math.sqrt(1 - 0.999 ** 3));
  });
});
