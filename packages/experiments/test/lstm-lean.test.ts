import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-core/dist/register_all_gradients.js";
import "@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops.js";
import * as tfl from "@tensorflow/tfjs-layers";
import { LeanLstm, lstmLean, lstmSequence, type LstmState } from "../src/models/lstm-lean.js";
import { registerWasmTrainingKernels } from "adabelief/tfjs/wasm-kernels";

const B = 3;
const T = 5;
const F = 4;
const U = 6;

/** The LSTM written with plain differentiable tf ops (Keras's equations, sigmoid gates): the oracle. */
function reference(
  x: tf.Tensor3D,
  W: tf.Tensor2D,
  R: tf.Tensor2D,
  b: tf.Tensor1D,
  h0: tf.Tensor2D,
  c0: tf.Tensor2D,
): tf.Tensor3D {
  const [batch, steps, features] = x.shape;
  let h = h0;
  let c = c0;
  const outs: tf.Tensor2D[] = [];
  for (let t = 0; t < steps; t++) {
    const xt = tf.reshape(tf.slice(x, [0, t, 0], [batch, 1, features]), [batch, features]) as tf.Tensor2D;
    const z = tf.add(tf.add(tf.matMul(xt, W), tf.matMul(h, R)), b);
    const [zi, zf, zg, zo] = tf.split(z, 4, 1);
    c = tf.add(tf.mul(tf.sigmoid(zf!), c), tf.mul(tf.sigmoid(zi!), tf.tanh(zg!)));
    h = tf.mul(tf.sigmoid(zo!), tf.tanh(c));
    outs.push(h);
  }
  return tf.stack(outs, 1) as tf.Tensor3D;
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}

function maxAbs(a: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(a)).dataSync()[0]!);
}

describe.each(["cpu", "wasm"])("lean LSTM on %s", (backend) => {
  let lstm: LeanLstm;
  let x: tf.Tensor3D;
  let h0: tf.Tensor2D;
  let c0: tf.Tensor2D;
  let probe: tf.Tensor3D;

  beforeAll(async () => {
    if (backend === "wasm") {
      await import("@tensorflow/tfjs-backend-wasm");
      registerWasmTrainingKernels();
    }
    await tf.setBackend(backend);
    lstm = new LeanLstm({ inputSize: F, units: U, seed: 3 });
    // Non-trivial bias, so every gate's bias gradient is exercised.
    lstm.bias.assign(tf.randomNormal([4 * U], 0, 0.5, "float32", 4));
    x = tf.randomNormal([B, T, F], 0, 1, "float32", 1);
    h0 = tf.randomNormal([B, U], 0, 0.5, "float32", 2);
    c0 = tf.randomNormal([B, U], 0, 0.5, "float32", 5);
    probe = tf.randomNormal([B, T, U], 0, 1, "float32", 9);
  });

  afterAll(() => {
    lstm.dispose();
    tf.dispose([x, h0, c0, probe]);
  });

  it("computes what tf.layers.lstm (sigmoid gates) computes with the same weights", () => {
    const layer = tfl.layers.lstm({ units: U, returnSequences: true, recurrentActivation: "sigmoid" });
    tf.dispose(layer.apply(x) as tf.Tensor);
    layer.setWeights([lstm.kernel, lstm.recurrentKernel, lstm.bias]);
    const expected = layer.apply(x) as tf.Tensor;
    const actual = lstmLean(x, lstm);
    expect(actual.shape).toEqual([B, T, U]);
    expect(maxAbsDiff(actual, expected)).toBeLessThan(1e-5);
    tf.dispose([expected, actual]);
    layer.dispose();
  });

  it("has the gradients of the plain autodiff reference w.r.t. x, every weight and the initial state", () => {
    const loss = (out: tf.Tensor): tf.Scalar => tf.sum(tf.mul(out, probe));
    const args = [x, lstm.kernel, lstm.recurrentKernel, lstm.bias, h0, c0];
    const lean = tf.grads(
      (xi: tf.Tensor, W: tf.Tensor, R: tf.Tensor, b: tf.Tensor, h: tf.Tensor, c: tf.Tensor) => {
        const { output, state } = lstmSequence(
          xi as tf.Tensor3D,
          { kernel: W as tf.Tensor2D, recurrentKernel: R as tf.Tensor2D, bias: b as tf.Tensor1D },
          { h: h as tf.Tensor2D, c: c as tf.Tensor2D },
        );
        tf.dispose([state.h, state.c]);
        return loss(output);
      },
    )(args);
    const ref = tf.grads(
      (xi: tf.Tensor, W: tf.Tensor, R: tf.Tensor, b: tf.Tensor, h: tf.Tensor, c: tf.Tensor) =>
        loss(
          reference(
            xi as tf.Tensor3D,
            W as tf.Tensor2D,
            R as tf.Tensor2D,
            b as tf.Tensor1D,
            h as tf.Tensor2D,
            c as tf.Tensor2D,
          ),
        ),
    )(args);
    ["x", "kernel", "recurrentKernel", "bias", "h0", "c0"].forEach((name, i) => {
      const scale = maxAbs(ref[i]!);
      expect(scale, name).toBeGreaterThan(1e-3);
      expect(maxAbsDiff(lean[i]!, ref[i]!), name).toBeLessThan(1e-5 * (1 + scale));
    });
    tf.dispose([...lean, ...ref]);
  });

  it("returns the last hidden state and carries state across calls like one long sequence", () => {
    const whole = lstm.run(x);
    const first = lstm.run(tf.slice(x, [0, 0, 0], [B, 2, F]));
    const second = lstm.run(tf.slice(x, [0, 2, 0], [B, T - 2, F]), first.state);
    const joined = tf.concat([first.output, second.output], 1);
    expect(maxAbsDiff(joined, whole.output)).toBeLessThan(1e-6);
    expect(
      maxAbsDiff(whole.state.h, tf.reshape(tf.slice(whole.output, [0, T - 1, 0], [B, 1, U]), [B, U])),
    ).toBe(0);
    expect(maxAbsDiff(second.state.c, whole.state.c)).toBeLessThan(1e-6);
    tf.dispose([whole.output, whole.state.h, whole.state.c, first.output, first.state.h, first.state.c]);
    tf.dispose([second.output, second.state.h, second.state.c, joined]);
  });

  it("trains with a tf.Optimizer through an embedding (gather) and leaks no tensors", () => {
    const vocab = 7;
    const net = new LeanLstm({ inputSize: F, units: U, seed: 11 });
    const emb = tf.variable(tf.randomNormal([vocab, F], 0, 0.5, "float32", 12));
    const out = tf.variable(tf.randomNormal([U, vocab], 0, 0.5, "float32", 13));
    const ids = tf.tensor2d(
      [
        [1, 2, 3, 4, 5],
        [6, 5, 4, 3, 2],
        [0, 1, 0, 1, 0],
      ],
      [B, T],
      "int32",
    );
    const targets = tf.oneHot(tf.tensor1d([2, 3, 4, 5, 6, 5, 4, 3, 2, 1, 1, 0, 1, 0, 1], "int32"), vocab);
    const opt = tf.train.adam(0.05);
    const lossFn = (): tf.Scalar => {
      const h = net.apply(tf.gather(emb, ids) as tf.Tensor3D);
      const logits = tf.matMul(tf.reshape(h, [B * T, U]), out);
      return tf.mean(tf.neg(tf.sum(tf.mul(targets, tf.logSoftmax(logits)), 1)));
    };
    const before = tf.memory().numTensors;
    const losses: number[] = [];
    for (let i = 0; i < 20; i++) {
      const l = opt.minimize(lossFn, true, [...net.trainableWeights, emb, out])!;
      losses.push(l.dataSync()[0]!);
      l.dispose();
    }
    // Adam's two slots per variable are the only new tensors.
    expect(tf.memory().numTensors - before).toBe(2 * 5);
    expect(losses[19]!).toBeLessThan(0.5 * losses[0]!);
    opt.dispose();
    net.dispose();
    tf.dispose([emb, out, ids, targets]);
  });
});

describe("LeanLstm construction and argument checks", () => {
  beforeAll(async () => {
    await tf.setBackend("cpu");
  });

  it("initialises like Keras: orthonormal recurrent rows, Glorot-bounded kernel, forget bias 1", () => {
    const l = new LeanLstm({ inputSize: 5, units: 8, seed: 1 });
    const gram = tf.matMul(l.recurrentKernel, l.recurrentKernel, false, true);
    expect(maxAbsDiff(gram, tf.eye(8))).toBeLessThan(1e-5);
    expect(maxAbs(l.kernel)).toBeLessThanOrEqual(Math.sqrt(6 / (5 + 32)));
    expect(Array.from(l.bias.dataSync())).toEqual([
      ...Array(8).fill(0),
      ...Array(8).fill(1),
      ...Array(16).fill(0),
    ]);
    const same = new LeanLstm({ inputSize: 5, units: 8, seed: 1 });
    expect(maxAbsDiff(same.kernel, l.kernel)).toBe(0);
    expect(same.kernel.name).not.toBe(l.kernel.name);
    const noForget = new LeanLstm({ inputSize: 5, units: 8, unitForgetBias: false });
    expect(maxAbs(noForget.bias)).toBe(0);
    tf.dispose(gram);
    [l, same, noForget].forEach((m) => m.dispose());
  });

  it("rejects bad options and inputs with errors naming them, and changes nothing", () => {
    expect(() => new LeanLstm({ inputSize: 0, units: 4 })).toThrow(
      /inputSize must be a positive integer, got 0/,
    );
    expect(() => new LeanLstm({ inputSize: 3, units: 2.5 })).toThrow(
      /units must be a positive integer, got 2.5/,
    );
    const l = new LeanLstm({ inputSize: 3, units: 4 });
    const before = tf.memory().numTensors;
    expect(() => l.apply(tf.zeros([2, 5, 4]) as tf.Tensor3D)).toThrow(
      /kernel has shape \[3, 16\], expected \[4, 16\]/,
    );
    expect(() => l.apply(tf.zeros([2, 0, 3]) as tf.Tensor3D)).toThrow(/at least one time step, got time = 0/);
    expect(() => l.apply(tf.zeros([2, 3]) as unknown as tf.Tensor3D)).toThrow(
      /x must be \[batch, time, features\]/,
    );
    const badState: LstmState = { h: tf.zeros([2, 5]) as tf.Tensor2D, c: tf.zeros([2, 4]) as tf.Tensor2D };
    expect(() => l.apply(tf.zeros([2, 5, 3]) as tf.Tensor3D, badState)).toThrow(
      /initialState.h has shape \[2, 5\], expected \[2, 4\]/,
    );
    expect(tf.memory().numTensors).toBe(before + 6); // only the inputs made above
    const kernelBefore = l.kernel.dataSync().slice();
    expect(() =>
      l.setWeights({
        kernel: tf.ones([3, 16]) as tf.Tensor2D,
        recurrentKernel: tf.ones([4, 15]) as tf.Tensor2D,
        bias: tf.ones([16]) as tf.Tensor1D,
      }),
    ).toThrow(/recurrentKernel has shape \[4, 15\], expected \[4, 16\]/);
    expect(Array.from(l.kernel.dataSync())).toEqual(Array.from(kernelBefore));
    l.dispose();
  });
});
