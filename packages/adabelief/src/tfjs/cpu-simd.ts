/**
 * The SIMD update kernels on the cpu backend.
 *
 * The kernels (`./wasm/simd.ts`) work on float32 arrays inside a `WebAssembly.Memory`, while the cpu
 * backend keeps each tensor in a `Float32Array` of its own. Copying θ, g, m and s into a wasm memory and
 * back would move ~3× the bytes of the step itself, so instead:
 * - a trained **variable** and its **slots** (m, s, and the AMSGrad maximum) live in a wasm memory for
 *   good: each is a tensor created with a `Float32Array` view of that memory as its storage (the cpu
 *   backend keeps a typed array passed to `tf.tensor` as the storage, without copying; the variable is
 *   `assign`ed such a tensor once, a copy of its value), so the kernels update them in place and
 *   TensorFlow.js reads them as any other tensor;
 * - the **gradient**, made by TensorFlow.js's own kernels, crosses in chunks of {@link STAGE} elements
 *   through a small staging area of the same memory that stays in the cache. Memory traffic per parameter
 *   is the in-place step's; the copy hits the cache. (Staging θ as well, in and out, measured ~1.5× slower
 *   at 1e7 parameters.)
 *
 * The wasm memories ({@link Region}s) never grow: growing would detach every view handed to the backend.
 * A new region is made when the free space runs out (at least {@link REGION_BYTES}; pages the OS has not
 * touched cost no physical memory). A block is freed once the backend no longer knows its data (the
 * tensor was disposed, or the variable `assign`ed other data and nothing else shares the old): found by a
 * sweep when an allocation does not fit. A region left empty by a sweep is dropped.
 *
 * Caveat, as for the cpu backend's own storage: `dataSync()` of such a tensor returns the view itself (a
 * `Float32Array` on the region's `ArrayBuffer`, with a byte offset); it follows later updates.
 *
 * Results agree with the core loop to float32 precision (the kernels round every operation to float32),
 * not bit for bit; `kernel: "loop"` keeps the bit-identical core loop on the cpu backend.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs-core";
import type { CpuInternals } from "./cpu.js";
import type { SimdUpdate } from "./wasm/fused.js";
import { instantiateSimdKernels, simdSupported, type SimdKernels } from "./wasm/simd.js";

/** Elements per staged chunk: θ and g chunks of 64 KB each stay in the L2 cache. */
export const STAGE = 16384;
/** Smallest region (bytes of wasm memory) made at a time. */
export const REGION_BYTES = 64 * 1024 * 1024;
const PAGE = 65536;
/** Alignment of every block (bytes). */
const ALIGN = 16;

/** One wasm memory holding slot blocks and a staging area, with the kernels instantiated on it. */
export interface Region {
  readonly memory: WebAssembly.Memory;
  readonly kernels: SimdKernels;
  /** Byte offsets of the staging areas for θ and g ({@link STAGE} floats each). */
  readonly stageT: number;
  readonly stageG: number;
  /** Views of the staging areas. */
  readonly viewT: Float32Array;
  readonly viewG: Float32Array;
  /** Free ranges `[start, end)` in bytes, sorted, coalesced. */
  free: [number, number][];
  /** Bytes in use by blocks. */
  used: number;
}

interface Block {
  region: Region;
  offset: number;
  bytes: number;
  view: Float32Array;
}

/** What a step needs for one variable: its region, and the byte offsets of θ then of each slot in it. */
export interface SlotPlace {
  region: Region;
  offsets: number[];
}

const roundUp = (x: number, to: number) => Math.ceil(x / to) * to;

/** The wasm memory and allocator of the slots of the SIMD path on one cpu backend. */
export class SlotArena {
  private regions: Region[] = [];
  private readonly blocks = new Map<object, Block>();

  constructor(private readonly cpu: CpuInternals) {}

  /** Number of regions (wasm memories) and blocks in use; for tests and diagnostics. */
  stats(): { regions: number; blocks: number; bytes: number } {
    let bytes = 0;
    for (const r of this.regions) bytes += r.used;
    return { regions: this.regions.length, blocks: this.blocks.size, bytes };
  }

  /**
   * Where the given tensors (a variable and its slots) are, when each is a block of this arena in one
   * region, is the only tensor on its data and is still the backend's storage for it; otherwise `null`
   * (the caller then moves them there).
   */
  place(slots: readonly { dataId: object; size: number }[]): SlotPlace | null {
    let region: Region | null = null;
    const offsets: number[] = [];
    for (const s of slots) {
      const b = this.blocks.get(s.dataId);
      if (!b || (region && b.region !== region) || b.view.length !== s.size) return null;
      if (this.cpu.refCount(s.dataId) !== 1 || this.cpu.values(s.dataId, s.size) !== b.view) return null;
      region = b.region;
      offsets.push(b.offset);
    }
    return region ? { region, offsets } : null;
  }

  /**
   * Makes `count` new tensors of `shape` in one region, each filled by `fill(k, view)` (which must write
   * every element: a block may be reused, with old data), kept
   * (`tf.keep`) with the view as their storage. Returns them with their place, or `null` when no memory
   * could be had or the backend copies the arrays given to `tf.tensor` (then nothing was made).
   */
  allocate(
    count: number,
    shape: readonly number[],
    fill: (k: number, view: Float32Array) => void,
  ): { tensors: tf.Tensor[]; place: SlotPlace } | null {
    const size = shape.reduce((a, b) => a * b, 1);
    const bytes = roundUp(Math.max(4 * size, 1), ALIGN);
    const total = bytes * count;
    let found = this.fit(total);
    if (!found) {
      this.sweep();
      found = this.fit(total) ?? this.grow(total);
    }
    if (!found) return null;
    const { region, start } = found;
    const tensors: tf.Tensor[] = [];
    const offsets: number[] = [];
    const views: Float32Array[] = [];
    for (let k = 0; k < count; k++) {
      const offset = start + k * bytes;
      const view = new Float32Array(region.memory.buffer, offset, size);
      fill(k, view);
      const t = tf.keep(tf.tensor(view, [...shape], "float32"));
      tensors.push(t);
      offsets.push(offset);
      views.push(view);
      if (this.cpu.values(t.dataId, size) !== view) {
        // Not the cpu backend this module knows (it copied the array): undo, nothing to gain.
        for (const x of tensors) x.dispose();
        this.release(region, start, total);
        return null;
      }
    }
    tensors.forEach((t, k) =>
      this.blocks.set(t.dataId, { region, offset: offsets[k]!, bytes, view: views[k]! }),
    );
    return { tensors, place: { region, offsets } };
  }

  /** Frees the block of a slot tensor that was just disposed, if the backend dropped its data. */
  forget(dataId: object): void {
    const b = this.blocks.get(dataId);
    if (b && this.cpu.refCount(dataId) === -1) {
      this.blocks.delete(dataId);
      this.release(b.region, b.offset, b.bytes);
    }
  }

  /** Frees every block whose data the backend no longer has; drops regions left empty. */
  sweep(): void {
    for (const [dataId, b] of this.blocks) {
      if (this.cpu.refCount(dataId) === -1) {
        this.blocks.delete(dataId);
        this.release(b.region, b.offset, b.bytes, false);
      }
    }
    // Drop the regions left empty, but keep one (the staging area of the gradient scan).
    const kept = this.regions.filter((r) => r.used > 0);
    this.regions = kept.length > 0 ? kept : this.regions.slice(0, 1);
  }

  /** The first region, made on demand (for staging only, e.g. the gradient scan); `null` if impossible. */
  scratch(): Region | null {
    return this.regions[0] ?? this.grow(0)?.region ?? null;
  }

  private fit(bytes: number): { region: Region; start: number } | null {
    for (const region of this.regions) {
      const free = region.free;
      for (let i = 0; i < free.length; i++) {
        const [a, b] = free[i]!;
        if (b - a < bytes) continue;
        if (b - a === bytes) free.splice(i, 1);
        else free[i] = [a + bytes, b];
        region.used += bytes;
        return { region, start: a };
      }
    }
    return null;
  }

  private grow(bytes: number): { region: Region; start: number } | null {
    const stagingBytes = 2 * 4 * STAGE;
    const size = roundUp(Math.max(REGION_BYTES, stagingBytes + bytes), PAGE);
    if (size > 2 ** 32 - PAGE) return null;
    let memory: WebAssembly.Memory;
    try {
      memory = new WebAssembly.Memory({ initial: size / PAGE, maximum: size / PAGE });
    } catch {
      return null;
    }
    const kernels = instantiateSimdKernels(memory);
    if (!kernels) return null;
    const region: Region = {
      memory,
      kernels,
      stageT: 0,
      stageG: 4 * STAGE,
      viewT: new Float32Array(memory.buffer, 0, STAGE),
      viewG: new Float32Array(memory.buffer, 4 * STAGE, STAGE),
      free: [[stagingBytes + bytes, size]],
      used: bytes,
    };
    this.regions.push(region);
    return { region, start: stagingBytes };
  }

  private release(region: Region, offset: number, bytes: number, dropEmpty = true): void {
    region.used -= bytes;
    const free = region.free;
    let i = 0;
    while (i < free.length && free[i]![0] < offset) i++;
    free.splice(i, 0, [offset, offset + bytes]);
    // Coalesce with the neighbours.
    if (i + 1 < free.length && free[i]![1] === free[i + 1]![0]) {
      free[i] = [free[i]![0], free[i + 1]![1]];
      free.splice(i + 1, 1);
    }
    if (i > 0 && free[i - 1]![1] === free[i]![0]) {
      free[i - 1] = [free[i - 1]![0], free[i]![1]];
      free.splice(i, 1);
    }
    if (dropEmpty && region.used === 0 && this.regions.length > 1) {
      this.regions = this.regions.filter((r) => r !== region);
    }
  }
}

const arenas = new WeakMap<CpuInternals, SlotArena | null>();

/**
 * The slot arena of a cpu backend (one per backend), or `null` when this engine has no WebAssembly SIMD.
 */
export function slotArena(cpu: CpuInternals): SlotArena | null {
  let a = arenas.get(cpu);
  if (a === undefined) {
    a = simdSupported() ? new SlotArena(cpu) : null;
    arenas.set(cpu, a);
  }
  return a;
}

/** Scratch list of slot offsets for one chunk (no allocation per chunk). */
const chunkOffsets: number[] = [];

/**
 * One variable's update in its region: θ and the slots in place at `place.offsets` (θ first), the gradient
 * copied chunk by chunk ({@link STAGE} elements) into the staging area, which stays in the cache. `grad`
 * must not be the storage of θ or of a slot.
 *
 * @returns false when the kernel set lacks this update (nothing was changed).
 */
export function stagedUpdate(update: SimdUpdate, place: SlotPlace, grad: Float32Array, c: unknown): boolean {
  const { region, offsets } = place;
  const n = grad.length;
  const { viewG, stageG, kernels } = region;
  const k = offsets.length - 1;
  chunkOffsets.length = k;
  for (let off = 0; off < n; off += STAGE) {
    const len = Math.min(STAGE, n - off);
    viewG.set(len === n ? grad : grad.subarray(off, off + len));
    for (let j = 0; j < k; j++) chunkOffsets[j] = offsets[j + 1]! + 4 * off;
    if (!update(kernels, offsets[0]! + 4 * off, stageG, chunkOffsets, len, c)) return false;
  }
  return true;
}

/**
 * Index of the first NaN or ±Infinity of `values`, by the SIMD scan over chunks staged in `region`, or −1.
 */
export function stagedFirstNonFinite(region: Region, values: Float32Array): number {
  const n = values.length;
  const { viewG, stageG, kernels } = region;
  for (let off = 0; off < n; off += STAGE) {
    const len = Math.min(STAGE, n - off);
    viewG.set(values.subarray(off, off + len));
    const at = kernels.firstNonFinite(stageG, len);
    if (at >= 0) return off + at;
  }
  return -1;
}
