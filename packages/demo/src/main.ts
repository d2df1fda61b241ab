/**
 * The demo page: wires the presets, the settings form, the playback controls, the contour plot, the loss
 * chart, the legend and the step inspector to one {@link DemoState}, which lives in the page's URL.
 *
 * Runs are computed one per task (never all nine in one go), so changing a setting never blocks the page
 * for long; runs whose settings did not change are reused from a cache.
 */
import {
  buildEntry,
  NumberField,
  showEntry,
  swatch,
  type EntryControls,
  type EntryHandlers,
} from "./controls.js";
import { formatNumber } from "./draw.js";
import { findFunction, FUNCTIONS } from "./functions.js";
import { renderInspector, type InspectorRow } from "./inspector.js";
import { LossChart } from "./loss-chart.js";
import { findOptimizer, type HyperValues, type LineStyle, type OptimizerId } from "./optimizers.js";
import { ContourPlot, viewFor } from "./plot.js";
import {
  HYPER_SETS,
  hyperSetValues,
  PRESETS,
  stateOfPreset,
  type HyperSetId,
  type PresetId,
} from "./presets.js";
import {
  noiseFromPosition,
  noiseToPosition,
  roundTo,
  fromPosition,
  toPosition,
  STEPS_SCALE,
} from "./scale.js";
import { inspectStep, runKey, simulateEntry, type Run, type StepInside } from "./simulate.js";
import {
  cloneState,
  copiesOf,
  entryKey,
  entryLabel,
  entryOf,
  entryStyle,
  fromQuery,
  MAX_COPIES,
  MAX_NOISE,
  MAX_START,
  MAX_STEPS,
  problemOf,
  sortEntries,
  ticked,
  toQuery,
  type DemoState,
  type Entry,
} from "./state.js";

/** One run as the test hook reports it. */
export interface HookRun {
  key: string;
  optimizer: OptimizerId;
  points: number;
  stopped?: string;
  diverged?: number;
  error?: string;
  warnings: string[];
  reached: number | null;
}

/** The read-only hook the browser test uses (`window.__demo`). */
export interface DemoHook {
  /** Per ticked entry, its point at the step shown. */
  endpoints(): Record<string, [number, number]>;
  /** A copy of the page's state. */
  state(): DemoState;
  /** Whether the animation is running. */
  playing(): boolean;
  /** Whether every run of the current settings is computed and drawn. */
  idle(): boolean;
  /** Per ticked entry: points computed, and why it stopped or failed, if it did. */
  runs(): HookRun[];
  /** Per entry, how many points of its path the last frame of the plot drew solid. */
  drawn(): Record<string, number>;
  /** The preset whose settings the page shows, if any. */
  preset(): string | undefined;
  /** What the step inspector shows: the step, and per entry the values read from the core. */
  inspector(): { step: number; rows: Record<string, StepInside | string> };
  /** Loss-chart frames drawn and skipped to keep to its frame budget. */
  chartFrames(): { drawn: number; skipped: number };
  /** The loss chart's y axis: [lowest, highest] power of ten. */
  lossAxis(): [number, number];
}

declare global {
  interface Window {
    __demo?: DemoHook;
  }
}

function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`demo: element #${id} is missing from index.html`);
  return el as T;
}

/** Seconds an "auto" playback takes from step 0 to the end, at 60 frames per second. */
const AUTO_SECONDS = 4;
/** Runs kept in the cache. */
const CACHE_SIZE = 60;

class Demo {
  private state: DemoState;
  private runs: Run[] = [];
  private readonly cache = new Map<string, Run>();
  private generation = 0;
  private pending = false;
  private playing = false;
  private frame = 0;
  private inspected: { step: number; rows: Record<string, StepInside | string> } = { step: 0, rows: {} };
  private styles = new Map<string, LineStyle>();
  private readonly plot: ContourPlot;
  private readonly chart: LossChart;
  private entryControls = new Map<string, EntryControls>();
  private readonly presetQueries: [PresetId, string][];
  private readonly presetButtons = new Map<PresetId, HTMLButtonElement>();
  private readonly legendCells = new Map<string, HTMLTableCellElement[]>();
  private readonly el = {
    fn: byId<HTMLSelectElement>("fn"),
    caption: byId<HTMLElement>("caption"),
    hyperSet: byId<HTMLSelectElement>("hyper-set"),
    hyperSetHelp: byId<HTMLElement>("hyper-set-help"),
    applySet: byId<HTMLButtonElement>("apply-set"),
    play: byId<HTMLButtonElement>("play"),
    playHelp: byId<HTMLElement>("play-help"),
    step: byId<HTMLButtonElement>("step"),
    reset: byId<HTMLButtonElement>("reset"),
    speed: byId<HTMLSelectElement>("speed"),
    at: byId<HTMLInputElement>("at"),
    counter: byId<HTMLOutputElement>("counter"),
    legend: byId<HTMLTableElement>("legend"),
    inspector: byId<HTMLTableElement>("inspector"),
    inspectorStep: byId<HTMLElement>("inspector-step"),
    status: byId<HTMLElement>("status"),
    copy: byId<HTMLButtonElement>("copy-link"),
    stage: byId<HTMLElement>("stage"),
    list: byId<HTMLUListElement>("optimizers"),
    plotCanvas: byId<HTMLCanvasElement>("plot"),
    lossCanvas: byId<HTMLCanvasElement>("loss"),
  };
  private readonly fields: Record<"x0" | "y0" | "steps" | "noise" | "seed", NumberField>;

  constructor() {
    const parsed = fromQuery(window.location.search);
    this.state = parsed.state;
    this.presetQueries = PRESETS.map((p) => [p.id, toQuery(stateOfPreset(p.id))]);
    this.plot = new ContourPlot(this.el.plotCanvas);
    this.chart = new LossChart(this.el.lossCanvas);
    for (const f of FUNCTIONS) this.el.fn.append(new Option(f.label, f.id));
    for (const s of HYPER_SETS) this.el.hyperSet.append(new Option(s.label, s.id));
    this.el.hyperSetHelp.textContent = HYPER_SETS[0]!.description;
    this.buildPresets();
    this.fields = this.buildFields();
    this.buildList();
    this.syncForm();
    this.bind();
    this.compute();
    this.commit();
    if (parsed.notes.length > 0) {
      this.say(
        `Some of the link's settings were not understood and were left out: ${parsed.notes.join("; ")}.`,
      );
    }
    new ResizeObserver(() => {
      this.plot.resize();
      this.chart.resize();
      this.render();
    }).observe(this.el.plotCanvas.parentElement!);
  }

  // ——— building the form ———

  private buildPresets(): void {
    const box = byId<HTMLElement>("presets");
    for (const preset of PRESETS) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = preset.label;
      button.dataset.preset = preset.id;
      button.setAttribute("aria-pressed", "false");
      button.setAttribute("aria-describedby", "caption");
      button.addEventListener("click", () => this.applyPreset(preset.id));
      box.append(button);
      this.presetButtons.set(preset.id, button);
    }
  }

  private buildFields(): Demo["fields"] {
    const startRule = (v: number): string | undefined =>
      Math.abs(v) <= MAX_START ? undefined : `a number from −${MAX_START} to ${MAX_START}`;
    const x0 = new NumberField({
      id: "x0",
      label: "Start x",
      check: startRule,
      onValue: (v) => {
        this.state.start = [v, this.state.start[1]];
        this.changed();
      },
    });
    const y0 = new NumberField({
      id: "y0",
      label: "Start y",
      check: startRule,
      onValue: (v) => {
        this.state.start = [this.state.start[0], v];
        this.changed();
      },
    });
    byId("start-fields").append(x0.root, y0.root);
    const steps = new NumberField({
      id: "steps",
      label: "Steps per run",
      inputMode: "numeric",
      slider: {
        toPosition: (v) => toPosition(v, STEPS_SCALE),
        fromPosition: (p) => Math.round(fromPosition(p, STEPS_SCALE)),
      },
      check: (v) =>
        Number.isInteger(v) && v >= 1 && v <= MAX_STEPS ? undefined : `an integer from 1 to ${MAX_STEPS}`,
      onValue: (v, live) => {
        this.state.steps = v;
        this.state.at = Math.min(this.state.at, v);
        this.changed(live);
      },
    });
    byId("steps-field").append(steps.root);
    const noise = new NumberField({
      id: "noise",
      label: "Gradient noise σ",
      slider: { toPosition: noiseToPosition, fromPosition: noiseFromPosition },
      describedBy: ["noise-help"],
      check: (v) => (v >= 0 && v <= MAX_NOISE ? undefined : `a number from 0 to ${MAX_NOISE}`),
      onValue: (v, live) => {
        this.state.noise = v;
        this.changed(live);
      },
    });
    byId("noise-field").append(noise.root);
    const seed = new NumberField({
      id: "seed",
      label: "Noise seed",
      inputMode: "numeric",
      describedBy: ["seed-note"],
      check: (v) =>
        Number.isInteger(v) && v >= 0 && v <= 0xffffffff ? undefined : "an integer from 0 to 4294967295",
      onValue: (v) => {
        this.state.seed = v;
        this.changed();
      },
    });
    const seedNote = document.createElement("p");
    seedNote.id = "seed-note";
    seedNote.className = "hint";
    seed.root.append(seedNote);
    byId("seed-field").append(seed.root);
    return { x0, y0, steps, noise, seed };
  }

  private readonly handlers: EntryHandlers = {
    toggle: (key, on) => {
      entryOf(this.state, key)!.on = on;
      this.changed();
    },
    value: (key, param, value, live) => {
      const entry = entryOf(this.state, key)!;
      entry.hyper[param.key] = value;
      if (param.kind !== "number") showEntry(this.entryControls.get(key)!, entry);
      this.changed(live);
    },
    addCopy: (optimizer) => this.addCopy(optimizer),
    remove: (key) => this.removeCopy(key),
  };

  /** (Re)builds the list of entries, e.g. after a copy was added or removed. */
  private buildList(): void {
    this.el.list.replaceChildren();
    this.entryControls = new Map();
    const canCopy = copiesOf(this.state).length < MAX_COPIES;
    for (const entry of this.state.entries) {
      const controls = buildEntry(entry, entryStyle(this.state, entry), this.handlers, canCopy);
      showEntry(controls, entry);
      this.el.list.append(controls.item);
      this.entryControls.set(entry.key, controls);
    }
  }

  /** Writes the state into every form field. */
  private syncForm(): void {
    const s = this.state;
    this.el.fn.value = s.fn;
    this.fields.x0.set(s.start[0]);
    this.fields.y0.set(s.start[1]);
    this.fields.steps.set(s.steps);
    this.fields.noise.set(s.noise);
    this.fields.seed.set(s.seed);
    for (const f of Object.values(this.fields)) f.clearError();
    for (const entry of s.entries) {
      const controls = this.entryControls.get(entry.key);
      if (!controls) continue;
      for (const field of controls.numbers.values()) field.clearError();
      showEntry(controls, entry);
    }
    this.updateControls();
  }

  private bind(): void {
    const { el } = this;
    // Enter in a field must not reload the page: fields apply on "change".
    byId<HTMLFormElement>("settings").addEventListener("submit", (event) => event.preventDefault());
    el.fn.addEventListener("change", () => {
      const fn = findFunction(el.fn.value)!;
      this.state.fn = fn.id;
      this.state.start = [fn.start[0], fn.start[1]];
      this.fields.x0.set(fn.start[0]);
      this.fields.y0.set(fn.start[1]);
      this.fields.x0.clearError();
      this.fields.y0.clearError();
      this.changed();
    });
    el.hyperSet.addEventListener("change", () => {
      el.hyperSetHelp.textContent = HYPER_SETS.find((p) => p.id === el.hyperSet.value)!.description;
    });
    el.applySet.addEventListener("click", () => {
      const set = HYPER_SETS.find((p) => p.id === (el.hyperSet.value as HyperSetId))!;
      for (const entry of this.state.entries) entry.hyper = hyperSetValues(set.id, entry.optimizer);
      this.syncForm();
      this.changed();
      this.say(`Applied “${set.label}” to every optimizer.`);
    });
    el.plotCanvas.addEventListener("click", (event) => {
      const rect = el.plotCanvas.getBoundingClientRect();
      const p = this.plot.toPlane(event.clientX - rect.left, event.clientY - rect.top);
      if (!p) return;
      this.state.start = [roundTo(p[0], 3), roundTo(p[1], 3)];
      this.fields.x0.set(this.state.start[0]);
      this.fields.y0.set(this.state.start[1]);
      this.fields.x0.clearError();
      this.fields.y0.clearError();
      this.changed();
      this.say(`Start point moved to (${this.state.start[0]}, ${this.state.start[1]}).`);
    });
    el.play.addEventListener("click", () => (this.playing ? this.pause() : this.play()));
    el.step.addEventListener("click", () => {
      this.pause();
      if (this.state.at < this.state.steps) this.state.at += 1;
      this.render();
      this.commit();
    });
    el.reset.addEventListener("click", () => {
      this.pause();
      this.state.at = 0;
      this.render();
      this.commit();
      this.say("Back to step 0.");
    });
    el.at.addEventListener("input", () => {
      this.state.at = Math.min(this.state.steps, Math.max(0, Number(el.at.value)));
      this.render();
    });
    el.at.addEventListener("change", () => this.commit());
    el.copy.addEventListener("click", () => {
      const url = window.location.href;
      if (navigator.clipboard?.writeText) {
        navigator.clipboard.writeText(url).then(
          () => this.say("Link copied."),
          () => this.say(`Copy this link: ${url}`),
        );
      } else this.say(`Copy this link: ${url}`);
    });
  }

  // ——— actions ———

  private applyPreset(id: PresetId): void {
    this.pause();
    this.state = stateOfPreset(id);
    this.buildList();
    this.syncForm();
    this.changed();
    const preset = PRESETS.find((p) => p.id === id)!;
    this.say(`Preset “${preset.label}”: press Play.`);
  }

  private addCopy(optimizer: OptimizerId): void {
    if (copiesOf(this.state).length >= MAX_COPIES) return;
    let n = 2;
    while (entryOf(this.state, entryKey(optimizer, n))) n++;
    const key = entryKey(optimizer, n);
    const base = entryOf(this.state, optimizer)!;
    this.state.entries = sortEntries([
      ...this.state.entries,
      { key, optimizer, on: true, hyper: { ...base.hyper } },
    ]);
    this.buildList();
    this.changed();
    const controls = this.entryControls.get(key)!;
    controls.details.open = true;
    controls.numbers.get("learningRate")?.input.focus();
    this.say(
      `Added ${entryLabel(entryOf(this.state, key)!)} with the settings of ${findOptimizer(optimizer)!.label}: change them to compare.`,
    );
  }

  private removeCopy(key: string): void {
    const entry = entryOf(this.state, key);
    if (!entry || entry.key === entry.optimizer) return;
    this.state.entries = this.state.entries.filter((e) => e.key !== key);
    this.buildList();
    this.changed();
    this.entryControls.get(entry.optimizer)?.addCopy?.focus();
    this.say(`Removed ${entryLabel(entry)}.`);
  }

  private speed(): number {
    const v = this.el.speed.value;
    return v === "auto" ? Math.max(1, Math.round(this.state.steps / (AUTO_SECONDS * 60))) : Number(v);
  }

  private play(): void {
    if (this.playing || ticked(this.state).length === 0) return;
    if (this.state.at >= this.state.steps) this.state.at = 0;
    this.playing = true;
    this.el.play.textContent = "❚❚ Pause";
    this.el.play.dataset.playing = "true";
    const tick = (): void => {
      if (!this.playing) return;
      this.state.at = Math.min(this.state.steps, this.state.at + this.speed());
      this.render();
      if (this.state.at >= this.state.steps) {
        this.pause();
        this.say(`Finished: step ${this.state.steps}.`);
        return;
      }
      this.frame = requestAnimationFrame(tick);
    };
    this.frame = requestAnimationFrame(tick);
  }

  private pause(): void {
    if (!this.playing) return;
    this.playing = false;
    cancelAnimationFrame(this.frame);
    this.el.play.textContent = "▶ Play";
    this.el.play.dataset.playing = "false";
    this.render();
    this.commit();
    this.say(`Paused at step ${this.state.at}.`);
  }

  // ——— computing ———

  /**
   * Settings changed: recompute what changed (one run per task), redraw, update the URL (not while a
   * slider is being dragged: `live`).
   */
  private changed(live = false): void {
    if (this.state.at > this.state.steps) this.state.at = this.state.steps;
    this.compute();
    this.updateControls();
    if (!live) this.commit();
  }

  /**
   * Brings the drawing up to the current settings, as a chain of short tasks: each missing run (runs whose
   * settings did not change come from the cache), the contour shading if the view changed (two halves),
   * the plot's layers, the chart's layers, and last the legend, the inspector and the frame. A newer
   * change abandons the chain.
   */
  private compute(): void {
    const generation = ++this.generation;
    const problem = { ...problemOf(this.state), start: [...this.state.start] as [number, number] };
    const wanted = ticked(this.state).map((e) => {
      const entry: Entry = { ...e, hyper: { ...e.hyper } };
      return { entry, key: runKey(problem, entry) };
    });
    const fn = findFunction(this.state.fn)!;
    const view = viewFor(fn, this.state.start);
    let runs: Run[] | undefined;
    let stage: "runs" | "plot" | "chart" | "done" = "runs";
    const next = (): void => {
      if (generation !== this.generation) return;
      if (stage === "runs") {
        const missing = wanted.find((w) => !this.cache.has(w.key));
        if (missing) {
          this.cache.set(missing.key, simulateEntry(problem, missing.entry));
          while (this.cache.size > CACHE_SIZE) this.cache.delete(this.cache.keys().next().value!);
        } else if (this.plot.prepareShading(fn, view)) {
          runs = wanted.map(({ entry, key }) => {
            const run = this.cache.get(key)!;
            return run.key === entry.key ? run : { ...run, key: entry.key };
          });
          this.styles = new Map(this.state.entries.map((e) => [e.key, entryStyle(this.state, e)]));
          stage = "plot";
        }
      } else if (stage === "plot") {
        this.plot.setScene(fn, view, problem.start, runs!, this.styles);
        this.plot.prepare(this.state.at);
        stage = "chart";
      } else if (stage === "chart") {
        this.chart.setScene(runs!, problem.steps, fn.minValue, this.styles);
        this.chart.prepare(this.state.at);
        stage = "done";
      } else {
        this.runs = runs!;
        this.pending = false;
        this.el.stage.removeAttribute("aria-busy");
        this.sceneChanged();
        return;
      }
      setTimeout(next, 0);
    };
    this.pending = true;
    this.el.stage.setAttribute("aria-busy", "true");
    setTimeout(next, 0);
  }

  /** New runs are drawn: rebuild the legend and the messages, show the frame. */
  private sceneChanged(): void {
    this.showRunMessages();
    this.buildLegend();
    this.updateControls();
    this.render();
  }

  /** Per entry, the core's errors next to the field they concern, and warnings and divergence under it. */
  private showRunMessages(): void {
    for (const entry of this.state.entries) {
      const controls = this.entryControls.get(entry.key);
      if (!controls) continue;
      const run = this.runs.find((r) => r.key === entry.key);
      for (const [key, field] of controls.numbers) {
        if (run?.error && run.errorOption === key) {
          if (!field.invalid) field.showError(run.error, "core");
          if (key !== "learningRate") controls.details.open = true;
        } else field.clearError("core");
      }
      const lines: string[] = [];
      let error = false;
      if (run?.error && !run.errorOption) {
        lines.push(`Not run: ${run.error}`);
        error = true;
      } else if (run?.error) {
        lines.push("Not run: see the field marked above.");
        error = true;
      } else if (run?.diverged !== undefined) {
        lines.push(`Run ${run.stopped}. Try a smaller learning rate.`);
        error = true;
      } else if (run?.stopped) {
        lines.push(`Run ${run.stopped}`);
        error = true;
      }
      for (const w of run?.warnings ?? []) lines.push(`Warning: ${w}`);
      controls.message.hidden = lines.length === 0;
      controls.message.textContent = lines.join(" ");
      controls.message.className = `message ${error ? "error" : "warning"}`;
    }
  }

  /** The settings in which `entry` differs from the other entries of its optimizer ("ε 1e-16"). */
  private differences(entry: Entry): string {
    const spec = findOptimizer(entry.optimizer)!;
    const siblings = this.state.entries.filter((e) => e.optimizer === entry.optimizer && e.key !== entry.key);
    if (siblings.length === 0) return "";
    const differs = (a: HyperValues, b: HyperValues, key: string): boolean => a[key] !== b[key];
    return spec.params
      .filter((p) => siblings.some((s) => differs(s.hyper, entry.hyper, p.key)))
      .map((p) => `${p.label.replace(/^learning rate /, "")} ${String(entry.hyper[p.key])}`)
      .join(", ");
  }

  private buildLegend(): void {
    const body = this.el.legend.tBodies[0]!;
    body.replaceChildren();
    this.legendCells.clear();
    if (this.runs.length === 0) {
      const row = body.insertRow();
      const cell = row.insertCell();
      cell.colSpan = 5;
      cell.textContent = "No optimizer ticked: tick one under Settings.";
      return;
    }
    for (const run of this.runs) {
      const entry = entryOf(this.state, run.key)!;
      const row = body.insertRow();
      row.dataset.entry = run.key;
      const name = document.createElement("th");
      name.scope = "row";
      const wrap = document.createElement("span");
      wrap.className = "name";
      wrap.append(swatch(this.styles.get(run.key)!), document.createTextNode(entryLabel(entry)));
      name.append(wrap);
      const diff = this.differences(entry);
      if (diff) {
        const small = document.createElement("small");
        small.className = "differs";
        small.textContent = diff;
        name.append(small);
      }
      row.append(name);
      const cells: HTMLTableCellElement[] = [];
      for (const cls of ["num coord", "num coord", "num", "note"]) {
        const cell = row.insertCell();
        cell.className = cls;
        cells.push(cell);
      }
      this.legendCells.set(run.key, cells);
    }
  }

  private updateLegend(): void {
    const set = (cell: HTMLTableCellElement, text: string): void => {
      if (cell.textContent !== text) cell.textContent = text;
    };
    for (const run of this.runs) {
      const cells = this.legendCells.get(run.key);
      if (!cells) continue;
      const k = Math.min(this.state.at, run.points - 1);
      set(cells[0]!, formatNumber(run.path[2 * k]!, 3));
      set(cells[1]!, formatNumber(run.path[2 * k + 1]!, 3));
      set(cells[2]!, formatNumber(run.loss[k]!, 3));
      let note = "";
      if (run.error) note = "settings rejected (see Settings)";
      else if (run.stopped && this.state.at >= run.points) note = run.stopped.split(":")[0]!;
      else if (run.reached !== null && this.state.at >= run.reached) {
        note = `reached at step ${run.reached}`;
      }
      set(cells[3]!, note);
      cells[3]!.classList.toggle(
        "bad",
        run.error !== undefined || (run.stopped !== undefined && note !== ""),
      );
    }
  }

  private updateInspector(): void {
    const at = this.state.at;
    const rows: InspectorRow[] = [];
    const values: Record<string, StepInside | string> = {};
    const problem = problemOf(this.state);
    for (const run of this.runs) {
      const entry = entryOf(this.state, run.key)!;
      let inside: StepInside | string;
      if (run.error) inside = "Not run: its settings were rejected.";
      else if (at === 0) inside = "Step 0 is the start: no step taken yet.";
      else if (at >= run.points) inside = `The run stopped at step ${run.points - 1}.`;
      else inside = inspectStep(problem, entry, run, at) ?? "Nothing to show.";
      values[run.key] = inside;
      rows.push({ key: run.key, label: entryLabel(entry), style: this.styles.get(run.key)!, inside });
    }
    renderInspector(this.el.inspector.tBodies[0]!, rows);
    this.el.inspectorStep.textContent = String(at);
    this.inspected = { step: at, rows: values };
  }

  /** Which preset's settings the page shows, if any. */
  private currentPreset(): PresetId | undefined {
    const query = toQuery({ ...this.state, at: 0 });
    return this.presetQueries.find(([, q]) => q === query)?.[0];
  }

  /** Buttons, the caption, the seed field and the play button follow the state. */
  private updateControls(): void {
    const preset = this.currentPreset();
    for (const [id, button] of this.presetButtons) button.setAttribute("aria-pressed", String(id === preset));
    const caption = PRESETS.find((p) => p.id === preset)?.caption;
    const text = caption
      ? caption
      : "Your own settings: the presets' captions describe their own settings only. Pick a preset to see one of the paper's figures.";
    if (this.el.caption.textContent !== text) this.el.caption.textContent = text;
    this.el.caption.classList.toggle("custom", !caption);

    const noNoise = this.state.noise === 0;
    this.fields.seed.setDisabled(noNoise);
    byId("seed-note").textContent = noNoise ? "Used only when σ > 0." : "";
    const canCopy = copiesOf(this.state).length < MAX_COPIES;
    for (const controls of this.entryControls.values()) {
      if (controls.addCopy) controls.addCopy.disabled = !canCopy;
    }

    const nothing = ticked(this.state).length === 0;
    this.setDisabled(this.el.play, nothing);
    this.el.playHelp.hidden = !nothing;
    this.el.playHelp.textContent = nothing ? "Tick an optimizer under Settings to play." : "";
    this.setDisabled(this.el.step, nothing || this.state.at >= this.state.steps);
    this.setDisabled(this.el.reset, this.state.at === 0);
  }

  /** Disables a button; if it had the focus, the step slider gets it (a disabled button cannot keep it). */
  private setDisabled(button: HTMLButtonElement, disabled: boolean): void {
    if (button.disabled === disabled) return;
    if (disabled && document.activeElement === button) this.el.at.focus();
    button.disabled = disabled;
  }

  // ——— drawing ———

  private render(): void {
    const { at, steps, start } = this.state;
    this.plot.draw(at);
    this.chart.draw(at, this.playing);
    const max = String(steps);
    if (this.el.at.max !== max) this.el.at.max = max;
    this.el.at.value = String(at);
    this.el.counter.value = `${at} / ${steps}`;
    this.updateLegend();
    // The inspector follows the slider; while playing it waits for the pause (it would cost frames).
    if (!this.playing) this.updateInspector();
    if (!this.playing) {
      this.updateControls();
      const fn = findFunction(this.state.fn)!;
      this.el.plotCanvas.setAttribute(
        "aria-label",
        `Contour plot of ${fn.label} with the minimum at (${fn.minimum[0]}, ${fn.minimum[1]}), start at (${start[0]}, ${start[1]}), ` +
          `and the paths of ${this.runs.map((r) => entryLabel(entryOf(this.state, r.key)!)).join(", ") || "no optimizer"} up to step ${at}. ` +
          "The table below lists their positions.",
      );
    }
  }

  /** Puts the state into the URL (replacing the history entry, so the back button is not flooded). */
  private commit(): void {
    const query = toQuery(this.state);
    if (window.location.search !== query) window.history.replaceState(null, "", query);
  }

  private say(message: string): void {
    this.el.status.textContent = message;
  }

  hook(): DemoHook {
    return Object.freeze({
      endpoints: () => {
        const out: Record<string, [number, number]> = {};
        for (const run of this.runs) {
          const k = Math.min(this.state.at, run.points - 1);
          out[run.key] = [run.path[2 * k]!, run.path[2 * k + 1]!];
        }
        return out;
      },
      state: () => cloneState(this.state),
      playing: () => this.playing,
      idle: () => !this.pending,
      runs: () =>
        this.runs.map((r) => ({
          key: r.key,
          optimizer: r.optimizer,
          points: r.points,
          ...(r.stopped !== undefined ? { stopped: r.stopped } : {}),
          ...(r.diverged !== undefined ? { diverged: r.diverged } : {}),
          ...(r.error !== undefined ? { error: r.error } : {}),
          warnings: [...r.warnings],
          reached: r.reached,
        })),
      drawn: () => ({ ...this.plot.drawn }),
      preset: () => this.currentPreset(),
      inspector: () => structuredClone(this.inspected),
      chartFrames: () => ({ ...this.chart.frames }),
      lossAxis: () => this.chart.axis,
    });
  }
}

window.__demo = new Demo().hook();
