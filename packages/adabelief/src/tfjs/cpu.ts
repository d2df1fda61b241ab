/**
 * Discovery of the TensorFlow.js cpu backend's internals: the live `Float32Array` behind each tensor
 * (`backend.data.get(dataId).values`). Feature-detected: {@link cpuInternals} returns `null` when the
 * backend does not look as expected, and the optimizers use their tensor-op path instead.
 *
 * @module
 */

import { recordReader, type DataStorageLike } from "./data-storage.js";

/** What the fused cpu path needs from the cpu backend. */
export interface CpuInternals {
  /** The live storage of a float32 tensor of `size` elements, or `null` if it is not available. */
  values(dataId: object, size: number): Float32Array | null;
  /** Number of tensors sharing the data (−1 if the data is unknown to the backend). */
  refCount(dataId: object): number;
}

interface CpuBackendLike {
  data: DataStorageLike<CpuRecord>;
}

interface CpuRecord {
  values?: unknown;
  dtype?: unknown;
  refCount?: unknown;
}

const cache = new WeakMap<object, CpuInternals | null>();

/** The internals of a TensorFlow.js cpu backend, or `null`. Cached per backend object. */
export function cpuInternals(backend: unknown): CpuInternals | null {
  if (typeof backend !== "object" || backend === null) return null;
  const cached = cache.get(backend);
  if (cached !== undefined) return cached;
  const b = backend as Partial<CpuBackendLike>;
  let found: CpuInternals | null = null;
  if (typeof b.data?.get === "function" && typeof b.data?.has === "function") {
    const record = recordReader(b.data);
    found = {
      values(dataId, size) {
        const e = record(dataId);
        if (!e || e.dtype !== "float32") return null;
        const v = e.values;
        return v instanceof Float32Array && v.length === size ? v : null;
      },
      refCount(dataId) {
        const e = record(dataId);
        return e && typeof e.refCount === "number" ? e.refCount : -1;
      },
    };
  }
  cache.set(backend, found);
  return found;
}
