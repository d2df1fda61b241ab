import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  AdaBelief,
  adabeliefPresets,
  setWarningHandler,
  type AdaBeliefOptions,
  type FloatArray,
} from "../../src/core/index.js";
import { adabeliefRule, rho } from "../../src/core/optimizers/adabelief.js";
import {
  adabeliefAdaptiveLoop,
  adabeliefAdaptiveLoopF32,
  adabeliefLoop,
} from "../../src/core/optimizers/adabelief.js";

let warnings: string[] = [];
let restore: ReturnType<typeof setWarningHandler>;
beforeEach(() => {
  warnings = [];
  restore = setWarningHandler((m) => warnings.push(m));
});
afterEach(() => {
  setWarningHandler(restore);
});

const finiteGrad = fc.double({ min: -1e3, max: 1e3, noNaN: true, noDefaultInfinity: true });
const nonTinyGrad = finiteGrad.filter((g) => Math.abs(g) > 1e-3);

function run(
  opts: AdaBeliefOptions,
  start: number[],
  grads: number[][],
  Ctor: Float32ArrayConstructor | Float64ArrayConstructor = Float64Array,
): FloatArray {
  const p = Ctor.from(start);
  const opt = new AdaBelief([p], opts);
  for (const g of grads) opt.step([Ctor.from(g)]);
  return p;
}

describe("AdaBelief: hand-derived steps", () => {
  it("first non-rectified step is α/β1 per coordinate when |g| is far above the ε floor", () => {
    fc.assert(
      fc.property(fc.array(nonTinyGrad, { minLength: 1, maxLength: 8 }), (g) => {
        const p = run(
          { rectify: false },
          g.map(() => 0),
          [g],
        );
        g.forEach((gi, i) => expect(p[i]).toBeCloseTo((-Math.sign(gi) * 1e-3) / 0.9, 9));
      }),
    );
  });

  it("first rectified step is the bias-corrected SGD step −α·g (ρ_1 < 5)", () => {
    const p = run({}, [1, 2], [[3, -4]]);
    expect(p[0]).toBeCloseTo(1 - 1e-3 * 3, 14);
    expect(p[1]).toBeCloseTo(2 + 1e-3 * 4, 14);
  });

  it("rectification switches on at step 6 for β2 = 0.999 (ρ_5 = 4.996, ρ_6 = 5.994)", () => {
    expect(rho(5, 0.999).rhoT).toBeCloseTo(4.996, 3);
    expect(rho(6, 0.999).rhoT).toBeCloseTo(5.994, 3);
    const o = adabeliefRule.resolve({});
    expect(adabeliefRule.coefficients(5, 1e-3, o).mode).toBe(1);
    expect(adabeliefRule.coefficients(6, 1e-3, o).mode).toBe(0);
    expect(adabeliefRule.coefficients(6, 1e-3, adabeliefRule.resolve({ smaThreshold: 6 })).mode).toBe(1);
  });

  it("degeneratedToSgd: false leaves θ untouched during warm-up but still accumulates m and s", () => {
    const p = Float64Array.of(1);
    const opt = new AdaBelief([p], { degeneratedToSgd: false });
    for (let t = 0; t < 5; t++) opt.step([Float64Array.of(0.5)]);
    expect(p[0]).toBe(1);
    expect(opt.getState().slots.m![0]![0]).toBeGreaterThan(0);
    opt.step([Float64Array.of(0.5)]);
    expect(p[0]).toBeLessThan(1);
  });

  it("ε accumulates in s: with a zero gradient s_t = ε(1 − β2^t)/(1 − β2)", () => {
    const p = Float64Array.of(0);
    const opt = new AdaBelief([p], { epsilon: 1e-8, rectify: false });
    for (let t = 1; t <= 3; t++) {
      opt.step([Float64Array.of(0)]);
      expect(opt.getState().slots.s![0]![0]).toBeCloseTo((1e-8 * (1 - 0.999 ** t)) / (1 - 0.999), 20);
    }
  });

  it("fixedDecay shrinks θ by (1 − λ) per step independent of α", () => {
    const p = run({ weightDecay: 0.1, fixedDecay: true, learningRate: 0 }, [1], [[0], [0]]);
    expect(p[0]).toBeCloseTo(0.81, 15);
  });
});

describe("AdaBelief: properties", () => {
  const gradSeq = fc.array(fc.array(nonTinyGrad, { minLength: 3, maxLength: 3 }), {
    minLength: 1,
    maxLength: 12,
  });

  it("is invariant to the gradient's scale when ε = 0 (bit for bit with powers of two)", () => {
    fc.assert(
      fc.property(gradSeq, fc.integer({ min: -20, max: 20 }), fc.boolean(), (grads, k, rectify) => {
        const c = 2 ** k;
        const a = run({ epsilon: 0, rectify, degeneratedToSgd: false }, [0.1, 0.2, 0.3], grads);
        const b = run(
          { epsilon: 0, rectify, degeneratedToSgd: false },
          [0.1, 0.2, 0.3],
          grads.map((g) => g.map((x) => x * c)),
        );
        expect(Array.from(b)).toEqual(Array.from(a));
      }),
    );
  });

  it("keeps s positive (ε > 0)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(finiteGrad, { minLength: 2, maxLength: 2 }), { minLength: 1, maxLength: 20 }),
        (grads) => {
          const p = Float32Array.of(0, 0);
          const opt = new AdaBelief([p]);
          for (const g of grads) opt.step([Float32Array.from(g)]);
          for (const v of opt.getState().slots.s![0]!) expect(v).toBeGreaterThan(0);
        },
      ),
    );
  });

  it("zero weight decay is a no-op, decoupled or L2", () => {
    fc.assert(
      fc.property(gradSeq, fc.boolean(), (grads, rectify) => {
        const plain = run({ rectify, weightDecay: 0 }, [1, -2, 3], grads);
        for (const weightDecouple of [true, false]) {
          expect(Array.from(run({ rectify, weightDecay: 0, weightDecouple }, [1, -2, 3], grads))).toEqual(
            Array.from(plain),
          );
        }
      }),
    );
  });

  it("the two decoupled-decay forms agree: fixedDecay λ equals α-scaled decay with λ/α", () => {
    fc.assert(
      fc.property(gradSeq, fc.double({ min: 1e-4, max: 0.1, noNaN: true }), (grads, lambda) => {
        const lr = 1e-2;
        const fixed = run({ learningRate: lr, weightDecay: lambda, fixedDecay: true }, [1, -2, 3], grads);
        const scaled = run({ learningRate: lr, weightDecay: lambda / lr }, [1, -2, 3], grads);
        fixed.forEach((v, i) =>
          expect(Math.abs(v - scaled[i]!)).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(v))),
        );
      }),
    );
  });

  it("getState/setState (through JSON) continues bit-identically", () => {
    fc.assert(
      fc.property(gradSeq, gradSeq, fc.boolean(), fc.boolean(), (first, second, amsgrad, f32) => {
        const Ctor = f32 ? Float32Array : Float64Array;
        const opts = { amsgrad, rectify: !amsgrad, weightDecay: 1e-3 };
        const a = Ctor.from([1, 2, 3]);
        const optA = new AdaBelief([a], opts);
        for (const g of first) optA.step([Ctor.from(g)]);
        const saved = JSON.parse(JSON.stringify(optA.getState()));
        const b = Ctor.from(a);
        const optB = new AdaBelief([b], opts);
        optB.setState(saved);
        expect(optB.getState()).toEqual(optA.getState());
        for (const g of second) {
          optA.step([Ctor.from(g)]);
          optB.step([Ctor.from(g)]);
        }
        expect(Array.from(b)).toEqual(Array.from(a));
        expect(optB.getState()).toEqual(optA.getState());
      }),
    );
  });

  it("float32 and float64 runs agree to float32 precision", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.array(fc.double({ min: -10, max: 10, noNaN: true }).map(Math.fround), {
            minLength: 4,
            maxLength: 4,
          }),
          {
            minLength: 1,
            maxLength: 30,
          },
        ),
        fc.boolean(),
        (grads, rectify) => {
          const start = [0.5, -0.25, 1, 2];
          const a = run({ rectify, epsilon: 1e-8 }, start, grads, Float32Array);
          const b = run({ rectify, epsilon: 1e-8 }, start, grads, Float64Array);
          a.forEach((v, i) => expect(Math.abs(v - b[i]!)).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(b[i]!))));
        },
      ),
    );
  });

  it("float32 parameters give float32 results: parameters and state hold float32 values", () => {
    const p = Float32Array.of(0.1, 0.2);
    const opt = new AdaBelief([p], { rectify: false, amsgrad: true });
    for (const g of [
      [0.3, 0.7],
      [0.1, -0.2],
      [1e-3, 5],
    ])
      opt.step([Float32Array.from(g)]);
    const state = opt.getState();
    expect(state.dtype).toBe("float32");
    const values = [...(Object.values(state.slots).flat(2) as number[]), ...Array.from(p)];
    expect(values.length).toBe(8);
    // Every value is exactly a float32 and the run is not trivially zero.
    for (const v of values) expect(Math.fround(v)).toBe(v);
    expect(values.filter((v) => v !== 0).length).toBeGreaterThanOrEqual(6);
  });
});

describe("AdaBelief: options", () => {
  it("has the official 0.2.1 defaults", () => {
    const o = new AdaBelief([new Float64Array(1)]).options;
    expect(o).toMatchObject({
      learningRate: 1e-3,
      beta1: 0.9,
      beta2: 0.999,
      epsilon: 1e-16,
      weightDecay: 0,
      weightDecouple: true,
      fixedDecay: false,
      rectify: true,
      degeneratedToSgd: true,
      amsgrad: false,
      smaThreshold: 5,
      nonFinite: "throw",
    });
    expect(warnings).toEqual([]);
  });

  it("accepts the public shape exactly as written", () => {
    const w = new Float32Array([1, 2]);
    const b = new Float32Array([0]);
    const opt = new AdaBelief([w, b], {
      learningRate: 1e-3,
      beta1: 0.9,
      beta2: 0.999,
      epsilon: 1e-16,
      weightDecay: 0,
      weightDecouple: true,
      fixedDecay: false,
      rectify: true,
      degeneratedToSgd: true,
      amsgrad: false,
    });
    opt.step([new Float32Array([0.1, 0.2]), new Float32Array([0.3])]);
    const other = new AdaBelief([Float32Array.from(w), Float32Array.from(b)]);
    other.setState(opt.getState());
    expect(other.iterations).toBe(1);
  });

  it("presets are the authors' table (PAPER.md), frozen, and construct without warnings", () => {
    // task: lr, β1, β2, ε, weight decay, decoupled, rectify
    const table: Record<string, [number, number, number, number, number, boolean, boolean]> = {
      paper: [1e-3, 0.9, 0.999, 1e-8, 0, false, false],
      cifar: [1e-3, 0.9, 0.999, 1e-8, 5e-4, false, false],
      imagenet: [1e-3, 0.9, 0.999, 1e-8, 1e-2, true, false],
      objectDetection: [1e-4, 0.9, 0.999, 1e-8, 1e-4, false, false],
      lstm1Layer: [1e-3, 0.9, 0.999, 1e-16, 1.2e-6, false, false],
      lstmMultiLayer: [1e-2, 0.9, 0.999, 1e-12, 1.2e-6, false, false],
      ganSmall: [2e-4, 0.5, 0.999, 1e-12, 0, false, false],
      snGan: [2e-4, 0.5, 0.999, 1e-16, 0, false, true],
      transformer: [5e-4, 0.9, 0.999, 1e-16, 1e-4, true, true],
      reinforcementLearning: [1e-4, 0.9, 0.999, 1e-12, 0, false, true],
    };
    expect(Object.keys(adabeliefPresets).sort()).toEqual(Object.keys(table).sort());
    for (const [
      name,
      [learningRate, beta1, beta2, epsilon, weightDecay, weightDecouple, rectify],
    ] of Object.entries(table)) {
      const preset = adabeliefPresets[name as keyof typeof adabeliefPresets];
      expect(preset, name).toEqual({
        learningRate,
        beta1,
        beta2,
        epsilon,
        weightDecay,
        weightDecouple,
        rectify,
        amsgrad: false,
        fixedDecay: false,
      });
      expect(Object.isFrozen(preset), name).toBe(true);
    }
    expect(() => {
      (adabeliefPresets.cifar as { learningRate: number }).learningRate = 5;
    }).toThrow(TypeError);
    for (const [name, preset] of Object.entries(adabeliefPresets)) {
      const opt = new AdaBelief([new Float64Array(2)], preset);
      expect(opt.options.learningRate, name).toBe(preset.learningRate);
    }
    expect(adabeliefPresets.paper).toMatchObject({ epsilon: 1e-8, weightDecouple: false, rectify: false });
    expect(warnings).toEqual([]);
  });

  it("warns where a legal configuration is silently useless", () => {
    new AdaBelief([new Float64Array(1)], { amsgrad: true });
    expect(warnings.join("\n")).toMatch(/amsgrad has no effect while rectify is true/);
    warnings = [];
    new AdaBelief([new Float64Array(1)], { amsgrad: true, rectify: false });
    expect(warnings).toEqual([]);
    new AdaBelief([new Float64Array(1)], { beta1: 0 });
    expect(warnings.join("\n")).toMatch(/beta1 = 0/);
    warnings = [];
    new AdaBelief([new Float64Array(1)], { epsilon: 0 });
    expect(warnings.join("\n")).toMatch(/epsilon = 0 removes the denominator's floor/);
    warnings = [];
    new AdaBelief([new Float64Array(1)], { weightDecay: 2, fixedDecay: true });
    expect(warnings.join("\n")).toMatch(/decoupled decay factor 1 − weightDecay = -1 is <= 0/);
    warnings = [];
    new AdaBelief([new Float64Array(1)], { rectify: false, smaThreshold: 6 });
    expect(warnings.join("\n")).toMatch(/smaThreshold has no effect when rectify is false/);
  });

  it("setState restores a state written with other options but warns, naming them", () => {
    const a = new AdaBelief([Float64Array.of(1)], { rectify: false });
    a.step([Float64Array.of(1)]);
    const b = new AdaBelief([Float64Array.of(1)]);
    b.setState(a.getState());
    expect(b.iterations).toBe(1);
    expect(warnings.join("\n")).toMatch(/written with rectify=false; this optimizer has rectify=true/);
  });

  it("amsgrad with rectify matches the default run bit for bit (as the official code)", () => {
    const grads = [
      [1, -2],
      [0.5, 0.25],
      [3, 1],
      [-1, -1],
      [2, 2],
      [0.1, 0.3],
      [1, 1],
    ];
    expect(Array.from(run({ amsgrad: true }, [0, 0], grads))).toEqual(Array.from(run({}, [0, 0], grads)));
  });

  it("accepts a schedule as learning rate, called with the number of completed steps", () => {
    const seen: number[] = [];
    const p = Float64Array.of(0);
    const opt = new AdaBelief([p], { learningRate: (step) => (seen.push(step), 1e-3) });
    opt.step([Float64Array.of(1)]);
    opt.step([Float64Array.of(1)]);
    expect(seen).toEqual([0, 1]);
  });
});

describe("AdaBelief: the specialised adaptive loops", () => {
  it("are bit-identical to the general loop, in float32 and float64", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -50, max: 50, noNaN: true }), { minLength: 1, maxLength: 9 }),
        fc.integer({ min: 6, max: 200 }),
        fc.boolean(),
        fc.boolean(),
        (g, t, rectify, f32) => {
          const Ctor = f32 ? Float32Array : Float64Array;
          const o = adabeliefRule.resolve({ rectify, epsilon: 1e-12 });
          const c = adabeliefRule.coefficients(t, 1e-2, o);
          expect(c.mode).toBe(0);
          const make = () => [
            Ctor.from(g.map((x) => x / 3)),
            Ctor.from(g.map((x) => x / 7)),
            Ctor.from(g.map((x) => (x * x) / 11)),
          ];
          const [ta, ma, sa] = make();
          const [tb, mb, sb] = make();
          const [tc, mc, sc] = make();
          adabeliefAdaptiveLoop(ta!, Ctor.from(g), ma!, sa!, c);
          adabeliefLoop(tb!, Ctor.from(g), [mb!, sb!], c);
          // What the rule's update runs: the float32 loop for Float32Arrays, the generic one otherwise.
          adabeliefRule.update(tc!, Ctor.from(g), [mc!, sc!], c);
          const general = [Array.from(tb!), Array.from(mb!), Array.from(sb!)];
          expect([Array.from(ta!), Array.from(ma!), Array.from(sa!)]).toEqual(general);
          expect([Array.from(tc!), Array.from(mc!), Array.from(sc!)]).toEqual(general);
          if (f32) {
            const [td, md, sd] = make() as Float32Array[];
            adabeliefAdaptiveLoopF32(td!, Float32Array.from(g), md!, sd!, c);
            expect([Array.from(td!), Array.from(md!), Array.from(sd!)]).toEqual(general);
          }
        },
      ),
    );
  });
});
