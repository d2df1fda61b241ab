/**
 * The demo page: wires the settings form, the playback controls, the contour plot, the loss chart and the
 * legend to one {@link DemoState}, which lives in the page's URL.
 */
import { buildOptimizerList, readField, setField, swatch, type OptimizerControls } from "./controls.js";
import { formatNumber } from "./draw.js";
import { findFunction, FUNCTIONS } from "./functions.js";
import { LossChart } from "./loss-chart.js";
import { findOptimizer, OPTIMIZERS, type OptimizerId } from "./optimizers.js";
import { ContourPlot, viewFor } from "./plot.js";
import { PRESETS, type PresetId } from "./presets.js";
import { simulate, type Run } from "./simulate.js";
import {
  cloneState,
  fromQuery,
  hyperOfPreset,
  MAX_NOISE,
  MAX_STEPS,
  toQuery,
  type DemoState,
} from "./state.js";

/** The read-only hook the browser test uses (`window.__demo`). */
export interface DemoHook {
  /** Per selected optimizer, its point at the step shown. */
  endpoints(): Record<string, [number, number]>;
  /** A copy of the page's state. */
  state(): DemoState;
  /** Whether the animation is running. */
  playing(): boolean;
  /** Per selected optimizer: points computed, and why it stopped or failed, if it did. */
  runs(): { id: OptimizerId; points: number; stopped?: string; error?: string; warnings: string[] }[];
  /** Per optimizer, how many points of its path the last frame of the plot drew. */
  drawn(): Record<string, number>;
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

class Demo {
  private state: DemoState;
  private runs: Run[] = [];
  private playing = false;
  private frame = 0;
  private readonly plot: ContourPlot;
  private readonly chart: LossChart;
  private readonly optimizerControls: Map<OptimizerId, OptimizerControls>;
  private readonly el = {
    fn: byId<HTMLSelectElement>("fn"),
    x0: byId<HTMLInputElement>("x0"),
    y0: byId<HTMLInputElement>("y0"),
    steps: byId<HTMLInputElement>("steps"),
    noise: byId<HTMLInputElement>("noise"),
    seed: byId<HTMLInputElement>("seed"),
    preset: byId<HTMLSelectElement>("preset"),
    presetHelp: byId<HTMLElement>("preset-help"),
    applyPreset: byId<HTMLButtonElement>("apply-preset"),
    play: byId<HTMLButtonElement>("play"),
    step: byId<HTMLButtonElement>("step"),
    reset: byId<HTMLButtonElement>("reset"),
    speed: byId<HTMLSelectElement>("speed"),
    at: byId<HTMLInputElement>("at"),
    counter: byId<HTMLOutputElement>("counter"),
    legend: byId<HTMLTableElement>("legend"),
    status: byId<HTMLElement>("status"),
    copy: byId<HTMLButtonElement>("copy-link"),
    plotCanvas: byId<HTMLCanvasElement>("plot"),
    lossCanvas: byId<HTMLCanvasElement>("loss"),
  };

  constructor() {
    const parsed = fromQuery(window.location.search);
    this.state = parsed.state;
    this.plot = new ContourPlot(this.el.plotCanvas);
    this.chart = new LossChart(this.el.lossCanvas);
    for (const f of FUNCTIONS) this.el.fn.append(new Option(f.label, f.id));
    for (const p of PRESETS) this.el.preset.append(new Option(p.label, p.id));
    this.el.presetHelp.textContent = PRESETS[0]!.description;
    this.optimizerControls = buildOptimizerList(byId("optimizers"));
    this.el.steps.max = String(MAX_STEPS);
    this.syncForm();
    this.bind();
    this.recompute();
    this.commit();
    if (parsed.notes.length > 0)
      this.say(
        `Some of the link's settings were not understood and were left out: ${parsed.notes.join("; ")}.`,
      );
    new ResizeObserver(() => this.render()).observe(this.el.plotCanvas.parentElement!);
  }

  /** Writes the state into every form field. */
  private syncForm(): void {
    const s = this.state;
    this.el.fn.value = s.fn;
    this.el.x0.value = String(s.start[0]);
    this.el.y0.value = String(s.start[1]);
    this.el.steps.value = String(s.steps);
    this.el.noise.value = String(s.noise);
    this.el.seed.value = String(s.seed);
    for (const [id, c] of this.optimizerControls) {
      c.checkbox.checked = s.selected.includes(id);
      for (const [key, { param, input }] of c.fields) setField(input, param, s.hyper[id][key]!);
    }
    for (const input of [this.el.x0, this.el.y0, this.el.steps, this.el.noise, this.el.seed]) {
      input.removeAttribute("aria-invalid");
    }
  }

  private bind(): void {
    const { el } = this;
    // Enter in a field must not reload the page: fields apply on "change".
    byId<HTMLFormElement>("settings").addEventListener("submit", (event) => event.preventDefault());
    el.fn.addEventListener("change", () => {
      const fn = findFunction(el.fn.value)!;
      this.state.fn = fn.id;
      this.state.start = [fn.start[0], fn.start[1]];
      el.x0.value = String(fn.start[0]);
      el.y0.value = String(fn.start[1]);
      this.changed();
    });
    const numberField = (
      input: HTMLInputElement,
      what: string,
      ok: (v: number) => boolean,
      rule: string,
      apply: (v: number) => void,
    ): void => {
      input.addEventListener("change", () => {
        const v = input.value.trim() === "" ? NaN : Number(input.value);
        if (!Number.isFinite(v) || !ok(v)) {
          input.setAttribute("aria-invalid", "true");
          this.say(`${what} must be ${rule}; "${input.value}" was not applied.`);
          return;
        }
        input.removeAttribute("aria-invalid");
        apply(v);
        this.changed();
      });
    };
    numberField(
      el.x0,
      "Start x",
      () => true,
      "a number",
      (v) => (this.state.start = [v, this.state.start[1]]),
    );
    numberField(
      el.y0,
      "Start y",
      () => true,
      "a number",
      (v) => (this.state.start = [this.state.start[0], v]),
    );
    numberField(
      el.steps,
      "Steps per run",
      (v) => Number.isInteger(v) && v >= 1 && v <= MAX_STEPS,
      `an integer from 1 to ${MAX_STEPS}`,
      (v) => {
        this.state.steps = v;
        this.state.at = Math.min(this.state.at, v);
      },
    );
    numberField(
      el.noise,
      "Gradient noise σ",
      (v) => v >= 0 && v <= MAX_NOISE,
      `a number from 0 to ${MAX_NOISE}`,
      (v) => (this.state.noise = v),
    );
    numberField(
      el.seed,
      "Noise seed",
      (v) => Number.isInteger(v) && v >= 0 && v <= 0xffffffff,
      "an integer from 0 to 4294967295",
      (v) => (this.state.seed = v),
    );

    for (const [id, c] of this.optimizerControls) {
      c.checkbox.addEventListener("change", () => {
        const chosen = new Set(this.state.selected);
        if (c.checkbox.checked) chosen.add(id);
        else chosen.delete(id);
        this.state.selected = OPTIMIZERS.map((o) => o.id).filter((o) => chosen.has(o));
        this.changed();
      });
      for (const { param, input } of c.fields.values()) {
        input.addEventListener("change", () => {
          const v = readField(input, param);
          if (v === undefined) {
            input.setAttribute("aria-invalid", "true");
            this.say(
              `${findOptimizer(id)!.label} ${param.label} must be a number; "${input.value}" was not applied.`,
            );
            return;
          }
          input.removeAttribute("aria-invalid");
          this.state.hyper[id][param.key] = v;
          this.changed();
        });
      }
    }

    el.preset.addEventListener("change", () => {
      el.presetHelp.textContent = PRESETS.find((p) => p.id === el.preset.value)!.description;
    });
    el.applyPreset.addEventListener("click", () => {
      const preset = PRESETS.find((p) => p.id === (el.preset.value as PresetId))!;
      this.state.hyper = hyperOfPreset(preset.id);
      this.syncForm();
      this.changed();
      this.say(`Applied the preset "${preset.label}" to every optimizer.`);
    });

    el.plotCanvas.addEventListener("click", (event) => {
      const rect = el.plotCanvas.getBoundingClientRect();
      const p = this.plot.toPlane(event.clientX - rect.left, event.clientY - rect.top);
      if (!p) return;
      const round = (v: number): number => Number(v.toPrecision(3));
      this.state.start = [round(p[0]), round(p[1])];
      el.x0.value = String(this.state.start[0]);
      el.y0.value = String(this.state.start[1]);
      el.x0.removeAttribute("aria-invalid");
      el.y0.removeAttribute("aria-invalid");
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

  private play(): void {
    if (this.playing) return;
    if (this.state.at >= this.state.steps) this.state.at = 0;
    this.playing = true;
    this.el.play.textContent = "Pause";
    this.el.play.dataset.playing = "true";
    const tick = (): void => {
      if (!this.playing) return;
      this.state.at = Math.min(this.state.steps, this.state.at + Number(this.el.speed.value));
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
    this.commit();
    this.say(`Paused at step ${this.state.at}.`);
  }

  /** Settings changed: recompute every run, redraw, update the URL. */
  private changed(): void {
    this.recompute();
    this.commit();
  }

  private recompute(): void {
    const fn = findFunction(this.state.fn)!;
    this.plot.setFunction(fn, viewFor(fn, this.state.start));
    this.runs = simulate(this.state);
    for (const [id, c] of this.optimizerControls) {
      const run = this.runs.find((r) => r.id === id);
      const lines: string[] = [];
      let error = false;
      if (run?.error) {
        lines.push(`Not run: ${run.error}`);
        error = true;
      } else if (run?.stopped) {
        lines.push(`Run ${run.stopped}`);
        error = true;
      }
      for (const w of run?.warnings ?? []) lines.push(`Warning: ${w}`);
      c.message.hidden = lines.length === 0;
      c.message.textContent = lines.join(" ");
      c.message.className = `message ${error ? "error" : "warning"}`;
    }
    this.buildLegend();
    this.render();
  }

  private buildLegend(): void {
    const body = this.el.legend.tBodies[0]!;
    body.replaceChildren();
    if (this.runs.length === 0) {
      const row = body.insertRow();
      const cell = row.insertCell();
      cell.colSpan = 5;
      cell.textContent = "No optimizer selected: tick one under Settings.";
      return;
    }
    for (const run of this.runs) {
      const spec = findOptimizer(run.id)!;
      const row = body.insertRow();
      row.dataset.optimizer = run.id;
      const name = document.createElement("th");
      name.scope = "row";
      const wrap = document.createElement("span");
      wrap.className = "name";
      wrap.append(swatch(spec.style), document.createTextNode(spec.label));
      name.append(wrap);
      row.append(name);
      for (let k = 0; k < 3; k++) row.insertCell().className = "num";
      row.insertCell().className = "note";
    }
  }

  private updateLegend(): void {
    const body = this.el.legend.tBodies[0]!;
    for (const run of this.runs) {
      const row = body.querySelector<HTMLTableRowElement>(`tr[data-optimizer="${run.id}"]`);
      if (!row) continue;
      const k = Math.min(this.state.at, run.points - 1);
      const cells = row.cells;
      cells[1]!.textContent = formatNumber(run.path[2 * k]!);
      cells[2]!.textContent = formatNumber(run.path[2 * k + 1]!);
      cells[3]!.textContent = formatNumber(run.loss[k]!, 3);
      cells[4]!.textContent = run.error
        ? "options rejected (see Settings)"
        : run.stopped && this.state.at >= run.points - 1
          ? run.stopped.split(":")[0]!
          : "";
    }
  }

  private render(): void {
    const { at, steps, start } = this.state;
    this.plot.render(this.runs, at, start);
    this.chart.render(this.runs, at, steps, findFunction(this.state.fn)!.minValue);
    this.el.at.max = String(steps);
    this.el.at.value = String(at);
    this.el.counter.value = `step ${at} / ${steps}`;
    const fn = findFunction(this.state.fn)!;
    this.el.plotCanvas.setAttribute(
      "aria-label",
      `Contour plot of ${fn.label} with the minimum at (${fn.minimum[0]}, ${fn.minimum[1]}), start at (${start[0]}, ${start[1]}), ` +
        `and the paths of ${this.runs.map((r) => findOptimizer(r.id)!.label).join(", ") || "no optimizer"} up to step ${at}. ` +
        "The table below lists their positions.",
    );
    this.updateLegend();
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
          out[run.id] = [run.path[2 * k]!, run.path[2 * k + 1]!];
        }
        return out;
      },
      state: () => cloneState(this.state),
      playing: () => this.playing,
      runs: () =>
        this.runs.map((r) => ({
          id: r.id,
          points: r.points,
          ...(r.stopped !== undefined ? { stopped: r.stopped } : {}),
          ...(r.error !== undefined ? { error: r.error } : {}),
          warnings: [...r.warnings],
        })),
      drawn: () => ({ ...this.plot.drawn }),
    });
  }
}

window.__demo = new Demo().hook();
