import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  OptionError,
  SGD,
  SGD_DEFAULTS,
  StateError,
  setWarningHandler,
  type FloatArray,
  type SGDOptions,
} from "../../src/core/index.js";

let warnings: string[] = [];
let restore: ReturnType<typeof setWarningHandler>;
beforeEach(() => {
  warnings = [];
  restore = setWarningHandler((m) => warnings.push(m));
});
afterEach(() => {
  setWarningHandler(restore);
});

type ArrayCtor = { from(values: ArrayLike<number>): FloatArray };

function run(
  opts: SGDOptions,
  start: number[],
  grads: number[][],
  Ctor: ArrayCtor = Float64Array,
): FloatArray {
  const p = Ctor.from(start);
  const opt = new SGD([p], opts);
  for (const g of grads) opt.step([Ctor.from(g)]);
  return p;
}

/** A deterministic gradient sequence. */
const gradAt = (t: number, n: number) =>
  Float64Array.from({ length: n }, (_, i) => Math.sin(3 * t + i) * (i + 1));

describe("SGD: hand-derived steps", () => {
  it("defaults: learning rate 0.01 (Keras' default; torch has none), no momentum, no state", () => {
    expect(SGD_DEFAULTS.learningRate).toBe(0.01);
    const p = run({}, [1, -2], [[0.5, 4]]);
    expect(Array.from(p)).toEqual([1 - 0.01 * 0.5, -2 - 0.01 * 4]);
    expect(new SGD([new Float64Array(2)]).getState().slots).toEqual({});
  });

  it("L2 weight decay adds λθ to the gradient", () => {
    const p = run({ learningRate: 0.1, weightDecay: 0.5 }, [2], [[1]]);
    expect(p[0]).toBe(2 - 0.1 * (1 + 0.5 * 2));
  });

  it("momentum: the first buffer is g (undampened), the second μ·g1 + (1 − δ)·g2", () => {
    const [lr, mu, damp] = [0.1, 0.9, 0.25];
    const p = run({ learningRate: lr, momentum: mu, dampening: damp }, [1], [[2], [-1]]);
    const theta1 = 1 - lr * 2;
    const b2 = mu * 2 + (1 - damp) * -1;
    expect(p[0]).toBe(theta1 - lr * b2);
  });

  it("nesterov steps along g + μ·b", () => {
    const [lr, mu] = [0.1, 0.9];
    const p = run({ learningRate: lr, momentum: mu, nesterov: true }, [1], [[2], [-1]]);
    const theta1 = 1 - lr * (2 + mu * 2);
    const b2 = mu * 2 - 1;
    expect(p[0]).toBe(theta1 - lr * (-1 + mu * b2));
  });

  it("float32: moves in float32 storage and stays close to the float64 run", () => {
    const grads = [0, 1, 2, 3].map((t) => Array.from(gradAt(t, 3)));
    const p32 = run({ momentum: 0.9 }, [1, 2, 3], grads, Float32Array);
    const p64 = run({ momentum: 0.9 }, [1, 2, 3], grads);
    for (let i = 0; i < 3; i++) expect(p32[i]).toBeCloseTo(p64[i]!, 6);
  });
});

describe("SGD: options", () => {
  const cases: [SGDOptions, RegExp][] = [
    [{ momentum: 1.5 }, /momentum must be a number in \[0, 1\), got 1.5/],
    [{ momentum: -0.1 }, /momentum .* got -0.1/],
    [{ dampening: 2 }, /dampening must be a number in \[0, 1\], got 2/],
    [{ nesterov: 1 as unknown as boolean }, /nesterov must be true or false, got 1/],
    [{ weightDecay: -1 }, /weightDecay .* got -1/],
    [{ nesterov: true }, /nesterov requires momentum > 0, got momentum 0/],
    [{ nesterov: true, momentum: 0.9, dampening: 0.1 }, /nesterov requires dampening 0, got dampening 0.1/],
    [{ lr: 0.1 } as SGDOptions, /unknown option "lr"/],
  ];
  it.each(cases)("rejects %j, naming option and value", (options, message) => {
    expect(() => new SGD([new Float64Array(1)], options)).toThrow(OptionError);
    expect(() => new SGD([new Float64Array(1)], options)).toThrow(message);
  });

  it("warns that dampening without momentum does nothing", () => {
    new SGD([new Float64Array(1)], { dampening: 0.5 });
    expect(warnings.join("\n")).toMatch(/dampening 0.5 has no effect when momentum is 0/);
    warnings = [];
    new SGD([new Float64Array(1)], { dampening: 0.5, momentum: 0.9 });
    expect(warnings).toEqual([]);
  });
});

describe("SGD: state", () => {
  it("getState/setState (through JSON) continues bit-identically", () => {
    for (const Ctor of [Float64Array, Float32Array]) {
      const opts: SGDOptions = { momentum: 0.9, dampening: 0.1, weightDecay: 0.01 };
      const a = Ctor.from([1, -2, 3]);
      const optA = new SGD([a], opts);
      for (let t = 0; t < 3; t++) optA.step([Ctor.from(gradAt(t, 3))]);
      const b = Ctor.from(a);
      const optB = new SGD([b], opts);
      optB.setState(JSON.parse(JSON.stringify(optA.getState())));
      expect(optB.iterations).toBe(3);
      for (let t = 3; t < 6; t++) {
        optA.step([Ctor.from(gradAt(t, 3))]);
        optB.step([Ctor.from(gradAt(t, 3))]);
      }
      expect(Array.from(b)).toEqual(Array.from(a));
    }
  });

  it("a restored step-0 state makes the next step a first step (buffer ← g)", () => {
    const fresh = new SGD([new Float64Array(1)], { momentum: 0.9 }).getState();
    const p = Float64Array.of(1);
    const opt = new SGD([p], { momentum: 0.9, dampening: 0.5 });
    opt.step([Float64Array.of(3)]);
    opt.setState(fresh);
    p[0] = 1;
    opt.step([Float64Array.of(2)]);
    expect(p[0]).toBe(1 - 0.01 * 2);
    expect(opt.getState().slots.momentumBuffer).toEqual([[2]]);
  });

  it("a state without momentum buffer does not load into an optimizer with momentum", () => {
    const plain = new SGD([new Float64Array(1)]).getState();
    const opt = new SGD([new Float64Array(1)], { momentum: 0.9 });
    expect(() => opt.setState(plain)).toThrow(StateError);
    expect(() => opt.setState(plain)).toThrow(/slots are \[\], expected \[momentumBuffer\]/);
  });
});
