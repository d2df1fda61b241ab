import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { clipByGlobalNorm, clipByValue, globalNorm, OptionError } from "../../src/core/index.js";

const vec = fc.array(fc.double({ min: -100, max: 100, noNaN: true }), { minLength: 1, maxLength: 6 });

describe("clipping", () => {
  it("globalNorm is the L2 norm over all gradients", () => {
    expect(globalNorm([Float64Array.of(3), Float32Array.of(4)])).toBe(5);
  });

  it("clipByGlobalNorm scales by maxNorm/(norm + 1e-6) only when that is below 1, as torch", () => {
    const [a, b] = clipByGlobalNorm([Float64Array.of(3), Float64Array.of(4)], 1);
    expect(a![0]).toBeCloseTo(3 / (5 + 1e-6), 15);
    expect(b![0]).toBeCloseTo(4 / (5 + 1e-6), 15);
    const small = [Float64Array.of(0.3, 0.4)];
    expect(Array.from(clipByGlobalNorm(small, 1)[0]!)).toEqual([0.3, 0.4]);
  });

  it("clipByGlobalNorm keeps direction and dtype, bounds the norm, and never mutates its input", () => {
    fc.assert(
      fc.property(vec, vec, fc.double({ min: 1e-3, max: 50, noNaN: true }), (x, y, maxNorm) => {
        const grads = [Float64Array.from(x), Float32Array.from(y)];
        const copy = grads.map((g) => Array.from(g));
        const out = clipByGlobalNorm(grads, maxNorm);
        expect(grads.map((g) => Array.from(g))).toEqual(copy);
        expect(out[1]).toBeInstanceOf(Float32Array);
        expect(globalNorm(out)).toBeLessThanOrEqual(maxNorm * (1 + 1e-6));
        const scale = globalNorm(grads) === 0 ? 1 : globalNorm(out) / globalNorm(grads);
        // float32 rounding of the second gradient perturbs the measured scale by ~1e-7 relative.
        out[0]!.forEach((v, i) =>
          expect(Math.abs(v - x[i]! * scale)).toBeLessThanOrEqual(1e-6 * (1 + Math.abs(x[i]!))),
        );
      }),
    );
  });

  it("a non-finite norm leaves gradients unscaled for the optimizer's nonFinite policy to see", () => {
    const out = clipByGlobalNorm([Float64Array.of(1, NaN)], 1);
    expect(out[0]![0]).toBe(1);
    expect(out[0]![1]).toBeNaN();
  });

  it("clipByValue clamps every element to [−limit, limit]", () => {
    fc.assert(
      fc.property(vec, fc.double({ min: 1e-3, max: 50, noNaN: true }), (x, limit) => {
        const out = clipByValue([Float64Array.from(x)], limit)[0]!;
        out.forEach((v, i) => expect(v).toBe(Math.min(limit, Math.max(-limit, x[i]!))));
      }),
    );
  });

  it("rejects bad limits naming the argument", () => {
    expect(() => clipByGlobalNorm([Float64Array.of(1)], 0)).toThrow(OptionError);
    expect(() => clipByGlobalNorm([Float64Array.of(1)], -1)).toThrow(
      /clipByGlobalNorm: maxNorm must be a finite number > 0, got -1/,
    );
    expect(() => clipByValue([Float64Array.of(1)], NaN)).toThrow(/clipByValue: limit .* got NaN/);
    expect(() => globalNorm([[1] as unknown as Float64Array])).toThrow(
      /gradient 0 must be a Float32Array or Float64Array/,
    );
  });
});
