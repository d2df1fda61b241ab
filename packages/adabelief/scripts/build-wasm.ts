/**
 * Generates the WebAssembly text of the SIMD update kernels (`src/tfjs/wasm/simd.wat`) and compiles it
 * with wabt into `src/tfjs/wasm/simd-bytes.ts`, the bytes the library loads at run time (wabt is a
 * devDependency only).
 *
 * Run `npx tsx scripts/build-wasm.ts` after changing this file; `test/tfjs/simd.test.ts` fails when the
 * committed `.wat` or bytes differ from what this generator produces.
 *
 * Why a generator instead of a hand-written `.wat`: the vector loop is unrolled {@link UNROLL} times and
 * every kernel has a scalar tail doing the same arithmetic on `f32`; writing the text once per lane type
 * keeps the copies identical by construction.
 *
 * Design (see also `src/tfjs/wasm/simd.ts`):
 * - the module imports `env.memory` (no maximum) and updates float32 arrays at byte offsets in place; a
 *   second build of the same text imports a shared memory (`simdWat(true)`), for the threaded wasm backend;
 * - one pass over memory, no temporaries, loop bodies without branches: options that change the math
 *   (L2 term, AMSGrad denominator, AdaBelief's Adaptive / Sgd / None modes) are 0/1 flags turned into lane
 *   masks before the loop and applied with `v128.bitselect` (`select` in the tail). A mask picks between
 *   two computed values, so a flag that is off changes nothing bit for bit (no `0·θ` that could turn an
 *   infinite θ into NaN). Masks keep the module small: per-mode and per-option copies of the loop (14
 *   AdaBelief variants) would push it past 4 KB, the largest module Chrome compiled synchronously on the
 *   main thread for years (Electron and Android WebViews may still enforce it), and the kernels'
 *   interface is synchronous. The masks and the extra live vectors cost about 40 % in cache (the loop
 *   is otherwise bound by the f32x4 √ and ÷, ~0.8 ns per element here, and by memory), so the common
 *   case — Adaptive mode, no L2 term, no AMSGrad slot — has its own mask-free copy,
 *   `adabeliefAdaptive`;
 * - division by √(1−β2^t) is a multiplication by its reciprocal, computed once in double.
 */
import { renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** Float32x4 vectors per iteration of the unrolled vector loop (so `4·UNROLL` elements). */
export const UNROLL = 2;

/** Where the generated files go, relative to the repository root. */
export const WAT_PATH = "src/tfjs/wasm/simd.wat";
/** The generated TypeScript module holding the compiled bytes. */
export const BYTES_PATH = "src/tfjs/wasm/simd-bytes.ts";

/**
 * Text of the tiny module used to feature-detect WebAssembly SIMD: instructions of the final SIMD
 * specification that the kernels use (`v128.any_true` got its final opcode late, so pre-standard
 * prototypes reject it).
 */
export const PROBE_WAT = `(module
  (func (result i32)
    (v128.any_true (f32x4.max (v128.const i32x4 0 0 0 0) (f32x4.sqrt (v128.const i32x4 0 0 0 0))))))
`;

/** One lane type: the same kernel text is written once for f32x4 vectors and once for scalar f32. */
interface Lane {
  /** Prefix of this lane's locals (`v` vectors, `f` scalars). */
  readonly p: "v" | "f";
  /** Bytes per load. */
  readonly bytes: number;
  load(array: string, offset: number): string;
  store(array: string, offset: number, value: string): string;
  op(name: "add" | "sub" | "mul" | "div" | "max", a: string, b: string): string;
  sqrt(a: string): string;
  /** A coefficient (a splatted local for vectors, the f32 parameter for scalars). */
  c(name: string): string;
  /** `flag ? a : b` lane-wise, `flag` being one of the 0/1 i32 parameters. */
  sel(a: string, b: string, flag: string): string;
}

const addr = (array: string) => `(i32.add (local.get $${array}) (local.get $i))`;
const off = (offset: number) => (offset === 0 ? "" : ` offset=${offset}`);

const VECTOR: Lane = {
  p: "v",
  bytes: 16,
  load: (a, o) => `(v128.load${off(o)} ${addr(a)})`,
  store: (a, o, v) => `(v128.store${off(o)} ${addr(a)} ${v})`,
  op: (name, a, b) => `(f32x4.${name} ${a} ${b})`,
  sqrt: (a) => `(f32x4.sqrt ${a})`,
  c: (name) => `(local.get $v${name})`,
  sel: (a, b, flag) => `(v128.bitselect ${a} ${b} (local.get $k${flag}))`,
};

const SCALAR: Lane = {
  p: "f",
  bytes: 4,
  load: (a, o) => `(f32.load${off(o)} ${addr(a)})`,
  store: (a, o, v) => `(f32.store${off(o)} ${addr(a)} ${v})`,
  op: (name, a, b) => `(f32.${name} ${a} ${b})`,
  sqrt: (a) => `(f32.sqrt ${a})`,
  c: (name) => (name === "one" ? "(f32.const 1)" : `(local.get $${name})`),
  sel: (a, b, flag) => `(select ${a} ${b} (local.get $${flag}))`,
};

/** The update formulas, written once for both lane types. */
type Body = (L: Lane, o: number) => string[];

function locals(L: Lane) {
  const get = (n: string) => `(local.get $${L.p}${n})`;
  const set = (n: string, v: string) => `(local.set $${L.p}${n} ${v})`;
  return { get, set };
}

/**
 * AdaBelief, mirroring `adabeliefRule.update` operation for operation (`general = false`: the Adaptive
 * mode without L2 term, so no masks: θ ← θ·decay; …; θ ← θ + (step·m)/(√s·inv + ε)):
 * θ ← θ·decay; g ← g + l2·θ (flag l2); m ← β1·m + (1−β1)·g; r = g − m; s ← β2·s + ((1−β2)·r)·r; s ← s + ε;
 * x ← max(x, s) (max variant; NaN-propagating like Math.max); d = useMax ? x : s;
 * θ ← move ? θ + (step·m)/(adaptive ? √d·inv + ε : 1) : θ.
 */
export function adabeliefBody(withMax: boolean, general = true): Body {
  return (L, o) => {
    const { get, set } = locals(L);
    const lines = [
      set("th", L.op("mul", L.load("t", o), L.c("decay"))),
      set("gr", L.load("g", o)),
      ...(general
        ? [set("gr", L.sel(L.op("add", get("gr"), L.op("mul", L.c("l2"), get("th"))), get("gr"), "l2on"))]
        : []),
      set("mm", L.op("add", L.op("mul", L.c("b1"), L.load("m", o)), L.op("mul", L.c("ob1"), get("gr")))),
      L.store("m", o, get("mm")),
      set("r", L.op("sub", get("gr"), get("mm"))),
      set("ss", L.op("mul", L.c("b2"), L.load("s", o))),
      set(
        "ss",
        L.op(
          "add",
          L.op("add", get("ss"), L.op("mul", L.op("mul", L.c("ob2"), get("r")), get("r"))),
          L.c("eps"),
        ),
      ),
      L.store("s", o, get("ss")),
    ];
    if (withMax) {
      lines.push(
        set("xx", L.load("x", o)),
        set("xx", L.op("max", get("xx"), get("ss"))),
        L.store("x", o, get("xx")),
        set("ss", L.sel(get("xx"), get("ss"), "usemax")),
      );
    }
    const adaptiveDen = L.op("add", L.op("mul", L.sqrt(get("ss")), L.c("inv")), L.c("eps"));
    const den = general ? L.sel(adaptiveDen, L.c("one"), "adaptive") : adaptiveDen;
    const moved = L.op("add", get("th"), L.op("div", L.op("mul", L.c("step"), get("mm")), den));
    lines.push(L.store("t", o, general ? L.sel(moved, get("th"), "move") : moved));
    return lines;
  };
}

/**
 * Adam, mirroring `adamRule.update` operation for operation:
 * θ ← θ·decay; g ← g + l2·θ (flag l2); m ← β1·m + (1−β1)·g; v ← β2·v + ((1−β2)·g)·g;
 * x ← max(x, v) and v̂ = x (max variant; NaN-propagating like Math.max); θ ← θ + (step·m)/(√v̂·inv + ε).
 */
function adamBody(withMax: boolean): Body {
  return (L, o) => {
    const { get, set } = locals(L);
    const lines = [
      set("th", L.op("mul", L.load("t", o), L.c("decay"))),
      set("gr", L.load("g", o)),
      set("gr", L.sel(L.op("add", get("gr"), L.op("mul", L.c("l2"), get("th"))), get("gr"), "l2on")),
      set("mm", L.op("add", L.op("mul", L.c("b1"), L.load("m", o)), L.op("mul", L.c("ob1"), get("gr")))),
      L.store("m", o, get("mm")),
      set("ss", L.op("mul", L.c("b2"), L.load("s", o))),
      set("ss", L.op("add", get("ss"), L.op("mul", L.op("mul", L.c("ob2"), get("gr")), get("gr")))),
      L.store("s", o, get("ss")),
    ];
    if (withMax) {
      lines.push(set("ss", L.op("max", L.load("x", o), get("ss"))), L.store("x", o, get("ss")));
    }
    const den = L.op("add", L.op("mul", L.sqrt(get("ss")), L.c("inv")), L.c("eps"));
    lines.push(
      L.store("t", o, L.op("add", get("th"), L.op("div", L.op("mul", L.c("step"), get("mm")), den))),
    );
    return lines;
  };
}

const COEFS = ["decay", "l2", "b1", "ob1", "b2", "ob2", "eps", "step", "inv"] as const;
const TEMPS = ["th", "gr", "mm", "r", "ss", "xx"] as const;

/** One exported kernel: splat prologue, unrolled f32x4 loop, scalar tail. */
export function kernel(name: string, flags: readonly string[], body: Body, unroll = UNROLL): string {
  const ind = (n: number, lines: string[]) => lines.map((l) => " ".repeat(n) + l);
  const params = [
    ...["t", "g", "m", "s", "x", "n"].map((p) => `(param $${p} i32)`),
    ...COEFS.map((c) => `(param $${c} f32)`),
    ...flags.map((f) => `(param $${f} i32)`),
  ];
  const decls = [
    "(local $i i32) (local $end i32)",
    [...COEFS, "one"].map((c) => `(local $v${c} v128)`).join(" "),
    flags.map((f) => `(local $k${f} v128)`).join(" "),
    TEMPS.map((t) => `(local $v${t} v128)`).join(" "),
    TEMPS.map((t) => `(local $f${t} f32)`).join(" "),
  ];
  const prologue = [
    ...COEFS.map((c) => `(local.set $v${c} (f32x4.splat (local.get $${c})))`),
    "(local.set $vone (f32x4.splat (f32.const 1)))",
    // flag 1 → all-ones lanes, 0 → zero lanes.
    ...flags.map((f) => `(local.set $k${f} (i32x4.splat (i32.sub (i32.const 0) (local.get $${f}))))`),
  ];
  const step = VECTOR.bytes * unroll;
  const vbody: string[] = [];
  for (let u = 0; u < unroll; u++) vbody.push(...body(VECTOR, u * VECTOR.bytes));
  return [
    `(func (export "${name}")`,
    ...ind(2, params),
    ...ind(2, decls),
    ...ind(2, prologue),
    `  ;; vector part: the first n·4 rounded down to ${step} bytes, ${unroll} × f32x4 per iteration`,
    `  (local.set $end (i32.and (i32.shl (local.get $n) (i32.const 2)) (i32.const -${step})))`,
    "  (block $vdone",
    "    (br_if $vdone (i32.eqz (local.get $end)))",
    "    (loop $vloop",
    ...ind(6, vbody),
    `      (local.set $i (i32.add (local.get $i) (i32.const ${step})))`,
    "      (br_if $vloop (i32.lt_u (local.get $i) (local.get $end)))))",
    "  ;; scalar tail: the same arithmetic on f32",
    "  (local.set $end (i32.shl (local.get $n) (i32.const 2)))",
    "  (block $fdone",
    "    (loop $floop",
    "      (br_if $fdone (i32.ge_u (local.get $i) (local.get $end)))",
    ...ind(6, body(SCALAR, 0)),
    "      (local.set $i (i32.add (local.get $i) (i32.const 4)))",
    "      (br $floop))))",
  ].join("\n");
}

/**
 * Independent streams of the non-finite scan: the gradient is read as {@link SCAN_STREAMS} equal segments
 * side by side, one vector of each per iteration. A single sequential stream is limited by memory latency
 * (one core keeps too few cache-line requests in flight): on the 2-core machine of the benchmark, reading
 * 40 MB from memory took ~3.4–4 ms as one stream and ~2.7 ms as eight.
 */
export const SCAN_STREAMS = 8;

/**
 * firstNonFinite(p, n): index of the first element whose exponent bits are all ones (NaN, ±∞), or −1.
 * The vector part reads {@link SCAN_STREAMS} segments of `q` bytes (q = n·4 rounded down to a multiple of
 * 16·streams, divided by the streams) side by side, masking each vector's exponent bits and keeping their
 * unsigned lane-wise maximum: that maximum equals 0x7f800000 exactly when some element's exponent is all
 * ones, so one compare and one branch serve a vector of every stream. A hit anywhere (the error path)
 * restarts the scalar loop from element 0, which then returns the first hit; otherwise the scalar loop
 * only covers the tail past the segments.
 */
function firstNonFinite(): string {
  const streams = SCAN_STREAMS;
  const at = (k: number) =>
    k === 0
      ? "(i32.add (local.get $p) (local.get $i))"
      : `(i32.add (i32.add (local.get $p) (local.get $i)) (i32.mul (local.get $q) (i32.const ${k})))`;
  const exp = (k: number) => `(v128.and (v128.load ${at(k)}) (local.get $vexp))`;
  let acc = exp(0);
  for (let k = 1; k < streams; k++) acc = `(i32x4.max_u ${acc} ${exp(k)})`;
  return [
    `(func (export "firstNonFinite") (param $p i32) (param $n i32) (result i32)`,
    "  (local $i i32) (local $q i32) (local $vexp v128)",
    "  (local.set $vexp (i32x4.splat (i32.const 0x7f800000)))",
    `  ;; vector scan of ${streams} segments of q bytes side by side`,
    `  (local.set $q (i32.shl (i32.shr_u (local.get $n) (i32.const ${Math.log2(4 * streams)})) (i32.const 4)))`,
    "  (block $vdone",
    "    (loop $vloop",
    "      (br_if $vdone (i32.ge_u (local.get $i) (local.get $q)))",
    `      (if (v128.any_true (i32x4.eq ${acc} (local.get $vexp)))`,
    "        (then (local.set $q (i32.const 0)) (br $vdone)))",
    "      (local.set $i (i32.add (local.get $i) (i32.const 16)))",
    "      (br $vloop)))",
    `  ;; scalar: the tail past the segments, or everything from 0 after a hit (q was set to 0)`,
    `  (local.set $i (i32.mul (local.get $q) (i32.const ${streams})))`,
    "  (local.set $q (i32.shl (local.get $n) (i32.const 2)))",
    "  (block $fdone",
    "    (loop $floop",
    "      (br_if $fdone (i32.ge_u (local.get $i) (local.get $q)))",
    "      (if (i32.eq (i32.and (i32.load (i32.add (local.get $p) (local.get $i))) (i32.const 0x7f800000))",
    "                  (i32.const 0x7f800000))",
    "        (then (return (i32.shr_u (local.get $i) (i32.const 2)))))",
    "      (local.set $i (i32.add (local.get $i) (i32.const 4)))",
    "      (br $floop)))",
    "  (i32.const -1))",
  ].join("\n");
}

/**
 * anyNonFinite8(p0, …, p7, n): 1 when one of the eight arrays of n float32 values at byte offsets p0…p7 has
 * a NaN or ±Infinity, else 0. The arrays are read side by side, one vector of each per iteration: eight long
 * sequential streams, which the hardware prefetches better than {@link firstNonFinite}'s segments of one
 * short array (200 gradients of 5,000 values from memory: ~0.35 ms this way, ~0.45–0.5 ms one at a time).
 * The caller then locates the first hit with `firstNonFinite` (the error path).
 */
function anyNonFinite8(): string {
  const ptrs = Array.from({ length: 8 }, (_, k) => `$p${k}`);
  const exp = (p: string, load: "v128" | "i32") =>
    load === "v128"
      ? `(v128.and (v128.load (i32.add (local.get ${p}) (local.get $i))) (local.get $vexp))`
      : `(i32.and (i32.load (i32.add (local.get ${p}) (local.get $i))) (i32.const 0x7f800000))`;
  let acc = exp(ptrs[0]!, "v128");
  for (const p of ptrs.slice(1)) acc = `(i32x4.max_u ${acc} ${exp(p, "v128")})`;
  return [
    `(func (export "anyNonFinite8") ${ptrs.map((p) => `(param ${p} i32)`).join(" ")} (param $n i32) (result i32)`,
    "  (local $i i32) (local $end i32) (local $vexp v128)",
    "  (local.set $vexp (i32x4.splat (i32.const 0x7f800000)))",
    "  (local.set $end (i32.and (i32.shl (local.get $n) (i32.const 2)) (i32.const -16)))",
    "  (block $vdone",
    "    (loop $vloop",
    "      (br_if $vdone (i32.ge_u (local.get $i) (local.get $end)))",
    `      (if (v128.any_true (i32x4.eq ${acc} (local.get $vexp))) (then (return (i32.const 1))))`,
    "      (local.set $i (i32.add (local.get $i) (i32.const 16)))",
    "      (br $vloop)))",
    "  ;; scalar tail: the last n mod 4 values of each array",
    "  (local.set $end (i32.shl (local.get $n) (i32.const 2)))",
    "  (block $fdone",
    "    (loop $floop",
    "      (br_if $fdone (i32.ge_u (local.get $i) (local.get $end)))",
    ...ptrs.map(
      (p) => `      (if (i32.eq ${exp(p, "i32")} (i32.const 0x7f800000)) (then (return (i32.const 1))))`,
    ),
    "      (local.set $i (i32.add (local.get $i) (i32.const 4)))",
    "      (br $floop)))",
    "  (i32.const 0))",
  ].join("\n");
}

/**
 * The memory import of the kernel module. The default imports a plain memory without a maximum; `shared`
 * imports a shared memory (what TensorFlow.js's threaded wasm backend has under a cross-origin-isolated
 * page), which must declare a maximum: 65536 pages (4 GiB), so any shared memory matches the import.
 */
export function memoryImport(shared = false): string {
  return shared ? '(import "env" "memory" (memory 0 65536 shared))' : '(import "env" "memory" (memory 0))';
}

/**
 * The complete text of the kernel module. Deterministic: the committed `simd.wat` (the plain-memory
 * module) must equal `simdWat()`; `simdWat(true)` is the same module importing a shared memory.
 */
export function simdWat(shared = false): string {
  const ab = ["l2on", "adaptive", "move", "usemax"];
  const funcs = [
    // The general and AMSGrad kernels unrolled once only (measured no slower): room in the 4 KB for the scan.
    kernel("adabelief", ab, adabeliefBody(false), 1),
    // The common case (decoupled or no decay, no AMSGrad slot, past the warm-up) without masks: with
    // fewer live vectors it runs ~1.6× faster in cache.
    kernel("adabeliefAdaptive", ab, adabeliefBody(false, false)),
    kernel("adabeliefMax", ab, adabeliefBody(true), 1),
    kernel("adam", ["l2on"], adamBody(false)),
    kernel("adamMax", ["l2on"], adamBody(true), 1),
    firstNonFinite(),
    anyNonFinite8(),
  ];
  return [
    ";; GENERATED by scripts/build-wasm.ts: do not edit; run `npx tsx scripts/build-wasm.ts`.",
    ";; In-place SIMD update kernels on float32 arrays of the imported memory (byte offsets, n elements).",
    ";; Parameters: t θ, g gradient, m first moment, s second moment (AdaBelief s, Adam v), x its maximum",
    ";; (AMSGrad; ignored by the non-Max kernels), n length; coefficients as f32; 0/1 flags.",
    "(module",
    `  ${memoryImport(shared)}`,
    ...funcs.map((f) => f.replace(/^/gm, "  ")),
    ")",
    "",
  ].join("\n");
}

/** Compiles WebAssembly text with wabt (SIMD and threads enabled). Build- and test-time only. */
export async function compileWat(text: string, name = "simd.wat"): Promise<Uint8Array> {
  const { default: initWabt } = await import("wabt");
  const wabt = await initWabt();
  const features = { simd: true, threads: true };
  const mod = wabt.parseWat(name, text, features);
  try {
    // wabt validates with the features given to validate (its typings omit the parameter).
    (mod.validate as (f: typeof features) => void)(features);
    return new Uint8Array(mod.toBinary({ canonicalize_lebs: true }).buffer);
  } finally {
    mod.destroy();
  }
}

const base64Lines = (bytes: Uint8Array) =>
  (
    Buffer.from(bytes)
      .toString("base64")
      .match(/.{1,100}/g) ?? []
  )
    .map((l) => `  "${l}"`)
    .join(" +\n") + ";";

/** The text of `simd-bytes.ts` for the given compiled kernel modules (plain and shared memory) and probe. */
export function bytesModule(kernels: Uint8Array, probe: Uint8Array, shared: Uint8Array): string {
  return [
    "// GENERATED by scripts/build-wasm.ts from simd.wat: do not edit; run `npx tsx scripts/build-wasm.ts`.",
    "",
    `/** The compiled SIMD kernel module (${kernels.length} bytes), base64. Source: \`simd.wat\`. */`,
    "export const SIMD_KERNELS_BASE64 =",
    base64Lines(kernels),
    "",
    `/**`,
    ` * The same module importing a shared memory (${shared.length} bytes), base64: for the threaded wasm backend.`,
    ` * Source: \`simd.wat\` with the memory import \`${memoryImport(true)}\`.`,
    ` */`,
    "export const SIMD_KERNELS_SHARED_BASE64 =",
    base64Lines(shared),
    "",
    "/** A tiny module using f32x4 instructions: `WebAssembly.validate` on it tells whether SIMD is available. */",
    `export const SIMD_PROBE_BYTES: readonly number[] = [${Array.from(probe).join(", ")}];`,
    "",
  ].join("\n");
}

function writeAtomically(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

async function main(): Promise<void> {
  const root = join(dirname(fileURLToPath(import.meta.url)), "..");
  const wat = simdWat();
  const kernels = await compileWat(wat);
  const shared = await compileWat(simdWat(true), "simd-shared.wat");
  const probe = await compileWat(PROBE_WAT, "probe.wat");
  writeAtomically(join(root, WAT_PATH), wat);
  const { format } = await import("prettier");
  const ts = await format(bytesModule(kernels, probe, shared), { parser: "typescript", printWidth: 110 });
  writeAtomically(join(root, BYTES_PATH), ts);
  console.log(
    `wrote ${WAT_PATH} and ${BYTES_PATH}: kernels ${kernels.length} bytes (shared-memory variant ${shared.length}), probe ${probe.length} bytes`,
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
