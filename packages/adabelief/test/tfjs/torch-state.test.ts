/**
 * The TF.js optimizers' PyTorch state files: the float32 cases of scripts/torch-state-fixtures.py, run
 * through `applyGradients` on the cpu backend (fused path) and the tensor path.
 */
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { readSafetensors, StateError } from "../../src/core/index.js";
import { fromTorchState, toTorchState, yogi, type KernelChoice } from "../../src/tfjs/index.js";
import {
  coreOptimizerOf,
  TORCH_STATE_CASES,
  torchStateFile,
  type TorchStateCase,
} from "../golden/torch-state-cases.js";
import { twinOf, useBackend } from "./helpers.js";

type Case = TorchStateCase;
const cases = TORCH_STATE_CASES.filter((c) => c.dtype === "float32");
const TOL = 1e-5;

function tfjsOptimizer(c: Case, kernel: KernelChoice) {
  const core = coreOptimizerOf(c, [new Float32Array(1)]);
  return twinOf(core as never, { kernel });
}

let serial = 0;
const variablesAt = (c: Case, values: number[][]) =>
  values.map((v, i) => {
    const t = tf.tensor(v, c.shapes[i]!, "float32");
    const variable = tf.variable(t, true, `torch_${serial++}_p${i}`);
    t.dispose();
    return variable;
  });

function step(opt: tf.Optimizer, vars: tf.Variable[], grads: number[][], c: Case) {
  const g = grads.map((v, i) => tf.tensor(v, c.shapes[i]!, "float32"));
  opt.applyGradients(vars.map((v, i) => ({ name: v.name, tensor: g[i]! })));
  g.forEach((t) => t.dispose());
}

function expectClose(got: ArrayLike<number>, want: readonly number[], where: string) {
  Array.from(got).forEach((x, j) => {
    const e = want[j]!;
    if (!(Math.abs(x - e) <= TOL * (1 + Math.abs(e)))) throw new Error(`${where}[${j}] = ${x}, PyTorch ${e}`);
  });
}

beforeAll(() => useBackend("cpu"));

describe.each(["fused", "tensor"] as const)("kernel %s", (kernel) => {
  it.each(cases.map((c) => [c.name, c] as const))(
    "%s: export equals PyTorch's file; import continues to its parameters",
    async (_, c) => {
      const file = torchStateFile(c);
      const before = tf.memory().numTensors;
      // export after the same steps
      const opt = tfjsOptimizer(c, kernel === "fused" ? "auto" : "tensor");
      const vars = variablesAt(c, c.init);
      for (let k = 0; k < c.savedAfter; k++) step(opt, vars, c.grads[k]!, c);
      const ours = readSafetensors(await toTorchState(opt, { variables: vars }));
      const theirs = readSafetensors(file);
      expect(Object.keys(ours.tensors).sort()).toEqual(Object.keys(theirs.tensors).sort());
      for (const [name, t] of Object.entries(theirs.tensors)) {
        expect(ours.tensors[name]!.shape, name).toEqual(t.shape);
        expectClose(ours.tensors[name]!.data, Array.from(t.data), name);
      }
      // import into a fresh optimizer over variables at PyTorch's parameters, then continue
      const fresh = tfjsOptimizer(c, kernel === "fused" ? "auto" : "tensor");
      const at = variablesAt(c, c.trajectory[c.savedAfter - 1]!);
      await fromTorchState(fresh, file, { variables: at });
      for (let k = c.savedAfter; k < c.grads.length; k++) {
        step(fresh, at, c.grads[k]!, c);
        at.forEach((v, i) => expectClose(v.dataSync(), c.trajectory[k]![i]!, `step ${k + 1} parameter ${i}`));
      }
      expect(fresh.iterations).toBe(
        c.grads.length - c.savedAfter + (c.optimizer === "torch.optim.SGD" ? 1 : c.savedAfter),
      );
      [...vars, ...at].forEach((v) => v.dispose());
      opt.dispose();
      fresh.dispose();
      expect(tf.memory().numTensors).toBe(before);
    },
  );
});

describe("refusals", () => {
  it("needs the variables on import, refuses optimizers without a PyTorch counterpart and foreign files", async () => {
    const c = cases.find((k) => k.name === "adam-amsgrad")!;
    const file = torchStateFile(c);
    const opt = tfjsOptimizer(c, "auto");
    await expect(fromTorchState(opt, file, { variables: [] })).rejects.toThrow(/options\.variables/);
    await expect(toTorchState(yogi())).rejects.toThrow(/Yogi has no PyTorch counterpart/);
    const sgd = tfjsOptimizer(
      cases.find((k) => k.name === "sgd-momentum")!,
      "auto",
    );
    const vars = variablesAt(c, c.init);
    await expect(fromTorchState(sgd, file, { variables: vars })).rejects.toThrow(StateError);
    vars.forEach((v) => v.dispose());
  });
});
