/**
 * The table of `paths` in tsconfig.json as Vite/Vitest aliases: the workspaces import the library by its
 * public names, which resolve to its sources in development (no build needed) and to its `dist` for users.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = new URL("./", import.meta.url);
const tsconfig = readFileSync(new URL("tsconfig.json", root), "utf8").replace(/^\s*\/\/.*$/gm, "");
const paths = (JSON.parse(tsconfig) as { compilerOptions: { paths: Record<string, [string]> } })
  .compilerOptions.paths;

/** Exact-match aliases, longest name first. */
export const workspaceAliases = Object.entries(paths)
  .sort(([a], [b]) => b.length - a.length)
  .map(([name, [target]]) => ({
    find: new RegExp(`^${name.replace(/[/.]/g, "\\$&")}$`),
    replacement: fileURLToPath(new URL(target, root)),
  }));
