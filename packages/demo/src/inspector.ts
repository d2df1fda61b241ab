/**
 * The step inspector: for the step on the slider, per ticked entry, the gradient it saw, the core's `m`
 * and `s` (AdaBelief) or `v` (the others) after the step, the effective step size per coordinate and the
 * direction of the step.
 */
import { swatch } from "./controls.js";
import { formatNumber } from "./draw.js";
import type { LineStyle } from "./optimizers.js";
import type { StepInside } from "./simulate.js";

/** One row group of the inspector. */
export interface InspectorRow {
  key: string;
  label: string;
  style: LineStyle;
  /** What the step did, or why there is nothing to show. */
  inside: StepInside | string;
}

/** The angle between two vectors in degrees, or NaN if one is 0. */
function angleBetween(a: readonly [number, number], b: readonly [number, number]): number {
  const na = Math.hypot(a[0], a[1]);
  const nb = Math.hypot(b[0], b[1]);
  if (!(na > 0 && nb > 0)) return NaN;
  const c = (a[0] * b[0] + a[1] * b[1]) / (na * nb);
  return (Math.acos(Math.max(-1, Math.min(1, c))) * 180) / Math.PI;
}

const fmt = (v: number | undefined): string => (v === undefined ? "—" : formatNumber(v, 3));

/** Renders the inspector table into `body` (a `<tbody>`) for `rows`. */
export function renderInspector(body: HTMLTableSectionElement, rows: readonly InspectorRow[]): void {
  body.replaceChildren();
  for (const row of rows) {
    const inside = row.inside;
    const lines = typeof inside === "string" ? 1 : 2;
    for (let i = 0; i < lines; i++) {
      const tr = body.insertRow();
      tr.dataset.entry = row.key;
      if (i === 0) {
        const name = document.createElement("th");
        name.scope = "rowgroup";
        name.rowSpan = lines;
        const wrap = document.createElement("span");
        wrap.className = "name";
        wrap.append(swatch(row.style), document.createTextNode(row.label));
        name.append(wrap);
        tr.append(name);
      }
      if (typeof inside === "string") {
        const cell = tr.insertCell();
        cell.colSpan = 8;
        cell.className = "note";
        cell.textContent = inside;
        continue;
      }
      const coord = document.createElement("th");
      coord.scope = "row";
      coord.textContent = i === 0 ? "x" : "y";
      tr.append(coord);
      const m = inside.first ? inside.slots[inside.first]![i] : undefined;
      const s = inside.second ? inside.slots[inside.second]![i] : undefined;
      const g = inside.grad[i]!;
      const cells: [string, string][] = [
        ["g", fmt(g)],
        ["m", inside.first ? fmt(m) : "—"],
        ["g-m", m === undefined ? "—" : fmt(g - m)],
        ["s", inside.second ? `${inside.second} ${fmt(s)}` : "—"],
        ["eff", fmt(inside.effective[i])],
        ["delta", fmt(inside.delta[i])],
      ];
      for (const [kind, text] of cells) {
        const td = tr.insertCell();
        td.className = "num";
        td.dataset.value = kind;
        td.textContent = text;
      }
      if (i === 0) {
        const dir = tr.insertCell();
        dir.rowSpan = 2;
        dir.className = "direction";
        const [dx, dy] = inside.delta;
        const arrow = document.createElement("span");
        arrow.className = "arrow";
        arrow.setAttribute("aria-hidden", "true");
        arrow.textContent = "→";
        // Screen y grows downwards: the plot's +y is up.
        arrow.style.transform = `rotate(${(-Math.atan2(dy, dx) * 180) / Math.PI}deg)`;
        const off = angleBetween(inside.delta, [-inside.grad[0], -inside.grad[1]]);
        const text = document.createElement("span");
        text.textContent = Number.isNaN(off)
          ? "no move"
          : `${Math.round(off)}° from −g, length ${formatNumber(Math.hypot(dx, dy), 3)}`;
        dir.append(arrow, text);
      }
    }
  }
}
