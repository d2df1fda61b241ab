/**
 * The settings form's building blocks: a number field with an optional slider beside it and its own error
 * line right under it, and the list of entries (the nine optimizers and their copies) with their
 * hyper-parameters. No state of its own beyond the DOM: the page tells it what to show.
 */
import { drawMarker, strokeStyled } from "./draw.js";
import {
  findOptimizer,
  inertReason,
  type HyperParam,
  type HyperValue,
  type LineStyle,
  type OptimizerId,
  type SliderScale,
} from "./optimizers.js";
import { fromPosition, SLIDER_STEPS, toPosition } from "./scale.js";
import { entryLabel, type Entry } from "./state.js";

/** A small canvas showing a line style (dash and marker), for the legend and the checklist. */
export function swatch(style: LineStyle): HTMLCanvasElement {
  const canvas = document.createElement("canvas");
  const w = 46;
  const h = 18;
  const ratio = window.devicePixelRatio || 1;
  canvas.width = w * ratio;
  canvas.height = h * ratio;
  canvas.style.width = `${w}px`;
  canvas.style.height = `${h}px`;
  canvas.className = "swatch";
  canvas.setAttribute("aria-hidden", "true");
  const ctx = canvas.getContext("2d");
  if (ctx) {
    ctx.scale(ratio, ratio);
    ctx.beginPath();
    ctx.moveTo(2, h / 2);
    ctx.lineTo(w - 2, h / 2);
    strokeStyled(ctx, style, 2.25);
    drawMarker(ctx, style, w / 2, h / 2, 5.5);
  }
  return canvas;
}

/** Reads a number the way every field does: trimmed, finite, or `undefined`. */
export function parseNumber(text: string): number | undefined {
  const t = text.trim();
  if (t === "") return undefined;
  const v = Number(t);
  return Number.isFinite(v) ? v : undefined;
}

/** Where a field's error came from: its own text, or the core rejecting the value. */
type ErrorSource = "field" | "core";

/** What a {@link NumberField} needs to know. */
export interface NumberFieldSpec {
  id: string;
  label: string;
  /**
   * Whose field it is ("AdaBelief"): part of its accessible name and of its error message, not shown in
   * the label (the list shows it just above).
   */
  owner?: string;
  /** A slider beside the field, with its own position ↔ value mapping. */
  slider?: { toPosition(v: number): number; fromPosition(p: number): number };
  /** `inputmode` of the text field. */
  inputMode?: "decimal" | "numeric";
  /** Checks a number; returns the rule it breaks (e.g. "an integer from 1 to 5000"), or `undefined`. */
  check?: (v: number) => string | undefined;
  /** Called with every valid value: `live` while a slider is dragged, `false` once a value is settled. */
  onValue: (v: number, live: boolean) => void;
  /** Extra element ids describing the field (help text). */
  describedBy?: string[];
}

/**
 * A number field with an optional slider beside it and an error line under it. Values apply when the
 * field is left (`change`) or, for the slider, while it is dragged. A value it cannot use is not applied:
 * the field gets `aria-invalid` and the error says why, right under it; the error goes as soon as the
 * text is valid again, even before the field is left.
 */
export class NumberField {
  readonly root: HTMLDivElement;
  readonly input: HTMLInputElement;
  readonly slider: HTMLInputElement | undefined;
  readonly error: HTMLParagraphElement;
  private errorSource: ErrorSource | undefined;

  constructor(private readonly spec: NumberFieldSpec) {
    this.root = document.createElement("div");
    this.root.className = "field";
    const label = document.createElement("label");
    label.htmlFor = spec.id;
    label.id = `${spec.id}-label`;
    label.append(ownerText(spec.owner), spec.label);
    const row = document.createElement("div");
    row.className = "field-row";
    this.input = document.createElement("input");
    this.input.type = "text";
    this.input.id = spec.id;
    this.input.inputMode = spec.inputMode ?? "decimal";
    this.input.autocomplete = "off";
    this.input.spellcheck = false;
    this.error = document.createElement("p");
    this.error.className = "field-error";
    this.error.id = `${spec.id}-error`;
    this.error.hidden = true;
    this.input.setAttribute("aria-describedby", [this.error.id, ...(spec.describedBy ?? [])].join(" "));
    if (spec.slider) {
      const slider = document.createElement("input");
      slider.type = "range";
      slider.min = "0";
      slider.max = String(SLIDER_STEPS);
      slider.step = "1";
      slider.id = `${spec.id}-slider`;
      slider.setAttribute("aria-labelledby", label.id);
      slider.className = "slider";
      slider.addEventListener("input", () => {
        const v = spec.slider!.fromPosition(Number(slider.value));
        this.input.value = String(v);
        slider.setAttribute("aria-valuetext", String(v));
        this.clearError();
        spec.onValue(v, true);
      });
      slider.addEventListener("change", () => {
        spec.onValue(spec.slider!.fromPosition(Number(slider.value)), false);
      });
      this.slider = slider;
      row.append(slider);
    }
    row.append(this.input);
    this.root.append(label, row, this.error);
    this.input.addEventListener("input", () => {
      if (this.errorSource === "field" && this.problem(this.input.value) === undefined) this.clearError();
    });
    this.input.addEventListener("change", () => {
      const problem = this.problem(this.input.value);
      if (problem !== undefined) {
        const name = spec.owner ? `${spec.owner} ${spec.label}` : spec.label;
        this.showError(`${name} must be ${problem}; “${this.input.value.trim()}” was not applied.`, "field");
        return;
      }
      this.clearError();
      const v = parseNumber(this.input.value)!;
      this.syncSlider(v);
      spec.onValue(v, false);
    });
  }

  /** The rule the text breaks, or `undefined` if it is a usable value. */
  private problem(text: string): string | undefined {
    const v = parseNumber(text);
    if (v === undefined) return "a number";
    return this.spec.check?.(v);
  }

  private syncSlider(v: number): void {
    if (!this.slider) return;
    this.slider.value = String(this.spec.slider!.toPosition(v));
    this.slider.setAttribute("aria-valuetext", String(v));
  }

  /** Shows `v` (and clears an error of the field's own). */
  set(v: number): void {
    this.input.value = String(v);
    this.syncSlider(v);
    if (this.errorSource === "field") this.clearError();
  }

  /** Shows `message` under the field and marks it invalid. */
  showError(message: string, source: ErrorSource = "field"): void {
    this.error.textContent = message;
    this.error.hidden = false;
    this.errorSource = source;
    this.input.setAttribute("aria-invalid", "true");
  }

  /** Removes the error (of `source` only, if given). */
  clearError(source?: ErrorSource): void {
    if (source !== undefined && this.errorSource !== source) return;
    this.error.textContent = "";
    this.error.hidden = true;
    this.errorSource = undefined;
    this.input.removeAttribute("aria-invalid");
  }

  /** Whether the field shows an error. */
  get invalid(): boolean {
    return this.errorSource !== undefined;
  }

  /** Enables or disables the field and its slider. */
  setDisabled(disabled: boolean): void {
    this.input.disabled = disabled;
    if (this.slider) this.slider.disabled = disabled;
  }
}

/** The owner's name as text only screen readers read (followed by a space), or nothing. */
function ownerText(owner: string | undefined): Node {
  if (!owner) return document.createTextNode("");
  const span = document.createElement("span");
  span.className = "visually-hidden";
  span.textContent = `${owner} `;
  return span;
}

/** A slider mapping for a hyper-parameter's {@link SliderScale}. */
export function sliderOf(scale: SliderScale): NumberFieldSpec["slider"] {
  return { toPosition: (v) => toPosition(v, scale), fromPosition: (p) => fromPosition(p, scale) };
}

/** What the entry list reports to the page. */
export interface EntryHandlers {
  toggle(key: string, on: boolean): void;
  /** A hyper-parameter changed (`live` while a slider is dragged). */
  value(key: string, param: HyperParam, value: HyperValue, live: boolean): void;
  addCopy(optimizer: OptimizerId): void;
  remove(key: string): void;
}

/** The form elements of one entry. */
export interface EntryControls {
  item: HTMLLIElement;
  checkbox: HTMLInputElement;
  /** Number fields by core option name. */
  numbers: Map<string, NumberField>;
  /** Flags and choices by core option name. */
  others: Map<string, { param: HyperParam; input: HTMLInputElement | HTMLSelectElement; note?: HTMLElement }>;
  details: HTMLDetailsElement;
  /** Where the core's errors and warnings about the entry (or its run) are shown. */
  message: HTMLParagraphElement;
  addCopy: HTMLButtonElement | undefined;
  remove: HTMLButtonElement | undefined;
}

/**
 * Builds one entry of the list: its checkbox with swatch and name, its learning rate (slider and field),
 * the other hyper-parameters under "More settings", and for one of the nine an "add a copy" button (for a
 * copy, a "remove" button).
 */
export function buildEntry(
  entry: Entry,
  style: LineStyle,
  handlers: EntryHandlers,
  canCopy: boolean,
): EntryControls {
  const spec = findOptimizer(entry.optimizer)!;
  const isCopy = entry.key !== entry.optimizer;
  const name = entryLabel(entry);
  const item = document.createElement("li");
  item.dataset.entry = entry.key;
  const pick = document.createElement("div");
  pick.className = "pick";
  const checkbox = document.createElement("input");
  checkbox.type = "checkbox";
  checkbox.id = `use-${entry.key}`;
  checkbox.name = "optimizer";
  checkbox.value = entry.key;
  checkbox.checked = entry.on;
  checkbox.addEventListener("change", () => handlers.toggle(entry.key, checkbox.checked));
  const label = document.createElement("label");
  label.htmlFor = checkbox.id;
  label.append(swatch(style), document.createTextNode(name));
  pick.append(checkbox, label);
  let addCopy: HTMLButtonElement | undefined;
  let remove: HTMLButtonElement | undefined;
  if (isCopy) {
    remove = document.createElement("button");
    remove.type = "button";
    remove.className = "small";
    remove.textContent = "Remove";
    remove.setAttribute("aria-label", `Remove ${name}`);
    remove.addEventListener("click", () => handlers.remove(entry.key));
    pick.append(remove);
  } else {
    addCopy = document.createElement("button");
    addCopy.type = "button";
    addCopy.className = "small";
    addCopy.textContent = "+ Copy";
    addCopy.title = `Add a second ${spec.label} with its own settings, to compare`;
    addCopy.setAttribute("aria-label", `Add a copy of ${spec.label} with its own settings, to compare`);
    addCopy.disabled = !canCopy;
    addCopy.addEventListener("click", () => handlers.addCopy(entry.optimizer));
    pick.append(addCopy);
  }

  const message = document.createElement("p");
  message.id = `message-${entry.key}`;
  message.className = "message";
  message.hidden = true;

  const numbers = new Map<string, NumberField>();
  const others: EntryControls["others"] = new Map();
  const main = document.createElement("div");
  main.className = "params main";
  const details = document.createElement("details");
  const summary = document.createElement("summary");
  summary.textContent = `More ${name} settings`;
  const more = document.createElement("div");
  more.className = "params";
  details.append(summary, more);

  for (const param of spec.params) {
    const id = `${entry.key}-${param.short}`;
    const into = param.key === "learningRate" ? main : more;
    if (param.kind === "number") {
      const field = new NumberField({
        id,
        label: param.label,
        owner: name,
        ...(param.slider ? { slider: sliderOf(param.slider) } : {}),
        describedBy: [message.id],
        onValue: (v, live) => handlers.value(entry.key, param, v, live),
      });
      field.set(entry.hyper[param.key] as number);
      numbers.set(param.key, field);
      into.append(field.root);
      continue;
    }
    let input: HTMLInputElement | HTMLSelectElement;
    const fieldLabel = document.createElement("label");
    fieldLabel.htmlFor = id;
    fieldLabel.append(ownerText(name), param.label);
    if (param.kind === "choice") {
      const select = document.createElement("select");
      for (const choice of param.choices ?? []) select.append(new Option(choice, choice));
      select.value = String(entry.hyper[param.key]);
      input = select;
      select.addEventListener("change", () => handlers.value(entry.key, param, select.value, false));
      const cell = document.createElement("div");
      cell.className = "field";
      cell.append(fieldLabel, select);
      into.append(cell);
      select.id = id;
      others.set(param.key, { param, input });
    } else {
      const box = document.createElement("input");
      box.type = "checkbox";
      box.checked = entry.hyper[param.key] === true;
      box.addEventListener("change", () => handlers.value(entry.key, param, box.checked, false));
      input = box;
      box.id = id;
      const note = document.createElement("span");
      note.className = "inert-note";
      note.id = `${id}-note`;
      note.hidden = true;
      box.setAttribute("aria-describedby", note.id);
      const flag = document.createElement("div");
      flag.className = "flag";
      flag.append(box, fieldLabel, note);
      into.append(flag);
      others.set(param.key, { param, input, note });
    }
  }
  // An optimizer with no setting but its learning rate (Fromage) has nothing to unfold.
  details.hidden = more.childElementCount === 0;
  item.append(pick, main, details, message);
  return { item, checkbox, numbers, others, details, message, addCopy, remove };
}

/** Shows `entry`'s values in its controls and disables the ones that have no effect under them. */
export function showEntry(controls: EntryControls, entry: Entry): void {
  controls.checkbox.checked = entry.on;
  for (const [key, field] of controls.numbers) field.set(entry.hyper[key] as number);
  for (const [key, { param, input, note }] of controls.others) {
    if (param.kind === "boolean") (input as HTMLInputElement).checked = entry.hyper[key] === true;
    else input.value = String(entry.hyper[key]);
    const inert = inertReason(entry.optimizer, key, entry.hyper);
    input.disabled = inert !== undefined;
    if (note) {
      note.hidden = inert === undefined;
      note.textContent = inert === undefined ? "" : `Has no effect: ${inert}.`;
    }
  }
}
