/**
 * The page's whole state and its text form in the URL's query string, so that a view can be shared and a
 * reload restores it. Pure functions: no DOM.
 *
 * Query parameters: `fn` (function id), `x`, `y` (start point), `steps` (run length), `at` (step shown),
 * `noise` (σ of the Gaussian gradient noise, 0 = exact gradients), `seed` (noise seed), `opt` (the ticked
 * entries, comma-separated), and for every entry, ticked or not, its hyper-parameters as `short:value`
 * pairs, e.g. `adabelief=lr:0.1,b1:0.9,b2:0.999,eps:1e-8,rect:0`. Flags are 1/0. An entry is one of the
 * nine optimizers (keyed by its id) or a copy of one with its own settings (`adabelief-2`, `adam-3`, …).
 */
import { findFunction, FUNCTIONS, type FunctionId } from "./functions.js";
import {
  COPY_STYLES,
  findOptimizer,
  OPTIMIZERS,
  type HyperValue,
  type HyperValues,
  type LineStyle,
  type OptimizerId,
} from "./optimizers.js";
import { DEFAULT_PRESET, stateOfPreset } from "./presets.js";

/** Longest run the page computes. */
export const MAX_STEPS = 5000;
/** Largest noise σ accepted. */
export const MAX_NOISE = 1e6;
/**
 * Largest |x| or |y| of a start point. Farther out, every function's gradient is astronomically large
 * (Beale's grows like x·y⁵) and no run says anything about the optimizers.
 */
export const MAX_START = 1000;
/** Most copies ("AdaBelief 2", …) at once, over all optimizers: one per {@link COPY_STYLES} colour. */
export const MAX_COPIES = COPY_STYLES.length;

/** One line of the race: one of the nine optimizers, or a copy of one with its own settings. */
export interface Entry {
  /** `adabelief` for the optimizer itself, `adabelief-2`, `adabelief-3`, … for its copies. */
  key: string;
  optimizer: OptimizerId;
  /** Ticked: it runs and is drawn. */
  on: boolean;
  /** Its hyper-parameters, keyed by core option name. */
  hyper: HyperValues;
}

/** Everything that determines what the page shows. */
export interface DemoState {
  /** The function optimised. */
  fn: FunctionId;
  /** Start point (x, y), each within ±{@link MAX_START}. */
  start: [number, number];
  /** Run length N: every ticked entry takes N steps. 1 … {@link MAX_STEPS}. */
  steps: number;
  /** The step shown, 0 … `steps`. */
  at: number;
  /** σ of the Gaussian noise added to each gradient coordinate; 0 gives exact gradients. */
  noise: number;
  /** Seed of the noise (an integer in [0, 2³²)). */
  seed: number;
  /** Every entry, ticked or not: the nine optimizers in the page's order, each followed by its copies. */
  entries: Entry[];
}

/** The problem every entry runs on: the part of the state that is not per entry. */
export interface Problem {
  fn: FunctionId;
  start: [number, number];
  steps: number;
  noise: number;
  seed: number;
}

/** The problem part of `state`. */
export function problemOf(state: DemoState): Problem {
  return { fn: state.fn, start: state.start, steps: state.steps, noise: state.noise, seed: state.seed };
}

/** The key of copy `n` of optimizer `id` (`n` = 1 is the optimizer itself). */
export function entryKey(id: OptimizerId, n: number): string {
  return n === 1 ? id : `${id}-${n}`;
}

/** Reads an entry key: the optimizer and the copy number, or `undefined` if it is not one. */
export function parseEntryKey(key: string): { optimizer: OptimizerId; n: number } | undefined {
  const match = /^([a-z]+)(?:-([2-9]))?$/.exec(key);
  if (!match) return undefined;
  const spec = findOptimizer(match[1]!);
  if (!spec) return undefined;
  return { optimizer: spec.id, n: match[2] === undefined ? 1 : Number(match[2]) };
}

/** Entries in the page's order: the nine optimizers' order, each followed by its copies in number order. */
export function sortEntries(entries: Entry[]): Entry[] {
  const rank = (e: Entry): number => {
    const { optimizer, n } = parseEntryKey(e.key)!;
    return OPTIMIZERS.findIndex((o) => o.id === optimizer) * 100 + n;
  };
  return [...entries].sort((a, b) => rank(a) - rank(b));
}

/** The ticked entries, in order. */
export function ticked(state: DemoState): Entry[] {
  return state.entries.filter((e) => e.on);
}

/** The entry `key` of `state`. */
export function entryOf(state: DemoState, key: string): Entry | undefined {
  return state.entries.find((e) => e.key === key);
}

/** The copies in `state`, in order (every entry that is not one of the nine). */
export function copiesOf(state: DemoState): Entry[] {
  return state.entries.filter((e) => e.key !== e.optimizer);
}

/** Display name of an entry: the class name, with the copy number for a copy ("AdaBelief 2"). */
export function entryLabel(entry: Entry): string {
  const spec = findOptimizer(entry.optimizer)!;
  const n = parseEntryKey(entry.key)?.n ?? 1;
  return n === 1 ? spec.label : `${spec.label} ${n}`;
}

/**
 * The line style of an entry in `state`: the optimizer's own for the nine; for copies, the
 * {@link COPY_STYLES} in the order the copies appear.
 */
export function entryStyle(state: DemoState, entry: Entry): LineStyle {
  if (entry.key === entry.optimizer) return findOptimizer(entry.optimizer)!.style;
  const index = copiesOf(state).findIndex((e) => e.key === entry.key);
  return COPY_STYLES[Math.max(0, index) % COPY_STYLES.length]!;
}

/** The state of a fresh page: the default preset (Beale from (−2.5, −2.5), AdaBelief, Adam and SGD). */
export function defaultState(): DemoState {
  return stateOfPreset(DEFAULT_PRESET);
}

/** The shortest text that reads back to exactly the same double (keeping the sign of −0). */
const num = (v: number): string => (Object.is(v, -0) ? "-0" : String(v));

function encodeValue(v: HyperValue): string {
  if (typeof v === "boolean") return v ? "1" : "0";
  return typeof v === "number" ? num(v) : v;
}

// Characters kept as they are in the query (RFC 3986 allows them there); everything else is %-encoded.
const encode = (s: string): string => encodeURIComponent(s).replace(/%2C/g, ",").replace(/%3A/g, ":");

/** The text of one entry's hyper-parameters, `short:value` pairs. */
export function encodeHyper(id: OptimizerId, values: HyperValues): string {
  const spec = findOptimizer(id)!;
  return spec.params.map((p) => `${p.short}:${encodeValue(values[p.key]!)}`).join(",");
}

/**
 * The query string (with its leading `?`) of `state`: every setting of every entry, ticked or not, so a
 * shared link restores the whole page.
 */
export function toQuery(state: DemoState): string {
  const parts: [string, string][] = [
    ["fn", state.fn],
    ["x", num(state.start[0])],
    ["y", num(state.start[1])],
    ["steps", String(state.steps)],
    ["at", String(state.at)],
    ["noise", num(state.noise)],
    ["seed", String(state.seed)],
    [
      "opt",
      ticked(state)
        .map((e) => e.key)
        .join(","),
    ],
  ];
  for (const entry of state.entries) parts.push([entry.key, encodeHyper(entry.optimizer, entry.hyper)]);
  return "?" + parts.map(([k, v]) => `${k}=${encode(v)}`).join("&");
}

/** Result of reading a query string: the state, and one note per value that was ignored (and why). */
export interface ParsedQuery {
  state: DemoState;
  notes: string[];
}

function parseNumber(text: string): number | undefined {
  if (text.trim() === "") return undefined;
  const v = Number(text);
  return Number.isFinite(v) ? v : undefined;
}

/**
 * Reads one entry's `short:value` pairs into `hyper` (changing only what it can read); one note per
 * pair it cannot use.
 */
function readHyper(
  id: OptimizerId,
  key: string,
  text: string,
  hyper: HyperValues,
  note: (key: string, value: string, why: string) => void,
): void {
  const spec = findOptimizer(id)!;
  for (const pair of text.split(",")) {
    if (pair === "") continue;
    const colon = pair.indexOf(":");
    const short = colon < 0 ? pair : pair.slice(0, colon);
    const raw = colon < 0 ? "" : pair.slice(colon + 1);
    const param = spec.params.find((p) => p.short === short);
    const label = `${key}.${short}`;
    if (!param) {
      note(label, raw, `unknown; ${spec.label} takes ${spec.params.map((p) => p.short).join(", ")}`);
      continue;
    }
    if (param.kind === "boolean") {
      if (raw === "1" || raw === "true") hyper[param.key] = true;
      else if (raw === "0" || raw === "false") hyper[param.key] = false;
      else note(label, raw, "not 1 or 0");
    } else if (param.kind === "choice") {
      if (param.choices!.includes(raw)) hyper[param.key] = raw;
      else note(label, raw, `not one of ${param.choices!.join(", ")}`);
    } else {
      const v = parseNumber(raw);
      if (v === undefined) note(label, raw, "not a finite number");
      else hyper[param.key] = v;
    }
  }
}

/**
 * Reads a query string (with or without `?`). Missing values take those of {@link defaultState};
 * values that cannot be read are ignored with a note. Hyper-parameters that are numbers but out of range
 * are kept: the core rejects them with its own message, which the page shows next to the field.
 */
export function fromQuery(query: string): ParsedQuery {
  const q = new URLSearchParams(query);
  const state = defaultState();
  const notes: string[] = [];
  const note = (key: string, value: string, why: string): void => {
    notes.push(`ignored ${key}=${value}: ${why}`);
  };

  const fnText = q.get("fn");
  if (fnText !== null) {
    const fn = findFunction(fnText);
    if (fn) {
      state.fn = fn.id;
      state.start = [fn.start[0], fn.start[1]];
    } else note("fn", fnText, `not one of ${FUNCTIONS.map((f) => f.id).join(", ")}`);
  }
  for (const [key, index] of [
    ["x", 0],
    ["y", 1],
  ] as const) {
    const text = q.get(key);
    if (text === null) continue;
    const v = parseNumber(text);
    if (v === undefined) note(key, text, "not a finite number");
    else if (Math.abs(v) > MAX_START) note(key, text, `outside [−${MAX_START}, ${MAX_START}]`);
    else state.start[index] = v;
  }
  const stepsText = q.get("steps");
  if (stepsText !== null) {
    const v = parseNumber(stepsText);
    if (v === undefined || !Number.isInteger(v) || v < 1 || v > MAX_STEPS) {
      note("steps", stepsText, `not an integer in [1, ${MAX_STEPS}]`);
    } else state.steps = v;
  }
  state.at = Math.min(state.at, state.steps);
  const atText = q.get("at");
  if (atText !== null) {
    const v = parseNumber(atText);
    if (v === undefined || !Number.isInteger(v) || v < 0) note("at", atText, "not an integer >= 0");
    else state.at = Math.min(v, state.steps);
  }
  const noiseText = q.get("noise");
  if (noiseText !== null) {
    const v = parseNumber(noiseText);
    if (v === undefined || v < 0 || v > MAX_NOISE)
      note("noise", noiseText, `not a number in [0, ${MAX_NOISE}]`);
    else state.noise = v;
  }
  const seedText = q.get("seed");
  if (seedText !== null) {
    const v = parseNumber(seedText);
    if (v === undefined || !Number.isInteger(v) || v < 0 || v > 0xffffffff) {
      note("seed", seedText, "not an integer in [0, 4294967295]");
    } else state.seed = v;
  }

  // Copies named by the link replace the default state's copies.
  const copyKeys: string[] = [];
  for (const key of q.keys()) {
    const parsed = parseEntryKey(key);
    if (parsed && parsed.n > 1 && !copyKeys.includes(key)) copyKeys.push(key);
  }
  if (copyKeys.length > 0) {
    state.entries = state.entries.filter((e) => e.key === e.optimizer);
    for (const key of copyKeys) {
      if (copiesOf(state).length >= MAX_COPIES) {
        note(key, q.get(key)!, `more than ${MAX_COPIES} copies`);
        continue;
      }
      const { optimizer } = parseEntryKey(key)!;
      const base = entryOf(state, optimizer)!;
      state.entries.push({ key, optimizer, on: false, hyper: { ...base.hyper } });
    }
    state.entries = sortEntries(state.entries);
  }
  for (const entry of state.entries) {
    const text = q.get(entry.key);
    if (text !== null) readHyper(entry.optimizer, entry.key, text, entry.hyper, note);
  }
  const optText = q.get("opt");
  if (optText !== null) {
    const wanted = optText.split(",").filter((s) => s !== "");
    for (const w of wanted) {
      if (!state.entries.some((e) => e.key === w)) note("opt", w, "unknown optimizer");
    }
    for (const entry of state.entries) entry.on = wanted.includes(entry.key);
  }
  return { state, notes };
}

/** A deep copy of `state` (what the page hands out, so nobody can change its state from outside). */
export function cloneState(state: DemoState): DemoState {
  return {
    ...state,
    start: [state.start[0], state.start[1]],
    entries: state.entries.map((e) => ({ ...e, hyper: { ...e.hyper } })),
  };
}

/** Whether two states show the same thing, the step shown aside. */
export function sameSettings(a: DemoState, b: DemoState): boolean {
  return toQuery({ ...a, at: 0 }) === toQuery({ ...b, at: 0 });
}
