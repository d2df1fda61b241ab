/**
 * Prints the random differential report: counts per dtype and optimizer (bit-identical, strict, relaxed) and
 * every case outside the strict rule with its diagnosis (see random-diagnose.ts).
 *
 *   npx tsx packages/adabelief/test/golden/random-report.ts            # the report
 *   npx tsx packages/adabelief/test/golden/random-report.ts --json F   # also every result as JSON in F
 *   ... --no-emulation                                                # skip the torch-emulation column
 */
import { writeFileSync } from "node:fs";
import { setWarningHandler } from "../../src/core/index.js";
import { loadRandomFixture } from "./random-replay.js";
import { evaluate, formatReport } from "./random-summary.js";

setWarningHandler(() => {});
// The torch emulation column replays every case a second time with random-diagnose.ts's exact model of torch's
// op sequence (per-op rounding, fused multiply-adds, exactly rounded β^t): what a bit-exact port would get.
const evaluation = evaluate(loadRandomFixture(), true, !process.argv.includes("--no-emulation"));
console.log(formatReport(evaluation));
const j = process.argv.indexOf("--json");
if (j > 0 && process.argv[j + 1]) {
  const rows = evaluation.results.map(({ kase, result }) => {
    const failure = evaluation.failures.find((f) => f.kase.id === kase.id);
    const { actual: _actual, ...rest } = result;
    return { ...rest, config: kase.config, diagnosis: failure?.strict, relaxedDiagnosis: failure?.relaxed };
  });
  writeFileSync(process.argv[j + 1]!, JSON.stringify(rows, null, 1));
}
