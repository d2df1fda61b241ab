/**
 * The update paths that only a browser has, in headless Chromium (Debian's, driven by playwright-core):
 * - the fused WebGL programs (AdaBelief, Adam, AdamW; WebGL 2 on SwiftShader here) against the core rules;
 * - the wasm backend's threaded SIMD binary under a cross-origin-isolated page (COOP/COEP headers): its heap
 *   is a shared memory, and the SIMD kernels must run there (the shared-memory build of the module), not
 *   fall back silently to the JavaScript loop;
 * - whether the browser has a WebGPU adapter (reported; the WebGPU backend is not a dependency).
 *
 * Not part of `npm test` (which stays browser-free): the file is named `*.e2e.ts`, for the e2e tier.
 */
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildPage, launchChromium, openPage, removePage, serve, type PageCall } from "./harness.js";

interface Equivalence {
  worst: number;
  paths: (string | null)[];
  tensorsBefore: number;
  tensorsAfter: number;
  leftAfterDispose: number;
  skipped?: string;
}

let dir = "";
let browser: Browser;
let close: () => Promise<void> = async () => {};
let call: PageCall;
let errors: string[] = [];

beforeAll(async () => {
  dir = await buildPage();
  const server = await serve(dir, true);
  close = server.close;
  browser = await launchChromium();
  const opened = await openPage(browser, server.url);
  call = opened.call;
  errors = opened.errors;
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await close();
  if (dir) removePage(dir);
});

const TOL = 1e-5;

const cases: [string, string, Record<string, unknown>, number[][], number][] = [
  ["AdaBelief, default (rectified: warm-up steps then adaptive)", "AdaBelief", {}, [[300], [17, 9], [1]], 12],
  [
    "AdaBelief, no rectification, AMSGrad, L2 decay",
    "AdaBelief",
    { rectify: false, amsgrad: true, weightDecay: 0.01, weightDecouple: false },
    [[257], [4, 4, 3]],
    10,
  ],
  [
    "AdaBelief, rectified without SGD warm-up, decoupled decay",
    "AdaBelief",
    { degeneratedToSgd: false, weightDecay: 0.1 },
    [[129]],
    10,
  ],
  ["Adam", "Adam", {}, [[300], [6, 7]], 10],
  ["Adam, AMSGrad, L2", "Adam", { amsgrad: true, weightDecay: 0.01 }, [[100]], 10],
  ["AdamW", "AdamW", { weightDecay: 0.05 }, [[2048], [33]], 10],
];

describe("WebGL: fused shader programs", () => {
  it.each(cases)(
    "%s: equal to the core within float32 precision",
    async (_label, rule, options, shapes, steps) => {
      const r = (await call("equivalence", "webgl", { rule, options, shapes, steps })) as Equivalence;
      expect(r.skipped, "WebGL backend").toBeUndefined();
      expect(r.paths).toEqual(["webgl"]);
      expect(r.worst).toBeLessThanOrEqual(TOL);
      expect(r.tensorsAfter).toBe(r.tensorsBefore); // no tensor leaked per step
      expect(errors).toEqual([]);
    },
  );
});

describe("wasm backend, cross-origin isolated (threaded SIMD binary)", () => {
  it("the heap is a shared memory and the SIMD kernels run on it (no fallback, no warning)", async () => {
    const r = (await call("wasmThreads")) as {
      crossOriginIsolated: boolean;
      multithread: boolean;
      sharedHeap: boolean | null;
      threads: number;
      adabelief: Equivalence;
      adam: Equivalence;
      warnings: string[];
    };
    expect(r.crossOriginIsolated).toBe(true);
    expect(r.multithread).toBe(true);
    expect(r.sharedHeap).toBe(true);
    expect(r.adabelief.paths).toEqual(["wasm-simd"]);
    expect(r.adam.paths).toEqual(["wasm-simd"]);
    expect(r.adabelief.worst).toBeLessThanOrEqual(TOL);
    expect(r.adam.worst).toBeLessThanOrEqual(TOL);
    expect(r.adabelief.tensorsAfter).toBe(r.adabelief.tensorsBefore);
    expect(r.warnings).toEqual([]);
    expect(errors).toEqual([]);
  });
});

describe("cpu backend in the browser", () => {
  it("the SIMD kernel on the wasm slot arena runs in the page too", async () => {
    const r = (await call("equivalence", "cpu", {
      rule: "AdaBelief",
      options: {},
      shapes: [[5000], [3, 3]],
      steps: 10,
    })) as Equivalence;
    expect(r.paths).toEqual(["cpu-simd"]);
    expect(r.worst).toBeLessThanOrEqual(TOL);
  });
});

describe("WebGPU: fused compute shaders", () => {
  let available = false;
  it("reports whether this browser has an adapter and the page a WebGPU backend", async () => {
    const r = (await call("webgpuInfo")) as { adapter: boolean; backend: boolean; reason: string };
    available = r.adapter && r.backend;
    console.log(
      `WebGPU in headless Chromium: adapter ${r.adapter ? "yes" : `no (${r.reason})`}, ` +
        `backend ${r.backend ? "yes" : "not installed (@tensorflow/tfjs-backend-webgpu)"}`,
    );
  });
  // `nonFinite: "proceed"`: the default check reads a flag back with dataSync(), which loses the WebGPU
  // device on SwiftShader here (the generic tensor path fails the same way); the programs are what is tested.
  it.each(cases)(
    "%s: equal to the core within float32 precision",
    async (_label, rule, options, shapes, steps) => {
      if (!available) return;
      const r = (await call("equivalence", "webgpu", {
        rule,
        options: { ...options, nonFinite: "proceed" },
        shapes,
        steps,
      })) as Equivalence;
      expect(r.skipped, "WebGPU backend").toBeUndefined();
      expect(r.paths).toEqual(["webgpu"]);
      expect(r.worst).toBeLessThanOrEqual(TOL);
      expect(r.tensorsAfter).toBe(r.tensorsBefore);
    },
  );
});
