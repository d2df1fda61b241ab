import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** A problem of the golden files (see test/fixtures/golden/README.md). */
export interface GoldenProblem {
  description: string;
  param_order: string[];
  param_shapes: Record<string, number[]>;
  init: Record<string, unknown>;
  steps: number;
  gradients?: number[][];
  data?: { X: number[][]; Y: number[][] };
}

/** One case: an optimizer, a config, a problem, a dtype, and the expected trajectory. */
export interface GoldenCase {
  name: string;
  optimizer: string;
  config_name: string;
  config: Record<string, unknown>;
  problem: string;
  dtype: "float32" | "float64";
  steps: number;
  trajectory: number[][];
}

export interface GoldenFile {
  file: string;
  generator: { comparison: { tol: { float32: number; float64: number } } };
  problems: Record<string, GoldenProblem>;
  cases: GoldenCase[];
}

const here = dirname(fileURLToPath(import.meta.url));

/** The golden directory: `$GOLDEN_DIR`, else the copy of the reference trajectories in `test/fixtures/golden`. */
export function goldenDir(): string {
  return process.env.GOLDEN_DIR ? resolve(process.env.GOLDEN_DIR) : resolve(here, "../fixtures/golden");
}

/** Every `*.json` file of the golden directory, parsed. Throws if the directory is missing or empty. */
export function loadGoldenFiles(): GoldenFile[] {
  const dir = goldenDir();
  if (!existsSync(dir)) throw new Error(`golden directory ${dir} does not exist (set GOLDEN_DIR)`);
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort();
  if (files.length === 0) throw new Error(`golden directory ${dir} holds no .json files`);
  return files.map((file) => ({
    file,
    ...(JSON.parse(readFileSync(join(dir, file), "utf8")) as Omit<GoldenFile, "file">),
  }));
}
