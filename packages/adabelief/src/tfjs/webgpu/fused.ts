/**
 * The fused update on TensorFlow.js's WebGPU backend: per variable a few WGSL compute shaders run through
 * the backend's custom-program API (`backend.runWebGPUProgram(program, inputs, dtype, uniforms)`, the one
 * its own kernels use), instead of the ~15 tensor ops of the generic path.
 *
 * As on WebGL (`../webgl/fused.ts`, same structure and arithmetic): a program has one output and may not
 * write its inputs, so a step is three (four with AMSGrad) elementwise programs writing new buffers — m', the
 * second moment from m', the AMSGrad maximum, then θ' — swapped into the variable (`assign`) and the
 * optimizer's slots. Coefficients are uniforms: a pipeline compiles once per rank and option set. Every
 * operation is float32, the division by √(1−β2^t) a multiplication by its reciprocal; results agree with
 * the core rules to float32 precision. Feature-detected ({@link webgpuInternals}); without it, tensor ops.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs-core";
import { AdaBeliefMode, type AdaBeliefCoefficients } from "../../core/optimizers/adabelief.js";
import type { AdamCoefficients } from "../../core/optimizers/adam.js";

/** A custom program as the WebGPU backend takes it (`WebGPUProgram` of tfjs-backend-webgpu 4.x). */
export interface WebgpuProgram {
  outputShape: number[];
  shaderKey: string;
  variableNames: string[];
  uniforms: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  size: boolean;
  getUserCode(): string;
}

/** What the fused path needs from a WebGPU backend. */
export interface WebgpuInternals {
  run(program: WebgpuProgram, inputs: tf.TensorInfo[], uniforms: number[]): tf.TensorInfo;
}

interface WebgpuBackendLike {
  runWebGPUProgram(
    program: WebgpuProgram,
    inputs: tf.TensorInfo[],
    outputDtype: tf.DataType,
    programDefinedUniform?: { type: string; data: number[] }[],
  ): tf.TensorInfo;
  device?: unknown;
}

const cache = new WeakMap<object, WebgpuInternals | null>();

/** The internals of a TensorFlow.js WebGPU backend (`tf.backend()` under `"webgpu"`), or `null`. */
export function webgpuInternals(backend: unknown): WebgpuInternals | null {
  if (typeof backend !== "object" || backend === null) return null;
  const cached = cache.get(backend);
  if (cached !== undefined) return cached;
  const b = backend as Partial<WebgpuBackendLike>;
  const found: WebgpuInternals | null =
    typeof b.runWebGPUProgram === "function" && typeof b.device === "object" && b.device !== null
      ? {
          run: (program, inputs, uniforms) =>
            b.runWebGPUProgram!(
              program,
              inputs,
              "float32",
              uniforms.map((x) => ({ type: "float32", data: [x] })),
            ),
        }
      : null;
  cache.set(backend, found);
  return found;
}

const WORKGROUP = 64;

/**
 * A fresh program object (the backend writes its pipeline and derived shader key into the object it is
 * given, so one object per run; pipelines are cached by the backend on the key). Every input must be read
 * by the shader: the backend binds the inputs through the pipeline's automatic layout, which leaves out a
 * binding the code does not use (the dispatch then fails validation).
 */
function makeProgram(
  key: string,
  shape: number[],
  names: string[],
  uniforms: string[],
  body: string,
): WebgpuProgram {
  const size = shape.reduce((a, b) => a * b, 1);
  return {
    outputShape: shape,
    shaderKey: `adabelief_${key}`,
    variableNames: names,
    uniforms: uniforms.map((u) => `${u} : f32,`).join(" "),
    dispatchLayout: { x: shape.map((_, i) => i) },
    dispatch: [Math.ceil(size / WORKGROUP), 1, 1],
    workgroupSize: [WORKGROUP, 1, 1],
    size: true,
    getUserCode: () => `
      fn main(index : i32) {
        if (index < uniforms.size) {
          ${body}
        }
      }`,
  };
}

const gradExpr = (l2on: boolean) =>
  l2on
    ? "getGByOutputIndex(index) + uniforms.l2 * (getThetaByOutputIndex(index) * uniforms.decay)"
    : "getGByOutputIndex(index)";

const f = Math.fround;

/**
 * One variable's fused update: returns the new θ and slots as tensors (the caller swaps them in and
 * disposes the old ones). `slots` in the rule's order: m, s (v), and the AMSGrad maximum if any.
 */
export function webgpuUpdate(
  gpu: WebgpuInternals,
  rule: string,
  theta: tf.Tensor,
  grad: tf.Tensor,
  slots: readonly tf.Tensor[],
  coefficients: unknown,
): { theta: tf.Tensor; slots: tf.Tensor[] } {
  const shape = theta.shape;
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
    gpu.run(
      makeProgram(
        `m${+l2on}`,
        shape,
        l2on ? ["Theta", "G", "M"] : ["G", "M"],
        ["decay", "l2", "b1", "ob1"],
        `setOutputAtIndex(index, uniforms.b1 * getMByOutputIndex(index) + uniforms.ob1 * (${gradExpr(l2on)}));`,
      ),
      l2on ? [theta, grad, m] : [grad, m],
      [decay, l2, f(c.beta1), f(c.oneMinusBeta1)],
    ),
  );
  const second = belief
    ? `let g = ${gradExpr(l2on)};
          let r = g - getMByOutputIndex(index);
          setOutputAtIndex(index, (uniforms.b2 * getSByOutputIndex(index) + (uniforms.ob2 * r) * r) + uniforms.eps);`
    : `let g = ${gradExpr(l2on)};
          setOutputAtIndex(index, uniforms.b2 * getSByOutputIndex(index) + (uniforms.ob2 * g) * g);`;
  const s2 = make(
    gpu.run(
      makeProgram(
        `s${+l2on}${+belief}`,
        shape,
        [...(l2on ? ["Theta"] : []), "G", ...(belief ? ["M"] : []), "S"],
        ["decay", "l2", "b2", "ob2", "eps"],
        second,
      ),
      [...(l2on ? [theta] : []), grad, ...(belief ? [m2] : []), s],
      [decay, l2, f(c.beta2), f(c.oneMinusBeta2), belief ? f(c.epsilon) : 0],
    ),
  );
  let x2: tf.Tensor | undefined;
  if (hasMax) {
    x2 = make(
      gpu.run(
        makeProgram(
          "x",
          shape,
          ["X", "S"],
          [],
          `let x = getXByOutputIndex(index);
          let s = getSByOutputIndex(index);
          setOutputAtIndex(index, select(max(x, s), x + s, isnan(x) || isnan(s)));`,
        ),
        [x!, s2],
        [],
      ),
    );
  }
  const d = useMax ? x2! : s2;
  const body = !move
    ? "setOutputAtIndex(index, t);"
    : adaptive
      ? "setOutputAtIndex(index, t + (uniforms.stepSize * getMByOutputIndex(index)) / (sqrt(getDByOutputIndex(index)) * uniforms.inv + uniforms.eps));"
      : "setOutputAtIndex(index, t + uniforms.stepSize * getMByOutputIndex(index));";
  const t2 = make(
    gpu.run(
      makeProgram(
        `t${+adaptive}${+move}`,
        shape,
        !move ? ["Theta"] : adaptive ? ["Theta", "M", "D"] : ["Theta", "M"],
        ["decay", "stepSize", "inv", "eps"],
        `let t = getThetaByOutputIndex(index) * uniforms.decay;
          ${body}`,
      ),
      !move ? [theta] : adaptive ? [theta, m2, d] : [theta, m2],
      [decay, f(c.stepSize), f(1 / c.sqrtBc2), f(c.epsilon)],
    ),
  );
  return { theta: t2, slots: x2 ? [m2, s2, x2] : [m2, s2] };
}
