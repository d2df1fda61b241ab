/**
 * Discovery of the TensorFlow.js wasm backend's internals: its `WebAssembly.Memory` and where each
 * tensor's data lives in it. Everything here is feature-detected: when the backend does not look as
 * expected, {@link wasmInternals} returns `null` and the optimizers use their tensor-op path instead.
 *
 * @module
 */

import { recordReader, type DataStorageLike } from "../data-storage.js";

/** What the fused wasm path needs from a wasm backend. */
export interface WasmInternals {
  /** The backend's linear memory (the Emscripten heap). */
  readonly memory: WebAssembly.Memory;
  /** Byte offset of a float32 tensor's data in {@link WasmInternals.memory}, or −1 if it is not there. */
  offsetOf(dataId: object): number;
  /** Number of tensors sharing the data (−1 if the data is unknown to the backend). */
  refCount(dataId: object): number;
  /**
   * A float32 view of `length` elements at byte offset `offset`. Take views after every allocation: the
   * memory may grow, which detaches earlier views.
   */
  view(offset: number, length: number): Float32Array;
  /**
   * Tells the backend's C++ side that a tensor's data changed in place. The backend caches XNNPACK operators
   * with weights packed from a tensor (the filter of a convolution, the right-hand side of a matmul), keyed
   * by the tensor's id and dropped only when that id is disposed: after an in-place write those caches would
   * keep computing with the old weights. This re-registers the id (dispose, then register the same memory
   * again), which runs the disposal callbacks and empties those caches without moving or freeing the data.
   */
  invalidate(dataId: object): void;
}

interface DataEntry {
  id?: unknown;
  shape?: unknown;
  memoryOffset?: unknown;
  dtype?: unknown;
  refCount?: unknown;
}

interface WasmBackendLike {
  dataIdMap: DataStorageLike<DataEntry>;
  wasm: {
    HEAPU8?: Uint8Array;
    asm?: Record<string, unknown>;
    wasmMemory?: unknown;
    wasmExports?: Record<string, unknown>;
    tfjs?: { registerTensor?: unknown; disposeData?: unknown };
  };
}

const cache = new WeakMap<object, WasmInternals | null>();

function findMemory(wasm: WasmBackendLike["wasm"]): WebAssembly.Memory | null {
  const candidates: unknown[] = [wasm.wasmMemory, wasm.asm?.["memory"], wasm.wasmExports?.["memory"]];
  for (const table of [wasm.asm, wasm.wasmExports]) {
    if (table && typeof table === "object") candidates.push(...Object.values(table));
  }
  const heap = wasm.HEAPU8;
  for (const c of candidates) {
    if (c instanceof WebAssembly.Memory && heap instanceof Uint8Array && c.buffer === heap.buffer) return c;
  }
  return null;
}

function looksLikeWasmBackend(backend: unknown): backend is WasmBackendLike {
  if (typeof backend !== "object" || backend === null) return false;
  const b = backend as Partial<WasmBackendLike>;
  return (
    typeof b.dataIdMap?.get === "function" &&
    typeof b.dataIdMap?.has === "function" &&
    typeof b.wasm === "object" &&
    b.wasm !== null
  );
}

/**
 * The internals of a TensorFlow.js wasm backend (`tf.backend()` while `tf.getBackend() === "wasm"`), or
 * `null` when they cannot be found: no `dataIdMap`, no `WebAssembly.Memory` whose buffer is the backend's
 * heap. The result is cached per backend object.
 */
export function wasmInternals(backend: unknown): WasmInternals | null {
  if (typeof backend !== "object" || backend === null) return null;
  const cached = cache.get(backend);
  if (cached !== undefined) return cached;
  let found: WasmInternals | null = null;
  if (looksLikeWasmBackend(backend)) {
    const memory = findMemory(backend.wasm);
    const api = backend.wasm.tfjs;
    const register = api?.registerTensor;
    const dispose = api?.disposeData;
    // Without a way to drop the backend's per-tensor caches, in-place updates are not safe (stale weights).
    if (memory && typeof register === "function" && typeof dispose === "function") {
      const record = recordReader(backend.dataIdMap);
      found = {
        memory,
        offsetOf(dataId) {
          const e = record(dataId);
          if (!e || e.dtype !== "float32") return -1;
          const off = e.memoryOffset;
          return typeof off === "number" && Number.isInteger(off) && off > 0 && off % 4 === 0 ? off : -1;
        },
        refCount(dataId) {
          const e = record(dataId);
          return e && typeof e.refCount === "number" ? e.refCount : -1;
        },
        view(offset, length) {
          return new Float32Array(memory.buffer, offset, length);
        },
        invalidate(dataId) {
          const e = record(dataId);
          if (!e || typeof e.id !== "number" || !Array.isArray(e.shape)) return;
          const size = (e.shape as number[]).reduce((a, b) => a * b, 1);
          dispose(e.id);
          register(e.id, size, e.memoryOffset);
        },
      };
    }
  }
  cache.set(backend, found);
  return found;
}
