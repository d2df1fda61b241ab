import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { CharLanguageModel } from "../src/models/char-lm.js";
import { bpttBatches, runLstm, task } from "../src/tasks/lstm.js";
import { useBackend } from "../src/train/backend.js";

describe("bpttBatches", () => {
  it("lays out parallel streams with targets shifted by one", () => {
    const codes = Uint8Array.from({ length: 41 }, (_, i) => i);
    const batches = bpttBatches(codes, 2, 5); // segments of 20: streams start at 0 and 20
    expect(batches).toHaveLength(4);
    expect(Array.from(batches[0]!.inputs)).toEqual([0, 1, 2, 3, 4, 20, 21, 22, 23, 24]);
    expect(Array.from(batches[0]!.targets)).toEqual([1, 2, 3, 4, 5, 21, 22, 23, 24, 25]);
    expect(Array.from(batches[1]!.inputs.subarray(0, 5))).toEqual([5, 6, 7, 8, 9]);
    expect(() => bpttBatches(codes, 8, 10)).toThrow(/too few/);
  });
});

describe("CharLanguageModel", () => {
  it("gives the same logits with the lean LSTM and with tf.layers.lstm holding the same weights", async () => {
    await useBackend("cpu");
    const lean = new CharLanguageModel({ vocabSize: 7, embedding: 3, units: 4, lstm: "lean" }, 5);
    const stock = new CharLanguageModel({ vocabSize: 7, embedding: 3, units: 4, lstm: "layers" }, 5);
    const all = [...lean.trainableWeights.entries()];
    expect(stock.trainableWeights).toHaveLength(all.length);
    for (const [i, w] of all) stock.trainableWeights[i]!.assign(w);
    const ids = tf.tensor2d(
      [
        [1, 2, 3, 0],
        [6, 5, 4, 3],
      ],
      [2, 4],
      "int32",
    );
    const a = lean.forward(ids);
    const b = stock.forward(ids);
    const diff = tf.max(tf.abs(tf.sub(a.logits, b.logits))).dataSync()[0]!;
    expect(diff).toBeLessThan(1e-5);
    expect(a.logits.shape).toEqual([8, 7]);
    tf.dispose([ids, a.logits, b.logits, a.state.h, a.state.c, b.state.h, b.state.c]);
    lean.dispose();
    stock.dispose();
  });
});

describe("lstm task", () => {
  it("trains a tiny character LSTM on wasm: finite metrics, falling loss, clipping recorded", async () => {
    await runLstm(
      { task: "lstm", optimizer: "sgd", seed: 1, size: "quick", backend: "wasm", epochs: 1 },
      { onProgress: () => {} },
      { trainChars: 32 * 64 + 1, evalChars: 500, embedding: 8, units: 16 },
    );
    const tensors = tf.memory().numTensors;
    const r = await runLstm(
      {
        task: "lstm",
        optimizer: "adam",
        seed: 1,
        size: "quick",
        backend: "wasm",
        epochs: 3,
        learningRate: 1e-2,
      },
      { onProgress: () => {} },
      { trainChars: 32 * 64 * 3 + 1, evalChars: 2000, embedding: 8, units: 16 },
    );
    expect(tf.memory().numTensors).toBe(tensors); // nothing leaked
    expect(r.curves).toHaveLength(3);
    for (const c of r.curves)
      for (const k of ["trainLoss", "valPpl", "testPpl", "testBpc"]) expect(Number.isFinite(c[k])).toBe(true);
    expect(r.curves[2]!["trainLoss"]!).toBeLessThan(r.curves[0]!["trainLoss"]!);
    expect(r.final["testPpl"]).toBeLessThan(83); // better than uniform over the vocabulary
    expect(r.final["testBpc"]).toBeCloseTo(Math.log2(r.final["testPpl"]!), 10);
    expect(r.hyperparameters).toMatchObject({
      clipGlobalNorm: 0.25,
      learningRate: 1e-2,
      epsilon: 1e-12,
      bptt: 64,
    });
    expect(r.hyperparameters["lrSchedule"]).toBe("×0.1 at updates 5, 7");
  });

  it("describes itself for the suite", () => {
    expect(task.headline.metric).toBe("testPpl");
    expect(task.headline.higherIsBetter).toBe(false);
  });
});
