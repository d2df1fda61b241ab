/**
 * A small VGG-style convolutional network for 28×28 grey-scale images: blocks of 3×3 convolutions
 * (same padding, optional batch normalisation, ReLU) followed by 2×2 max pooling, then a hidden dense
 * layer and a 10-way linear output (logits). The paper's VGG11 on CIFAR-10 scaled down to Fashion-MNIST.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-layers";

/** Architecture of {@link buildCnn}. */
export interface CnnConfig {
  /** Filters of each block's convolutions, e.g. `[16, 32, 64]` (three blocks: 28→14→7→3). */
  filters: number[];
  /** 3×3 convolutions per block before its 2×2 max pooling; default 2 (as VGG's later blocks). */
  convsPerBlock?: number;
  /** Units of the hidden dense layer. */
  dense: number;
  /** Batch normalisation after every convolution (before ReLU), as the paper's VGG. */
  batchNorm: boolean;
}

/** Number of output classes. */
const CLASSES = 10;

/**
 * Builds the network (input `[batch, 28, 28, 1]`, output logits `[batch, 10]`) with He-normal convolution
 * and dense kernels seeded from `seed` (each layer its own seed), zero biases.
 */
export function buildCnn(config: CnnConfig, seed: number): tf.LayersModel {
  if (config.filters.length < 1 || !config.filters.every((f) => Number.isInteger(f) && f > 0)) {
    throw new RangeError(
      `CnnConfig.filters must be positive integers, got ${JSON.stringify(config.filters)}`,
    );
  }
  if (!Number.isInteger(config.dense) || config.dense < 1) {
    throw new RangeError(`CnnConfig.dense must be a positive integer, got ${config.dense}`);
  }
  const convs = config.convsPerBlock ?? 2;
  if (!Number.isInteger(convs) || convs < 1) {
    throw new RangeError(`CnnConfig.convsPerBlock must be a positive integer, got ${convs}`);
  }
  let layerSeed = seed >>> 0;
  const init = () => tf.initializers.heNormal({ seed: layerSeed++ });
  const model = tf.sequential();
  let first = true;
  for (const f of config.filters) {
    for (let k = 0; k < convs; k++) {
      model.add(
        tf.layers.conv2d({
          ...(first ? { inputShape: [28, 28, 1] } : {}),
          filters: f,
          kernelSize: 3,
          padding: "same",
          useBias: !config.batchNorm,
          kernelInitializer: init(),
        }),
      );
      first = false;
      if (config.batchNorm) model.add(tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5 }));
      model.add(tf.layers.reLU());
    }
    model.add(tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }));
  }
  model.add(tf.layers.flatten());
  model.add(tf.layers.dense({ units: config.dense, activation: "relu", kernelInitializer: init() }));
  model.add(
    tf.layers.dense({
      units: CLASSES,
      kernelInitializer: tf.initializers.glorotUniform({ seed: layerSeed++ }),
    }),
  );
  return model;
}
