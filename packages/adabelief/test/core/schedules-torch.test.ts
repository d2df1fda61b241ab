import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  oneCycle,
  ReduceLROnPlateau,
  type OneCycleOptions,
  type ReduceOnPlateauOptions,
} from "../../src/core/index.js";

/**
 * Replays the learning rates PyTorch 1.13's OneCycleLR and ReduceLROnPlateau produced
 * (scripts/schedules-reference.py at the repository root → test/fixtures/schedules/torch-schedules.json).
 */
interface Fixture {
  generator: { torch_version: string };
  one_cycle: { name: string; options: OneCycleOptions; lrs: number[]; after_total: number }[];
  reduce_on_plateau: {
    name: string;
    options: ReduceOnPlateauOptions;
    metrics: number[];
    epochs: { lr: number; best: number | null; num_bad_epochs: number; cooldown_counter: number }[];
  }[];
}

const fixture = JSON.parse(
  readFileSync(new URL("../fixtures/schedules/torch-schedules.json", import.meta.url), "utf8"),
) as Fixture;

describe("oneCycle replays torch.optim.lr_scheduler.OneCycleLR", () => {
  it("covers cos and linear, two and three phases, six parameter sets", () => {
    expect(fixture.generator.torch_version).toMatch(/^1\.13/);
    expect(fixture.one_cycle).toHaveLength(24);
    const kinds = new Set(
      fixture.one_cycle.map((c) => `${c.options.annealStrategy}/${c.options.threePhase}`),
    );
    expect(kinds).toEqual(new Set(["cos/false", "cos/true", "linear/false", "linear/true"]));
  });

  it.each(fixture.one_cycle.map((c) => [c.name, c] as const))(
    "%s: schedule(k) = torch's rate after k scheduler.step() calls, k = 0 … T−1, to 1e-12",
    (_name, c) => {
      const s = oneCycle(c.options);
      expect(c.lrs).toHaveLength(c.options.totalSteps);
      let worst = 0;
      c.lrs.forEach((want, k) => {
        const got = s(k);
        // Linear phases are bit-identical. Cosine phases may differ in the last bits: V8's Math.cos (fdlibm)
        // and glibc's cos round some arguments differently by 1 ulp, and `cos(πτ) + 1` near τ = 1 magnifies
        // that relative to the result (worst seen: 4.1e-15 at T = 1000, 46 of 4604 rates not identical).
        if (c.options.annealStrategy === "linear") expect(got).toBe(want);
        worst = Math.max(worst, Math.abs(got - want) / Math.abs(want));
      });
      expect(worst).toBeLessThanOrEqual(1e-12);
      expect(s.peak).toBe(c.options.maxLr);
    },
  );

  it("after the cycle holds the last update's rate, where torch extrapolates (even to negative rates) and then raises", () => {
    for (const c of fixture.one_cycle) {
      const s = oneCycle(c.options);
      const last = s(c.options.totalSteps - 1);
      expect(s(c.options.totalSteps)).toBe(last);
      expect(s(10 * c.options.totalSteps)).toBe(last);
      if (c.options.totalSteps > 1) expect(c.after_total).not.toBe(last);
    }
    expect(fixture.one_cycle.some((c) => c.after_total < 0)).toBe(true);
  });
});

describe("ReduceLROnPlateau replays torch.optim.lr_scheduler.ReduceLROnPlateau", () => {
  it("covers both modes, rel and abs, cooldown, minLr, eps and a negative metric", () => {
    const opts = fixture.reduce_on_plateau.map((c) => c.options);
    expect(new Set(opts.map((o) => o.mode ?? "min"))).toEqual(new Set(["min", "max"]));
    expect(new Set(opts.map((o) => o.thresholdMode ?? "rel"))).toEqual(new Set(["rel", "abs"]));
    expect(opts.some((o) => (o.cooldown ?? 0) > 0)).toBe(true);
    expect(opts.some((o) => (o.minLr ?? 0) > 0)).toBe(true);
    expect(opts.some((o) => o.eps !== undefined)).toBe(true);
  });

  it.each(fixture.reduce_on_plateau.map((c) => [c.name, c] as const))(
    "%s: the rate, best, bad-epoch and cooldown counters after every epoch are bit-identical",
    (_name, c) => {
      const plateau = new ReduceLROnPlateau(c.options);
      c.metrics.forEach((metric, e) => {
        const before = plateau.learningRate;
        const reduced = plateau.step(metric);
        const want = c.epochs[e]!;
        expect({
          epoch: e,
          lr: plateau.learningRate,
          best: plateau.best ?? null,
          bad: plateau.numBadEpochs,
          cooldown: plateau.cooldownCounter,
        }).toEqual({
          epoch: e,
          lr: want.lr,
          best: want.best,
          bad: want.num_bad_epochs,
          cooldown: want.cooldown_counter,
        });
        expect(reduced).toBe(want.lr !== before);
        expect(plateau.schedule(e)).toBe(want.lr);
      });
      expect(plateau.epochs).toBe(c.metrics.length);
    },
  );

  it("the eps case stops reducing once a reduction would be <= eps, the minLr case stops at minLr", () => {
    const eps = fixture.reduce_on_plateau.find((c) => c.name.startsWith("eps"))!;
    expect(eps.epochs[eps.epochs.length - 1]!.lr).toBe(1.25e-8);
    const min = fixture.reduce_on_plateau.find((c) => c.options.minLr === 0.01)!;
    expect(min.epochs[min.epochs.length - 1]!.lr).toBe(0.01);
  });
});
