import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: [
      "dist/",
      "docs/",
      "node_modules/",
      "results/",
      "packages/demo/dist/",
      "packages/*/dist/",
      "**/*.wasm",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // The experiments and the demo use the library by its public names only.
    files: ["packages/experiments/**/*.ts", "packages/demo/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["**/adabelief/src/**", "**/adabelief/dist/**"],
              message: "Import 'adabelief', 'adabelief/tfjs' or 'adabelief/tfjs/wasm-kernels'.",
            },
          ],
        },
      ],
    },
  },
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
);
