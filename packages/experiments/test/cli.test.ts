import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, readdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { CliError, main, parseCli, prepareOutDir } from "../src/cli.js";
import { OPTIMIZERS } from "../src/task.js";
import { tmpDirs } from "./helpers.js";

const root = resolve(import.meta.dirname, "../../..");
const cli = join(root, "packages/experiments/src/cli.ts");
const tsx = join(root, "node_modules/.bin/tsx");

const tmp = tmpDirs("cli-test");

const silent = { write: () => {} };
function parseError(argv: string[]): string {
  try {
    parseCli(argv, silent);
  } catch (err) {
    expect(err).toBeInstanceOf(CliError);
    const msg = (err as Error).message;
    expect(msg).not.toContain("\n");
    return msg;
  }
  throw new Error(`no error for ${argv.join(" ")}`);
}

describe("parseCli", () => {
  it("parses a task command with defaults", () => {
    const c = parseCli(["toy"], silent);
    expect(c).toMatchObject({
      kind: "run",
      tasks: ["toy"],
      size: "quick",
      backend: "wasm",
      out: join("results", "quick"),
      suite: false,
    });
    expect(c.optimizers).toEqual([...OPTIMIZERS]);
    expect(c.seeds).toBeUndefined();
  });

  it("parses suite --full with every option", () => {
    const c = parseCli(
      [
        "suite",
        "--full",
        "--optimizers",
        "AdaBelief, adam,adam",
        "--seeds",
        "3",
        "--epochs",
        "7",
        "--backend",
        "cpu",
        "--lr",
        "0.01",
        "--out",
        "x",
      ],
      silent,
    );
    expect(c).toMatchObject({
      tasks: ["toy", "cnn", "lstm", "word-lm", "word-lm-2", "word-lm-3", "wgan", "wgan-gp"],
      size: "full",
      seeds: 3,
      epochs: 7,
      backend: "cpu",
      learningRate: 0.01,
      out: "x",
      suite: true,
    });
    expect(c.optimizers).toEqual(["adam", "adabelief"]);
    expect(parseCli(["suite", "--full"], silent).out).toBe(join("results", "full"));
  });

  it("rejects bad input with a one-line message naming the problem", () => {
    expect(parseError(["tox"])).toBe("unknown command 'tox'");
    expect(parseError([])).toMatch(/^missing command: one of toy, cnn, lstm, word-lm, .*, gan, suite/);
    expect(parseError(["toy", "--optimizers", "adam,lion"])).toMatch(
      /^unknown optimizer "lion" in --optimizers \(known: sgd, adam/,
    );
    expect(parseError(["toy", "--optimizers", ","])).toMatch(/^--optimizers needs at least one name/);
    expect(parseError(["toy", "--seeds", "0"])).toBe('--seeds must be an integer from 1 to 1000, got "0"');
    expect(parseError(["toy", "--seeds", "2.5"])).toBe('--seeds must be a positive integer, got "2.5"');
    expect(parseError(["toy", "--seeds", "-1"])).toMatch(/--seeds/);
    expect(parseError(["cnn", "--epochs", "abc"])).toBe('--epochs must be a positive integer, got "abc"');
    expect(parseError(["cnn", "--backend", "webgl"])).toMatch(
      /argument 'webgl' is invalid. Allowed choices are cpu, wasm/,
    );
    expect(parseError(["lstm", "--quick", "--full"])).toBe("--quick and --full exclude each other");
    expect(parseError(["gan", "--lr", "-1"])).toBe('--lr must be a positive number, got "-1"');
    expect(parseError(["gan", "--bogus"])).toBe("unknown option '--bogus'");
    expect(parseError(["toy", "extra"])).toMatch(/too many arguments/);
    expect(parseError(["sweep", "cnn"])).toMatch(/required option '--lrs <list>' not specified/);
    expect(parseError(["sweep", "cnn", "--lrs", "1e-3"])).toBe(
      '--lrs needs at least two learning rates, got "1e-3"',
    );
    expect(parseError(["sweep", "cnn", "--lrs", "1e-3,0"])).toBe('--lrs must list positive numbers, got "0"');
    expect(parseError(["sweep", "cnn", "--lrs", "1e-3,0.001"])).toMatch(/^--lrs lists a rate twice/);
    expect(parseError(["sweep", "cnn", "--lrs", "1e-3,1e-2", "--lr", "1"])).toBe(
      "--lr and sweep exclude each other: list rates with --lrs",
    );
    expect(parseError(["sweep", "mlp", "--lrs", "1e-3,1e-2"])).toMatch(/^unknown task "mlp" for sweep/);
  });

  it("parses a sweep: its rates in order, its own default output folder", () => {
    const c = parseCli(["sweep", "lstm", "--lrs", "3e-3, 1e-3", "--seeds", "2", "--full"], silent);
    expect(c).toMatchObject({
      kind: "sweep",
      tasks: ["lstm"],
      rates: [3e-3, 1e-3],
      size: "full",
      seeds: 2,
      out: join("results", "sweep-full"),
    });
  });

  it("parses --shard k/n on every run command and report --from with several folders", () => {
    expect(parseCli(["suite", "--full", "--shard", "2/3"], silent).shard).toEqual({ index: 2, count: 3 });
    expect(parseCli(["toy", "--shard", "1/1"], silent).shard).toEqual({ index: 1, count: 1 });
    expect(parseCli(["sweep", "cnn", "--lrs", "1e-3,1e-2", "--shard", "3/4"], silent)).toMatchObject({
      kind: "sweep",
      shard: { index: 3, count: 4 },
    });
    expect(parseCli(["toy"], silent).shard).toBeUndefined();
    expect(parseError(["toy", "--shard", "4/3"])).toBe('--shard: k must be from 1 to n, got "4/3"');
    expect(parseError(["gan", "--shard", "two"])).toBe('--shard must be k/n (e.g. 2/3), got "two"');
    expect(parseCli(["report", "--out", "m", "--from", "a", "b", "c"], silent)).toMatchObject({
      kind: "report",
      out: "m",
      from: ["a", "b", "c"],
    });
    expect(parseCli(["report", "--out", "m"], silent).from).toBeUndefined();
  });

  it("--help prints usage for the program and every command", () => {
    let text = "";
    const sink = { write: (s: string) => void (text += s) };
    expect(parseCli(["--help"], sink).kind).toBe("help");
    expect(text).toContain("suite");
    for (const cmd of [
      "toy",
      "cnn",
      "lstm",
      "word-lm",
      "word-lm-3",
      "wgan",
      "wgan-gp",
      "gan",
      "suite",
      "sweep",
    ]) {
      text = "";
      expect(parseCli([cmd, "--help"], sink).kind).toBe("help");
      for (const opt of [
        "--quick",
        "--full",
        "--optimizers",
        "--seeds",
        "--epochs",
        "--backend",
        "--shard",
        "--out",
      ])
        expect(text).toContain(opt);
    }
  });
});

describe("prepareOutDir", () => {
  it("creates a writable folder and rejects a path under a file", () => {
    const d = tmp();
    expect(prepareOutDir(join(d, "a", "b"))).toBe(join(d, "a", "b"));
    expect(existsSync(join(d, "a", "b"))).toBe(true);
    expect(readdirSync(join(d, "a", "b"))).toEqual([]);
    writeFileSync(join(d, "file"), "x");
    expect(() => prepareOutDir(join(d, "file", "sub"))).toThrow(
      /--out .*file\/sub is not writable: .*file is not a folder/,
    );
    expect(() => prepareOutDir(join(d, "file"))).toThrow(/is not a folder/);
  });
});

describe("prepareOutDir resolves a relative --out against cwd", () => {
  it("creates <cwd>/<out>", () => {
    const d = tmp();
    expect(prepareOutDir("o", d)).toBe(join(d, "o"));
    expect(readdirSync(d)).toEqual(["o"]);
    expect(readdirSync(join(d, "o"))).toEqual([]);
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

/** Runs the CLI in this process with `cwd` as its working folder. */
async function run(args: string[], cwd: string) {
  const stdout = sink();
  const stderr = sink();
  const status = await main(args, { stdout: stdout.stream, stderr: stderr.stream, cwd });
  return { status, stdout: stdout.text(), stderr: stderr.text() };
}

const TOY = ["toy", "--optimizers", "sgd,adabelief", "--epochs", "100", "--out", "o"];

describe("the CLI, in process (main)", () => {
  it("bad arguments: one-line error on stderr, exit code 2, nothing written", async () => {
    const d = tmp();
    for (const args of [
      ["toy", "--optimizers", "adamx", "--out", "o"],
      ["nope"],
      // The toy task has no validation split: a sweep of it is refused before any work.
      ["sweep", "toy", "--lrs", "0.01,0.1", "--out", "o"],
    ]) {
      const r = await run(args, d);
      expect(r.status, args.join(" ")).toBe(2);
      expect(r.stderr.trim().split("\n"), r.stderr).toHaveLength(1);
      expect(r.stderr).toMatch(/^adabelief-suite: error: /);
      expect(r.stdout).toBe("");
    }
    expect(readdirSync(d)).toEqual([]);
  });

  it("--help prints usage on stdout and exits 0", async () => {
    const r = await run(["--help"], tmp());
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("Usage: adabelief-suite");
    expect(r.stdout).toContain("npx tsx packages/experiments/src/cli.ts toy --optimizers adam,adabelief");
    expect(r.stderr).toBe("");
  });

  it("report: regenerates a folder's reports without running; a folder without runs is an error", async () => {
    const d = tmp();
    const empty = await run(["report", "--out", d], d);
    expect(empty.status).toBe(2);
    expect(empty.stderr.trim()).toMatch(/^adabelief-suite: error: --out .* holds no task folder with runs$/);
    const missing = await run(["report", "--out", join(d, "nope")], d);
    expect(missing.status).toBe(2);
    expect(missing.stderr.trim()).toMatch(/is not a folder$/);
    const from = await run(["report", "--out", "m", "--from", "nope"], d);
    expect(from.status).toBe(2);
    expect(from.stderr.trim()).toBe("adabelief-suite: error: --from nope is not a folder");
    expect(readdirSync(d)).toEqual([]);
  });

  it("an unwritable --out: one-line error, exit code 2, nothing written", async () => {
    const d = tmp();
    writeFileSync(join(d, "file"), "x");
    const r = await run(["toy", "--out", join(d, "file", "results")], d);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain("is not writable");
    expect(readdirSync(d)).toEqual(["file"]);
  });

  it("runs the toy task end to end with plain progress lines when stdout is not a TTY, then resumes", async () => {
    const d = tmp();
    const r = await run(TOY, d);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("toy [1/2] sgd seed 1: started");
    expect(r.stdout).toContain("| AdaBelief |");
    expect(r.stdout).toContain(`Report: ${join(d, "o", "README.md")}`);
    expect(r.stderr).toBe("");
    expect(readdirSync(join(d, "o", "toy", "runs")).sort()).toEqual([
      "adabelief-seed1.json",
      "sgd-seed1.json",
    ]);
    // The README gives a command that works from the repository's root.
    expect(readFileSync(join(d, "o", "README.md"), "utf8")).toContain(
      "Made with `npx tsx packages/experiments/src/cli.ts toy --optimizers sgd,adabelief --epochs 100 --out o`",
    );
    const again = await run(TOY, d);
    expect(again.stdout).toContain("2 finished runs found, skipped (resume)");
    expect(again.stdout).toContain("Runs: 0 done now, 2 resumed from disk");
  });

  it("a malformed run file (no hyperparameters, curves [null]) is redone on resume and named in report warnings", async () => {
    const d = tmp();
    expect((await run(TOY, d)).status).toBe(0);
    const runs = join(d, "o", "toy", "runs");
    const sgd = join(runs, "sgd-seed1.json");
    const ab = join(runs, "adabelief-seed1.json");
    const good = readFileSync(sgd, "utf8");
    const { hyperparameters: _h, ...noHyper } = JSON.parse(good) as Record<string, unknown>;
    writeFileSync(sgd, JSON.stringify(noHyper));
    writeFileSync(ab, JSON.stringify({ ...JSON.parse(readFileSync(ab, "utf8")), curves: [null] }));

    // report: both files named, neither used; no usable run is left, so it is an error naming the folder.
    const rep = await run(["report", "--out", "o"], d);
    expect(rep.stderr).toContain(
      `adabelief-suite: warning: ${sgd}: not used: malformed (hyperparameters: expected an object, found nothing)\n`,
    );
    expect(rep.stderr).toContain(
      `adabelief-suite: warning: ${ab}: not used: malformed (curves[0]: expected an object, found null)\n`,
    );
    expect(rep.stderr.trim().split("\n").at(-1)).toBe(
      "adabelief-suite: error: --out o holds no task folder with usable runs",
    );
    expect(rep.status).toBe(2);

    // A resumed run redoes both, saying which file it redoes and why.
    const again = await run(TOY, d);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toContain(
      `toy/sgd-seed1: redoing the stored run ${sgd}: malformed (hyperparameters: expected an object, found nothing)`,
    );
    expect(again.stdout).toContain(
      `toy/adabelief-seed1: redoing the stored run ${ab}: malformed (curves[0]: expected an object, found null)`,
    );
    expect(again.stdout).toContain("Runs: 2 done now, 0 resumed from disk, 2 redone");
    expect(JSON.parse(readFileSync(sgd, "utf8")).hyperparameters).toEqual(JSON.parse(good).hyperparameters);

    // With one file malformed again, report regenerates from the other and warns about it by name.
    writeFileSync(ab, JSON.stringify({ ...JSON.parse(readFileSync(ab, "utf8")), curves: [null] }));
    const partial = await run(["report", "--out", "o"], d);
    expect(partial.status, partial.stderr).toBe(0);
    expect(partial.stderr).toBe(
      `adabelief-suite: warning: ${ab}: not used: malformed (curves[0]: expected an object, found null)\n`,
    );
    expect(partial.stdout).toContain("Reports regenerated: toy.");
    expect(readFileSync(join(d, "o", "toy", "report.md"), "utf8")).toContain(
      "Run files not used: `runs/adabelief-seed1.json: malformed (curves[0]: expected an object, found null)`.",
    );
  });

  it("a copied run file counts once, with a warning naming both files", async () => {
    const d = tmp();
    expect((await run(TOY, d)).status).toBe(0);
    const runs = join(d, "o", "toy", "runs");
    copyFileSync(join(runs, "adabelief-seed1.json"), join(runs, "adabelief-seed1 (copy).json"));
    // The same seed under another seed's name.
    copyFileSync(join(runs, "sgd-seed1.json"), join(runs, "sgd-seed2.json"));
    const rep = await run(["report", "--out", "o"], d);
    expect(rep.status, rep.stderr).toBe(0);
    expect(rep.stderr.trim().split("\n")).toEqual([
      `adabelief-suite: warning: ${join(runs, "adabelief-seed1 (copy).json")}: not used: duplicate of ` +
        "adabelief-seed1.json (same task, optimizer, seed and settings), counted once",
      `adabelief-suite: warning: ${join(runs, "sgd-seed2.json")}: not used: duplicate of sgd-seed1.json ` +
        "(same task, optimizer, seed and settings), counted once",
    ]);
    const summary = JSON.parse(readFileSync(join(d, "o", "toy", "summary.json"), "utf8"));
    expect(summary.runs).toBe(2);
    expect(summary.rows.map((r: { n: number }) => r.n)).toEqual([1, 1]);
    expect(readFileSync(join(d, "o", "toy", "report.md"), "utf8")).toContain("Made from 2 run files");
  });

  it("a run removes stale temporary files of interrupted writes, and only those", async () => {
    const d = tmp();
    expect((await run(TOY, d)).status).toBe(0);
    const runs = join(d, "o", "toy", "runs");
    const deadPid = 2 ** 30; // above any Linux pid_max: no such process
    const files = {
      deadOld: join(runs, `.sgd-seed1.json.${deadPid}.0.tmp`), // writer gone: removed
      deadFresh: join(runs, `.sgd-seed2.json.${deadPid}.1.tmp`), // within the grace: kept
      liveOld: join(runs, `.adam-seed1.json.${process.pid}.7.tmp`), // live writer but 20 min old: removed
      liveFresh: join(d, "o", "toy", `.report.md.${process.pid}.8.tmp`), // a concurrent writer's: kept
      readmeDead: join(d, "o", `.README.md.${deadPid}.3.tmp`), // top level, writer gone: removed
      other: join(runs, ".notes.tmp"), // not our pattern: kept
    };
    for (const f of Object.values(files)) writeFileSync(f, "{partial");
    const ago = (s: number) => new Date(Date.now() - s * 1000);
    utimesSync(files.deadOld, ago(120), ago(120));
    utimesSync(files.liveOld, ago(20 * 60), ago(20 * 60));
    utimesSync(files.liveFresh, ago(120), ago(120));
    utimesSync(files.readmeDead, ago(120), ago(120));
    utimesSync(files.other, ago(3600), ago(3600));
    const r = await run(TOY, d);
    expect(r.status, r.stderr).toBe(0);
    expect(Object.fromEntries(Object.entries(files).map(([k, f]) => [k, existsSync(f)]))).toEqual({
      deadOld: false,
      deadFresh: true,
      liveOld: false,
      liveFresh: true,
      readmeDead: false,
      other: true,
    });
    expect(r.stdout).toContain(`removed ${files.deadOld}: a temporary file left by an interrupted write`);
  });
});

describe("the CLI process", () => {
  function spawn(args: string[], cwd: string, timeout = 60_000) {
    return spawnSync(tsx, [cli, ...args], { cwd, encoding: "utf8", timeout });
  }

  it("--help: the process entry point works", () => {
    const r = spawn(["--help"], tmp());
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("Usage: adabelief-suite");
  });

  // A subprocess: before the fix the CLI spun forever in a synchronous mkdir, which would hang the test
  // worker itself.
  it.skipIf(!existsSync("/proc/self"))(
    "refuses an --out under /proc at once (Node's recursive mkdir spins there)",
    () => {
      const d = tmp();
      const started = performance.now();
      const r = spawn(["toy", "--epochs", "10", "--out", "/proc/adabelief-test/out"], d, 30_000);
      expect(r.status, `${r.signal} ${r.stderr}`).toBe(2);
      expect(r.stderr.trim()).toMatch(
        /^adabelief-suite: error: --out \/proc\/adabelief-test\/out is not writable: ENOENT/,
      );
      expect(performance.now() - started).toBeLessThan(20_000);
      expect(readdirSync(d)).toEqual([]);
    },
  );
});
