import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  Adam,
  AdaBelief,
  SGD,
  StateError,
  STATE_VERSION,
  Yogi,
  setWarningHandler,
  type FloatArray,
  type Optimizer,
  type OptimizerState,
} from "../../src/core/index.js";

let restore: ReturnType<typeof setWarningHandler>;
beforeEach(() => {
  restore = setWarningHandler(() => {});
});
afterEach(() => {
  setWarningHandler(restore);
});

const viaJson = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

/** A snapshot of parameters, state (as JSON text) and step count, to show that nothing changed. */
function snapshot(params: readonly FloatArray[], opt: Optimizer) {
  return JSON.stringify([params.map((p) => Array.from(p)), opt.getState(), opt.iterations]);
}

/** Asserts that `fn` throws a StateError matching `message` and that the optimizer did not change. */
function refusedAndKept(params: readonly FloatArray[], opt: Optimizer, fn: () => unknown, message: RegExp) {
  const before = snapshot(params, opt);
  expect(fn).toThrow(StateError);
  expect(fn).toThrow(message);
  expect(snapshot(params, opt)).toBe(before);
}

/** Two float32 parameters, a few steps: non-trivial state in every slot. */
function warmedAdaBelief(options: ConstructorParameters<typeof AdaBelief>[1] = {}) {
  const params = [Float32Array.of(0.5, -1, 2), Float32Array.of(0.25)];
  const opt = new AdaBelief(params, options);
  for (let t = 0; t < 3; t++) opt.step([Float32Array.of(0.1 * t + 0.3, -0.2, 1), Float32Array.of(0.5)]);
  return { params, opt };
}

describe("getState / setState with non-finite values (version 2 markers)", () => {
  it("a large finite gradient overflows Adam's float32 v to Infinity; the state still round-trips through JSON", () => {
    const p = Float32Array.of(1);
    const opt = new Adam([p]);
    opt.step([Float32Array.of(1e30)]);
    const state = opt.getState();
    expect(state.version).toBe(STATE_VERSION);
    expect(state.slots.v![0]![0]).toBe("Infinity");
    expect(state.slots.m![0]![0]).toBe(Math.fround(0.1 * Math.fround(1e30))); // finite: a number
    const text = JSON.stringify(state);
    expect(text).not.toContain("null");

    const q = Float32Array.from(p);
    const copy = new Adam([q]);
    copy.setState(JSON.parse(text) as OptimizerState);
    expect(copy.getState()).toEqual(state);
    for (const g of [3, -1e30, 0.5]) {
      opt.step([Float32Array.of(g)]);
      copy.step([Float32Array.of(g)]);
    }
    expect(Array.from(q)).toEqual(Array.from(p));
    expect(viaJson(copy.getState())).toEqual(viaJson(opt.getState()));
  });

  it("NaN, Infinity and −Infinity are written as markers and restored (nonFinite: proceed)", () => {
    const p = Float64Array.of(1, 2, 3);
    const opt = new SGD([p], { momentum: 0.9, nonFinite: "proceed" });
    opt.step([Float64Array.of(NaN, Infinity, -Infinity)]);
    const state = viaJson(opt.getState());
    expect(state.slots.momentumBuffer).toEqual([["NaN", "Infinity", "-Infinity"]]);
    const copy = new SGD([Float64Array.from(p)], { momentum: 0.9, nonFinite: "proceed" });
    copy.setState(state);
    expect(copy.getState()).toEqual(opt.getState());
  });

  it("Yogi reaches NaN from finite gradients under the default policy, and its state still restores", () => {
    const opt = new Yogi([Float32Array.of(0)]);
    // g² overflows float32 twice: v becomes Infinity, then Infinity − Infinity = NaN.
    opt.step([Float32Array.of(3e38)]);
    opt.step([Float32Array.of(3e38)]);
    const state = viaJson(opt.getState());
    expect(state.slots.v![0]![0]).toBe("NaN");
    const copy = new Yogi([Float32Array.of(0)]);
    copy.setState(state);
    expect(copy.getState()).toEqual(opt.getState());
  });

  it("finite values stay numbers and round-trip bit for bit, float32 and float64", () => {
    for (const Ctor of [Float32Array, Float64Array]) {
      const opt = new AdaBelief([Ctor.of(0.1, -0.7)], { amsgrad: true, rectify: false });
      for (const g of [0.3, -1e-20, 7]) opt.step([Ctor.of(g, g / 3)]);
      const state = opt.getState();
      for (const values of Object.values(state.slots).flat()) {
        for (const v of values) expect(typeof v).toBe("number");
      }
      const copy = new AdaBelief([Ctor.of(0, 0)], { amsgrad: true, rectify: false });
      copy.setState(viaJson(state));
      expect(copy.getState()).toEqual(state);
    }
  });

  it("still reads version 1 states (numbers only) and explains the nulls JSON made of their non-finite values", () => {
    const { params, opt } = warmedAdaBelief();
    const v2 = opt.getState();
    const v1 = { ...v2, version: 1 as const, slots: v2.slots as Record<string, number[][]> };
    const fresh = new AdaBelief([new Float32Array(3), new Float32Array(1)]);
    fresh.setState(v1);
    expect(fresh.getState()).toEqual(v2);
    const withNull = viaJson({ ...v1, slots: { ...v1.slots, s: [[1, NaN, 2], [3]] } });
    refusedAndKept(
      params,
      opt,
      () => opt.setState(withNull),
      /slot s of parameter 0 has null at index 1; .*null/,
    );
    const withMarker = { ...v1, slots: { ...v1.slots, m: [[1, "Infinity", 2], [3]] } } as never;
    refusedAndKept(
      params,
      opt,
      () => opt.setState(withMarker),
      /slot m of parameter 0 has "Infinity" at index 1/,
    );
  });
});

describe("setState refuses slot values the optimizer could not hold, naming slot, parameter and index", () => {
  const cases: [string, (slots: Record<string, unknown[][]>) => void, RegExp][] = [
    ["a NaN number", (s) => (s.m![1]![0] = NaN), /slot m of parameter 1 has NaN at index 0; .*"NaN"/],
    [
      "an Infinity number",
      (s) => (s.m![0]![2] = -Infinity),
      /slot m of parameter 0 has -Infinity at index 2; .*"-Infinity"/,
    ],
    [
      "a finite value that overflows float32",
      (s) => (s.m![0]![1] = 1e300),
      /slot m of parameter 0 has 1e\+300 at index 1, which overflows to Infinity in float32/,
    ],
    [
      "the smallest value that rounds to Infinity in float32",
      (s) => (s.s![0]![0] = 3.4028235677973366e38),
      /slot s of parameter 0 .* overflows to Infinity/,
    ],
    [
      "null",
      (s) => (s.m![0]![0] = null),
      /slot m of parameter 0 has null at index 0; expected a number or one of/,
    ],
    ["another string", (s) => (s.m![0]![0] = "1.5"), /slot m of parameter 0 has "1.5" at index 0/],
    [
      "a negative second moment",
      (s) => (s.s![1]![0] = -1e-30),
      /slot s of parameter 1 has -1e-30 at index 0, but this slot holds a second moment/,
    ],
    [
      "−Infinity in a second moment",
      (s) => (s.s![0]![1] = "-Infinity"),
      /slot s of parameter 0 has "-Infinity" at index 1, but this slot holds a second moment/,
    ],
    [
      "a negative sMax",
      (s) => s.sMax && (s.sMax[0]![0] = -2),
      /slot sMax of parameter 0 has -2 at index 0, but this slot holds a second moment/,
    ],
  ];
  it.each(cases)("%s", (what, spoil, message) => {
    const { params, opt } = warmedAdaBelief({ amsgrad: true, rectify: false });
    const bad = viaJson(opt.getState()) as unknown as { slots: Record<string, unknown[][]> };
    spoil(bad.slots);
    refusedAndKept(params, opt, () => opt.setState(bad as never), message);
    // Under nonFinite: "proceed" too: the rules are about what a state can hold, not about the policy.
    const proceed = warmedAdaBelief({ amsgrad: true, rectify: false, nonFinite: "proceed" });
    refusedAndKept(proceed.params, proceed.opt, () => proceed.opt.setState(bad as never), message);
    expect(what).toBeTruthy();
  });

  it("accepts the largest float32, negative first moments, and markers in any slot whatever the policy", () => {
    const { opt } = warmedAdaBelief({ amsgrad: true, rectify: false });
    const state = viaJson(opt.getState()) as unknown as { slots: Record<string, unknown[][]> };
    state.slots.m![0]![0] = -3.4028234663852886e38;
    state.slots.m![0]![1] = "NaN";
    state.slots.s![0]![0] = 3.4028234663852886e38;
    state.slots.s![0]![1] = "Infinity";
    opt.setState(state as never);
    expect(opt.getState().slots.m![0]!.slice(0, 2)).toEqual([-3.4028234663852886e38, "NaN"]);
    expect(opt.getState().slots.s![0]!.slice(0, 2)).toEqual([3.4028234663852886e38, "Infinity"]);
  });
});

describe("setState is all or nothing", () => {
  it("a warning handler that throws (warnings as errors) leaves the optimizer as it was", () => {
    const other = new AdaBelief([Float32Array.of(0, 0, 0), Float32Array.of(0)], { rectify: false });
    other.step([Float32Array.of(5, 5, 5), Float32Array.of(5)]);
    const saved = other.getState();
    const { params, opt } = warmedAdaBelief();
    setWarningHandler((message) => {
      throw new Error(`warning as error: ${message}`);
    });
    const before = snapshot(params, opt);
    expect(() => opt.setState(saved)).toThrow(/warning as error: .*written with rectify=false/);
    expect(snapshot(params, opt)).toBe(before);
    // With a handler that does not throw, the same state is restored (and the warning given).
    const seen: string[] = [];
    setWarningHandler((m) => seen.push(m));
    opt.setState(saved);
    expect(seen.join("\n")).toMatch(/written with rectify=false/);
    expect(opt.getState().slots).toEqual(saved.slots);
    expect(opt.iterations).toBe(1);
  });

  it("a getter of the state that throws (here `options`) leaves it as it was; the exception is the cause", () => {
    const { params, opt } = warmedAdaBelief();
    const good = viaJson(opt.getState());
    const boom = new Error("boom");
    const bad = { ...good, slots: { ...good.slots, m: [[9, 9, 9], [9]] } };
    Object.defineProperty(bad, "options", {
      enumerable: true,
      get() {
        throw boom;
      },
    });
    refusedAndKept(params, opt, () => opt.setState(bad), /reading the state threw \(Error: boom\)/);
    try {
      opt.setState(bad);
    } catch (e) {
      expect((e as Error).cause).toBe(boom);
    }
  });

  it("a getter of a slot value that throws leaves it as it was", () => {
    const { params, opt } = warmedAdaBelief();
    const bad = viaJson(opt.getState());
    bad.slots.m![0] = [7, 7, 7];
    // The first parameter's slots are fine and come first: they must not be installed either.
    bad.slots.s![1] = [0];
    Object.defineProperty(bad.slots.s![1], 0, {
      get() {
        throw new RangeError("no value");
      },
    });
    refusedAndKept(params, opt, () => opt.setState(bad), /reading the state threw \(RangeError: no value\)/);
  });

  it("reads every value once (a getter answering differently the second time cannot slip anything in)", () => {
    const { opt } = warmedAdaBelief();
    const state = viaJson(opt.getState());
    let reads = 0;
    const m0 = [0.5, 0.25, 0.125];
    Object.defineProperty(m0, 0, {
      get() {
        reads++;
        return reads === 1 ? 0.5 : "not a number";
      },
    });
    state.slots.m![0] = m0;
    opt.setState(state);
    expect(reads).toBe(1);
    expect(opt.getState().slots.m![0]).toEqual([0.5, 0.25, 0.125]);
  });
});
