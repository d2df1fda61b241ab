/**
 * `UnsortedSegmentSum` for the TensorFlow.js wasm backend, which has none (so the gradient of `tf.gather`,
 * hence of every embedding layer, throws there):
 *
 *   out[k, ...] = Σ_{i : segmentIds[i] = k} x[i, ...]      for k in [0, numSegments)
 *
 * `segmentIds` (int32) indexes the leading dimensions of `x` (its shape is a prefix of `x.shape`). Ids
 * outside `[0, numSegments)` are dropped, as the cpu backend does. One pass over `x` on the wasm heap.
 *
 * @module
 */
import type { KernelFunc, TensorInfo } from "@tensorflow/tfjs-core";
import { asWasmBackend } from "./wasm-backend.js";

const NAME = "UnsortedSegmentSum";

/**
 * The kernel function: inputs `{x, segmentIds}`, attrs `{numSegments}`; returns a tensor of shape
 * `[numSegments, ...x.shape.slice(segmentIds.rank)]` and `x`'s dtype (float32 or int32).
 */
export const unsortedSegmentSumWasm: KernelFunc = ({ inputs, backend, attrs }) => {
  const b = asWasmBackend(backend, NAME);
  const { x, segmentIds } = inputs as { x?: TensorInfo; segmentIds?: TensorInfo };
  if (!x || !segmentIds) throw new Error(`${NAME}: inputs 'x' and 'segmentIds' are required`);
  const numSegments = (attrs as { numSegments?: unknown }).numSegments;
  if (typeof numSegments !== "number" || !Number.isInteger(numSegments) || numSegments < 0) {
    throw new Error(`${NAME}: numSegments must be a non-negative integer, got ${String(numSegments)}`);
  }
  if (x.dtype !== "float32" && x.dtype !== "int32") {
    throw new Error(`${NAME}: x must be float32 or int32, got ${x.dtype}`);
  }
  if (segmentIds.dtype !== "int32") {
    throw new Error(`${NAME}: segmentIds must be int32, got ${segmentIds.dtype}`);
  }
  const idRank = segmentIds.shape.length;
  if (idRank > x.shape.length || segmentIds.shape.some((d, i) => d !== x.shape[i])) {
    throw new Error(
      `${NAME}: segmentIds shape [${segmentIds.shape.join(", ")}] must be a prefix of x shape [${x.shape.join(", ")}]`,
    );
  }
  const inner = x.shape.slice(idRank).reduce((p, d) => p * d, 1);
  const count = segmentIds.shape.reduce((p, d) => p * d, 1);
  const out = b.makeOutput([numSegments, ...x.shape.slice(idRank)], x.dtype);
  const ov = b.typedArrayFromHeap(out) as Float32Array | Int32Array;
  const xv = b.typedArrayFromHeap(x) as Float32Array | Int32Array;
  const ids = b.typedArrayFromHeap(segmentIds) as Int32Array;
  ov.fill(0);
  for (let i = 0; i < count; i++) {
    const k = ids[i]!;
    if (k < 0 || k >= numSegments) continue;
    const dst = k * inner;
    const src = i * inner;
    for (let e = 0; e < inner; e++) ov[dst + e] = ov[dst + e]! + xv[src + e]!;
  }
  return out;
};
