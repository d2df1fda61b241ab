/**
 * The demo page in a real browser: Vite production build, served on 127.0.0.1, driven in Debian's headless
 * Chromium with playwright-core. End points are checked against the core optimizers run here in Node.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AdaBelief,
  AdaBound,
  Adam,
  AdamW,
  Fromage,
  MSVAG,
  RAdam,
  SGD,
  Yogi,
  type FloatArray,
  type Optimizer,
} from "adabelief";
import { TOY_FUNCTIONS } from "@adabelief/experiments/toy-functions";
import { gaussian } from "../src/noise.js";
import type { DemoHook } from "../src/main.js";
import { defaultState, toQuery, type DemoState } from "../src/state.js";
import { buildDemo, launchChromium, ROOT, serve } from "./harness.js";

type Ctor = new (params: FloatArray[], options: object) => Optimizer;
const CORE: Record<string, Ctor> = {
  adabelief: AdaBelief as Ctor,
  sgd: SGD as Ctor,
  adam: Adam as Ctor,
  adamw: AdamW as Ctor,
  radam: RAdam as Ctor,
  yogi: Yogi as Ctor,
  adabound: AdaBound as Ctor,
  msvag: MSVAG as Ctor,
  fromage: Fromage as Ctor,
};
const ALL = ["adabelief", "sgd", "adam", "adamw", "radam", "yogi", "adabound", "msvag", "fromage"];

/**
 * Where the core puts optimizer `id` after `state.at` steps of the page's settings: one Float64Array [x, y],
 * the suite's toy function's gradient, plus σ·z with z from the seeded generator (x then y) when noisy.
 */
function coreEndpoint(state: DemoState, id: string): [number, number] {
  const fn = TOY_FUNCTIONS.find((f) => f.id === state.fn)!;
  const theta = Float64Array.from(state.start);
  const options: Record<string, unknown> = { ...state.hyper[id as keyof DemoState["hyper"]] };
  // RAdam takes degeneratedToSgd only in its paper variant.
  if (id === "radam" && options.variant !== "paper") delete options.degeneratedToSgd;
  const optimizer = new CORE[id]!([theta], options);
  const grad = new Float64Array(2);
  const z = state.noise > 0 ? gaussian(state.seed) : undefined;
  for (let k = 0; k < state.at; k++) {
    fn.grad(theta[0]!, theta[1]!, grad);
    if (z) {
      grad[0] = grad[0]! + state.noise * z();
      grad[1] = grad[1]! + state.noise * z();
    }
    optimizer.step([grad]);
  }
  return [theta[0]!, theta[1]!];
}

/** |a − b| ≤ 1e-9·(1 + |b|) per coordinate; returns the worst relative deviation. */
function expectClose(actual: [number, number], expected: [number, number], what: string): number {
  let worst = 0;
  for (let i = 0; i < 2; i++) {
    const dev = Math.abs(actual[i]! - expected[i]!) / (1 + Math.abs(expected[i]!));
    worst = Math.max(worst, dev);
    expect(dev, `${what} coordinate ${i}: page ${actual[i]} vs core ${expected[i]}`).toBeLessThanOrEqual(
      1e-9,
    );
  }
  return worst;
}

/** Calls `f` on the page's read-only test hook, `window.__demo`, in the browser. */
const hook = <T>(page: Page, f: (h: DemoHook) => T): Promise<T> =>
  page.evaluate(`(${f.toString()})(window.__demo)`) as Promise<T>;

describe("demo page in headless Chromium", () => {
  let dist: string;
  let server: Server;
  let base: string;
  let browser: Browser;
  /** The page the first tests share (navigations are slow on a busy machine, so there are few). */
  let race: Page;
  /** The page of the URL and keyboard tests. */
  let other: Page;
  /** Console errors, page errors and failed requests of every page. */
  const problems: string[] = [];

  async function newPage(viewport = { width: 1280, height: 900 }): Promise<Page> {
    const page = await browser.newPage({ viewport });
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(`console error: ${m.text()}`);
    });
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()}`));
    page.on("response", (r) => {
      if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
    });
    return page;
  }

  async function load(page: Page, query = ""): Promise<void> {
    await page.goto(base + query);
    await page.waitForFunction(() => window.__demo !== undefined);
  }

  beforeAll(async () => {
    dist = await mkdtemp(join(tmpdir(), "adabelief-demo-"));
    await buildDemo(dist);
    ({ url: base, server } = await serve(dist));
    browser = await launchChromium();
    race = await newPage();
    other = await newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((ok) => (server ? server.close(ok) : ok(undefined)));
    if (dist) await rm(dist, { recursive: true, force: true });
  });

  it("loads without console errors; Beale from (−2.5, −2.5) draws each optimizer's path, ending where the core does", async () => {
    const page = race;
    await load(page);
    const initial = await hook(page, (h) => h.state());
    expect(initial.fn).toBe("beale");
    expect(initial.start).toEqual([-2.5, -2.5]);
    expect(initial.selected).toEqual(["adabelief", "sgd", "adam"]);
    expect(await page.locator("#legend tbody tr").count()).toBe(3);
    // The plot is drawn: its centre is not blank.
    const painted = await page.evaluate(() => {
      const c = document.getElementById("plot") as HTMLCanvasElement;
      const d = c.getContext("2d")!.getImageData(c.width / 2, c.height / 2, 1, 1).data;
      return c.width > 0 && (d[0]! < 255 || d[1]! < 255 || d[2]! < 255);
    });
    expect(painted).toBe(true);
    expect(problems).toEqual([]);

    // Choose another function, then Beale, type the start point, tick all nine, apply the toy preset, play.
    await page.selectOption("#fn", "rosenbrock");
    expect((await hook(page, (h) => h.state())).start).toEqual([-1.5, 2]);
    await page.selectOption("#fn", "beale");
    for (const [id, value] of [
      ["#x0", "-2.5"],
      ["#y0", "-2.5"],
      ["#steps", "300"],
    ]) {
      await page.fill(id!, value!);
      await page.press(id!, "Tab");
    }
    for (const id of ALL) await page.check(`#use-${id}`);
    await page.selectOption("#preset", "toy");
    await page.click("#apply-preset");
    await page.selectOption("#speed", "20");
    await page.click("#play");
    await page.waitForFunction(
      () => {
        const h = window.__demo!;
        return !h.playing() && h.state().at === 300;
      },
      null,
      { timeout: 30_000 },
    );
    const state = await hook(page, (h) => h.state());
    expect(state.fn).toBe("beale");
    expect(state.start).toEqual([-2.5, -2.5]);
    expect(state.noise).toBe(0);
    expect(state.selected).toEqual(ALL);
    const endpoints = await hook(page, (h) => h.endpoints());
    const drawn = await hook(page, (h) => h.drawn());
    const runs = await hook(page, (h) => h.runs());
    expect(Object.keys(endpoints).sort()).toEqual([...ALL].sort());
    let worst = 0;
    for (const id of ALL) {
      const run = runs.find((r) => r.id === id)!;
      expect(run.error, id).toBeUndefined();
      expect(run.stopped, id).toBeUndefined();
      expect(run.points, id).toBe(301);
      expect(drawn[id], `${id}: points drawn`).toBe(301);
      const expected = coreEndpoint(state, id);
      // The run moved: a trajectory, not a dot.
      expect(Math.hypot(expected[0] + 2.5, expected[1] + 2.5), id).toBeGreaterThan(0.05);
      worst = Math.max(worst, expectClose(endpoints[id]!, expected, id));
    }
    console.log(
      `demo: 9 end points after 300 Beale steps match the core (worst relative deviation ${worst})`,
    );
    expect(await page.locator("#legend tbody tr").count()).toBe(9);
    expect(await page.textContent("#counter")).toBe("step 300 / 300");

    const png = await page.screenshot({ fullPage: true });
    expect(png.length).toBeGreaterThan(20_000);
    for (const dir of ["test-artifacts", "docs"]) {
      await mkdir(join(ROOT, dir), { recursive: true });
      await writeFile(join(ROOT, dir, "demo.png"), png);
    }
    expect(problems).toEqual([]);
  });

  it("noisy gradients: the seeded noise gives the core's end points", async () => {
    const page = race;
    for (const [id, value] of [
      ["#noise", "50"],
      ["#seed", "11"],
    ]) {
      await page.fill(id!, value!);
      await page.press(id!, "Tab");
    }
    const state = await hook(page, (h) => h.state());
    expect(state.noise).toBe(50);
    expect(state.seed).toBe(11);
    expect(state.at).toBe(300);
    const endpoints = await hook(page, (h) => h.endpoints());
    const noiseless = coreEndpoint({ ...state, noise: 0 }, "adabelief");
    expect(Math.abs(noiseless[0] - endpoints.adabelief![0]), "noise changes the path").toBeGreaterThan(1e-3);
    for (const id of state.selected) expectClose(endpoints[id]!, coreEndpoint(state, id), `${id} (noisy)`);
    expect(await page.evaluate(() => window.location.search)).toContain("&noise=50&seed=11&");
    expect(problems).toEqual([]);
  });

  it("fits a phone-width screen", async () => {
    await race.setViewportSize({ width: 375, height: 740 });
    await race.waitForTimeout(100);
    const overflow = await race.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    const plotWidth = await race.evaluate(
      () => document.getElementById("plot")!.getBoundingClientRect().width,
    );
    expect(plotWidth).toBeLessThanOrEqual(375);
    expect(problems).toEqual([]);
  });

  it("the URL round-trips the state, and edits reach the URL", async () => {
    const page = other;
    const state = defaultState();
    state.fn = "rosenbrock";
    state.start = [0.25, -0.75];
    state.steps = 123;
    state.at = 45;
    state.noise = 0.5;
    state.seed = 7;
    state.selected = ["adabelief", "sgd", "radam"];
    state.hyper.adabelief = { ...state.hyper.adabelief, learningRate: 0.03, epsilon: 1e-12, rectify: true };
    state.hyper.sgd = { ...state.hyper.sgd, momentum: 0.5, nesterov: true };
    state.hyper.radam = { ...state.hyper.radam, variant: "pytorch", learningRate: 0.002 };
    const query = toQuery(state);
    await load(page, query);
    expect(await hook(page, (h) => h.state())).toEqual(state);
    expect(await page.evaluate(() => window.location.search)).toBe(query);
    expect(await page.inputValue("#x0")).toBe("0.25");
    expect(await page.isChecked("#sgd-nest")).toBe(true);

    // An edit in the form is written to the URL; a reload restores it.
    await page.click("text=SGD hyper-parameters");
    await page.fill("#sgd-lr", "0.002");
    await page.press("#sgd-lr", "Tab");
    expect(await page.evaluate(() => window.location.search)).toContain("sgd=lr:0.002,");
    await page.reload();
    await page.waitForFunction(() => window.__demo !== undefined);
    const reloaded = await hook(page, (h) => h.state());
    expect(reloaded.hyper.sgd!.learningRate).toBe(0.002);
    expect({ ...reloaded, hyper: undefined }).toEqual({ ...state, hyper: undefined });

    // A link with values the page cannot use: they are named in the status line, the rest still applies;
    // hyper-parameters the core rejects show its message, and the other optimizers still run.
    await load(page, "?fn=nope&steps=abc&x=1.5&opt=adabelief,adam&adam=lr:zero,b1:1.5");
    const bad = await hook(page, (h) => h.state());
    expect(bad.fn).toBe("beale");
    expect(bad.steps).toBe(defaultState().steps);
    expect(bad.start[0]).toBe(1.5);
    const status = await page.textContent("#status");
    expect(status).toContain("fn=nope");
    expect(status).toContain("steps=abc");
    expect(status).toContain("adam.lr=zero");
    const runs = await hook(page, (h) => h.runs());
    expect(runs.find((r) => r.id === "adam")!.error).toMatch(/beta1 must be a number in \[0, 1\), got 1\.5/);
    expect(runs.find((r) => r.id === "adabelief")!.points).toBe(defaultState().steps + 1);
    expect(await page.textContent("#message-adam")).toContain("beta1");
    expect(problems).toEqual([]);
  });

  it("the play button works from the keyboard, with a visible focus ring", async () => {
    const page = other;
    await load(page, "?steps=2000");
    let focused = "";
    for (let i = 0; i < 40 && focused !== "play"; i++) {
      await page.keyboard.press("Tab");
      focused = await page.evaluate(() => document.activeElement?.id ?? "");
    }
    expect(focused).toBe("play");
    const outline = await page.evaluate(() => {
      const s = getComputedStyle(document.activeElement!);
      return `${s.outlineStyle} ${s.outlineWidth}`;
    });
    expect(outline).toBe("solid 3px");
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => window.__demo!.state().at > 10);
    expect(await hook(page, (h) => h.playing())).toBe(true);
    expect(await page.textContent("#play")).toContain("Pause");
    await page.keyboard.press("Space");
    expect(await hook(page, (h) => h.playing())).toBe(false);
    const at = await hook(page, (h) => h.state().at);
    await page.waitForTimeout(300);
    expect(await hook(page, (h) => h.state().at)).toBe(at);
    expect(at).toBeLessThan(2000);
    expect(await page.evaluate(() => window.location.search)).toContain(`&at=${at}&`);
    // The step scrubber takes arrow keys.
    await page.focus("#at");
    await page.keyboard.press("ArrowRight");
    expect(await hook(page, (h) => h.state().at)).toBe(at + 1);

    // A click on the plot moves the start point (Beale's view is centred on the origin) and the fields.
    const box = (await page.locator("#plot").boundingBox())!;
    const centre = 46 + (box.width - 58) / 2; // plot margins: 46 px left, 12 right and top
    await page.locator("#plot").click({ position: { x: centre, y: centre - 34 } });
    const start = await hook(page, (h) => h.state().start);
    expect(Math.abs(start[0]) + Math.abs(start[1])).toBeLessThan(0.1);
    expect(await page.inputValue("#x0")).toBe(String(start[0]));
    expect(problems).toEqual([]);
  });
});
