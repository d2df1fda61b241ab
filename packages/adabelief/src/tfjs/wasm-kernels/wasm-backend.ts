/**
 * The few internals of the TensorFlow.js wasm backend (`@tensorflow/tfjs-backend-wasm` 4.x) that the
 * training kernels of this folder use: allocating a tensor on the backend's heap, viewing its data as a
 * typed array, freeing it, and calling one of the backend's own kernels directly. Everything is
 * feature-detected once per backend object; a backend that does not look as expected gets a clear error
 * naming the kernel that needed it.
 *
 * @module
 */
import { getKernel } from "@tensorflow/tfjs-core";
import type { DataType, NamedAttrMap, TensorInfo } from "@tensorflow/tfjs-core";

/** The part of the wasm backend (`BackendWasm`) that the kernels of this folder rely on. */
export interface WasmBackendLike {
  /** Allocates an output tensor of `shape` on the heap (uninitialised memory) with reference count 1. */
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  /** A typed view of a tensor's data on the heap. Take views after every allocation: memory may grow. */
  typedArrayFromHeap(info: TensorInfo): Float32Array | Int32Array | Uint8Array;
  /** Decrements the reference count of `dataId`, freeing the memory when it reaches zero. */
  disposeData(dataId: object, force?: boolean): boolean;
}

const checked = new WeakSet<object>();

/**
 * Returns `backend` typed as a {@link WasmBackendLike}, or throws an error naming `kernelName` when it lacks
 * the methods the kernel needs (for example when the kernel is run on another backend).
 */
export function asWasmBackend(backend: unknown, kernelName: string): WasmBackendLike {
  if (typeof backend === "object" && backend !== null) {
    if (checked.has(backend)) return backend as WasmBackendLike;
    const b = backend as Partial<Record<keyof WasmBackendLike, unknown>>;
    if (
      typeof b.makeOutput === "function" &&
      typeof b.typedArrayFromHeap === "function" &&
      typeof b.disposeData === "function"
    ) {
      checked.add(backend);
      return backend as WasmBackendLike;
    }
  }
  throw new Error(
    `${kernelName} (adabelief wasm kernel): the backend is not a TensorFlow.js wasm backend ` +
      "(it lacks makeOutput/typedArrayFromHeap/disposeData)",
  );
}

/** A float32 view of a float32 tensor's data on the heap. */
export function f32(backend: WasmBackendLike, info: TensorInfo): Float32Array {
  const v = backend.typedArrayFromHeap(info);
  if (!(v instanceof Float32Array)) throw new Error(`expected float32 data, got ${info.dtype}`);
  return v;
}

/**
 * Runs the backend's own registered kernel `kernelName` (e.g. `Conv2D`, `BatchMatMul`) directly, without
 * going through the engine (so nothing is recorded on a gradient tape). The result is owned by the caller:
 * free it with `backend.disposeData(result.dataId)` unless it is returned.
 */
export function callWasmKernel(
  backend: WasmBackendLike,
  kernelName: string,
  inputs: Record<string, TensorInfo>,
  attrs: NamedAttrMap,
): TensorInfo {
  const config = getKernel(kernelName, "wasm");
  if (!config) throw new Error(`the wasm backend has no '${kernelName}' kernel registered`);
  const out = config.kernelFunc({ inputs, backend: backend as never, attrs });
  if (Array.isArray(out)) {
    if (out.length !== 1 || !out[0]) throw new Error(`'${kernelName}' returned ${out.length} outputs`);
    return out[0];
  }
  return out;
}
