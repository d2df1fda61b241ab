import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { HPARAMS, TASK_SETTINGS } from "../src/hparams.js";
import {
  buildVocabulary,
  EOS,
  loadSotu,
  readAddresses,
  SOTU_VOCAB_SIZE,
  splitByDocument,
  tokenizeAddress,
  UNK,
} from "../src/data/sotu.js";
import { WordLanguageModel, wordCrossEntropy } from "../src/models/word-lm.js";
import { runWordLm, streamBatch, task, task2, task3 } from "../src/tasks/word-lm.js";
import { useBackend } from "../src/train/backend.js";

describe("State of the Union corpus", () => {
  it("tokenises like PTB: lower case, clitics split, N for numbers, <eos> per sentence", () => {
    expect(tokenizeAddress("The Nation's debt isn't $1,250.5 million. Mr. Smith agreed! Did he?")).toEqual([
      "the",
      "nation",
      "'s",
      "debt",
      "is",
      "n't",
      "N",
      "million",
      EOS,
      "mr",
      "smith",
      "agreed",
      EOS,
      "did",
      "he",
      EOS,
    ]);
    expect(tokenizeAddress("The U.S. Congress—well-being’s end")).toEqual([
      "the",
      "u",
      "s",
      "congress",
      "well",
      "being",
      "'s",
      "end",
      EOS,
    ]);
  });

  it("splits by address in time order: contiguous, disjoint, every address once", () => {
    const docs = readAddresses();
    expect(docs.length).toBe(233);
    const split = splitByDocument(docs);
    const all = [...split.train, ...split.validation, ...split.test];
    expect(all.map((d) => d.file)).toEqual(docs.map((d) => d.file)); // contiguous, in order, no overlap
    expect(split.train.at(-1)!.year).toBeLessThanOrEqual(split.validation[0]!.year);
    expect(split.validation.at(-1)!.year).toBeLessThanOrEqual(split.test[0]!.year);
    const words = (ds: typeof docs) => ds.reduce((s, d) => s + d.tokens.length, 0);
    const total = words(docs);
    expect(words(split.train) / total).toBeGreaterThan(0.88);
    expect(words(split.validation) / total).toBeGreaterThan(0.04);
    expect(words(split.test) / total).toBeGreaterThan(0.04);
    // Small cases: cuts at document boundaries, each split non-empty.
    const toy = [3, 3, 3, 1].map((n, i) => ({ i, tokens: Array(n).fill("w") }));
    const s = splitByDocument(toy, { train: 0.5, validation: 0.25 });
    expect([s.train.length, s.validation.length, s.test.length]).toEqual([2, 1, 1]);
    expect(() => splitByDocument(toy.slice(0, 2))).toThrow(/at least 3 documents/);
  });

  it("has PTB's 10,000-word vocabulary from the training split, <eos> and <unk> included", () => {
    const c = loadSotu();
    expect(c.vocab).toHaveLength(SOTU_VOCAB_SIZE);
    expect(c.vocab[0]).toBe(EOS);
    expect(c.vocab[1]).toBe(UNK);
    expect(c.vocab).toContain("N");
    expect(new Set(c.vocab).size).toBe(SOTU_VOCAB_SIZE);
    expect(c.train.length).toBeGreaterThan(1_500_000);
    expect(c.validation.length).toBeGreaterThan(60_000);
    expect(c.test.length).toBeGreaterThan(60_000);
    expect(c.unkRate.test).toBeGreaterThan(0.01);
    expect(c.unkRate.test).toBeLessThan(0.1);
    const trainFiles = new Set(c.files.train);
    for (const f of [...c.files.validation, ...c.files.test]) expect(trainFiles.has(f)).toBe(false);
    expect(buildVocabulary(["b", "a", "b", "c", EOS, "a", "b"], 4)).toEqual([EOS, UNK, "b", "a"]);
  });
});

describe("word-level language model", () => {
  it("computes the cross-entropy and its gradient as tf.losses.softmaxCrossEntropy does", async () => {
    for (const backend of ["cpu", "wasm"] as const) {
      await useBackend(backend);
      const logits = tf.randomNormal([6, 11], 0, 3, "float32", 4) as tf.Tensor2D;
      const targets = Int32Array.from([0, 10, 3, 3, 7, 1]);
      const oneHot = tf.oneHot(tf.tensor1d(targets, "int32"), 11);
      const ref = (l: tf.Tensor) => tf.losses.softmaxCrossEntropy(oneHot, l as tf.Tensor2D) as tf.Scalar;
      const ours = (l: tf.Tensor) => wordCrossEntropy(l as tf.Tensor2D, targets);
      expect(ours(logits).dataSync()[0]).toBeCloseTo(ref(logits).dataSync()[0]!, 5);
      const g1 = tf.grad(ours)(logits).dataSync();
      const g2 = tf.grad(ref)(logits).dataSync();
      g1.forEach((v, i) => expect(v).toBeCloseTo(g2[i]!, 6));
      expect(() => wordCrossEntropy(logits, Int32Array.from([0, 1]))).toThrow(/2 targets for 6 rows/);
      expect(() => wordCrossEntropy(logits, Int32Array.from([0, 1, 2, 3, 4, 11]))).toThrow(
        /target 11 outside/,
      );
    }
  });

  it("lays the stream out as contiguous segments, targets shifted by one", () => {
    const codes = Int32Array.from({ length: 41 }, (_, i) => i);
    const b0 = streamBatch(codes, 2, 5, 0);
    expect(Array.from(b0.inputs)).toEqual([0, 1, 2, 3, 4, 20, 21, 22, 23, 24]);
    expect(Array.from(b0.targets)).toEqual([1, 2, 3, 4, 5, 21, 22, 23, 24, 25]);
    expect(Array.from(streamBatch(codes, 2, 5, 4).inputs)).toEqual(Array.from(b0.inputs)); // 4 batches, then it wraps
  });

  it("stacks 1–3 LSTM layers", async () => {
    await useBackend("wasm");
    for (const layers of [1, 2, 3]) {
      const m = new WordLanguageModel({ vocabSize: 50, embedding: 8, units: 6, layers }, 1);
      expect(m.lstms).toHaveLength(layers);
      expect(m.trainableWeights).toHaveLength(3 + 3 * layers);
      const { logits, state } = m.forward(tf.zeros([2, 4], "int32") as tf.Tensor2D);
      expect(logits.shape).toEqual([8, 50]);
      expect(state).toHaveLength(layers);
      tf.dispose([logits, ...state.flatMap((s) => [s.h, s.c])]);
      m.dispose();
    }
  });

  it("uses the paper's settings per depth", () => {
    expect(HPARAMS["word-lm"].adabelief.options).toMatchObject({ learningRate: 1e-3, epsilon: 1e-16 });
    expect(HPARAMS["word-lm-deep"].adabelief.options).toMatchObject({ learningRate: 1e-2, epsilon: 1e-12 });
    for (const o of ["adam", "radam", "adamw"] as const)
      expect(HPARAMS["word-lm-deep"][o].options).toMatchObject({ learningRate: 1e-2, epsilon: 1e-8 });
    expect(HPARAMS["word-lm-deep"].sgd.options).toMatchObject({ learningRate: 30, momentum: 0 });
    expect(TASK_SETTINGS["word-lm"].values).toMatchObject({
      batchSize: 20,
      clipGlobalNorm: 0.25,
      weightDecay: 1.2e-6,
    });
    expect([task.name, task2.name, task3.name]).toEqual(["word-lm", "word-lm-2", "word-lm-3"]);
    expect(task2.paperReference).toContain("2–3-layer");
    expect(task.paperReference).toMatch(/Cut relative to the\s+paper/);
  });

  it("trains a tiny 2-layer model for a few steps: finite, falling loss, nothing leaked", async () => {
    await useBackend("wasm");
    loadSotu();
    const before = tf.memory().numTensors;
    const r = await runWordLm(
      { task: "word-lm-2", optimizer: "adam", seed: 1, size: "quick", backend: "wasm", learningRate: 3e-3 },
      { onProgress: () => {} },
      2,
      { updates: 8, evalEvery: 4, evalWords: 700, embedding: 16, units: 16 },
    );
    expect(tf.memory().numTensors - before).toBe(0);
    expect(r.curves.map((c) => c["updates"])).toEqual([4, 8]);
    const [a, b] = r.curves;
    for (const c of r.curves)
      for (const k of ["trainLoss", "valPpl", "testPpl"]) expect(Number.isFinite(c[k])).toBe(true);
    expect(b!["trainLoss"]!).toBeLessThan(a!["trainLoss"]!);
    expect(a!["trainLoss"]!).toBeLessThan(Math.log(SOTU_VOCAB_SIZE) + 0.05); // starts near uniform
    expect(b!["valPpl"]!).toBeLessThan(a!["valPpl"]!);
    expect(r.final["diverged"]).toBe(0);
    expect(r.hyperparameters).toMatchObject({
      table: "word-lm-deep",
      batchSize: 20,
      bptt: 35,
      clipGlobalNorm: 0.25,
    });
  });
});
