/**
 * The fused update on TensorFlow.js's WebGL backend: per variable a few fragment-shader programs run
 * through the backend's custom-program API (`backend.compileAndRun(program, inputs, dtype, uniforms)`, the
 * one its own kernels use), instead of the ~15 tensor ops of the generic path.
 *
 * A program has one output and may not write its inputs, so one step of AdaBelief or Adam/AdamW is three
 * (four with AMSGrad) elementwise programs writing new textures — the first moment m', the second moment s'
 * (v' for Adam) from m', the AMSGrad maximum, then θ' from θ, m' and s' — which are swapped into the variable
 * (`assign`) and the optimizer's slots; the old textures go back to the backend's texture pool. The step's
 * coefficients are uniforms, so a program compiles once per variable shape and option set, not per step.
 *
 * The arithmetic is the SIMD kernel's (`../wasm/simd.ts`): every operation in float32 (GLSL `highp`), the
 * division by √(1−β2^t) as a multiplication by its reciprocal; results agree with the core rules to float32
 * precision. Everything is feature-detected ({@link webglInternals}); without it the tensor-op path runs.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs-core";
import { AdaBeliefMode, type AdaBeliefCoefficients } from "../../core/optimizers/adabelief.js";
import type { AdamCoefficients } from "../../core/optimizers/adam.js";

/** A custom program as the WebGL backend takes it (`GPGPUProgram` of tfjs-backend-webgl). */
export interface WebglProgram {
  variableNames: string[];
  outputShape: number[];
  userCode: string;
  customUniforms: { name: string; type: "float" }[];
}

/** What the fused path needs from a WebGL backend. */
export interface WebglInternals {
  run(program: WebglProgram, inputs: tf.TensorInfo[], uniforms: number[][]): tf.TensorInfo;
}

interface WebglBackendLike {
  compileAndRun(
    program: WebglProgram,
    inputs: tf.TensorInfo[],
    outputDtype?: tf.DataType,
    customUniformValues?: number[][],
  ): tf.TensorInfo;
  gpgpu?: unknown;
}

const cache = new WeakMap<object, WebglInternals | null>();

/** The internals of a TensorFlow.js WebGL backend (`tf.backend()` under `"webgl"`), or `null`. */
export function webglInternals(backend: unknown): WebglInternals | null {
  if (typeof backend !== "object" || backend === null) return null;
  const cached = cache.get(backend);
  if (cached !== undefined) return cached;
  const b = backend as Partial<WebglBackendLike>;
  const found: WebglInternals | null =
    typeof b.compileAndRun === "function" && typeof b.gpgpu === "object" && b.gpgpu !== null
      ? { run: (program, inputs, uniforms) => b.compileAndRun!(program, inputs, "float32", uniforms) }
      : null;
  cache.set(backend, found);
  return found;
}

const U = (names: string[]) => names.map((name) => ({ name, type: "float" as const }));

/**
 * The programs of one update, each `(inputs, uniforms)` → one output. `g` is the gradient after the L2 term
 * (`g + l2·θ·decay` when `l2on`), recomputed where needed (cheaper than a fourth texture).
 */
function gradExpr(l2on: boolean): string {
  return l2on ? "getGAtOutCoords() + l2 * (getThetaAtOutCoords() * decay)" : "getGAtOutCoords()";
}

/** m' = β1·m + (1−β1)·g. Inputs (θ if `l2on`), g, m. */
function momentProgram(shape: number[], l2on: boolean): WebglProgram {
  return {
    variableNames: l2on ? ["Theta", "G", "M"] : ["G", "M"],
    outputShape: shape,
    customUniforms: U(["decay", "l2", "b1", "ob1"]),
    userCode: `
      void main() {
        float g = ${gradExpr(l2on)};
        setOutput(b1 * getMAtOutCoords() + ob1 * g);
      }`,
  };
}

/**
 * AdaBelief s' = β2·s + (1−β2)·(g−m')² + ε; Adam v' = β2·v + (1−β2)·g². Inputs (θ if `l2on`), g, m'
 * (AdaBelief), s.
 */
function secondProgram(shape: number[], l2on: boolean, belief: boolean): WebglProgram {
  return {
    variableNames: [...(l2on ? ["Theta"] : []), "G", ...(belief ? ["M"] : []), "S"],
    outputShape: shape,
    customUniforms: U(["decay", "l2", "b2", "ob2", "eps"]),
    userCode: belief
      ? `
      void main() {
        float g = ${gradExpr(l2on)};
        float r = g - getMAtOutCoords();
        setOutput((b2 * getSAtOutCoords() + (ob2 * r) * r) + eps);
      }`
      : `
      void main() {
        float g = ${gradExpr(l2on)};
        setOutput(b2 * getSAtOutCoords() + (ob2 * g) * g);
      }`,
  };
}

/** max(x, s'), NaN-propagating like Math.max. Inputs x, s'. */
function maxProgram(shape: number[]): WebglProgram {
  return {
    variableNames: ["X", "S"],
    outputShape: shape,
    customUniforms: [],
    userCode: `
      void main() {
        float x = getXAtOutCoords();
        float s = getSAtOutCoords();
        setOutput(isnan(x) || isnan(s) ? x + s : max(x, s));
      }`,
  };
}

/**
 * θ' = θ·decay + step·m'/(√d·inv + ε) (`adaptive`), θ·decay + step·m' (SGD), θ·decay (no move). Inputs
 * theta, m', d (the denominator's slot: s', v' or the maximum).
 */
function thetaProgram(shape: number[], adaptive: boolean, move: boolean): WebglProgram {
  const body = !move
    ? "setOutput(t);"
    : adaptive
      ? "setOutput(t + (stepSize * getMAtOutCoords()) / (sqrt(getDAtOutCoords()) * inv + eps));"
      : "setOutput(t + stepSize * getMAtOutCoords());";
  return {
    variableNames: !move ? ["Theta"] : adaptive ? ["Theta", "M", "D"] : ["Theta", "M"],
    outputShape: shape,
    customUniforms: U(["decay", "stepSize", "inv", "eps"]),
    userCode: `
      void main() {
        float t = getThetaAtOutCoords() * decay;
        ${body}
      }`,
  };
}

/** Programs are plain objects: cache them by shape and flags so the backend's binary cache hits. */
const programs = new Map<string, WebglProgram>();
function program(key: string, make: () => WebglProgram): WebglProgram {
  let p = programs.get(key);
  if (!p) {
    p = make();
    programs.set(key, p);
  }
  return p;
}

const f = Math.fround;

/**
 * One variable's fused update: returns the new θ and slots as tensors (the caller swaps them in and
 * disposes the old ones). `slots` in the rule's order: m, s (v), and the AMSGrad maximum if any.
 */
export function webglUpdate(
  gl: WebglInternals,
  rule: string,
  theta: tf.Tensor,
  grad: tf.Tensor,
  slots: readonly tf.Tensor[],
  coefficients: unknown,
): { theta: tf.Tensor; slots: tf.Tensor[] } {
  const shape = theta.shape;
  const key = shape.join("x");
  const belief = rule === "AdaBelief";
  const c = coefficients as AdaBeliefCoefficients & AdamCoefficients;
  const l2on = c.l2 !== 0;
  const mode = belief ? (c as AdaBeliefCoefficients).mode : AdaBeliefMode.Adaptive;
  const adaptive = mode === AdaBeliefMode.Adaptive;
  const move = mode !== AdaBeliefMode.None;
  const hasMax = slots.length === 3;
  const useMax = belief ? (c as AdaBeliefCoefficients).useMax : hasMax;
  const [m, s, x] = slots as [tf.Tensor, tf.Tensor, tf.Tensor | undefined];
  const engine = tf.engine();
  const make = (info: tf.TensorInfo) => engine.makeTensorFromTensorInfo(info);
  const decay = f(c.decay);
  const l2 = f(c.l2);
  const m2 = make(
    gl.run(
      program(`m${key}${+l2on}`, () => momentProgram(shape, l2on)),
      l2on ? [theta, grad, m] : [grad, m],
      [[decay], [l2], [f(c.beta1)], [f(c.oneMinusBeta1)]],
    ),
  );
  const s2 = make(
    gl.run(
      program(`s${key}${+l2on}${+belief}`, () => secondProgram(shape, l2on, belief)),
      [...(l2on ? [theta] : []), grad, ...(belief ? [m2] : []), s],
      [[decay], [l2], [f(c.beta2)], [f(c.oneMinusBeta2)], [belief ? f(c.epsilon) : 0]],
    ),
  );
  let x2: tf.Tensor | undefined;
  if (hasMax)
    x2 = make(
      gl.run(
        program(`x${key}`, () => maxProgram(shape)),
        [x!, s2],
        [],
      ),
    );
  const d = useMax ? x2! : s2;
  const t2 = make(
    gl.run(
      program(`t${key}${+adaptive}${+move}`, () => thetaProgram(shape, adaptive, move)),
      !move ? [theta] : adaptive ? [theta, m2, d] : [theta, m2],
      [[decay], [f(c.stepSize)], [f(1 / c.sqrtBc2)], [f(c.epsilon)]],
    ),
  );
  return { theta: t2, slots: x2 ? [m2, s2, x2] : [m2, s2] };
}
