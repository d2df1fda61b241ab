/**
 * Discovery of the TensorFlow.js wasm backend's internals: its `WebAssembly.Memory` and where each
 * tensor's data lives in it. Everything here is feature-detected: when the backend does not look as
 * expected, {@link wasmInternals} returns `null` and the optimizers use their tensor-op path instead.
 *
 * @module
 */

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
}

interface DataEntry {
  memoryOffset?: unknown;
  dtype?: unknown;
  refCount?: unknown;
}

interface WasmBackendLike {
  dataIdMap: { get(id: object): DataEntry | undefined; has(id: object): boolean };
  wasm: {
    HEAPU8?: Uint8Array;
    asm?: Record<string, unknown>;
    wasmMemory?: unknown;
    wasmExports?: Record<string, unknown>;
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
    if (memory) {
      const map = backend.dataIdMap;
      found = {
        memory,
        offsetOf(dataId) {
          const e = map.has(dataId) ? map.get(dataId) : undefined;
          if (!e || e.dtype !== "float32") return -1;
          const off = e.memoryOffset;
          return typeof off === "number" && Number.isInteger(off) && off > 0 && off % 4 === 0 ? off : -1;
        },
        refCount(dataId) {
          const e = map.has(dataId) ? map.get(dataId) : undefined;
          return e && typeof e.refCount === "number" ? e.refCount : -1;
        },
        view(offset, length) {
          return new Float32Array(memory.buffer, offset, length);
        },
      };
    }
  }
  cache.set(backend, found);
  return found;
}
