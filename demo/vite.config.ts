/**
 * Vite configuration of the demo page. `npm run demo` serves it (`vite demo`); `npm run demo:build` writes a
 * static site to demo/dist with relative paths, so the folder can be served from anywhere.
 */
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const root = fileURLToPath(new URL(".", import.meta.url));

export default defineConfig({
  root,
  base: "./",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
  },
  server: {
    // The page imports the library's core from ../src.
    fs: { allow: [fileURLToPath(new URL("..", import.meta.url))] },
  },
});
