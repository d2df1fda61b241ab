import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach } from "vitest";
import { createReporter, type Reporter } from "../src/progress.js";

/**
 * A maker of fresh temporary folders named `<prefix>-…`, each removed after the test that made it
 * (register it at the top level of a test file).
 */
export function tmpDirs(prefix: string): () => string {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  return () => {
    const d = mkdtempSync(join(tmpdir(), `${prefix}-`));
    dirs.push(d);
    return d;
  };
}

/** A suite reporter that prints nothing (its plain-text lines go to `lines` when given). */
export function quietReporter(lines: string[] = []): Reporter {
  return createReporter({ tty: false, stream: { write: (s: string) => (lines.push(s), true) } as never });
}
