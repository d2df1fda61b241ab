/**
 * Word-level language modelling, the paper's Penn Treebank experiment moved to the text installable here:
 * the State of the Union addresses (`data/sotu.ts`: 1.7 M training words, PTB-style tokens, a 10,000-word
 * vocabulary with `<unk>`, split by address in time order). Three tasks, as the paper's three depths:
 * `word-lm` (1 LSTM layer), `word-lm-2` and `word-lm-3`, each with the paper's settings for that depth
 * (`hparams.ts`: table `word-lm` for 1 layer, `word-lm-deep` for 2 and 3).
 *
 * Model (`models/word-lm.ts`): embedding 128 → 1–3 LSTM layers of 128 units (the package's lean LSTM) →
 * softmax over the 10,000 words. Truncated BPTT over 35 words with the state carried between batches
 * (20 parallel streams, the paper's batch), gradient-norm clipping 0.25, weight decay 1.2e-6, the learning
 * rate ÷10 at 50 % and 72.5 % of the updates (the paper's epochs 100 and 145 of 200). Reports test
 * perplexity per word (headline), and per evaluation the training loss and validation/test perplexity.
 *
 * **Speed and size.** Measured on the wasm backend of this shared 2-core machine, one training step (20 × 35
 * = 700 words, Adam-family optimizer, clipping) takes 0.45–0.7 s at 128 units whatever the depth — the
 * 10,000-way softmax dominates — i.e. about 1,000–1,500 words/s, and evaluation about 4,000 words/s. The
 * paper's 200 epochs of PTB (≈ 190 M words per run, with a 1,150-unit AWD-LSTM) are out of reach; so:
 * `quick` makes 10 updates (7,000 words) and evaluates on 1,400 validation and test words (a smoke test:
 * 10–20 s per run, perplexities near the unigram level); `full` makes 1,000 updates (700,000 words, ≈ 0.4 epoch of the training
 * split, about 10–15 minutes per run) and evaluates on 21,000 words of each every 250 updates.
 * Batches walk the 20 streams in order, so a partial epoch still covers all of the training years.
 *
 * **What was cut relative to the paper** (and said in the report): the corpus (State of the Union, not PTB;
 * its test split is the most recent addresses, a shift in time that PTB does not have), the model (128
 * units, no dropout, weight drop, activation regularisation or tied weights, plain LSTM instead of
 * AWD-LSTM), the budget (≈ 0.4 epoch instead of 200; no switch to averaged SGD), so perplexities are far
 * above the paper's 61–87.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { loadSotu, SOTU_VOCAB_SIZE } from "../data/sotu.js";
import { hparamTable, hyperparameters, TASK_SETTINGS, type HParamTask } from "../hparams.js";
import {
  disposeStackState,
  WordLanguageModel,
  wordCrossEntropy,
  type StackState,
} from "../models/word-lm.js";
import type { EpochMetrics, ProgressHooks, RunResult, RunSpec, Size, Task } from "../task.js";
import { runVersions, useBackend } from "../train/backend.js";
import { checkAborted, isDivergence, secondsSince } from "../train/loop.js";
import { describeRecipe, makeOptimizer, milestonesAt } from "../train/optimizers.js";
import { deriveSeed } from "../train/random.js";

/** Sizes of the word-level LM tasks per suite size. */
export interface WordLmSize {
  /** Training updates. */
  updates: number;
  /** Updates between two evaluations (the last update always evaluates). */
  evalEvery: number;
  /** Words of the validation and of the test split evaluated (a prefix of each; `Infinity`: all). */
  evalWords: number;
  embedding: number;
  units: number;
}

/** Sizes (see the module documentation). */
export const WORD_LM_SIZES: Readonly<Record<Size, WordLmSize>> = Object.freeze({
  quick: { updates: 10, evalEvery: 10, evalWords: 1400, embedding: 128, units: 128 },
  full: { updates: 1000, evalEvery: 250, evalWords: 21000, embedding: 128, units: 128 },
});

/**
 * Batch `k` of the word stream laid out as `batch` contiguous streams (segments): inputs
 * `stream[s][k·T … k·T+T−1]`, targets shifted by one. `k` wraps around the number of whole batches.
 */
export function streamBatch(
  codes: Int32Array,
  batch: number,
  bptt: number,
  k: number,
): { inputs: Int32Array; targets: Int32Array } {
  const segment = Math.floor((codes.length - 1) / batch);
  const count = Math.floor(segment / bptt);
  if (count < 1)
    throw new RangeError(`streamBatch: ${codes.length} words are too few for batch ${batch} × bptt ${bptt}`);
  const b = ((k % count) + count) % count;
  const inputs = new Int32Array(batch * bptt);
  const targets = new Int32Array(batch * bptt);
  for (let s = 0; s < batch; s++) {
    const base = s * segment + b * bptt;
    for (let t = 0; t < bptt; t++) {
      inputs[s * bptt + t] = codes[base + t]!;
      targets[s * bptt + t] = codes[base + t + 1]!;
    }
  }
  return { inputs, targets };
}

/** Number of whole batches of a stream (one epoch). */
export function batchesPerEpoch(length: number, batch: number, bptt: number): number {
  return Math.floor(Math.floor((length - 1) / batch) / bptt);
}

/**
 * Mean cross-entropy per word (nats) of the model over `codes`, as `rows` parallel streams with the state
 * carried across batches of `bptt` words (every word but those of a final partial batch is scored).
 */
export function evaluateWords(
  model: WordLanguageModel,
  codes: Int32Array,
  rows: number,
  bptt: number,
): number {
  const r = Math.max(1, Math.min(rows, Math.floor((codes.length - 1) / bptt)));
  const count = batchesPerEpoch(codes.length, r, bptt);
  let state: StackState | undefined;
  let sum = 0;
  let words = 0;
  for (let k = 0; k < count; k++) {
    const b = streamBatch(codes, r, bptt, k);
    let next: StackState | undefined;
    const loss = tf.tidy(() => {
      const out = model.forward(tf.tensor2d(b.inputs, [r, bptt], "int32"), state);
      next = out.state;
      return wordCrossEntropy(out.logits, b.targets);
    });
    disposeStackState(state);
    state = next;
    sum += loss.dataSync()[0]! * b.inputs.length;
    words += b.inputs.length;
    loss.dispose();
  }
  disposeStackState(state);
  return sum / words;
}

/** Trains and evaluates one word-level LM run with `layers` LSTM layers; see the module documentation. */
export async function runWordLm(
  spec: RunSpec,
  hooks: ProgressHooks,
  layers: number,
  sizeOverride?: Partial<WordLmSize>,
): Promise<RunResult> {
  const t0 = performance.now();
  const size: WordLmSize = { ...WORD_LM_SIZES[spec.size], ...sizeOverride };
  const updates = spec.epochs !== undefined ? spec.epochs * size.evalEvery : size.updates;
  if (!Number.isInteger(updates) || updates < 1)
    throw new RangeError(`${spec.task}: epochs (evaluations) must be a positive integer, got ${spec.epochs}`);
  await useBackend(spec.backend);
  const corpus = loadSotu();
  const table: HParamTask = layers === 1 ? "word-lm" : "word-lm-deep";
  const settings = TASK_SETTINGS[table].values;
  const batchSize = settings["batchSize"] as number;
  const bptt = settings["bptt"] as number;
  const valCodes = corpus.validation.subarray(0, Math.min(corpus.validation.length, size.evalWords + 1));
  const testCodes = corpus.test.subarray(0, Math.min(corpus.test.length, size.evalWords + 1));
  const hp = hyperparameters(table, spec.optimizer, spec.learningRate);
  const recipe = {
    options: hp.options,
    milestones: milestonesAt([0.5, 0.725], updates),
    gamma: settings["lrDecayFactor"] as number,
    clipGlobalNorm: settings["clipGlobalNorm"] as number,
  };
  const optimizer = makeOptimizer(spec.optimizer, recipe);
  const model = new WordLanguageModel(
    { vocabSize: corpus.vocab.length, embedding: size.embedding, units: size.units, layers },
    deriveSeed(spec.seed, `word-lm-init-${layers}`),
  );
  const epochLength = batchesPerEpoch(corpus.train.length, batchSize, bptt);
  const curves: EpochMetrics[] = [];
  const perEpochSeconds: number[] = [];
  let diverged = 0;
  let state: StackState | undefined;
  let te = performance.now();
  let lossSum = 0;
  let seen = 0;
  try {
    for (let u = 0; u < updates && !diverged; u++) {
      checkAborted(hooks.signal);
      // A new pass over the streams starts from a zero state.
      if (u % epochLength === 0) {
        disposeStackState(state);
        state = undefined;
      }
      const b = streamBatch(corpus.train, batchSize, bptt, u);
      let next: StackState | undefined;
      try {
        const cost = optimizer.minimize(
          () => {
            const out = model.forward(tf.tensor2d(b.inputs, [batchSize, bptt], "int32"), state);
            next = out.state;
            return wordCrossEntropy(out.logits, b.targets);
          },
          true,
          model.trainableWeights,
        )!;
        const value = cost.dataSync()[0]!;
        cost.dispose();
        disposeStackState(state);
        state = next;
        lossSum += value;
        seen++;
      } catch (err) {
        disposeStackState(next);
        if (!isDivergence(err)) throw err;
        diverged = 1;
      }
      hooks.onProgress(
        u + 1,
        updates,
        `update ${u + 1}/${updates} loss ${(lossSum / Math.max(seen, 1)).toFixed(3)}`,
      );
      if ((u + 1) % size.evalEvery === 0 || u + 1 === updates || diverged) {
        const valLoss = evaluateWords(model, valCodes, batchSize, bptt);
        const testLoss = evaluateWords(model, testCodes, batchSize, bptt);
        curves.push({
          epoch: curves.length + 1,
          updates: u + 1,
          trainLoss: seen > 0 ? lossSum / seen : NaN,
          trainPpl: seen > 0 ? Math.exp(lossSum / seen) : NaN,
          valPpl: Math.exp(valLoss),
          testPpl: Math.exp(testLoss),
        });
        perEpochSeconds.push(secondsSince(te));
        te = performance.now();
        lossSum = 0;
        seen = 0;
      }
    }
  } finally {
    disposeStackState(state);
    optimizer.dispose();
    model.dispose();
  }
  const last = curves[curves.length - 1];
  return {
    spec,
    hyperparameters: {
      ...describeRecipe(recipe),
      table,
      batchSize,
      bptt,
      updates,
      trainWords: updates * batchSize * bptt,
      epochsOfTrainingSplit: (updates * batchSize * bptt) / corpus.train.length,
      evalWords: { validation: valCodes.length - 1, test: testCodes.length - 1 },
      model: { embedding: size.embedding, units: size.units, layers, vocab: corpus.vocab.length },
    },
    curves,
    final: {
      testPpl: last?.["testPpl"] ?? NaN,
      valPpl: last?.["valPpl"] ?? NaN,
      bestValPpl: curves.reduce((m, c) => Math.min(m, c["valPpl"] ?? Infinity), Infinity),
      trainLoss: last?.["trainLoss"] ?? NaN,
      diverged,
    },
    timings: { totalSeconds: secondsSince(t0), perEpochSeconds },
    versions: runVersions(),
  };
}

const PAPER = `Penn Treebank (word level), test perplexity, lower is better — 1-layer LSTM: AdaBelief **84.21**,
Adam 84.28, SGD 85.07, AdaBound 84.78, Yogi 86.59; 2 layers: AdaBelief **66.29**, Adam 67.27, SGD 67.45,
AdaBound 67.53, Yogi 71.33; 3 layers: AdaBelief **61.25**, Adam 64.28, SGD 63.77, AdaBound 63.60, Yogi 67.51.

Ours: the State of the Union addresses with PTB's preprocessing (lower case, \`N\` for numbers, no punctuation,
\`<eos>\`, a ${SOTU_VOCAB_SIZE.toLocaleString("en-US")}-word vocabulary with \`<unk>\`), split by address in
time order (train to 1994, validation 1995–2008, test 2009–2021), the paper's per-depth optimizer settings,
batch 20, clipping 0.25, weight decay 1.2e-6, ÷10 at 50 % and 72.5 % of training. **Cut relative to the
paper**, for a 2-core CPU (≈ 1,000–1,500 training words/s): a 128-unit LSTM without AWD-LSTM's dropouts,
weight drop and tied weights; ≈ 0.4 epoch (full) or 10 updates (quick) instead of 200 epochs. Perplexities are
therefore far above the paper's: compare the ordering, not the numbers.`;

function makeTask(layers: number): Task {
  const name = layers === 1 ? "word-lm" : `word-lm-${layers}`;
  return {
    name,
    title: `Language modelling: word-level ${layers}-layer LSTM on the State of the Union addresses`,
    headline: { metric: "testPpl", higherIsBetter: false, label: "test perplexity per word" },
    validation: { metric: "valPpl", higherIsBetter: false, label: "validation perplexity per word" },
    paperReference: `${PAPER}\n\nOur settings (${layers === 1 ? "the paper's 1-layer row" : "the paper's 2–3-layer row"}):\n\n${hparamTable(layers === 1 ? "word-lm" : "word-lm-deep")}`,
    defaultSeeds: { quick: 1, full: 3 },
    run: (spec, hooks) => runWordLm(spec, hooks, layers),
  };
}

/** The 1-layer word-level language model. */
export const task: Task = makeTask(1);
/** The 2-layer word-level language model. */
export const task2: Task = makeTask(2);
/** The 3-layer word-level language model. */
export const task3: Task = makeTask(3);
