import * as tf from "@tensorflow/tfjs-core";
import { firstNonFinite } from "../core/optimizer.js";
import type { ResolvedCommon, UpdateRule } from "../core/rule.js";
import { clipArrays, clipTensors, clips, type ClipOptions } from "./clip.js";
import { cpuInternals, type CpuInternals } from "./cpu.js";
import { slotArena, stagedFirstNonFinite, stagedUpdate, type SlotArena, type SlotPlace } from "./cpu-simd.js";
import type { TensorRule } from "./tensor/rule.js";
import { wasmInternals, type WasmInternals } from "./wasm/backend.js";
import { webglInternals, type WebglInternals } from "./webgl/fused.js";
import { webgpuInternals, type WebgpuInternals } from "./webgpu/fused.js";
import { scanBatched, SIMD_UPDATES, simdKernels, type SimdKernelsLike } from "./wasm/fused.js";

/**
 * Which update paths an optimizer may use:
 * - `"auto"` (default): the fastest available — for the rules that have one (AdaBelief, Adam, AdamW) the
 *   WebAssembly SIMD kernel (on the wasm backend in place on its heap; on the cpu backend with the variable
 *   and its slots in a wasm memory of the library's own, the gradient staged through it) or, on the WebGL
 *   and WebGPU backends, fused shader programs; otherwise the core loop in place (on the cpu backend's
 *   storage, on views of the wasm heap), and tensor ops on other backends;
 * - `"loop"`: never the SIMD kernel nor the shader programs (the core loop, bit-identical to the core, on
 *   cpu and wasm; tensor ops elsewhere);
 * - `"tensor"`: always tensor ops (the generic path; useful to compare).
 */
export type KernelChoice = "auto" | "loop" | "tensor";

/** The update path a step took. */
export type UpdatePath = "cpu" | "cpu-simd" | "wasm-simd" | "wasm-loop" | "webgl" | "webgpu" | "tensor";

/** A trained variable and its state slots (in the rule's slot order). */
export interface Entry {
  readonly variable: tf.Variable;
  slots: tf.Tensor[];
}

/** One variable's part of a step. */
export interface Work {
  readonly entry: Entry;
  readonly grad: tf.Tensor;
  /** The step scalars and slot initial values of the variable's parameter group, when not the context's. */
  readonly group?: GroupStep;
}

/** A parameter group's part of a step: its scalars (computed once per step) and its slots' initial values. */
export interface GroupStep {
  /** The rule's scalars for the group's variables (`coefficients` of the group's options). */
  readonly c: unknown;
  /** The initial value of each of the group's slots. */
  readonly slotInit: readonly number[];
}

/** The step scalars of a variable: its parameter group's, else the context's. */
export function scalarsOf<C>(w: Work, ctx: StepContext<C>): C {
  return w.group ? (w.group.c as C) : ctx.c;
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
  | { kind: "cpu"; cpu: CpuInternals; simd: SlotArena | null }
  | { kind: "wasm"; wasm: WasmInternals; simd: SimdKernelsLike | null }
  | { kind: "webgl"; gl: WebglInternals }
  | { kind: "webgpu"; gpu: WebgpuInternals }
  | { kind: "tensor" };

/** Chooses the route for the current backend (feature-detected; `tensor` when nothing else fits). */
export function selectRoute(kernel: KernelChoice): Route {
  if (kernel === "tensor") return { kind: "tensor" };
  const name = tf.getBackend();
  const backend = tf.backend();
  if (name === "cpu") {
    const cpu = cpuInternals(backend);
    if (cpu) return { kind: "cpu", cpu, simd: kernel === "auto" ? slotArena(cpu) : null };
  } else if (name === "wasm") {
    const wasm = wasmInternals(backend);
    if (wasm) {
      // The SIMD kernels also scan gradients for NaN/Infinity, so they are used for every rule.
      const simd = kernel === "auto" ? simdKernels(wasm.memory) : null;
      return { kind: "wasm", wasm, simd };
    }
  } else if (name === "webgl" && kernel === "auto") {
    const gl = webglInternals(backend);
    if (gl) return { kind: "webgl", gl };
  } else if (name === "webgpu" && kernel === "auto") {
    const gpu = webgpuInternals(backend);
    if (gpu) return { kind: "webgpu", gpu };
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
  if (route.kind === "webgl" || route.kind === "webgpu") return scanGrouped(grads);
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
  // The wasm SIMD route scans eight gradients side by side first (faster from memory); only from the
  // first group holding a hit, if any, does the per-gradient search below run.
  let start = 0;
  if (route.kind === "wasm" && route.simd) {
    const offsets = grads.map((g) => (g.size === 0 ? 0 : route.wasm.offsetOf(g.dataId)));
    if (offsets.every((o) => o >= 0)) {
      start = scanBatched(
        route.simd,
        offsets,
        grads.map((g) => g.size),
      );
      if (start < 0) return null;
    }
  }
  for (let i = start; i < grads.length; i++) {
    const g = grads[i]!;
    if (g.size === 0) continue;
    let hit: NonFiniteHit | null;
    if (route.kind === "cpu") {
      const values = route.cpu.values(g.dataId, g.size) ?? g.dataSync();
      const region = route.simd?.scratch();
      if (region && values instanceof Float32Array) {
        const at = stagedFirstNonFinite(region, values);
        hit = at >= 0 ? { index: i, at, value: values[at]! } : null;
      } else hit = hitIn(values, i);
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

/** Gradients per group of the GPU scan, and elements per group (the concatenated copy is a temporary). */
const SCAN_GROUP = 64;
const SCAN_GROUP_ELEMENTS = 1 << 22;

/**
 * The non-finite scan on a GPU backend, where every op is a draw and the read-back a sync: the gradients
 * are concatenated in groups (at most {@link SCAN_GROUP} tensors and {@link SCAN_GROUP_ELEMENTS} elements
 * each, a bounded temporary), one "all finite" flag per group, one read-back of the flags; the offending
 * element is located only when there is one.
 */
function scanGrouped(grads: readonly tf.Tensor[]): NonFiniteHit | null {
  const groups: number[][] = [];
  let size = Infinity;
  grads.forEach((g, i) => {
    if (g.size === 0) return;
    if (
      groups.length === 0 ||
      groups[groups.length - 1]!.length >= SCAN_GROUP ||
      size + g.size > SCAN_GROUP_ELEMENTS
    ) {
      groups.push([]);
      size = 0;
    }
    groups[groups.length - 1]!.push(i);
    size += g.size;
  });
  if (groups.length === 0) return null;
  const finite = tf.tidy(() =>
    tf
      .stack(
        groups.map((ids) =>
          tf.all(
            tf.isFinite(
              ids.length === 1 ? grads[ids[0]!]! : tf.concat(ids.map((i) => tf.reshape(grads[i]!, [-1]))),
            ),
          ),
        ),
      )
      .dataSync(),
  );
  for (let k = 0; k < groups.length; k++) {
    if (finite[k] !== 0) continue;
    for (const i of groups[k]!) {
      const hit = hitIn(grads[i]!.dataSync(), i);
      if (hit) return hit;
    }
  }
  return null;
}

/** Whether every buffer of the step is reachable by the fused route (else the whole step uses tensor ops). */
export function canFuse(route: Route, works: readonly Work[]): boolean {
  if (route.kind === "tensor") return false;
  // A GPU backend moves data it lacks to itself, as for any op.
  if (route.kind === "webgl" || route.kind === "webgpu") return true;
  const ok = (t: tf.Tensor) =>
    t.size === 0 ||
    (route.kind === "cpu" ? route.cpu.values(t.dataId, t.size) !== null : route.wasm.offsetOf(t.dataId) >= 0);
  return works.every((w) => ok(w.grad) && ok(w.entry.variable) && w.entry.slots.every(ok));
}

export function createSlots(works: readonly Work[], init: readonly number[]): void {
  for (const w of works) {
    const own = w.group?.slotInit ?? init;
    if (w.entry.slots.length === 0 && own.length > 0) {
      const v = w.entry.variable;
      w.entry.slots = own.map((x) => tf.keep(tf.fill(v.shape, x, "float32")));
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

/**
 * Puts each variable and its slots in the SIMD arena, all in one wasm memory, and returns their places
 * (`null` for a variable that could not be placed: it then takes the core loop). What is not there yet —
 * or is there but shared with another tensor, or split over memories — is copied there: slots are created
 * there with their initial values, or replaced by copies (the replaced tensors are pushed to `retired`, to
 * be disposed after the step: one may be a gradient of this step); a variable is assigned a copy of its
 * value (`assign`: the same `tf.Variable`, new data). From then on both are updated in place.
 */
function placeInArena(
  arena: SlotArena,
  works: readonly Work[],
  initOf: readonly number[],
  live: (t: tf.Tensor) => Float32Array,
  retired: tf.Tensor[],
): (SlotPlace | null)[] {
  return works.map((w) => {
    const init = w.group?.slotInit ?? initOf;
    const e = w.entry;
    const v = e.variable;
    if (v.size === 0) return null;
    if (e.slots.length === init.length) {
      const place = arena.place([v, ...e.slots]);
      if (place) return place;
    }
    const old = e.slots;
    const made = arena.allocate(1 + init.length, v.shape, (k, view) => {
      if (k === 0) view.set(live(v));
      else if (old.length > 0) view.set(live(old[k - 1]!));
      else view.fill(init[k - 1]!); // a reused block holds old data
    });
    if (!made) return null;
    const [theta, ...slots] = made.tensors;
    v.assign(theta!);
    theta!.dispose();
    ownedCpu.add(v.dataId);
    e.slots = slots;
    retired.push(...old);
    return made.place;
  });
}

/**
 * The fused cpu step: for a rule with a SIMD kernel (and `kernel: "auto"`), the kernel on the variable and
 * its slots kept in a wasm memory of the library's own, the gradient staged through it (see `./cpu-simd.ts`);
 * otherwise the core loop in place on the tensors' live `Float32Array`s.
 */
export function runCpu<C>(
  cpu: CpuInternals,
  works: readonly Work[],
  ctx: StepContext<C>,
  arena: SlotArena | null = null,
): UpdatePath {
  const live = (t: tf.Tensor) => (t.size === 0 ? new Float32Array(0) : cpu.values(t.dataId, t.size)!);
  const simdUpdate = arena ? SIMD_UPDATES[ctx.rule.name] : undefined;
  const retired: tf.Tensor[] = [];
  const places = arena && simdUpdate ? placeInArena(arena, works, ctx.slotInit, live, retired) : null;
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
  let path: UpdatePath = "cpu";
  works.forEach((w, i) => {
    const place = places?.[i];
    if (place && simdUpdate && stagedUpdate(simdUpdate, place, grads[i]!, scalarsOf(w, ctx))) {
      path = "cpu-simd";
      return;
    }
    ctx.rule.update(live(w.entry.variable), grads[i]!, w.entry.slots.map(live), scalarsOf(w, ctx));
  });
  for (const s of retired) {
    s.dispose();
    arena!.forget(s.dataId);
  }
  return path;
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
      if (
        simdUpdate(
          simd,
          wasm.offsetOf(v.dataId),
          wasm.offsetOf(g.dataId),
          offs,
          v.size,
          scalarsOf(works[i]!, ctx),
        )
      ) {
        path = "wasm-simd";
        continue;
      }
    }
    ctx.rule.update(view(v), view(g), slots.map(view), scalarsOf(works[i]!, ctx));
  }
  for (const t of temps) t.dispose();
  return path;
}

/**
 * The gradients of a tensor-op step, each safe to read after earlier variables of the step were updated:
 * that step replaces each variable's data (`assign`) and disposes its old slots one variable after another,
 * so a gradient that *is* one of the step's variables (`{w1: w2}`) or slots (as `getWeights` hands them out)
 * is replaced by a clone taken now, which keeps the values from before the step (a clone shares or copies
 * the data; it does not follow the variable's `assign`, and keeps the data alive when the slot is
 * disposed). Call inside `tidy` (the clones are temporaries).
 */
export function readBeforeWrite(works: readonly Work[], grads: readonly tf.Tensor[]): tf.Tensor[] {
  const written = new Set<tf.Tensor>();
  for (const w of works) {
    written.add(w.entry.variable);
    for (const s of w.entry.slots) written.add(s);
  }
  return grads.map((g) => (written.has(g) ? tf.clone(g) : g));
}

/**
 * The tensor-op step (any backend). An elementwise rule runs once over all variables concatenated (a
 * handful of ops whatever the number of variables), except on the wasm backend, whose slices are too slow
 * for it; otherwise one `tidy` per variable. New slot tensors replace the old ones. Every gradient is read
 * as it was before the step, even one that is a variable or a slot the step writes (see
 * {@link readBeforeWrite}).
 */
export function runTensor<C>(works: readonly Work[], ctx: StepContext<C>): void {
  createSlots(works, ctx.slotInit);
  tf.tidy(() => {
    const given = readBeforeWrite(
      works,
      works.map((w) => w.grad),
    );
    const grads = clips(ctx.clip) ? clipTensors(given, ctx.clip) : given;
    const live = works.map((w, i) => ({ w, g: grads[i]! })).filter(({ w }) => w.entry.variable.size > 0);
    // The wasm backend's slice reads the whole source each time: batching would cost O(variables²) there.
    // A batch holds the variables of one parameter group (one set of scalars).
    let single = live;
    if (ctx.tensorRule.elementwise && live.length > 1 && tf.getBackend() !== "wasm") {
      const parts = new Map<GroupStep | undefined, typeof live>();
      for (const x of live) {
        const part = parts.get(x.w.group);
        if (part) part.push(x);
        else parts.set(x.w.group, [x]);
      }
      single = [];
      for (const part of parts.values()) {
        if (part.length > 1) runBatched(part, ctx);
        else single.push(...part);
      }
    }
    for (const { w, g } of single) {
      const v = w.entry.variable;
      const old = w.entry.slots;
      const next = tf.tidy(() => {
        const r = ctx.tensorRule.update(v, g, old, scalarsOf(w, ctx));
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
    scalarsOf(live[0]!.w, ctx),
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
