/**
 * The page the browser tests and the browser benchmark drive (built by Vite, served by `../harness.ts`).
 * It exposes `window.adabeliefPage`: functions that run one check or one measurement in the page and
 * return plain data. Backends: cpu, webgl (SwiftShader in headless Chromium), wasm (threaded SIMD when the
 * page is cross-origin isolated), webgpu when the browser has an adapter and the backend is installed.
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-webgl";
// The WebGPU backend when installed (or given to the harness), else a stub: see ../harness.ts.
import "@tensorflow/tfjs-backend-webgpu";
import { getThreadsCount, setThreadsCount, setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { AdaBelief, Adam, AdamW, setWarningHandler, type Optimizer } from "../../../src/core/index.js";
import { adabelief, adam, adamw } from "../../../src/tfjs/index.js";
import { wasmInternals } from "../../../src/tfjs/wasm/backend.js";
import { instantiateSimdKernels, isSharedMemory } from "../../../src/tfjs/wasm/simd.js";
import { adabeliefRule } from "../../../src/core/optimizers/adabelief.js";

setWasmPaths(new URL("./wasm/", location.href).href);
// Under cross-origin isolation the threaded binary runs; ask for two threads (the default is half the cores).
setThreadsCount(2);

const warnings: string[] = [];
setWarningHandler((m) => warnings.push(m));

type Rule = "AdaBelief" | "Adam" | "AdamW";
const CORE: Record<Rule, (p: Float32Array[], o: Record<string, unknown>) => Optimizer> = {
  AdaBelief: (p, o) => new AdaBelief(p, o),
  Adam: (p, o) => new Adam(p, o),
  AdamW: (p, o) => new AdamW(p, o),
};
const TFJS: Record<Rule, (o: Record<string, unknown>) => tf.Optimizer & { lastUpdatePath: string | null }> = {
  AdaBelief: (o) => adabelief(o),
  Adam: (o) => adam(o),
  AdamW: (o) => adamw(o),
};

/** Deterministic values (LCG), spread over a few orders of magnitude. */
function values(n: number, seed: number, scale: number): Float32Array {
  let a = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    return (a / 2 ** 32 - 0.5) * scale * 10 ** -(a & 3);
  });
}

async function use(backend: string): Promise<boolean> {
  try {
    if (!(await tf.setBackend(backend))) return false;
    await tf.ready();
    return tf.getBackend() === backend;
  } catch {
    return false;
  }
}

export interface EquivalenceCase {
  rule: Rule;
  options: Record<string, unknown>;
  shapes: number[][];
  steps: number;
  /** The optimizer's `kernel` option (default "auto"). */
  kernel?: string;
}

/**
 * Runs the core rule and its tf.Optimizer twin side by side (both fed the core's gradients, as the golden
 * comparison does) and returns the worst deviation |tfjs − core| / max(1, |core|) over every step and
 * element, the paths taken, and the tensor count before and after the last steps.
 */
async function equivalence(backend: string, c: EquivalenceCase) {
  if (!(await use(backend))) return { skipped: `backend ${backend} unavailable` };
  const params = c.shapes.map((s, i) =>
    values(
      s.reduce((a, b) => a * b, 1),
      11 + i,
      2,
    ),
  );
  const core = CORE[c.rule](
    params.map((p) => p.slice()),
    { learningRate: 0.01, ...c.options },
  );
  const coreParams = core.params;
  const opt = TFJS[c.rule]({ learningRate: 0.01, ...c.options, kernel: c.kernel ?? "auto" });
  const vars = params.map((p, i) =>
    tf.tidy(() =>
      tf.variable(tf.tensor(p, c.shapes[i]), true, `eq_${backend}_${c.rule}_${i}_${Math.random()}`),
    ),
  );
  let worst = 0;
  const paths = new Set<string | null>();
  let tensorsBefore = 0;
  for (let step = 0; step < c.steps; step++) {
    const grads = c.shapes.map((s, i) =>
      values(
        s.reduce((a, b) => a * b, 1),
        1000 * step + i,
        0.2,
      ),
    );
    core.step(grads);
    if (step === c.steps - 3) tensorsBefore = tf.memory().numTensors;
    tf.tidy(() =>
      opt.applyGradients(vars.map((v, i) => ({ name: v.name, tensor: tf.tensor(grads[i]!, c.shapes[i]) }))),
    );
    paths.add(opt.lastUpdatePath);
    for (let i = 0; i < vars.length; i++) {
      const got = await vars[i]!.data();
      const want = coreParams[i]!;
      for (let j = 0; j < want.length; j++) {
        const dev = Math.abs(got[j]! - want[j]!) / Math.max(1, Math.abs(want[j]!));
        if (!(dev <= worst)) worst = Number.isNaN(dev) ? Infinity : dev;
      }
    }
  }
  const tensorsAfter = tf.memory().numTensors;
  opt.dispose();
  tf.dispose(vars);
  return { worst, paths: [...paths], tensorsBefore, tensorsAfter, leftAfterDispose: tf.memory().numTensors };
}

/** What the wasm backend runs on here: threads, a shared heap, and the path our optimizer takes. */
async function wasmThreads() {
  if (!(await use("wasm"))) return { skipped: "wasm backend unavailable" };
  const internals = wasmInternals(tf.backend());
  const threads = getThreadsCount();
  const before = warnings.length;
  const eq = await equivalence("wasm", {
    rule: "AdaBelief",
    options: {},
    shapes: [[1000], [37, 3]],
    steps: 12,
  });
  const eqAdam = await equivalence("wasm", {
    rule: "Adam",
    options: { amsgrad: true },
    shapes: [[513]],
    steps: 8,
  });
  return {
    crossOriginIsolated: self.crossOriginIsolated,
    multithread: await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT"),
    simd: await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT"),
    threads,
    sharedHeap: internals ? isSharedMemory(internals.memory) : null,
    adabelief: eq,
    adam: eqAdam,
    warnings: warnings.slice(before),
  };
}

async function webgpuInfo() {
  const backend = tf.findBackendFactory("webgpu") !== null;
  const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  if (!gpu) return { adapter: false, backend, reason: "navigator.gpu is missing" };
  const adapter = await gpu.requestAdapter().catch(() => null);
  return { adapter: adapter !== null, backend, reason: adapter ? "" : "requestAdapter() returned null" };
}

export interface BenchRow {
  backend: string;
  workload: string;
  name: string;
  medianMs: number;
  reps: number;
  path: string | null;
}

/**
 * Median time of one step (applyGradients with pre-made gradients, then on GPU backends a one-element
 * read-back so the GPU work is finished), our AdaBelief (default options, and `nonFinite: "proceed"`) and Adam against
 * tf.train.adam on the same backend, interleaved round-robin.
 */
async function bench(
  backend: string,
  workloads: { label: string; count: number; size: number }[],
  budgetMs = 1500,
  withScan = true,
) {
  if (!(await use(backend))) return { skipped: `backend ${backend} unavailable`, rows: [] as BenchRow[] };
  const rows: BenchRow[] = [];
  for (const w of workloads) {
    const grads = Array.from({ length: w.count }, (_, i) => tf.tensor1d(values(w.size, 7 + i, 0.1)));
    const subjects: {
      name: string;
      opt: tf.Optimizer & { lastUpdatePath?: string | null };
      vars: tf.Variable[];
      times: number[];
    }[] = [];
    const add = (name: string, opt: tf.Optimizer) => {
      const vars = Array.from({ length: w.count }, (_, i) =>
        tf.tidy(() =>
          tf.variable(
            tf.tensor1d(values(w.size, 100 + i, 1)),
            true,
            `b_${backend}_${name}_${w.label}_${i}_${Math.random()}`,
          ),
        ),
      );
      subjects.push({ name, opt, vars, times: [] });
    };
    if (withScan) add("adabelief() (ours)", adabelief({ learningRate: 1e-3 }));
    add('adabelief({nonFinite: "proceed"}) (ours)', adabelief({ learningRate: 1e-3, nonFinite: "proceed" }));
    if (withScan) add("adam() (ours)", adam({ learningRate: 1e-3 }));
    else add('adam({nonFinite: "proceed"}) (ours)', adam({ learningRate: 1e-3, nonFinite: "proceed" }));
    add("tf.train.adam", tf.train.adam(1e-3));
    // GPU backends queue work: a one-element read-back makes the step's work finish inside the timing. The
    // cpu and wasm backends are synchronous (and the wasm backend's slice reads its whole source).
    const gpu = backend === "webgl" || backend === "webgpu";
    const step = async (s: (typeof subjects)[number]) => {
      s.opt.applyGradients(s.vars.map((v, i) => ({ name: v.name, tensor: grads[i]! })));
      if (!gpu) return;
      const probe = tf.tidy(() => tf.slice(tf.reshape(s.vars[s.vars.length - 1]!, [-1]), 0, 1));
      await probe.data();
      probe.dispose();
    };
    // Warm-up (shader compilation, slots), then the repetitions the budget allows.
    let warm = 0;
    for (const s of subjects) {
      await step(s); // slots, shader compilation, first-touch of new memory
      await step(s);
      const t0 = performance.now();
      await step(s); // the engines tier up (wasm, JavaScript)
      await step(s);
      warm = Math.max(warm, (performance.now() - t0) / 2);
    }
    const reps = Math.max(7, Math.min(50, Math.floor(budgetMs / Math.max(1, warm) / subjects.length)));
    for (let r = 0; r < reps; r++) {
      for (const s of subjects) {
        const t0 = performance.now();
        await step(s);
        s.times.push(performance.now() - t0);
      }
    }
    for (const s of subjects) {
      const t = [...s.times].sort((a, b) => a - b);
      const h = t.length >> 1;
      rows.push({
        backend,
        workload: w.label,
        name: s.name,
        medianMs: t.length % 2 ? t[h]! : (t[h - 1]! + t[h]!) / 2,
        reps: t.length,
        path: s.opt.lastUpdatePath ?? null,
      });
      s.opt.dispose();
      tf.dispose(s.vars);
    }
    tf.dispose(grads);
  }
  return { rows, renderer: rendererInfo() };
}

function rendererInfo(): string {
  try {
    const gl = document.createElement("canvas").getContext("webgl2");
    const ext = gl?.getExtension("WEBGL_debug_renderer_info");
    return ext ? String(gl!.getParameter(ext.UNMASKED_RENDERER_WEBGL)) : "unknown";
  } catch {
    return "unknown";
  }
}

/** Times of successive calls of the SIMD AdaBelief kernel on `n` elements of a memory of its own (diagnostics). */
function kernelTiming(n: number, reps: number, shared: boolean) {
  const pages = Math.ceil((16 * n) / 65536) + 1;
  const memory = new WebAssembly.Memory(
    shared ? { initial: pages, maximum: pages, shared: true } : { initial: pages },
  );
  const k = instantiateSimdKernels(memory);
  if (!k) return { skipped: "no kernels" };
  new Float32Array(memory.buffer, 0, 2 * n).fill(0.25);
  const c = adabeliefRule.coefficients(100, 1e-3, adabeliefRule.resolve({}));
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    k.adabelief(0, 4 * n, 8 * n, 12 * n, -1, n, c);
    times.push(performance.now() - t0);
  }
  return { times };
}

/** A few plain ops on the WebGPU backend, read back asynchronously and synchronously (diagnostics). */
async function webgpuSmoke() {
  const out: Record<string, unknown> = {};
  try {
    out["set"] = await use("webgpu");
    const a = tf.tensor1d([1, 2, 3]);
    const b = tf.add(a, a);
    out["async"] = Array.from(await b.data());
    out["sync"] = Array.from(b.dataSync());
    tf.dispose([a, b]);
  } catch (e) {
    out["error"] = String(e);
  }
  return out;
}

/** Times of successive steps (no read-back) of our AdaBelief on one variable (diagnostics). */
async function stepTiming(backend: string, n: number, reps: number, options: Record<string, unknown>) {
  if (!(await use(backend))) return { skipped: backend };
  const v = tf.tidy(() => tf.variable(tf.tensor1d(values(n, 1, 1)), true));
  const g = tf.tensor1d(values(n, 2, 0.1));
  const opt = adabelief({ learningRate: 1e-3, ...options });
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    opt.applyGradients([{ name: v.name, tensor: g }]);
    times.push(performance.now() - t0);
  }
  const path = opt.lastUpdatePath;
  opt.dispose();
  tf.dispose([v, g]);
  return { times, path };
}

const api = {
  stepTiming,
  webgpuSmoke,
  kernelTiming,
  equivalence,
  wasmThreads,
  webgpuInfo,
  bench,
  rendererInfo,
  userAgent: () => navigator.userAgent,
};
(window as unknown as { adabeliefPage: typeof api }).adabeliefPage = api;
document.getElementById("status")!.textContent = "ready";
