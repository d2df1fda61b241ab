/**
 * A plain multi-layer perceptron on raw TensorFlow.js variables (no tfjs-layers overhead), used by the GAN
 * (generator and discriminator) and by the feature classifier of the GAN's Fréchet distance.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";

/** Activation after a layer. */
export type Activation = "relu" | "leakyRelu" | "tanh" | "linear";

let instances = 0;

/**
 * `x·W` with a hand-written gradient that transposes explicitly (`∂x = ∂y·Wᵀ`, `∂W = xᵀ·∂y`): on the wasm
 * backend of tfjs 4.22, `matMul` with `transposeB` (what the built-in gradient uses for `∂x`) is several times
 * slower than a `transpose` followed by a plain `matMul` (10 ms vs 2 ms for 64×256 · 256×784 here).
 */
export const linear: (x: tf.Tensor2D, w: tf.Tensor2D) => tf.Tensor2D = tf.customGrad(((
  x: tf.Tensor,
  w: tf.Tensor,
  save: tf.GradSaveFunc,
) => {
  save([x, w]);
  return {
    value: tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sx, sw] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [tf.matMul(dy as tf.Tensor2D, tf.transpose(sw)), tf.matMul(tf.transpose(sx), dy as tf.Tensor2D)];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (
  x: tf.Tensor2D,
  w: tf.Tensor2D,
) => tf.Tensor2D;

function activate(x: tf.Tensor2D, a: Activation): tf.Tensor2D {
  switch (a) {
    case "relu":
      return tf.relu(x);
    case "leakyRelu":
      return tf.leakyRelu(x, 0.2);
    case "tanh":
      return tf.tanh(x);
    case "linear":
      return x;
  }
}

/**
 * Dense layers `sizes[0] → sizes[1] → … → sizes[n]`, activation `activations[i]` after layer i. Kernels are
 * Glorot-uniform (He-uniform before ReLU-like activations) seeded from `seed`, biases zero.
 */
export class Mlp {
  readonly sizes: readonly number[];
  readonly activations: readonly Activation[];
  readonly kernels: tf.Variable<tf.Rank.R2>[] = [];
  readonly biases: tf.Variable<tf.Rank.R1>[] = [];

  constructor(sizes: readonly number[], activations: readonly Activation[], seed: number, name = "mlp") {
    if (sizes.length < 2 || !sizes.every((s) => Number.isInteger(s) && s > 0)) {
      throw new RangeError(`Mlp: sizes must be ≥ 2 positive integers, got ${JSON.stringify(sizes)}`);
    }
    if (activations.length !== sizes.length - 1) {
      throw new RangeError(`Mlp: expected ${sizes.length - 1} activations, got ${activations.length}`);
    }
    this.sizes = [...sizes];
    this.activations = [...activations];
    const prefix = `${name}_${instances++}`;
    for (let i = 0; i + 1 < sizes.length; i++) {
      const fanIn = sizes[i]!;
      const fanOut = sizes[i + 1]!;
      const relu = activations[i] === "relu" || activations[i] === "leakyRelu";
      const limit = relu ? Math.sqrt(6 / fanIn) : Math.sqrt(6 / (fanIn + fanOut));
      this.kernels.push(
        tf.tidy(() =>
          tf.variable(
            tf.randomUniform([fanIn, fanOut], -limit, limit, "float32", (seed + 7919 * i) >>> 0),
            true,
            `${prefix}/k${i}`,
          ),
        ),
      );
      this.biases.push(tf.tidy(() => tf.variable(tf.zeros([fanOut]), true, `${prefix}/b${i}`)));
    }
  }

  /** The trainable variables, kernels and biases interleaved by layer. */
  get trainableWeights(): tf.Variable[] {
    return this.kernels.flatMap((k, i) => [k, this.biases[i]!]);
  }

  /** Output of the whole net, or (with `upTo`) of the first `upTo` layers (activation included). */
  apply(x: tf.Tensor2D, upTo = this.kernels.length): tf.Tensor2D {
    let h = x;
    for (let i = 0; i < upTo; i++)
      h = activate(tf.add(linear(h, this.kernels[i]!), this.biases[i]!) as tf.Tensor2D, this.activations[i]!);
    return h;
  }

  /** Copies of the weights (kernels and biases interleaved), e.g. for a cache. */
  weightArrays(): Float32Array[] {
    return this.trainableWeights.map((w) => Float32Array.from(w.dataSync() as Float32Array));
  }

  /** Sets the weights from arrays in {@link Mlp.weightArrays}'s order; sizes must match. */
  setWeightArrays(arrays: readonly Float32Array[]): void {
    const ws = this.trainableWeights;
    if (arrays.length !== ws.length)
      throw new RangeError(`Mlp.setWeightArrays: expected ${ws.length} arrays, got ${arrays.length}`);
    ws.forEach((w, i) => {
      if (arrays[i]!.length !== w.size)
        throw new RangeError(
          `Mlp.setWeightArrays: array ${i} has ${arrays[i]!.length} values, expected ${w.size}`,
        );
    });
    ws.forEach((w, i) => w.assign(tf.tensor(arrays[i]!, w.shape)));
  }

  dispose(): void {
    tf.dispose(this.trainableWeights);
  }
}
