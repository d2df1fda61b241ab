/**
 * TensorFlow.js set-up for the experiments: selects the cpu or wasm backend (registering this package's wasm
 * training kernels, without which conv nets and embeddings cannot train on wasm) and reports versions.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
// tfjs-layers registers the gradients of every tfjs-core op (tfjs-core alone does not): needed by all tasks.
import "@tensorflow/tfjs-layers";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { registerWasmTrainingKernels } from "adabelief/tfjs/wasm-kernels";

/** Backends the experiments can train on. */
export type BackendName = "cpu" | "wasm";

/**
 * Makes `name` the active TensorFlow.js backend (loading `@tensorflow/tfjs-backend-wasm` on demand and
 * registering the wasm training kernels). Idempotent.
 *
 * @throws Error naming the backend when it cannot be initialised.
 */
export async function useBackend(name: BackendName): Promise<void> {
  if (name !== "cpu" && name !== "wasm") {
    throw new Error(`backend must be "cpu" or "wasm", got ${JSON.stringify(name)}`);
  }
  if (name === "wasm") {
    await import("@tensorflow/tfjs-backend-wasm");
    registerWasmTrainingKernels();
  }
  if (tf.getBackend() !== name) {
    const ok = await tf.setBackend(name);
    if (!ok) throw new Error(`backend "${name}" could not be initialised`);
  }
  await tf.ready();
}

function packageVersion(spec: string): string {
  try {
    const require = createRequire(import.meta.url);
    return (JSON.parse(readFileSync(require.resolve(spec), "utf8")) as { version: string }).version;
  } catch {
    return "unknown";
  }
}

/** Versions recorded in every run result: node, tfjs-core, tfjs-layers, adabelief and the active backend. */
export function runVersions(): Record<string, string> {
  return {
    node: process.version,
    tfjs: tf.version_core,
    tfjsLayers: packageVersion("@tensorflow/tfjs-layers/package.json"),
    adabelief: packageVersion("adabelief/package.json"),
    backend: tf.getBackend(),
  };
}
