/**
 * Vite configuration of the demo page. `npm run demo` serves it; `npm run demo:build` writes a static site
 * to packages/demo/dist with relative paths, so the folder can be served from anywhere.
 */
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";
import { workspaceAliases } from "../../workspace-aliases.js";

const root = fileURLToPath(new URL(".", import.meta.url));

export default defineConfig({
  root,
  base: "./",
  resolve: { alias: workspaceAliases },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
  },
  server: {
    // The page imports the library and the toy functions from their workspace sources.
    fs: { allow: [fileURLToPath(new URL("../..", import.meta.url))] },
  },
});
