import type { AdaBeliefCoefficients } from "../../core/optimizers/adabelief.js";
import type { AdamCoefficients } from "../../core/optimizers/adam.js";
import { warn } from "../../core/warnings.js";
import { instantiateSimdKernels, simdUnavailableReason } from "./simd.js";

/**
 * The SIMD kernels of `./simd.ts`, as the optimizers use them. Pointers are byte offsets of float32
 * arrays in the memory the kernels were instantiated with; every array has `n` elements.
 */
export interface SimdKernelsLike {
  adabelief(
    theta: number,
    grad: number,
    m: number,
    s: number,
    sMax: number,
    n: number,
    c: AdaBeliefCoefficients,
  ): void;
  adam?(
    theta: number,
    grad: number,
    m: number,
    v: number,
    vMax: number,
    n: number,
    c: AdamCoefficients,
  ): void;
  firstNonFinite(ptr: number, n: number): number;
  anyNonFinite8?(ptrs: readonly number[], n: number): boolean;
}

/** Arrays at least this long are scanned on their own (their eight segments are long streams already). */
export const SCAN_ALONE = 65536;

/**
 * Scans the arrays at byte offsets `offsets` (`sizes[i]` float32 values each) for NaN/±Infinity. Short
 * arrays (below {@link SCAN_ALONE} values, e.g. a layer's gradient) go eight side by side through
 * {@link SimdKernelsLike.anyNonFinite8} (the common prefix of the eight; the rest of a longer one alone),
 * consecutive ones grouped, at least four to a group; the others alone through `firstNonFinite`. Returns the
 * index of the first array from which a per-array search must go (the first of the group that held a hit),
 * or −1 when every value is finite. Without `anyNonFinite8`, 0 (search everything per array).
 */
export function scanBatched(
  k: SimdKernelsLike,
  offsets: readonly number[],
  sizes: readonly number[],
): number {
  if (typeof k.anyNonFinite8 !== "function") return 0;
  const batch: number[] = [];
  let i = 0;
  while (i < offsets.length) {
    if (sizes[i] === 0) {
      i++;
      continue;
    }
    // A group: up to eight consecutive short arrays (empty ones skipped).
    let end = i;
    let count = 0;
    let n = Infinity;
    while (end < offsets.length && count < 8 && sizes[end]! < SCAN_ALONE) {
      if (sizes[end]! > 0) {
        count++;
        n = Math.min(n, sizes[end]!);
      }
      end++;
    }
    if (count < 4) {
      if (k.firstNonFinite(offsets[i]!, sizes[i]!) >= 0) return i;
      i++;
      continue;
    }
    batch.length = 0;
    for (let j = i; j < end; j++) if (sizes[j]! > 0) batch.push(offsets[j]!);
    let hit = k.anyNonFinite8(batch, n);
    for (let j = i; j < end && !hit; j++) {
      if (sizes[j]! > n) hit = k.firstNonFinite(offsets[j]! + 4 * n, sizes[j]! - n) >= 0;
    }
    if (hit) return i;
    i = end;
  }
  return -1;
}

/** One fused wasm update: byte offsets of θ, the gradient and the slots (in the rule's slot order). */
export type SimdUpdate = (
  k: SimdKernelsLike,
  theta: number,
  grad: number,
  slots: readonly number[],
  n: number,
  c: unknown,
) => boolean;

/**
 * The SIMD update of each core rule that has one, keyed by the rule's `name`. Each returns `false` when the
 * kernel set lacks the function (the caller then runs the core loop on heap views).
 */
export const SIMD_UPDATES: Readonly<Record<string, SimdUpdate>> = {
  AdaBelief: (k, theta, grad, s, n, c) => {
    k.adabelief(theta, grad, s[0]!, s[1]!, s[2] ?? -1, n, c as AdaBeliefCoefficients);
    return true;
  },
  Adam: (k, theta, grad, s, n, c) => {
    if (typeof k.adam !== "function") return false;
    k.adam(theta, grad, s[0]!, s[1]!, s[2] ?? -1, n, c as AdamCoefficients);
    return true;
  },
  AdamW: (k, theta, grad, s, n, c) => SIMD_UPDATES.Adam!(k, theta, grad, s, n, c),
};

/** Builds the SIMD kernels over a memory, or returns null. */
export type Instantiate = (memory: WebAssembly.Memory) => SimdKernelsLike | null;
let instantiate: Instantiate | null = instantiateSimdKernels;
let kernelsByMemory = new WeakMap<WebAssembly.Memory, SimdKernelsLike | null>();

/**
 * Replaces the function that builds the SIMD kernels over a memory (default: `instantiateSimdKernels` of
 * `./simd.ts`); `null` disables the SIMD path. Returns the previous one. For tests and diagnostics.
 */
export function setSimdInstantiator(fn: Instantiate | null): Instantiate | null {
  const previous = instantiate;
  instantiate = fn;
  kernelsByMemory = new WeakMap();
  return previous;
}

/** Whether the fallback was announced already (once per process: one warning, not one per step). */
let announced = false;

/**
 * The SIMD kernels over `memory`, instantiated once per memory; `null` when unavailable or failing. When
 * the default instantiator cannot build them over a memory, this says so once (through the core's warning
 * handler, `console.warn` by default) with the reason: every optimizer then runs its JavaScript loop on
 * that memory, several times slower.
 */
export function simdKernels(memory: WebAssembly.Memory): SimdKernelsLike | null {
  if (!instantiate) return null;
  let k = kernelsByMemory.get(memory);
  if (k === undefined) {
    let reason: string | undefined;
    try {
      k = instantiate(memory);
      if (!k) reason = instantiate === instantiateSimdKernels ? simdUnavailableReason(memory) : undefined;
    } catch (e) {
      k = null;
      reason = e instanceof Error ? e.message : String(e);
    }
    if (k && (typeof k.adabelief !== "function" || typeof k.firstNonFinite !== "function")) k = null;
    kernelsByMemory.set(memory, k ?? null);
    if (!k && reason !== undefined && !announced) {
      announced = true;
      warn(
        `the WebAssembly SIMD update kernels are unavailable (${reason}): the optimizers run their ` +
          "JavaScript loop instead, several times slower",
      );
    }
  }
  return k ?? null;
}
