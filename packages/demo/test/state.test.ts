/** The demo's URL state: round trips, defaults, and what happens to values it cannot use. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FUNCTIONS } from "../src/functions.js";
import { OPTIMIZERS, type OptimizerId } from "../src/optimizers.js";
import {
  cloneState,
  defaultState,
  fromQuery,
  MAX_STEPS,
  toQuery,
  type DemoState,
} from "../src/state.js";

const ids = OPTIMIZERS.map((o) => o.id);
const finite = fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 });

/** Any state the page can be in. */
const stateArb: fc.Arbitrary<DemoState> = fc
  .record({
    fn: fc.constantFrom(...FUNCTIONS.map((f) => f.id)),
    x: finite,
    y: finite,
    steps: fc.integer({ min: 1, max: MAX_STEPS }),
    atFraction: fc.double({ min: 0, max: 1, noNaN: true }),
    noise: fc.double({ min: 0, max: 100, noNaN: true }),
    seed: fc.integer({ min: 0, max: 0xffffffff }),
    selected: fc.subarray(ids),
    numbers: fc.array(fc.double({ noNaN: true, noDefaultInfinity: true, min: -10, max: 10 }), {
      minLength: 60,
      maxLength: 60,
    }),
    flags: fc.array(fc.boolean(), { minLength: 20, maxLength: 20 }),
  })
  .map((r) => {
    const s = defaultState();
    s.fn = r.fn;
    s.start = [r.x, r.y];
    s.steps = r.steps;
    s.at = Math.floor(r.atFraction * r.steps);
    s.noise = r.noise;
    s.seed = r.seed;
    s.selected = r.selected;
    let n = 0;
    let b = 0;
    for (const spec of OPTIMIZERS) {
      for (const p of spec.params) {
        if (p.kind === "number") s.hyper[spec.id][p.key] = r.numbers[n++ % r.numbers.length]!;
        else if (p.kind === "boolean") s.hyper[spec.id][p.key] = r.flags[b++ % r.flags.length]!;
        else s.hyper[spec.id][p.key] = p.choices![b++ % p.choices!.length]!;
      }
    }
    return s;
  });

/** The part of a state a URL carries: hyper-parameters of the selected optimizers only. */
function visible(s: DemoState): unknown {
  return { ...s, hyper: Object.fromEntries(s.selected.map((id) => [id, s.hyper[id]])) };
}

describe("demo URL state", () => {
  it("a fresh page is Beale from (−2.5, −2.5) with AdaBelief, SGD and Adam", () => {
    const s = defaultState();
    expect(s.fn).toBe("beale");
    expect(s.start).toEqual([-2.5, -2.5]);
    expect(s.selected).toEqual(["adabelief", "sgd", "adam"]);
    expect(fromQuery("")).toEqual({ state: s, notes: [] });
  });

  it("round-trips every state exactly (numbers are written in their shortest exact form)", () => {
    fc.assert(
      fc.property(stateArb, (s) => {
        const { state, notes } = fromQuery(toQuery(s));
        expect(notes).toEqual([]);
        expect(visible(state)).toEqual(visible(s));
        // And writing it again gives the same text: the URL is canonical.
        expect(toQuery(state)).toBe(toQuery(s));
      }),
      { numRuns: 100 },
    );
  });

  it("writes a readable query", () => {
    const s = defaultState();
    s.hyper.adabelief.epsilon = 1e-8;
    expect(toQuery(s)).toBe(
      "?fn=beale&x=-2.5&y=-2.5&steps=400&at=0&noise=0&seed=1&opt=adabelief,sgd,adam" +
        "&adabelief=lr:0.1,b1:0.9,b2:0.999,eps:1e-8,rect:0&sgd=lr:0.0001,mom:0.9,nest:0&adam=lr:0.1,b1:0.9,b2:0.999,eps:1e-8",
    );
  });

  it("ignores values it cannot use, names each one, and keeps the rest", () => {
    const { state, notes } = fromQuery(
      "?fn=himmelblau&x=abc&y=0.5&steps=0&at=-1&noise=-2&seed=1.5&opt=adam,lion&adam=lr:0.2,b9:1,eps:x&sgd=nest:2&radam=var:keras",
    );
    expect(notes).toEqual([
      "ignored fn=himmelblau: not one of abs, abs-skewed, quadratic, beale, rosenbrock",
      "ignored x=abc: not a finite number",
      "ignored steps=0: not an integer in [1, 5000]",
      "ignored at=-1: not an integer >= 0",
      "ignored noise=-2: not a number in [0, 1000000]",
      "ignored seed=1.5: not an integer in [0, 4294967295]",
      "ignored opt=lion: unknown optimizer",
      "ignored sgd.nest=2: not 1 or 0",
      "ignored adam.b9=1: unknown; Adam takes lr, b1, b2, eps",
      "ignored adam.eps=x: not a finite number",
      "ignored radam.var=keras: not one of pytorch, paper",
    ]);
    const d = defaultState();
    expect(state.fn).toBe(d.fn);
    expect(state.start).toEqual([d.start[0], 0.5]);
    expect(state.steps).toBe(d.steps);
    expect(state.selected).toEqual(["adam"]);
    expect(state.hyper.adam).toEqual({ ...d.hyper.adam, learningRate: 0.2 });
  });

  it("takes the start point of the function named when the link gives none, and clamps `at` to `steps`", () => {
    const { state } = fromQuery("?fn=rosenbrock&steps=10&at=99");
    expect(state.start).toEqual([-1.5, 2]);
    expect(state.at).toBe(10);
  });

  it("keeps numbers the core will reject (the page shows the core's message)", () => {
    const { state, notes } = fromQuery("?adam=b1:1.5");
    expect(notes).toEqual([]);
    expect(state.hyper.adam.beta1).toBe(1.5);
  });

  it("cloneState copies deeply", () => {
    const s = defaultState();
    const c = cloneState(s);
    c.start[0] = 9;
    c.selected.push("fromage" as OptimizerId);
    c.hyper.adam.learningRate = 9;
    expect(s).toEqual(defaultState());
  });
});
