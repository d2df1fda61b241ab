/** The demo's URL state: round trips (every setting, ticked or not, copies included), defaults, bad values. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FUNCTIONS } from "../src/functions.js";
import { OPTIMIZERS, type OptimizerId } from "../src/optimizers.js";
import { stateOfPreset } from "../src/presets.js";
import {
  cloneState,
  defaultState,
  entryLabel,
  entryOf,
  entryStyle,
  fromQuery,
  MAX_COPIES,
  MAX_START,
  MAX_STEPS,
  sameSettings,
  sortEntries,
  toQuery,
  type DemoState,
} from "../src/state.js";

const ids = OPTIMIZERS.map((o) => o.id);
const finite = fc.double({ noNaN: true, noDefaultInfinity: true, min: -MAX_START, max: MAX_START });

/** Any state the page can be in, copies included. */
const stateArb: fc.Arbitrary<DemoState> = fc
  .record({
    fn: fc.constantFrom(...FUNCTIONS.map((f) => f.id)),
    x: finite,
    y: finite,
    steps: fc.integer({ min: 1, max: MAX_STEPS }),
    atFraction: fc.double({ min: 0, max: 1, noNaN: true }),
    noise: fc.double({ min: 0, max: 100, noNaN: true }),
    seed: fc.integer({ min: 0, max: 0xffffffff }),
    on: fc.array(fc.boolean(), { minLength: 9 + MAX_COPIES, maxLength: 9 + MAX_COPIES }),
    copies: fc.subarray(
      ids.flatMap((id) => [`${id}-2`, `${id}-3`]),
      { maxLength: MAX_COPIES },
    ),
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
    for (const key of r.copies) {
      const optimizer = key.slice(0, -2) as OptimizerId;
      s.entries.push({ key, optimizer, on: false, hyper: { ...entryOf(s, optimizer)!.hyper } });
    }
    s.entries = sortEntries(s.entries);
    let n = 0;
    let b = 0;
    s.entries.forEach((entry, i) => {
      entry.on = r.on[i]!;
      const spec = OPTIMIZERS.find((o) => o.id === entry.optimizer)!;
      for (const p of spec.params) {
        if (p.kind === "number") entry.hyper[p.key] = r.numbers[n++ % r.numbers.length]!;
        else if (p.kind === "boolean") entry.hyper[p.key] = r.flags[b++ % r.flags.length]!;
        else entry.hyper[p.key] = p.choices![b++ % p.choices!.length]!;
      }
    });
    return s;
  });

describe("demo URL state", () => {
  it("a fresh page is the Beale preset: Beale from (−2.5, −2.5) with AdaBelief, SGD and Adam", () => {
    const s = defaultState();
    expect(s).toEqual(stateOfPreset("beale"));
    expect(s.fn).toBe("beale");
    expect(s.start).toEqual([-2.5, -2.5]);
    expect(s.entries.filter((e) => e.on).map((e) => e.key)).toEqual(["adabelief", "sgd", "adam"]);
    expect(s.entries.map((e) => e.key)).toEqual(ids);
    expect(fromQuery("")).toEqual({ state: s, notes: [] });
  });

  it("round-trips every state exactly: every entry's settings, ticked or not, and the copies", () => {
    fc.assert(
      fc.property(stateArb, (s) => {
        const { state, notes } = fromQuery(toQuery(s));
        expect(notes).toEqual([]);
        expect(state).toEqual(s);
        // And writing it again gives the same text: the URL is canonical.
        expect(toQuery(state)).toBe(toQuery(s));
      }),
      { numRuns: 100 },
    );
  });

  it("keeps the settings of an optimizer that is not ticked", () => {
    const s = defaultState();
    const sgd = entryOf(s, "sgd")!;
    sgd.hyper.learningRate = 0.0123;
    sgd.on = false;
    const query = toQuery(s);
    expect(query).toContain("sgd=lr:0.0123,");
    expect(query).toContain("&opt=adabelief,adam&");
    expect(entryOf(fromQuery(query).state, "sgd")!.hyper.learningRate).toBe(0.0123);
  });

  it("writes a readable query", () => {
    const s = stateOfPreset("epsilon");
    const query = toQuery(s);
    expect(
      query.startsWith("?fn=quadratic&x=-2.5&y=2&steps=2000&at=0&noise=0&seed=1&opt=adabelief,adabelief-2&"),
    ).toBe(true);
    expect(query).toContain("&adabelief=lr:0.001,b1:0.9,b2:0.99,eps:1e-8,rect:0&");
    expect(query).toContain("&adabelief-2=lr:0.001,b1:0.9,b2:0.99,eps:1e-16,rect:0&");
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
      "ignored sgd.nest=2: not 1 or 0",
      "ignored adam.b9=1: unknown; Adam takes lr, b1, b2, eps",
      "ignored adam.eps=x: not a finite number",
      "ignored radam.var=keras: not one of pytorch, paper",
      "ignored opt=lion: unknown optimizer",
    ]);
    const d = defaultState();
    expect(state.fn).toBe(d.fn);
    expect(state.start).toEqual([d.start[0], 0.5]);
    expect(state.steps).toBe(d.steps);
    expect(state.entries.filter((e) => e.on).map((e) => e.key)).toEqual(["adam"]);
    expect(entryOf(state, "adam")!.hyper).toEqual({ ...entryOf(d, "adam")!.hyper, learningRate: 0.2 });
  });

  it("refuses a start point too far out to say anything, and names it", () => {
    const { state, notes } = fromQuery("?x=1e9&y=-1001");
    expect(notes).toEqual([
      `ignored x=1e9: outside [−${MAX_START}, ${MAX_START}]`,
      `ignored y=-1001: outside [−${MAX_START}, ${MAX_START}]`,
    ]);
    expect(state.start).toEqual(defaultState().start);
  });

  it("takes the start point of the function named when the link gives none, and clamps `at` to `steps`", () => {
    const { state } = fromQuery("?fn=rosenbrock&steps=10&at=99");
    expect(state.start).toEqual([-1.5, 2]);
    expect(state.at).toBe(10);
  });

  it("keeps numbers the core will reject (the page shows the core's message)", () => {
    const { state, notes } = fromQuery("?adam=b1:1.5");
    expect(notes).toEqual([]);
    expect(entryOf(state, "adam")!.hyper.beta1).toBe(1.5);
  });

  it("copies: named by the link, labelled and styled apart from the optimizer itself", () => {
    const { state, notes } = fromQuery("?opt=adabelief,adabelief-2&adabelief-2=eps:1e-16");
    expect(notes).toEqual([]);
    const copy = entryOf(state, "adabelief-2")!;
    expect(copy).toMatchObject({ optimizer: "adabelief", on: true });
    expect(copy.hyper).toEqual({ ...entryOf(state, "adabelief")!.hyper, epsilon: 1e-16 });
    expect(entryLabel(copy)).toBe("AdaBelief 2");
    expect(entryStyle(state, copy).color).not.toBe(entryStyle(state, entryOf(state, "adabelief")!).color);
    expect(state.entries.map((e) => e.key).slice(0, 3)).toEqual(["adabelief", "adabelief-2", "sgd"]);
    // A link naming more copies than there are colours keeps the first ones and says so.
    const many = ids
      .slice(0, MAX_COPIES + 1)
      .map((id) => `${id}-2=`)
      .join("&");
    const parsed = fromQuery(`?${many}`);
    expect(parsed.state.entries.length).toBe(9 + MAX_COPIES);
    expect(parsed.notes).toEqual([`ignored ${ids[MAX_COPIES]}-2=: more than ${MAX_COPIES} copies`]);
  });

  it("cloneState copies deeply; sameSettings ignores the step shown", () => {
    const s = defaultState();
    const c = cloneState(s);
    c.start[0] = 9;
    c.entries[0]!.hyper.learningRate = 9;
    c.entries[0]!.on = false;
    expect(s).toEqual(defaultState());
    expect(sameSettings(s, { ...cloneState(s), at: 17 })).toBe(true);
    expect(sameSettings(s, c)).toBe(false);
  });
});
