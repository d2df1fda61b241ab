/**
 * Training kernels for the TensorFlow.js wasm backend: the ones it lacks (`Conv2DBackpropFilter`,
 * tfjs#8474; `UnsortedSegmentSum`, the gradient of `tf.gather`/embeddings) and faster replacements of slow
 * built-in ones (`Conv2DBackpropInput` on XNNPACK instead of a plain loop; `MaxPoolGrad`; `BatchMatMul`
 * with transposed operands, which the dense-layer gradients use). Each is tested against the cpu backend.
 *
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import "@tensorflow/tfjs-backend-wasm";           // first: it registers the built-in kernels
 * import { registerWasmTrainingKernels } from "adabelief/tfjs/wasm-kernels";
 * registerWasmTrainingKernels();
 * await tf.setBackend("wasm");
 * ```
 *
 * @module
 */
import { getKernel, registerKernel, unregisterKernel } from "@tensorflow/tfjs-core";
import type { KernelConfig, KernelFunc } from "@tensorflow/tfjs-core";
import { conv2dBackpropFilterWasm } from "./conv2d-backprop-filter.js";
import { conv2dBackpropInputWasm } from "./conv2d-backprop-input.js";
import { unsortedSegmentSumWasm } from "./unsorted-segment-sum.js";
import { maxPoolGradWasm } from "./max-pool-grad.js";
import { makeBatchMatMulWasm } from "./batch-mat-mul.js";

export { conv2dBackpropFilterWasm } from "./conv2d-backprop-filter.js";
export { conv2dBackpropInputWasm } from "./conv2d-backprop-input.js";
export { unsortedSegmentSumWasm } from "./unsorted-segment-sum.js";
export { maxPoolGradWasm } from "./max-pool-grad.js";
export { makeBatchMatMulWasm } from "./batch-mat-mul.js";

/** Options of {@link registerWasmTrainingKernels}. */
export interface WasmTrainingKernelOptions {
  /**
   * Replace the wasm backend's slow built-in `Conv2DBackpropInput`, `MaxPoolGrad` and `BatchMatMul` (the
   * last only changes its `transposeA`/`transposeB` paths) by this package's faster ones. Default `true`.
   * With `false`, the built-in kernels are kept (and restored if ours had replaced them).
   */
  replaceBuiltins?: boolean;
}

/** What {@link registerWasmTrainingKernels} did for one kernel. */
export type KernelRegistration = "registered" | "already-ours" | "kept-existing" | "restored-builtin";

/** Kernels the wasm backend lacks. */
const MISSING: Record<string, KernelFunc> = {
  Conv2DBackpropFilter: conv2dBackpropFilterWasm,
  UnsortedSegmentSum: unsortedSegmentSumWasm,
};

/** Built-in kernels we replace: name → our kernel function made from the built-in config. */
const REPLACING: Record<string, (builtin: KernelConfig | undefined) => KernelFunc | undefined> = {
  Conv2DBackpropInput: () => conv2dBackpropInputWasm,
  MaxPoolGrad: () => maxPoolGradWasm,
  BatchMatMul: (builtin) => (builtin ? makeBatchMatMulWasm(builtin) : undefined),
};

const ours = new Set<KernelFunc>(Object.values(MISSING));
const builtins = new Map<string, KernelConfig>();

function isOurs(name: string): boolean {
  const k = getKernel(name, "wasm");
  return k !== undefined && ours.has(k.kernelFunc);
}

/**
 * Registers this package's wasm training kernels with TensorFlow.js: `Conv2DBackpropFilter` and
 * `UnsortedSegmentSum` when the wasm backend has none (a kernel registered by someone else is kept), and
 * faster `Conv2DBackpropInput`, `MaxPoolGrad` and `BatchMatMul` in place of the built-in ones (see
 * {@link WasmTrainingKernelOptions.replaceBuiltins}). Idempotent: calling it again changes nothing.
 *
 * Call it after importing `@tensorflow/tfjs-backend-wasm` (which registers the built-in kernels, and would
 * overwrite our replacements if imported later); before or after `tf.setBackend("wasm")`.
 *
 * @returns what happened to each kernel, keyed by kernel name.
 * @throws Error when `options.replaceBuiltins` is not a boolean (nothing is registered then).
 */
export function registerWasmTrainingKernels(
  options: WasmTrainingKernelOptions = {},
): Record<string, KernelRegistration> {
  const replace = options.replaceBuiltins ?? true;
  if (typeof replace !== "boolean") {
    throw new Error(`registerWasmTrainingKernels: replaceBuiltins must be a boolean, got ${String(replace)}`);
  }
  const report: Record<string, KernelRegistration> = {};
  for (const [kernelName, kernelFunc] of Object.entries(MISSING)) {
    const existing = getKernel(kernelName, "wasm");
    if (existing) {
      report[kernelName] = ours.has(existing.kernelFunc) ? "already-ours" : "kept-existing";
    } else {
      registerKernel({ kernelName, backendName: "wasm", kernelFunc });
      report[kernelName] = "registered";
    }
  }
  for (const [kernelName, make] of Object.entries(REPLACING)) {
    if (isOurs(kernelName)) {
      if (replace) {
        report[kernelName] = "already-ours";
      } else {
        unregisterKernel(kernelName, "wasm");
        const builtin = builtins.get(kernelName);
        if (builtin) registerKernel(builtin);
        report[kernelName] = "restored-builtin";
      }
      continue;
    }
    if (!replace) {
      report[kernelName] = "kept-existing";
      continue;
    }
    const builtin = getKernel(kernelName, "wasm");
    const kernelFunc = make(builtin);
    if (!kernelFunc) {
      report[kernelName] = "kept-existing"; // nothing to wrap (the wasm backend is not loaded)
      continue;
    }
    if (builtin) {
      builtins.set(kernelName, builtin);
      unregisterKernel(kernelName, "wasm");
    }
    ours.add(kernelFunc);
    // The built-in setup (it binds the C++ function our kernel may delegate to) must still run when the
    // backend is initialised after this call.
    const setupFunc = builtin?.setupFunc;
    registerKernel({ kernelName, backendName: "wasm", kernelFunc, ...(setupFunc ? { setupFunc } : {}) });
    report[kernelName] = "registered";
  }
  return report;
}

/**
 * Undoes {@link registerWasmTrainingKernels}: unregisters this package's kernels from the wasm backend and
 * restores the built-in kernels they replaced. Kernels registered by someone else are left alone. Used to
 * measure TensorFlow.js's stock path.
 *
 * @returns the names of the kernels that were unregistered.
 */
export function unregisterWasmTrainingKernels(): string[] {
  const removed: string[] = [];
  for (const kernelName of [...Object.keys(MISSING), ...Object.keys(REPLACING)]) {
    if (!isOurs(kernelName)) continue;
    unregisterKernel(kernelName, "wasm");
    const builtin = builtins.get(kernelName);
    if (builtin) registerKernel(builtin);
    removed.push(kernelName);
  }
  return removed;
}
