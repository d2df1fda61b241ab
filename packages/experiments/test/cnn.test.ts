import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { runCnn, task } from "../src/tasks/cnn.js";
import type { RunSpec } from "../src/task.js";

const tiny = {
  trainImages: 384,
  validationImages: 100,
  testImages: 200,
  model: { filters: [4, 8], dense: 16, batchNorm: false },
};

describe("cnn task", () => {
  it("trains a tiny CNN on wasm: finite metrics, falling loss, recorded settings", async () => {
    const spec: RunSpec = {
      task: "cnn",
      optimizer: "adabelief",
      seed: 1,
      size: "quick",
      backend: "wasm",
      epochs: 3,
    };
    const progress: number[] = [];
    const r = await runCnn(spec, { onProgress: (done, total) => progress.push(done / total) }, tiny);
    expect(r.curves).toHaveLength(3);
    for (const c of r.curves) {
      for (const k of ["trainLoss", "trainAcc", "valAcc", "testLoss", "testAcc"])
        expect(Number.isFinite(c[k])).toBe(true);
    }
    expect(r.curves[2]!["trainLoss"]!).toBeLessThan(r.curves[0]!["trainLoss"]!);
    expect(r.final["testAcc"]).toBeGreaterThan(10); // above chance after 9 updates
    expect(r.final["diverged"]).toBe(0);
    expect(r.hyperparameters).toMatchObject({
      learningRate: 1e-3,
      epsilon: 1e-8,
      weightDecay: 5e-4,
      batchSize: 128,
    });
    expect(r.hyperparameters["lrSchedule"]).toBe("×0.1 at updates 7");
    expect(progress[progress.length - 1]).toBe(1);
    expect(r.timings.perEpochSeconds).toHaveLength(3);
    expect(r.versions["backend"]).toBe("wasm");
  });

  it("is reproducible for a seed and stops when aborted", async () => {
    const spec: RunSpec = {
      task: "cnn",
      optimizer: "sgd",
      seed: 3,
      size: "quick",
      backend: "wasm",
      epochs: 1,
    };
    const a = await runCnn(spec, { onProgress: () => {} }, tiny);
    const tensors = tf.memory().numTensors;
    const b = await runCnn(spec, { onProgress: () => {} }, tiny);
    expect(tf.memory().numTensors).toBe(tensors); // nothing leaked
    expect(a.final["testAcc"]).toBe(b.final["testAcc"]);
    expect(a.curves[0]!["trainLoss"]).toBe(b.curves[0]!["trainLoss"]);
    const controller = new AbortController();
    const aborted = runCnn(
      spec,
      { onProgress: () => controller.abort(new Error("stop")), signal: controller.signal },
      tiny,
    );
    await expect(aborted).rejects.toThrow("stop");
  });

  it("describes itself for the suite", () => {
    expect(task.name).toBe("cnn");
    expect(task.headline).toEqual({ metric: "testAcc", higherIsBetter: true, label: "test accuracy (%)" });
    expect(task.defaultSeeds.full).toBeGreaterThanOrEqual(3);
    expect(task.paperReference).toContain("91.17");
  });
});
