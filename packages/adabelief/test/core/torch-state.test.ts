/**
 * Moving a run between adabelief and PyTorch: the fixtures of scripts/torch-state-fixtures.py hold, per
 * case, PyTorch's `state_dict()` after K steps as a safetensors file and the parameters of the steps after.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  Adam,
  AdaBelief,
  fromTorchState,
  readSafetensors,
  RAdam,
  SGD,
  setWarningHandler,
  StateError,
  toTorchState,
  writeSafetensors,
  Yogi,
  type FloatArray,
} from "../../src/core/index.js";
import {
  coreOptimizerOf,
  TORCH_STATE_CASES,
  torchStateFile,
  type TorchStateCase,
} from "../golden/torch-state-cases.js";

type Case = TorchStateCase;
const cases = TORCH_STATE_CASES;
/** The golden comparison rule: |actual − expected| ≤ tol·(1 + |expected|). */
const TOL = { float32: 1e-5, float64: 1e-10 };

const arrays = (c: Case, values: number[][]) =>
  values.map((v) => (c.dtype === "float64" ? Float64Array.from(v) : Float32Array.from(v)));
const make = coreOptimizerOf;

function expectClose(c: Case, got: FloatArray[], want: number[][], where: string) {
  got.forEach((p, i) =>
    p.forEach((x, j) => {
      const e = want[i]![j]!;
      if (!(Math.abs(x - e) <= TOL[c.dtype] * (1 + Math.abs(e)))) {
        throw new Error(`${c.name}/${c.dtype} ${where}: parameter ${i}[${j}] = ${x}, PyTorch ${e}`);
      }
    }),
  );
}

let restore: ((m: string) => void) | undefined;
afterEach(() => {
  if (restore) setWarningHandler(restore);
  restore = undefined;
});

describe.each(cases.map((c) => [`${c.name}/${c.dtype}`, c] as const))("%s", (_, c) => {
  const file = torchStateFile(c);

  it("imported into the library, continues to PyTorch's parameters", () => {
    const params = arrays(c, c.trajectory[c.savedAfter - 1]!);
    const opt = make(c, params);
    fromTorchState(opt, file);
    // torch.optim.SGD keeps no step count: the import counts the momentum buffers' one step.
    expect(opt.iterations).toBe(c.optimizer === "torch.optim.SGD" ? 1 : c.savedAfter);
    for (let k = c.savedAfter; k < c.grads.length; k++) {
      opt.step(arrays(c, c.grads[k]!));
      expectClose(c, params, c.trajectory[k]!, `step ${k + 1}`);
    }
  });

  it("exported after the same steps, is PyTorch's file: the same tensors, param groups and scalars", () => {
    const params = arrays(c, c.init);
    const opt = make(c, params);
    for (let k = 0; k < c.savedAfter; k++) opt.step(arrays(c, c.grads[k]!));
    const ours = readSafetensors(toTorchState(opt, { shapes: c.shapes }));
    const theirs = readSafetensors(file);
    expect(Object.keys(ours.tensors).sort()).toEqual(Object.keys(theirs.tensors).sort());
    for (const [name, t] of Object.entries(theirs.tensors)) {
      const o = ours.tensors[name]!;
      expect([o.dtype, o.shape], name).toEqual([t.dtype, t.shape]);
      t.data.forEach((e, j) => {
        if (!(Math.abs(o.data[j]! - e) <= TOL[c.dtype] * (1 + Math.abs(e)))) {
          throw new Error(`${c.name}/${c.dtype}: ${name}[${j}] = ${o.data[j]}, PyTorch ${e}`);
        }
      });
    }
    for (const key of ["optimizer", "format"]) expect(ours.metadata[key]).toBe(theirs.metadata[key]);
    // AdaBelief's `buffer` is a cache of (step, N_sma, step size) that PyTorch recomputes when it is empty.
    const groups = (m: Record<string, string>) =>
      (JSON.parse(m["param_groups"]!) as Record<string, unknown>[]).map(({ buffer: _, ...g }) => g);
    expect(groups(ours.metadata)).toEqual(groups(theirs.metadata));
    expect(JSON.parse(ours.metadata["scalars"]!)).toEqual(JSON.parse(theirs.metadata["scalars"]!));
    // and the round trip through the library's own reader continues bit for bit
    const again = make(
      c,
      params.map((p) => p.slice()),
    );
    fromTorchState(again, toTorchState(opt));
    expect(again.getState()).toEqual(opt.getState());
  });
});

describe("refusals lose nothing", () => {
  const adamCase = cases.find((c) => c.name === "adam-amsgrad" && c.dtype === "float64")!;
  const adamFile = torchStateFile(adamCase);

  it("another optimizer's file, another parameter count or size, a corrupt file", () => {
    const params = [new Float64Array(6), new Float64Array(4)];
    const sgd = new SGD(params, { momentum: 0.9 });
    expect(() => fromTorchState(sgd, adamFile)).toThrow(/torch\.optim\.Adam.*torch\.optim\.SGD/);
    const adam = new Adam([new Float64Array(6)], { amsgrad: true });
    const before = JSON.stringify(adam.getState());
    expect(() => fromTorchState(adam, adamFile)).toThrow(/2 parameters, this optimizer 1/);
    const wrongSize = new Adam([new Float64Array(6), new Float64Array(5)], { amsgrad: true });
    expect(() => fromTorchState(wrongSize, adamFile)).toThrow(/has 4 values, parameter 1 5/);
    const truncated = adamFile.subarray(0, adamFile.length - 4);
    expect(() => fromTorchState(adam, truncated)).toThrow(StateError);
    expect(JSON.stringify(adam.getState())).toBe(before);
  });

  it("a warning handler that throws on differing hyper-parameters leaves the optimizer as it was", () => {
    const params = [new Float64Array(6), new Float64Array(4)];
    const adam = new Adam(params, { amsgrad: true, learningRate: 0.5 });
    const before = JSON.stringify(adam.getState());
    restore = setWarningHandler((m) => {
      throw new Error(m);
    });
    expect(() => fromTorchState(adam, adamFile)).toThrow(/lr 0\.01 \(here 0\.5\)/);
    expect(JSON.stringify(adam.getState())).toBe(before);
  });

  it("optimizers without a PyTorch counterpart here, RAdam's paper variant, and shapes that do not fit", () => {
    expect(() => toTorchState(new Yogi([new Float64Array(2)]))).toThrow(/Yogi has no PyTorch counterpart/);
    expect(() => toTorchState(new RAdam([new Float64Array(2)], { variant: "paper" }))).toThrow(/paper/);
    expect(() => toTorchState(new AdaBelief([new Float64Array(6)]), { shapes: [[2, 2]] })).toThrow(
      /shape \[2, 2\]/,
    );
  });
});

describe("param groups", () => {
  let warnings: string[] = [];
  beforeEach(() => {
    warnings = [];
    restore = setWarningHandler((m) => warnings.push(m));
  });

  function grouped() {
    const params = [Float64Array.of(1, 2, 3), Float64Array.of(0.5), Float64Array.of(-1, 1)];
    const opt = new Adam(
      [
        { params: [params[0]!] },
        { params: [params[1]!, params[2]!], weightDecay: 0, learningRate: 1e-3, amsgrad: true },
      ],
      { learningRate: 1e-2, weightDecay: 1e-2 },
    );
    for (let t = 0; t < 4; t++) opt.step(params.map((p) => p.map((x) => x * (t + 1))));
    return { params, opt };
  }

  it("exports one param group per group, with its options and parameters; the file reads back bit for bit", () => {
    const { params, opt } = grouped();
    const file = readSafetensors(toTorchState(opt));
    const groups = JSON.parse(file.metadata["param_groups"]!) as Record<string, unknown>[];
    expect(groups).toEqual([
      expect.objectContaining({ lr: 1e-2, weight_decay: 1e-2, amsgrad: false, params: [0] }),
      expect.objectContaining({ lr: 1e-3, weight_decay: 0, amsgrad: true, params: [1, 2] }),
    ]);
    // AMSGrad's maximum exists for the parameters of the group that has it.
    expect(
      Object.keys(file.tensors)
        .filter((k) => k.includes("max_exp_avg_sq"))
        .sort(),
    ).toEqual(["state.1.max_exp_avg_sq", "state.2.max_exp_avg_sq"]);
    const again = new Adam(
      [
        { params: [params[0]!.slice()] },
        {
          params: [params[1]!.slice(), params[2]!.slice()],
          weightDecay: 0,
          learningRate: 1e-3,
          amsgrad: true,
        },
      ],
      { learningRate: 1e-2, weightDecay: 1e-2 },
    );
    fromTorchState(again, toTorchState(opt));
    expect(warnings).toEqual([]);
    expect(again.getState()).toEqual(opt.getState());
  });

  it("compares each saved param group with the options of the parameters it holds here", () => {
    const { opt } = grouped();
    const file = toTorchState(opt);
    // A one-group optimizer reads the two groups concatenated; group 1 differs from its options.
    const single = new Adam([Float64Array.of(0, 0, 0), Float64Array.of(0), Float64Array.of(0, 0)], {
      learningRate: 1e-2,
      weightDecay: 1e-2,
    });
    fromTorchState(single, file);
    expect(warnings).toEqual([
      expect.stringMatching(
        /saved param groups differ from this optimizer's options: param group 1: lr 0\.001 \(here 0\.01\); param group 1: weight_decay 0 \(here 0\.01\); param group 1: amsgrad true \(here false\); the optimizer keeps its own$/,
      ),
    ]);
    expect(single.getState().slots).toEqual({ m: opt.getState().slots["m"], v: opt.getState().slots["v"] });
    // With AMSGrad for every parameter, the maximum is missing for the first group's: refused, as PyTorch does.
    const amsgrad = new Adam([Float64Array.of(0, 0, 0), Float64Array.of(0), Float64Array.of(0, 0)], {
      amsgrad: true,
    });
    expect(() => fromTorchState(amsgrad, file)).toThrow(/max_exp_avg_sq is saved for 2 of 3 parameters/);
    // A file as PyTorch writes it for two groups (ids numbered across the groups), read by a grouped optimizer
    // whose groups have the file's options: no warning.
    warnings = [];
    const meta = readSafetensors(file);
    const twin = new Adam(
      [
        { params: [Float64Array.of(0, 0, 0)] },
        {
          params: [Float64Array.of(0), Float64Array.of(0, 0)],
          weightDecay: 0,
          learningRate: 1e-3,
          amsgrad: true,
        },
      ],
      { learningRate: 1e-2, weightDecay: 1e-2 },
    );
    fromTorchState(twin, writeSafetensors(meta.tensors, meta.metadata));
    expect(warnings).toEqual([]);
    expect(twin.getState().slots).toEqual(opt.getState().slots);
  });

  it("a Yogi group still has no PyTorch counterpart; SGD groups with and without momentum export their buffers", () => {
    expect(() => toTorchState(new Yogi([{ params: [Float64Array.of(1)] }]))).toThrow(
      /Yogi has no PyTorch counterpart/,
    );
    const p = [Float64Array.of(1), Float64Array.of(2)];
    const sgd = new SGD([{ params: [p[0]!] }, { params: [p[1]!], momentum: 0 }], { momentum: 0.9 });
    sgd.step([Float64Array.of(1), Float64Array.of(1)]);
    const file = readSafetensors(toTorchState(sgd));
    expect(Object.keys(file.tensors)).toEqual(["state.0.momentum_buffer"]);
    const back = new SGD([{ params: [Float64Array.of(1)] }, { params: [Float64Array.of(2)], momentum: 0 }], {
      momentum: 0.9,
    });
    fromTorchState(back, toTorchState(sgd));
    expect(back.getState()).toEqual(sgd.getState());
  });
});

describe("safetensors", () => {
  it("round-trips F32 and F64 tensors, scalars and metadata; pads the header to 8 bytes", () => {
    const bytes = writeSafetensors(
      {
        b: { dtype: "F32", shape: [], data: Float32Array.of(3) },
        a: { dtype: "F64", shape: [2, 1], data: Float64Array.of(-0, Number.MIN_VALUE) },
      },
      { note: "x" },
    );
    expect(Number(new DataView(bytes.buffer).getBigUint64(0, true)) % 8).toBe(0);
    const back = readSafetensors(bytes);
    expect(back.metadata).toEqual({ note: "x" });
    expect(Object.is(back.tensors["a"]!.data[0], -0)).toBe(true);
    expect(back.tensors["a"]!.data[1]).toBe(Number.MIN_VALUE);
    expect(back.tensors["b"]).toEqual({ dtype: "F32", shape: [], data: Float32Array.of(3) });
  });

  it("refuses other dtypes, ranges outside the data, gaps and bad headers, naming the problem", () => {
    const file = (header: object, data = 8) => {
      const json = new TextEncoder().encode(JSON.stringify(header));
      const out = new Uint8Array(8 + json.length + data);
      new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
      out.set(json, 8);
      return out;
    };
    expect(() => readSafetensors(file({ a: { dtype: "I64", shape: [1], data_offsets: [0, 8] } }))).toThrow(
      /dtype "I64"/,
    );
    expect(() => readSafetensors(file({ a: { dtype: "F64", shape: [2], data_offsets: [0, 16] } }))).toThrow(
      /do not hold/,
    );
    expect(() => readSafetensors(file({ a: { dtype: "F32", shape: [1], data_offsets: [4, 8] } }))).toThrow(
      /gap or overlap/,
    );
    expect(() => readSafetensors(file({ a: { dtype: "F32", shape: [1], data_offsets: [0, 4] } }))).toThrow(
      /belong to no tensor/,
    );
    expect(() => readSafetensors(Uint8Array.of(255, 255, 255, 255, 0, 0, 0, 0, 1))).toThrow(/header length/);
  });
});
