/**
 * A word-level LSTM language model, the paper's Penn Treebank model reduced to a CPU: embedding → 1 to 3
 * stacked LSTM layers (the package's lean LSTM, `lstm-lean.ts`) → dense softmax over the vocabulary. No
 * dropout and no weight tying (the paper's AWD-LSTM-style model has both; our runs are far too short to
 * overfit).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { LeanLstm, type LstmState } from "./lstm-lean.js";
import { linear } from "./mlp.js";

/** Architecture of {@link WordLanguageModel}. */
export interface WordLmConfig {
  /** Vocabulary size. */
  vocabSize: number;
  /** Embedding width. */
  embedding: number;
  /** Units of every LSTM layer. */
  units: number;
  /** Number of stacked LSTM layers (the paper: 1, 2 or 3). */
  layers: number;
}

/** The recurrent state of every layer, bottom first. */
export type StackState = LstmState[];

let instances = 0;

/** Disposes a stack state (any entry may be missing). */
export function disposeStackState(state: StackState | undefined): void {
  if (state) for (const s of state) tf.dispose([s.h, s.c]);
}

/**
 * The model. Weights: `embedding` `[vocab, embedding]` (uniform ±0.1, as the PTB models), the LSTM layers'
 * (Keras initialisers), `decoderKernel` `[units, vocab]` (uniform ±0.1) and `decoderBias` (zeros); all
 * seeded from `seed`.
 */
export class WordLanguageModel {
  readonly config: Readonly<WordLmConfig>;
  readonly embedding: tf.Variable<tf.Rank.R2>;
  readonly lstms: readonly LeanLstm[];
  readonly decoderKernel: tf.Variable<tf.Rank.R2>;
  readonly decoderBias: tf.Variable<tf.Rank.R1>;

  constructor(config: WordLmConfig, seed: number) {
    for (const k of ["vocabSize", "embedding", "units", "layers"] as const) {
      const v = config[k];
      if (!Number.isInteger(v) || v < 1)
        throw new RangeError(`WordLmConfig.${k} must be a positive integer, got ${v}`);
    }
    this.config = Object.freeze({ ...config });
    const { vocabSize: V, embedding: E, units: U, layers: L } = config;
    const prefix = `wordlm_${instances++}`;
    const s = seed >>> 0;
    this.embedding = tf.tidy(() =>
      tf.variable(tf.randomUniform([V, E], -0.1, 0.1, "float32", s), true, `${prefix}/embedding`),
    );
    this.lstms = Array.from(
      { length: L },
      (_, i) =>
        new LeanLstm({
          inputSize: i === 0 ? E : U,
          units: U,
          seed: s + 10 * (i + 1),
          name: `${prefix}/lstm${i}`,
        }),
    );
    this.decoderKernel = tf.tidy(() =>
      tf.variable(tf.randomUniform([U, V], -0.1, 0.1, "float32", s + 3), true, `${prefix}/decoder_kernel`),
    );
    this.decoderBias = tf.tidy(() => tf.variable(tf.zeros([V]), true, `${prefix}/decoder_bias`));
  }

  /** Every trainable variable (embedding, the LSTM layers, decoder). */
  get trainableWeights(): tf.Variable[] {
    return [
      this.embedding,
      ...this.lstms.flatMap((l) => [l.kernel, l.recurrentKernel, l.bias] as tf.Variable[]),
      this.decoderKernel,
      this.decoderBias,
    ];
  }

  /** Number of trainable parameters. */
  get parameterCount(): number {
    return this.trainableWeights.reduce((s, w) => s + w.size, 0);
  }

  /**
   * Logits `[batch·time, vocab]` for the words `ids` (`[batch, time]`, int32), and the final state of every
   * layer (kept, outside any `tidy`: the caller disposes it; not differentiable, for truncated BPTT).
   */
  forward(ids: tf.Tensor2D, state?: StackState): { logits: tf.Tensor2D; state: StackState } {
    const [B, T] = ids.shape;
    let x = tf.gather(this.embedding as tf.Tensor2D, ids) as unknown as tf.Tensor3D;
    const next: StackState = [];
    this.lstms.forEach((lstm, i) => {
      const r = lstm.run(x, state?.[i]);
      next.push({ h: tf.keep(r.state.h), c: tf.keep(r.state.c) });
      x = r.output;
    });
    const flat = tf.reshape(x, [B * T, this.config.units]) as tf.Tensor2D;
    const logits = tf.add(linear(flat, this.decoderKernel as tf.Tensor2D), this.decoderBias) as tf.Tensor2D;
    return { logits, state: next };
  }

  dispose(): void {
    for (const l of this.lstms) l.dispose();
    tf.dispose([this.embedding, this.decoderKernel, this.decoderBias]);
  }
}

/**
 * Mean softmax cross-entropy (nats per word) of `logits` `[n, vocab]` against the word ids `targets`
 * (length n), with a hand-written gradient `(softmax − onehot)/n`.
 *
 * Why not `tf.losses.softmaxCrossEntropy`: with a 10,000-word vocabulary its one-hot targets and its
 * gradient's element-wise ops over `[n, vocab]` cost about 4× more than everything else of the loss on the
 * wasm backend (235 ms vs 64 ms for 700 words, forward and backward). Here the backend computes the softmax
 * once; the loss (the log-probabilities of the targets) and the gradient are read off it in JavaScript. The
 * loss is computed from float32 probabilities clamped at 1e-37 (a target whose probability underflows
 * contributes at most 85 nats); a non-finite logit still gives a NaN loss.
 *
 * @throws RangeError when `targets` does not hold one id in `[0, vocab)` per row.
 */
export function wordCrossEntropy(logits: tf.Tensor2D, targets: Int32Array): tf.Scalar {
  const [n, v] = logits.shape;
  if (targets.length !== n)
    throw new RangeError(`wordCrossEntropy: ${targets.length} targets for ${n} rows of logits`);
  for (const t of targets) {
    if (!(t >= 0 && t < v)) throw new RangeError(`wordCrossEntropy: target ${t} outside [0, ${v})`);
  }
  const op = tf.customGrad(((l: tf.Tensor) => {
    const sm = tf.softmax(l as tf.Tensor2D);
    const p = sm.dataSync() as Float32Array;
    sm.dispose();
    let loss = 0;
    for (let i = 0; i < n; i++) loss -= Math.log(Math.max(p[i * v + targets[i]!]!, 1e-37));
    return {
      value: tf.scalar(loss / n),
      gradFunc: (dy: tf.Tensor) => {
        const scale = dy.dataSync()[0]! / n;
        const g = new Float32Array(p.length);
        for (let k = 0; k < p.length; k++) g[k] = p[k]! * scale;
        for (let i = 0; i < n; i++) g[i * v + targets[i]!] = g[i * v + targets[i]!]! - scale;
        return tf.tensor2d(g, [n, v]);
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (l: tf.Tensor2D) => tf.Scalar;
  return op(logits);
}
