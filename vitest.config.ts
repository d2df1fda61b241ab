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
    // `npm test`: the library (core, tfjs, golden). `npm run test:e2e`: the experiments and the demo.
    projects: [project("adabelief"), project("experiments"), project("demo")],
  },
});
