/**
 * How the demo's presets were chosen: runs the library's core on a grid of settings for each of the
 * paper's toy figures and prints, per setting, the step at which each optimizer first gets within 0.01 of
 * the minimum ("-" = not within the run; "DIV" = diverged). The presets (src/presets.ts) take settings
 * from these tables under which the behaviour the paper describes is visible, and their captions say
 * where it is not. `test/presets.test.ts` checks every number the captions quote.
 *
 *     npx tsx packages/demo/scripts/search-presets.ts            # all tables (a few seconds)
 *     npx tsx packages/demo/scripts/search-presets.ts beale      # one of: figures, beale, noise, epsilon
 */
import { OPTIMIZERS, type Optimizer } from "adabelief";
import { TOY_FUNCTIONS } from "@adabelief/experiments/toy-functions";
import { gaussian } from "../src/noise.js";

type Name = keyof typeof OPTIMIZERS;
type Ctor = new (p: Float64Array[], o: object) => Optimizer;

interface Outcome {
  /** First step within `within` of the minimiser, or null. */
  reached: number | null;
  /** Step at which |x| or |y| passed 1e3, or null. */
  diverged: number | null;
  /** Mean distance to the minimiser over the second half of the run. */
  tail: number;
}

function run(
  fnId: string,
  name: Name,
  options: Record<string, unknown>,
  steps: number,
  { noise = 0, seed = 1, within = 0.01 } = {},
): Outcome {
  const fn = TOY_FUNCTIONS.find((f) => f.id === fnId)!;
  const theta = Float64Array.from(fn.start);
  const opt = new (OPTIMIZERS[name] as Ctor)([theta], options);
  const g = new Float64Array(2);
  const z = noise > 0 ? gaussian(seed) : undefined;
  let reached: number | null = null;
  let tail = 0;
  for (let k = 1; k <= steps; k++) {
    fn.grad(theta[0]!, theta[1]!, g);
    if (z) {
      g[0] = g[0]! + noise * z();
      g[1] = g[1]! + noise * z();
    }
    opt.step([g]);
    if (!(Math.abs(theta[0]!) < 1e3 && Math.abs(theta[1]!) < 1e3)) return { reached, diverged: k, tail: NaN };
    const d = Math.hypot(theta[0]! - fn.minimum[0], theta[1]! - fn.minimum[1]);
    if (reached === null && d <= within) reached = k;
    if (k > steps / 2) tail += d / (steps / 2);
  }
  return { reached, diverged: null, tail };
}

const show = (o: Outcome): string => (o.diverged !== null ? `DIV${o.diverged}` : String(o.reached ?? "-"));

/** The paper's AdaBelief (0.0.5: ε 1e-8, no rectification) and the baselines at one α. */
const adabelief = (lr: number, extra = {}): Record<string, unknown> => ({
  learningRate: lr,
  epsilon: 1e-8,
  rectify: false,
  ...extra,
});

function figures(): void {
  for (const fn of ["abs", "abs-skewed", "quadratic"]) {
    console.log(`\n${fn}, 3,000 steps — same α for AdaBelief, Adam and SGD (plain / momentum 0.9)`);
    for (const lr of [1e-3, 3e-3, 1e-2, 3e-2, 1e-1]) {
      const cells = [
        `AdaBelief ${show(run(fn, "adabelief", adabelief(lr), 3000))}`,
        `Adam ${show(run(fn, "adam", { learningRate: lr }, 3000))}`,
        `SGD ${show(run(fn, "sgd", { learningRate: lr }, 3000))}`,
        `SGD μ0.9 ${show(run(fn, "sgd", { learningRate: lr, momentum: 0.9 }, 3000))}`,
      ];
      console.log(`  α ${lr}: ${cells.join("  ")}`);
    }
  }
}

function beale(): void {
  console.log("\nbeale, 5,000 steps — adaptive methods at α; SGD and MSVAG need far smaller rates");
  for (const lr of [0.03, 0.05, 0.1, 0.2, 0.5, 1]) {
    const cells = [
      `AdaBelief ${show(run("beale", "adabelief", adabelief(lr), 5000))}`,
      `AdaBelief (0.2.1 defaults) ${show(run("beale", "adabelief", { learningRate: lr }, 5000))}`,
      `Adam ${show(run("beale", "adam", { learningRate: lr }, 5000))}`,
      `Yogi ${show(run("beale", "yogi", { learningRate: lr }, 5000))}`,
    ];
    console.log(`  α ${lr}: ${cells.join("  ")}`);
  }
  for (const lr of [1e-4, 3e-4, 5e-4, 6e-4, 8e-4, 1e-3]) {
    const sgd = run("beale", "sgd", { learningRate: lr }, 5000);
    console.log(`  SGD ${lr}: ${show(sgd)} (mean distance over the second half ${sgd.tail.toPrecision(2)})`);
  }
}

function noise(): void {
  console.log(
    "\nquadratic, 2,000 steps, α 0.01 — first step within 0.5, and mean distance over the second half",
  );
  for (const sigma of [0, 0.3, 1, 3, 10]) {
    const cells: string[] = [];
    for (const seed of [1, 2, 3]) {
      const a = run("quadratic", "adabelief", adabelief(0.01), 2000, { noise: sigma, seed, within: 0.5 });
      const b = run("quadratic", "adam", { learningRate: 0.01 }, 2000, { noise: sigma, seed, within: 0.5 });
      cells.push(`seed ${seed}: ${show(a)}/${show(b)} (${a.tail.toFixed(2)}/${b.tail.toFixed(2)})`);
      if (sigma === 0) break;
    }
    console.log(`  σ ${sigma}: AdaBelief/Adam ${cells.join("  ")}`);
  }
}

function epsilon(): void {
  console.log("\nAdaBelief ε 1e-8 vs 1e-16 — first step within 0.01, and f − f* after the last step");
  for (const fn of ["abs", "quadratic", "rosenbrock"]) {
    for (const beta2 of [0.999, 0.99]) {
      for (const lr of [1e-3, 1e-2]) {
        const cells = [1e-8, 1e-16].map((eps) => {
          const f = TOY_FUNCTIONS.find((t) => t.id === fn)!;
          const theta = Float64Array.from(f.start);
          const opt = new OPTIMIZERS.adabelief([theta], adabelief(lr, { beta2, epsilon: eps }));
          let reached: number | null = null;
          for (let k = 1; k <= 2000; k++) {
            opt.step([f.grad(theta[0]!, theta[1]!)]);
            if (reached === null && Math.hypot(theta[0]! - f.minimum[0], theta[1]! - f.minimum[1]) <= 0.01) {
              reached = k;
            }
          }
          return `ε ${eps}: ${reached ?? "-"}, f ${f.f(theta[0]!, theta[1]!).toExponential(1)}`;
        });
        console.log(`  ${fn} β2 ${beta2} α ${lr}: ${cells.join("  ")}`);
      }
    }
  }
}

const tables: Record<string, () => void> = { figures, beale, noise, epsilon };
const wanted = process.argv[2];
for (const [name, table] of Object.entries(tables)) if (!wanted || wanted === name) table();
