import * as tf from "@tensorflow/tfjs-core";
import { expect, it } from "vitest";
import { adabelief } from "../../src/tfjs/index.js";
import { useBackend } from "./helpers.js";

it("cpu: the in-place update never writes into a typed array the user passed to tf.tensor", async () => {
  await useBackend("cpu");
  const mine = Float32Array.of(1, 2, 3);
  const t = tf.tensor1d(mine); // the cpu backend keeps `mine` as the tensor's storage
  const v = tf.variable(t, true, "ownershipW");
  t.dispose(); // now the variable is the only tensor on that storage (refCount 1), but `mine` is still ours
  const opt = adabelief({ learningRate: 0.1 });
  const g = tf.tensor1d([1, 1, 1]);
  opt.applyGradients([{ name: v.name, tensor: g }]);
  opt.applyGradients([{ name: v.name, tensor: g }]);
  expect(opt.lastUpdatePath).toBe("cpu-simd");
  expect(Array.from(mine)).toEqual([1, 2, 3]);
  expect(Array.from(v.dataSync())).not.toEqual([1, 2, 3]);
  g.dispose();
  v.dispose();
  opt.dispose();
});

it("cpu: a private copy made because the buffer was shared is not copied again (updates stay in place)", async () => {
  await useBackend("cpu");
  const v = tf.variable(tf.tensor1d([1, 2, 3]), true, "ownershipShared");
  const opt = adabelief({ learningRate: 0.1 });
  const g = tf.tensor1d([1, 1, 1]);
  opt.applyGradients({ [v.name]: g });
  const owned = v.dataId;
  opt.applyGradients({ [v.name]: g });
  expect(v.dataId).toBe(owned); // in place
  const snapshot = v.clone(); // shares the buffer: the next step must copy first
  const before = Array.from(snapshot.dataSync());
  opt.applyGradients({ [v.name]: g });
  expect(Array.from(snapshot.dataSync())).toEqual(before);
  const copy = v.dataId;
  expect(copy).not.toBe(owned);
  opt.applyGradients({ [v.name]: g });
  opt.applyGradients({ [v.name]: g });
  expect(v.dataId).toBe(copy); // the private copy is written in place from then on
  expect(opt.lastUpdatePath).toBe("cpu-simd");
  tf.dispose([g, v, snapshot]);
  opt.dispose();
});
