/**
 * The element-wise parts of an LSTM over a whole sequence, forward and backward (backpropagation through
 * time), on plain `Float32Array`s. The matrix products are left to the caller (TensorFlow.js), which hands
 * in the gate pre-activations of each step and gets back the gate gradients. Gate order along the last axis
 * is Keras's `[i, f, g, o]` (input, forget, cell candidate, output):
 *
 *   z_t = x_t·W + h_{t−1}·R + b,   i = σ(z_i), f = σ(z_f), g = tanh(z_g), o = σ(z_o)
 *   c_t = f ⊙ c_{t−1} + i ⊙ g,     h_t = o ⊙ tanh(c_t)
 *
 * @module
 */

/** What the forward pass keeps for the backward pass (time-major, one `[batch, …]` block per step). */
export interface LstmTape {
  batch: number;
  units: number;
  steps: number;
  /** Gate activations `[steps, batch, 4·units]` in `[i, f, g, o]` order. */
  gates: Float32Array;
  /** Cell states `c_0 … c_{T}`: `[steps + 1, batch, units]` (index 0 is the initial state). */
  cells: Float32Array;
  /** Hidden states `h_0 … h_{T}`: `[steps + 1, batch, units]` (index 0 is the initial state). */
  hidden: Float32Array;
}

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

/** Allocates a tape for `steps` steps and copies the initial states `h0`, `c0` (`[batch, units]`) in. */
export function newTape(
  batch: number,
  units: number,
  steps: number,
  h0: Float32Array,
  c0: Float32Array,
): LstmTape {
  const bu = batch * units;
  const tape: LstmTape = {
    batch,
    units,
    steps,
    gates: new Float32Array(steps * bu * 4),
    cells: new Float32Array((steps + 1) * bu),
    hidden: new Float32Array((steps + 1) * bu),
  };
  tape.hidden.set(h0.subarray(0, bu));
  tape.cells.set(c0.subarray(0, bu));
  return tape;
}

/**
 * One forward step `t`: `z` holds the pre-activations `[batch, 4·units]` (input projection, recurrent
 * product and bias already summed); writes the gates, `c_{t+1}` and `h_{t+1}` into the tape.
 */
export function forwardStep(tape: LstmTape, t: number, z: Float32Array): void {
  const { batch: B, units: U, gates, cells, hidden } = tape;
  const g0 = t * B * 4 * U;
  const prev = t * B * U;
  const next = prev + B * U;
  for (let b = 0; b < B; b++) {
    const zb = b * 4 * U;
    const gb = g0 + zb;
    for (let u = 0; u < U; u++) {
      const i = sigmoid(z[zb + u]!);
      const f = sigmoid(z[zb + U + u]!);
      const g = Math.tanh(z[zb + 2 * U + u]!);
      const o = sigmoid(z[zb + 3 * U + u]!);
      gates[gb + u] = i;
      gates[gb + U + u] = f;
      gates[gb + 2 * U + u] = g;
      gates[gb + 3 * U + u] = o;
      const c = f * cells[prev + b * U + u]! + i * g;
      cells[next + b * U + u] = c;
      hidden[next + b * U + u] = o * Math.tanh(c);
    }
  }
}

/**
 * One backward step `t` (called for t = T−1 … 0). On entry `dh` holds ∂L/∂h_{t+1} (the output gradient of
 * that step plus what flowed back from step t+1) and `dc` holds ∂L/∂c_{t+1} from step t+1; writes the
 * pre-activation gradients `[batch, 4·units]` into `dz` and leaves ∂L/∂c_t in `dc`. The caller then adds
 * `dz·Rᵀ` (∂L/∂h_t) to the next step's output gradient.
 */
export function backwardStep(
  tape: LstmTape,
  t: number,
  dh: Float32Array,
  dc: Float32Array,
  dz: Float32Array,
): void {
  const { batch: B, units: U, gates, cells } = tape;
  const g0 = t * B * 4 * U;
  const prev = t * B * U;
  const next = prev + B * U;
  for (let b = 0; b < B; b++) {
    const gb = g0 + b * 4 * U;
    const zb = b * 4 * U;
    for (let u = 0; u < U; u++) {
      const k = b * U + u;
      const i = gates[gb + u]!;
      const f = gates[gb + U + u]!;
      const g = gates[gb + 2 * U + u]!;
      const o = gates[gb + 3 * U + u]!;
      const tc = Math.tanh(cells[next + k]!);
      const dhk = dh[k]!;
      const dck = dc[k]! + dhk * o * (1 - tc * tc);
      dz[zb + u] = dck * g * i * (1 - i);
      dz[zb + U + u] = dck * cells[prev + k]! * f * (1 - f);
      dz[zb + 2 * U + u] = dck * i * (1 - g * g);
      dz[zb + 3 * U + u] = dhk * tc * o * (1 - o);
      dc[k] = dck * f;
    }
  }
}

/**
 * `z[b, :] = xw[b·T + t, :] + hr[b, :]` for every sequence `b`: the input projection of step `t` (rows of
 * `xw`, `[B·T, G]`, batch-major) plus the recurrent product `hr` (`[B, G]`).
 */
export function addStepRows(
  z: Float32Array,
  xw: Float32Array,
  hr: Float32Array,
  t: number,
  B: number,
  T: number,
  G: number,
): void {
  for (let b = 0; b < B; b++) {
    const src = (b * T + t) * G;
    const dst = b * G;
    for (let j = 0; j < G; j++) z[dst + j] = xw[src + j]! + hr[dst + j]!;
  }
}

/** `dh[b, :] = dy[b·T + t, :] + back[b, :]`: the output gradient of step `t` plus what flowed back. */
export function stepOutputGrad(
  dh: Float32Array,
  dy: Float32Array,
  back: Float32Array,
  t: number,
  B: number,
  T: number,
  U: number,
): void {
  for (let b = 0; b < B; b++) {
    const src = (b * T + t) * U;
    const dst = b * U;
    for (let u = 0; u < U; u++) dh[dst + u] = dy[src + u]! + back[dst + u]!;
  }
}

/** Copies the `[B, W]` block `rows` to rows `b·T + t` of the batch-major `[B·T, W]` matrix `all`. */
export function scatterStepRows(
  all: Float32Array,
  rows: Float32Array,
  t: number,
  B: number,
  T: number,
  W: number,
): void {
  for (let b = 0; b < B; b++) all.set(rows.subarray(b * W, (b + 1) * W), (b * T + t) * W);
}

/** The tape's hidden states `h_1 … h_T` as a batch-major `[B, T, U]` array (the layer's output). */
export function outputsOf(tape: LstmTape): Float32Array {
  const { batch: B, units: U, steps: T, hidden } = tape;
  const out = new Float32Array(B * T * U);
  for (let t = 0; t < T; t++) {
    const hs = (t + 1) * B * U;
    for (let b = 0; b < B; b++) out.set(hidden.subarray(hs + b * U, hs + (b + 1) * U), (b * T + t) * U);
  }
  return out;
}

/**
 * The states entering each step, transposed: `[U, B·T]` with column `b·T + t` holding `h_t` of sequence
 * `b` (so that `∂R = Hᵀ·∂Z` is a plain product). Written row by row (reads strided, writes sequential).
 */
export function enteringStatesT(tape: LstmTape): Float32Array {
  const { batch: B, units: U, steps: T, hidden } = tape;
  const BT = B * T;
  const out = new Float32Array(U * BT);
  for (let u = 0; u < U; u++) {
    const row = u * BT;
    for (let b = 0; b < B; b++) {
      let src = b * U + u;
      const dst = row + b * T;
      for (let t = 0; t < T; t++, src += B * U) out[dst + t] = hidden[src]!;
    }
  }
  return out;
}

/** Column sums of a row-major `[rows, cols]` matrix (accumulated in float64). */
export function columnSums(m: Float32Array, rows: number, cols: number): Float32Array {
  const acc = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let j = 0; j < cols; j++) acc[j] = acc[j]! + m[base + j]!;
  }
  return Float32Array.from(acc);
}

/** Row-major `[rows, cols]` → `[cols, rows]`, in tiles. */
export function transposed(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  const TILE = 32;
  for (let r0 = 0; r0 < rows; r0 += TILE) {
    const r1 = Math.min(rows, r0 + TILE);
    for (let c0 = 0; c0 < cols; c0 += TILE) {
      const c1 = Math.min(cols, c0 + TILE);
      for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) out[c * rows + r] = a[r * cols + c]!;
    }
  }
  return out;
}
