import * as tf from "@tensorflow/tfjs";
import { expect, it } from "vitest";
import { adabelief, adam, sgd } from "../../src/tfjs/index.js";
import { registerWasmTrainingKernels } from "../../src/tfjs/wasm-kernels/index.js";
import { useBackend } from "./helpers.js";

/**
 * The wasm backend caches XNNPACK operators with weights packed from the filter of a convolution and the
 * right-hand side of a matmul, keyed by the tensor's id. An in-place update must not leave those caches
 * computing with the old weights: after each step, the ops must give what fresh tensors with the new values
 * give.
 */
it.each([
  ["sgd", () => sgd({ learningRate: 0.5 })],
  ["adam", () => adam({ learningRate: 0.1 })],
  ["adabelief", () => adabelief({ learningRate: 0.1 })],
])("wasm: conv2d and matMul see the weights an in-place %s step wrote", async (_name, make) => {
  await useBackend("wasm");
  registerWasmTrainingKernels();
  const x = tf.randomNormal<tf.Rank.R4>([2, 6, 6, 3], 0, 1, "float32", 1);
  const filter = tf.variable(
    tf.randomNormal<tf.Rank.R4>([3, 3, 3, 4], 0, 1, "float32", 2),
    true,
    `staleF_${_name}`,
  );
  const a = tf.randomNormal([5, 7], 0, 1, "float32", 3);
  const w = tf.variable(tf.randomNormal<tf.Rank.R2>([7, 3], 0, 1, "float32", 4), true, `staleW_${_name}`);
  const opt = make();
  for (let step = 0; step < 3; step++) {
    // Use the weights (fills the backend's caches), then update them in place.
    tf.tidy(() => {
      tf.conv2d(x, filter, 1, "same").dataSync();
      tf.matMul(a, w).dataSync();
    });
    opt.minimize(
      () =>
        tf.add(
          tf.mean(tf.square(tf.conv2d(x, filter, 1, "same"))),
          tf.mean(tf.square(tf.matMul(a, w))),
        ) as tf.Scalar,
    );
    expect(opt.lastUpdatePath).toMatch(/^wasm/);
    tf.tidy(() => {
      const fresh = tf.tensor4d(filter.dataSync().slice(), filter.shape);
      const freshW = tf.tensor(w.dataSync().slice(), w.shape);
      const conv = tf.conv2d(x, filter, 1, "same").dataSync();
      const convFresh = tf.conv2d(x, fresh, 1, "same").dataSync();
      expect(Array.from(conv)).toEqual(Array.from(convFresh));
      expect(Array.from(tf.matMul(a, w).dataSync())).toEqual(Array.from(tf.matMul(a, freshW).dataSync()));
    });
  }
  for (const t of [x, filter, a, w]) t.dispose();
  opt.dispose();
});
