import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  OptionError,
  RADAM_DEFAULTS,
  RAdam,
  setWarningHandler,
  type FloatArray,
  type RAdamOptions,
} from "../../src/core/index.js";
import { RAdamMode, radamRule } from "../../src/core/optimizers/radam.js";
import { rho } from "../../src/core/optimizers/adabelief.js";

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
  opts: RAdamOptions,
  start: number[],
  grads: number[][],
  Ctor: ArrayCtor = Float64Array,
): FloatArray {
  const p = Ctor.from(start);
  const opt = new RAdam([p], opts);
  for (const g of grads) opt.step([Ctor.from(g)]);
  return p;
}

const gradAt = (t: number, n: number) =>
  Float64Array.from({ length: n }, (_, i) => Math.sin(1.7 * t + i) * 2 ** i);
const VARIANTS = ["pytorch", "paper"] as const;

describe("RAdam: hand-derived steps", () => {
  it("defaults: α 1e-3, β (0.9, 0.999), ε 1e-8, λ 0, variant pytorch", () => {
    expect(RADAM_DEFAULTS).toMatchObject({
      learningRate: 1e-3,
      beta1: 0.9,
      beta2: 0.999,
      epsilon: 1e-8,
      weightDecay: 0,
    });
    expect(new RAdam([new Float64Array(1)]).options.variant).toBe("pytorch");
  });

  it.each(VARIANTS)(
    "%s: steps 1–5 are bias-corrected momentum SGD, step 6 is the rectified step",
    (variant) => {
      const [lr, b1, b2] = [0.01, 0.9, 0.999];
      const grads = Array.from({ length: 6 }, (_, t) => Array.from(gradAt(t, 3)));
      const p = Float64Array.of(1, -1, 0.5);
      const opt = new RAdam([p], { learningRate: lr, variant });
      const theta = Array.from(p);
      const m = [0, 0, 0];
      const v = [0, 0, 0];
      grads.forEach((g, k) => {
        const t = k + 1;
        opt.step([Float64Array.from(g)]);
        for (let i = 0; i < 3; i++) {
          m[i] = b1 * m[i]! + (1 - b1) * g[i]!;
          v[i] = b2 * v[i]! + (1 - b2) * g[i]! * g[i]!;
          if (t <= 5) {
            theta[i] = theta[i]! - (lr * m[i]!) / (1 - b1 ** t);
          } else {
            const { rhoInf, rhoT } = rho(t, b2);
            const rect = Math.sqrt(((rhoT - 4) * (rhoT - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rhoT));
            const mHat = m[i]! / (1 - b1 ** t);
            theta[i] = theta[i]! - (lr * rect * mHat * Math.sqrt(1 - b2 ** t)) / (Math.sqrt(v[i]!) + 1e-8);
          }
          expect(p[i], `step ${t}, element ${i}`).toBeCloseTo(theta[i]!, 14);
        }
      });
    },
  );

  it("with a constant gradient the warm-up moves exactly α·g per step, then about α·r_6·sign(g)", () => {
    for (const variant of VARIANTS) {
      const p = run(
        { learningRate: 0.1, variant },
        [0],
        Array.from({ length: 5 }, () => [2]),
      );
      expect(p[0]).toBeCloseTo(-5 * 0.1 * 2, 14);
      const q = run(
        { learningRate: 0.1, variant },
        [0],
        Array.from({ length: 6 }, () => [2]),
      );
      const { rhoInf, rhoT } = rho(6, 0.999);
      const rect = Math.sqrt(((rhoT - 4) * (rhoT - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rhoT));
      expect(q[0]! - p[0]!).toBeCloseTo(-0.1 * rect, 8);
    }
  });

  it("the warm-up ends after step 5 for β2 = 0.999 (ρ_5 = 4.996, ρ_6 = 5.994)", () => {
    for (const variant of VARIANTS) {
      const o = radamRule.resolve({ variant });
      expect(radamRule.coefficients(5, 1e-3, o).mode).toBe(RAdamMode.Sgd);
      expect(radamRule.coefficients(6, 1e-3, o).mode).toBe(RAdamMode.Adaptive);
    }
  });

  it("pytorch: weight decay is L2 (it enters m); paper: decoupled θ ← θ − αλθ (it does not)", () => {
    const [lr, wd, b1] = [0.1, 0.5, 0.9];
    const torch = run({ learningRate: lr, weightDecay: wd }, [2], [[0], [0]]);
    const theta1 = 2 - lr * wd * 2;
    const m2 = b1 * (1 - b1) * wd * 2 + (1 - b1) * wd * theta1;
    expect(torch[0]).toBeCloseTo(theta1 - (lr * m2) / (1 - b1 ** 2), 15);
    const paper = run({ learningRate: lr, weightDecay: wd, variant: "paper" }, [2], [[0], [0]]);
    expect(paper[0]).toBeCloseTo(2 * (1 - lr * wd) ** 2, 15);
  });

  it("paper, degeneratedToSgd false: θ is untouched (decay included) for 5 steps, then moves and decays", () => {
    const p = Float64Array.of(1, -2);
    const opt = new RAdam([p], {
      variant: "paper",
      degeneratedToSgd: false,
      weightDecay: 0.1,
      learningRate: 0.01,
    });
    for (let t = 0; t < 5; t++) opt.step([Float64Array.of(0.5, 0)]);
    expect(Array.from(p)).toEqual([1, -2]);
    expect(opt.getState().slots.m![0]![0]).toBeGreaterThan(0);
    opt.step([Float64Array.of(0.5, 0)]);
    expect(p[0]).toBeLessThan(1 - 0.01 * 0.1);
    expect(p[1]).toBe(-2 + -0.1 * 0.01 * -2);
  });

  it("float32 runs stay close to float64 runs", () => {
    for (const variant of VARIANTS) {
      const grads = Array.from({ length: 12 }, (_, t) => Array.from(gradAt(t, 3)));
      const p32 = run({ learningRate: 0.01, variant, weightDecay: 0.01 }, [1, 2, 3], grads, Float32Array);
      const p64 = run({ learningRate: 0.01, variant, weightDecay: 0.01 }, [1, 2, 3], grads);
      for (let i = 0; i < 3; i++) expect(p32[i]).toBeCloseTo(p64[i]!, 6);
    }
  });
});

describe("RAdam: options", () => {
  const cases: [RAdamOptions, RegExp][] = [
    [{ degeneratedToSgd: false }, /degeneratedToSgd false applies only to variant "paper"/],
    [{ degeneratedToSgd: false, variant: "pytorch" }, /degeneratedToSgd false applies only/],
    [{ variant: "tf" as "paper" }, /variant must be one of "pytorch", "paper", got "tf"/],
    [
      { variant: "paper", degeneratedToSgd: 0 as unknown as boolean },
      /degeneratedToSgd must be true or false, got 0/,
    ],
    [{ beta1: 1 }, /beta1 must be a number in \[0, 1\), got 1/],
    [{ beta2: 2 }, /beta2 .* got 2/],
    [{ epsilon: -1 }, /epsilon .* got -1/],
    [{ weightDecay: Infinity }, /weightDecay .* got Infinity/],
    [{ degenerated_to_sgd: false } as RAdamOptions, /unknown option "degenerated_to_sgd"/],
  ];
  it.each(cases)("rejects %j, naming option and value", (options, message) => {
    expect(() => new RAdam([new Float64Array(1)], options)).toThrow(OptionError);
    expect(() => new RAdam([new Float64Array(1)], options)).toThrow(message);
  });

  it("degeneratedToSgd is accepted with variant paper and resolves to true for pytorch", () => {
    expect(
      new RAdam([new Float64Array(1)], { variant: "paper", degeneratedToSgd: false }).options
        .degeneratedToSgd,
    ).toBe(false);
    expect(new RAdam([new Float64Array(1)]).options.degeneratedToSgd).toBe(true);
    // torch's own behaviour, stated explicitly, is accepted.
    expect(new RAdam([new Float64Array(1)], { degeneratedToSgd: true }).options.degeneratedToSgd).toBe(true);
  });

  it("warns when β2 ≤ 2/3 makes the rectified step unreachable, and about epsilon 0", () => {
    new RAdam([new Float64Array(1)], { beta2: 0.5 });
    expect(warnings.join("\n")).toMatch(/beta2 = 0.5 gives ρ∞ = 3 <= 5.*momentum SGD/);
    warnings = [];
    new RAdam([new Float64Array(1)], { beta2: 0.5, variant: "paper", degeneratedToSgd: false });
    expect(warnings.join("\n")).toMatch(/parameters never change/);
    warnings = [];
    new RAdam([new Float64Array(1)], { epsilon: 0 });
    expect(warnings.join("\n")).toMatch(/epsilon = 0/);
    warnings = [];
    new RAdam([new Float64Array(1)], { beta2: 0.7 });
    expect(warnings).toEqual([]);
  });
});

describe("RAdam: state", () => {
  it("getState/setState (through JSON) continues bit-identically across the warm-up boundary", () => {
    for (const variant of VARIANTS) {
      for (const Ctor of [Float64Array, Float32Array]) {
        const opts: RAdamOptions = { learningRate: 0.02, variant, weightDecay: 0.05 };
        const a = Ctor.from([1, -2, 3]);
        const optA = new RAdam([a], opts);
        for (let t = 0; t < 4; t++) optA.step([Ctor.from(gradAt(t, 3))]);
        const b = Ctor.from(a);
        const optB = new RAdam([b], opts);
        optB.setState(JSON.parse(JSON.stringify(optA.getState())));
        for (let t = 4; t < 9; t++) {
          optA.step([Ctor.from(gradAt(t, 3))]);
          optB.step([Ctor.from(gradAt(t, 3))]);
        }
        expect(Array.from(b)).toEqual(Array.from(a));
        expect(optB.getState()).toEqual(optA.getState());
      }
    }
  });
});
