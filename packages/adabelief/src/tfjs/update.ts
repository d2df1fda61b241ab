import * as tf from "@tensorflow/tfjs-core";
import { firstNonFinite } from "../core/optimizer.js";
import type { ResolvedCommon, UpdateRule } from "../core/rule.js";
import { clipArrays, clipTensors, clips, type ClipOptions } from "./clip.js";
import { cpuInternals, type CpuInternals } from "./cpu.js";
import type { TensorRule } from "./tensor/rule.js";
import { wasmInternals, type WasmInternals } from "./wasm/backend.js";
import { SIMD_UPDATES, simdKernels, type SimdKernelsLike } from "./wasm/fused.js";

/**
 * Which update paths an optimizer may use:
 * - `"auto"` (default): the fastest available — on the cpu backend the core loop in place on the tensors'
 *   storage, on the wasm backend the SIMD kernel (else the core loop on views of the wasm heap), elsewhere
 *   tensor ops;
 * - `"loop"`: as `"auto"` but never the SIMD kernel;
 * - `"tensor"`: always tensor ops (what other backends use; useful to compare).
 */
export type KernelChoice = "auto" | "loop" | "tensor";

/** The update path a step took. */
export type UpdatePath = "cpu" | "wasm-simd" | "wasm-loop" | "tensor";

/** A trained variable and its state slots (in the rule's slot order). */
export interface Entry {
  readonly variable: tf.Variable;
  slots: tf.Tensor[];
}

/** One variable's part of a step. */
export interface Work {
  readonly entry: Entry;
  readonly grad: tf.Tensor;
}

/** Everything a step needs besides the per-variable work. */
export interface StepContext<C> {
  rule: UpdateRule<never, ResolvedCommon, C>;
  tensorRule: TensorRule<C>;
  slotInit: readonly number[];
  clip: ClipOptions;
  c: C;
}

/** The backend internals a step will use. */
export type Route =
  | { kind: "cpu"; cpu: CpuInternals }
  | { kind: "wasm"; wasm: WasmInternals; simd: SimdKernelsLike | null }
  | { kind: "tensor" };

/** Chooses the route for the current backend (feature-detected; `tensor` when nothing else fits). */
export function selectRoute(kernel: KernelChoice): Route {
  if (kernel === "tensor") return { kind: "tensor" };
  const name = tf.getBackend();
  const backend = tf.backend();
  if (name === "cpu") {
    const cpu = cpuInternals(backend);
    if (cpu) return { kind: "cpu", cpu };
  } else if (name === "wasm") {
    const wasm = wasmInternals(backend);
    if (wasm) {
      // The SIMD kernels also scan gradients for NaN/Infinity, so they are used for every rule.
      const simd = kernel === "auto" ? simdKernels(wasm.memory) : null;
      return { kind: "wasm", wasm, simd };
    }
  }
  return { kind: "tensor" };
}

/** Position and value of the first NaN/±Infinity over a list of gradients, or `null`. */
export interface NonFiniteHit {
  index: number;
  at: number;
  value: number;
}

function hitIn(values: ArrayLike<number>, index: number): NonFiniteHit | null {
  const at = firstNonFinite(values as Float32Array);
  return at >= 0 ? { index, at, value: values[at]! } : null;
}

/** Scans the gradients for NaN/±Infinity before anything is changed (one read-back on tensor backends). */
export function scanNonFinite(route: Route, grads: readonly tf.Tensor[]): NonFiniteHit | null {
  if (route.kind === "tensor") {
    if (grads.length === 0) return null;
    // One "all finite" flag per gradient (no concatenated copy of the gradients), one read-back of the
    // flags; the offending element is located only when there is one.
    const each = grads.map((g) => tf.tidy(() => tf.all(tf.isFinite(g))));
    const flags = tf.stack(each);
    const finite = flags.dataSync();
    tf.dispose([flags, ...each]);
    for (let i = 0; i < grads.length; i++) {
      if (finite[i] !== 0) continue;
      const hit = hitIn(grads[i]!.dataSync(), i);
      if (hit) return hit;
    }
    return null;
  }
  for (let i = 0; i < grads.length; i++) {
    const g = grads[i]!;
    if (g.size === 0) continue;
    let hit: NonFiniteHit | null;
    if (route.kind === "cpu") {
      hit = hitIn(route.cpu.values(g.dataId, g.size) ?? g.dataSync(), i);
    } else {
      const off = route.wasm.offsetOf(g.dataId);
      if (off < 0) hit = hitIn(g.dataSync(), i);
      else if (route.simd) {
        const at = route.simd.firstNonFinite(off, g.size);
        hit = at >= 0 ? { index: i, at, value: route.wasm.view(off, g.size)[at]! } : null;
      } else hit = hitIn(route.wasm.view(off, g.size), i);
    }
    if (hit) return hit;
  }
  return null;
}

/** Whether every buffer of the step is reachable by the fused route (else the whole step uses tensor ops). */
export function canFuse(route: Route, works: readonly Work[]): boolean {
  if (route.kind === "tensor") return false;
  const ok = (t: tf.Tensor) =>
    t.size === 0 ||
    (route.kind === "cpu" ? route.cpu.values(t.dataId, t.size) !== null : route.wasm.offsetOf(t.dataId) >= 0);
  return works.every((w) => ok(w.grad) && ok(w.entry.variable) && w.entry.slots.every(ok));
}

function createSlots(works: readonly Work[], init: readonly number[]): void {
  for (const w of works) {
    if (w.entry.slots.length === 0 && init.length > 0) {
      const v = w.entry.variable;
      w.entry.slots = init.map((x) => tf.keep(tf.fill(v.shape, x, "float32")));
    }
  }
}

/**
 * Makes sure no tensor outside the optimizer shares the buffers the step writes (variable and slots): a
 * shared buffer (`tf.variable(x)`, `clone`, `assign`, a slot returned by `getWeights` then cloned, a
 * gradient sharing a variable's buffer) is first replaced by a private copy. `read` returns a tensor's
 * current values (a view or the live array).
 */
function makeExclusive(
  works: readonly Work[],
  refCount: (id: object) => number,
  read: (t: tf.Tensor) => Float32Array,
  owned?: WeakSet<object>,
): void {
  for (const w of works) {
    const v = w.entry.variable;
    if (v.size > 0 && refCount(v.dataId) !== 1) {
      const fresh = tf.tensor(read(v).slice(), v.shape, "float32");
      v.assign(fresh);
      fresh.dispose();
      // The copy is private: the cpu path need not copy it again before writing (see `takeOwnership`).
      owned?.add(v.dataId);
    }
    let slots = w.entry.slots;
    for (let k = 0; k < slots.length; k++) {
      const s = slots[k]!;
      if (s.size === 0 || refCount(s.dataId) === 1) continue;
      if (slots === w.entry.slots) slots = w.entry.slots = [...slots];
      slots[k] = tf.keep(tf.tensor(read(s).slice(), s.shape, "float32"));
      s.dispose();
    }
  }
}

/**
 * Which gradients are a buffer the step writes, so must be copied before the step (`null`: none). Call
 * after {@link makeExclusive}: every written buffer (variable, slot) then belongs to one tensor, so a
 * gradient can share one only by being that very tensor — a variable (`{w: w}`) or a slot (slots are
 * kept tensors). The set of written buffers is built only when some gradient is a variable or kept.
 */
function aliasedGradients(works: readonly Work[], grads: readonly tf.Tensor[]): boolean[] | null {
  const suspect = (g: tf.Tensor) => g instanceof tf.Variable || (g as { kept?: unknown }).kept !== false;
  if (!grads.some(suspect)) return null;
  const written = new Set<object>();
  for (const w of works) {
    written.add(w.entry.variable.dataId);
    for (const s of w.entry.slots) written.add(s.dataId);
  }
  return grads.map((g) => written.has(g.dataId));
}

/**
 * Variable buffers the cpu path has made its own. The cpu backend keeps, without copying, a typed array
 * passed to `tf.tensor(array)`, so a refCount of 1 does not prove nobody else holds the array: the first
 * in-place write to a variable's buffer is preceded by one private copy.
 */
const ownedCpu = new WeakSet<object>();

function takeOwnership(works: readonly Work[], live: (t: tf.Tensor) => Float32Array): void {
  for (const w of works) {
    const v = w.entry.variable;
    if (v.size === 0 || ownedCpu.has(v.dataId)) continue;
    const fresh = tf.tensor(live(v).slice(), v.shape, "float32");
    v.assign(fresh);
    fresh.dispose();
    ownedCpu.add(v.dataId);
  }
}

/** The fused cpu step: the core loop in place on the tensors' live `Float32Array`s. */
export function runCpu<C>(cpu: CpuInternals, works: readonly Work[], ctx: StepContext<C>): void {
  const live = (t: tf.Tensor) => (t.size === 0 ? new Float32Array(0) : cpu.values(t.dataId, t.size)!);
  createSlots(works, ctx.slotInit);
  takeOwnership(works, live);
  makeExclusive(works, (id) => cpu.refCount(id), live, ownedCpu);
  let grads = works.map((w) => live(w.grad));
  if (clips(ctx.clip)) grads = clipArrays(grads, ctx.clip);
  else {
    const aliased = aliasedGradients(
      works,
      works.map((w) => w.grad),
    );
    if (aliased) grads = grads.map((g, i) => (aliased[i] ? g.slice() : g));
  }
  works.forEach((w, i) => {
    ctx.rule.update(live(w.entry.variable), grads[i]!, w.entry.slots.map(live), ctx.c);
  });
}

/**
 * The fused wasm step: the SIMD kernel in place on the backend's heap, or the core loop on heap views.
 * All allocations (slots, private copies, clipped gradients) happen before any offset or view is taken.
 */
export function runWasm<C>(
  wasm: WasmInternals,
  simd: SimdKernelsLike | null,
  works: readonly Work[],
  ctx: StepContext<C>,
): UpdatePath {
  const view = (t: tf.Tensor) =>
    t.size === 0 ? new Float32Array(0) : wasm.view(wasm.offsetOf(t.dataId), t.size);
  createSlots(works, ctx.slotInit);
  makeExclusive(works, (id) => wasm.refCount(id), view);
  const temps: tf.Tensor[] = [];
  let grads: tf.Tensor[] = works.map((w) => w.grad);
  if (clips(ctx.clip)) {
    const clipped = clipArrays(
      grads.map((g) => view(g)),
      ctx.clip,
    );
    grads = clipped.map((a, i) => tf.tensor(a, grads[i]!.shape, "float32"));
    temps.push(...grads);
  } else {
    const aliased = aliasedGradients(works, grads);
    if (aliased) {
      grads = grads.map((g, i) => {
        if (!aliased[i]) return g;
        const copy = tf.tensor(view(g).slice(), g.shape, "float32");
        temps.push(copy);
        return copy;
      });
    }
  }
  // From here on nothing allocates on the wasm heap: offsets and views stay valid.
  const simdUpdate = simd ? SIMD_UPDATES[ctx.rule.name] : undefined;
  let path: UpdatePath = "wasm-loop";
  for (let i = 0; i < works.length; i++) {
    const { variable: v, slots } = works[i]!.entry;
    if (v.size === 0) continue;
    const g = grads[i]!;
    // The variable's data changes in place: drop the backend's caches built from it (packed weights).
    wasm.invalidate(v.dataId);
    if (simd && simdUpdate) {
      const offs = slots.map((s) => wasm.offsetOf(s.dataId));
      if (simdUpdate(simd, wasm.offsetOf(v.dataId), wasm.offsetOf(g.dataId), offs, v.size, ctx.c)) {
        path = "wasm-simd";
        continue;
      }
    }
    ctx.rule.update(view(v), view(g), slots.map(view), ctx.c);
  }
  for (const t of temps) t.dispose();
  return path;
}

/**
 * The tensor-op step (any backend). An elementwise rule runs once over all variables concatenated (a
 * handful of ops whatever the number of variables), except on the wasm backend, whose slices are too slow
 * for it; otherwise one `tidy` per variable. New slot tensors replace the old ones.
 */
export function runTensor<C>(works: readonly Work[], ctx: StepContext<C>): void {
  createSlots(works, ctx.slotInit);
  tf.tidy(() => {
    const grads = clips(ctx.clip)
      ? clipTensors(
          works.map((w) => w.grad),
          ctx.clip,
        )
      : works.map((w) => w.grad);
    const live = works.map((w, i) => ({ w, g: grads[i]! })).filter(({ w }) => w.entry.variable.size > 0);
    // The wasm backend's slice reads the whole source each time: batching would cost O(variables²) there.
    if (ctx.tensorRule.elementwise && live.length > 1 && tf.getBackend() !== "wasm") {
      runBatched(live, ctx);
      return;
    }
    for (const { w, g } of live) {
      const v = w.entry.variable;
      const old = w.entry.slots;
      const next = tf.tidy(() => {
        const r = ctx.tensorRule.update(v, g, old, ctx.c);
        if (r.theta !== v) v.assign(r.theta);
        // A slot must be a tensor of our own: never keep (and later dispose) the caller's gradient.
        return r.slots.map((s, k) =>
          s === old[k] ? s : tf.keep(s === g || s === v || old.includes(s) ? tf.clone(s) : s),
        );
      });
      for (const s of old) if (!next.includes(s)) s.dispose();
      w.entry.slots = next;
    }
  });
}

/** One elementwise update over all the step's variables, concatenated, then split back. Inside `tidy`. */
function runBatched<C>(live: readonly { w: Work; g: tf.Tensor }[], ctx: StepContext<C>): void {
  const flat = (ts: readonly tf.Tensor[]) => tf.concat(ts.map((t) => tf.reshape(t, [-1])));
  const sizes = live.map(({ w }) => w.entry.variable.size);
  const k = live[0]!.w.entry.slots.length;
  const slots = Array.from({ length: k }, (_, j) => flat(live.map(({ w }) => w.entry.slots[j]!)));
  const r = ctx.tensorRule.update(
    flat(live.map(({ w }) => w.entry.variable)),
    flat(live.map(({ g }) => g)),
    slots,
    ctx.c,
  );
  const thetas = tf.split(r.theta, sizes);
  const parts = r.slots.map((s) => tf.split(s, sizes));
  live.forEach(({ w }, i) => {
    const v = w.entry.variable;
    v.assign(tf.reshape(thetas[i]!, v.shape));
    const old = w.entry.slots;
    w.entry.slots = parts.map((p) => tf.keep(tf.reshape(p[i]!, v.shape)));
    for (const s of old) s.dispose();
  });
}
