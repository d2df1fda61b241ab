import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const src = (p: string) => fileURLToPath(new URL(`./src/${p}`, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests import the package by its public name, straight from the sources (no build needed).
    alias: [
      { find: /^adabelief\/tfjs$/, replacement: src("tfjs/index.ts") },
      { find: /^adabelief$/, replacement: src("core/index.ts") },
    ],
  },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
  },
});
