import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { StateError } from "../../src/core/index.js";
import {
  adabelief,
  adabound,
  adam,
  adamw,
  msvag,
  radam,
  sgd,
  yogi,
  type NamedTensor,
  type RuleOptimizer,
} from "../../src/tfjs/index.js";
import { TFJS_FACTORIES, useBackend } from "./helpers.js";

beforeAll(() => useBackend("cpu"));

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyRuleOptimizer = RuleOptimizer<any, any, any>;
type Make = (o: Record<string, unknown>) => AnyRuleOptimizer;

/**
 * Every slot layout, with the slots whose values may have any sign (first moments, momentum) and those
 * the math requires to be >= 0 (second moments: running averages of squares, and their running maxima).
 */
const layouts: [string, Make, string[], string[]][] = [
  ["AdaBelief", (o) => adabelief(o), ["m"], ["s"]],
  ["AdaBelief AMSGrad", (o) => adabelief({ amsgrad: true, rectify: false, ...o }), ["m"], ["s", "sMax"]],
  ["Adam", (o) => adam(o), ["m"], ["v"]],
  ["Adam AMSGrad", (o) => adam({ amsgrad: true, ...o }), ["m"], ["v", "vMax"]],
  ["AdamW AMSGrad", (o) => adamw({ amsgrad: true, ...o }), ["m"], ["v", "vMax"]],
  ["RAdam", (o) => radam(o), ["m"], ["v"]],
  ["RAdam paper", (o) => radam({ variant: "paper", ...o }), ["m"], ["v"]],
  ["SGD momentum", (o) => sgd({ momentum: 0.9, ...o }), ["momentumBuffer"], []],
  ["Yogi", (o) => yogi(o), ["m"], ["v"]],
  ["AdaBound", (o) => adabound(o), ["m"], ["v"]],
  ["AMSBound", (o) => adabound({ amsbound: true, ...o }), ["m"], ["v", "vMax"]],
  ["MSVAG", (o) => msvag(o), ["m"], ["v"]],
];

let counter = 0;

/** Two variables, an optimizer trained on them for 3 steps, and a copy of its weights. */
async function trained(make: Make, options: Record<string, unknown> = {}) {
  const id = counter++;
  const a = tf.variable(tf.tensor2d([1, 2, 3, 4], [2, 2]), true, `setW${id}A`);
  const b = tf.variable(tf.tensor1d([0.5, -0.5, 2]), true, `setW${id}B`);
  const opt = make({ learningRate: 0.01, ...options });
  const step = () =>
    tf.tidy(() =>
      opt.applyGradients({
        [a.name]: tf.tensor2d([0.1, -0.2, 0.3, 1], [2, 2]),
        [b.name]: tf.tensor1d([1, -1, 0.25]),
      }),
    );
  for (let i = 0; i < 3; i++) step();
  const saved = copy(await opt.getWeights());
  const snapshot = async () => ({
    iterations: opt.iterations,
    weights: (await opt.getWeights()).map((w) => [w.name, Array.from(w.tensor.dataSync())]),
  });
  return { a, b, opt, step, saved, snapshot, dispose: () => (opt.dispose(), tf.dispose([a, b])) };
}

function copy(weights: readonly NamedTensor[]): NamedTensor[] {
  return weights.map((w) => ({
    name: w.name,
    tensor: tf.tensor(w.tensor.dataSync().slice(), w.tensor.shape, w.tensor.dtype),
  }));
}

/** A copy of `weights` with element `at` of the weight named `name` set to `value`. */
function corrupt(weights: readonly NamedTensor[], name: string, at: number, value: number): NamedTensor[] {
  const out = copy(weights);
  const w = out.find((x) => x.name === name);
  if (!w) throw new Error(`no weight ${name} in ${out.map((x) => x.name).join(", ")}`);
  const values = w.tensor.dataSync().slice();
  values[at] = value;
  w.tensor.dispose();
  w.tensor = tf.tensor(values, w.tensor.shape, w.tensor.dtype);
  return out;
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

describe("setWeights checks the loaded values", () => {
  it("the layouts below cover every optimizer with slots", () => {
    const covered = new Set(layouts.map(([, make]) => make({}).rule.name));
    for (const make of Object.values(TFJS_FACTORIES)) {
      const opt = make({});
      if (opt.slotNames.length > 0) expect(covered.has(opt.rule.name), opt.rule.name).toBe(true);
      // The slots listed below as >= 0 are the rule's own declaration.
      for (const [, m, , nonNegative] of layouts.filter(([, m]) => m({}).rule.name === opt.rule.name)) {
        const declared = m({}).rule.nonNegativeSlots ?? [];
        expect(
          nonNegative.every((slot) => declared.includes(slot)),
          opt.rule.name,
        ).toBe(true);
      }
    }
  });

  for (const [label, make, signed, nonNegative] of layouts) {
    it(`refuses non-finite slots, and negative second moments, naming the slot; nothing changed (${label})`, async () => {
      const t = await trained(make);
      // The table of this test is the rule's slot list.
      expect([...t.opt.slotNames].sort()).toEqual([...signed, ...nonNegative].sort());
      const cases: [string, number, RegExp][] = [];
      for (const slot of [...signed, ...nonNegative]) {
        // The second variable's slot: the first group is valid, so a partial install would show.
        const name = `${t.b.name}/${slot}`;
        for (const [value, shown] of [
          [Number.NaN, "NaN"],
          [Number.POSITIVE_INFINITY, "Infinity"],
          [Number.NEGATIVE_INFINITY, "-Infinity"],
        ] as const) {
          cases.push([
            name,
            value,
            new RegExp(
              `^${t.opt.rule.name}\\.setWeights: slot "${escape(name)}" has ${shown} at index 1; .*the optimizer was not changed`,
            ),
          ]);
        }
      }
      for (const slot of nonNegative) {
        const name = `${t.b.name}/${slot}`;
        cases.push([
          name,
          -0.5,
          new RegExp(
            `^${t.opt.rule.name}\\.setWeights: slot "${escape(name)}" has -0.5 at index 1, but ${slot} .*must be >= 0; .*the optimizer was not changed`,
          ),
        ]);
      }
      const before = await t.snapshot();
      for (const [name, value, message] of cases) {
        const bad = corrupt(t.saved, name, 1, value);
        // On the optimizer that has state (installed at once) and on a fresh one (kept pending).
        await expect(t.opt.setWeights(bad)).rejects.toThrow(StateError);
        await expect(t.opt.setWeights(bad)).rejects.toThrow(message);
        expect(await t.snapshot()).toEqual(before);
        const fresh = make({ learningRate: 0.01 });
        await expect(fresh.setWeights(bad)).rejects.toThrow(message);
        expect(fresh.iterations).toBe(0);
        expect((await fresh.getWeights()).map((w) => w.name)).toEqual(["iter"]);
        fresh.dispose();
        tf.dispose(bad.map((w) => w.tensor));
      }
      // Negative values in sign-free slots are legitimate.
      for (const slot of signed) {
        const ok = corrupt(t.saved, `${t.b.name}/${slot}`, 1, -0.5);
        await t.opt.setWeights(ok);
        tf.dispose(ok.map((w) => w.tensor));
      }
      expect(t.opt.iterations).toBe(3);
      // A good checkpoint still loads, and training goes on.
      await t.opt.setWeights(t.saved);
      t.step();
      expect(t.opt.iterations).toBe(4);
      tf.dispose(t.saved.map((w) => w.tensor));
      t.dispose();
    });
  }

  it('nonFinite: "skip" refuses too; nonFinite: "proceed" loads such values as they are', async () => {
    const skipper = await trained((o) => adam(o), { nonFinite: "skip" });
    const nan = corrupt(skipper.saved, `${skipper.b.name}/m`, 0, Number.NaN);
    await expect(skipper.opt.setWeights(nan)).rejects.toThrow(/has NaN at index 0/);
    skipper.dispose();

    const proceeder = await trained((o) => adam(o), { nonFinite: "proceed" });
    const negative = corrupt(proceeder.saved, `${proceeder.b.name}/v`, 2, -3);
    await proceeder.opt.setWeights(nan);
    await proceeder.opt.setWeights(negative);
    const v = (await proceeder.opt.getWeights()).find((w) => w.name === `${proceeder.b.name}/v`)!;
    expect(v.tensor.dataSync()[2]).toBe(-3);
    proceeder.dispose();
    tf.dispose([...nan, ...negative].map((w) => w.tensor));
  });

  it("refuses an absurd step count (negative, fractional, non-finite, beyond 2^53), whatever nonFinite says", async () => {
    for (const nonFinite of ["throw", "proceed"]) {
      const t = await trained((o) => adabelief(o), { nonFinite });
      const before = await t.snapshot();
      for (const iter of [-1, 2.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, 2 ** 60]) {
        const bad = copy(t.saved);
        bad[0]!.tensor.dispose();
        bad[0] = { name: "iter", tensor: tf.scalar(iter, "float32") };
        await expect(t.opt.setWeights(bad)).rejects.toThrow(StateError);
        await expect(t.opt.setWeights(bad)).rejects.toThrow(/iter must be an integer in \[0, 2\^53 − 1\]/);
        expect(await t.snapshot()).toEqual(before);
        tf.dispose(bad.map((w) => w.tensor));
      }
      t.dispose();
    }
  });

  it("a saved model whose optimizer state is corrupt does not load", async () => {
    const xs = tf.tensor2d([0.1, 0.2, -0.3, 0.4, 0.5, -0.6], [3, 2]);
    const ys = tf.tensor2d([0.3, 0.1, -0.1], [3, 1]);
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [2] })] });
    model.compile({ optimizer: adabelief({ learningRate: 0.01 }), loss: "meanSquaredError" });
    await model.fit(xs, ys, { epochs: 2, verbose: 0 });
    let artifacts: tf.io.ModelArtifacts | undefined;
    await model.save(
      tf.io.withSaveHandler(async (a) => {
        artifacts = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
      }),
      { includeOptimizer: true },
    );
    // Element 0 of the first `s` slot set to -1 in the saved bytes (every weight here is 4 bytes/element).
    const specs = artifacts!.weightSpecs!;
    const target = specs.findIndex((s) => s.group === "optimizer" && s.name.endsWith("/s"));
    const offset = specs.slice(0, target).reduce((sum, s) => sum + 4 * s.shape.reduce((x, y) => x * y, 1), 0);
    const data = tf.io.concatenateArrayBuffers(
      ([] as ArrayBuffer[]).concat(artifacts!.weightData as ArrayBuffer | ArrayBuffer[]),
    );
    new Float32Array(data, offset, 1)[0] = -1;
    await expect(tf.loadLayersModel(tf.io.fromMemory({ ...artifacts!, weightData: data }))).rejects.toThrow(
      new RegExp(`slot "${escape(specs[target]!.name)}" has -1 at index 0, but s .*must be >= 0`),
    );
    model.dispose();
    tf.dispose([xs, ys]);
  });
});
