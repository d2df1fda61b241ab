/**
 * `BatchMatMul` for the TensorFlow.js wasm backend with fast transposed operands. The built-in kernel is
 * fast (XNNPACK) on plain operands but takes much slower paths with `transposeA` (about 20×) or
 * `transposeB` (about 6× measured here) — and those are what the gradient of every dense layer uses
 * (`∂W = xᵀ·∂y`, `∂x = ∂y·Wᵀ`). This kernel transposes the flagged operands explicitly on the heap (per
 * batch matrix, in tiles) and calls the built-in kernel without transposes; calls without transposes go to
 * the built-in kernel unchanged.
 *
 * @module
 */
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from "@tensorflow/tfjs-core";
import { asWasmBackend, f32, type WasmBackendLike } from "./wasm-backend.js";

const NAME = "BatchMatMul";
const TILE = 32;

/** Allocates the transpose of the last two axes of float32 `t` on the heap and fills it (blocked). */
function transposeLastTwo(be: WasmBackendLike, t: TensorInfo): TensorInfo {
  const rank = t.shape.length;
  const rows = t.shape[rank - 2]!;
  const cols = t.shape[rank - 1]!;
  const outer = t.shape.slice(0, -2);
  const batch = outer.reduce((p, d) => p * d, 1);
  const out = be.makeOutput([...outer, cols, rows], "float32");
  const src = f32(be, t);
  const dst = f32(be, out);
  for (let m = 0; m < batch; m++) {
    const base = m * rows * cols;
    for (let r0 = 0; r0 < rows; r0 += TILE) {
      const r1 = Math.min(rows, r0 + TILE);
      for (let c0 = 0; c0 < cols; c0 += TILE) {
        const c1 = Math.min(cols, c0 + TILE);
        for (let r = r0; r < r1; r++) {
          for (let c = c0; c < c1; c++) dst[base + c * rows + r] = src[base + r * cols + c]!;
        }
      }
    }
  }
  return out;
}

/**
 * Makes the kernel function around the built-in `BatchMatMul` config `builtin` (whose kernel does the
 * multiplication). Inputs `{a, b}`, attrs `{transposeA, transposeB}` as the built-in kernel takes them.
 */
export function makeBatchMatMulWasm(builtin: KernelConfig): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { a, b } = inputs as { a?: TensorInfo; b?: TensorInfo };
    const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
    const fast = (t: TensorInfo | undefined): t is TensorInfo =>
      t !== undefined && t.dtype === "float32" && t.shape.length >= 2;
    if ((!transposeA && !transposeB) || !fast(a) || !fast(b)) {
      return builtin.kernelFunc({ inputs, backend, attrs });
    }
    const be = asWasmBackend(backend, NAME);
    const temps: TensorInfo[] = [];
    try {
      const aT = transposeA ? transposeLastTwo(be, a) : a;
      if (transposeA) temps.push(aT);
      const bT = transposeB ? transposeLastTwo(be, b) : b;
      if (transposeB) temps.push(bT);
      const newAttrs = { transposeA: false, transposeB: false } as unknown as NamedAttrMap;
      return builtin.kernelFunc({ inputs: { a: aT, b: bT }, backend, attrs: newAttrs });
    } finally {
      for (const t of temps) be.disposeData(t.dataId);
    }
  };
}
