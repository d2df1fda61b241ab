import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it, vi } from "vitest";

/** The README's quick-start example must run as written and print what it says it prints. */
const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
const section = readme.slice(readme.indexOf("## Quick start (core)"));
const snippet = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
const dir = mkdtempSync(join(tmpdir(), "readme-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it("the core quick-start example runs and converges", async () => {
  expect(snippet).toBeDefined();
  const file = join(dir, "quickstart.ts");
  writeFileSync(file, snippet!);
  const log = vi.spyOn(console, "log").mockImplementation(() => {});
  await import(/* @vite-ignore */ file);
  const [[w]] = log.mock.calls as [[number[]]];
  log.mockRestore();
  expect(w[0]).toBeCloseTo(3, 2);
  expect(w[1]).toBeCloseTo(-1, 2);
});
