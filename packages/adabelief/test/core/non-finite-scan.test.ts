import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { firstNonFinite } from "../../src/core/optimizer.js";

/** The plain definition the blocked scan must agree with. */
function naive(a: ArrayLike<number>): number {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) return i;
  return -1;
}

describe("firstNonFinite", () => {
  it("agrees with the element-by-element definition at every length and position (float32 and float64)", () => {
    const value = fc.oneof(
      { weight: 8, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
      { weight: 1, arbitrary: fc.constantFrom(NaN, Infinity, -Infinity, -0, 3.4e38, 5e-324) },
    );
    fc.assert(
      fc.property(fc.array(value, { maxLength: 40 }), fc.boolean(), (values, f32) => {
        const a = f32 ? Float32Array.from(values) : Float64Array.from(values);
        expect(firstNonFinite(a)).toBe(naive(a));
      }),
      { numRuns: 2000 },
    );
  });

  it("finds a lone NaN or ±Infinity at each position of a block and of the tail, and reports the first", () => {
    for (let n = 1; n <= 27; n++) {
      for (let j = 0; j < n; j++) {
        for (const bad of [NaN, Infinity, -Infinity]) {
          const a = new Float32Array(n).fill(1.5);
          a[j] = bad;
          if (j + 1 < n) a[n - 1] = NaN;
          expect(firstNonFinite(a)).toBe(j);
        }
      }
    }
    // +∞ and −∞ in one block: their sum of v − v terms is NaN as well.
    expect(firstNonFinite(Float64Array.of(1, Infinity, -Infinity, 1, 1, 1, 1, 1, 1))).toBe(1);
    expect(firstNonFinite(new Float64Array(0))).toBe(-1);
  });
});
