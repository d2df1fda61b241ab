import { describe, expect, it } from "vitest";
import {
  AdaBelief,
  AdaBound,
  OptionError,
  ReduceLROnPlateau,
  StateError,
  reduceOnPlateau,
  setWarningHandler,
  type ReduceOnPlateauState,
} from "../../src/core/index.js";

describe("ReduceLROnPlateau", () => {
  it("has PyTorch's defaults", () => {
    expect(new ReduceLROnPlateau({ initial: 0.1 }).options).toEqual({
      initial: 0.1,
      mode: "min",
      factor: 0.1,
      patience: 10,
      threshold: 1e-4,
      thresholdMode: "rel",
      cooldown: 0,
      minLr: 0,
      eps: 1e-8,
    });
    expect(reduceOnPlateau({ initial: 1 })).toBeInstanceOf(ReduceLROnPlateau);
  });

  it("reduces at the (patience + 1)-th bad epoch in a row, then waits out the cooldown", () => {
    const p = new ReduceLROnPlateau({ initial: 1, patience: 2, factor: 0.5, cooldown: 1 });
    expect(p.best).toBeUndefined();
    const lrs = [1, 0.9, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.5].map((m) => (p.step(m), p.learningRate));
    // epoch 0 best, 1 better, 2-3 bad (patience), 4 third bad → 0.5; 5 cooldown; 6-7 bad; 8 better.
    expect(lrs).toEqual([1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.5]);
    expect(p.best).toBe(0.5);
    expect(p.epochs).toBe(9);
    expect(p.step(0.5)).toBe(false);
  });

  it("refuses bad options with an OptionError naming the option", () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{}, /ReduceLROnPlateau: initial must be a finite number >= 0, got undefined/],
      [{ initial: -1 }, /initial must be a finite number >= 0, got -1/],
      [{ initial: 1, factor: 1 }, /ReduceLROnPlateau: factor must be a number in \[0, 1\), got 1/],
      [{ initial: 1, factor: 1.5 }, /factor must be a number in \[0, 1\), got 1.5/],
      [{ initial: 1, factor: -0.1 }, /factor must be a number in \[0, 1\), got -0.1/],
      [{ initial: 1, factor: Number.NaN }, /factor must be a number in \[0, 1\), got NaN/],
      [{ initial: 1, patience: -1 }, /ReduceLROnPlateau: patience must be an integer >= 0, got -1/],
      [{ initial: 1, patience: 2.5 }, /patience must be an integer >= 0, got 2.5/],
      [{ initial: 1, cooldown: -1 }, /cooldown must be an integer >= 0, got -1/],
      [{ initial: 1, threshold: -1e-4 }, /threshold must be a finite number >= 0, got -0.0001/],
      [{ initial: 1, threshold: 1 }, /threshold must be < 1 with mode "min" and thresholdMode "rel"/],
      [{ initial: 1, mode: "minimum" }, /mode must be one of "min", "max", got "minimum"/],
      [
        { initial: 1, thresholdMode: "relative" },
        /thresholdMode must be one of "rel", "abs", got "relative"/,
      ],
      [{ initial: 1, minLr: -1 }, /minLr must be a finite number >= 0, got -1/],
      [{ initial: 1, eps: Number.NaN }, /eps must be a finite number >= 0, got NaN/],
      [
        { initial: 1, min_lr: 0.1 },
        /ReduceLROnPlateau: unknown option "min_lr"; known options: initial, mode/,
      ],
    ];
    for (const [options, message] of cases) {
      expect(() => new ReduceLROnPlateau(options as never)).toThrow(OptionError);
      expect(() => new ReduceLROnPlateau(options as never)).toThrow(message);
    }
    expect(() => new ReduceLROnPlateau(null as never)).toThrow(/options must be an object/);
    // threshold >= 1 is meaningful in the other modes.
    expect(() => new ReduceLROnPlateau({ initial: 1, threshold: 1, thresholdMode: "abs" })).not.toThrow();
    expect(() => new ReduceLROnPlateau({ initial: 1, threshold: 1, mode: "max" })).not.toThrow();
  });

  it("refuses a metric that is not a finite number with a RangeError, and changes nothing", () => {
    const p = new ReduceLROnPlateau({ initial: 1, patience: 0 });
    p.step(1);
    p.step(2);
    const before = p.getState();
    for (const bad of [Number.NaN, Infinity, -Infinity, "0.5", undefined, null]) {
      expect(() => p.step(bad as never)).toThrow(RangeError);
      expect(() => p.step(bad as never)).toThrow(
        /ReduceLROnPlateau.step: metric must be a finite number, got .*; nothing was changed/,
      );
    }
    expect(p.getState()).toEqual(before);
  });

  it("getState / setState: a JSON round trip mid-run continues identically", () => {
    const metrics = Array.from({ length: 40 }, (_, e) => 1 / (1 + e) + 0.05 * Math.sin(e));
    const options = { initial: 0.1, patience: 2, cooldown: 2, factor: 0.5, minLr: 1e-3 };
    const a = new ReduceLROnPlateau(options);
    const b = new ReduceLROnPlateau(options);
    const fresh = b.getState();
    expect(fresh.best).toBeNull();
    expect(JSON.parse(JSON.stringify(fresh))).toEqual(fresh);
    for (let e = 0; e < 40; e++) {
      a.step(metrics[e]!);
      if (e === 17) b.setState(JSON.parse(JSON.stringify(a.getState())) as ReduceOnPlateauState);
      if (e > 17) b.step(metrics[e]!);
      if (e >= 17) expect(b.getState()).toEqual(a.getState());
    }
    expect(a.learningRate).toBeLessThan(0.1);
  });

  it("setState refuses a bad state with a StateError and changes nothing; differing options warn", () => {
    const p = new ReduceLROnPlateau({ initial: 1, patience: 0 });
    p.step(1);
    p.step(1);
    const good = p.getState();
    const before = p.getState();
    const bad: [unknown, RegExp][] = [
      [null, /expected a state object/],
      [{ ...good, format: "x" }, /format is "x"/],
      [{ ...good, version: 2 }, /version 2 is not supported/],
      [{ ...good, learningRate: -1 }, /learningRate must be a finite number >= 0, got -1/],
      [{ ...good, learningRate: null }, /learningRate must be a finite number >= 0, got null/],
      [{ ...good, best: "1" }, /best must be a finite number or null, got "1"/],
      [{ ...good, numBadEpochs: -1 }, /numBadEpochs must be an integer >= 0, got -1/],
      [{ ...good, cooldownCounter: 0.5 }, /cooldownCounter must be an integer >= 0, got 0.5/],
      [{ ...good, epochs: undefined }, /epochs must be an integer >= 0/],
    ];
    const fresh = new ReduceLROnPlateau({ initial: 1, patience: 0 });
    for (const [state, message] of bad) {
      expect(() => fresh.setState(state as never)).toThrow(StateError);
      expect(() => fresh.setState(state as never)).toThrow(message);
    }
    expect(fresh.getState()).toEqual(new ReduceLROnPlateau({ initial: 1, patience: 0 }).getState());
    expect(p.getState()).toEqual(before);
    const warnings: string[] = [];
    const previous = setWarningHandler((m) => warnings.push(m));
    try {
      new ReduceLROnPlateau({ initial: 1, patience: 3 }).setState(good);
    } finally {
      setWarningHandler(previous);
    }
    expect(warnings).toEqual([
      "ReduceLROnPlateau.setState: the state was written with patience=0; this object has patience=3 (the state is restored, the options are not)",
    ]);
  });

  it("is a learning rate for the core optimizers: each update uses the current rate", () => {
    const plateau = new ReduceLROnPlateau({ initial: 0.1, patience: 0, factor: 0.5 });
    const p = new Float32Array([1, -2, 3]);
    const opt = new AdaBelief([p], { learningRate: plateau.schedule });
    // The twin sees the same rates as a plain schedule of the step.
    const q = new Float32Array([1, -2, 3]);
    const rates: number[] = [];
    const twin = new AdaBelief([q], { learningRate: (s) => rates[s]! });
    const losses = [1, 1, 0.5, 0.6, 0.7, 0.4];
    for (let epoch = 0; epoch < losses.length; epoch++) {
      for (let b = 0; b < 3; b++) {
        const g = new Float32Array([Math.sin(epoch + b), 0.5, -1]);
        rates.push(plateau.learningRate);
        expect(opt.currentLearningRate).toBe(plateau.learningRate);
        opt.step([g]);
        twin.step([g]);
      }
      plateau.step(losses[epoch]!);
    }
    expect(new Set(rates)).toEqual(new Set([0.1, 0.05, 0.025, 0.0125]));
    expect(Array.from(p)).toEqual(Array.from(q));
    // AdaBound reads the schedule's peak (the initial rate) for its bounds, as PyTorch's base_lr.
    expect(plateau.schedule.peak).toBe(0.1);
    const bound = new AdaBound([new Float64Array([1])], { learningRate: plateau.schedule });
    expect(bound.currentLearningRate).toBe(plateau.learningRate);
  });
});
