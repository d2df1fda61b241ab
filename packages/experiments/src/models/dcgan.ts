/**
 * DCGAN-style generator and critic for 28×28 grey-scale images, the paper's WGAN / WGAN-GP nets (its
 * scripts' `Generator` and `Discriminator`, 64×64 CIFAR-10 with base width 64 and four up/down-sampling
 * stages) reduced to Fashion-MNIST's size and a CPU: two stride-2 stages instead of four.
 *
 * - **Generator** (`width` c): z → dense to 7×7×2c (the paper's first `ConvTranspose2d` on a 1×1 input is
 *   exactly this dense layer) → batch norm → ReLU → transposed conv 4×4 stride 2 to 14×14×c → batch norm →
 *   ReLU → transposed conv 4×4 stride 2 to 28×28×1 → tanh. No biases (the paper's `bias=False`), weights
 *   N(0, 0.02), batch-norm scale N(1, 0.02) and shift 0 (its `weights_init`).
 * - **Critic** (`width` c): conv 4×4 stride 2 to 14×14×c → leaky ReLU 0.2 → conv 4×4 stride 2 to 7×7×2c →
 *   leaky ReLU 0.2 → dense to 1, then a sigmoid for WGAN (`output: "sigmoid"`: the paper's WGAN script keeps
 *   DCGAN's final `Sigmoid`) or nothing for WGAN-GP (`"linear"`: its script's `nn.Linear` head).
 *
 * **Departures from the paper's nets, and why.**
 * - *No batch norm in the critic* (the paper's critic has it in its inner stages). The gradient penalty is
 *   defined per sample and batch norm couples the samples of a batch (WGAN-GP's authors drop it for that
 *   reason); we drop it in both critics so that WGAN and WGAN-GP share one critic. Without batch norm the
 *   critic's convolutions get biases (zero-initialised), which the weight clipping also clamps.
 * - *Leaky ReLU written as 0.6·x + 0.4·|x|* (equal to `leakyRelu(x, 0.2)` everywhere). WGAN-GP
 *   differentiates the critic's input gradient with respect to its weights (a second-order gradient through
 *   `tf.grad`); TensorFlow.js's `LeakyRelu` gradient builds its mask with `Greater`, which has no gradient
 *   of its own, so the second backward pass throws ("gradient function not found for Greater"). `Abs`'s
 *   gradient uses `Step`, whose gradient is registered (zero), and convolution, transposed convolution,
 *   matmul, add and mul all have differentiable gradients: checked against finite differences on the cpu and
 *   wasm backends in `test/wgan.test.ts`.
 * - *Batch norm of the generator at evaluation* normalises with the statistics of the evaluation batch (all
 *   samples of a measurement at once, so the generator's population statistics), where the paper's script
 *   uses PyTorch's running averages (`netG.eval()`).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";

/** Architecture of the generator and critic. */
export interface DcganConfig {
  /** Latent dimension (the paper's `nz`, 100). */
  latent: number;
  /** Base width c (the paper's `ngf` = `ndf`, 64): the generator's and critic's widest layer has 2c channels. */
  width: number;
}

/** Side of the images (28). */
const SIDE = 28;
/** Side after the critic's two stride-2 convolutions, where the generator starts (7). */
const INNER = 7;

let instances = 0;

function normalVariable(shape: number[], std: number, seed: number, name: string, mean = 0): tf.Variable {
  return tf.tidy(() => tf.variable(tf.randomNormal(shape, mean, std, "float32", seed >>> 0), true, name));
}

function zerosVariable(shape: number[], name: string): tf.Variable {
  return tf.tidy(() => tf.variable(tf.zeros(shape), true, name));
}

function checkConfig(config: DcganConfig): void {
  for (const k of ["latent", "width"] as const) {
    const v = config[k];
    if (!Number.isInteger(v) || v < 1)
      throw new RangeError(`DcganConfig.${k} must be a positive integer, got ${v}`);
  }
}

/**
 * Leaky ReLU with slope 0.2 as `0.6·x + 0.4·|x|`: the same function as `tf.leakyRelu(x, 0.2)`, but twice
 * differentiable through TensorFlow.js's tape (see the module documentation).
 */
export function leakyRelu02<T extends tf.Tensor>(x: T): T {
  return tf.add(tf.mul(x, 0.6), tf.mul(tf.abs(x), 0.4));
}

/** Batch normalisation over `[n, h, w, c]` with the batch's own statistics (biased variance, ε 1e-5). */
function batchNorm(x: tf.Tensor4D, scale: tf.Tensor1D, shift: tf.Tensor1D): tf.Tensor4D {
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))), scale), shift);
}

/** The DCGAN-style generator (see the module documentation). */
export class DcganGenerator {
  readonly config: Readonly<DcganConfig>;
  readonly dense: tf.Variable<tf.Rank.R2>;
  readonly bn0Scale: tf.Variable<tf.Rank.R1>;
  readonly bn0Shift: tf.Variable<tf.Rank.R1>;
  /** Transposed-convolution filter `[4, 4, c, 2c]` (TensorFlow.js's `[h, w, out, in]` layout). */
  readonly deconv1: tf.Variable<tf.Rank.R4>;
  readonly bn1Scale: tf.Variable<tf.Rank.R1>;
  readonly bn1Shift: tf.Variable<tf.Rank.R1>;
  /** Transposed-convolution filter `[4, 4, 1, c]`. */
  readonly deconv2: tf.Variable<tf.Rank.R4>;

  constructor(config: DcganConfig, seed: number) {
    checkConfig(config);
    this.config = Object.freeze({ ...config });
    const c = config.width;
    const p = `dcgan_g_${instances++}`;
    this.dense = normalVariable(
      [config.latent, INNER * INNER * 2 * c],
      0.02,
      seed,
      `${p}/dense`,
    ) as tf.Variable<tf.Rank.R2>;
    this.bn0Scale = normalVariable([2 * c], 0.02, seed + 1, `${p}/bn0_scale`, 1) as tf.Variable<tf.Rank.R1>;
    this.bn0Shift = zerosVariable([2 * c], `${p}/bn0_shift`) as tf.Variable<tf.Rank.R1>;
    this.deconv1 = normalVariable(
      [4, 4, c, 2 * c],
      0.02,
      seed + 2,
      `${p}/deconv1`,
    ) as tf.Variable<tf.Rank.R4>;
    this.bn1Scale = normalVariable([c], 0.02, seed + 3, `${p}/bn1_scale`, 1) as tf.Variable<tf.Rank.R1>;
    this.bn1Shift = zerosVariable([c], `${p}/bn1_shift`) as tf.Variable<tf.Rank.R1>;
    this.deconv2 = normalVariable([4, 4, 1, c], 0.02, seed + 4, `${p}/deconv2`) as tf.Variable<tf.Rank.R4>;
  }

  /** The trainable variables. */
  get trainableWeights(): tf.Variable[] {
    return [
      this.dense,
      this.bn0Scale,
      this.bn0Shift,
      this.deconv1,
      this.bn1Scale,
      this.bn1Shift,
      this.deconv2,
    ];
  }

  /** Images `[n, 28, 28, 1]` in (−1, 1) from latent vectors `z` `[n, latent]`. */
  apply(z: tf.Tensor2D): tf.Tensor4D {
    const n = z.shape[0];
    const c = this.config.width;
    const h0 = tf.reshape(tf.matMul(z, this.dense), [n, INNER, INNER, 2 * c]) as tf.Tensor4D;
    const a0 = tf.relu(batchNorm(h0, this.bn0Scale, this.bn0Shift));
    const h1 = tf.conv2dTranspose(a0, this.deconv1 as tf.Tensor4D, [n, 2 * INNER, 2 * INNER, c], 2, "same");
    const a1 = tf.relu(batchNorm(h1, this.bn1Scale, this.bn1Shift));
    return tf.tanh(tf.conv2dTranspose(a1, this.deconv2 as tf.Tensor4D, [n, SIDE, SIDE, 1], 2, "same"));
  }

  dispose(): void {
    tf.dispose(this.trainableWeights);
  }
}

/** Output of the critic: WGAN's sigmoid (the paper's script) or WGAN-GP's linear head. */
export type CriticOutput = "sigmoid" | "linear";

/** The DCGAN-style critic (see the module documentation). */
export class DcganCritic {
  readonly config: Readonly<DcganConfig>;
  readonly output: CriticOutput;
  /** Convolution filter `[4, 4, 1, c]`. */
  readonly conv1: tf.Variable<tf.Rank.R4>;
  readonly bias1: tf.Variable<tf.Rank.R1>;
  /** Convolution filter `[4, 4, c, 2c]`. */
  readonly conv2: tf.Variable<tf.Rank.R4>;
  readonly bias2: tf.Variable<tf.Rank.R1>;
  /** Head `[7·7·2c, 1]`. */
  readonly head: tf.Variable<tf.Rank.R2>;
  readonly headBias: tf.Variable<tf.Rank.R1>;

  constructor(config: DcganConfig, output: CriticOutput, seed: number) {
    checkConfig(config);
    if (output !== "sigmoid" && output !== "linear")
      throw new RangeError(`DcganCritic: output must be "sigmoid" or "linear", got ${String(output)}`);
    this.config = Object.freeze({ ...config });
    this.output = output;
    const c = config.width;
    const p = `dcgan_d_${instances++}`;
    this.conv1 = normalVariable([4, 4, 1, c], 0.02, seed, `${p}/conv1`) as tf.Variable<tf.Rank.R4>;
    this.bias1 = zerosVariable([c], `${p}/bias1`) as tf.Variable<tf.Rank.R1>;
    this.conv2 = normalVariable([4, 4, c, 2 * c], 0.02, seed + 1, `${p}/conv2`) as tf.Variable<tf.Rank.R4>;
    this.bias2 = zerosVariable([2 * c], `${p}/bias2`) as tf.Variable<tf.Rank.R1>;
    this.head = normalVariable(
      [INNER * INNER * 2 * c, 1],
      0.02,
      seed + 2,
      `${p}/head`,
    ) as tf.Variable<tf.Rank.R2>;
    this.headBias = zerosVariable([1], `${p}/head_bias`) as tf.Variable<tf.Rank.R1>;
  }

  /** The trainable variables (all of them are clipped by WGAN's weight clipping). */
  get trainableWeights(): tf.Variable[] {
    return [this.conv1, this.bias1, this.conv2, this.bias2, this.head, this.headBias];
  }

  /** Critic values `[n]` of images `x` `[n, 28, 28, 1]`. */
  apply(x: tf.Tensor4D): tf.Tensor1D {
    const n = x.shape[0];
    const c = this.config.width;
    const h1 = leakyRelu02(
      tf.add(tf.conv2d(x, this.conv1 as tf.Tensor4D, 2, "same"), this.bias1) as tf.Tensor4D,
    );
    const h2 = leakyRelu02(
      tf.add(tf.conv2d(h1, this.conv2 as tf.Tensor4D, 2, "same"), this.bias2) as tf.Tensor4D,
    );
    const flat = tf.reshape(h2, [n, INNER * INNER * 2 * c]) as tf.Tensor2D;
    const out = tf.reshape(tf.add(tf.matMul(flat, this.head), this.headBias), [n]) as tf.Tensor1D;
    return this.output === "sigmoid" ? tf.sigmoid(out) : out;
  }

  /** WGAN's weight clipping: clamps every critic variable to [−c, c] in place. */
  clipWeights(c: number): void {
    if (!(Number.isFinite(c) && c > 0)) throw new RangeError(`clipWeights: c must be a number > 0, got ${c}`);
    for (const w of this.trainableWeights) {
      const clipped = tf.tidy(() => tf.clipByValue(w, -c, c));
      w.assign(clipped);
      clipped.dispose(); // the variable keeps the data; the handle would leak
    }
  }

  dispose(): void {
    tf.dispose(this.trainableWeights);
  }
}

/**
 * WGAN-GP's gradient penalty `λ·mean_i (‖∇ₓD(x̂_i)‖₂ − 1)²` at the interpolates
 * `x̂_i = α_i·real_i + (1 − α_i)·fake_i` (the paper's script's `calc_gradient_penalty`, λ = 10). It is
 * differentiable with respect to the critic's weights (a second-order gradient: `tf.grad` inside the loss).
 * A 1e-12 inside the square root keeps the norm's gradient finite at a zero input gradient.
 *
 * @param critic the critic, `[n, …]` images → `[n]` values
 * @param alpha per-sample mixing weights `[n]` in [0, 1] (the script draws them uniformly)
 */
export function gradientPenalty(
  critic: (x: tf.Tensor4D) => tf.Tensor1D,
  real: tf.Tensor4D,
  fake: tf.Tensor4D,
  alpha: tf.Tensor1D,
  lambda: number,
): tf.Scalar {
  const n = real.shape[0];
  const a = tf.reshape(alpha, [n, 1, 1, 1]);
  const interpolates = tf.add(tf.mul(a, real), tf.mul(tf.sub(1, a), fake)) as tf.Tensor4D;
  const g = tf.grad((x: tf.Tensor) => tf.sum(critic(x as tf.Tensor4D)))(interpolates);
  const norms = tf.sqrt(tf.add(tf.sum(tf.square(g), [1, 2, 3]), 1e-12));
  return tf.mul(tf.mean(tf.square(tf.sub(norms, 1))), lambda) as tf.Scalar;
}
