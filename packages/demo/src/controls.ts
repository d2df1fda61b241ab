/** Builds the optimizer checklist (with hyper-parameter fields) and the legend swatches. */
import { drawMarker, strokeStyled } from "./draw.js";
import {
  OPTIMIZERS,
  type HyperParam,
  type HyperValue,
  type LineStyle,
  type OptimizerId,
} from "./optimizers.js";

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

/** The form elements of one optimizer in the checklist. */
export interface OptimizerControls {
  checkbox: HTMLInputElement;
  /** One field per hyper-parameter, keyed by the core option name. */
  fields: Map<string, { param: HyperParam; input: HTMLInputElement | HTMLSelectElement }>;
  /** Where the core's errors and warnings for this optimizer are shown. */
  message: HTMLElement;
}

/** Shows `value` in a field. */
export function setField(
  input: HTMLInputElement | HTMLSelectElement,
  param: HyperParam,
  value: HyperValue,
): void {
  if (param.kind === "boolean") (input as HTMLInputElement).checked = value === true;
  else input.value = String(value);
  input.removeAttribute("aria-invalid");
}

/**
 * Reads a field: a number (or `undefined` when the text is not a finite number), a flag, or a choice.
 */
export function readField(
  input: HTMLInputElement | HTMLSelectElement,
  param: HyperParam,
): HyperValue | undefined {
  if (param.kind === "boolean") return (input as HTMLInputElement).checked;
  if (param.kind === "choice") return input.value;
  const text = input.value.trim();
  if (text === "") return undefined;
  const v = Number(text);
  return Number.isFinite(v) ? v : undefined;
}

/** Fills `list` with one entry per optimizer: a checkbox with its swatch, and its hyper-parameter fields. */
export function buildOptimizerList(list: HTMLElement): Map<OptimizerId, OptimizerControls> {
  const controls = new Map<OptimizerId, OptimizerControls>();
  for (const spec of OPTIMIZERS) {
    const li = document.createElement("li");
    const pick = document.createElement("div");
    pick.className = "pick";
    const checkbox = document.createElement("input");
    checkbox.type = "checkbox";
    checkbox.id = `use-${spec.id}`;
    checkbox.name = "optimizer";
    checkbox.value = spec.id;
    const label = document.createElement("label");
    label.htmlFor = checkbox.id;
    label.append(swatch(spec.style), document.createTextNode(spec.label));
    pick.append(checkbox, label);

    const details = document.createElement("details");
    const summary = document.createElement("summary");
    summary.textContent = `${spec.label} hyper-parameters`;
    const params = document.createElement("div");
    params.className = "params";
    const message = document.createElement("p");
    message.id = `message-${spec.id}`;
    message.className = "message";
    message.hidden = true;
    const fields: OptimizerControls["fields"] = new Map();
    for (const param of spec.params) {
      const id = `${spec.id}-${param.short}`;
      const fieldLabel = document.createElement("label");
      fieldLabel.htmlFor = id;
      fieldLabel.textContent = param.label;
      let input: HTMLInputElement | HTMLSelectElement;
      if (param.kind === "choice") {
        const select = document.createElement("select");
        for (const choice of param.choices ?? []) select.append(new Option(choice, choice));
        input = select;
      } else {
        const field = document.createElement("input");
        if (param.kind === "boolean") field.type = "checkbox";
        else {
          field.type = "number";
          field.step = "any";
          field.inputMode = "decimal";
        }
        input = field;
      }
      input.id = id;
      input.dataset.optimizer = spec.id;
      input.dataset.option = param.key;
      input.setAttribute("aria-describedby", message.id);
      if (param.kind === "boolean") {
        const flag = document.createElement("div");
        flag.className = "flag";
        flag.append(input, fieldLabel);
        params.append(flag);
      } else {
        const cell = document.createElement("div");
        cell.append(fieldLabel, input);
        params.append(cell);
      }
      fields.set(param.key, { param, input });
    }
    details.append(summary, params);
    li.append(pick, details, message);
    list.append(li);
    controls.set(spec.id, { checkbox, fields, message });
  }
  return controls;
}
