/**
 * What the browser tests and the browser benchmark need around the page (`./page`): a production build
 * (Vite's build API) with TensorFlow.js's wasm binaries copied beside it, a static file server on
 * 127.0.0.1 that sends the cross-origin-isolation headers (COOP/COEP: SharedArrayBuffer, so the wasm
 * backend runs its threaded SIMD binary), and Debian's Chromium driven by playwright-core (never a
 * downloaded browser), with WebGL on SwiftShader and WebGPU enabled where the browser has it.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import { build } from "vite";

const PAGE = resolve(fileURLToPath(new URL("./page", import.meta.url)));
const ROOT = resolve(fileURLToPath(new URL("../../../..", import.meta.url)));

/** The Chromium driven: `CHROMIUM_PATH`, or Debian's `/usr/bin/chromium`. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/**
 * Where `@tensorflow/tfjs-backend-webgpu` comes from: `ADABELIEF_WEBGPU_BACKEND` (an entry file, e.g. the
 * package's sources), else the installed package, else a stub (no WebGPU backend in the page).
 */
function webgpuBackend(): string {
  const given = process.env.ADABELIEF_WEBGPU_BACKEND;
  if (given) return resolve(given);
  const installed = join(ROOT, "node_modules/@tensorflow/tfjs-backend-webgpu/package.json");
  return existsSync(installed) ? "@tensorflow/tfjs-backend-webgpu" : join(PAGE, "no-webgpu.ts");
}

/** Builds the page into a fresh temporary folder, with the wasm backend's binaries in `wasm/`. */
export async function buildPage(): Promise<string> {
  const outDir = mkdtempSync(join(tmpdir(), "adabelief-browser-"));
  const webgpu = webgpuBackend();
  await build({
    configFile: false,
    root: PAGE,
    base: "./",
    logLevel: "warn",
    resolve: {
      alias:
        webgpu === "@tensorflow/tfjs-backend-webgpu"
          ? []
          : [{ find: /^@tensorflow\/tfjs-backend-webgpu$/, replacement: webgpu }],
    },
    // Not minified: the threaded wasm backend hands its Emscripten factory to its workers as source text
    // (`factory.toString()`), which breaks when a minifier renames what it refers to.
    build: { outDir, emptyOutDir: true, target: "es2022", chunkSizeWarningLimit: 10_000, minify: false },
    server: { fs: { allow: [ROOT] } },
  });
  const wasmDir = join(ROOT, "node_modules/@tensorflow/tfjs-backend-wasm/dist");
  mkdirSync(join(outDir, "wasm"));
  for (const f of [
    "tfjs-backend-wasm.wasm",
    "tfjs-backend-wasm-simd.wasm",
    "tfjs-backend-wasm-threaded-simd.wasm",
  ]) {
    copyFileSync(join(wasmDir, f), join(outDir, "wasm", f));
  }
  return outDir;
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".wasm": "application/wasm",
  ".json": "application/json",
};

/**
 * Serves `dir` on 127.0.0.1 (a free port); `/` is `index.html`. With `isolated`, every response carries
 * `Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy: require-corp`, which make
 * the page cross-origin isolated (SharedArrayBuffer, threads).
 */
export async function serve(
  dir: string,
  isolated: boolean,
): Promise<{ url: string; close: () => Promise<void> }> {
  const root = resolve(dir);
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://127.0.0.1").pathname);
    const file = normalize(join(root, path === "/" ? "index.html" : path));
    if (file !== root && !file.startsWith(root + sep)) {
      res.writeHead(403).end();
      return;
    }
    const headers: Record<string, string> = isolated
      ? {
          "cross-origin-opener-policy": "same-origin",
          "cross-origin-embedder-policy": "require-corp",
          "cross-origin-resource-policy": "same-origin",
        }
      : {};
    readFile(file).then(
      (body) => {
        res.writeHead(200, {
          ...headers,
          "content-type": TYPES[extname(file)] ?? "application/octet-stream",
        });
        res.end(body);
      },
      () => res.writeHead(404, { ...headers, "content-type": "text/plain" }).end("not found"),
    );
  });
  await new Promise<void>((ok, fail) => {
    server.once("error", fail);
    server.listen(0, "127.0.0.1", ok);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}

/** Launches headless Chromium from Debian (WebGL on SwiftShader); a clear error if it is not installed. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM}: install it (apt-get install -y chromium) or set CHROMIUM_PATH`,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--use-angle=swiftshader",
      "--enable-unsafe-swiftshader",
      "--enable-unsafe-webgpu",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** The page API (see `./page/main.ts`), called by name with JSON arguments. */
export type PageCall = (name: string, ...args: unknown[]) => Promise<unknown>;

/** Opens the page at `url` and waits until it is ready; `call` runs one of its functions. */
export async function openPage(
  browser: Browser,
  url: string,
): Promise<{ page: Page; call: PageCall; errors: string[] }> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(url);
  await page.waitForFunction(() => document.getElementById("status")?.textContent === "ready", null, {
    timeout: 60_000,
  });
  const call: PageCall = (name, ...args) =>
    page.evaluate(
      ([n, a]) =>
        (window as unknown as { adabeliefPage: Record<string, (...x: unknown[]) => Promise<unknown>> })
          .adabeliefPage[n as string]!(...(a as unknown[])),
      [name, args] as const,
    );
  return { page, call, errors };
}

/** Removes a built page folder. */
export function removePage(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
