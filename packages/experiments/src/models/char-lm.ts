/**
 * A character-level LSTM language model: embedding → one LSTM layer → dense softmax over the vocabulary
 * (the paper's 1-layer PTB model, at character level and smaller). The LSTM layer is swappable: the lean
 * LSTM of this package (`lstm-lean.ts`, default; one matmul for the input projection of all steps and a fused
 * cell) or TensorFlow.js's `tf.layers.lstm` (the stock path, much slower on wasm). Both compute the same
 * function (Keras gate layout, sigmoid recurrent activation).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { LeanLstm, type LstmState } from "./lstm-lean.js";
import { linear } from "./mlp.js";

/** A recurrent layer the language model can use: `[batch, time, features]` → `[batch, time, units]`. */
export interface RecurrentLayer {
  readonly units: number;
  /** The layer's trainable variables. */
  readonly trainableWeights: tf.Variable[];
  /** Hidden states of every step, and the final state (not differentiable; carried to the next batch). */
  run(x: tf.Tensor3D, initialState?: LstmState): { output: tf.Tensor3D; state: LstmState };
  dispose(): void;
}

/** Which LSTM implementation the model uses. */
export type LstmKind = "lean" | "layers";

/** Architecture of {@link CharLanguageModel}. */
export interface CharLmConfig {
  /** Vocabulary size. */
  vocabSize: number;
  /** Embedding width. */
  embedding: number;
  /** LSTM units. */
  units: number;
  /** LSTM implementation; default `"lean"`. */
  lstm?: LstmKind;
}

/** `tf.layers.lstm` behind the {@link RecurrentLayer} interface. */
class LayersLstm implements RecurrentLayer {
  readonly units: number;
  private readonly layer: tfl.layers.Layer;
  private built = false;

  constructor(inputSize: number, units: number, seed: number) {
    this.units = units;
    this.layer = tfl.layers.lstm({
      units,
      returnSequences: true,
      returnState: true,
      recurrentActivation: "sigmoid",
      kernelInitializer: tfl.initializers.glorotUniform({ seed }),
      // Glorot rather than Keras's orthogonal: tfjs-layers' orthogonal initialiser needs the chained-op API.
      recurrentInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }),
      unitForgetBias: true,
    });
    // Build through `apply` (building by hand makes tfjs-layers build the cell twice).
    tf.tidy(() => {
      this.layer.apply(tf.zeros([1, 1, inputSize]), {
        initialState: [tf.zeros([1, units]), tf.zeros([1, units])],
      });
    });
    this.built = true;
  }

  get trainableWeights(): tf.Variable[] {
    if (!this.built) return [];
    return this.layer.trainableWeights.map((w) => w.read() as tf.Variable);
  }

  run(x: tf.Tensor3D, initialState?: LstmState): { output: tf.Tensor3D; state: LstmState } {
    const [B] = x.shape;
    const h0 = initialState?.h ?? tf.zeros([B, this.units]);
    const c0 = initialState?.c ?? tf.zeros([B, this.units]);
    const out = this.layer.apply(x, { initialState: [h0, c0] }) as tf.Tensor[];
    const state = {
      h: tf.keep(tf.clone(out[1]!)) as tf.Tensor2D,
      c: tf.keep(tf.clone(out[2]!)) as tf.Tensor2D,
    };
    return { output: out[0] as tf.Tensor3D, state };
  }

  dispose(): void {
    this.layer.dispose();
  }
}

let instances = 0;

/**
 * The model. Weights: `embedding` `[vocab, embedding]` (uniform ±0.1), the LSTM's, `decoderKernel`
 * `[units, vocab]` (Glorot-uniform), `decoderBias` `[vocab]` (zeros); all seeded from `seed`.
 */
export class CharLanguageModel {
  readonly config: Required<CharLmConfig>;
  readonly embedding: tf.Variable<tf.Rank.R2>;
  readonly lstm: RecurrentLayer;
  readonly decoderKernel: tf.Variable<tf.Rank.R2>;
  readonly decoderBias: tf.Variable<tf.Rank.R1>;

  constructor(config: CharLmConfig, seed: number) {
    for (const k of ["vocabSize", "embedding", "units"] as const) {
      const v = config[k];
      if (!Number.isInteger(v) || v < 1)
        throw new RangeError(`CharLmConfig.${k} must be a positive integer, got ${v}`);
    }
    const kind = config.lstm ?? "lean";
    if (kind !== "lean" && kind !== "layers")
      throw new RangeError(`CharLmConfig.lstm must be "lean" or "layers", got ${String(kind)}`);
    this.config = { ...config, lstm: kind };
    const { vocabSize: V, embedding: E, units: U } = config;
    const prefix = `charlm_${instances++}`;
    const s = seed >>> 0;
    this.embedding = tf.tidy(() =>
      tf.variable(tf.randomUniform([V, E], -0.1, 0.1, "float32", s), true, `${prefix}/embedding`),
    );
    this.lstm =
      kind === "lean"
        ? new LeanLstm({ inputSize: E, units: U, seed: s + 1, name: `${prefix}/lstm` })
        : new LayersLstm(E, U, s + 1);
    const limit = Math.sqrt(6 / (U + V));
    this.decoderKernel = tf.tidy(() =>
      tf.variable(
        tf.randomUniform([U, V], -limit, limit, "float32", s + 3),
        true,
        `${prefix}/decoder_kernel`,
      ),
    );
    this.decoderBias = tf.tidy(() => tf.variable(tf.zeros([V]), true, `${prefix}/decoder_bias`));
  }

  /** Every trainable variable (embedding, LSTM, decoder). */
  get trainableWeights(): tf.Variable[] {
    return [this.embedding, ...this.lstm.trainableWeights, this.decoderKernel, this.decoderBias];
  }

  /**
   * Logits `[batch·time, vocab]` for the characters `ids` (`[batch, time]`, int32), and the final state.
   * The state is kept (outside any `tidy`); the caller disposes it.
   */
  forward(ids: tf.Tensor2D, state?: LstmState): { logits: tf.Tensor2D; state: LstmState } {
    const [B, T] = ids.shape;
    const x = tf.gather(this.embedding as tf.Tensor2D, ids) as unknown as tf.Tensor3D; // [B, T, E]
    const { output, state: next } = this.lstm.run(x, state);
    const flat = tf.reshape(output, [B * T, this.config.units]) as tf.Tensor2D;
    const logits = tf.add(linear(flat, this.decoderKernel as tf.Tensor2D), this.decoderBias) as tf.Tensor2D;
    return { logits, state: { h: tf.keep(next.h), c: tf.keep(next.c) } };
  }

  dispose(): void {
    this.lstm.dispose();
    tf.dispose([this.embedding, this.decoderKernel, this.decoderBias]);
  }
}
