/**
 * Optimizer step benchmark (`npm run bench`, first half): per TensorFlow.js backend (cpu, wasm) and
 * workload (one variable of 1e5, 1e6, 1e7 parameters; 200 variables of 5e3), the median time of one
 * `applyGradients` step of our AdaBelief and Adam (`adabelief/tfjs`) and of `tf.train.adam`, with
 * pre-made gradient tensors, plus in the same run:
 * - a memory-bandwidth bound: an in-place pass with exactly an AdaBelief step's memory traffic (per
 *   parameter: read θ g m s, write θ m s back in place, 28 bytes) and trivial arithmetic (`x ← x + g`),
 *   as a small WebAssembly SIMD loop (compiled from text with wabt) over arrays laid out as the workload's
 *   (on the wasm backend: tensors on the backend's heap; on cpu: a memory of its own);
 * - for information, the previous bound: a `Float32Array` copy of 14 bytes per parameter (`dst.set(src)`,
 *   nominally 28 B read + written, but the write to a cold destination also reads it: ~42 B really move);
 * - the raw kernels alone: the SIMD kernel on the wasm backend's heap; on cpu the core's JavaScript loop
 *   and the SIMD kernel as the cpu path runs it (slot arena, gradient staged);
 * - at 1e7, AdaBelief with `nonFinite: "proceed"` too, to show the cost of the default gradient scan.
 * All measurements of one workload are interleaved round-robin, so a load change on this shared machine
 * hits them alike. Each row's `% of bound` is the bound's time over the row's time (both move 28 B/param).
 *
 * Then, in headless Chromium (`./browser.ts`): our step against `tf.train.adam` on the WebGL backend (fused
 * shader programs) and on the threaded wasm backend, in one cross-origin-isolated page.
 *
 * Writes `results/bench/optimizers.md` (atomically) and prints it, with PASS/FAIL for the targets, each
 * with what the same run shows to be its floor. `--no-browser` leaves the browser section out;
 * `--only browser` runs just it (printed only). Run alone: `npx tsx bench/optimizers.ts` (`--quick`: a short smoke run, printed only; `--only
 * wasm:200x5e3`: one backend or workload, printed only).
 */
import { execSync } from "node:child_process";
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import { adabeliefRule } from "../src/core/optimizers/adabelief.js";
import { cpuInternals } from "../src/tfjs/cpu.js";
import { slotArena, stagedUpdate } from "../src/tfjs/cpu-simd.js";
import { wasmInternals } from "../src/tfjs/wasm/backend.js";
import { SIMD_UPDATES } from "../src/tfjs/wasm/fused.js";
import { instantiateSimdKernels } from "../src/tfjs/wasm/simd.js";
import { compileWat } from "../scripts/build-wasm.js";
import type { BrowserBench } from "./browser.js";

const QUICK = process.argv.includes("--quick");
/**
 * `--only <backend>[:<workload>]`, e.g. `--only wasm:200x5e3`: measure just that (printed, not written to
 * the results file, which always holds a complete run).
 */
const ONLY = (() => {
  const i = process.argv.indexOf("--only");
  return i >= 0 ? (process.argv[i + 1] ?? "") : null;
})();
const squash = (label: string) => label.replace(/\s+/g, "").replace("×", "x");
const selected = (backend: string, w?: Workload) => {
  if (ONLY === null) return true;
  const [b, wl] = ONLY.split(":");
  return b === backend && (w === undefined || wl === undefined || squash(w.label) === squash(wl));
};
const BYTES_PER_PARAM = 28;
/** Target time spent per measured thing and workload, and repetition limits. */
const BUDGET_MS = QUICK ? 150 : 1500;
const MIN_REPS = QUICK ? 2 : 7;
const MAX_REPS = QUICK ? 10 : 200;
/** tf.train.adam on cpu at 1e7 takes seconds per step: this many timed steps. */
const SLOW_REPS = QUICK ? 1 : 3;

interface Workload {
  label: string;
  count: number;
  size: number;
}
const WORKLOADS: Workload[] = [
  { label: "1 × 1e5", count: 1, size: 1e5 },
  { label: "1 × 1e6", count: 1, size: 1e6 },
  { label: "1 × 1e7", count: 1, size: 1e7 },
  { label: "200 × 5e3", count: 200, size: 5e3 },
];

/** Something timed: `run` does one step; `note` (after timing) may describe it, e.g. the path taken. */
interface Subject {
  name: string;
  run: () => void;
  /** Bytes per parameter this subject moves, for its bandwidth column (undefined: not reported). */
  bytesPerParam?: number;
  note?: () => string;
  /** Wall-clock and process CPU milliseconds of each timed step. */
  wall: number[];
  cpu: number[];
  reps: number;
  leaked?: number;
}

interface Row {
  backend: string;
  workload: Workload;
  name: string;
  /** Median wall-clock ms (the benchmark's measure). */
  median: number;
  /** Median process CPU ms (user + system): insensitive to time spent descheduled on a busy machine. */
  cpuMedian: number;
  reps: number;
  note: string;
  gbps?: number;
  fraction?: number;
  ratio?: number;
  cpuRatio?: number;
  leaked?: number;
}

const median = (a: readonly number[]) => {
  const s = [...a].sort((x, y) => x - y);
  const h = s.length >> 1;
  return s.length % 2 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
};

function time(s: Subject): void {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  s.run();
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  s.wall.push(wall);
  s.cpu.push((c.user + c.system) / 1000);
}

/** Warms up, picks repetitions from the warm-up time, then times all subjects round-robin. */
function measure(subjects: Subject[], slow: Set<string>): void {
  for (const s of subjects) {
    s.run(); // first call: allocations, slot creation, compilation
    if (slow.has(s.name)) {
      s.reps = SLOW_REPS;
      continue;
    }
    const t0 = performance.now();
    for (let i = 0; i < 3; i++) s.run(); // let V8 and the wasm engine tier up
    const t = (performance.now() - t0) / 3;
    s.reps = Math.max(MIN_REPS, Math.min(MAX_REPS, Math.ceil(BUDGET_MS / Math.max(t, 1e-3))));
  }
  const rounds = Math.max(...subjects.map((s) => s.reps));
  for (let r = 0; r < rounds; r++) {
    for (const s of subjects) if (r < s.reps) time(s);
  }
}

function randomTensor(n: number, scale: number): tf.Tensor1D {
  return tf.tidy(() => tf.randomNormal([n], 0, scale, "float32", 7) as tf.Tensor1D);
}

/** Variables that own their buffers (the initial tensor is disposed, so nothing shares their data). */
function makeVariables(w: Workload, prefix: string): tf.Variable[] {
  return Array.from({ length: w.count }, (_, i) => {
    const init = randomTensor(w.size, 1);
    const v = tf.variable(init, true, `${prefix}_${i}`);
    init.dispose();
    return v;
  });
}

type Ours = typeof import("../src/tfjs/index.js");

async function loadOurs(): Promise<{ ours: Ours | null; error: string }> {
  try {
    return { ours: await import("../src/tfjs/index.js"), error: "" };
  } catch (e) {
    return { ours: null, error: e instanceof Error ? e.message : String(e) };
  }
}

async function benchBackend(backend: "cpu" | "wasm", ours: Ours | null): Promise<Row[]> {
  if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} did not initialise`);
  await tf.ready();
  const rows: Row[] = [];
  for (const w of WORKLOADS.filter((x) => selected(backend, x))) {
    const total = w.count * w.size;
    const tag = `${backend}_${w.count}x${w.size}`;
    const start = tf.memory().numTensors;
    const subjects: Subject[] = [];

    // Bandwidth bound: the same traffic as a step (read θ g m s, write θ m s), trivial arithmetic.
    const bound = await boundPass(backend, w);
    subjects.push({ ...bound, bytesPerParam: BYTES_PER_PARAM, wall: [], cpu: [], reps: 0 });

    // For information: the former bound, a copy of 14 bytes per parameter (28 B nominal).
    const half = Math.ceil((total * BYTES_PER_PARAM) / 2 / 4);
    const src = new Float32Array(half).fill(1);
    const dst = new Float32Array(half);
    subjects.push({
      name: COPY,
      run: () => dst.set(src),
      bytesPerParam: BYTES_PER_PARAM,
      wall: [],
      cpu: [],
      reps: 0,
    });

    // Raw kernels on this backend's memory.
    const raws = rawKernels(backend, w);
    for (const raw of raws)
      subjects.push({ ...raw, bytesPerParam: BYTES_PER_PARAM, wall: [], cpu: [], reps: 0 });

    // The optimizers, each on its own variables, with gradients made once.
    const grads = Array.from({ length: w.count }, () => randomTensor(w.size, 0.1));
    const made: { opt: tf.Optimizer; vars: tf.Variable[] }[] = [];
    const addOptimizer = (name: string, opt: tf.Optimizer, path?: () => string) => {
      const vars = makeVariables(w, `${tag}_${name.replace(/\W/g, "")}`);
      const map: tf.NamedTensorMap = {};
      vars.forEach((v, i) => (map[v.name] = grads[i]!));
      made.push({ opt, vars });
      let calls = 0;
      const s: Subject = {
        name,
        run: () => {
          const before = tf.memory().numTensors;
          opt.applyGradients(map);
          // Tensors added by one step, after the first (which creates the slots).
          if (calls++ > 0) s.leaked = Math.max(s.leaked ?? 0, tf.memory().numTensors - before);
        },
        bytesPerParam: BYTES_PER_PARAM,
        wall: [],
        cpu: [],
        reps: 0,
      };
      if (path) s.note = path;
      subjects.push(s);
    };
    if (ours) {
      const ab = ours.adabelief({ learningRate: 1e-3 });
      addOptimizer("adabelief() (ours)", ab, () => `path ${ab.lastUpdatePath}, gradient scan`);
      if (w.count === 1 && w.size === 1e7) {
        const np = ours.adabelief({ learningRate: 1e-3, nonFinite: "proceed" });
        addOptimizer(PROCEED, np, () => `path ${np.lastUpdatePath}, no scan`);
      }
      const ad = ours.adam({ learningRate: 1e-3 });
      addOptimizer("adam() (ours)", ad, () => `path ${ad.lastUpdatePath}, gradient scan`);
    }
    addOptimizer("tf.train.adam", tf.train.adam(1e-3));

    const slow = new Set(backend === "cpu" && total >= 1e6 ? ["tf.train.adam"] : []);
    measure(subjects, slow);

    const boundSubject = subjects[0]!;
    const boundMs = median(boundSubject.wall);
    const tfAdam = subjects.find((s) => s.name === "tf.train.adam")!;
    for (const s of subjects) {
      const ms = median(s.wall);
      const row: Row = {
        backend,
        workload: w,
        name: s.name,
        median: ms,
        cpuMedian: median(s.cpu),
        reps: s.wall.length,
        note: s.note?.() ?? "",
      };
      if (s.bytesPerParam) {
        row.gbps = (s.bytesPerParam * total) / (ms * 1e6);
        row.fraction = boundMs / ms;
      }
      if (s !== boundSubject && s.name !== COPY && s !== tfAdam && !s.name.startsWith("raw")) {
        row.ratio = ms / median(tfAdam.wall);
        row.cpuRatio = median(s.cpu) / median(tfAdam.cpu);
      }
      if (s.leaked !== undefined) row.leaked = s.leaked;
      rows.push(row);
    }
    for (const raw of raws) raw.dispose();
    bound.dispose();
    for (const { opt, vars } of made) {
      opt.dispose();
      vars.forEach((v) => v.dispose());
    }
    grads.forEach((g) => g.dispose());
    const left = tf.memory().numTensors - start;
    if (left !== 0) console.warn(`${backend} ${w.label}: ${left} tensors left after disposing everything`);
    console.error(`  ${backend} ${w.label} done`);
  }
  return rows;
}

const BOUND = "bound: in-place pass, 28 B/param (wasm SIMD)";
const RAW_WASM = "raw SIMD kernel (wasm heap)";
const RAW_CPU_SIMD = "raw SIMD kernel (cpu: wasm slot arena, g staged)";
const COPY = "Float32Array copy, 14 B/param (informational)";
const PROCEED = 'adabelief({nonFinite: "proceed"}) (ours)';

/** `x ← x + g` for x in θ, m, s: the memory traffic of a step with trivial arithmetic (n a multiple of 4). */
const BOUND_WAT = `(module
  (import "env" "memory" (memory 0))
  (func (export "pass") (param $t i32) (param $g i32) (param $m i32) (param $s i32) (param $n i32)
    (local $i i32) (local $end i32) (local $vg v128)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (br_if $done (i32.eqz (local.get $end)))
      (loop $next
        (local.set $vg (v128.load (i32.add (local.get $g) (local.get $i))))
        (v128.store (i32.add (local.get $t) (local.get $i))
          (f32x4.add (v128.load (i32.add (local.get $t) (local.get $i))) (local.get $vg)))
        (v128.store (i32.add (local.get $m) (local.get $i))
          (f32x4.add (v128.load (i32.add (local.get $m) (local.get $i))) (local.get $vg)))
        (v128.store (i32.add (local.get $s) (local.get $i))
          (f32x4.add (v128.load (i32.add (local.get $s) (local.get $i))) (local.get $vg)))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br_if $next (i32.lt_u (local.get $i) (local.get $end))))))
)`;

let boundModule: WebAssembly.Module | null = null;

/**
 * The bandwidth bound of a workload: {@link BOUND_WAT} over four arrays per variable. On the wasm backend
 * the arrays are tensors on the backend's heap (as the optimizers' are); elsewhere a memory of its own.
 */
async function boundPass(
  backend: string,
  w: Workload,
): Promise<{ name: string; run: () => void; dispose: () => void }> {
  if (w.size % 4 !== 0) throw new Error(`bound: the variable size ${w.size} must be a multiple of 4`);
  boundModule ??= new WebAssembly.Module(
    (await compileWat(BOUND_WAT, "bound.wat")) as Uint8Array<ArrayBuffer>,
  );
  const internals = backend === "wasm" ? wasmInternals(tf.backend()) : null;
  let memory: WebAssembly.Memory;
  let ptrs: number[][];
  let dispose = () => {};
  if (internals) {
    const tensors = Array.from({ length: w.count }, () => [0, 1, 2, 3].map(() => tf.zeros([w.size])));
    ptrs = tensors.map((ts) => ts.map((t) => internals.offsetOf(t.dataId)));
    if (ptrs.flat().some((p) => p < 0)) throw new Error("wasm backend: a tensor offset was not found");
    memory = internals.memory;
    dispose = () => tensors.flat().forEach((t) => t.dispose());
  } else {
    const bytes = 16 * w.size * w.count;
    memory = new WebAssembly.Memory({ initial: Math.ceil(bytes / 65536) + 1 });
    ptrs = Array.from({ length: w.count }, (_, k) => [0, 1, 2, 3].map((j) => (4 * k + j) * 4 * w.size));
  }
  const pass = (
    new WebAssembly.Instance(boundModule, { env: { memory } }).exports as {
      pass: (t: number, g: number, m: number, s: number, n: number) => void;
    }
  ).pass;
  return {
    name: BOUND,
    run: () => {
      for (const [t, g, m, s] of ptrs) pass(t!, g!, m!, s!, w.size);
    },
    dispose,
  };
}

type RawSubject = { name: string; run: () => void; dispose: () => void };

/**
 * The raw per-parameter kernels on the backend's own memory, with their own θ g m s arrays: on wasm the
 * SIMD kernel on the heap; on cpu the core's JavaScript loop in place, and the SIMD kernel as the cpu path
 * runs it (θ m s in a wasm slot-arena region, g staged through it in cache-sized chunks).
 */
function rawKernels(backend: string, w: Workload): RawSubject[] {
  const c = adabeliefRule.coefficients(100, 1e-3, adabeliefRule.resolve({}));
  if (backend === "wasm") {
    const internals = wasmInternals(tf.backend());
    const k = internals ? instantiateSimdKernels(internals.memory) : null;
    if (!internals || !k) return [];
    const tensors = Array.from({ length: w.count }, () =>
      [1, 0.1, 0, 0].map((sc) => (sc ? randomTensor(w.size, sc) : tf.zeros([w.size]))),
    );
    const ptrs = tensors.map((ts) => ts.map((t) => internals.offsetOf(t.dataId)));
    if (ptrs.flat().some((p) => p < 0)) throw new Error("wasm backend: a tensor offset was not found");
    return [
      {
        name: RAW_WASM,
        run: () => {
          for (const [t, g, m, s] of ptrs) k.adabelief(t!, g!, m!, s!, -1, w.size, c);
        },
        dispose: () => tensors.flat().forEach((t) => t.dispose()),
      },
    ];
  }
  const arrays = Array.from({ length: w.count }, () => [
    Float32Array.from({ length: w.size }, () => Math.random() - 0.5),
    Float32Array.from({ length: w.size }, () => (Math.random() - 0.5) * 0.1),
    new Float32Array(w.size),
    new Float32Array(w.size),
  ]);
  const out: RawSubject[] = [
    {
      name: "raw core loop (JS, in place)",
      run: () => {
        for (const [t, g, m, s] of arrays) adabeliefRule.update(t!, g!, [m!, s!], c);
      },
      dispose: () => {},
    },
  ];
  const cpu = cpuInternals(tf.backend());
  const arena = cpu ? slotArena(cpu) : null;
  if (arena) {
    const made = arrays.map(([t]) =>
      arena.allocate(3, [w.size], (k, view) => (k === 0 ? view.set(t!) : view.fill(0))),
    );
    if (made.every((m) => m !== null)) {
      out.push({
        name: RAW_CPU_SIMD,
        run: () => {
          made.forEach((m, i) => stagedUpdate(SIMD_UPDATES.AdaBelief!, m!.place, arrays[i]![1]!, c));
        },
        dispose: () => made.forEach((m) => m!.tensors.forEach((t) => t.dispose())),
      });
    } else made.forEach((m) => m?.tensors.forEach((t) => t.dispose()));
  }
  return out;
}

const fmtMs = (ms: number) =>
  ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms >= 1 ? ms.toFixed(2) : ms.toFixed(3);
const pct = (f: number | undefined) => (f === undefined ? "" : `${(100 * f).toFixed(0)} %`);

interface Target {
  label: string;
  /** From wall-clock medians (decides PASS/FAIL) and from CPU-time medians (shown for reference). */
  value: number | undefined;
  cpuValue: number | undefined;
  limit: number;
  /** true: value ≤ limit passes; false: value ≥ limit passes. */
  atMost: boolean;
  show: (v: number) => string;
  /** What the same run shows to be the least this target can measure, for the reader. */
  floor?: string;
}

function targets(rows: Row[]): Target[] {
  const find = (backend: string, label: string, name: string) =>
    rows.find((r) => r.backend === backend && r.workload.label === label && r.name === name);
  const ab = (backend: string, label: string) => find(backend, label, "adabelief() (ours)");
  const x = (v: number) => `${v.toFixed(3)} ×`;
  const ratio = (label: string, backend: string, workload: string, limit: number): Target => {
    // The bound moves the step's 28 B/param with no arithmetic; the default gradient scan reads 4 more.
    const b = find(backend, workload, BOUND);
    const adam = find(backend, workload, "tf.train.adam");
    const f = b && adam ? b.median / adam.median : undefined;
    return {
      label,
      value: ab(backend, workload)?.ratio,
      cpuValue: ab(backend, workload)?.cpuRatio,
      limit,
      atMost: true,
      show: x,
      floor:
        f === undefined
          ? undefined
          : `the bandwidth bound alone is ${x(f)}, ${x((f * (BYTES_PER_PARAM + 4)) / BYTES_PER_PARAM)} with the scan's 4 B/param`,
    };
  };
  /** Our AdaBelief step over the same run's bandwidth bound (both move 28 B/param; the scan reads 4 more). */
  const overBound = (label: string, backend: string, workload: string, limit: number): Target => {
    const b = find(backend, workload, BOUND);
    const r = ab(backend, workload);
    const rawName = backend === "wasm" ? RAW_WASM : RAW_CPU_SIMD;
    const raw = find(backend, workload, rawName);
    const proceed = find(backend, workload, PROCEED);
    const parts = [
      `the bound itself 1.000 ×, ${x((BYTES_PER_PARAM + 4) / BYTES_PER_PARAM)} with the scan's 4 B/param`,
    ];
    if (raw && b) parts.push(`the raw SIMD kernel alone ${x(raw.median / b.median)}`);
    if (proceed && b) parts.push(`the step without the scan ${x(proceed.median / b.median)}`);
    return {
      label,
      value: r && b ? r.median / b.median : undefined,
      cpuValue: r && b ? r.cpuMedian / b.cpuMedian : undefined,
      limit,
      atMost: true,
      show: x,
      floor: b ? parts.join("; ") : undefined,
    };
  };
  const kernel = find("wasm", "1 × 1e7", RAW_WASM);
  const bound = find("wasm", "1 × 1e7", BOUND);
  const ours = rows.filter((r) => r.name.endsWith("(ours)"));
  const leak = ours.length ? Math.max(...ours.map((r) => r.leaked ?? Infinity)) : undefined;
  return [
    overBound("wasm, 1 × 1e7: AdaBelief step ≤ 1.40 × the bandwidth bound", "wasm", "1 × 1e7", 1.4),
    ratio("wasm, 200 × 5e3: AdaBelief step ≤ 0.05 × tf.train.adam", "wasm", "200 × 5e3", 0.05),
    overBound("cpu, 1 × 1e6: AdaBelief step ≤ 3 × the bandwidth bound", "cpu", "1 × 1e6", 3),
    overBound("cpu, 1 × 1e7: AdaBelief step ≤ 3 × the bandwidth bound", "cpu", "1 × 1e7", 3),
    ratio("cpu, 1 × 1e7: AdaBelief step ≤ 0.05 × tf.train.adam", "cpu", "1 × 1e7", 0.05),
    {
      label:
        "SIMD kernel at 1e7 moves its 28 B/param at ≥ 70 % of the measured bandwidth bound (in-place pass, same traffic)",
      value: kernel?.fraction,
      cpuValue: kernel && bound ? bound.cpuMedian / kernel.cpuMedian : undefined,
      limit: 0.7,
      atMost: false,
      show: (v) => pct(v),
    },
    {
      label: "zero tensors leaked per step (our optimizers, all workloads)",
      value: leak,
      cpuValue: undefined,
      limit: 0,
      atMost: true,
      show: (v) => String(v),
    },
  ];
}

function machine(): string {
  const cpus = os.cpus();
  let commit = "";
  try {
    commit = execSync("git describe --always --dirty", { stdio: ["ignore", "pipe", "ignore"] })
      .toString()
      .trim();
  } catch {
    commit = "unknown";
  }
  return (
    `${new Date().toISOString()} · Node ${process.version} · ${cpus[0]?.model ?? "cpu"} × ${cpus.length} · ` +
    `load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(" ")} · tfjs ${tf.version_core} · commit ${commit}`
  );
}

/** The browser section of the report (see `./browser.ts`). */
function renderBrowser(b: BrowserBench | string): string[] {
  const out = ["", "## Browser (headless Chromium, same page)", ""];
  if (typeof b === "string") {
    out.push(`Not measured: ${b}`);
    return out;
  }
  out.push(
    `${b.browser} · WebGL renderer: ${b.renderer} · wasm: ${b.wasm} · WebGPU: ${b.webgpu}`,
    "",
    "Median time of one step (`applyGradients` with pre-made gradients; on webgl/webgpu then a one-element",
    "read-back so the GPU work is done), interleaved round-robin in one page served with COOP/COEP (cross-origin",
    "isolated). The",
    "WebGL backend runs on SwiftShader here, a CPU implementation of the GPU: these are not GPU figures, only",
    "the ratio to `tf.train.adam` on the same backend is meaningful. Our default step reads back one flag per",
    'step (the non-finite check, a GPU sync); the `nonFinite: "proceed"` row has none. WebGPU rows (when its',
    "backend is installed) are `proceed` only: on SwiftShader the synchronous read-back loses the device.",
    "",
    "| backend | workload | implementation | median ms | × tf.adam | reps | path |",
    "|---|---|---|--:|--:|--:|---|",
  );
  for (const r of b.rows) {
    const adam = b.rows.find(
      (x) => x.backend === r.backend && x.workload === r.workload && x.name === "tf.train.adam",
    );
    const ratio = adam && r !== adam ? (r.medianMs / adam.medianMs).toFixed(3) : "";
    out.push(
      `| ${r.backend} | ${r.workload} | ${r.name} | ${fmtMs(r.medianMs)} | ${ratio} | ${r.reps} | ${r.path ?? ""} |`,
    );
  }
  if (b.skipped.length) out.push("", `Skipped: ${b.skipped.join("; ")}`);
  return out;
}

function render(rows: Row[], oursError: string, header: string, browser?: BrowserBench | string): string {
  const out: string[] = [
    "# Optimizer step benchmark",
    "",
    `${header}`,
    "",
    "Median time of one step (`applyGradients` with pre-made gradients; wall clock, synchronous backends).",
    "",
    "Columns:",
    "- **median ms**, **ns/param**: median wall-clock time of one step, and per parameter.",
    "- **GB/s**: 28 bytes per parameter (an AdaBelief step reads θ g m s and writes θ m s, 4 bytes each) over",
    "  the time, for every row, so for `tf.train.adam` (which allocates temporaries) it is an effective figure.",
    "- **% of bound**: the bound row's time over this row's time. The **bound** is an in-place pass with the",
    "  same memory traffic as a step (read 4 float32 arrays, write 3 back) and trivial arithmetic (`x ← x + g`),",
    "  a WebAssembly SIMD loop measured in the same run, on the backend's heap for wasm and on a memory of its",
    "  own for cpu: about the fastest a step of this shape can be on this machine. The `Float32Array copy` row,",
    "  the previous bound, is informational: `dst.set(src)` of 14 B/param is nominally 28 B/param but also",
    "  reads the cold destination before writing it (write-allocate), so it moves ~42 B/param and flattered",
    "  kernels (fractions above 100 %).",
    "- **× tf.adam**: ratio to `tf.train.adam` on the same backend and workload.",
    "- **CPU ms**, **CPU ×**: median process CPU time (user + system) of the same steps and its ratio; on a",
    "  busy machine wall-clock time includes time spent descheduled, CPU time mostly does not.",
    "- **leak**: largest change of `tf.memory().numTensors` across one step (after the first).",
    "- **reps**: timed steps; **notes**: the update path our optimizer took.",
    "",
    'Our optimizers scan the gradients for NaN/±Infinity by default (`nonFinite: "throw"`), which reads 4 more',
    'bytes per parameter; the `nonFinite: "proceed"` rows (1e7) show the step without that scan.',
    "",
    "Paths (notes column): `wasm-simd` the SIMD kernel in place on the wasm backend's heap; `cpu-simd` the same",
    "kernel on the cpu backend, with the variable and its slots kept in a wasm memory of their own (views as",
    "the tensors' storage) and the gradient staged through it in cache-sized chunks; `cpu` the core's",
    'JavaScript loop in place (`kernel: "loop"`, bit-identical to the core).',
    "",
  ];
  if (oursError) out.push(`**Our tfjs optimizers could not be loaded:** ${oursError}`, "");
  out.push(
    "| backend | workload | implementation | median ms | ns/param | GB/s | % of bound | × tf.adam | CPU ms | CPU × | leak | reps | notes |",
    "|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|",
  );
  for (const r of rows) {
    const total = r.workload.count * r.workload.size;
    out.push(
      `| ${r.backend} | ${r.workload.label} | ${r.name} | ${fmtMs(r.median)} | ${((r.median * 1e6) / total).toFixed(2)} | ` +
        `${r.gbps?.toFixed(1) ?? ""} | ${r.name === BOUND ? "" : pct(r.fraction)} | ` +
        `${r.ratio?.toFixed(3) ?? ""} | ${fmtMs(r.cpuMedian)} | ${r.cpuRatio?.toFixed(3) ?? ""} | ` +
        `${r.leaked ?? ""} | ${r.reps} | ${r.note} |`,
    );
  }
  out.push("", "## Targets", "");
  for (const t of targets(rows)) {
    const pass =
      t.value !== undefined &&
      Number.isFinite(t.value) &&
      (t.atMost ? t.value <= t.limit : t.value >= t.limit);
    const shown = (v: number | undefined) =>
      v === undefined || !Number.isFinite(v) ? "not measured" : t.show(v);
    const cpu = t.cpuValue === undefined ? "" : ` (from CPU time: ${shown(t.cpuValue)})`;
    const floor = t.floor ? `; floor in this run: ${t.floor}` : "";
    out.push(`- **${pass ? "PASS" : "FAIL"}** ${t.label}: ${shown(t.value)}${cpu}${floor}`);
  }
  if (browser !== undefined) out.push(...renderBrowser(browser));
  out.push("");
  return out.join("\n");
}

async function main(): Promise<void> {
  const { ours, error } = await loadOurs();
  if (!ours) console.error(`our tfjs optimizers could not be loaded (${error}); measuring the rest`);
  const load = os.loadavg()[0]!.toFixed(1);
  const rows: Row[] = [];
  for (const backend of (["cpu", "wasm"] as const).filter((b) => selected(b))) {
    console.error(`benchmarking the ${backend} backend…`);
    rows.push(...(await benchBackend(backend, ours)));
  }
  // The browser section: on a full run (or `--only browser`), unless `--no-browser`.
  let browser: BrowserBench | string | undefined;
  if (!QUICK && !process.argv.includes("--no-browser") && (ONLY === null || ONLY === "browser")) {
    console.error("benchmarking in headless Chromium…");
    try {
      const { benchBrowser } = await import("./browser.js");
      browser = await benchBrowser(BUDGET_MS);
    } catch (e) {
      browser = e instanceof Error ? e.message : String(e);
    }
  }
  const header = `${machine()} (1-minute load average ${load} at the start)`;
  const text = render(rows, ours ? "" : error, header, browser);
  console.log(text);
  if (QUICK || ONLY !== null) return; // a smoke or partial run: printed, not recorded
  const dir = join(dirname(fileURLToPath(import.meta.url)), "../../../results/bench");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, "optimizers.md");
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
  console.error(`wrote ${file}`);
}

await main();
