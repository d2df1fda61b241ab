/**
 * Language modelling: a character-level LSTM on Moby Dick (the paper's word-level LSTM on Penn Treebank,
 * moved to the text installable here). Character level because the vocabulary is tiny (83 symbols: no
 * tokenizer, no unknown words, a cheap softmax), which keeps a meaningful model trainable on a laptop CPU.
 *
 * Model: embedding (64) → LSTM (128 units, the package's lean LSTM) → dense softmax. Truncated BPTT over 64
 * characters with the state carried between batches (32 parallel streams), gradient-norm clipping 0.25 (the
 * paper's), L2 weight decay 1.2e-6, the learning rate ÷10 at 50 % and 75 % of the updates, the paper's
 * per-optimizer settings (`hparams.ts`). Reports test perplexity per character (headline) and bits per
 * character, and per epoch train loss and validation/test perplexity.
 *
 * Sizes: `quick` trains on the first 98,400 training characters for 2 epochs and evaluates on the first
 * 20,000 validation and test characters; `full` trains on all 1.07 M training characters for 6 epochs and
 * evaluates on the whole validation and test splits (59,516 characters each).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { loadMobyDick } from "../data/moby-dick.js";
import { hparamTable, hyperparameters, TASK_SETTINGS } from "../hparams.js";
import { CharLanguageModel, type LstmKind } from "../models/char-lm.js";
import type { LstmState } from "../models/lstm-lean.js";
import type { EpochMetrics, ProgressHooks, RunResult, RunSpec, Size, Task } from "../task.js";
import { runVersions, useBackend } from "../train/backend.js";
import { checkAborted, isDivergence, secondsSince } from "../train/loop.js";
import { describeRecipe, makeOptimizer, milestonesAt } from "../train/optimizers.js";
import { deriveSeed } from "../train/random.js";

/** Data and model sizes of the LSTM task per suite size. */
export interface LstmSize {
  trainChars: number;
  evalChars: number;
  epochs: number;
  embedding: number;
  units: number;
  lstm: LstmKind;
}

/** Sizes of the LSTM task (see the module documentation). */
export const LSTM_SIZES: Readonly<Record<Size, LstmSize>> = Object.freeze({
  quick: { trainChars: 98400, evalChars: 20000, epochs: 2, embedding: 64, units: 128, lstm: "lean" },
  full: { trainChars: Infinity, evalChars: Infinity, epochs: 6, embedding: 64, units: 128, lstm: "lean" },
});

const PAPER = `Penn Treebank (word level), test perplexity, lower is better — 1-layer LSTM: AdaBelief **84.21**,
Adam 84.28, SGD 85.07, AdaBound 84.78, Yogi 86.59; 2 layers: AdaBelief **66.29**, Adam 67.27, SGD 67.45,
AdaBound 67.53, Yogi 71.33; 3 layers: AdaBelief **61.25**, Adam 64.28, SGD 63.77, AdaBound 63.60, Yogi 67.51.
Ours is character level on Moby Dick (perplexity per character, so values near 2–6, not 60–90): compare
the ordering, not the numbers.`;

/**
 * Lays a character stream out as `batch` parallel streams (contiguous segments) for truncated BPTT: batch k
 * holds inputs `stream[s][k·T … k·T+T−1]` and targets shifted by one, for each stream s.
 */
export function bpttBatches(
  codes: Uint8Array,
  batch: number,
  bptt: number,
): { inputs: Int32Array; targets: Int32Array }[] {
  const segment = Math.floor((codes.length - 1) / batch);
  const count = Math.floor(segment / bptt);
  if (count < 1)
    throw new RangeError(
      `bpttBatches: ${codes.length} characters are too few for batch ${batch} × bptt ${bptt}`,
    );
  const out: { inputs: Int32Array; targets: Int32Array }[] = [];
  for (let k = 0; k < count; k++) {
    const inputs = new Int32Array(batch * bptt);
    const targets = new Int32Array(batch * bptt);
    for (let s = 0; s < batch; s++) {
      const base = s * segment + k * bptt;
      for (let t = 0; t < bptt; t++) {
        inputs[s * bptt + t] = codes[base + t]!;
        targets[s * bptt + t] = codes[base + t + 1]!;
      }
    }
    out.push({ inputs, targets });
  }
  return out;
}

function disposeState(s: LstmState | undefined): void {
  if (s) tf.dispose([s.h, s.c]);
}

/** Mean cross-entropy per character (nats) of the model over a stream, state carried across batches. */
export function evaluateLm(model: CharLanguageModel, codes: Uint8Array, batch: number, bptt: number): number {
  const batches = bpttBatches(
    codes,
    Math.min(batch, Math.max(1, Math.floor((codes.length - 1) / bptt))),
    bptt,
  );
  let state: LstmState | undefined;
  let sum = 0;
  let count = 0;
  for (const b of batches) {
    const rows = b.inputs.length / bptt;
    const { loss, h, c } = tf.tidy(() => {
      const { logits, state: s } = model.forward(tf.tensor2d(b.inputs, [rows, bptt], "int32"), state);
      const l = tf.losses.softmaxCrossEntropy(
        tf.oneHot(tf.tensor1d(b.targets, "int32"), model.config.vocabSize),
        logits,
      );
      return { loss: l, h: s.h, c: s.c };
    });
    disposeState(state);
    state = { h: h as tf.Tensor2D, c: c as tf.Tensor2D };
    sum += loss.dataSync()[0]! * b.inputs.length;
    count += b.inputs.length;
    loss.dispose();
  }
  disposeState(state);
  return sum / count;
}

/** Trains and evaluates one LSTM run; see the module documentation. */
export async function runLstm(
  spec: RunSpec,
  hooks: ProgressHooks,
  sizeOverride?: Partial<LstmSize>,
): Promise<RunResult> {
  const t0 = performance.now();
  const size = { ...LSTM_SIZES[spec.size], ...sizeOverride };
  const epochs = spec.epochs ?? size.epochs;
  if (!Number.isInteger(epochs) || epochs < 1)
    throw new RangeError(`lstm: epochs must be a positive integer, got ${epochs}`);
  await useBackend(spec.backend);
  const corpus = loadMobyDick();
  const settings = TASK_SETTINGS.lstm.values;
  const batchSize = settings["batchSize"] as number;
  const bptt = settings["bptt"] as number;
  const trainCodes = corpus.train.subarray(0, Math.min(corpus.train.length, size.trainChars));
  const valCodes = corpus.validation.subarray(0, Math.min(corpus.validation.length, size.evalChars));
  const testCodes = corpus.test.subarray(0, Math.min(corpus.test.length, size.evalChars));
  const batches = bpttBatches(trainCodes, batchSize, bptt);
  const totalUpdates = epochs * batches.length;
  const hp = hyperparameters("lstm", spec.optimizer, spec.learningRate);
  const recipe = {
    options: hp.options,
    milestones: milestonesAt([0.5, 0.75], totalUpdates),
    gamma: settings["lrDecayFactor"] as number,
    clipGlobalNorm: settings["clipGlobalNorm"] as number,
  };
  const optimizer = makeOptimizer(spec.optimizer, recipe);
  const model = new CharLanguageModel(
    { vocabSize: corpus.vocab.length, embedding: size.embedding, units: size.units, lstm: size.lstm },
    deriveSeed(spec.seed, "lstm-init"),
  );
  const V = corpus.vocab.length;
  const curves: EpochMetrics[] = [];
  const perEpochSeconds: number[] = [];
  let diverged = 0;
  let done = 0;
  try {
    for (let epoch = 1; epoch <= epochs && !diverged; epoch++) {
      const te = performance.now();
      let state: LstmState | undefined;
      let lossSum = 0;
      let seen = 0;
      for (const b of batches) {
        checkAborted(hooks.signal);
        let next: LstmState | undefined;
        let lossValue = NaN;
        try {
          const cost = optimizer.minimize(
            () => {
              const out = model.forward(tf.tensor2d(b.inputs, [batchSize, bptt], "int32"), state);
              next = out.state;
              return tf.losses.softmaxCrossEntropy(
                tf.oneHot(tf.tensor1d(b.targets, "int32"), V),
                out.logits,
              ) as tf.Scalar;
            },
            true,
            model.trainableWeights,
          );
          lossValue = cost!.dataSync()[0]!;
          cost!.dispose();
        } catch (err) {
          disposeState(next);
          if (!isDivergence(err)) throw err;
          diverged = 1;
          break;
        }
        disposeState(state);
        state = next;
        lossSum += lossValue;
        seen++;
        done++;
        hooks.onProgress(done, totalUpdates, `epoch ${epoch}/${epochs} loss ${(lossSum / seen).toFixed(3)}`);
      }
      disposeState(state);
      const valLoss = evaluateLm(model, valCodes, batchSize, bptt);
      const testLoss = evaluateLm(model, testCodes, batchSize, bptt);
      perEpochSeconds.push(secondsSince(te));
      curves.push({
        epoch,
        trainLoss: seen > 0 ? lossSum / seen : NaN,
        trainPpl: seen > 0 ? Math.exp(lossSum / seen) : NaN,
        valPpl: Math.exp(valLoss),
        testPpl: Math.exp(testLoss),
        testBpc: testLoss / Math.LN2,
      });
    }
  } finally {
    optimizer.dispose();
    model.dispose();
  }
  const last = curves[curves.length - 1];
  return {
    spec,
    hyperparameters: {
      ...describeRecipe(recipe),
      batchSize,
      bptt,
      epochs,
      trainChars: trainCodes.length,
      model: { embedding: size.embedding, units: size.units, lstm: size.lstm, vocab: V },
    },
    curves,
    final: {
      testPpl: last?.["testPpl"] ?? NaN,
      testBpc: last?.["testBpc"] ?? NaN,
      valPpl: last?.["valPpl"] ?? NaN,
      bestValPpl: curves.reduce((m, c) => Math.min(m, c["valPpl"] ?? Infinity), Infinity),
      trainLoss: last?.["trainLoss"] ?? NaN,
      diverged,
    },
    timings: { totalSeconds: secondsSince(t0), perEpochSeconds },
    versions: runVersions(),
  };
}

/** The language-modelling task of the suite. */
export const task: Task = {
  name: "lstm",
  title: "Language modelling: character-level LSTM on Moby Dick",
  headline: { metric: "testPpl", higherIsBetter: false, label: "test perplexity per character" },
  validation: { metric: "valPpl", higherIsBetter: false, label: "validation perplexity per character" },
  paperReference: `${PAPER}\n\nOur settings:\n\n${hparamTable("lstm")}`,
  defaultSeeds: { quick: 1, full: 3 },
  run: (spec, hooks) => runLstm(spec, hooks),
};
