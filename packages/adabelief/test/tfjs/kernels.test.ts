import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-core/dist/register_all_gradients.js";
import { registerWasmTrainingKernels } from "../../src/tfjs/wasm-kernels/index.js";

/** Deterministic uniform numbers in [-1, 1). */
function random(n: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

const size = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

/** Runs `f` on `backend` and returns its result's values (tensors created inside are disposed). */
async function on(backend: string, f: () => tf.Tensor): Promise<Float32Array | Int32Array> {
  await tf.setBackend(backend);
  return tf.tidy(() => f().dataSync().slice() as Float32Array | Int32Array);
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5): void {
  expect(actual.length).toBe(expected.length);
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]!));
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  expect(worst).toBeLessThanOrEqual(tol * (1 + scale));
}

type Pad =
  "same" | "valid" | number | [[number, number], [number, number], [number, number], [number, number]];
interface ConvCase {
  x: [number, number, number, number];
  f: [number, number, number, number];
  strides: number | [number, number];
  pad: Pad;
  dimRoundingMode?: "floor" | "round" | "ceil";
}

const CASES: ConvCase[] = [
  { x: [2, 7, 7, 3], f: [3, 3, 3, 4], strides: 1, pad: "same" },
  { x: [2, 8, 6, 3], f: [3, 3, 3, 2], strides: 1, pad: "valid" },
  { x: [2, 7, 8, 3], f: [3, 2, 3, 4], strides: 2, pad: "same" },
  { x: [2, 9, 7, 2], f: [3, 3, 2, 5], strides: [2, 3], pad: "valid" },
  {
    x: [1, 6, 6, 2],
    f: [2, 2, 2, 3],
    strides: 1,
    pad: [
      [0, 0],
      [1, 2],
      [0, 3],
      [0, 0],
    ],
  },
  {
    x: [1, 5, 5, 1],
    f: [1, 1, 1, 2],
    strides: 1,
    pad: [
      [0, 0],
      [3, 1],
      [2, 4],
      [0, 0],
    ],
  },
  { x: [3, 10, 10, 4], f: [5, 5, 4, 2], strides: 3, pad: "same" },
  { x: [2, 9, 9, 2], f: [3, 3, 2, 3], strides: 2, pad: 1, dimRoundingMode: "ceil" },
  { x: [4, 12, 12, 8], f: [3, 3, 8, 16], strides: 1, pad: "same" },
  { x: [1, 4, 4, 1], f: [4, 4, 1, 1], strides: 1, pad: "valid" },
  // The filter gradient's matrix-product path in several batch chunks (5 + 4 images of 28×28).
  { x: [9, 28, 28, 1], f: [3, 3, 1, 4], strides: 1, pad: "same" },
  { x: [3, 28, 27, 3], f: [3, 2, 3, 2], strides: [2, 1], pad: "valid" },
];

/** A few more cases drawn from a seeded generator. */
function randomCases(count: number, seed: number): ConvCase[] {
  const r = random(count * 8, seed);
  const pick = (v: number, lo: number, hi: number): number => lo + Math.floor(((v + 1) / 2) * (hi - lo + 1));
  const out: ConvCase[] = [];
  for (let k = 0; k < count; k++) {
    const u = (i: number): number => r[k * 8 + i]!;
    const fh = pick(u(0), 1, 4);
    const fw = pick(u(1), 1, 4);
    const h = pick(u(2), fh, 11);
    const w = pick(u(3), fw, 11);
    const s = pick(u(4), 1, 3);
    out.push({
      x: [pick(u(5), 1, 3), h, w, pick(u(6), 1, 5)],
      f: [fh, fw, 0, pick(u(7), 1, 5)],
      strides: s,
      pad: k % 2 === 0 ? "same" : "valid",
    });
    out[k]!.f[2] = out[k]!.x[3];
  }
  return out;
}

function outShape(c: ConvCase): number[] {
  return tf.tidy(
    () =>
      tf.conv2d(
        tf.zeros(c.x) as tf.Tensor4D,
        tf.zeros(c.f) as tf.Tensor4D,
        c.strides,
        c.pad,
        "NHWC",
        1,
        c.dimRoundingMode,
      ).shape,
  );
}

beforeAll(async () => {
  await import("@tensorflow/tfjs-backend-wasm");
  registerWasmTrainingKernels();
  await tf.setBackend("wasm");
});

describe("Conv2DBackpropFilter and Conv2DBackpropInput on wasm match the cpu backend", () => {
  const all = [...CASES, ...randomCases(12, 7)];
  it.each(all.map((c, i) => [i, JSON.stringify(c), c] as const))("case %i %s", async (_i, _name, c) => {
    await tf.setBackend("cpu");
    const yShape = outShape(c);
    const x = random(size(c.x), 11);
    const filter = random(size(c.f), 12);
    const dy = random(size(yShape), 13);
    const base = { strides: c.strides, pad: c.pad, dataFormat: "NHWC", dimRoundingMode: c.dimRoundingMode };
    const filterGrad = (): tf.Tensor =>
      tf.engine().runKernel("Conv2DBackpropFilter", { x: tf.tensor(x, c.x), dy: tf.tensor(dy, yShape) }, {
        ...base,
        filterShape: c.f,
      } as never) as tf.Tensor;
    const inputGrad = (): tf.Tensor =>
      tf
        .engine()
        .runKernel("Conv2DBackpropInput", { dy: tf.tensor(dy, yShape), filter: tf.tensor(filter, c.f) }, {
          ...base,
          inputShape: c.x,
        } as never) as tf.Tensor;
    expectClose(await on("wasm", filterGrad), await on("cpu", filterGrad));
    expectClose(await on("wasm", inputGrad), await on("cpu", inputGrad));
  });

  it("gives the same gradients as cpu through tf.grads of a two-layer conv net", async () => {
    const xs = random(2 * 9 * 9 * 3, 21);
    const w1 = random(3 * 3 * 3 * 4, 22);
    const w2 = random(2 * 2 * 4 * 5, 23);
    const grads = (): tf.Tensor => {
      const g = tf.grads((a: tf.Tensor, b: tf.Tensor, x: tf.Tensor) => {
        const h = tf.relu(tf.conv2d(x as tf.Tensor4D, a as tf.Tensor4D, 1, "same"));
        return tf.sum(tf.square(tf.conv2d(h, b as tf.Tensor4D, 2, "valid")));
      });
      const [ga, gb, gx] = g([
        tf.tensor(w1, [3, 3, 3, 4]),
        tf.tensor(w2, [2, 2, 4, 5]),
        tf.tensor(xs, [2, 9, 9, 3]),
      ]);
      return tf.concat([ga!, gb!, gx!].map((g) => tf.reshape(g, [-1])));
    };
    expectClose(await on("wasm", grads), await on("cpu", grads), 2e-5);
  });

  it("frees all its temporaries on the wasm heap", async () => {
    await tf.setBackend("wasm");
    const x = tf.tensor(random(2 * 6 * 6 * 3, 1), [2, 6, 6, 3]);
    const dy = tf.tensor(random(2 * 3 * 3 * 4, 2), [2, 3, 3, 4]);
    const f = tf.tensor(random(3 * 3 * 3 * 4, 3), [3, 3, 3, 4]);
    const before = tf.engine().backend.numDataIds();
    const attrs = { strides: 2, pad: "same", dataFormat: "NHWC" };
    const a = tf.engine().runKernel("Conv2DBackpropFilter", { x, dy }, {
      ...attrs,
      filterShape: [3, 3, 3, 4],
    } as never) as tf.Tensor;
    const b = tf.engine().runKernel("Conv2DBackpropInput", { dy, filter: f }, {
      ...attrs,
      inputShape: [2, 6, 6, 3],
    } as never) as tf.Tensor;
    const m = tf.matMul(x, x, true, false);
    const p = tf.engine().runKernel("MaxPoolGrad", { dy: x, input: x, output: x }, {
      filterSize: 1,
      strides: 1,
      pad: "valid",
    } as never) as tf.Tensor;
    expect(tf.engine().backend.numDataIds()).toBe(before + 4);
    tf.dispose([a, b, m, p, x, dy, f]);
  });

  it("rejects NCHW and non-float32 inputs with errors naming the kernel and the value", async () => {
    await tf.setBackend("wasm");
    const x = tf.zeros([1, 4, 4, 2]);
    const dy = tf.zeros([1, 4, 4, 3]);
    const before = tf.engine().backend.numDataIds();
    expect(() =>
      tf.engine().runKernel("Conv2DBackpropFilter", { x, dy }, {
        strides: 1,
        pad: "same",
        dataFormat: "NCHW",
        filterShape: [3, 3, 2, 3],
      } as never),
    ).toThrow(/Conv2DBackpropFilter: dataFormat must be 'NHWC'.*'NCHW'/);
    const xi = tf.zeros([1, 4, 4, 2], "int32");
    expect(() =>
      tf.engine().runKernel("Conv2DBackpropFilter", { x: xi, dy }, {
        strides: 1,
        pad: "same",
        dataFormat: "NHWC",
        filterShape: [3, 3, 2, 3],
      } as never),
    ).toThrow(/input 'x' must be float32, got int32/);
    expect(() =>
      tf.engine().runKernel("Conv2DBackpropInput", { dy, filter: tf.zeros([3, 3, 2, 4]) }, {
        strides: 1,
        pad: "same",
        dataFormat: "NHWC",
        inputShape: [1, 4, 4, 2],
      } as never),
    ).toThrow(/Conv2DBackpropInput: 'dy' has shape \[1, 4, 4, 3\], expected \[1, 4, 4, 4\]/);
    expect(tf.engine().backend.numDataIds()).toBe(before + 2); // xi and the zeros filter only
    tf.dispose([x, dy, xi]);
  });
});

describe("UnsortedSegmentSum on wasm matches the cpu backend", () => {
  /** The definition, written out: out[k] = sum of the rows of x whose id is k (ids out of range dropped). */
  function reference(values: number[], ids: number[], inner: number, numSegments: number): number[] {
    const out = new Array<number>(numSegments * inner).fill(0);
    ids.forEach((k, i) => {
      if (k < 0 || k >= numSegments) return;
      for (let e = 0; e < inner; e++) out[k * inner + e]! += values[i * inner + e]!;
    });
    return out;
  }

  it.each([
    ["float32 rows", [6, 3], [6], "float32", 4, true],
    ["float32 rank-2 ids", [2, 3, 4], [2, 3], "float32", 5, false],
    ["int32 values", [5, 2], [5], "int32", 3, true],
    ["scalar rows", [7], [7], "float32", 3, true],
    ["empty output", [3, 2], [3], "float32", 0, false],
  ] as const)("%s", async (_name, xShape, idShape, dtype, numSegments, cpuSupports) => {
    const n = size([...xShape]);
    const values = Array.from(random(n, 5), (v) => (dtype === "int32" ? Math.round(v * 100) : v));
    const ids = Array.from(
      random(size([...idShape]), 6),
      (v) => Math.floor((v + 1) * 0.5 * (numSegments + 2)) - 1,
    );
    expect(ids.some((k) => k < 0 || k >= numSegments)).toBe(true); // out-of-range ids are exercised
    const f = (): tf.Tensor => {
      const idsT: tf.Tensor = tf.tensor(ids, [...idShape] as number[], "int32");
      return tf.unsortedSegmentSum(
        tf.tensor(values, [...xShape] as number[], dtype),
        idsT as tf.Tensor1D,
        numSegments,
      );
    };
    const actual = await on("wasm", f);
    const inner = n / size([...idShape]);
    expectClose(
      actual,
      reference(
        Array.from(values, (v) => Math.fround(v)),
        ids,
        inner,
        numSegments,
      ),
      1e-6,
    );
    if (cpuSupports) expectClose(actual, await on("cpu", f), 1e-6);
    await tf.setBackend("wasm");
    expect(tf.tidy(f).dtype).toBe(dtype);
  });

  it("makes the gradient of an embedding lookup (tf.gather) work on wasm", async () => {
    const table = random(10 * 4, 8);
    const idx = [3, 1, 3, 9, 0, 3];
    const grad = (): tf.Tensor =>
      tf.grad((t: tf.Tensor) => tf.sum(tf.square(tf.gather(t, tf.tensor1d(idx, "int32")))))(
        tf.tensor(table, [10, 4]),
      );
    expectClose(await on("wasm", grad), await on("cpu", grad), 1e-6);
  });

  it("rejects a bad numSegments and non-int32 ids without allocating", async () => {
    await tf.setBackend("wasm");
    const x = tf.zeros([3, 2]);
    const ids = tf.tensor1d([0, 1, 2], "int32");
    const before = tf.engine().backend.numDataIds();
    expect(() =>
      tf.engine().runKernel("UnsortedSegmentSum", { x, segmentIds: ids }, { numSegments: -1 } as never),
    ).toThrow(/numSegments must be a non-negative integer, got -1/);
    const fids = tf.tensor1d([0, 1, 2], "float32");
    expect(() =>
      tf.engine().runKernel("UnsortedSegmentSum", { x, segmentIds: fids }, { numSegments: 3 } as never),
    ).toThrow(/segmentIds must be int32, got float32/);
    expect(tf.engine().backend.numDataIds()).toBe(before + 1);
    tf.dispose([x, ids, fids]);
  });
});

describe("MaxPoolGrad and BatchMatMul (transposed operands) on wasm match the cpu backend", () => {
  it.each([
    ["2x2 stride 2 valid", [2, 6, 6, 3], 2, 2, "valid"],
    ["2x2 stride 2 valid, odd sides (last row and column unused)", [2, 7, 5, 3], 2, 2, "valid"],
    ["2x2 stride 2 same, odd sides (padded windows)", [1, 5, 7, 2], 2, 2, "same"],
    ["3x3 stride 2 same", [2, 7, 5, 2], 3, 2, "same"],
    ["2x3 stride 1 same", [1, 5, 6, 4], [2, 3], 1, "same"],
    ["3x3 stride 3 explicit-by-number", [1, 8, 8, 2], 3, 3, 1],
  ] as const)("max pool gradient, %s, with ReLU ties", async (_n, shape, fs, strides, pad) => {
    const filterSize = (typeof fs === "number" ? fs : [...fs]) as number | [number, number];
    // Half the inputs are exactly zero after the ReLU: ties must go to the first maximum, as on cpu.
    const x = random(size([...shape]), 31);
    await tf.setBackend("cpu");
    const yShape = tf.tidy(
      () => tf.maxPool(tf.zeros([...shape]) as tf.Tensor4D, filterSize, strides, pad).shape,
    );
    const weights = Array.from({ length: size(yShape) }, (_, i) => i + 1); // distinct per output position
    const grad = (): tf.Tensor =>
      tf.grad((v: tf.Tensor) =>
        tf.sum(
          tf.mul(tf.maxPool(tf.relu(v) as tf.Tensor4D, filterSize, strides, pad), tf.tensor(weights, yShape)),
        ),
      )(tf.tensor(x, [...shape]));
    expectClose(await on("wasm", grad), await on("cpu", grad), 1e-6);
  });

  it.each([
    ["2-D", [7, 5], [7, 3], true, false],
    ["batched", [2, 6, 4], [2, 6, 5], true, false],
    ["both transposed", [3, 4, 6], [3, 5, 4], true, true],
    ["broadcast b", [2, 6, 4], [1, 6, 5], true, false],
    ["broadcast a", [1, 6, 4], [3, 6, 5], true, false],
    ["transposeB only", [4, 6], [5, 6], false, true],
    ["batched transposeB, broadcast a", [1, 4, 6], [2, 5, 6], false, true],
    ["plain (delegated)", [4, 6], [6, 3], false, false],
  ] as const)("matMul %s", async (_n, aShape, bShape, ta, tb) => {
    const a = random(size([...aShape]), 41);
    const b = random(size([...bShape]), 42);
    const f = (): tf.Tensor => tf.matMul(tf.tensor(a, [...aShape]), tf.tensor(b, [...bShape]), ta, tb);
    expectClose(await on("wasm", f), await on("cpu", f), 1e-6);
  });

  it("gives a dense layer's weight gradient (xᵀ·dy) as on cpu", async () => {
    const x = random(32 * 20, 51);
    const w = random(20 * 7, 52);
    const grad = (): tf.Tensor =>
      tf.grad((v: tf.Tensor) => tf.sum(tf.square(tf.matMul(tf.tensor(x, [32, 20]), v))))(
        tf.tensor(w, [20, 7]),
      );
    expectClose(await on("wasm", grad), await on("cpu", grad), 1e-5);
  });
});

describe("registerWasmTrainingKernels", () => {
  const ALL = [
    "Conv2DBackpropFilter",
    "UnsortedSegmentSum",
    "Conv2DBackpropInput",
    "MaxPoolGrad",
    "BatchMatMul",
  ];

  it("is idempotent, and can restore the built-in kernels and unregister everything", async () => {
    const { unregisterWasmTrainingKernels } = await import("../../src/tfjs/wasm-kernels/index.js");
    const again = registerWasmTrainingKernels();
    expect(again).toEqual(Object.fromEntries(ALL.map((k) => [k, "already-ours"])));
    const oursInput = tf.getKernel("Conv2DBackpropInput", "wasm")!.kernelFunc;
    const restored = registerWasmTrainingKernels({ replaceBuiltins: false });
    expect(restored["Conv2DBackpropInput"]).toBe("restored-builtin");
    expect(restored["BatchMatMul"]).toBe("restored-builtin");
    expect(restored["Conv2DBackpropFilter"]).toBe("already-ours");
    expect(tf.getKernel("Conv2DBackpropInput", "wasm")!.kernelFunc).not.toBe(oursInput);
    expect(registerWasmTrainingKernels()["Conv2DBackpropInput"]).toBe("registered");
    expect(tf.getKernel("Conv2DBackpropInput", "wasm")!.kernelFunc).toBe(oursInput);

    expect(unregisterWasmTrainingKernels().sort()).toEqual([...ALL].sort());
    expect(tf.getKernel("Conv2DBackpropFilter", "wasm")).toBeUndefined();
    expect(tf.getKernel("BatchMatMul", "wasm")).toBeDefined(); // the built-in one is back
    await tf.setBackend("wasm");
    expect(() =>
      tf.tidy(() =>
        tf.grad((w: tf.Tensor) =>
          tf.sum(tf.conv2d(tf.ones([1, 3, 3, 1]) as tf.Tensor4D, w as tf.Tensor4D, 1, "same")),
        )(tf.ones([2, 2, 1, 1])),
      ),
    ).toThrow(/Conv2DBackpropFilter/);
    expect(unregisterWasmTrainingKernels()).toEqual([]);
    expect(registerWasmTrainingKernels()).toEqual(Object.fromEntries(ALL.map((k) => [k, "registered"])));
  });

  it("rejects a non-boolean option without registering anything", () => {
    expect(() => registerWasmTrainingKernels({ replaceBuiltins: "yes" as never })).toThrow(
      /replaceBuiltins must be a boolean, got yes/,
    );
  });
});
