import type { AdaBeliefCoefficients } from "../../core/optimizers/adabelief.js";
import type { AdamCoefficients } from "../../core/optimizers/adam.js";
import { instantiateSimdKernels } from "./simd.js";

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

/** The SIMD kernels over `memory`, instantiated once per memory; `null` when unavailable or failing. */
export function simdKernels(memory: WebAssembly.Memory): SimdKernelsLike | null {
  if (!instantiate) return null;
  let k = kernelsByMemory.get(memory);
  if (k === undefined) {
    try {
      k = instantiate(memory);
    } catch {
      k = null;
    }
    if (k && (typeof k.adabelief !== "function" || typeof k.firstNonFinite !== "function")) k = null;
    kernelsByMemory.set(memory, k ?? null);
  }
  return k ?? null;
}
