import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { setWarningHandler } from "../../src/core/index.js";
import {
  AdaBeliefMode,
  adabeliefRule,
  type AdaBeliefCoefficients,
  type AdaBeliefOptions,
} from "../../src/core/optimizers/adabelief.js";
import {
  adamRule,
  adamwRule,
  type AdamCoefficients,
  type AdamOptions,
} from "../../src/core/optimizers/adam.js";
import {
  SIMD_KERNELS_BASE64,
  SIMD_KERNELS_SHARED_BASE64,
  SIMD_PROBE_BYTES,
} from "../../src/tfjs/wasm/simd-bytes.js";
import { instantiateSimdKernels, simdSupported, type SimdKernels } from "../../src/tfjs/wasm/simd.js";
import { SCAN_ALONE, scanBatched } from "../../src/tfjs/wasm/fused.js";
import { compileWat, memoryImport, PROBE_WAT, simdWat, WAT_PATH } from "../../scripts/build-wasm.js";

setWarningHandler(() => {});

const root = fileURLToPath(new URL("../../", import.meta.url));
const fr = Math.fround;

/** Deterministic PRNG (mulberry32) so failures reproduce. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A value spread over several orders of magnitude, with some exact zeros. */
function randomValue(r: () => number): number {
  if (r() < 0.03) return 0;
  return (r() - 0.5) * 10 ** (-3 + 4 * r());
}

function newKernels(pages = 8): { memory: WebAssembly.Memory; k: SimdKernels } {
  const memory = new WebAssembly.Memory({ initial: pages });
  const k = instantiateSimdKernels(memory);
  if (!k) throw new Error("SIMD kernels did not instantiate");
  return { memory, k };
}

/**
 * Byte offsets of `count` arrays of n floats, one after the other with random gaps of 0–3 floats, so the
 * arrays are 4-byte but not necessarily 16-byte aligned (the kernels use unaligned vector loads).
 */
function layout(n: number, count: number, r: () => number, start = 64): number[] {
  const out: number[] = [];
  let p = start + 4 * Math.floor(r() * 4);
  for (let i = 0; i < count; i++) {
    out.push(p);
    p += 4 * n + 4 * Math.floor(r() * 4);
  }
  return out;
}

function view(memory: WebAssembly.Memory, ptr: number, n: number): Float32Array {
  return new Float32Array(memory.buffer, ptr, n);
}

/** Same value, NaN equal to NaN, −0 distinct from +0. */
function sameBits(a: number, b: number): boolean {
  return Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));
}

const SIZES = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 31, 33, 100, 257, 1000, 4099];

// ---------------------------------------------------------------------------------------------------------
// Exact float32 emulation of the kernels' arithmetic (every operation rounded with Math.fround; for +, −, ×,
// ÷ and √ of float32 operands, rounding the double result to float32 gives the correctly rounded float32
// result, so this matches WebAssembly's f32 / f32x4 operations bit for bit, NaN payloads aside).
// ---------------------------------------------------------------------------------------------------------

function emulateAdaBelief(
  th: Float32Array,
  g: Float32Array,
  m: Float32Array,
  s: Float32Array,
  x: Float32Array | undefined,
  c: AdaBeliefCoefficients,
): void {
  const decay = fr(c.decay),
    l2 = fr(c.l2),
    b1 = fr(c.beta1),
    ob1 = fr(c.oneMinusBeta1);
  const b2 = fr(c.beta2),
    ob2 = fr(c.oneMinusBeta2),
    eps = fr(c.epsilon),
    step = fr(c.stepSize);
  const inv = fr(1 / c.sqrtBc2);
  for (let i = 0; i < th.length; i++) {
    const t = fr(th[i]! * decay);
    const gr = c.l2 !== 0 ? fr(g[i]! + fr(l2 * t)) : g[i]!;
    const mm = fr(fr(b1 * m[i]!) + fr(ob1 * gr));
    m[i] = mm;
    const r = fr(gr - mm);
    const ss = fr(fr(fr(b2 * s[i]!) + fr(fr(ob2 * r) * r)) + eps);
    s[i] = ss;
    let d = ss;
    if (x) {
      const xx = Math.max(x[i]!, ss); // f32x4.max: NaN if either is NaN
      x[i] = xx;
      if (c.useMax) d = xx;
    }
    if (c.mode === AdaBeliefMode.Adaptive)
      th[i] = fr(t + fr(fr(step * mm) / fr(fr(fr(Math.sqrt(d)) * inv) + eps)));
    else if (c.mode === AdaBeliefMode.Sgd) th[i] = fr(t + fr(step * mm));
    else th[i] = t;
  }
}

function emulateAdam(
  th: Float32Array,
  g: Float32Array,
  m: Float32Array,
  v: Float32Array,
  x: Float32Array | undefined,
  c: AdamCoefficients,
): void {
  const decay = fr(c.decay),
    l2 = fr(c.l2),
    b1 = fr(c.beta1),
    ob1 = fr(c.oneMinusBeta1);
  const b2 = fr(c.beta2),
    ob2 = fr(c.oneMinusBeta2),
    eps = fr(c.epsilon),
    step = fr(c.stepSize);
  const inv = fr(1 / c.sqrtBc2);
  for (let i = 0; i < th.length; i++) {
    const t = fr(th[i]! * decay);
    const gr = c.l2 !== 0 ? fr(g[i]! + fr(l2 * t)) : g[i]!;
    const mm = fr(fr(b1 * m[i]!) + fr(ob1 * gr));
    m[i] = mm;
    let vv = fr(fr(b2 * v[i]!) + fr(fr(ob2 * gr) * gr));
    v[i] = vv;
    if (x) {
      vv = Math.max(x[i]!, vv); // f32x4.max: NaN if either is NaN
      x[i] = vv;
    }
    th[i] = fr(t + fr(fr(step * mm) / fr(fr(fr(Math.sqrt(vv)) * inv) + eps)));
  }
}

// ---------------------------------------------------------------------------------------------------------
// Tolerances against the core rule.
//
// The core evaluates each element in double and rounds to float32 when it stores m, s, θ; the kernel rounds
// every operation to float32 (and multiplies by fround(1/√(1−β2^t)) where the core divides by √(1−β2^t),
// and uses float32 coefficients). Each stored value therefore differs by a few float32 rounding errors
// (2^-24 ≈ 6e-8 each) *of the terms it is made of* — not of the result, since g − m can cancel. We allow
// RTOL = 1e-6 (≈ 16 roundings) times the sum of the magnitudes of the terms, and propagate the allowed error
// of m and s into r = g − m and into the denominator. Starting every step from the same state makes this a
// per-step bound; it does not grow with the step count.
// ---------------------------------------------------------------------------------------------------------

const RTOL = 1e-6;

interface Bounds {
  m: number;
  s: number;
  theta: number;
}

/** Allowed |kernel − core| for one element of an AdaBelief step, from the state before the step. */
function adabeliefBounds(
  th0: number,
  g0: number,
  m0: number,
  s0: number,
  dCore: number,
  mCore: number,
  c: AdaBeliefCoefficients,
): Bounds {
  const thd = th0 * c.decay;
  const gScale = Math.abs(g0) + Math.abs(c.l2 * thd);
  const gCore = c.l2 !== 0 ? g0 + c.l2 * fr(thd) : g0;
  const em = RTOL * (c.beta1 * Math.abs(m0) + c.oneMinusBeta1 * gScale);
  const er = em + RTOL * gScale;
  const r = Math.abs(gCore - mCore);
  const es =
    RTOL * (c.beta2 * s0 + c.oneMinusBeta2 * r * r + c.epsilon) + c.oneMinusBeta2 * (2 * r * er + er * er);
  let et: number;
  const stepM = Math.abs(c.stepSize * mCore);
  if (c.mode === AdaBeliefMode.None) et = RTOL * Math.abs(thd);
  else if (c.mode === AdaBeliefMode.Sgd) et = RTOL * (Math.abs(thd) + stepM) + Math.abs(c.stepSize) * em;
  else {
    const den = Math.sqrt(dCore) / c.sqrtBc2 + c.epsilon;
    // √ is monotone: the kernel's denominator lies in [√(d − es), √(d + es)]/sqrtBc2 + ε, widened by RTOL.
    const denLo = (Math.sqrt(Math.max(0, dCore - es)) / c.sqrtBc2 + c.epsilon) * (1 - RTOL);
    const upd = stepM / den;
    const updHi = (Math.abs(c.stepSize) * (Math.abs(mCore) + em)) / denLo;
    et = RTOL * (Math.abs(thd) + upd) + (updHi - upd) * (1 + RTOL);
  }
  return { m: em, s: es, theta: et };
}

/** Allowed |kernel − core| for one element of an Adam step. */
function adamBounds(
  th0: number,
  g0: number,
  m0: number,
  v0: number,
  dCore: number,
  mCore: number,
  c: AdamCoefficients,
): Bounds {
  const thd = th0 * c.decay;
  const gScale = Math.abs(g0) + Math.abs(c.l2 * thd);
  const em = RTOL * (c.beta1 * Math.abs(m0) + c.oneMinusBeta1 * gScale);
  const eg = RTOL * gScale;
  const es =
    RTOL * (c.beta2 * v0 + c.oneMinusBeta2 * gScale * gScale) + c.oneMinusBeta2 * (2 * gScale * eg + eg * eg);
  const den = Math.sqrt(dCore) / c.sqrtBc2 + c.epsilon;
  const denLo = (Math.sqrt(Math.max(0, dCore - es)) / c.sqrtBc2 + c.epsilon) * (1 - RTOL);
  const stepM = Math.abs(c.stepSize * mCore);
  const upd = stepM / den;
  const updHi = (Math.abs(c.stepSize) * (Math.abs(mCore) + em)) / denLo;
  return { m: em, s: es, theta: RTOL * (Math.abs(thd) + upd) + (updHi - upd) * (1 + RTOL) };
}

function expectWithin(
  what: string,
  got: Float32Array,
  want: Float32Array,
  bound: (i: number) => number,
): void {
  for (let i = 0; i < want.length; i++) {
    if (!Number.isFinite(want[i]!)) {
      // e.g. 0/0 with epsilon = 0: the core's NaN or infinity must be the kernel's too.
      if (kind(got[i]!) !== kind(want[i]!))
        throw new Error(`${what}[${i}]: kernel ${got[i]} vs core ${want[i]}`);
      continue;
    }
    const b = bound(i);
    const diff = Math.abs(got[i]! - want[i]!);
    if (!(diff <= b)) {
      throw new Error(
        `${what}[${i}] of ${want.length}: kernel ${got[i]} vs core ${want[i]}, |diff| ${diff} > ${b}`,
      );
    }
  }
}

function expectSameBits(what: string, got: Float32Array, want: Float32Array): void {
  for (let i = 0; i < want.length; i++) {
    if (!sameBits(got[i]!, want[i]!))
      throw new Error(`${what}[${i}] of ${want.length}: kernel ${got[i]} vs ${want[i]}`);
  }
}

/** Non-finite pattern: NaN, +Infinity, −Infinity, or finite. */
function kind(v: number): string {
  return Number.isNaN(v) ? "NaN" : v === Infinity ? "+Inf" : v === -Infinity ? "-Inf" : "finite";
}

function expectSameKinds(what: string, got: Float32Array, want: Float32Array): void {
  for (let i = 0; i < want.length; i++) {
    if (kind(got[i]!) !== kind(want[i]!)) {
      throw new Error(
        `${what}[${i}]: kernel ${got[i]} (${kind(got[i]!)}) vs core ${want[i]} (${kind(want[i]!)})`,
      );
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Option sets
// ---------------------------------------------------------------------------------------------------------

const ADABELIEF_CONFIGS: AdaBeliefOptions[] = [];
for (const rectify of [true, false])
  for (const amsgrad of [false, true])
    for (const decay of ["none", "decoupled", "fixed", "l2"] as const)
      for (const degeneratedToSgd of rectify ? [true, false] : [true]) {
        ADABELIEF_CONFIGS.push({
          learningRate: 1e-2,
          rectify,
          amsgrad,
          degeneratedToSgd,
          weightDecay: decay === "none" ? 0 : decay === "fixed" ? 1e-3 : 0.1,
          weightDecouple: decay !== "l2",
          fixedDecay: decay === "fixed",
        });
      }
ADABELIEF_CONFIGS.push(
  { learningRate: 0.1, beta1: 0.5, beta2: 0.9, epsilon: 1e-8, rectify: false },
  {
    learningRate: 3e-3,
    beta1: 0,
    beta2: 0.99,
    epsilon: 1e-12,
    amsgrad: true,
    rectify: false,
    weightDecay: 0.3,
    weightDecouple: false,
  },
  { learningRate: 1e-3, epsilon: 0, smaThreshold: 4 },
);

const ADAM_CONFIGS: { rule: typeof adamRule; options: AdamOptions }[] = [
  { rule: adamRule, options: {} },
  { rule: adamRule, options: { learningRate: 1e-2, amsgrad: true } },
  { rule: adamRule, options: { learningRate: 1e-2, weightDecay: 0.1 } },
  {
    rule: adamRule,
    options: { learningRate: 0.1, beta1: 0.5, beta2: 0.9, weightDecay: 0.01, amsgrad: true },
  },
  { rule: adamwRule, options: {} },
  { rule: adamwRule, options: { learningRate: 1e-2, weightDecay: 0.1, amsgrad: true } },
  { rule: adamRule, options: { epsilon: 1e-12, beta1: 0 } },
];

const STEPS = 8; // with β2 = 0.999 and rectify, steps 1–5 are warm-up (Sgd or None) and 6–8 Adaptive

// ---------------------------------------------------------------------------------------------------------

describe("generated WebAssembly", () => {
  it("simd.wat is what scripts/build-wasm.ts generates", () => {
    expect(readFileSync(`${root}/${WAT_PATH}`, "utf8")).toBe(simdWat());
  });

  it("the committed bytes are wabt's compilation of simd.wat, and the probe's of PROBE_WAT", async () => {
    const bytes = await compileWat(readFileSync(`${root}/${WAT_PATH}`, "utf8"));
    expect(Buffer.from(bytes).toString("base64")).toBe(SIMD_KERNELS_BASE64);
    expect(Array.from(await compileWat(PROBE_WAT, "probe.wat"))).toEqual(SIMD_PROBE_BYTES);
  });

  it("stays under 4 KB, the largest module older Chromium (and WebViews) compile synchronously on the main thread", () => {
    expect(atob(SIMD_KERNELS_BASE64).length).toBeLessThanOrEqual(4096);
  });

  it("imports one memory without a maximum and exports the kernels", () => {
    const mod = new WebAssembly.Module(Buffer.from(SIMD_KERNELS_BASE64, "base64"));
    expect(WebAssembly.Module.imports(mod)).toEqual([{ module: "env", name: "memory", kind: "memory" }]);
    expect(
      WebAssembly.Module.exports(mod)
        .map((e) => e.name)
        .sort(),
    ).toEqual(
      [
        "adabelief",
        "adabeliefAdaptive",
        "adabeliefMax",
        "adam",
        "adamMax",
        "firstNonFinite",
        "anyNonFinite8",
      ].sort(),
    );
    expect(simdWat()).toContain('(import "env" "memory" (memory 0))');
  });
});

describe("instantiateSimdKernels", () => {
  it("detects SIMD (Node 20 has it)", () => {
    expect(simdSupported()).toBe(true);
  });

  it("instantiates on a memory and caches per memory", () => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const a = instantiateSimdKernels(memory);
    expect(a).not.toBeNull();
    expect(instantiateSimdKernels(memory)).toBe(a);
    expect(instantiateSimdKernels(new WebAssembly.Memory({ initial: 1 }))).not.toBe(a);
  });

  it("accepts a memory that has a maximum", () => {
    expect(instantiateSimdKernels(new WebAssembly.Memory({ initial: 1, maximum: 10 }))).not.toBeNull();
  });

  it("returns null for something that is not a WebAssembly.Memory", () => {
    expect(
      instantiateSimdKernels({ buffer: new ArrayBuffer(65536) } as unknown as WebAssembly.Memory),
    ).toBeNull();
    expect(instantiateSimdKernels(null as unknown as WebAssembly.Memory)).toBeNull();
  });

  it("instantiates on a shared memory (the threaded wasm backend's heap) and updates it in place", () => {
    const shared = new WebAssembly.Memory({ initial: 2, maximum: 100, shared: true });
    const k = instantiateSimdKernels(shared);
    expect(k).not.toBeNull();
    expect(instantiateSimdKernels(shared)).toBe(k);
    // The same results as on a plain memory, bit for bit.
    const plain = newKernels(2);
    const n = 1003;
    const r = rng(77);
    const init = Array.from({ length: 4 }, () => Float32Array.from({ length: n }, () => randomValue(r)));
    init[3] = init[3]!.map(Math.abs);
    const c = adabeliefRule.coefficients(9, 1e-2, adabeliefRule.resolve({}));
    const run = (memory: WebAssembly.Memory, kk: SimdKernels) => {
      const ptrs = [0, 1, 2, 3].map((j) => 64 + 4 * n * j);
      ptrs.forEach((p, j) => new Float32Array(memory.buffer, p, n).set(init[j]!));
      kk.adabelief(ptrs[0]!, ptrs[1]!, ptrs[2]!, ptrs[3]!, -1, n, c);
      new Float32Array(memory.buffer, ptrs[1]!, n)[500] = NaN;
      expect(kk.firstNonFinite(ptrs[1]!, n)).toBe(500);
      return [0, 2, 3].map((j) => Array.from(new Float32Array(memory.buffer, ptrs[j]!, n)));
    };
    expect(run(shared, k!)).toEqual(run(plain.memory, plain.k));
  });

  it("the shared-memory module is simd.wat with a shared memory import", async () => {
    expect(simdWat(true)).toBe(simdWat().replace(memoryImport(false), memoryImport(true)));
    expect(simdWat(true)).toContain('(import "env" "memory" (memory 0 65536 shared))');
    const bytes = await compileWat(simdWat(true), "simd-shared.wat");
    expect(Buffer.from(bytes).toString("base64")).toBe(SIMD_KERNELS_SHARED_BASE64);
    expect(atob(SIMD_KERNELS_SHARED_BASE64).length).toBeLessThanOrEqual(4096);
  });

  it("keeps working after the memory grows (views detach, the kernel reads the live memory)", () => {
    const { memory, k } = newKernels(1);
    const n = 10;
    const big = 65536 + 1024; // past the first page: only valid after growing
    expect(() => k.firstNonFinite(big, n)).toThrow(RangeError);
    memory.grow(1);
    new Float32Array(memory.buffer, big, n)[7] = NaN;
    expect(k.firstNonFinite(big, n)).toBe(7);
  });
});

describe("AdaBelief kernel", () => {
  it.each(ADABELIEF_CONFIGS.map((o, i) => [i, JSON.stringify(o), o] as const))(
    "config %i %s: agrees with adabeliefRule.update to float32 precision, step by step, all sizes",
    (ci, _label, options) => {
      const { memory, k } = newKernels();
      const o = adabeliefRule.resolve(options);
      const hasMax = adabeliefRule.slots(o).length === 3;
      const r = rng(1000 + ci);
      const modes = new Set<number>();
      const sizes = [...SIZES, 10 + Math.floor(r() * 300), 10 + Math.floor(r() * 300)];
      for (const n of sizes) {
        const [pt, pg, pm, ps, px] = layout(n, 5, r);
        const th = Float32Array.from({ length: n }, () => randomValue(r));
        const m = new Float32Array(n);
        const s = new Float32Array(n);
        const x = new Float32Array(n);
        for (let t = 1; t <= STEPS; t++) {
          const g = Float32Array.from({ length: n }, () => randomValue(r));
          const c = adabeliefRule.coefficients(t, 1e-2 * (1 + 0.1 * t), o);
          modes.add(c.mode);
          // Same state into the kernel's memory, then one step each.
          view(memory, pt!, n).set(th);
          view(memory, pg!, n).set(g);
          view(memory, pm!, n).set(m);
          view(memory, ps!, n).set(s);
          if (hasMax) view(memory, px!, n).set(x);
          const before = { th: th.slice(), m: m.slice(), s: s.slice() };
          const gCopy = g.slice();
          adabeliefRule.update(th, g, hasMax ? [m, s, x] : [m, s], c);
          k.adabelief(pt!, pg!, pm!, ps!, hasMax ? px! : -1, n, c);
          const d = c.useMax ? x : s;
          const b = (i: number) =>
            adabeliefBounds(before.th[i]!, g[i]!, before.m[i]!, before.s[i]!, d[i]!, m[i]!, c);
          const where = `config ${ci} n=${n} t=${t} mode ${c.mode}`;
          expectWithin(`${where} m`, view(memory, pm!, n), m, (i) => b(i).m);
          expectWithin(`${where} s`, view(memory, ps!, n), s, (i) => b(i).s);
          if (hasMax) expectWithin(`${where} sMax`, view(memory, px!, n), x, (i) => b(i).s);
          expectWithin(`${where} theta`, view(memory, pt!, n), th, (i) => b(i).theta);
          expectSameBits(`${where} grad (read only)`, view(memory, pg!, n), gCopy);
        }
      }
      // Each config exercises the modes its options imply.
      if (!o.rectify) expect([...modes]).toEqual([AdaBeliefMode.Adaptive]);
      else
        expect(modes).toEqual(
          new Set([o.degeneratedToSgd ? AdaBeliefMode.Sgd : AdaBeliefMode.None, AdaBeliefMode.Adaptive]),
        );
    },
  );

  it("runs independently for 30 steps and stays within float32 drift of the core", () => {
    // No re-synchronisation: rounding differences compound, so the bound is looser (1e-4 relative to the
    // parameter scale) — a check that nothing drifts systematically, on top of the per-step bound above.
    for (const options of [
      { learningRate: 1e-2 },
      { learningRate: 1e-2, rectify: false, amsgrad: true, weightDecay: 0.1 },
    ]) {
      const { memory, k } = newKernels();
      const o = adabeliefRule.resolve(options);
      const hasMax = o.amsgrad;
      const r = rng(77);
      const n = 1003;
      const [pt, pg, pm, ps, px] = layout(n, 5, r);
      const th = Float32Array.from({ length: n }, () => r() - 0.5);
      view(memory, pt!, n).set(th);
      const m = new Float32Array(n);
      const s = new Float32Array(n);
      const x = new Float32Array(n);
      for (let t = 1; t <= 30; t++) {
        // Gradient of ½‖θ − 0.3‖² plus noise, evaluated at the core's θ.
        const g = Float32Array.from(th, (v) => v - 0.3 + 0.05 * (r() - 0.5));
        view(memory, pg!, n).set(g);
        const c = adabeliefRule.coefficients(t, 1e-2, o);
        adabeliefRule.update(th, g, hasMax ? [m, s, x] : [m, s], c);
        k.adabelief(pt!, pg!, pm!, ps!, hasMax ? px! : -1, n, c);
      }
      expectWithin("theta after 30 steps", view(memory, pt!, n), th, () => 1e-4);
    }
  });

  it.each([false, true])(
    "matches an exact float32 emulation bit for bit (amsgrad slot %s), all sizes and modes",
    (withMax) => {
      const { memory, k } = newKernels();
      const r = rng(withMax ? 5 : 6);
      for (const options of ADABELIEF_CONFIGS.filter((o) => (o.amsgrad ?? false) === withMax)) {
        const o = adabeliefRule.resolve(options);
        for (const n of SIZES) {
          for (const t of [1, 3, 7, 20]) {
            const c = adabeliefRule.coefficients(t, 0.05, o);
            const [pt, pg, pm, ps, px] = layout(n, 5, r);
            const arrays = [0, 1, 2, 3, 4].map(() => Float32Array.from({ length: n }, () => randomValue(r)));
            const [th, g, m, s, x] = arrays as [
              Float32Array,
              Float32Array,
              Float32Array,
              Float32Array,
              Float32Array,
            ];
            s.forEach((v, i) => (s[i] = Math.abs(v)));
            x.forEach((v, i) => (x[i] = Math.abs(v)));
            [pt, pg, pm, ps, px].forEach((p, i) => view(memory, p!, n).set(arrays[i]!));
            emulateAdaBelief(th, g, m, s, withMax ? x : undefined, c);
            k.adabelief(pt!, pg!, pm!, ps!, withMax ? px! : -1, n, c);
            const where = `n=${n} t=${t} ${JSON.stringify(options)}`;
            expectSameBits(`${where} theta`, view(memory, pt!, n), th);
            expectSameBits(`${where} m`, view(memory, pm!, n), m);
            expectSameBits(`${where} s`, view(memory, ps!, n), s);
            if (withMax) expectSameBits(`${where} sMax`, view(memory, px!, n), x);
          }
        }
      }
    },
  );

  it("property: bit-exact emulation on arbitrary float32 inputs (NaN, ±Inf, subnormals, −0), any mode", () => {
    const { memory, k } = newKernels(1);
    const f32 = fc.float({ noDefaultInfinity: false, noNaN: false });
    fc.assert(
      fc.property(
        fc
          .integer({ min: 0, max: 40 })
          .chain((n) =>
            fc.tuple(
              fc.constant(n),
              fc.array(fc.array(f32, { minLength: n, maxLength: n }), { minLength: 5, maxLength: 5 }),
            ),
          ),
        fc.record({
          t: fc.integer({ min: 1, max: 50 }),
          rectify: fc.boolean(),
          degeneratedToSgd: fc.boolean(),
          amsgrad: fc.boolean(),
          weightDecouple: fc.boolean(),
          fixedDecay: fc.boolean(),
          weightDecay: fc.constantFrom(0, 1e-4, 0.5),
          beta1: fc.constantFrom(0, 0.5, 0.9),
          beta2: fc.constantFrom(0.9, 0.999),
          epsilon: fc.constantFrom(0, 1e-16, 1e-8),
        }),
        ([n, values], { t, ...options }) => {
          const o = adabeliefRule.resolve(options);
          const c = adabeliefRule.coefficients(t, 0.01, o);
          const withMax = o.amsgrad;
          const arrays = values.map((v) => Float32Array.from(v));
          const ptrs = layout(n, 5, rng(n + t), 0);
          ptrs.forEach((p, i) => view(memory, p, n).set(arrays[i]!));
          const [th, g, m, s, x] = arrays as [
            Float32Array,
            Float32Array,
            Float32Array,
            Float32Array,
            Float32Array,
          ];
          emulateAdaBelief(th, g, m, s, withMax ? x : undefined, c);
          k.adabelief(ptrs[0]!, ptrs[1]!, ptrs[2]!, ptrs[3]!, withMax ? ptrs[4]! : -1, n, c);
          expectSameBits("theta", view(memory, ptrs[0]!, n), th);
          expectSameBits("m", view(memory, ptrs[2]!, n), m);
          expectSameBits("s", view(memory, ptrs[3]!, n), s);
          if (withMax) expectSameBits("sMax", view(memory, ptrs[4]!, n), x);
        },
      ),
      { numRuns: 300, seed: 20201015 },
    );
  });

  it("spreads NaN and ±Infinity exactly where the core does (nonFinite: 'proceed'), in every mode", () => {
    const { memory, k } = newKernels();
    const r = rng(99);
    const specials = [NaN, Infinity, -Infinity];
    for (const options of ADABELIEF_CONFIGS) {
      const o = adabeliefRule.resolve(options);
      const hasMax = o.amsgrad;
      const n = 37;
      for (const t of [1, 4, 9]) {
        const c = adabeliefRule.coefficients(t, 0.01, o);
        const [pt, pg, pm, ps, px] = layout(n, 5, r);
        const th = Float32Array.from({ length: n }, () => randomValue(r));
        const g = Float32Array.from({ length: n }, () => randomValue(r));
        const m = Float32Array.from({ length: n }, () => randomValue(r));
        const s = Float32Array.from({ length: n }, () => Math.abs(randomValue(r)));
        const x = Float32Array.from(s, (v) => v * 2);
        for (let i = 0; i < n; i += 3) (i % 2 ? th : g)[i] = specials[i % 3]!;
        [th, g, m, s, x].forEach((a, i) => view(memory, [pt, pg, pm, ps, px][i]!, n).set(a));
        adabeliefRule.update(th, g, hasMax ? [m, s, x] : [m, s], c);
        k.adabelief(pt!, pg!, pm!, ps!, hasMax ? px! : -1, n, c);
        expectSameKinds(`theta ${JSON.stringify(options)} t=${t}`, view(memory, pt!, n), th);
        expectSameKinds(`m ${JSON.stringify(options)} t=${t}`, view(memory, pm!, n), m);
        expectSameKinds(`s ${JSON.stringify(options)} t=${t}`, view(memory, ps!, n), s);
        if (hasMax) expectSameKinds(`sMax ${JSON.stringify(options)}`, view(memory, px!, n), x);
      }
    }
  });

  it("n = 0 writes nothing", () => {
    const { memory, k } = newKernels(1);
    const all = new Float32Array(memory.buffer);
    all.fill(1.5);
    const c = adabeliefRule.coefficients(10, 0.1, adabeliefRule.resolve({ weightDecay: 0.5 }));
    k.adabelief(0, 16, 32, 48, 64, 0, c);
    expect(all.every((v) => v === 1.5)).toBe(true);
  });
});

describe("Adam kernel", () => {
  it.each(ADAM_CONFIGS.map((a, i) => [i, `${a.rule.name} ${JSON.stringify(a.options)}`, a] as const))(
    "config %i %s: agrees with the core rule to float32 precision, step by step, all sizes",
    (ci, _label, { rule, options }) => {
      const { memory, k } = newKernels();
      const o = rule.resolve(options);
      const hasMax = o.amsgrad;
      const r = rng(2000 + ci);
      for (const n of [...SIZES, 10 + Math.floor(r() * 300)]) {
        const [pt, pg, pm, pv, px] = layout(n, 5, r);
        const th = Float32Array.from({ length: n }, () => randomValue(r));
        const m = new Float32Array(n);
        const v = new Float32Array(n);
        const x = new Float32Array(n);
        for (let t = 1; t <= STEPS; t++) {
          const g = Float32Array.from({ length: n }, () => randomValue(r));
          const c = rule.coefficients(t, 1e-2, o);
          [th, g, m, v].forEach((a, i) => view(memory, [pt, pg, pm, pv][i]!, n).set(a));
          if (hasMax) view(memory, px!, n).set(x);
          const before = { th: th.slice(), m: m.slice(), v: v.slice() };
          rule.update(th, g, hasMax ? [m, v, x] : [m, v], c);
          k.adam(pt!, pg!, pm!, pv!, hasMax ? px! : -1, n, c);
          const d = hasMax ? x : v;
          const b = (i: number) =>
            adamBounds(before.th[i]!, g[i]!, before.m[i]!, before.v[i]!, d[i]!, m[i]!, c);
          const where = `config ${ci} n=${n} t=${t}`;
          expectWithin(`${where} m`, view(memory, pm!, n), m, (i) => b(i).m);
          expectWithin(`${where} v`, view(memory, pv!, n), v, (i) => b(i).s);
          if (hasMax) expectWithin(`${where} vMax`, view(memory, px!, n), x, (i) => b(i).s);
          expectWithin(`${where} theta`, view(memory, pt!, n), th, (i) => b(i).theta);
        }
      }
    },
  );

  it("property: bit-exact emulation on arbitrary float32 inputs (NaN, ±Inf, subnormals, −0)", () => {
    const { memory, k } = newKernels(1);
    const f32 = fc.float({ noDefaultInfinity: false, noNaN: false });
    fc.assert(
      fc.property(
        fc
          .integer({ min: 0, max: 40 })
          .chain((n) =>
            fc.tuple(
              fc.constant(n),
              fc.array(fc.array(f32, { minLength: n, maxLength: n }), { minLength: 5, maxLength: 5 }),
            ),
          ),
        fc.integer({ min: 1, max: 50 }),
        fc.boolean(),
        fc.boolean(),
        fc.constantFrom(0, 1e-2, 0.5),
        ([n, values], t, decoupled, amsgrad, weightDecay) => {
          const rule = decoupled ? adamwRule : adamRule;
          const c = rule.coefficients(t, 0.01, rule.resolve({ amsgrad, weightDecay }));
          const arrays = values.map((v) => Float32Array.from(v));
          const ptrs = layout(n, 5, rng(n * t), 0);
          ptrs.forEach((p, i) => view(memory, p, n).set(arrays[i]!));
          const [th, g, m, v, x] = arrays as [
            Float32Array,
            Float32Array,
            Float32Array,
            Float32Array,
            Float32Array,
          ];
          emulateAdam(th, g, m, v, amsgrad ? x : undefined, c);
          k.adam(ptrs[0]!, ptrs[1]!, ptrs[2]!, ptrs[3]!, amsgrad ? ptrs[4]! : -1, n, c);
          expectSameBits("theta", view(memory, ptrs[0]!, n), th);
          expectSameBits("m", view(memory, ptrs[2]!, n), m);
          expectSameBits("v", view(memory, ptrs[3]!, n), v);
          if (amsgrad) expectSameBits("vMax", view(memory, ptrs[4]!, n), x);
        },
      ),
      { numRuns: 200, seed: 2015 },
    );
  });

  it("spreads NaN and ±Infinity exactly where the core does", () => {
    const { memory, k } = newKernels();
    const r = rng(98);
    for (const { rule, options } of ADAM_CONFIGS) {
      const o = rule.resolve(options);
      const n = 29;
      const c = rule.coefficients(3, 0.01, o);
      const [pt, pg, pm, pv, px] = layout(n, 5, r);
      const th = Float32Array.from({ length: n }, () => randomValue(r));
      const g = Float32Array.from({ length: n }, () => randomValue(r));
      const m = Float32Array.from({ length: n }, () => randomValue(r));
      const v = Float32Array.from({ length: n }, () => Math.abs(randomValue(r)));
      const x = Float32Array.from(v, (a) => a * 2);
      for (let i = 0; i < n; i += 3) (i % 2 ? th : g)[i] = [NaN, Infinity, -Infinity][i % 3]!;
      x[2] = NaN;
      [th, g, m, v, x].forEach((a, i) => view(memory, [pt, pg, pm, pv, px][i]!, n).set(a));
      rule.update(th, g, o.amsgrad ? [m, v, x] : [m, v], c);
      k.adam(pt!, pg!, pm!, pv!, o.amsgrad ? px! : -1, n, c);
      expectSameKinds("theta", view(memory, pt!, n), th);
      expectSameKinds("m", view(memory, pm!, n), m);
      expectSameKinds("v", view(memory, pv!, n), v);
      if (o.amsgrad) expectSameKinds("vMax", view(memory, px!, n), x);
    }
  });
});

describe("anyNonFinite8 kernel and the batched gradient scan", () => {
  const { memory, k } = newKernels(160);

  it("finds one NaN/±Infinity at any position of any of the eight arrays, body and tail; else false", () => {
    for (const n of [1, 3, 4, 5, 8, 17, 100]) {
      const ptrs = Array.from({ length: 8 }, (_, j) => 64 + j * 4 * (n + 3)); // not 16-byte aligned
      for (const p of ptrs) view(memory, p, n).fill(0.25);
      expect(k.anyNonFinite8(ptrs, n)).toBe(false);
      for (const bad of [NaN, Infinity, -Infinity]) {
        for (let a = 0; a < 8; a++) {
          for (let i = 0; i < n; i++) {
            const v = view(memory, ptrs[a]!, n);
            v[i] = bad;
            expect(k.anyNonFinite8(ptrs, n)).toBe(true);
            v[i] = 0.25;
          }
        }
      }
      // Values just past each array are not read.
      for (const p of ptrs) view(memory, p + 4 * n, 1)[0] = NaN;
      expect(k.anyNonFinite8(ptrs, n)).toBe(false);
    }
  });

  it("takes fewer than eight arrays (the first repeated) and checks every offset", () => {
    const n = 33;
    view(memory, 1024, n).fill(1);
    view(memory, 4096, n).fill(1);
    expect(k.anyNonFinite8([1024, 4096], n)).toBe(false);
    view(memory, 4096, n)[32] = NaN;
    expect(k.anyNonFinite8([1024, 4096], n)).toBe(true);
    expect(() => k.anyNonFinite8([1024, memory.buffer.byteLength], n)).toThrow(/ptrs\[1\]/);
    expect(() => k.anyNonFinite8([], n)).toThrow(RangeError);
  });

  it("scanBatched: -1 when all is finite, else an index at or before the first array with a hit", () => {
    const r = rng(21);
    for (let rep = 0; rep < 40; rep++) {
      const count = 1 + Math.floor(r() * 20);
      // Short arrays (grouped eight by eight), empty ones, and now and then one long enough to go alone.
      const sizes = Array.from({ length: count }, () =>
        r() < 0.15 ? 0 : r() < 0.1 ? SCAN_ALONE + Math.floor(r() * 1000) : 1 + Math.floor(r() * 300),
      );
      const offsets: number[] = [];
      let p = 256;
      for (const n of sizes) {
        offsets.push(p);
        view(memory, p, n).fill(-0.5);
        p += 4 * n + 4 * Math.floor(r() * 4);
      }
      expect(scanBatched(k, offsets, sizes)).toBe(-1);
      const nonEmpty = sizes.map((n, i) => (n > 0 ? i : -1)).filter((i) => i >= 0);
      if (nonEmpty.length === 0) continue;
      const a = nonEmpty[Math.floor(r() * nonEmpty.length)]!;
      const at = Math.floor(r() * sizes[a]!);
      view(memory, offsets[a]!, sizes[a]!)[at] = rep % 2 ? NaN : Infinity;
      const from = scanBatched(k, offsets, sizes);
      expect(from).toBeGreaterThanOrEqual(0);
      expect(from).toBeLessThanOrEqual(a);
      expect(a - from).toBeLessThan(8 + sizes.slice(from, a).filter((n) => n === 0).length);
    }
  });
});

describe("firstNonFinite kernel", () => {
  const { memory, k } = newKernels(8);

  it("returns -1 when everything is finite (including ±max, subnormals, −0)", () => {
    const finite = [
      0, -0, 3.4028234663852886e38, -3.4028234663852886e38, 1e-45, -1e-45, 1.17549435e-38, 1, -2.5,
    ];
    for (const n of [...SIZES, 10000]) {
      const p = 4 * (1 + (n % 3));
      const a = view(memory, p, n);
      for (let i = 0; i < n; i++) a[i] = finite[i % finite.length]!;
      expect(k.firstNonFinite(p, n)).toBe(-1);
    }
  });

  it("finds NaN, +Infinity and -Infinity at every position of body and tail", () => {
    // Past two of the scan's 32-element blocks, so every lane of a block and the tail are covered.
    for (let n = 1; n <= 80; n++) {
      for (const p of [64, 68]) {
        const a = view(memory, p, n);
        for (const bad of [NaN, Infinity, -Infinity]) {
          for (let j = 0; j < n; j++) {
            a.fill(1);
            a[j] = bad;
            if (j + 1 < n) a[n - 1] = bad; // a later one must not be reported first
            expect(k.firstNonFinite(p, n)).toBe(j);
          }
        }
      }
    }
  });

  it("finds NaN payloads and values just past the array are not read", () => {
    const u = new Uint32Array(memory.buffer);
    const f = new Float32Array(memory.buffer);
    f.fill(0, 0, 200);
    u[50 + 13] = 0x7fc12345; // quiet NaN with payload
    u[50 + 21] = 0xff800001; // signalling NaN, sign set
    expect(k.firstNonFinite(200, 30)).toBe(13);
    u[50 + 13] = 0;
    expect(k.firstNonFinite(200, 30)).toBe(21);
    expect(k.firstNonFinite(200, 21)).toBe(-1); // index 21 is just past the end
  });

  it("large arrays: random positions", () => {
    const r = rng(3);
    const n = 100_000;
    const a = view(memory, 16, n);
    for (let rep = 0; rep < 20; rep++) {
      a.fill(0.5);
      const j = Math.floor(r() * n);
      a[j] = rep % 2 ? NaN : -Infinity;
      expect(k.firstNonFinite(16, n)).toBe(j);
    }
  });
});

describe("argument checks (a rejected call writes nothing)", () => {
  const { memory, k } = newKernels(1);
  const c = adabeliefRule.coefficients(10, 0.1, adabeliefRule.resolve({}));
  const ac = adamRule.coefficients(10, 0.1, adamRule.resolve({}));
  const unchanged = (f: () => void, message: RegExp) => {
    const all = new Float32Array(memory.buffer);
    all.fill(0.25);
    expect(f).toThrow(RangeError);
    expect(f).toThrow(message);
    expect(all.every((v) => v === 0.25)).toBe(true);
  };

  it("rejects bad offsets, lengths and overlaps, naming the argument", () => {
    const n = 100;
    unchanged(
      () => k.adabelief(0, 396, 800, 1200, -1, n, c),
      /theta \(0\) and grad \(396\) overlap for n = 100/,
    );
    unchanged(
      () => k.adabelief(0, 1000, 2000, 3000, 4002, n, c),
      /sMax must be a non-negative multiple of 4.*4002/,
    );
    unchanged(
      () => k.adabelief(-4, 1000, 2000, 3000, -1, n, c),
      /theta must be a non-negative multiple of 4.*-4/,
    );
    unchanged(
      () => k.adabelief(0, 1000, 2000, 65536 - 8, -1, n, c),
      /s = 65528 with n = 100 ends at byte 65928/,
    );
    unchanged(() => k.adabelief(0, 1000, 2000, 3000, -1, 2.5, c), /n must be an integer.*2\.5/);
    unchanged(() => k.adabelief(0, 1000, 2000, 3000, -1, -1, c), /n must be an integer/);
    unchanged(() => k.adabelief(0, 1000, 1200, 3000, -1, n, c), /grad \(1000\) and m \(1200\) overlap/);
    unchanged(() => k.adabelief(0, 1000, 2000, 3000, -1, n, { ...c, useMax: true }), /useMax.*sMax/);
    unchanged(() => k.adabelief(0, 1000, 2000, 3000, -1, n, { ...c, mode: 7 as 0 }), /c\.mode .* got 7/);
    unchanged(() => k.adam(0, 1000, 2000, 3000, 3200, n, ac), /v \(3000\) and vMax \(3200\) overlap/);
    unchanged(
      () => k.adam(NaN, 1000, 2000, 3000, -1, n, ac),
      /theta must be a non-negative multiple of 4.*NaN/,
    );
    unchanged(() => k.firstNonFinite(65536, 1), /ptr = 65536 with n = 1 ends at byte 65540/);
  });
});
