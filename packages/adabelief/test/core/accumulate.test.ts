import { describe, expect, it } from "vitest";
import {
  AdaBelief,
  Adam,
  Fromage,
  GradientMismatchError,
  MultiSteps,
  NonFiniteGradientError,
  OptionError,
  SGD,
  StateError,
  Yogi,
  multiSteps,
  setWarningHandler,
  type FloatArray,
  type MultiStepsState,
  type Optimizer,
} from "../../src/core/index.js";

type Ctor = typeof Float32Array | typeof Float64Array;

const makers: [string, (p: FloatArray[]) => Optimizer][] = [
  ["AdaBelief", (p) => new AdaBelief(p, { learningRate: 0.01, weightDecay: 0.01 })],
  ["Adam", (p) => new Adam(p, { learningRate: 0.01 })],
  ["SGD", (p) => new SGD(p, { learningRate: 0.1, momentum: 0.9, nesterov: true })],
  ["Yogi", (p) => new Yogi(p, { learningRate: 0.01 })],
  ["Fromage", (p) => new Fromage(p, { learningRate: 0.01 })],
];

const sizes = [5, 3];
/** A typed array of `C` with `f(j)` at index j. */
const filled = (C: Ctor, n: number, f: (j: number) => number): FloatArray => {
  const a = new C(n);
  for (let j = 0; j < n; j++) a[j] = f(j);
  return a;
};
const initial = (C: Ctor) => sizes.map((n, i) => filled(C, n, (j) => Math.cos(1 + i * 7 + j)));
const gradient = (C: Ctor, call: number) =>
  sizes.map((n, i) => filled(C, n, (j) => Math.sin(0.37 * call + 1.3 * i + j) * (1 + (j % 3))));

/** The k gradients combined by hand, in the dtype: summed in order (each sum rounded), then divided by k. */
function combined(C: Ctor, grads: FloatArray[][], reduction: "mean" | "sum"): FloatArray[] {
  return sizes.map((n, i) => {
    const out = new C(n);
    for (const g of grads) for (let j = 0; j < n; j++) out[j] = out[j]! + g[i]![j]!;
    if (reduction === "mean") for (let j = 0; j < n; j++) out[j] = out[j]! / grads.length;
    return out;
  });
}

describe("MultiSteps (gradient accumulation)", () => {
  for (const [name, make] of makers) {
    for (const C of [Float32Array, Float64Array]) {
      for (const [k, reduction] of [
        [1, "mean"],
        [3, "mean"],
        [4, "mean"],
        [3, "sum"],
      ] as const) {
        it(`${name} ${C.name} every ${k} (${reduction}): bit-identical to one step on the ${reduction} of the k gradients`, () => {
          const params = initial(C);
          const acc = new MultiSteps(make(params), { every: k, reduction });
          const twinParams = initial(C);
          const twin = make(twinParams);
          let call = 0;
          for (let update = 0; update < 5; update++) {
            const window: FloatArray[][] = [];
            for (let j = 0; j < k; j++) {
              const g = gradient(C, call++);
              window.push(g);
              const before = params.map((p) => Array.from(p));
              expect(acc.step(g)).toBe(j === k - 1);
              expect(acc.pending).toBe((j + 1) % k);
              if (j < k - 1) expect(params.map((p) => Array.from(p))).toEqual(before);
            }
            twin.step(combined(C, window, reduction));
            expect(acc.iterations).toBe(update + 1);
            params.forEach((p, i) => expect(Array.from(p)).toEqual(Array.from(twinParams[i]!)));
          }
        });
      }
    }
  }

  it("exposes the inner optimizer's params, step count and learning rate; multiSteps() is the factory", () => {
    const params = initial(Float64Array);
    const inner = new AdaBelief(params, { learningRate: (s) => 1 / (1 + s) });
    const acc = multiSteps(inner, { every: 2 });
    expect(acc).toBeInstanceOf(MultiSteps);
    expect(acc.options).toEqual({ every: 2, reduction: "mean" });
    expect(acc.params).toBe(inner.params);
    acc.step(gradient(Float64Array, 0));
    expect(acc.currentLearningRate).toBe(1);
    acc.step(gradient(Float64Array, 1));
    expect(acc.iterations).toBe(1);
    expect(acc.currentLearningRate).toBe(0.5); // the inner schedule counts inner updates
  });

  it("refuses bad options", () => {
    const inner = new SGD(initial(Float32Array), { learningRate: 0.1 });
    const cases: [unknown, RegExp][] = [
      [{}, /MultiSteps: every must be an integer >= 1, got undefined/],
      [{ every: 0 }, /MultiSteps: every must be an integer >= 1, got 0/],
      [{ every: 2.5 }, /every must be an integer >= 1, got 2.5/],
      [
        { every: 2, reduction: "average" },
        /MultiSteps: reduction must be one of "mean", "sum", got "average"/,
      ],
      [{ every: 2, k: 3 }, /MultiSteps: unknown option "k"; known options: every, reduction/],
      [undefined, /MultiSteps: options must be an object/],
    ];
    for (const [options, message] of cases) {
      expect(() => new MultiSteps(inner, options as never)).toThrow(OptionError);
      expect(() => new MultiSteps(inner, options as never)).toThrow(message);
    }
    expect(() => new MultiSteps({} as never, { every: 2 })).toThrow(
      /MultiSteps: inner must be a core optimizer/,
    );
  });

  it("a refused call changes nothing: wrong gradients, non-finite values (throw), a bad rate on the k-th call", () => {
    const params = initial(Float32Array);
    let lrOk = true;
    const acc = new MultiSteps(new AdaBelief(params, { learningRate: () => (lrOk ? 0.01 : -1) }), {
      every: 3,
    });
    acc.step(gradient(Float32Array, 0));
    const snapshot = () => JSON.stringify([acc.getState(), params.map((p) => Array.from(p))]);
    const before = snapshot();
    const g = gradient(Float32Array, 1);
    const refused: [unknown, new (message?: string) => Error, RegExp][] = [
      [
        "nope",
        GradientMismatchError,
        /MultiSteps.step: grads must be an array of 2 typed arrays, got string/,
      ],
      [[g[0]], GradientMismatchError, /MultiSteps.step: got 1 gradients for 2 parameters/],
      [
        [g[0], new Float32Array(4)],
        GradientMismatchError,
        /gradient 1 has length 4 but parameter 1 has length 3/,
      ],
      [
        [g[0], new Float64Array(3)],
        GradientMismatchError,
        /gradient 1 is float64\[3\] but parameter 1 is float32\[3\]/,
      ],
      [
        [g[0], new Float32Array([0, Number.NaN, 0])],
        NonFiniteGradientError,
        /gradient 1 has NaN at index 1; nothing was changed/,
      ],
    ];
    for (const [grads, type, message] of refused) {
      expect(() => acc.step(grads as never)).toThrow(type);
      expect(() => acc.step(grads as never)).toThrow(message);
      expect(snapshot()).toBe(before);
    }
    acc.step(gradient(Float32Array, 1));
    const twoIn = snapshot();
    lrOk = false;
    expect(() => acc.step(gradient(Float32Array, 2))).toThrow(OptionError);
    expect(snapshot()).toBe(twoIn);
    expect(acc.pending).toBe(2);
    lrOk = true;
    const twinParams = initial(Float32Array);
    const twin = new AdaBelief(twinParams, { learningRate: 0.01 });
    expect(acc.step(gradient(Float32Array, 3))).toBe(true);
    twin.step(
      combined(
        Float32Array,
        [0, 1, 3].map((c) => gradient(Float32Array, c)),
        "mean",
      ),
    );
    params.forEach((p, i) => expect(Array.from(p)).toEqual(Array.from(twinParams[i]!)));
  });

  it('nonFinite "skip" drops a non-finite gradient (not counted); an overflowing sum is skipped by the inner optimizer, keeping the window', () => {
    const params = [new Float32Array([1, 2])];
    const acc = new MultiSteps(new SGD(params, { learningRate: 0.1, nonFinite: "skip" }), { every: 2 });
    expect(acc.step([new Float32Array([Infinity, 0])])).toBe(false);
    expect(acc.pending).toBe(0);
    expect(acc.step([new Float32Array([3e38, 0])])).toBe(false);
    expect(acc.pending).toBe(1);
    expect(acc.step([new Float32Array([3e38, 0])])).toBe(false); // 6e38 overflows float32: skipped by SGD
    expect(acc.pending).toBe(1);
    expect(acc.iterations).toBe(0);
    expect(Array.from(params[0]!)).toEqual([1, 2]);
    expect(acc.step([new Float32Array([-3e38, 2])])).toBe(true);
    expect(Array.from(params[0]!)).toEqual([1, Math.fround(2 - 0.1)]); // mean of (3e38 + (−3e38), 0 + 2)
  });

  it('nonFinite "throw": an overflowing sum is refused by the inner optimizer on the k-th call, nothing changes', () => {
    const params = [new Float32Array([1, 2])];
    const acc = new MultiSteps(new SGD(params, { learningRate: 0.1 }), { every: 2 });
    acc.step([new Float32Array([3e38, 0])]);
    const before = JSON.stringify(acc.getState());
    expect(() => acc.step([new Float32Array([3e38, 0])])).toThrow(NonFiniteGradientError);
    expect(JSON.stringify(acc.getState())).toBe(before);
  });

  it('nonFinite "proceed" accumulates NaN, and the state still round-trips through JSON', () => {
    const params = [new Float64Array([1, 2])];
    const acc = new MultiSteps(new SGD(params, { learningRate: 0.1, nonFinite: "proceed" }), { every: 3 });
    acc.step([new Float64Array([Number.NaN, -Infinity])]);
    const state = JSON.parse(JSON.stringify(acc.getState())) as MultiStepsState;
    expect(state.accumulators).toEqual([["NaN", "-Infinity"]]);
    const other = new MultiSteps(
      new SGD([new Float64Array([1, 2])], { learningRate: 0.1, nonFinite: "proceed" }),
      {
        every: 3,
      },
    );
    other.setState(state);
    expect(other.getState()).toEqual(acc.getState());
    acc.step([new Float64Array([1, 1])]);
    expect(acc.step([new Float64Array([1, 1])])).toBe(true);
    expect(Number.isNaN(params[0]![0])).toBe(true);
    expect(params[0]![1]).toBe(Infinity);
  });

  for (const C of [Float32Array, Float64Array]) {
    it(`${C.name}: a state saved mid-accumulation (through JSON) continues bit-identically`, () => {
      const aParams = initial(C);
      const a = new MultiSteps(new AdaBelief(aParams, { learningRate: 0.01 }), { every: 4 });
      for (let c = 0; c < 6; c++) a.step(gradient(C, c)); // one update, then 2 of the next 4
      const saved = JSON.parse(JSON.stringify(a.getState())) as MultiStepsState;
      expect(saved.count).toBe(2);
      expect(saved.inner.step).toBe(1);
      const bParams = initial(C);
      const b = new MultiSteps(new AdaBelief(bParams, { learningRate: 0.01 }), { every: 4 });
      b.setState(saved);
      bParams.forEach((p, i) => p.set(aParams[i]!));
      expect(b.getState()).toEqual(a.getState());
      for (let c = 6; c < 15; c++) expect(b.step(gradient(C, c))).toBe(a.step(gradient(C, c)));
      aParams.forEach((p, i) => expect(Array.from(bParams[i]!)).toEqual(Array.from(p)));
      expect(b.getState()).toEqual(a.getState());
    });
  }

  it("a fresh window's state has zero accumulators", () => {
    const acc = new MultiSteps(new SGD(initial(Float32Array), { learningRate: 0.1 }), { every: 2 });
    acc.step(gradient(Float32Array, 0));
    acc.step(gradient(Float32Array, 1));
    expect(acc.getState().accumulators).toEqual(sizes.map((n) => new Array(n).fill(0)));
  });

  it("setState refuses a bad state with a StateError and changes nothing; another every warns", () => {
    const make = () =>
      new MultiSteps(new AdaBelief(initial(Float32Array), { learningRate: 0.01 }), { every: 3 });
    const src = make();
    src.step(gradient(Float32Array, 0));
    const good = src.getState();
    const target = make();
    target.step(gradient(Float32Array, 5));
    const before = JSON.stringify(target.getState());
    const bad: [unknown, RegExp][] = [
      [null, /MultiSteps.setState: expected a state object/],
      [{ ...good, format: "adabelief/optimizer-state" }, /format is "adabelief\/optimizer-state"/],
      [{ ...good, version: 2 }, /version 2 is not supported/],
      [{ ...good, count: 3 }, /count must be an integer in \[0, 2\] \(every is 3\), got 3/],
      [{ ...good, count: -1 }, /count must be an integer in \[0, 2\]/],
      [
        { ...good, accumulators: good.accumulators.slice(1) },
        /accumulators must hold one array per parameter \(2\)/,
      ],
      [
        { ...good, accumulators: [[1, 2], good.accumulators[1]] },
        /accumulator 0 has length 2, expected length 5/,
      ],
      [{ ...good, accumulators: [good.accumulators[0], [1, null, 2]] }, /accumulator 1 has null at index 1/],
      [
        { ...good, accumulators: [good.accumulators[0], [1, 1e39, 2]] },
        /accumulator 1 has 1e\+39 at index 1, which overflows to Infinity in float32/,
      ],
      [{ ...good, inner: undefined }, /inner \(the inner optimizer's state\) is missing/],
      [
        { ...good, inner: { ...good.inner, optimizer: "Adam" } },
        /AdaBelief.setState: the state was written by "Adam"/,
      ],
      [{ ...good, inner: { ...good.inner, sizes: [5, 4] } }, /AdaBelief.setState: parameter 1 has length 3/],
    ];
    for (const [state, message] of bad) {
      expect(() => target.setState(state as never)).toThrow(StateError);
      expect(() => target.setState(state as never)).toThrow(message);
      expect(JSON.stringify(target.getState())).toBe(before);
    }
    const throwing = Object.defineProperty({ ...good }, "count", {
      get() {
        throw new Error("boom");
      },
    });
    expect(() => target.setState(throwing)).toThrow(
      /reading the state threw \(Error: boom\); nothing was changed/,
    );
    const warnings: string[] = [];
    const previous = setWarningHandler((m) => warnings.push(m));
    try {
      const wider = new MultiSteps(new AdaBelief(initial(Float32Array), { learningRate: 0.01 }), {
        every: 5,
      });
      wider.setState(good);
      expect(wider.pending).toBe(1);
    } finally {
      setWarningHandler(previous);
    }
    expect(warnings).toEqual([
      "MultiSteps.setState: the state was written with every=3; this wrapper has every=5, reduction=mean (the state is restored, the options are not)",
    ]);
  });
});
