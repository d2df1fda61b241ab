/**
 * Parameter groups in the core, PyTorch's shape: `new AdaBelief([{ params }, { params, ...options }], defaults)`.
 * A grouped optimizer must be, bit for bit, the separate optimizers of its groups; options the reference
 * keeps for the whole optimizer are refused in a group; the saved state keeps the groups. (PyTorch state
 * files of grouped optimizers: torch-state.test.ts.)
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  AdaBelief,
  Adam,
  cosineDecay,
  MultiSteps,
  OPTIMIZERS,
  OptionError,
  RAdam,
  SGD,
  setWarningHandler,
  StateError,
  stepDecay,
  type FloatArray,
  type Optimizer,
  type OptimizerName,
  type OptimizerState,
} from "../../src/core/index.js";

let restore: ReturnType<typeof setWarningHandler>;
let warnings: string[] = [];
beforeEach(() => {
  warnings = [];
  restore = setWarningHandler((m) => warnings.push(m));
});
afterEach(() => {
  setWarningHandler(restore);
});

type Ctor = new (params: readonly unknown[], options?: Record<string, unknown>) => Optimizer;
const ctorOf = (name: OptimizerName) => OPTIMIZERS[name] as unknown as Ctor;

/** A deterministic pseudo-random stream in [−1, 1) (xorshift), so the runs are repeatable. */
function stream(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 31 - 1;
  };
}

const bytes = (a: FloatArray) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** Fails naming the first element that differs in any bit (−0 and 0 differ, NaN payloads aside). */
function expectSameBits(got: readonly FloatArray[], want: readonly FloatArray[], where: string) {
  got.forEach((g, i) => {
    const w = want[i]!;
    const a = bytes(g);
    const b = bytes(w);
    if (a.length === b.length && a.every((x, j) => x === b[j])) return;
    const j = Array.from(g).findIndex((x, k) => !Object.is(x, w[k]));
    throw new Error(`${where}: parameter ${i}[${j}] is ${g[j]}, the separate optimizer's ${w[j]}`);
  });
}

/**
 * Per optimizer: its options, and the settings of two groups (the third group sets nothing), each including
 * a learning-rate schedule or a per-group option that changes the slots or their initial values.
 */
const CONFIGS: Record<
  OptimizerName,
  { options: Record<string, unknown>; groups: Record<string, unknown>[] }
> = {
  sgd: {
    options: { learningRate: 0.05, momentum: 0.9, weightDecay: 1e-3 },
    groups: [
      { learningRate: stepDecay({ initial: 0.02, stepSize: 7, gamma: 0.5 }), weightDecay: 0, nesterov: true },
      { momentum: 0, dampening: 0 },
    ],
  },
  adam: {
    options: { learningRate: 1e-2, weightDecay: 1e-2 },
    groups: [
      { learningRate: cosineDecay({ initial: 3e-2, decaySteps: 20 }), amsgrad: true },
      { beta1: 0.5, beta2: 0.99, epsilon: 1e-6, weightDecay: 0 },
    ],
  },
  adamw: {
    options: { learningRate: 1e-2 },
    groups: [
      { learningRate: (s: number) => 0.02 * 0.9 ** s, weightDecay: 0.1, amsgrad: true },
      { beta1: 0.8, epsilon: 1e-4, weightDecay: 0 },
    ],
  },
  yogi: {
    options: { learningRate: 1e-2 },
    groups: [
      { learningRate: stepDecay({ initial: 5e-2, stepSize: 5 }), initialAccumulator: 0.1 },
      { beta2: 0.9, epsilon: 1e-4, weightDecay: 1e-3 },
    ],
  },
  adabound: {
    options: { learningRate: 1e-2, weightDecay: 1e-3 },
    groups: [
      { learningRate: cosineDecay({ initial: 2e-2, decaySteps: 30 }), finalLr: 0.05, amsbound: true },
      { gamma: 1e-2, beta1: 0.8, weightDecay: 0 },
    ],
  },
  radam: {
    options: { learningRate: 1e-2, weightDecay: 1e-3 },
    groups: [
      { learningRate: (s: number) => 0.03 / (1 + s), weightDecay: 0 },
      { beta1: 0.8, beta2: 0.95, epsilon: 1e-6 },
    ],
  },
  msvag: {
    options: { learningRate: 1e-2, weightDecay: 1e-3 },
    groups: [
      { learningRate: stepDecay({ initial: 0.05, stepSize: 4, gamma: 0.7 }) },
      { beta1: 0.5, weightDecay: 0 },
    ],
  },
  fromage: {
    options: { learningRate: 1e-2 },
    groups: [{ learningRate: (s: number) => 0.02 * 0.95 ** s }, { learningRate: 1e-3 }],
  },
  adabelief: {
    options: { learningRate: 1e-2, weightDecay: 1e-2, rectify: false },
    groups: [
      { learningRate: cosineDecay({ initial: 2e-2, decaySteps: 25 }), weightDecay: 0, amsgrad: true },
      { beta1: 0.8, beta2: 0.99, epsilon: 1e-8 },
    ],
  },
};

/** Three groups of parameters with lengths 5 and 3, 4, and 2 and 7 (filled from `next`). */
function groupsOf(
  Ctor: Float32ArrayConstructor | Float64ArrayConstructor,
  next: () => number,
): FloatArray[][] {
  return [[5, 3], [4], [2, 7]].map((lengths) => lengths.map((n) => new Ctor(n).map(() => next())));
}

describe.each(Object.keys(CONFIGS) as OptimizerName[])(
  "%s: a grouped optimizer is its groups' separate optimizers",
  (name) => {
    it.each(["float32", "float64"] as const)("bit for bit, %s, 60 steps (a schedule per group)", (dtype) => {
      const { options, groups } = CONFIGS[name];
      const Ctor = dtype === "float64" ? Float64Array : Float32Array;
      const next = stream(17);
      const initial = groupsOf(Ctor, next);
      const grouped = initial.map((ps) => ps.map((p) => p.slice()));
      const separate = initial.map((ps) => ps.map((p) => p.slice()));
      const settings = [{}, ...groups];
      const opt = new (ctorOf(name))(
        grouped.map((params, k) => ({ params, ...settings[k] })),
        options,
      );
      const singles = separate.map((params, k) => new (ctorOf(name))(params, { ...options, ...settings[k] }));
      expect(opt.paramGroups.map((g) => g.params.length)).toEqual([2, 1, 2]);
      for (let t = 0; t < 60; t++) {
        const grads = initial.map((ps) => ps.map((p) => p.map(() => next() * (t % 7 === 3 ? 10 : 1))));
        expect(opt.step(grads.flat())).toBe(true);
        singles.forEach((s, k) => s.step(grads[k]!));
        singles.forEach((s, k) =>
          expectSameBits(grouped[k]!, separate[k]!, `${name} ${dtype} step ${t + 1} group ${k}`),
        );
        opt.paramGroups.forEach((g, k) =>
          expect(g.currentLearningRate).toBe(singles[k]!.currentLearningRate),
        );
      }
      // The state holds each group's slots, as the separate optimizers have them.
      const state = opt.getState();
      expect(state.groups!.map((g) => g.params)).toEqual([2, 1, 2]);
      let i = 0;
      singles.forEach((s) => {
        const own = s.getState();
        own.sizes.forEach((_, j) => {
          for (const slot of Object.keys(state.slots)) {
            expect(state.slots[slot]![i], `${slot} of parameter ${i}`).toEqual(own.slots[slot]?.[j] ?? []);
          }
          i++;
        });
      });
    });
  },
);

describe("param groups: construction", () => {
  const w = () => Float64Array.of(1, 2);
  const b = () => Float64Array.of(0.5);

  it("a plain list is one group whose options are the optimizer's; groups may be empty; each group's options are resolved", () => {
    const opt = new AdaBelief([w(), b()], { weightDecay: 1e-2 });
    expect(opt.paramGroups).toHaveLength(1);
    expect(opt.paramGroups[0]!.options).toBe(opt.options);
    expect(opt.paramGroups[0]!.params).toEqual(opt.params);

    const [w1, w2, b1] = [w(), w(), b()];
    const grouped = new AdaBelief(
      [{ params: [w1, w2] }, { params: [] }, { params: [b1], weightDecay: 0, learningRate: 1e-4 }],
      { learningRate: 1e-3, weightDecay: 1e-2 },
    );
    expect(grouped.params).toEqual([w1, w2, b1]);
    expect(grouped.paramGroups.map((g) => g.params.length)).toEqual([2, 0, 1]);
    expect(grouped.paramGroups[0]!.options).toBe(grouped.options);
    expect(grouped.paramGroups[2]!.options).toMatchObject({
      learningRate: 1e-4,
      weightDecay: 0,
      beta1: 0.9,
      rectify: true,
    });
    expect(grouped.paramGroups[2]!.currentLearningRate).toBe(1e-4);
    expect(grouped.currentLearningRate).toBe(1e-3);
    expect(Object.isFrozen(grouped.paramGroups)).toBe(true);
    expect(Object.isFrozen(grouped.paramGroups[2])).toBe(true);
    // One gradient per parameter, in the order of the groups.
    expect(() => grouped.step([w(), w()])).toThrow(/got 2 gradients for 3 parameters/);
  });

  it("refuses, naming the option and the group, options the reference keeps for the whole optimizer", () => {
    const wide: [Ctor, string, unknown][] = [
      [AdaBelief as unknown as Ctor, "weightDecouple", false],
      [AdaBelief as unknown as Ctor, "fixedDecay", true],
      [AdaBelief as unknown as Ctor, "rectify", false],
      [AdaBelief as unknown as Ctor, "degeneratedToSgd", false],
      [AdaBelief as unknown as Ctor, "smaThreshold", 6],
      [AdaBelief as unknown as Ctor, "nonFinite", "skip"],
      [RAdam as unknown as Ctor, "variant", "paper"],
      [RAdam as unknown as Ctor, "degeneratedToSgd", false],
      [Adam as unknown as Ctor, "nonFinite", "proceed"],
      [SGD as unknown as Ctor, "nonFinite", "skip"],
    ];
    for (const [C, key, value] of wide) {
      const make = () => new C([{ params: [w()] }, { params: [b()], [key]: value }], {});
      expect(make).toThrow(OptionError);
      expect(make).toThrow(
        new RegExp(`^${C.name}: param group 1 sets ${key}, which applies to the whole optimizer`),
      );
    }
    // The same options are accepted in the optimizer's options (and undefined in a group means "not set").
    expect(
      () => new AdaBelief([{ params: [w()], rectify: undefined } as never], { rectify: false }),
    ).not.toThrow();
  });

  it("an unknown option or a bad value in a group names the group; the list of options names those a group may set", () => {
    const unknown = () => new AdaBelief([{ params: [w()] }, { params: [b()], beta_1: 0.9 } as never]);
    expect(unknown).toThrow(OptionError);
    expect(unknown).toThrow(
      /^AdaBelief: param group 1: unknown option "beta_1"; a group may set learningRate, beta1, beta2, epsilon, weightDecay, amsgrad$/,
    );
    expect(() => new Adam([{ params: [w()], beta1: 1 }])).toThrow(
      /^Adam: param group 0: beta1 must be a number in \[0, 1\), got 1$/,
    );
    expect(() => new SGD([{ params: [w()], nesterov: true }], { momentum: 0 })).toThrow(
      /^SGD: param group 0: nesterov requires momentum > 0/,
    );
    // The optimizer's own options are checked as without groups.
    expect(() => new Adam([{ params: [w()] }], { beta2: 2 })).toThrow(
      /^Adam: beta2 must be a number in \[0, 1\)/,
    );
  });

  it("refuses malformed groups, a parameter in two groups, mixed dtypes, and groups without parameters", () => {
    const p = w();
    expect(() => new Adam([{ params: [p] }, w()] as never)).toThrow(
      /param group 1 must be an object \{ params, \.\.\.options \}/,
    );
    expect(() => new Adam([p, { params: [w()] }] as never)).toThrow(
      /parameter 1 must be a Float32Array or Float64Array, got Object/,
    );
    expect(() => new Adam([{ params: p }] as never)).toThrow(
      /param group 0 must have params: an array of parameters/,
    );
    expect(() => new Adam([{ params: [w(), [1, 2]] }] as never)).toThrow(
      /param group 0: parameter 1 must be a Float32Array/,
    );
    expect(() => new Adam([{ params: [p] }, { params: [w(), p] }])).toThrow(
      /parameter 2 \(param group 1\) is the same array as parameter 0 \(param group 0\)/,
    );
    expect(() => new Adam([{ params: [p] }, { params: [Float32Array.of(1)] }])).toThrow(
      /parameter 1 \(param group 1\) is float32 but parameter 0 \(param group 0\) is float64/,
    );
    expect(() => new Adam([{ params: [] }, { params: [] }])).toThrow(
      /the parameter groups hold no parameter/,
    );
  });

  it("warnings of settings a group inherits are not repeated; a group's own warnings name it", () => {
    new AdaBelief([{ params: [w()] }, { params: [b()], learningRate: 1e-2 }, { params: [w()], epsilon: 0 }], {
      beta1: 0,
    });
    expect(warnings.filter((m) => m.includes("beta1 = 0"))).toHaveLength(1);
    expect(warnings.filter((m) => m.includes("epsilon = 0"))).toEqual([
      expect.stringMatching(/^AdaBelief: param group 2: epsilon = 0 removes/),
    ]);
  });

  it("a group's schedule that returns a bad rate refuses the step, naming the group; nothing changes", () => {
    const [p, q] = [w(), b()];
    const opt = new Adam([
      { params: [p] },
      { params: [q], learningRate: (s: number) => (s < 2 ? 0.1 : NaN) },
    ]);
    opt.step([w(), b()]);
    opt.step([w(), b()]);
    const before = JSON.stringify([Array.from(p), Array.from(q), opt.getState()]);
    expect(() => opt.step([w(), b()])).toThrow(
      /^Adam\.step: param group 1: learningRate schedule returned NaN at step 2/,
    );
    expect(JSON.stringify([Array.from(p), Array.from(q), opt.getState()])).toBe(before);
  });

  it("MultiSteps accumulates for a grouped optimizer", () => {
    const [p, q] = [w(), b()];
    const acc = new MultiSteps(
      new SGD([{ params: [p] }, { params: [q], learningRate: 0.5 }], { learningRate: 0.1 }),
      {
        every: 2,
      },
    );
    acc.step([Float64Array.of(1, 1), Float64Array.of(1)]);
    acc.step([Float64Array.of(3, 3), Float64Array.of(3)]);
    expect(Array.from(p)).toEqual([1 - 0.1 * 2, 2 - 0.1 * 2]);
    expect(Array.from(q)).toEqual([0.5 - 0.5 * 2]);
  });
});

describe("param groups: saved state", () => {
  /** AdaBelief with AMSGrad in one group (so the groups have different slots), after a few steps. */
  function warmed(counts = [2, 1], options: Record<string, unknown> = {}) {
    const params = counts.map((n) => Array.from({ length: n }, (_, j) => Float32Array.of(0.5 + j, -1, 2)));
    const opt = new AdaBelief(
      params.map((ps, k) => ({ params: ps, ...(k === 1 ? { amsgrad: true, weightDecay: 0 } : {}) })),
      { rectify: false, weightDecay: 1e-2, ...options },
    );
    const grads = (t: number) => params.flat().map(() => Float32Array.of(0.1 * t + 0.3, -0.2, 1));
    for (let t = 0; t < 3; t++) opt.step(grads(t));
    return { params, opt, grads };
  }

  it("records the groups (parameters and options) and the per-group slots; restores them through JSON, bit for bit", () => {
    const { params, opt, grads } = warmed();
    const state = opt.getState();
    expect(state.groups).toEqual([
      { params: 2, options: expect.objectContaining({ amsgrad: false, weightDecay: 1e-2 }) },
      { params: 1, options: expect.objectContaining({ amsgrad: true, weightDecay: 0 }) },
    ]);
    expect(Object.keys(state.slots)).toEqual(["m", "s", "sMax"]);
    expect(state.slots["sMax"]!.map((v) => v.length)).toEqual([0, 0, 3]);

    const copy = params.map((ps) => ps.map((p) => p.slice()));
    const twin = new AdaBelief(
      copy.map((ps, k) => ({ params: ps, ...(k === 1 ? { amsgrad: true, weightDecay: 0 } : {}) })),
      { rectify: false, weightDecay: 1e-2 },
    );
    twin.setState(JSON.parse(JSON.stringify(state)) as OptimizerState);
    expect(warnings).toEqual([]);
    expect(twin.getState()).toEqual(state);
    for (let t = 3; t < 8; t++) {
      opt.step(grads(t));
      twin.step(grads(t));
    }
    expectSameBits(copy.flat(), params.flat(), "after restoring");
  });

  it("refuses a state of other groups (number, sizes, slots), all or nothing", () => {
    const { opt } = warmed();
    const state = opt.getState();
    const other = (counts: number[]) => warmed(counts).opt;
    const kept = (target: Optimizer, s: unknown, message: RegExp) => {
      const before = JSON.stringify(target.getState());
      expect(() => target.setState(s as OptimizerState)).toThrow(StateError);
      expect(() => target.setState(s as OptimizerState)).toThrow(message);
      expect(JSON.stringify(target.getState())).toBe(before);
    };
    // Three parameters in groups of 1 and 2: the same sizes, other groups.
    kept(other([1, 2]), state, /param group 0 of the state has 2 parameters, this optimizer's has 1/);
    const three = new AdaBelief(
      [
        { params: [Float32Array.of(0, 0, 0)] },
        { params: [Float32Array.of(0, 0, 0)] },
        { params: [Float32Array.of(0, 0, 0)] },
      ],
      { rectify: false },
    );
    kept(three, state, /the state has 2 param groups, this optimizer 3/);
    // A state without groups (one group, as written before groups existed) does not fit two groups.
    const { groups: _, ...flat } = state;
    kept(
      warmed().opt,
      flat,
      /the state has no param groups \(it holds one group of 3 parameters\); this optimizer has 2 groups/,
    );
    // A parameter of a group without AMSGrad cannot have sMax values.
    const sMax = state.slots["sMax"]!.map((v, i) => (i === 0 ? [1, 1, 1] : v));
    kept(
      warmed().opt,
      { ...state, slots: { ...state.slots, sMax } },
      /slot sMax of parameter 0 has length 3, but its param group 0 has no sMax/,
    );
    kept(warmed().opt, { ...state, groups: "two" }, /groups must be an array/);
  });

  it("a one-group optimizer still reads a state without groups; differing options are named per group", () => {
    const params = [Float64Array.of(1, 2)];
    const opt = new Adam(params);
    opt.step([Float64Array.of(0.5, 0.5)]);
    const { groups: _, ...old } = opt.getState();
    const again = new Adam([Float64Array.of(1, 2)]);
    again.setState(old as OptimizerState);
    expect(again.iterations).toBe(1);

    const { opt: grouped } = warmed();
    const state = grouped.getState();
    const { opt: target } = warmed([2, 1], { learningRate: 5e-3 });
    warnings = [];
    target.setState(state);
    expect(warnings).toEqual([
      expect.stringMatching(
        /the state was written with param group 0: learningRate=0\.001, param group 1: learningRate=0\.001; this optimizer has param group 0: learningRate=0\.005, param group 1: learningRate=0\.005/,
      ),
    ]);
  });
});
