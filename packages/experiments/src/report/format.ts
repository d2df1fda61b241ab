/**
 * Number and Markdown formatting for the reports.
 *
 * @packageDocumentation
 */
import type { MeanStd } from "./stats.js";

/** A number with about 4 significant digits; scientific notation below 1e-3 or from 1e6; integers as is. */
export function formatNumber(v: number): string {
  if (Number.isNaN(v)) return "–";
  if (!Number.isFinite(v)) return v > 0 ? "∞" : "−∞";
  if (Number.isInteger(v) && Math.abs(v) < 1e6) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(2);
  return String(Number(v.toPrecision(4)));
}

/** `mean ± std`, or just the mean when there is one seed. */
export function formatMeanStd(s: MeanStd): string {
  if (s.n === 0) return "–";
  return s.n > 1 ? `${formatNumber(s.mean)} ± ${formatNumber(s.std)}` : formatNumber(s.mean);
}

/** Escapes the characters that break a Markdown table cell. */
export function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

/** A Markdown table; `align` per column: `l`, `r` or `c` (default left). */
export function markdownTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  align?: readonly ("l" | "r" | "c")[],
): string {
  const sep = header.map((_, i) => {
    const a = align?.[i] ?? "l";
    return a === "r" ? "---:" : a === "c" ? ":---:" : "---";
  });
  const line = (cells: readonly string[]): string => `| ${cells.join(" | ")} |`;
  return [line(header), line(sep), ...rows.map(line)].join("\n") + "\n";
}

/** Human-readable label of a metric key: `testAcc` → `test acc`, `dist_beale` → `dist beale`. */
export function metricLabel(key: string): string {
  const known: Record<string, string> = {
    trainLoss: "train loss",
    testLoss: "test loss",
    valLoss: "validation loss",
    trainAcc: "train accuracy",
    testAcc: "test accuracy",
    valAcc: "validation accuracy",
    trainPpl: "train perplexity",
    valPpl: "validation perplexity",
    testPpl: "test perplexity",
    fd: "Fréchet distance (classifier features)",
  };
  if (known[key]) return known[key];
  return key
    .replace(/_/g, " ")
    .replace(/([a-z])([A-Z])/g, "$1 $2")
    .toLowerCase();
}

/** A file-name-safe slug of a metric key. */
export function slug(key: string): string {
  return key.replace(/[^A-Za-z0-9_-]+/g, "-");
}
