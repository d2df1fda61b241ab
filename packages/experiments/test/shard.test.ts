import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { main } from "../src/cli.js";
import { MergeError, mergeFolders } from "../src/merge.js";
import { assignShards, compareRuns, formatShard, parseShard, runKey, shardRuns } from "../src/shard.js";
import { runSuite, specsFor } from "../src/suite.js";
import { runSweep } from "../src/sweep.js";
import { OPTIMIZERS, type RunSpec } from "../src/task.js";
import { fakeTask } from "./suite-fake-task.js";
import { quietReporter, tmpDirs } from "./helpers.js";

const tmp = tmpDirs("shard-test");

function spec(task: string, optimizer: RunSpec["optimizer"], seed: number, learningRate?: number): RunSpec {
  return {
    task,
    optimizer,
    seed,
    size: "quick",
    backend: "cpu",
    ...(learningRate !== undefined ? { learningRate } : {}),
  };
}

/** Every (task, optimizer, seed) of a 4-task, 9-optimizer, 3-seed suite. */
function suiteSpecs(): RunSpec[] {
  return ["toy", "cnn", "lstm", "gan"].flatMap((t) =>
    OPTIMIZERS.flatMap((o) => [1, 2, 3].map((s) => spec(t, o, s))),
  );
}

describe("--shard k/n: parsing", () => {
  it("accepts k/n with 1 ≤ k ≤ n and refuses anything else with a one-line message", () => {
    expect(parseShard("2/3")).toEqual({ index: 2, count: 3 });
    expect(parseShard(" 1 / 1 ")).toEqual({ index: 1, count: 1 });
    expect(formatShard({ index: 4, count: 7 })).toBe("4/7");
    for (const bad of ["0/3", "4/3", "1/0", "a/3", "2", "1/3/4", "-1/3", "1.5/3", ""])
      expect(() => parseShard(bad), bad).toThrow(/^--shard/);
  });
});

describe("--shard k/n: the assignment", () => {
  it("puts every run in exactly one shard, with shard sizes differing by at most one", () => {
    const specs = suiteSpecs();
    for (const n of [1, 2, 3, 5, 7, 108, 200]) {
      const parts = Array.from({ length: n }, (_, k) => shardRuns(specs, { index: k + 1, count: n }));
      const all = parts.flat().map(runKey).sort();
      expect(all).toEqual(specs.map(runKey).sort());
      const sizes = parts.map((p) => p.length);
      expect(Math.max(...sizes) - Math.min(...sizes), `n = ${n}`).toBeLessThanOrEqual(1);
    }
  });

  it("does not depend on the order the runs are listed in, nor on the rates' order of a sweep", () => {
    const specs = [0.1, 0.001, 0.01].flatMap((lr) =>
      (["adabelief", "sgd", "adam"] as const).flatMap((o) => [2, 1].map((s) => spec("cnn", o, s, lr))),
    );
    const a = assignShards(specs, 4);
    const b = assignShards([...specs].reverse(), 4);
    expect([...a.entries()].sort()).toEqual([...b.entries()].sort());
    // The documented order: task, learning rate ascending, optimizer (suite order), seed.
    const sorted = [...specs].sort(compareRuns).map(runKey);
    expect(sorted.slice(0, 3)).toEqual(["cnn|0.001|sgd|1", "cnn|0.001|sgd|2", "cnn|0.001|adam|1"]);
    sorted.forEach((key, i) => expect(a.get(key)).toBe((i % 4) + 1));
  });

  it("sends an optimizer's seeds to different machines (3 seeds, 3 shards: shard k gets seed k)", () => {
    const specs = suiteSpecs();
    for (let k = 1; k <= 3; k++) {
      const part = shardRuns(specs, { index: k, count: 3 });
      expect(new Set(part.map((s) => s.seed))).toEqual(new Set([k]));
      // …and every optimizer of every task: slow and fast optimizers are spread evenly.
      expect(part).toHaveLength(4 * 9);
    }
  });

  it("refuses a run listed twice", () => {
    expect(() => assignShards([spec("toy", "adam", 1), spec("toy", "adam", 1)], 2)).toThrow(/listed twice/);
  });
});

describe("--shard k/n: the suite", () => {
  it("a shard makes only its runs, resumes them, and the shards together make every run once", async () => {
    const dirs = [tmp(), tmp(), tmp()];
    const calls: string[][] = [];
    for (const [i, out] of dirs.entries()) {
      const task = fakeTask({ epochs: 1 });
      const o = await runSuite({
        tasks: ["fake"],
        size: "quick",
        optimizers: ["sgd", "adam", "adabelief"],
        seeds: 3,
        backend: "cpu",
        out,
        loadTask: async () => task,
        reporter: quietReporter(),
        shard: { index: i + 1, count: 3 },
      });
      expect(o.otherShards).toBe(6);
      calls.push(task.calls.map((s) => `${s.optimizer}-${s.seed}`));
      // A rerun of the same shard finds its runs on disk and runs nothing.
      const again = fakeTask({ epochs: 1 });
      const o2 = await runSuite({
        tasks: ["fake"],
        size: "quick",
        optimizers: ["sgd", "adam", "adabelief"],
        seeds: 3,
        backend: "cpu",
        out,
        loadTask: async () => again,
        reporter: quietReporter(),
        shard: { index: i + 1, count: 3 },
      });
      expect(again.calls).toEqual([]);
      expect(o2.skipped).toHaveLength(3);
      const stored = JSON.parse(readFileSync(join(out, "fake", "runs", `sgd-seed${i + 1}.json`), "utf8"));
      expect(stored.provenance.shard).toBe(`${i + 1}/3`);
    }
    expect(calls).toEqual([
      ["sgd-1", "adam-1", "adabelief-1"],
      ["sgd-2", "adam-2", "adabelief-2"],
      ["sgd-3", "adam-3", "adabelief-3"],
    ]);
  });

  it("refuses to shard when a task of the command is unavailable (the split would differ)", async () => {
    const task = fakeTask();
    await expect(
      runSuite({
        tasks: ["fake", "missing"],
        size: "quick",
        optimizers: ["adam"],
        backend: "cpu",
        out: tmp(),
        loadTask: async (name) => {
          if (name !== "fake") throw new Error("not here");
          return task;
        },
        reporter: quietReporter(),
        shard: { index: 1, count: 2 },
      }),
    ).rejects.toThrow(/--shard 1\/2 needs every task of the command: missing is unavailable here/);
    expect(task.calls).toEqual([]);
  });
});

/** A stream that keeps what is written to it. */
function sink(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    decodeStrings: false,
    write(chunk: string | Buffer, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return { stream, text: () => chunks.join("") };
}

async function cli(args: string[], cwd: string) {
  const stdout = sink();
  const stderr = sink();
  const status = await main(args, { stdout: stdout.stream, stderr: stderr.stream, cwd });
  return { status, stdout: stdout.text(), stderr: stderr.text() };
}

/**
 * A report with what depends on the clock or on the command line taken out: the "seconds per run" column
 * and the section on how the runs were made.
 */
function comparable(report: string): string {
  return report
    .split("## How these runs were made")[0]!
    .split("\n")
    .map((line) => line.replace(/\| [0-9.]+ \|$/, "|"))
    .join("\n");
}

/** The run files' content that does not depend on the clock or the command line. */
function runsOf(dir: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const runs = join(dir, "toy", "runs");
  for (const f of readdirSync(runs).sort()) {
    const { timings: _t, provenance: _p, ...rest } = JSON.parse(readFileSync(join(runs, f), "utf8"));
    out[f] = rest;
  }
  return out;
}

describe("--shard k/n and report --from on the toy task (n = 3)", () => {
  const RUN = ["toy", "--seeds", "3", "--optimizers", "adabound,adabelief", "--epochs", "400"];
  RUN.push("--backend", "cpu");

  it("three shards merged give the same runs and the same report as one unsharded run", async () => {
    const d = tmp();
    for (const k of [1, 2, 3]) {
      const r = await cli([...RUN, "--shard", `${k}/3`, "--out", `s${k}`], d);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain(`Runs: 2 done now, 0 resumed from disk, 4 left to the other shards`);
    }
    const merged = await cli(["report", "--out", "merged", "--from", "s1", "s2", "s3"], d);
    expect(merged.status, merged.stderr).toBe(0);
    expect(merged.stderr).toBe("");
    expect(merged.stdout).toContain("Merged 6 run files into");
    const single = await cli([...RUN, "--out", "single"], d);
    expect(single.status, single.stderr).toBe(0);

    expect(runsOf(join(d, "merged"))).toEqual(runsOf(join(d, "single")));
    const report = (dir: string) => readFileSync(join(d, dir, "toy", "report.md"), "utf8");
    expect(comparable(report("merged"))).toBe(comparable(report("single")));
    const summary = (dir: string) => JSON.parse(readFileSync(join(d, dir, "toy", "summary.json"), "utf8"));
    expect(summary("merged").rows).toEqual(summary("single").rows);
    expect(summary("merged").runs).toBe(6);
    // The merged README names the three shard commands and the report command.
    const readme = readFileSync(join(d, "merged", "README.md"), "utf8");
    for (const k of [1, 2, 3]) expect(readme).toContain(`--shard ${k}/3 --out s${k}\`: 2 runs`);
    expect(readme).toContain(
      "- This report: `npx tsx packages/experiments/src/cli.ts report --out merged --from s1 s2 s3`",
    );
    // Merging again changes nothing and copies nothing.
    const again = await cli(["report", "--out", "merged", "--from", "s1", "s2", "s3"], d);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toContain("Merged 0 run files into");
    expect(comparable(report("merged"))).toBe(comparable(report("single")));
  });

  it("refuses, naming both files, the same run made with different settings, and folders of different sizes", async () => {
    const d = tmp();
    const opts = ["toy", "--optimizers", "adam", "--backend", "cpu"];
    expect((await cli([...opts, "--epochs", "100", "--out", "a"], d)).status).toBe(0);
    expect((await cli([...opts, "--epochs", "200", "--out", "b"], d)).status).toBe(0);
    const r = await cli(["report", "--out", "m", "--from", "a", "b"], d);
    expect(r.status).toBe(2);
    const fa = join(d, "a", "toy", "runs", "adam-seed1.json");
    const fb = join(d, "b", "toy", "runs", "adam-seed1.json");
    expect(r.stderr).toContain(
      `adabelief-suite: error: cannot merge: toy: runs made with different settings in different folders: ` +
        `${fa} (quick, epochs 100, backend cpu) and ${fb} (quick, epochs 200, backend cpu)`,
    );
    expect(r.stderr).toContain(`adam seed 1 has different settings in ${fa}`);
    // Nothing was written.
    expect(readdirSync(join(d, "m"))).toEqual([]);

    expect((await cli([...opts, "--full", "--epochs", "100", "--out", "f"], d)).status).toBe(0);
    const sizes = await cli(["report", "--out", "m2", "--from", "a", "f"], d);
    expect(sizes.status).toBe(2);
    expect(sizes.stderr).toContain("the folders hold runs of different sizes");
    expect(sizes.stderr).toContain(join(d, "f", "toy", "runs", "adam-seed1.json"));
  });

  it("warns about a run found in two folders, counts it once, and says when their results differ", async () => {
    const task = fakeTask({ epochs: 1 });
    const suite = (out: string, optimizers: ("adam" | "sgd")[]) =>
      runSuite({
        tasks: ["fake"],
        size: "quick",
        optimizers,
        seeds: 1,
        backend: "cpu",
        out,
        loadTask: async () => task,
        reporter: quietReporter(),
      });
    const [a, b] = [tmp(), tmp()];
    await suite(a, ["sgd", "adam"]);
    await suite(b, ["adam"]);
    const fa = join(a, "fake", "runs", "adam-seed1.json");
    const fb = join(b, "fake", "runs", "adam-seed1.json");
    const m = await mergeFolders(tmp(), [a, b], { loadTask: async () => task });
    expect(m.warnings).toEqual([
      `${fb}: not used: duplicate of ${fa} (same task, optimizer, seed and settings), counted once`,
    ]);
    expect(m.copied).toHaveLength(2);
    expect(m.rebuild.tasks).toEqual(["fake"]);
    // Different numbers under the same settings (another machine's arithmetic, say): still counted once.
    const changed = JSON.parse(readFileSync(fb, "utf8"));
    changed.final.testAcc += 1;
    writeFileSync(fb, JSON.stringify(changed));
    const m2 = await mergeFolders(tmp(), [a, b], { loadTask: async () => task });
    expect(m2.warnings).toEqual([
      `${fb}: not used: duplicate of ${fa} (same task, optimizer, seed and settings; their results differ, ` +
        "the first is kept), counted once",
    ]);
  });

  it("refuses the same optimizer with different hyper-parameters in two folders, writing nothing", async () => {
    const task = fakeTask({ epochs: 1 });
    const [a, b] = [tmp(), tmp()];
    for (const [i, out] of [a, b].entries())
      await runSuite({
        tasks: ["fake"],
        size: "quick",
        optimizers: ["adam"],
        seeds: 2,
        backend: "cpu",
        out,
        loadTask: async () => task,
        reporter: quietReporter(),
        shard: { index: i + 1, count: 2 },
      });
    const fb = join(b, "fake", "runs", "adam-seed2.json");
    const run = JSON.parse(readFileSync(fb, "utf8"));
    run.hyperparameters.learningRate = 0.02;
    writeFileSync(fb, JSON.stringify(run));
    const merged = tmp();
    const err = await mergeFolders(merged, [a, b], { loadTask: async () => task }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MergeError);
    expect((err as MergeError).problems).toEqual([
      `fake: adam ran with different hyper-parameters (learningRate): ${join(a, "fake", "runs", "adam-seed1.json")} and ${fb}`,
    ]);
    expect(readdirSync(merged)).toEqual([]);
  });
});

describe("--shard k/n on a sweep", () => {
  it("the shards of a sweep merged choose the same rates from the same runs as the whole sweep", async () => {
    const task = fakeTask({ validation: true, epochs: 1 });
    const base = {
      task: "fake",
      rates: [1e-3, 1e-2, 1e-1],
      size: "quick" as const,
      optimizers: ["sgd", "adam", "adabelief"] as const,
      backend: "cpu" as const,
      loadTask: async () => task,
      reporter: quietReporter(),
    };
    const whole = await runSweep({ ...base, optimizers: [...base.optimizers], out: tmp() });
    const parts = [tmp(), tmp()];
    let ran = 0;
    for (const [i, out] of parts.entries()) {
      const o = await runSweep({
        ...base,
        optimizers: [...base.optimizers],
        out,
        shard: { index: i + 1, count: 2 },
      });
      expect(o.choices).toEqual([]);
      expect(readFileSync(o.report, "utf8")).toContain(`shard ${i + 1}/2`);
      ran += o.ran;
    }
    expect(ran).toBe(whole.ran);
    const merged = tmp();
    const m = await mergeFolders(merged, parts, { loadTask: async () => task });
    expect(m.warnings).toEqual([]);
    expect(m.copied).toHaveLength(whole.ran);
    expect(m.rebuild.sweeps).toHaveLength(1);
    expect(m.rebuild.sweeps[0]!.choices).toEqual(whole.choices);
    const json = JSON.parse(readFileSync(join(merged, "fake", "sweep.json"), "utf8"));
    expect(json.shard).toBeUndefined();
    expect(json.choices.map((c: { selected: number }) => c.selected)).toEqual([0.01, 0.001, 0.001]);
  });

  it("the specs of one sweep rate are those of a suite run at that rate", () => {
    const task = fakeTask();
    const specs = specsFor(task, {
      tasks: ["fake"],
      size: "quick",
      optimizers: ["adam"],
      backend: "cpu",
      out: "x",
      learningRate: 0.1,
    });
    expect(specs.map(runKey)).toEqual(["fake|0.1|adam|1", "fake|0.1|adam|2"]);
  });
});
