import { defineConfig } from "vitest/config";
import { workspaceAliases } from "./workspace-aliases.js";

const project = (name: string) => ({
  extends: true as const,
  test: { name, include: [`packages/${name}/test/**/*.test.ts`] },
});

export default defineConfig({
  resolve: { alias: workspaceAliases },
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // `npm test`: the library (core, tfjs, golden). `npm run test:e2e`: the experiments, the demo and the
    // library's fused paths in headless Chromium (webgl, webgpu, threaded wasm).
    projects: [
      project("adabelief"),
      project("experiments"),
      project("demo"),
      {
        extends: true as const,
        test: {
          name: "adabelief-browser",
          include: ["packages/adabelief/test/browser/**/*.e2e.ts"],
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
