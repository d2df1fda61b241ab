import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Fromage, OptionError } from "../../src/core/index.js";
import { torchNormFloat32, torchNormFloat64 } from "../../src/core/optimizers/fromage.js";

/** torch's norms (scripts/torch-norms.py at the repository root → test/fixtures/torch-norms/torch-norms.json). */
interface NormCase {
  dtype: "float32" | "float64";
  shape: number[];
  kind: string;
  x: number[];
  norm: number | "Infinity";
}
const torchNorms = (
  JSON.parse(readFileSync(new URL("../fixtures/torch-norms/torch-norms.json", import.meta.url), "utf8")) as {
    cases: NormCase[];
  }
).cases;

const norm = (a: ArrayLike<number>) => Math.sqrt(Array.from(a).reduce((s, x) => s + x * x, 0));

/** A vector of finite doubles with a norm well away from 0 (so the relative step is well defined). */
const vector = (n: number) =>
  fc
    .array(fc.double({ min: -100, max: 100, noNaN: true }), { minLength: n, maxLength: n })
    .filter((v) => norm(v) > 1e-3);

describe("Fromage", () => {
  it("defaults the learning rate to 0.01 (the paper's CIFAR setting) and has no state slots", () => {
    const opt = new Fromage([new Float64Array(2)]);
    expect(opt.options.learningRate).toBe(0.01);
    expect(opt.getState().slots).toEqual({});
  });

  it("takes the hand-derived step: move by lr·‖θ‖ along −g/‖g‖, then divide by √(1 + lr²)", () => {
    const w = new Float64Array([3, 4]);
    new Fromage([w], { learningRate: 0.01 }).step([new Float64Array([2, 0])]);
    const shrink = Math.sqrt(1 + 0.01 * 0.01);
    expect(w[0]).toBeCloseTo((3 - 0.01 * 5) / shrink, 15);
    expect(w[1]).toBeCloseTo(4 / shrink, 15);
  });

  it("moves every tensor by lr·‖θ‖ before the shrink, whatever the gradient's size (property)", () => {
    fc.assert(
      fc.property(vector(5), vector(5), fc.double({ min: 1e-4, max: 0.5, noNaN: true }), (theta, g, lr) => {
        const w = Float64Array.from(theta);
        new Fromage([w], { learningRate: lr }).step([Float64Array.from(g)]);
        const shrink = Math.sqrt(1 + lr * lr);
        const moved = norm(theta.map((x, i) => w[i]! * shrink - x));
        expect(Math.abs(moved - lr * norm(theta))).toBeLessThanOrEqual(1e-12 * norm(theta));
      }),
      { numRuns: 100 },
    );
  });

  it("is invariant to the gradient's scale and equivariant to θ's scale (property)", () => {
    fc.assert(
      fc.property(
        vector(4),
        vector(4),
        fc.double({ min: 1e-6, max: 1e6, noNaN: true }),
        fc.double({ min: 1e-3, max: 1e3, noNaN: true }),
        (theta, g, gScale, thetaScale) => {
          const a = Float64Array.from(theta);
          const b = Float64Array.from(theta);
          const c = Float64Array.from(theta, (x) => x * thetaScale);
          new Fromage([a]).step([Float64Array.from(g)]);
          new Fromage([b]).step([Float64Array.from(g, (x) => x * gScale)]);
          new Fromage([c]).step([Float64Array.from(g)]);
          const scale = norm(theta);
          for (let i = 0; i < 4; i++) {
            expect(Math.abs(b[i]! - a[i]!)).toBeLessThanOrEqual(1e-13 * scale);
            expect(Math.abs(c[i]! / thetaScale - a[i]!)).toBeLessThanOrEqual(1e-13 * scale);
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it("is bit-identical under power-of-two gradient scaling", () => {
    const a = new Float32Array([0.3, -1.7, 2.2]);
    const b = a.slice();
    new Fromage([a], { learningRate: 0.1 }).step([new Float32Array([0.1, 0.2, -0.3])]);
    new Fromage([b], { learningRate: 0.1 }).step([new Float32Array([0.1 * 1024, 0.2 * 1024, -0.3 * 1024])]);
    expect(b).toEqual(a);
  });

  it("uses per-tensor norms", () => {
    const small = new Float64Array([0.03, 0.04]);
    const big = new Float64Array([300, 400]);
    new Fromage([small, big], { learningRate: 0.1 }).step([
      new Float64Array([1, 0]),
      new Float64Array([1, 0]),
    ]);
    const shrink = Math.sqrt(1.01);
    expect(small[0]).toBeCloseTo((0.03 - 0.1 * 0.05) / shrink, 15);
    expect(big[0]).toBeCloseTo((300 - 0.1 * 500) / shrink, 10);
  });

  it("decays zero-gradient coordinates geometrically (README: 0.125 → 0.0975 in 50 steps at lr 0.1)", () => {
    const w = new Float64Array([0.125, 1]);
    const opt = new Fromage([w], { learningRate: 0.1 });
    for (let t = 0; t < 50; t++) opt.step([new Float64Array([0, 1e-3])]);
    expect(w[0]).toBeCloseTo(0.125 / Math.sqrt(1.01) ** 50, 15);
    expect(w[0]).toBeCloseTo(0.0975, 4);
  });

  it("falls back to θ − lr·g when the tensor is 0", () => {
    const w = new Float64Array([0, 0]);
    new Fromage([w], { learningRate: 0.1 }).step([new Float64Array([2, -1])]);
    const shrink = Math.sqrt(1.01);
    expect(Array.from(w)).toEqual([-0.2 / shrink, 0.1 / shrink]);
  });

  it("rounds √(1 + lr²) to float32 for float32 tensors, as the reference does", () => {
    const w = new Float32Array([1]);
    const opt = new Fromage([w], { learningRate: 0.1 });
    for (let t = 0; t < 200; t++) opt.step([new Float32Array([0])]);
    let expected = Math.fround(1);
    const shrink = Math.fround(Math.sqrt(1.01));
    for (let t = 0; t < 200; t++) expected = Math.fround(expected / shrink);
    expect(w[0]).toBe(expected);
  });

  it("follows a learning-rate schedule", () => {
    const w = new Float64Array([1, 0]);
    const opt = new Fromage([w], { learningRate: (step) => (step === 0 ? 0 : 0.1) });
    opt.step([new Float64Array([0, 1])]);
    expect(Array.from(w)).toEqual([1, 0]);
    opt.step([new Float64Array([0, 1])]);
    expect(w[1]).toBeCloseTo(-0.1 / Math.sqrt(1.01), 15);
  });

  it("rejects bad options with a message naming the option and the value", () => {
    const p = [new Float64Array(1)];
    expect(() => new Fromage(p, { learningRate: -0.01 })).toThrow(OptionError);
    expect(() => new Fromage(p, { learningRate: -0.01 })).toThrow(/learningRate.*-0\.01/);
    expect(() => new Fromage(p, { learningRate: "0.1" as never })).toThrow(/learningRate.*"0\.1"/);
    expect(() => new Fromage(p, { lr: 0.1 } as never)).toThrow(/"lr"/);
    expect(() => new Fromage(p, { nonFinite: "ignore" as never })).toThrow(/nonFinite.*"ignore"/);
  });

  it("computes the norms as torch does, bit for bit: float32 in torch's order with fused multiply-adds, float64 fused", () => {
    expect(torchNorms.length).toBe(2 * 110);
    const off: string[] = [];
    for (const c of torchNorms) {
      const got =
        c.dtype === "float32"
          ? torchNormFloat32(Float32Array.from(c.x))
          : torchNormFloat64(Float64Array.from(c.x));
      const want = c.norm === "Infinity" ? Infinity : c.norm;
      if (!Object.is(got, want))
        off.push(`${c.dtype} ${c.kind} [${c.shape.join("x")}]: ${got} vs torch ${want}`);
    }
    expect(off).toEqual([]);
    // The float32 cases include norms that are 0, +Infinity and subnormal-limited where the exact norm is not.
    const f32 = torchNorms.filter((c) => c.dtype === "float32");
    const exact = (x: number[]) => Math.hypot(...x);
    expect(f32.some((c) => c.norm === 0 && exact(c.x) > 0)).toBe(true);
    expect(f32.some((c) => c.norm === "Infinity" && Number.isFinite(exact(c.x)))).toBe(true);
    expect(
      f32.some((c) => typeof c.norm === "number" && c.norm > 0 && Math.abs(c.norm / exact(c.x) - 1) > 1e-4),
    ).toBe(true);
  });

  it("float32: a gradient whose float32 norm is 0 takes the reference's plain branch θ − α·g", () => {
    // Reference (Fromage.py, torch 1.13): ‖g‖ = 0 in float32 (the squares of 1e-24 round to 0), so
    // p.add_(-lr, g): θ only shrinks. Values printed by torch.
    const w = new Float32Array([3, 4]);
    new Fromage([w], { learningRate: 0.1 }).step([new Float32Array([1e-24, -2e-24])]);
    expect(Array.from(w)).toEqual([2.9851114749908447, 3.9801485538482666]);
    // float64: the norm is 2.2e-24, the step moves θ by 0.1·‖θ‖ along −g/‖g‖ (torch's values).
    const d = new Float64Array([3, 4]);
    new Fromage([d], { learningRate: 0.1 }).step([new Float64Array([1e-24, -2e-24])]);
    expect(Array.from(d)).toEqual([2.762614490884975, 4.425142920329942]);
  });

  it("float32: a gradient whose float32 norm overflows gives the ratio 0, so θ only shrinks (as the reference)", () => {
    const w = new Float32Array([3, 4]);
    new Fromage([w], { learningRate: 0.1 }).step([new Float32Array([2e19, 1])]);
    expect(Array.from(w)).toEqual([2.9851114749908447, 3.9801485538482666]);
    const d = new Float64Array([3, 4]);
    new Fromage([d], { learningRate: 0.1 }).step([new Float64Array([2e19, 1])]);
    expect(Array.from(d)).toEqual([2.487592975524973, 3.980148760839957]);
  });

  it("continues bit-identically after getState / setState through JSON", () => {
    const grads = (t: number) => [new Float32Array([Math.sin(t), -0.3]), new Float32Array([Math.cos(t)])];
    const a = [new Float32Array([1, 2]), new Float32Array([-1])];
    const optA = new Fromage(a, { learningRate: (s) => 0.1 / (1 + s) });
    for (let t = 0; t < 5; t++) optA.step(grads(t));
    const b = a.map((p) => p.slice());
    const optB = new Fromage(b, { learningRate: (s) => 0.1 / (1 + s) });
    optB.setState(JSON.parse(JSON.stringify(optA.getState())));
    expect(optB.iterations).toBe(5);
    for (let t = 5; t < 10; t++) {
      optA.step(grads(t));
      optB.step(grads(t));
    }
    expect(b).toEqual(a);
  });
});
