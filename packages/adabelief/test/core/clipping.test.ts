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

  it("globalNorm does not overflow or underflow: it scales by the largest |g| when the plain sum cannot be trusted", () => {
    expect(globalNorm([Float64Array.of(1e200)])).toBe(1e200);
    expect(globalNorm([Float64Array.of(-1e300), Float64Array.of(0)])).toBe(1e300);
    expect(globalNorm([Float64Array.of(3e200), Float64Array.of(4e200)])).toBeCloseTo(5e200, -186);
    expect(Math.abs(globalNorm([Float64Array.of(3e200, 4e200)]) / 5e200 - 1)).toBeLessThan(1e-15);
    expect(Math.abs(globalNorm([Float64Array.of(3e-200, -4e-200)]) / 5e-200 - 1)).toBeLessThan(1e-15);
    expect(globalNorm([Float64Array.of(5e-324)])).toBe(5e-324);
    expect(globalNorm([Float64Array.of(1.5e308, 1.5e308)])).toBe(Infinity); // the norm itself exceeds 1.8e308
    expect(globalNorm([Float64Array.of(0, -0)])).toBe(0);
    // Non-finite elements keep their meaning: NaN wins, else Infinity.
    expect(globalNorm([Float64Array.of(1e200, Infinity)])).toBe(Infinity);
    expect(globalNorm([Float64Array.of(-Infinity)])).toBe(Infinity);
    expect(globalNorm([Float64Array.of(1e200, NaN)])).toBeNaN();
    expect(globalNorm([Float64Array.of(Infinity), Float32Array.of(NaN)])).toBeNaN();
  });

  it("globalNorm is accurate over the whole double range, and exactly the plain √(Σ g²) in the common range", () => {
    /** The norm with every element first scaled by one power of two (exact), so the squares stay in range. */
    const reference = (values: number[]) => {
      const max = Math.max(...values.map(Math.abs));
      if (max === 0) return 0;
      const k = Math.floor(Math.log2(max));
      // Two steps, so neither factor overflows (2^±1074 is not a double).
      const down = (x: number) => x * 2 ** -Math.trunc(k / 2) * 2 ** -(k - Math.trunc(k / 2));
      let sum = 0;
      for (const v of values) sum += down(v) ** 2;
      return Math.sqrt(sum) * 2 ** Math.trunc(k / 2) * 2 ** (k - Math.trunc(k / 2));
    };
    const anyDouble = fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e307, max: 1e307 });
    fc.assert(
      fc.property(fc.array(anyDouble, { minLength: 1, maxLength: 8 }), (values) => {
        const got = globalNorm([Float64Array.from(values)]);
        const want = reference(values);
        if (want === 0) expect(got).toBe(0);
        // Subnormal inputs have fewer significant bits; compare them absolutely.
        else expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-14 * want + 1e-322);
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(vec, vec, (x, y) => {
        const sum = [...x, ...y.map(Math.fround)].reduce((a, v) => a + v * v, 0);
        fc.pre(sum >= 2 ** -900); // below, squares may have underflowed: the scaled path is taken
        const plain = Math.sqrt(sum);
        expect(globalNorm([Float64Array.from(x), Float32Array.from(y)])).toBe(plain);
      }),
    );
  });

  it("clipByGlobalNorm scales huge finite gradients down (their squares overflow) and measures tiny ones", () => {
    const [a] = clipByGlobalNorm([Float64Array.of(1e200)], 1);
    expect(a![0]).toBe(1);
    const input = [Float64Array.of(3e200, -4e200), Float32Array.of(-4e30)];
    const [b, c] = clipByGlobalNorm(input, 2);
    expect(Math.abs(b![0]! / 1.2 - 1)).toBeLessThan(1e-15);
    expect(Math.abs(b![1]! / -1.6 - 1)).toBeLessThan(1e-15);
    expect(c![0]).toBe(Math.fround(Math.fround(-4e30) * (2 / (globalNorm(input) + 1e-6))));
    // Tiny gradients are measured (not as 0) and left alone: their norm is far below maxNorm.
    expect(Array.from(clipByGlobalNorm([Float64Array.of(3e-200, 4e-200)], 1)[0]!)).toEqual([3e-200, 4e-200]);
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
