/**
 * The browser part of the optimizer step benchmark: the page of `test/browser/page` (built by Vite, served
 * cross-origin isolated so the wasm backend runs its threaded SIMD binary) in Debian's headless Chromium,
 * timing one `applyGradients` step of our AdaBelief and Adam against `tf.train.adam` on the same backend in
 * the same page: WebGL (on SwiftShader here, i.e. the CPU: not a GPU figure), wasm (threaded), and WebGPU
 * when the page has its backend (`@tensorflow/tfjs-backend-webgpu` installed, or `ADABELIEF_WEBGPU_BACKEND`
 * naming an entry file, see `test/browser/harness.ts`) and the browser an adapter.
 * `optimizers.ts` calls {@link benchBrowser} and adds a section to the report.
 */
import type { BenchRow } from "../test/browser/page/main.js";
import { buildPage, launchChromium, openPage, removePage, serve } from "../test/browser/harness.js";

export type { BenchRow };

export interface BrowserBench {
  rows: BenchRow[];
  browser: string;
  renderer: string;
  webgpu: string;
  wasm: string;
  skipped: string[];
}

/** The workloads measured per backend (SwiftShader's WebGL is slow at 1e7: 1e6 there). */
const PLAN: {
  backend: string;
  workloads: { label: string; count: number; size: number }[];
  /** false: only `nonFinite: "proceed"` rows (see WebGPU below). */
  withScan?: boolean;
}[] = [
  {
    backend: "webgl",
    workloads: [
      { label: "1 × 1e6", count: 1, size: 1e6 },
      { label: "200 × 5e3", count: 200, size: 5e3 },
    ],
  },
  {
    backend: "wasm",
    workloads: [
      { label: "1 × 1e7", count: 1, size: 1e7 },
      { label: "200 × 5e3", count: 200, size: 5e3 },
    ],
  },
  // When the page has a WebGPU backend (installed, or given to the harness): without the default
  // non-finite check, whose synchronous read-back loses the device on SwiftShader.
  {
    backend: "webgpu",
    workloads: [
      { label: "1 × 1e6", count: 1, size: 1e6 },
      { label: "200 × 5e3", count: 200, size: 5e3 },
    ],
    withScan: false,
  },
];

/** Runs the browser benchmark; throws when the page cannot be built or the browser not started. */
export async function benchBrowser(budgetMs = 1500): Promise<BrowserBench> {
  const dir = await buildPage();
  const server = await serve(dir, true);
  const browser = await launchChromium();
  try {
    const { call, errors } = await openPage(browser, server.url);
    const rows: BenchRow[] = [];
    const skipped: string[] = [];
    const gpu = (await call("webgpuInfo")) as { adapter: boolean; backend: boolean; reason: string };
    for (const { backend, workloads, withScan } of PLAN) {
      if (backend === "webgpu" && !(gpu.adapter && gpu.backend)) {
        skipped.push(
          `webgpu (${gpu.backend ? `no adapter: ${gpu.reason}` : "@tensorflow/tfjs-backend-webgpu not installed"})`,
        );
        continue;
      }
      const r = (await call("bench", backend, workloads, budgetMs, withScan ?? true)) as {
        rows: BenchRow[];
        skipped?: string;
      };
      if (r.skipped) skipped.push(r.skipped);
      rows.push(...r.rows);
      console.error(`  browser ${backend} done`);
    }
    const threads = (await call("wasmThreads")) as {
      multithread: boolean;
      threads: number;
      sharedHeap: boolean | null;
    };
    if (errors.length) skipped.push(`page errors: ${errors.join("; ")}`);
    return {
      rows,
      browser: `Chromium ${browser.version()}`,
      renderer: String(await call("rendererInfo")),
      webgpu: !gpu.adapter
        ? `no adapter (${gpu.reason})`
        : gpu.backend
          ? "adapter present"
          : "adapter present, backend not installed",
      wasm: `threaded SIMD binary ${threads.multithread ? "on" : "off"}, ${threads.threads} thread(s), shared heap ${threads.sharedHeap}`,
      skipped,
    };
  } finally {
    await browser.close();
    await server.close();
    removePage(dir);
  }
}
