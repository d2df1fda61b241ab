import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { AdaBelief, clipByGlobalNorm, clipByValue, NonFiniteGradientError } from "../../src/core/index.js";
import { adabelief } from "../../src/tfjs/index.js";
import { useBackend } from "./helpers.js";

beforeAll(() => useBackend("cpu"));

describe("gradient clipping on every path", () => {
  for (const kernel of ["loop", "auto", "tensor"] as const) {
    it(`clipGlobalNorm of a huge gradient (3e19: Σg² overflows float32) matches the core (${kernel})`, async () => {
      const p = new Float32Array([1, 1]);
      const core = new AdaBelief([p], { learningRate: 0.1 });
      const v = tf.variable(tf.tensor1d([1, 1]), true, `hugeClip${kernel}`);
      const opt = adabelief({ learningRate: 0.1, clipGlobalNorm: 1, kernel });
      for (const g of [new Float32Array([3e19, 1]), new Float32Array([1, 1]), new Float32Array([0, 0])]) {
        core.step(clipByGlobalNorm([g], 1));
        const t = tf.tensor1d(g);
        opt.applyGradients({ [v.name]: t });
        t.dispose();
      }
      expect(opt.lastUpdatePath).toBe({ loop: "cpu", auto: "cpu-simd", tensor: "tensor" }[kernel]);
      const tol = kernel === "loop" ? 0 : 1e-6;
      const close = (got: ArrayLike<number>, want: ArrayLike<number>) =>
        Array.from(want).forEach((w, j) =>
          expect(Math.abs(got[j]! - w) / (1 + Math.abs(w)), `${got[j]} vs ${w}`).toBeLessThanOrEqual(tol),
        );
      close(v.dataSync(), p);
      // The moments saw the clipped gradient (m₁ = 0.1·g/‖g‖ ≈ [0.1, 3e-21]), not 3e18.
      const [m, s] = (await opt.getWeights()).slice(1).map((w) => w.tensor.dataSync());
      const coreState = core.getState();
      expect(m![0]!).toBeLessThan(1);
      close(m!, coreState.slots["m"]![0]! as number[]);
      close(s!, coreState.slots["s"]![0]! as number[]);
      opt.dispose();
      v.dispose();
    });

    it(`the non-finite check sees the unclipped gradient: Infinity throws despite clipValue (${kernel})`, () => {
      const v = tf.variable(tf.tensor1d([1, 2]), true, `infClip${kernel}`);
      for (const clip of [{ clipValue: 1 }, { clipGlobalNorm: 1 }, { clipValue: 1, clipGlobalNorm: 1 }]) {
        const opt = adabelief({ learningRate: 0.1, kernel, ...clip });
        const g = tf.tensor1d([Infinity, 1]);
        expect(() => opt.applyGradients({ [v.name]: g })).toThrow(NonFiniteGradientError);
        expect(() => opt.applyGradients({ [v.name]: g })).toThrow(
          /has Infinity at index 0; nothing was changed/,
        );
        expect(Array.from(v.dataSync())).toEqual([1, 2]);
        expect(opt.iterations).toBe(0);
        // With nonFinite "proceed", value clipping does clamp the Infinity.
        const proceed = adabelief({ learningRate: 0.1, kernel, nonFinite: "proceed", clipValue: 1 });
        const p = new Float32Array([1, 2]);
        new AdaBelief([p], { learningRate: 0.1, nonFinite: "proceed" }).step(
          clipByValue([new Float32Array([Infinity, 1])], 1),
        );
        const w = tf.variable(tf.tensor1d([1, 2]), true);
        proceed.applyGradients({ [w.name]: g });
        w.dataSync().forEach((x, j) => expect(Math.abs(x - p[j]!)).toBeLessThanOrEqual(1e-6));
        tf.dispose([g, w]);
        opt.dispose();
        proceed.dispose();
      }
      v.dispose();
    });
  }
});
