/**
 * Parameter groups of the TensorFlow.js optimizers: `groups: [{ match, ...options }]`, variables matched by
 * name (first match wins), the rest with the optimizer's options. A grouped optimizer must be, bit for bit,
 * separate optimizers on the matching variables, on every update path; the groups survive a save and load
 * with the model; what cannot be serialised or set per group is refused clearly.
 */
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  cosineDecay,
  OPTIMIZER_NAMES,
  OptionError,
  readSafetensors,
  setWarningHandler,
  stepDecay,
  StateError,
  type OptimizerName,
} from "../../src/core/index.js";
import {
  adabelief,
  AdaBeliefOptimizer,
  adam,
  fromTorchState,
  sgd,
  TFJS_OPTIMIZERS,
  toTorchState,
  type KernelChoice,
  type RuleOptimizer,
} from "../../src/tfjs/index.js";
import { useBackend } from "./helpers.js";

let restoreWarnings: ReturnType<typeof setWarningHandler>;
beforeAll(async () => {
  restoreWarnings = setWarningHandler(() => {});
  await useBackend("cpu");
});
afterAll(() => {
  setWarningHandler(restoreWarnings);
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyOptimizer = RuleOptimizer<any, any, any>;
const make = (name: OptimizerName, options: Record<string, unknown>): AnyOptimizer =>
  new (TFJS_OPTIMIZERS[name] as unknown as new (o: unknown) => AnyOptimizer)(options);

/**
 * Per optimizer: its options and the settings of two groups, each with a learning-rate schedule or an
 * option that changes the slots (AMSGrad, momentum) or their initial values (Yogi's accumulator).
 */
const CONFIGS: Record<
  OptimizerName,
  { options: Record<string, unknown>; groups: Record<string, unknown>[] }
> = {
  sgd: {
    options: { learningRate: 0.05, momentum: 0.9, weightDecay: 1e-3 },
    groups: [{ learningRate: stepDecay({ initial: 0.02, stepSize: 3 }), nesterov: true }, { momentum: 0 }],
  },
  adam: {
    options: { learningRate: 1e-2, weightDecay: 1e-2 },
    groups: [
      { learningRate: cosineDecay({ initial: 3e-2, decaySteps: 8 }), amsgrad: true },
      { beta1: 0.5, weightDecay: 0 },
    ],
  },
  adamw: {
    options: { learningRate: 1e-2 },
    groups: [
      { learningRate: (s: number) => 0.02 * 0.9 ** s, weightDecay: 0.1 },
      { epsilon: 1e-4, weightDecay: 0, amsgrad: true },
    ],
  },
  yogi: {
    options: { learningRate: 1e-2 },
    groups: [
      { initialAccumulator: 0.1 },
      { learningRate: stepDecay({ initial: 5e-2, stepSize: 2 }), beta2: 0.9 },
    ],
  },
  adabound: {
    options: { learningRate: 1e-2, weightDecay: 1e-3 },
    groups: [
      { finalLr: 0.05, amsbound: true },
      { learningRate: cosineDecay({ initial: 2e-2, decaySteps: 9 }), gamma: 1e-2 },
    ],
  },
  radam: {
    options: { learningRate: 1e-2 },
    groups: [
      { learningRate: (s: number) => 0.03 / (1 + s), weightDecay: 1e-2 },
      { beta2: 0.9, epsilon: 1e-6 },
    ],
  },
  msvag: {
    options: { learningRate: 1e-2 },
    groups: [
      { learningRate: stepDecay({ initial: 0.05, stepSize: 2, gamma: 0.7 }) },
      { beta1: 0.5, weightDecay: 1e-3 },
    ],
  },
  fromage: {
    options: { learningRate: 1e-2 },
    groups: [{ learningRate: (s: number) => 0.02 * 0.95 ** s }, { learningRate: 1e-3 }],
  },
  adabelief: {
    options: { learningRate: 1e-2, weightDecay: 1e-2, rectify: false },
    groups: [
      { learningRate: cosineDecay({ initial: 2e-2, decaySteps: 8 }), weightDecay: 0, amsgrad: true },
      { beta1: 0.8, epsilon: 1e-8 },
    ],
  },
};

/** The variables of a small network: [name suffix, shape]; group 0 takes bias and beta, group 1 gamma. */
const LAYOUT: [string, number[]][] = [
  ["dense/kernel", [3, 4]],
  ["dense/bias", [4]],
  ["norm/gamma", [4]],
  ["norm/beta", [4]],
  ["out/kernel", [4, 2]],
];
const MEMBERS = [[1, 3], [2], [0, 4]]; // group 0, group 1, the rest (indices into LAYOUT)

let serial = 0;
/** A deterministic value in [−1, 1) per (seed, index). */
const value = (seed: number, i: number) => Math.sin(seed * 12.9898 + i * 78.233) % 1;

function variables(prefix: string): tf.Variable[] {
  return LAYOUT.map(([suffix, shape], k) => {
    const size = shape.reduce((a, b) => a * b, 1);
    return tf.variable(
      tf.tensor(
        Array.from({ length: size }, (_, i) => value(k + 1, i)),
        shape,
      ),
      true,
      `${prefix}/${suffix}`,
    );
  });
}

function gradients(step: number): tf.Tensor[] {
  return LAYOUT.map(([, shape], k) => {
    const size = shape.reduce((a, b) => a * b, 1);
    return tf.tensor(
      Array.from({ length: size }, (_, i) => value(100 * step + k, i) * (step % 4 === 2 ? 5 : 1)),
      shape,
    );
  });
}

const bits = (t: tf.Tensor) => new Uint8Array((t.dataSync() as Float32Array).slice().buffer);

function expectSameBits(got: tf.Variable, want: tf.Variable, where: string) {
  const a = bits(got);
  const b = bits(want);
  if (a.length === b.length && a.every((x, j) => x === b[j])) return;
  const g = got.dataSync();
  const w = want.dataSync();
  const j = Array.from(g).findIndex((x, k) => !Object.is(x, w[k]));
  throw new Error(`${where}: ${got.name}[${j}] is ${g[j]}, the separate optimizer's ${w[j]}`);
}

const PATHS: { backend: "cpu" | "wasm"; kernel: KernelChoice }[] = [
  { backend: "cpu", kernel: "auto" },
  { backend: "cpu", kernel: "loop" },
  { backend: "cpu", kernel: "tensor" },
  { backend: "wasm", kernel: "auto" },
  { backend: "wasm", kernel: "loop" },
];

describe.each(PATHS)(
  "$backend backend, kernel $kernel: a grouped optimizer is separate optimizers",
  ({ backend, kernel }) => {
    beforeAll(() => useBackend(backend));
    afterAll(() => useBackend("cpu"));

    it.each(OPTIMIZER_NAMES.map((n) => [n]))(
      "%s: bit for bit over 10 steps, on the same update path",
      async (name) => {
        const { options, groups } = CONFIGS[name];
        const run = serial++;
        const mine = variables(`pg${run}`);
        const theirs = variables(`sep${run}`);
        const grouped = make(name, {
          ...options,
          kernel,
          groups: [
            { match: /(bias|beta)$/, ...groups[0] },
            { match: (n: string) => n.endsWith("/gamma"), ...groups[1] },
          ],
        });
        const separate = [...groups, {}].map((g) => make(name, { ...options, ...g, kernel }));
        expect(MEMBERS.map((m) => m.map((i) => grouped.paramGroupOf(mine[i]!.name)))).toEqual([
          [0, 0],
          [1],
          [-1, -1],
        ]);
        try {
          for (let t = 0; t < 10; t++) {
            const grads = gradients(t);
            if (t % 2 === 0)
              grouped.applyGradients(Object.fromEntries(mine.map((v, i) => [v.name, grads[i]!])));
            else grouped.applyGradients(mine.map((v, i) => ({ name: v.name, tensor: grads[i]! })));
            separate.forEach((opt, k) =>
              opt.applyGradients(MEMBERS[k]!.map((i) => ({ name: theirs[i]!.name, tensor: grads[i]! }))),
            );
            tf.dispose(grads);
            mine.forEach((v, i) => expectSameBits(v, theirs[i]!, `${name} step ${t + 1}`));
            expect(grouped.lastUpdatePath).toBe(separate[2]!.lastUpdatePath);
          }
          // The path the steps took: the fused ones (the SIMD kernel for the rules that have one) unless tensor ops.
          const simd = kernel === "auto" && ["adabelief", "adam", "adamw"].includes(name);
          const path = {
            cpu: { auto: simd ? "cpu-simd" : "cpu", loop: "cpu", tensor: "tensor" },
            wasm: { auto: simd ? "wasm-simd" : "wasm-loop", loop: "wasm-loop", tensor: "tensor" },
          }[backend][kernel];
          expect(grouped.lastUpdatePath).toBe(path);
          // The slots each variable keeps are its group's, named as the separate optimizers name theirs.
          const slotsOf = async (opt: AnyOptimizer) =>
            (await opt.getWeights()).slice(1).map((w) => w.name.replace(/^(pg|sep)\d+\//, ""));
          const own = (await Promise.all(separate.map(slotsOf))).flat().sort();
          expect((await slotsOf(grouped)).sort()).toEqual(own);
        } finally {
          grouped.dispose();
          separate.forEach((o) => o.dispose());
          tf.dispose([...mine, ...theirs]);
        }
      },
    );
  },
);

describe("groups: options", () => {
  it("options of the whole optimizer, TensorFlow.js options and bad groups are refused, naming the group", () => {
    const refused: [Record<string, unknown>, RegExp][] = [
      [{ rectify: false }, /^AdaBelief: param group 1 sets rectify, which applies to the whole optimizer/],
      [{ weightDecouple: false }, /param group 1 sets weightDecouple/],
      [{ nonFinite: "skip" }, /param group 1 sets nonFinite/],
      [{ clipGlobalNorm: 1 }, /param group 1 sets clipGlobalNorm/],
      [{ clipValue: 1 }, /param group 1 sets clipValue/],
      [{ kernel: "loop" }, /param group 1 sets kernel/],
      [{ groups: [] }, /param group 1 sets groups/],
      [
        { beta_1: 0.5 },
        /^AdaBelief: param group 1: unknown option "beta_1"; a group may set learningRate, beta1, beta2, epsilon, weightDecay, amsgrad$/,
      ],
      [{ beta1: 2 }, /^AdaBelief: param group 1: beta1 must be a number in \[0, 1\), got 2$/],
    ];
    for (const [settings, message] of refused) {
      const build = () => adabelief({ groups: [{ match: /x/ }, { match: /bias$/, ...settings }] as never });
      expect(build).toThrow(OptionError);
      expect(build).toThrow(message);
    }
    expect(() => adabelief({ groups: [{ weightDecay: 0 }] as never })).toThrow(
      /param group 0: match must be a RegExp or a function \(name\) => boolean, got undefined/,
    );
    expect(() => adabelief({ groups: [/bias/] as never })).toThrow(/param group 0: match must be a RegExp/);
    expect(() => adabelief({ groups: {} as never })).toThrow(
      /groups must be an array of \{ match, \.\.\.options \}/,
    );
    expect(() => adabelief({ groups: [null] as never })).toThrow(/param group 0 must be an object/);
    // The unknown-option message of the optimizer's own options lists groups with the TensorFlow.js options.
    expect(() => adabelief({ beta_1: 0.5 } as never)).toThrow(/known options: .*, kernel, groups$/);
  });

  it("first match wins; a name TensorFlow.js renamed on load (kernel_1) matches as the original", () => {
    const opt = adam({
      groups: [
        { match: /bias$/, weightDecay: 0 },
        { match: (n) => n.startsWith("dense"), learningRate: 0 },
      ],
    });
    expect(opt.paramGroupOf("dense/bias")).toBe(0);
    expect(opt.paramGroupOf("dense/bias_1")).toBe(0);
    expect(opt.paramGroupOf("dense/kernel")).toBe(1);
    expect(opt.paramGroupOf("out/kernel")).toBe(-1);
    const global = adam({ groups: [{ match: /bias$/g, weightDecay: 0 }] });
    expect([1, 2, 3].map(() => global.paramGroupOf(`b${serial++}/bias`))).toEqual([0, 0, 0]);
    opt.dispose();
    global.dispose();
  });

  it("learningRate: groups without their own follow it, the others keep theirs; paramGroups shows each", () => {
    const opt = sgd({
      learningRate: 0.1,
      groups: [
        { match: /bias$/, weightDecay: 1e-3 },
        { match: /gamma$/, learningRate: (s) => 0.5 / (1 + s) },
      ],
    });
    expect(opt.paramGroups.map((g) => g.currentLearningRate)).toEqual([0.1, 0.5]);
    opt.learningRate = 0.01;
    expect(opt.paramGroups.map((g) => g.currentLearningRate)).toEqual([0.01, 0.5]);
    expect(opt.paramGroups[0]!.options).toMatchObject({ learningRate: 0.01, weightDecay: 1e-3 });
    const w = tf.variable(tf.tensor1d([1, 1]), true, `lr${serial++}/bias`);
    opt.applyGradients({ [w.name]: tf.tensor1d([1, 2]) });
    expect(Array.from(w.dataSync())).toEqual([
      Math.fround(1 - 0.01 * Math.fround(1 + 1e-3)),
      Math.fround(1 - 0.01 * Math.fround(2 + 1e-3)),
    ]);
    opt.dispose();
    w.dispose();
  });

  it("clipGlobalNorm stays global: the norm is over every variable of the step, whatever its group", () => {
    for (const kernel of ["loop", "tensor"] as const) {
      const a = variables(`clipA${serial++}`);
      const b = variables(`clipB${serial++}`);
      // The group's setting is the optimizer's own value: only the grouping differs.
      const grouped = adam({
        learningRate: 0.1,
        clipGlobalNorm: 0.5,
        kernel,
        groups: [{ match: /bias$/, learningRate: 0.1 }],
      });
      const plain = adam({ learningRate: 0.1, clipGlobalNorm: 0.5, kernel });
      for (let t = 0; t < 3; t++) {
        const grads = gradients(t);
        grouped.applyGradients(a.map((v, i) => ({ name: v.name, tensor: grads[i]! })));
        plain.applyGradients(b.map((v, i) => ({ name: v.name, tensor: grads[i]! })));
        tf.dispose(grads);
      }
      a.forEach((v, i) => expectSameBits(v, b[i]!, `clipping, kernel ${kernel}`));
      grouped.dispose();
      plain.dispose();
      tf.dispose([...a, ...b]);
    }
  });
});

type Artifacts = tf.io.ModelArtifacts;

async function saveToMemory(model: tf.LayersModel): Promise<Artifacts> {
  let saved: Artifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      saved = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
    }),
    { includeOptimizer: true },
  );
  return saved!;
}

function network(optimizer: tf.Optimizer): tf.Sequential {
  const m = tf.sequential({
    layers: [
      tf.layers.dense({
        units: 3,
        inputShape: [2],
        activation: "relu",
        kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }),
      }),
      tf.layers.dense({ units: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }),
    ],
  });
  m.compile({ optimizer, loss: "meanSquaredError" });
  return m;
}

describe("groups: saving and loading", () => {
  const xs = () => tf.tensor2d([0.1, 0.2, -0.3, 0.4, 0.5, -0.6, 0.7, 0.8, -1, 0.5, 0.3, 0.3], [6, 2]);
  const ys = () => tf.tensor2d([0.3, 0.1, -0.1, 1.5, -0.5, 0.6], [6, 1]);

  it("a model saved with includeOptimizer loads with its groups (RegExp, options, per-group slots) and continues identically", async () => {
    const optimizer = adabelief({
      learningRate: 0.05,
      weightDecay: 1e-2,
      rectify: false,
      groups: [{ match: /bias$/i, weightDecay: 0, amsgrad: true, learningRate: 0.02 }],
    });
    const model = network(optimizer);
    const [x, y] = [xs(), ys()];
    await model.fit(x, y, { epochs: 4, batchSize: 3, verbose: 0, shuffle: false });
    const config = optimizer.getConfig();
    expect(config["groups"]).toEqual([
      { match: { source: "bias$", flags: "i" }, weightDecay: 0, amsgrad: true, learningRate: 0.02 },
    ]);
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(await saveToMemory(model)));
    const opt = loaded.optimizer as AdaBeliefOptimizer;
    expect(opt).toBeInstanceOf(AdaBeliefOptimizer);
    expect(opt.paramGroups).toHaveLength(1);
    expect(opt.paramGroups[0]!.match).toEqual(/bias$/i);
    expect(opt.paramGroups[0]!.options).toMatchObject({ weightDecay: 0, amsgrad: true, learningRate: 0.02 });
    // The biases keep AMSGrad's sMax, the kernels do not.
    const names = (await opt.getWeights()).map((w) => w.name);
    expect(names.filter((n) => n.endsWith("/sMax"))).toEqual(names.filter((n) => /bias[^/]*\/sMax$/.test(n)));
    expect(names.filter((n) => n.endsWith("/sMax"))).toHaveLength(2);
    await model.fit(x, y, { epochs: 3, batchSize: 3, verbose: 0, shuffle: false });
    await loaded.fit(x, y, { epochs: 3, batchSize: 3, verbose: 0, shuffle: false });
    // The loaded variables are renamed (`dense_Dense1/bias_1`, the originals being alive): the groups still
    // take the biases.
    expect(
      loaded.trainableWeights.map((w) => (w.read() as tf.Variable).name).filter((n) => n.endsWith("bias_1")),
    ).toHaveLength(2);
    loaded.trainableWeights.forEach((w) =>
      expect(opt.paramGroupOf((w.read() as tf.Variable).name) === 0).toBe(w.name.includes("bias")),
    );
    const before = model.getWeights();
    const after = loaded.getWeights();
    before.forEach((w, i) => expect(Array.from(after[i]!.dataSync())).toEqual(Array.from(w.dataSync())));
    expect(opt.iterations).toBe(optimizer.iterations);
    tf.dispose([x, y]);
  });

  it("a function match, or a schedule in a group, makes getConfig throw a clear OptionError", () => {
    const byFunction = adabelief({ groups: [{ match: (n) => n.endsWith("bias"), weightDecay: 0 }] });
    expect(() => byFunction.getConfig()).toThrow(OptionError);
    expect(() => byFunction.getConfig()).toThrow(
      /^AdaBelief\.getConfig: param group 0 matches variables with a function, which cannot be serialised; save the model without includeOptimizer, or match with a RegExp$/,
    );
    const scheduled = adam({ groups: [{ match: /bias$/, learningRate: (s) => 0.1 / (1 + s) }] });
    expect(() => scheduled.getConfig()).toThrow(
      /^Adam\.getConfig: option learningRate of param group 0 is a schedule function/,
    );
    // Without groups getConfig writes no groups entry.
    expect("groups" in adam().getConfig()).toBe(false);
  });

  it("fromConfig refuses a match that is not a valid RegExp", () => {
    expect(() =>
      AdaBeliefOptimizer.fromConfig(AdaBeliefOptimizer, { groups: [{ match: { source: "(", flags: "" } }] }),
    ).toThrow(/not a valid RegExp/);
  });
});

describe("groups: PyTorch state files", () => {
  it("one PyTorch param group per group, then the rest; a grouped optimizer reads it back", async () => {
    const options = {
      learningRate: 1e-2,
      weightDecay: 1e-2,
      groups: [{ match: /(bias|beta)$/, weightDecay: 0, amsgrad: true }],
    };
    const opt = adam(options);
    const vars = variables(`torch${serial++}`);
    for (let t = 0; t < 3; t++) {
      const grads = gradients(t);
      opt.applyGradients(vars.map((v, i) => ({ name: v.name, tensor: grads[i]! })));
      tf.dispose(grads);
    }
    const file = await toTorchState(opt, { variables: vars });
    const { tensors, metadata } = readSafetensors(file);
    expect(JSON.parse(metadata["param_groups"]!)).toEqual([
      expect.objectContaining({ weight_decay: 0, amsgrad: true, params: [0, 1] }),
      expect.objectContaining({ weight_decay: 1e-2, amsgrad: false, params: [2, 3, 4] }),
    ]);
    // Numbered group by group, as PyTorch numbers them: 0, 1 are the bias and beta, 2–4 the others.
    expect(
      Object.keys(tensors)
        .filter((k) => k.endsWith("max_exp_avg_sq"))
        .sort(),
    ).toEqual(["state.0.max_exp_avg_sq", "state.1.max_exp_avg_sq"]);
    expect(tensors["state.0.exp_avg"]!.shape).toEqual([4]);
    expect(tensors["state.2.exp_avg"]!.shape).toEqual([3, 4]);
    const warnings: string[] = [];
    const previous = setWarningHandler((m) => warnings.push(m));
    try {
      const fresh = adam(options);
      await fromTorchState(fresh, file, { variables: vars });
      expect(warnings).toEqual([]);
      const named = (ws: { name: string; tensor: tf.Tensor }[]) =>
        ws.map((w) => [w.name, Array.from(w.tensor.dataSync())] as const).sort();
      expect(named(await fresh.getWeights())).toEqual(named(await opt.getWeights()));
      // An optimizer without the groups: the biases' group differs, and its AMSGrad slots are missing.
      await expect(fromTorchState(adam({ amsgrad: true }), file, { variables: vars })).rejects.toThrow(
        StateError,
      );
      fresh.dispose();
    } finally {
      setWarningHandler(previous);
    }
    opt.dispose();
    tf.dispose(vars);
  });
});
