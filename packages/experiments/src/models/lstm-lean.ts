/**
 * A lean LSTM for TensorFlow.js: the same function as `tf.layers.lstm` with `recurrentActivation:
 * 'sigmoid'` (gate order `[i, f, g, o]`, Keras's), computed with a handful of backend ops instead of dozens
 * per time step, and with a hand-written backward pass (BPTT) registered through `tf.customGrad`:
 *
 * - forward: one `matMul` for the input projection of all time steps (`x·W + b`), then per step one
 *   `matMul` (`h_{t−1}·R`) and the element-wise cell in JavaScript
 *   (`c_t = σ(z_f) ⊙ c_{t−1} + σ(z_i) ⊙ tanh(z_g)`, `h_t = σ(z_o) ⊙ tanh(c_t)`);
 * - backward: per step the element-wise cell gradient in JavaScript and one `matMul` (`∂z_t·Rᵀ`), then three
 *   `matMul`s for `∂W = xᵀ·∂Z`, `∂R = Hᵀ·∂Z` and `∂x = ∂Z·Wᵀ` over all steps at once.
 *
 * On the wasm backend this trains one layer of 128 units at sequence length 64 several times faster than
 * `tf.layers.lstm`, whose cost is mostly per-op overhead (see `bench/training.ts`). The weights are
 * `tf.Variable`s, so any `tf.Optimizer` trains them (`optimizer.minimize(loss, false, lstm.trainableWeights)`,
 * or the default of all trainable variables).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import {
  addStepRows,
  backwardStep,
  columnSums,
  enteringStatesT,
  forwardStep,
  newTape,
  outputsOf,
  scatterStepRows,
  stepOutputGrad,
  transposed,
} from "./lstm-lean-math.js";

/** The weights of an LSTM, in Keras's layout. */
export interface LstmWeights {
  /** Input kernel `W`, `[features, 4·units]`, gate blocks `[i, f, g, o]`. */
  kernel: tf.Tensor2D;
  /** Recurrent kernel `R`, `[units, 4·units]`. */
  recurrentKernel: tf.Tensor2D;
  /** Bias `b`, `[4·units]`. */
  bias: tf.Tensor1D;
}

/** Hidden and cell state, each `[batch, units]`. */
export interface LstmState {
  h: tf.Tensor2D;
  c: tf.Tensor2D;
}

/** What {@link lstmSequence} returns. */
export interface LstmSequenceResult {
  /**
   * Hidden states of every step, `[batch, time, units]`; differentiable w.r.t. `x`, the weights and the
   * initial state.
   */
  output: tf.Tensor3D;
  /**
   * The state after the last step (for carrying it to the next batch, truncated BPTT). Not differentiable:
   * gradients do not flow through it. Kept (it survives an enclosing `tf.tidy`): the caller disposes it.
   */
  state: LstmState;
}

function checkShape(what: string, t: tf.Tensor, shape: number[]): void {
  if (t.dtype !== "float32") throw new Error(`lstmSequence: ${what} must be float32, got ${t.dtype}`);
  if (t.rank !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new Error(
      `lstmSequence: ${what} has shape [${t.shape.join(", ")}], expected [${shape.join(", ")}]`,
    );
  }
}

interface HeapBackend {
  dataIdMap?: { has(dataId: object): boolean };
  typedArrayFromHeap?: (t: tf.Tensor) => Float32Array;
}

/**
 * Copies a float32 tensor's values into `dst` (allocated to its size when omitted). On the wasm backend this
 * reads the heap directly: `dataSync()` there slices the heap, which allocates and is slow under load.
 */
function readInto(t: tf.Tensor, dst: Float32Array = new Float32Array(t.size)): Float32Array {
  const backend = tf.engine().backend as HeapBackend;
  if (typeof backend.typedArrayFromHeap === "function" && backend.dataIdMap?.has(t.dataId)) {
    dst.set(backend.typedArrayFromHeap(t));
  } else {
    dst.set(t.dataSync() as Float32Array);
  }
  return dst;
}

/**
 * `a·b` on the active backend, written into `dst`; every intermediate tensor is disposed. (Never return a
 * typed array from `tf.tidy`: it walks every element of its result looking for tensors.)
 */
function matMulInto(a: Float32Array, aShape: [number, number], b: tf.Tensor2D, dst: Float32Array): void {
  const at = tf.tensor2d(a as Float32Array<ArrayBuffer>, aShape);
  const p = tf.matMul(at, b);
  try {
    readInto(p, dst);
  } finally {
    tf.dispose([at, p]);
  }
}

/**
 * Runs an LSTM over a sequence: `x` is `[batch, time, features]`, the result's `output` is
 * `[batch, time, units]`. `initialState` defaults to zeros. Gradients (through `tf.grad`, `tf.variableGrads`,
 * `optimizer.minimize`, …) w.r.t. `x`, every weight and the initial state come from a hand-written BPTT.
 * Tensors passed in are not disposed.
 *
 * The element-wise cell runs in JavaScript on values read back from the backend each step, which suits the
 * cpu and wasm backends (a read is a copy from memory); on a GPU backend each read would be a round trip.
 *
 * @throws Error naming the argument when a shape or dtype is wrong, or when `time` is 0.
 */
export function lstmSequence(
  x: tf.Tensor3D,
  weights: LstmWeights,
  initialState?: LstmState,
): LstmSequenceResult {
  if (x.rank !== 3)
    throw new Error(`lstmSequence: x must be [batch, time, features], got shape [${x.shape.join(", ")}]`);
  const [B, T, F] = x.shape;
  const U = weights.recurrentKernel.shape[0];
  if (T < 1) throw new Error(`lstmSequence: x must have at least one time step, got time = ${T}`);
  if (B < 1) throw new Error(`lstmSequence: x must have at least one sequence, got batch = ${B}`);
  checkShape("x", x, [B, T, F]);
  checkShape("kernel", weights.kernel, [F, 4 * U]);
  checkShape("recurrentKernel", weights.recurrentKernel, [U, 4 * U]);
  checkShape("bias", weights.bias, [4 * U]);
  if (initialState) {
    checkShape("initialState.h", initialState.h, [B, U]);
    checkShape("initialState.c", initialState.c, [B, U]);
  }
  const h0 = initialState?.h ?? tf.zeros([B, U]);
  const c0 = initialState?.c ?? tf.zeros([B, U]);
  let finalState: LstmState | undefined;

  const op = tf.customGrad((...args: unknown[]) => {
    const [xi, W, R, bias, h0i, c0i, save] = args as [
      tf.Tensor3D,
      tf.Tensor2D,
      tf.Tensor2D,
      tf.Tensor1D,
      tf.Tensor2D,
      tf.Tensor2D,
      tf.GradSaveFunc,
    ];
    // The engine disposes the forward pass's intermediates before backprop: keep what the backward needs.
    save([xi, W, R]);
    const G = 4 * U;
    const xwT = tf.tidy(() => tf.add(tf.matMul(tf.reshape(xi, [B * T, F]), W), bias));
    const xw = readInto(xwT);
    xwT.dispose();
    const tape = newTape(B, U, T, readInto(h0i), readInto(c0i));
    const z = new Float32Array(B * G);
    const hr = new Float32Array(B * G);
    for (let t = 0; t < T; t++) {
      matMulInto(tape.hidden.subarray(t * B * U, (t + 1) * B * U), [B, U], R, hr);
      addStepRows(z, xw, hr, t, B, T, G);
      forwardStep(tape, t, z);
    }
    const out = outputsOf(tape);
    finalState = {
      h: tf.tensor2d(tape.hidden.slice(T * B * U), [B, U]),
      c: tf.tensor2d(tape.cells.slice(T * B * U), [B, U]),
    };
    tf.keep(finalState.h);
    tf.keep(finalState.c);

    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
      const [xs, Ws, Rs] = saved as [tf.Tensor3D, tf.Tensor2D, tf.Tensor2D];
      const dyv = readInto(dy);
      const dZ = new Float32Array(B * T * G); // rows b·T + t, like x reshaped to [B·T, F]
      const dh = new Float32Array(B * U);
      const dc = new Float32Array(B * U);
      const dz = new Float32Array(B * G);
      const RT = tf.transpose(Rs) as tf.Tensor2D;
      const dhBack = new Float32Array(B * U);
      try {
        for (let t = T - 1; t >= 0; t--) {
          stepOutputGrad(dh, dyv, dhBack, t, B, T, U);
          backwardStep(tape, t, dh, dc, dz);
          scatterStepRows(dZ, dz, t, B, T, G);
          matMulInto(dz, [B, G], RT, dhBack);
        }
      } finally {
        RT.dispose();
      }
      const hPrevT = enteringStatesT(tape);
      const db = columnSums(dZ, B * T, G);
      return tf.tidy(() => {
        const dZt = tf.tensor2d(dZ, [B * T, G]);
        const x2 = tf.reshape(xs, [B * T, F]);
        const dW = tf.matMul(tf.tensor2d(transposed(readInto(x2), B * T, F), [F, B * T]), dZt);
        const dR = tf.matMul(tf.tensor2d(hPrevT, [U, B * T]), dZt);
        const dx = tf.reshape(tf.matMul(dZt, tf.transpose(Ws)), [B, T, F]);
        return [dx, dW, dR, tf.tensor1d(db), tf.tensor2d(dhBack, [B, U]), tf.tensor2d(dc, [B, U])];
      });
    };
    return { value: tf.tensor3d(out, [B, T, U]), gradFunc };
  });

  try {
    const output = op(x, weights.kernel, weights.recurrentKernel, weights.bias, h0, c0) as tf.Tensor3D;
    if (!finalState) throw new Error("lstmSequence: internal error, the forward pass did not run");
    return { output, state: finalState };
  } finally {
    if (!initialState) tf.dispose([h0, c0]);
  }
}

/**
 * Keras's orthogonal initialiser for a `[units, 4·units]` matrix: the Q factor of a Gaussian `[4·units,
 * units]` matrix (Gram–Schmidt in float64, columns made orthonormal; signs fixed so that R's diagonal is
 * positive), transposed so that the rows are orthonormal. Done in JavaScript: `tf.linalg.qr` issues
 * thousands of small ops.
 */
function orthonormalRows(gaussian: tf.Tensor2D): Float32Array {
  const [n, m] = gaussian.shape; // n = 4U rows, m = U columns
  const a = Float64Array.from(readInto(gaussian));
  for (let j = 0; j < m; j++) {
    for (let k = 0; k < j; k++) {
      let dot = 0;
      for (let i = 0; i < n; i++) dot += a[i * m + j]! * a[i * m + k]!;
      for (let i = 0; i < n; i++) a[i * m + j] = a[i * m + j]! - dot * a[i * m + k]!;
    }
    let norm = 0;
    for (let i = 0; i < n; i++) norm += a[i * m + j]! ** 2;
    norm = Math.sqrt(norm);
    for (let i = 0; i < n; i++) a[i * m + j] = a[i * m + j]! / norm;
  }
  const out = new Float32Array(m * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) out[j * n + i] = a[i * m + j]!;
  return out;
}

/** Options of {@link LeanLstm}. */
export interface LeanLstmOptions {
  /** Features per time step of the input (`x.shape[2]`). */
  inputSize: number;
  /** Hidden units. */
  units: number;
  /** Seed of the initialisers (Glorot-uniform kernel, orthogonal recurrent kernel). Default 0. */
  seed?: number;
  /** Initialise the forget-gate bias to 1 (Keras's `unitForgetBias`). Default `true`. */
  unitForgetBias?: boolean;
  /** Prefix of the variables' names (made unique). Default `"lean_lstm"`. */
  name?: string;
}

let instances = 0;

function positiveInt(name: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1) {
    throw new Error(`LeanLstm: ${name} must be a positive integer, got ${String(v)}`);
  }
  return v;
}

/**
 * An LSTM layer holding its weights as trainable `tf.Variable`s (`kernel`, `recurrentKernel`, `bias`,
 * Keras's layout and initialisers: Glorot-uniform kernel, orthogonal recurrent kernel, zero bias with the
 * forget-gate block at 1). `apply(x)` maps `[batch, time, inputSize]` to `[batch, time, units]`.
 *
 * Differences from `tf.layers.lstm`: the recurrent activation is the logistic sigmoid (TensorFlow.js's
 * default is `hardSigmoid`; Keras's is `sigmoid`), and there is no dropout or masking.
 */
export class LeanLstm {
  /** Features per time step of the input. */
  readonly inputSize: number;
  /** Hidden units. */
  readonly units: number;
  /** `W`, `[inputSize, 4·units]`. */
  readonly kernel: tf.Variable<tf.Rank.R2>;
  /** `R`, `[units, 4·units]`. */
  readonly recurrentKernel: tf.Variable<tf.Rank.R2>;
  /** `b`, `[4·units]`. */
  readonly bias: tf.Variable<tf.Rank.R1>;

  constructor(options: LeanLstmOptions) {
    const F = positiveInt("inputSize", options.inputSize);
    const U = positiveInt("units", options.units);
    const seed = options.seed ?? 0;
    if (typeof seed !== "number" || !Number.isFinite(seed))
      throw new Error(`LeanLstm: seed must be a number, got ${String(seed)}`);
    const forgetOne = options.unitForgetBias ?? true;
    const prefix = `${options.name ?? "lean_lstm"}_${instances++}`;
    this.inputSize = F;
    this.units = U;
    const [k, r, b] = tf.tidy(() => {
      const limit = Math.sqrt(6 / (F + 4 * U));
      const kernel = tf.randomUniform([F, 4 * U], -limit, limit, "float32", seed);
      const recurrent = tf.tensor2d(orthonormalRows(tf.randomNormal([4 * U, U], 0, 1, "float32", seed + 1)), [
        U,
        4 * U,
      ]);
      const bias = tf.concat([tf.zeros([U]), forgetOne ? tf.ones([U]) : tf.zeros([U]), tf.zeros([2 * U])]);
      return [kernel, recurrent, bias];
    });
    this.kernel = tf.variable(k as tf.Tensor2D, true, `${prefix}/kernel`);
    this.recurrentKernel = tf.variable(r as tf.Tensor2D, true, `${prefix}/recurrent_kernel`);
    this.bias = tf.variable(b as tf.Tensor1D, true, `${prefix}/bias`);
    tf.dispose([k, r, b]);
  }

  /** The trainable variables: `[kernel, recurrentKernel, bias]`. */
  get trainableWeights(): tf.Variable[] {
    return [this.kernel, this.recurrentKernel, this.bias];
  }

  /** Hidden states of every step, `[batch, time, units]` (differentiable). */
  apply(x: tf.Tensor3D, initialState?: LstmState): tf.Tensor3D {
    const { output, state } = this.run(x, initialState);
    tf.dispose([state.h, state.c]);
    return output;
  }

  /** Like {@link LeanLstm.apply} but also returns the final state (not differentiable). */
  run(x: tf.Tensor3D, initialState?: LstmState): LstmSequenceResult {
    return lstmSequence(
      x,
      { kernel: this.kernel, recurrentKernel: this.recurrentKernel, bias: this.bias },
      initialState,
    );
  }

  /**
   * Copies weights in (e.g. from a `tf.layers.lstm`'s `getWeights()`); shapes must match. Nothing changes
   * on error.
   */
  setWeights(weights: LstmWeights): void {
    const F = this.inputSize;
    const U = this.units;
    const check = (what: string, t: tf.Tensor, shape: number[]): void => {
      if (t.rank !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
        throw new Error(
          `LeanLstm.setWeights: ${what} has shape [${t.shape.join(", ")}], expected [${shape.join(", ")}]`,
        );
      }
    };
    check("kernel", weights.kernel, [F, 4 * U]);
    check("recurrentKernel", weights.recurrentKernel, [U, 4 * U]);
    check("bias", weights.bias, [4 * U]);
    this.kernel.assign(weights.kernel);
    this.recurrentKernel.assign(weights.recurrentKernel);
    this.bias.assign(weights.bias);
  }

  /** Disposes the variables. */
  dispose(): void {
    tf.dispose(this.trainableWeights);
  }
}

/**
 * The plain function form: `lstmLean(x, lstm)` is `lstm.apply(x)`, `[batch, time, features]` →
 * `[batch, time, units]`, differentiable w.r.t. `x` and `lstm.trainableWeights`.
 */
export function lstmLean(x: tf.Tensor3D, lstm: LeanLstm, initialState?: LstmState): tf.Tensor3D {
  return lstm.apply(x, initialState);
}
