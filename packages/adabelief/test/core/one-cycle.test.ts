import { describe, expect, it } from "vitest";
import { AdaBelief, OptionError, SGD, oneCycle } from "../../src/core/index.js";

describe("oneCycle", () => {
  it("step convention: schedule(k) is the rate of update k + 1; it starts at maxLr/divFactor and ends at the minimum", () => {
    const s = oneCycle({ maxLr: 1, totalSteps: 11, pctStart: 0.5, divFactor: 10, finalDivFactor: 100 });
    // Phase ends are floats as in PyTorch: pT − 1 = 4.5, T − 1 = 10.
    // The first update (PyTorch: the rate the scheduler's constructor sets); PyTorch's operation order gives
    // 1 + (0.1 − 1)/2·2 = 0.09999999999999998, and so does this.
    expect(s(0)).toBe(0.09999999999999998);
    expect(s(4)).toBeLessThan(1);
    expect(s(5)).toBeLessThan(1); // the peak is at step 4.5, between two updates
    expect(s(10)).toBe(0.001); // the last update
    expect(s(11)).toBe(0.001); // held afterwards
    expect(s.peak).toBe(1);
  });

  it("an integer phase end reaches maxLr exactly at that step; three phases go back to the initial rate", () => {
    const s = oneCycle({
      maxLr: 2,
      totalSteps: 21,
      pctStart: 1 / 3,
      annealStrategy: "linear",
      threePhase: true,
    });
    // pT − 1 = 6, 2pT − 2 = 12
    expect(s(6)).toBe(2);
    expect(s(12)).toBeCloseTo(2 / 25, 15);
    // Linear: (to − from)·1 + from, so the end is the minimum up to cancellation (as in PyTorch).
    expect(Math.abs(s(20) / (2 / 25 / 1e4) - 1)).toBeLessThan(1e-11);
    const values = Array.from({ length: 21 }, (_, k) => s(k));
    for (let k = 1; k <= 6; k++) expect(values[k]!).toBeGreaterThan(values[k - 1]!);
    for (let k = 7; k <= 20; k++) expect(values[k]!).toBeLessThan(values[k - 1]!);
  });

  it("a zero-length first phase (pctStart·totalSteps = 1, a ZeroDivisionError in PyTorch) starts at maxLr", () => {
    const s = oneCycle({ maxLr: 0.5, totalSteps: 10, pctStart: 0.1 });
    expect(s(0)).toBe(0.5);
    expect(s(9)).toBeCloseTo(0.5 / 25 / 1e4, 18);
  });

  it("drives an optimizer: each update uses schedule(iterations)", () => {
    const lr = oneCycle({ maxLr: 0.1, totalSteps: 20 });
    const p = new Float64Array([0]);
    const opt = new SGD([p], { learningRate: lr });
    let expected = 0;
    for (let k = 0; k < 25; k++) {
      expect(opt.currentLearningRate).toBe(lr(k));
      opt.step([new Float64Array([1])]);
      expected -= lr(k);
      expect(p[0]).toBe(expected);
    }
    // AdaBelief accepts it too.
    const q = new Float32Array([1, 2]);
    const ab = new AdaBelief([q], { learningRate: lr });
    ab.step([new Float32Array([0.5, -0.5])]);
    expect(ab.currentLearningRate).toBe(lr(1));
  });

  it("refuses bad options with an OptionError naming the option", () => {
    const base = { maxLr: 0.1, totalSteps: 100 };
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ totalSteps: 100 }, /oneCycle: maxLr must be a finite number >= 0, got undefined/],
      [{ ...base, maxLr: -1 }, /oneCycle: maxLr must be a finite number >= 0, got -1/],
      [{ ...base, maxLr: Number.NaN }, /oneCycle: maxLr must be a finite number >= 0, got NaN/],
      [{ ...base, totalSteps: 0 }, /oneCycle: totalSteps must be an integer >= 1, got 0/],
      [{ ...base, totalSteps: 10.5 }, /oneCycle: totalSteps must be an integer >= 1, got 10.5/],
      [{ ...base, pctStart: 1.2 }, /oneCycle: pctStart must be a number in \[0, 1\], got 1.2/],
      [{ ...base, pctStart: Number.NaN }, /oneCycle: pctStart must be a number in \[0, 1\], got NaN/],
      [
        { ...base, annealStrategy: "cosine" },
        /oneCycle: annealStrategy must be one of "cos", "linear", got "cosine"/,
      ],
      [{ ...base, divFactor: 0 }, /oneCycle: divFactor must be a finite number > 0, got 0/],
      [{ ...base, finalDivFactor: -1 }, /oneCycle: finalDivFactor must be a finite number > 0, got -1/],
      [{ ...base, threePhase: "yes" }, /oneCycle: threePhase must be true or false, got "yes"/],
      [{ ...base, threePhase: true, pctStart: 0.6 }, /oneCycle: pctStart must be <= 0.5 with threePhase/],
      [{ ...base, pct_start: 0.3 }, /oneCycle: unknown option "pct_start"; known options: maxLr, totalSteps/],
    ];
    for (const [options, message] of cases) {
      expect(() => oneCycle(options as never)).toThrow(OptionError);
      expect(() => oneCycle(options as never)).toThrow(message);
    }
    expect(() => oneCycle(undefined as never)).toThrow(/oneCycle: options must be an object/);
  });
});
