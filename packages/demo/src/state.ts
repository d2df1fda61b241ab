/**
 * The page's whole state and its text form in the URL's query string, so that a view can be shared and a
 * reload restores it. Pure functions: no DOM.
 *
 * Query parameters: `fn` (function id), `x`, `y` (start point), `steps` (run length), `at` (step shown),
 * `noise` (σ of the Gaussian gradient noise, 0 = exact gradients), `seed` (noise seed), `opt` (selected
 * optimizers, comma-separated), and per selected optimizer its hyper-parameters as `short:value` pairs,
 * e.g. `adabelief=lr:0.1,b1:0.9,b2:0.999,eps:1e-8,rect:0`. Flags are 1/0.
 */
import { findFunction, FUNCTIONS, type FunctionId } from "./functions.js";
import { OPTIMIZERS, type HyperValue, type HyperValues, type OptimizerId } from "./optimizers.js";
import { presetValues, type PresetId } from "./presets.js";

/** Longest run the page computes. */
export const MAX_STEPS = 5000;
/** Largest noise σ accepted. */
export const MAX_NOISE = 1e6;

/** Everything that determines what the page shows. */
export interface DemoState {
  /** The function optimised. */
  fn: FunctionId;
  /** Start point (x, y). */
  start: [number, number];
  /** Run length N: every selected optimizer takes N steps. 1 … {@link MAX_STEPS}. */
  steps: number;
  /** The step shown, 0 … `steps`. */
  at: number;
  /** σ of the Gaussian noise added to each gradient coordinate; 0 gives exact gradients. */
  noise: number;
  /** Seed of the noise (an integer in [0, 2³²)). */
  seed: number;
  /** The optimizers racing, in the page's order. */
  selected: OptimizerId[];
  /** Hyper-parameters of every optimizer (selected or not), keyed by core option name. */
  hyper: Record<OptimizerId, HyperValues>;
}

/** Default run length. */
export const DEFAULT_STEPS = 400;
/** Optimizers selected on a fresh page: the trio of the paper's Beale figure. */
export const DEFAULT_SELECTED: readonly OptimizerId[] = ["adabelief", "sgd", "adam"];

/** Hyper-parameters of every optimizer under a preset. */
export function hyperOfPreset(preset: PresetId): Record<OptimizerId, HyperValues> {
  const out = {} as Record<OptimizerId, HyperValues>;
  for (const o of OPTIMIZERS) out[o.id] = presetValues(preset, o.id);
  return out;
}

/** The state of a fresh page: Beale from (−2.5, −2.5), AdaBelief, Adam and SGD, the `toy` preset. */
export function defaultState(): DemoState {
  const fn = findFunction("beale")!;
  return {
    fn: fn.id,
    start: [fn.start[0], fn.start[1]],
    steps: DEFAULT_STEPS,
    at: 0,
    noise: 0,
    seed: 1,
    selected: [...DEFAULT_SELECTED],
    hyper: hyperOfPreset("toy"),
  };
}

/** The shortest text that reads back to exactly the same double (keeping the sign of −0). */
const num = (v: number): string => (Object.is(v, -0) ? "-0" : String(v));

function encodeValue(v: HyperValue): string {
  if (typeof v === "boolean") return v ? "1" : "0";
  return typeof v === "number" ? num(v) : v;
}

// Characters kept as they are in the query (RFC 3986 allows them there); everything else is %-encoded.
const encode = (s: string): string => encodeURIComponent(s).replace(/%2C/g, ",").replace(/%3A/g, ":");

/** The query string (with its leading `?`) of `state`. Only the selected optimizers' hyper-parameters are written. */
export function toQuery(state: DemoState): string {
  const parts: [string, string][] = [
    ["fn", state.fn],
    ["x", num(state.start[0])],
    ["y", num(state.start[1])],
    ["steps", String(state.steps)],
    ["at", String(state.at)],
    ["noise", num(state.noise)],
    ["seed", String(state.seed)],
    ["opt", state.selected.join(",")],
  ];
  for (const id of state.selected) {
    const spec = OPTIMIZERS.find((o) => o.id === id)!;
    const values = state.hyper[id];
    parts.push([id, spec.params.map((p) => `${p.short}:${encodeValue(values[p.key]!)}`).join(",")]);
  }
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
 * Reads a query string (with or without `?`). Missing values take the defaults of {@link defaultState};
 * values that cannot be read are ignored with a note. Hyper-parameters that are numbers but out of range
 * are kept: the core rejects them with its own message, which the page shows next to the optimizer.
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
    else state.start[index] = v;
  }
  const stepsText = q.get("steps");
  if (stepsText !== null) {
    const v = parseNumber(stepsText);
    if (v === undefined || !Number.isInteger(v) || v < 1 || v > MAX_STEPS) {
      note("steps", stepsText, `not an integer in [1, ${MAX_STEPS}]`);
    } else state.steps = v;
  }
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
  const optText = q.get("opt");
  if (optText !== null) {
    const wanted = optText.split(",").filter((s) => s !== "");
    for (const w of wanted) {
      if (!OPTIMIZERS.some((o) => o.id === w)) note("opt", w, "unknown optimizer");
    }
    state.selected = OPTIMIZERS.map((o) => o.id).filter((id) => wanted.includes(id));
  }
  for (const spec of OPTIMIZERS) {
    const text = q.get(spec.id);
    if (text === null) continue;
    for (const pair of text.split(",")) {
      if (pair === "") continue;
      const colon = pair.indexOf(":");
      const short = colon < 0 ? pair : pair.slice(0, colon);
      const raw = colon < 0 ? "" : pair.slice(colon + 1);
      const param = spec.params.find((p) => p.short === short);
      const label = `${spec.id}.${short}`;
      if (!param) {
        note(label, raw, `unknown; ${spec.label} takes ${spec.params.map((p) => p.short).join(", ")}`);
        continue;
      }
      if (param.kind === "boolean") {
        if (raw === "1" || raw === "true") state.hyper[spec.id][param.key] = true;
        else if (raw === "0" || raw === "false") state.hyper[spec.id][param.key] = false;
        else note(label, raw, "not 1 or 0");
      } else if (param.kind === "choice") {
        if (param.choices!.includes(raw)) state.hyper[spec.id][param.key] = raw;
        else note(label, raw, `not one of ${param.choices!.join(", ")}`);
      } else {
        const v = parseNumber(raw);
        if (v === undefined) note(label, raw, "not a finite number");
        else state.hyper[spec.id][param.key] = v;
      }
    }
  }
  return { state, notes };
}

/** A deep copy of `state` (what the page hands out, so nobody can change its state from outside). */
export function cloneState(state: DemoState): DemoState {
  const hyper = {} as Record<OptimizerId, HyperValues>;
  for (const id of Object.keys(state.hyper) as OptimizerId[]) hyper[id] = { ...state.hyper[id] };
  return { ...state, start: [state.start[0], state.start[1]], selected: [...state.selected], hyper };
}
