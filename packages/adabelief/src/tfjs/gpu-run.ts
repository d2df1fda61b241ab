/**
 * The fused GPU step (WebGL: `./webgl/fused.ts`; WebGPU: `./webgpu/fused.ts`): per variable three or four
 * shader programs writing new textures or buffers for θ and the slots, swapped in. Rules without a fused
 * program take the tensor-op path.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs-core";
import { clips, clipTensors } from "./clip.js";
import {
  createSlots,
  readBeforeWrite,
  runTensor,
  scalarsOf,
  type Route,
  type StepContext,
  type UpdatePath,
  type Work,
} from "./update.js";
import { webglUpdate } from "./webgl/fused.js";
import { webgpuUpdate } from "./webgpu/fused.js";

/** The rules with fused GPU programs. */
export const GPU_RULES: ReadonlySet<string> = new Set(["AdaBelief", "Adam", "AdamW"]);

/**
 * Runs one step on a GPU route with the backend's fused programs per variable, or tensor ops for a rule
 * without them. Gradients are read as they were before the step, even one that is a variable or slot the
 * step writes (see `readBeforeWrite`).
 */
export function runGpu<C>(
  route: Extract<Route, { kind: "webgl" | "webgpu" }>,
  works: readonly Work[],
  ctx: StepContext<C>,
): UpdatePath {
  if (!GPU_RULES.has(ctx.rule.name)) {
    runTensor(works, ctx);
    return "tensor";
  }
  createSlots(works, ctx.slotInit);
  const rule = ctx.rule.name;
  const step =
    route.kind === "webgl"
      ? (t: tf.Tensor, g: tf.Tensor, s: readonly tf.Tensor[], c: C) => webglUpdate(route.gl, rule, t, g, s, c)
      : (t: tf.Tensor, g: tf.Tensor, s: readonly tf.Tensor[], c: C) =>
          webgpuUpdate(route.gpu, rule, t, g, s, c);
  tf.tidy(() => {
    const given = readBeforeWrite(
      works,
      works.map((w) => w.grad),
    );
    const grads = clips(ctx.clip) ? clipTensors(given, ctx.clip) : given;
    works.forEach((w, i) => {
      const v = w.entry.variable;
      if (v.size === 0) return;
      const old = w.entry.slots;
      const next = step(v, grads[i]!, old, scalarsOf(w, ctx)); // its parameter group's scalars
      v.assign(next.theta); // the tidy disposes `next.theta`; the variable keeps its data
      w.entry.slots = next.slots.map((s) => tf.keep(s));
      for (const s of old) s.dispose();
    });
  });
  return route.kind;
}
