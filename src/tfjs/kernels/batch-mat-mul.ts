/**
 * `BatchMatMul` for the TensorFlow.js wasm backend with a fast `transposeA`. The built-in kernel is fast
 * (XNNPACK) except with `transposeA`, which takes a path about 20× slower — and `transposeA` is what the
 * gradient of every dense layer uses (`∂W = xᵀ·∂y`). This kernel transposes `a` explicitly on the heap
 * (per batch matrix, blocked) and calls the built-in kernel with `transposeA = false`; every other call goes
 * to the built-in kernel unchanged.
 *
 * @module
 */
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from "@tensorflow/tfjs-core";
import { asWasmBackend, f32 } from "./wasm-backend.js";

const NAME = "BatchMatMul";
const TILE = 32;

/**
 * Makes the kernel function around the built-in `BatchMatMul` config `builtin` (whose kernel does the
 * multiplication). Inputs `{a, b}`, attrs `{transposeA, transposeB}` as the built-in kernel takes them.
 */
export function makeBatchMatMulWasm(builtin: KernelConfig): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { a, b: bIn } = inputs as { a?: TensorInfo; b?: TensorInfo };
    const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
    if (!transposeA || !a || !bIn || a.dtype !== "float32" || a.shape.length < 2) {
      return builtin.kernelFunc({ inputs, backend, attrs });
    }
    const be = asWasmBackend(backend, NAME);
    const rank = a.shape.length;
    const rows = a.shape[rank - 2]!;
    const cols = a.shape[rank - 1]!;
    const outer = a.shape.slice(0, -2);
    const batch = outer.reduce((p, d) => p * d, 1);
    const aT = be.makeOutput([...outer, cols, rows], "float32");
    try {
      const src = f32(be, a);
      const dst = f32(be, aT);
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
      const newAttrs = { transposeA: false, transposeB } as unknown as NamedAttrMap;
      return builtin.kernelFunc({ inputs: { a: aT, b: bIn }, backend, attrs: newAttrs });
    } finally {
      be.disposeData(aT.dataId);
    }
  };
}
