import * as tf from "@tensorflow/tfjs"; // with tfjs-core's gradients, for minimize
import { afterAll, describe, expect, it } from "vitest";
import { GradientMismatchError, NonFiniteGradientError, OptionError } from "../../src/core/index.js";
import { adabelief, AdaBeliefOptimizer, sgd, type KernelChoice } from "../../src/tfjs/index.js";
import { TFJS_FACTORIES, useBackend } from "./helpers.js";

afterAll(() => useBackend("cpu"));

const setups: [string, "cpu" | "wasm", KernelChoice][] = [
  ["cpu fused", "cpu", "auto"],
  ["cpu tensor ops", "cpu", "tensor"],
  ["wasm SIMD", "wasm", "auto"],
  ["wasm loop", "wasm", "loop"],
];

let counter = 0;

/** Two variables trained for 3 steps, and a snapshot function of everything an optimizer step could change. */
async function trained(kernel: KernelChoice, nonFinite: "throw" | "skip" | "proceed" = "throw") {
  const id = counter++;
  const a = tf.variable(tf.tensor2d([1, 2, 3, 4], [2, 2]), true, `bad${id}A`);
  const b = tf.variable(tf.tensor1d([0.5, -0.5]), true, `bad${id}B`);
  const opt = adabelief({ learningRate: 0.01, kernel, nonFinite });
  for (let i = 0; i < 3; i++) {
    opt.applyGradients({ [a.name]: tf.tensor2d([0.1, 0.2, 0.3, i], [2, 2]), [b.name]: tf.tensor1d([1, -1]) });
  }
  const snapshot = async () => ({
    a: Array.from(a.dataSync()),
    b: Array.from(b.dataSync()),
    iterations: opt.iterations,
    weights: (await opt.getWeights()).map((w) => [w.name, Array.from(w.tensor.dataSync())]),
  });
  return { a, b, opt, snapshot, dispose: () => (opt.dispose(), tf.dispose([a, b])) };
}

describe.each(setups)("bad input: %s", (_label, backend, kernel) => {
  it("unknown variables, wrong shapes, dtypes, duplicates: a clear error naming the variable, nothing changed", async () => {
    await useBackend(backend);
    const t = await trained(kernel);
    const before = await t.snapshot();
    const good = tf.tensor1d([1, 1]);
    const cases: [() => void, RegExp][] = [
      [
        () => t.opt.applyGradients({ [t.b.name]: good, nope: tf.tensor1d([1]) }),
        /no registered variable named "nope"/,
      ],
      [
        () => t.opt.applyGradients({ [t.b.name]: good, [t.a.name]: tf.tensor1d([1, 2, 3, 4]) }),
        new RegExp(
          `gradient of variable "${t.a.name}" has shape \\[4\\] but the variable has shape \\[2,2\\]`,
        ),
      ],
      [
        () => t.opt.applyGradients({ [t.b.name]: tf.tensor1d([1, 2], "int32") }),
        /has dtype int32, expected float32/,
      ],
      [
        () =>
          t.opt.applyGradients([
            { name: t.b.name, tensor: good },
            { name: t.b.name, tensor: good },
          ]),
        /more than one gradient/,
      ],
      [
        () => t.opt.applyGradients([{ name: t.b.name, tensor: [1, 2] as unknown as tf.Tensor }]),
        /not a tf.Tensor/,
      ],
      [() => t.opt.applyGradients(42 as unknown as tf.NamedTensorMap), /expected a map/],
    ];
    for (const [call, message] of cases) {
      expect(call).toThrow(GradientMismatchError);
      expect(call).toThrow(message);
    }
    expect(await t.snapshot()).toEqual(before);
    t.dispose();
  });

  it('non-finite gradients: "throw" names the variable and changes nothing, "skip" skips, "proceed" proceeds', async () => {
    await useBackend(backend);
    const bad = (t: Awaited<ReturnType<typeof trained>>) => ({
      [t.a.name]: tf.tensor2d([1, 1, 1, 1], [2, 2]),
      [t.b.name]: tf.tensor1d([0, Number.NaN]),
    });
    const thrower = await trained(kernel);
    const before = await thrower.snapshot();
    expect(() => thrower.opt.applyGradients(bad(thrower))).toThrow(NonFiniteGradientError);
    expect(() => thrower.opt.applyGradients(bad(thrower))).toThrow(
      new RegExp(`variable "${thrower.b.name}" has NaN at index 1; nothing was changed`),
    );
    expect(() => thrower.opt.applyGradients({ [thrower.b.name]: tf.tensor1d([-Infinity, 0]) })).toThrow(
      /has -Infinity at index 0/,
    );
    expect(await thrower.snapshot()).toEqual(before);
    thrower.dispose();

    const skipper = await trained(kernel, "skip");
    const before2 = await skipper.snapshot();
    skipper.opt.applyGradients(bad(skipper));
    expect(await skipper.snapshot()).toEqual(before2);
    skipper.dispose();

    const proceeder = await trained(kernel, "proceed");
    proceeder.opt.applyGradients(bad(proceeder));
    expect(Number.isNaN(proceeder.b.dataSync()[1])).toBe(true);
    expect(proceeder.opt.iterations).toBe(4);
    proceeder.dispose();
  });

  it("a refused minimize disposes the gradients and the cost it computed before rethrowing", async () => {
    await useBackend(backend);
    const t = await trained(kernel);
    const before = await t.snapshot();
    // d/da of sum(a·NaN) is NaN: refused under nonFinite "throw".
    const nanLoss = () => tf.add(tf.sum(tf.mul(t.a, Number.NaN)), tf.sum(t.b)) as tf.Scalar;
    const n = tf.memory().numTensors;
    for (const returnCost of [false, true]) {
      expect(() => t.opt.minimize(nanLoss, returnCost)).toThrow(NonFiniteGradientError);
      expect(() => t.opt.minimize(nanLoss, returnCost, [t.a, t.b])).toThrow(NonFiniteGradientError);
      expect(tf.memory().numTensors).toBe(n);
    }
    expect(await t.snapshot()).toEqual(before);
    // A step that is taken still returns the cost (owned by the caller) and frees the gradients.
    const loss = () => tf.add(tf.sum(tf.square(t.a)), tf.sum(t.b)) as tf.Scalar;
    const cost = t.opt.minimize(loss, true, [t.a, t.b]);
    expect(cost!.dataSync()[0]).toBeCloseTo(
      before.a.reduce((x, y) => x + y * y, 0) + before.b[0]! + before.b[1]!,
      4,
    );
    cost!.dispose();
    expect(t.opt.minimize(loss)).toBeNull();
    expect(t.opt.iterations).toBe(5);
    const m = tf.memory().numTensors;
    // A disposed optimizer: refused before anything is computed.
    t.opt.dispose();
    const k = tf.memory().numTensors;
    expect(k).toBeLessThan(m);
    expect(() => t.opt.minimize(loss, true)).toThrow(/AdaBelief\.minimize: the optimizer was disposed/);
    expect(tf.memory().numTensors).toBe(k);
    tf.dispose([t.a, t.b]);
  });
});

describe("bad options", () => {
  it("reject with an OptionError naming the option and the value", () => {
    expect(() => adabelief({ clipGlobalNorm: -1 })).toThrow(
      /clipGlobalNorm must be a finite number > 0, got -1/,
    );
    expect(() => adabelief({ clipValue: Number.NaN })).toThrow(OptionError);
    expect(() => adabelief({ kernel: "gpu" as KernelChoice })).toThrow(
      /kernel must be one of "auto", "loop", "tensor", got "gpu"/,
    );
    expect(() => adabelief({ beta_1: 0.9 } as never)).toThrow(/unknown option "beta_1"/);
    expect(() => sgd({ learningRate: -1 })).toThrow(/learningRate must be a finite number >= 0, got -1/);
    expect(() => new AdaBeliefOptimizer(5 as never)).toThrow(/options must be an object/);
  });

  it("an unknown option is refused with the list of every option, the TensorFlow.js ones included", () => {
    for (const [rule, make] of Object.entries(TFJS_FACTORIES)) {
      const call = () => make({ beta_1: 0.9 });
      expect(call).toThrow(OptionError);
      const message = (() => {
        try {
          call();
        } catch (e) {
          return (e as Error).message;
        }
        return "";
      })();
      const match = new RegExp(`^${rule}: unknown option "beta_1"; known options: (.*)$`).exec(message);
      expect(match, message).not.toBeNull();
      const listed = match![1]!.split(", ");
      expect(listed).toEqual(
        expect.arrayContaining(["learningRate", "nonFinite", "clipGlobalNorm", "clipValue", "kernel"]),
      );
      expect(new Set(listed).size).toBe(listed.length);
      // Every option listed is one the optimizer takes.
      for (const option of listed) expect(() => make({ [option]: undefined })).not.toThrow();
    }
  });

  it("a schedule returning a bad value fails before anything changes", async () => {
    await useBackend("cpu");
    const v = tf.variable(tf.tensor1d([1]), true);
    const opt = adabelief({ learningRate: (s) => (s < 1 ? 0.1 : Number.NaN) });
    opt.applyGradients({ [v.name]: tf.tensor1d([1]) });
    const after1 = v.dataSync()[0];
    expect(() => opt.applyGradients({ [v.name]: tf.tensor1d([1]) })).toThrow(
      /schedule returned NaN at step 1/,
    );
    expect(v.dataSync()[0]).toBe(after1);
    expect(opt.iterations).toBe(1);
    opt.dispose();
    v.dispose();
  });
});
