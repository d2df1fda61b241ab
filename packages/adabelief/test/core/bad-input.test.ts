import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as core from "../../src/core/index.js";
import {
  AdaBelief,
  GradientMismatchError,
  NonFiniteGradientError,
  OptionError,
  StateError,
  setWarningHandler,
  type FloatArray,
  type Optimizer,
} from "../../src/core/index.js";

let restore: ReturnType<typeof setWarningHandler>;
beforeAll(() => {
  restore = setWarningHandler(() => {});
});
afterAll(() => {
  setWarningHandler(restore);
});

/** The nine optimizers of the paper: every one must exist and follow the same contract. */
const NAMES = Object.values(core.OPTIMIZERS).map((c) => c.name);
type Ctor = new (params: FloatArray[], options?: Record<string, unknown>) => Optimizer;
const ctor = (name: string): Ctor => {
  const c = (core as Record<string, unknown>)[name];
  if (typeof c !== "function") throw new Error(`the core does not export ${name}`);
  return c as Ctor;
};

/** Two parameters and a few steps, so every optimizer has non-trivial state. */
function warmed(name: string, options: Record<string, unknown> = {}) {
  const params = [Float64Array.of(0.5, -1, 2), Float64Array.of(0.25)];
  const opt = new (ctor(name))(params, options);
  for (let t = 0; t < 3; t++) opt.step([Float64Array.of(0.1 * t + 0.3, -0.2, 1), Float64Array.of(0.5)]);
  return { params, opt };
}

/** Asserts `fn` throws `type` with a message matching `message`, and that params and state did not change. */
function rejectsAndKeeps(
  params: FloatArray[],
  opt: Optimizer,
  fn: () => unknown,
  type: new (...a: never[]) => Error,
  message: RegExp,
) {
  const before = params.map((p) => Array.from(p));
  const state = JSON.stringify(opt.getState());
  expect(fn).toThrow(type);
  expect(fn).toThrow(message);
  expect(params.map((p) => Array.from(p))).toEqual(before);
  expect(JSON.stringify(opt.getState())).toBe(state);
}

describe.each(NAMES)("%s rejects bad input and loses nothing", (name) => {
  it("rejects a negative, NaN or infinite learning rate at construction, naming option and value", () => {
    for (const bad of [-1, NaN, Infinity]) {
      expect(() => new (ctor(name))([new Float64Array(2)], { learningRate: bad })).toThrow(OptionError);
      expect(() => new (ctor(name))([new Float64Array(2)], { learningRate: bad })).toThrow(
        new RegExp(`learningRate.*${String(bad)}`),
      );
    }
  });

  it("rejects unknown options (typos)", () => {
    expect(() => new (ctor(name))([new Float64Array(2)], { learning_rate: 0.1 })).toThrow(
      /unknown option "learning_rate"/,
    );
  });

  it("rejects empty, non-typed or mixed-dtype parameter lists", () => {
    expect(() => new (ctor(name))([])).toThrow(/non-empty/);
    expect(() => new (ctor(name))([[1, 2] as unknown as FloatArray])).toThrow(
      /parameter 0 must be a Float32Array or Float64Array/,
    );
    expect(() => new (ctor(name))([new Float64Array(1), new Float32Array(1)])).toThrow(
      /parameter 1 is float32 but parameter 0 is float64/,
    );
  });

  it("rejects a wrong number of gradients", () => {
    const { params, opt } = warmed(name);
    rejectsAndKeeps(
      params,
      opt,
      () => opt.step([Float64Array.of(1, 2, 3)]),
      GradientMismatchError,
      /got 1 gradients for 2 parameters/,
    );
  });

  it("rejects a length mismatch", () => {
    const { params, opt } = warmed(name);
    rejectsAndKeeps(
      params,
      opt,
      () => opt.step([Float64Array.of(1, 2, 3), Float64Array.of(1, 2)]),
      GradientMismatchError,
      /gradient 1 has length 2 but parameter 1 has length 1/,
    );
  });

  it("rejects a float32 gradient for a float64 parameter", () => {
    const { params, opt } = warmed(name);
    rejectsAndKeeps(
      params,
      opt,
      () => opt.step([Float64Array.of(1, 2, 3), Float32Array.of(1)]),
      GradientMismatchError,
      /gradient 1 is float32\[1\] but parameter 1 is float64\[1\]/,
    );
  });

  it("non-finite gradients: throw (default) and skip change nothing; proceed applies the step", () => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      const { params, opt } = warmed(name);
      rejectsAndKeeps(
        params,
        opt,
        () => opt.step([Float64Array.of(1, 2, 3), Float64Array.of(bad)]),
        NonFiniteGradientError,
        new RegExp(`gradient 1 has ${String(bad)} at index 0`),
      );
      const skip = warmed(name, { nonFinite: "skip" });
      const before = JSON.stringify([skip.params.map((p) => Array.from(p)), skip.opt.getState()]);
      expect(skip.opt.step([Float64Array.of(1, bad, 3), Float64Array.of(1)])).toBe(false);
      expect(JSON.stringify([skip.params.map((p) => Array.from(p)), skip.opt.getState()])).toBe(before);
      const go = warmed(name, { nonFinite: "proceed" });
      expect(go.opt.step([Float64Array.of(1, 2, 3), Float64Array.of(bad)])).toBe(true);
      expect(go.opt.iterations).toBe(4);
      // The bad value reached the update: the parameter or its state is no longer finite.
      const touched = [go.params[1]![0]!, ...Object.values(go.opt.getState().slots).map((s) => s[1]![0]!)];
      expect(touched.some((v) => !Number.isFinite(v))).toBe(true);
    }
  });

  it("rejects a gradient that shares memory with a parameter", () => {
    const { params, opt } = warmed(name);
    rejectsAndKeeps(
      params,
      opt,
      () => opt.step([params[0]!, Float64Array.of(1)]),
      GradientMismatchError,
      /gradient 0 shares memory with parameter 0/,
    );
    const whole = new Float64Array(4);
    expect(() => new (ctor(name))([whole.subarray(0, 2), whole.subarray(1, 3)])).toThrow(
      /parameter 1 overlaps parameter 0/,
    );
  });

  it("option errors name the optimizer", () => {
    expect(() => new (ctor(name))([new Float64Array(1)], { learningRate: -1 })).toThrow(
      new RegExp(`^${name}: learningRate`),
    );
  });

  it("rejects a learning-rate schedule that returns a bad value, before changing anything", () => {
    const params = [Float64Array.of(1)];
    const opt = new (ctor(name))(params, { learningRate: (step: number) => (step < 1 ? 0.1 : NaN) });
    opt.step([Float64Array.of(1)]);
    rejectsAndKeeps(
      params,
      opt,
      () => opt.step([Float64Array.of(1)]),
      OptionError,
      /schedule returned NaN at step 1/,
    );
  });

  it("setState validates version, optimizer, dtype, sizes, slots and step", () => {
    const { params, opt } = warmed(name);
    const good = opt.getState();
    const other = NAMES.find((n) => n !== name)!;
    const cases: [unknown, RegExp][] = [
      [{ ...good, version: 3 }, /version 3 is not supported/],
      [{ ...good, format: "x" }, /format is "x"/],
      [{ ...good, optimizer: other }, new RegExp(`written by "${other}", not ${name}`)],
      [{ ...good, dtype: "float32" }, /state is "float32" but the parameters are float64/],
      [{ ...good, sizes: [3] }, /1 parameter sizes, this optimizer has 2 parameters/],
      [{ ...good, sizes: [3, 2] }, /parameter 1 has length 1 but the state's has 2/],
      [{ ...good, step: -1 }, /step must be an integer >= 0/],
      [{ ...good, step: 1.5 }, /step must be an integer >= 0/],
      [{ ...good, slots: { ...good.slots, extra: [[0, 0, 0], [0]] } }, /slots are \[/],
    ];
    const firstSlot = Object.keys(good.slots)[0];
    if (firstSlot !== undefined) {
      cases.push([
        { ...good, slots: { ...good.slots, [firstSlot]: [[0, 0], [0]] } },
        new RegExp(`slot ${firstSlot} of parameter 0 has length 2, expected length 3`),
      ]);
    }
    for (const [bad, message] of cases) {
      rejectsAndKeeps(params, opt, () => opt.setState(bad as never), StateError, message);
    }
  });
});

describe("AdaBelief rejects out-of-range hyper-parameters, naming option and value", () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ epsilon: -1e-8 }, /epsilon must be a finite number >= 0, got -1e-8/],
    [{ epsilon: NaN }, /epsilon .* got NaN/],
    [{ beta1: 1 }, /beta1 must be a number in \[0, 1\), got 1/],
    [{ beta1: -0.1 }, /beta1 .* got -0.1/],
    [{ beta2: 1.5 }, /beta2 .* got 1.5/],
    [{ beta2: NaN }, /beta2 .* got NaN/],
    [{ weightDecay: -1 }, /weightDecay .* got -1/],
    [{ rectify: "yes" }, /rectify must be true or false, got "yes"/],
    [{ smaThreshold: 3 }, /smaThreshold must be a finite number >= 4, got 3/],
    [{ nonFinite: "ignore" }, /nonFinite must be one of "throw", "skip", "proceed", got "ignore"/],
  ];
  it.each(cases)("%j", (options, message) => {
    expect(() => new AdaBelief([new Float64Array(1)], options)).toThrow(OptionError);
    expect(() => new AdaBelief([new Float64Array(1)], options)).toThrow(message);
  });
});
