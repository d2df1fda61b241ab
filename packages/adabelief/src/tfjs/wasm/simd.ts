import { AdaBeliefMode, type AdaBeliefCoefficients } from "../../core/optimizers/adabelief.js";
import type { AdamCoefficients } from "../../core/optimizers/adam.js";
import { SIMD_KERNELS_BASE64, SIMD_KERNELS_SHARED_BASE64, SIMD_PROBE_BYTES } from "./simd-bytes.js";

/**
 * In-place update kernels running as WebAssembly SIMD (f32x4) code on float32 arrays that live in a
 * `WebAssembly.Memory` — in practice the heap of TensorFlow.js's wasm backend, so a variable and its
 * optimizer slots are updated where they are, in one pass, without temporaries.
 *
 * Every argument named like an array is the **byte offset** of a float32 array of `n` elements in the
 * memory given to {@link instantiateSimdKernels}. The arrays must be 4-byte aligned, inside the memory and
 * must not overlap. Bad arguments throw a `RangeError` naming the argument before anything is written.
 *
 * Results agree with the core rules run on Float32Arrays to float32 precision, not bit for bit: the core
 * evaluates each element's expression in double and rounds when it stores, the kernel rounds every
 * operation to float32 (and multiplies by a float32 reciprocal of √(1−β2^t) instead of dividing).
 */
export interface SimdKernels {
  /**
   * One AdaBelief step, exactly the semantics of `adabeliefRule.update` (all three modes, L2 and decoupled
   * decay, AMSGrad), per element:
   * ```
   * θ ← θ·decay;  g ← g + l2·θ (if l2 ≠ 0);  m ← β1·m + (1−β1)·g;  s ← β2·s + (1−β2)·(g−m)² + ε
   * sMax ← max(sMax, s) (if sMax ≥ 0; NaN-propagating like Math.max);  d = useMax ? sMax : s
   * Adaptive: θ ← θ + stepSize·m/(√d/sqrtBc2 + ε);  Sgd: θ ← θ + stepSize·m;  None: θ unchanged
   * ```
   * @param sMax - byte offset of the AMSGrad slot, or −1 when the optimizer has none (then `c.useMax`
   *   must be false).
   */
  adabelief(
    theta: number,
    grad: number,
    m: number,
    s: number,
    sMax: number,
    n: number,
    c: AdaBeliefCoefficients,
  ): void;
  /**
   * One Adam / AdamW step, exactly the semantics of `adamRule.update`, per element:
   * ```
   * θ ← θ·decay;  g ← g + l2·θ (if l2 ≠ 0);  m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²
   * vMax ← max(vMax, v) and v̂ = vMax (if vMax ≥ 0, AMSGrad), else v̂ = v
   * θ ← θ + stepSize·m/(√v̂/sqrtBc2 + ε)
   * ```
   * @param vMax - byte offset of the AMSGrad slot, or −1 when the optimizer has none.
   */
  adam(theta: number, grad: number, m: number, v: number, vMax: number, n: number, c: AdamCoefficients): void;
  /** Index of the first NaN or ±Infinity among the `n` float32 values at byte offset `ptr`, or −1. */
  firstNonFinite(ptr: number, n: number): number;
  /**
   * Whether any of up to eight arrays of `n` float32 values (byte offsets `ptrs`, which may repeat) holds a
   * NaN or ±Infinity. Reads the arrays side by side: faster from memory than one at a time when they are
   * short (a gradient per layer). Locate a hit with {@link SimdKernels.firstNonFinite}.
   */
  anyNonFinite8(ptrs: readonly number[], n: number): boolean;
}

/**
 * The raw exports of the kernel module (see `simd.wat`). The update kernels take
 * `(t, g, m, s, x, n, decay, l2, β1, 1−β1, β2, 1−β2, ε, stepSize, 1/sqrtBc2, ...0/1 flags)`; AdaBelief's flags
 * are `l2on, adaptive, move, useMax`, Adam's `l2on`.
 */
interface KernelExports {
  adabelief: (...args: number[]) => void;
  /** `adabelief` specialised to flags (0, 1, 1, 0): Adaptive, no L2, no sMax — the common case. */
  adabeliefAdaptive: (...args: number[]) => void;
  adabeliefMax: (...args: number[]) => void;
  adam: (...args: number[]) => void;
  adamMax: (...args: number[]) => void;
  firstNonFinite(ptr: number, n: number): number;
  anyNonFinite8(...args: number[]): number;
}

/** Largest element count accepted: byte lengths must stay below 2^32. */
const MAX_ELEMENTS = 2 ** 30 - 1;

let simdSupport: boolean | undefined;

/**
 * Whether this JavaScript engine runs WebAssembly SIMD (checked once, by `WebAssembly.validate` on a
 * 69-byte module using the SIMD instructions the kernels rely on).
 */
export function simdSupported(): boolean {
  if (simdSupport === undefined) {
    try {
      simdSupport = typeof WebAssembly === "object" && WebAssembly.validate(new Uint8Array(SIMD_PROBE_BYTES));
    } catch {
      simdSupport = false;
    }
  }
  return simdSupport;
}

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

const compiled: { plain?: WebAssembly.Module | null; shared?: WebAssembly.Module | null } = {};

/**
 * The compiled kernel module for a plain (`shared = false`) or a shared memory, or null when it cannot be
 * compiled here (no SIMD; for the shared variant also no WebAssembly threads). Each compiled once.
 */
function kernelModule(shared: boolean): WebAssembly.Module | null {
  const key = shared ? "shared" : "plain";
  let mod = compiled[key];
  if (mod === undefined) {
    try {
      mod = simdSupported()
        ? new WebAssembly.Module(decodeBase64(shared ? SIMD_KERNELS_SHARED_BASE64 : SIMD_KERNELS_BASE64))
        : null;
    } catch {
      mod = null;
    }
    compiled[key] = mod;
  }
  return mod;
}

/** Whether a memory is shared (its buffer a `SharedArrayBuffer`: a threaded Emscripten heap). */
export function isSharedMemory(memory: WebAssembly.Memory): boolean {
  return typeof SharedArrayBuffer === "function" && memory.buffer instanceof SharedArrayBuffer;
}

const instances = new WeakMap<WebAssembly.Memory, SimdKernels>();
/** Why the last {@link instantiateSimdKernels} call on a memory returned null (for diagnostics). */
const failures = new WeakMap<WebAssembly.Memory, string>();

/**
 * Instantiates the SIMD kernels on `memory`, which the kernel module imports, so that the kernels update
 * arrays of that memory in place. A plain memory is imported without a maximum; a shared memory (the heap
 * of TensorFlow.js's threaded wasm backend, under a cross-origin-isolated page) by a second build of the
 * same module that imports a shared memory of at most 4 GiB. Instances are cached per memory.
 *
 * The kernels read the memory's current size at every call, so the memory may grow between calls.
 *
 * @returns the kernels, or `null` when WebAssembly SIMD is unavailable, `memory` is not a
 *   `WebAssembly.Memory`, or it cannot be imported ({@link simdUnavailableReason} then tells why).
 */
export function instantiateSimdKernels(memory: WebAssembly.Memory): SimdKernels | null {
  if (typeof WebAssembly !== "object" || !(memory instanceof WebAssembly.Memory)) return null;
  const cached = instances.get(memory);
  if (cached) return cached;
  const shared = isSharedMemory(memory);
  const module = kernelModule(shared);
  if (!module) {
    failures.set(
      memory,
      simdSupported()
        ? `the SIMD kernel module${shared ? " for a shared memory" : ""} does not compile here`
        : "this engine has no WebAssembly SIMD",
    );
    return null;
  }
  let raw: KernelExports;
  try {
    raw = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as KernelExports;
  } catch (e) {
    failures.set(
      memory,
      `the ${shared ? "shared " : ""}memory could not be imported (${e instanceof Error ? e.message : String(e)})`,
    );
    return null;
  }
  const kernels = makeKernels(memory, raw);
  instances.set(memory, kernels);
  return kernels;
}

/** Why {@link instantiateSimdKernels} returned null for `memory` (undefined if it did not). */
export function simdUnavailableReason(memory: WebAssembly.Memory): string | undefined {
  return failures.get(memory);
}

function checkCount(kernel: string, n: number): void {
  if (!Number.isInteger(n) || n < 0 || n > MAX_ELEMENTS) {
    throw new RangeError(`${kernel}: n must be an integer in [0, ${MAX_ELEMENTS}], got ${n}`);
  }
}

/**
 * Checks that each named array (`names[k]` at byte offset `ptrs[k]`, `n` float32 elements) is an aligned
 * in-bounds range and that no two of them overlap.
 */
function checkArrays(
  kernel: string,
  memory: WebAssembly.Memory,
  n: number,
  names: readonly string[],
  ptrs: readonly number[],
): void {
  const size = memory.buffer.byteLength;
  const bytes = 4 * n;
  for (let k = 0; k < ptrs.length; k++) {
    const p = ptrs[k]!;
    if (!Number.isInteger(p) || p < 0 || p % 4 !== 0) {
      throw new RangeError(
        `${kernel}: ${names[k]} must be a non-negative multiple of 4 (a byte offset), got ${p}`,
      );
    }
    if (p + bytes > size) {
      throw new RangeError(
        `${kernel}: ${names[k]} = ${p} with n = ${n} ends at byte ${p + bytes}, past the memory's ${size} bytes`,
      );
    }
  }
  if (n === 0) return;
  for (let i = 0; i < ptrs.length; i++) {
    for (let j = i + 1; j < ptrs.length; j++) {
      const pa = ptrs[i]!;
      const pb = ptrs[j]!;
      if (pa < pb + bytes && pb < pa + bytes) {
        throw new RangeError(`${kernel}: ${names[i]} (${pa}) and ${names[j]} (${pb}) overlap for n = ${n}`);
      }
    }
  }
}

const ADABELIEF_ARRAYS = ["theta", "grad", "m", "s", "sMax"] as const;
const ADAM_ARRAYS = ["theta", "grad", "m", "v", "vMax"] as const;
const SCAN_ARRAYS = ["ptr"] as const;
const SCAN8_ARRAYS = ["ptrs[0]", "ptrs[1]", "ptrs[2]", "ptrs[3]", "ptrs[4]", "ptrs[5]", "ptrs[6]", "ptrs[7]"];

function makeKernels(memory: WebAssembly.Memory, raw: KernelExports): SimdKernels {
  return {
    adabelief(theta, grad, m, s, sMax, n, c) {
      const name = "SIMD adabelief kernel";
      checkCount(name, n);
      const hasMax = sMax !== -1;
      checkArrays(
        name,
        memory,
        n,
        ADABELIEF_ARRAYS,
        hasMax ? [theta, grad, m, s, sMax] : [theta, grad, m, s],
      );
      if (c.useMax && !hasMax)
        throw new RangeError(`${name}: c.useMax is true but no sMax slot was given (sMax = -1)`);
      const mode: number = c.mode;
      if (mode !== AdaBeliefMode.Adaptive && mode !== AdaBeliefMode.Sgd && mode !== AdaBeliefMode.None) {
        throw new RangeError(`${name}: c.mode must be 0 (Adaptive), 1 (Sgd) or 2 (None), got ${mode}`);
      }
      const fast = !hasMax && c.l2 === 0 && mode === AdaBeliefMode.Adaptive;
      (hasMax ? raw.adabeliefMax : fast ? raw.adabeliefAdaptive : raw.adabelief)(
        theta,
        grad,
        m,
        s,
        hasMax ? sMax : 0,
        n,
        c.decay,
        c.l2,
        c.beta1,
        c.oneMinusBeta1,
        c.beta2,
        c.oneMinusBeta2,
        c.epsilon,
        c.stepSize,
        1 / c.sqrtBc2,
        c.l2 !== 0 ? 1 : 0,
        mode === AdaBeliefMode.Adaptive ? 1 : 0,
        mode === AdaBeliefMode.None ? 0 : 1,
        c.useMax ? 1 : 0,
      );
    },
    adam(theta, grad, m, v, vMax, n, c) {
      const name = "SIMD adam kernel";
      checkCount(name, n);
      const hasMax = vMax !== -1;
      checkArrays(name, memory, n, ADAM_ARRAYS, hasMax ? [theta, grad, m, v, vMax] : [theta, grad, m, v]);
      (hasMax ? raw.adamMax : raw.adam)(
        theta,
        grad,
        m,
        v,
        hasMax ? vMax : 0,
        n,
        c.decay,
        c.l2,
        c.beta1,
        c.oneMinusBeta1,
        c.beta2,
        c.oneMinusBeta2,
        c.epsilon,
        c.stepSize,
        1 / c.sqrtBc2,
        c.l2 !== 0 ? 1 : 0,
      );
    },
    firstNonFinite(ptr, n) {
      const name = "SIMD firstNonFinite kernel";
      checkCount(name, n);
      checkArrays(name, memory, n, SCAN_ARRAYS, [ptr]);
      return raw.firstNonFinite(ptr, n);
    },
    anyNonFinite8(ptrs, n) {
      const name = "SIMD anyNonFinite8 kernel";
      checkCount(name, n);
      if (ptrs.length < 1 || ptrs.length > 8) {
        throw new RangeError(`${name}: 1 to 8 arrays, got ${ptrs.length}`);
      }
      // Read-only: the arrays may overlap or repeat; each is checked on its own.
      for (let k = 0; k < ptrs.length; k++) checkArrays(name, memory, n, [SCAN8_ARRAYS[k]!], [ptrs[k]!]);
      const p0 = ptrs[0]!;
      const at = (k: number) => ptrs[k] ?? p0;
      return raw.anyNonFinite8(at(0), at(1), at(2), at(3), at(4), at(5), at(6), at(7), n) !== 0;
    },
  };
}
