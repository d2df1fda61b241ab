/**
 * The toy task's own report section: steps to the tolerance and final distance per function and optimizer,
 * the trajectories over contour lines, and where AdaBelief did not win.
 *
 * @packageDocumentation
 */
import { TOY_FUNCTIONS, type ToyFunction } from "../tasks/toy-functions.js";
import type { ToyExtra, ToyPath } from "../tasks/toy.js";
import { TOY_LEARNING_RATES } from "../tasks/toy.js";
import { OPTIMIZERS, type OptimizerName, type RunResult } from "../task.js";
import { contourLines, type ContourLine } from "./contours.js";
import { formatNumber, markdownTable } from "./format.js";
import { OPTIMIZER_LABELS } from "./palette.js";
import { renderSvg, trajectorySpec } from "./plots.js";

function isToyExtra(v: unknown): v is ToyExtra {
  return (
    typeof v === "object" &&
    v !== null &&
    Array.isArray((v as ToyExtra).paths) &&
    typeof (v as ToyExtra).tolerance === "number"
  );
}

const contourCache = new Map<string, ContourLine[]>();

/** The contour lines of a toy function's plot window (the same for every report: computed once). */
function contoursOf(fn: ToyFunction): ContourLine[] {
  let c = contourCache.get(fn.id);
  if (!c) {
    c = contourLines(fn.f, fn.domain, { resolution: 70 });
    contourCache.set(fn.id, c);
  }
  return c;
}

/**
 * The steps after which a path is credited with reaching the minimum: its first step within the tolerance,
 * or null if it never got there or diverged later (a run that blew up is never credited, whatever it
 * passed by on the way).
 */
export function creditedSteps(p: ToyPath | undefined): number | null {
  if (!p || p.diverged) return null;
  return p.stepsToTolerance;
}

/** The toy section: Markdown, the trajectory SVGs by file name, and the "did not win" sentences. */
export async function toySection(
  runs: readonly RunResult[],
): Promise<{ markdown: string; svgs: Map<string, string>; statements: string[] }> {
  // Deterministic task: one run per optimizer is the result (the lowest seed is used).
  const paths = new Map<OptimizerName, Map<string, ToyPath>>();
  let tolerance = Number.NaN;
  for (const r of runs) {
    if (paths.has(r.spec.optimizer) || !isToyExtra(r.extra)) continue;
    tolerance = r.extra.tolerance;
    paths.set(r.spec.optimizer, new Map(r.extra.paths.map((p) => [p.id, p])));
  }
  const names = OPTIMIZERS.filter((n) => paths.has(n));
  const svgs = new Map<string, string>();
  const statements: string[] = [];
  const md: string[] = [];
  if (names.length === 0) return { markdown: "", svgs, statements };

  md.push(`## Per function: steps to reach the minimum, and final distance\n`);
  md.push(
    `Each cell: the first step after which the Euclidean distance to the minimiser was ≤ ${tolerance}, then the ` +
      `distance after the last step. "never" = not reached. A run that diverged (left the ±1000 box or ` +
      `overflowed) is not credited with reaching the minimum, even if it passed within ${tolerance} of it ` +
      `before: its cell says when it diverged. Fewest steps among the runs that did not diverge in **bold**.\n`,
  );
  const fns = TOY_FUNCTIONS.filter((fn) => names.some((n) => paths.get(n)!.has(fn.id)));
  const fastest = new Map<string, number>();
  for (const fn of fns) {
    const steps = names
      .map((n) => creditedSteps(paths.get(n)!.get(fn.id)))
      .filter((s): s is number => s !== null);
    if (steps.length > 0) fastest.set(fn.id, Math.min(...steps));
  }
  const rows = names.map((n) => [
    OPTIMIZER_LABELS[n],
    ...fns.map((fn) => {
      const p = paths.get(n)!.get(fn.id);
      if (!p) return "–";
      if (p.diverged) {
        return (
          `diverged at step ${p.steps}` +
          (p.stepsToTolerance !== null
            ? ` (within ${tolerance} at step ${p.stepsToTolerance}, then left)`
            : "")
        );
      }
      const reached = p.stepsToTolerance === null ? "never" : String(p.stepsToTolerance);
      const bold = p.stepsToTolerance !== null && p.stepsToTolerance === fastest.get(fn.id);
      return `${bold ? `**${reached}**` : reached} / ${formatNumber(p.finalDistance)}`;
    }),
  ]);
  md.push(
    markdownTable(["optimizer", ...fns.map((fn) => fn.label.replace(/\|/g, "\\|"))], rows, [
      "l",
      ...fns.map(() => "r" as const),
    ]),
  );
  md.push("");

  const ab = paths.get("adabelief");
  if (ab) {
    for (const fn of fns) {
      const p = ab.get(fn.id);
      if (!p) continue;
      const reachedBy = names.filter(
        (n) => n !== "adabelief" && creditedSteps(paths.get(n)!.get(fn.id)) !== null,
      );
      const own = creditedSteps(p);
      if (own === null) {
        statements.push(
          `On ${fn.label}, AdaBelief did not reach the minimum within ${tolerance} (` +
            (p.diverged
              ? `it diverged at step ${p.steps}`
              : `final distance ${formatNumber(p.finalDistance)}`) +
            ")" +
            (reachedBy.length > 0
              ? `; ${reachedBy.map((n) => OPTIMIZER_LABELS[n]).join(", ")} did.`
              : "; no optimizer did."),
        );
      } else {
        const faster = reachedBy.filter((n) => creditedSteps(paths.get(n)!.get(fn.id))! < own);
        if (faster.length > 0) {
          statements.push(
            `On ${fn.label}, ${faster.map((n) => `${OPTIMIZER_LABELS[n]} (${paths.get(n)!.get(fn.id)!.stepsToTolerance})`).join(", ")} ` +
              `reached the minimum in fewer steps than AdaBelief (${p.stepsToTolerance}).`,
          );
        }
        if (p.finalDistance > tolerance) {
          statements.push(
            `On ${fn.label}, AdaBelief reached the minimum but did not stay within ${tolerance} of it.`,
          );
        }
      }
    }
    md.push(`### Where AdaBelief did not win on the toy functions\n`);
    md.push(
      statements.length > 0
        ? statements.map((s) => `- ${s}`).join("\n") + "\n"
        : "AdaBelief reached every minimum first.\n",
    );
  }

  md.push(`## Trajectories\n`);
  md.push(
    `Paths over contour lines of f (levels at quantiles of f over the window); ● start, ✚ minimum. Each ` +
      `optimizer has its own colour and dash pattern, and its last point is marked with its own symbol ` +
      `(a diverged path is drawn until it leaves the window). Learning ` +
      `rates (fixed before any run, see \`TOY_LEARNING_RATES\` in \`packages/experiments/src/tasks/toy.ts\`):\n`,
  );
  md.push(
    markdownTable(
      ["function", ...names.map((n) => OPTIMIZER_LABELS[n])],
      fns.map((fn) => [
        fn.label.replace(/\|/g, "\\|"),
        ...names.map((n) =>
          formatNumber(paths.get(n)!.get(fn.id)?.learningRate ?? TOY_LEARNING_RATES[fn.id]![n]),
        ),
      ]),
      ["l", ...names.map(() => "r" as const)],
    ),
  );
  md.push("");
  for (const fn of fns) {
    const contours = contoursOf(fn);
    const spec = trajectorySpec(
      names.flatMap((n) => {
        const p = paths.get(n)!.get(fn.id);
        return p ? [{ optimizer: n, trajectory: p.trajectory, diverged: p.diverged }] : [];
      }),
      contours,
      { title: fn.label, domain: fn.domain, start: fn.start, minimum: fn.minimum },
    );
    const file = `trajectory-${fn.id}.svg`;
    svgs.set(file, await renderSvg(spec));
    md.push(`![${fn.label}](${file})\n`);
  }
  return { markdown: md.join("\n"), svgs, statements };
}
