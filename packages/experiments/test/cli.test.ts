import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { CliError, parseCli, prepareOutDir } from "../src/cli.js";
import { OPTIMIZERS } from "../src/task.js";
import { tmpDirs } from "./helpers.js";

const root = resolve(import.meta.dirname, "../..");
const cli = join(root, "src/experiments/cli.ts");
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
      tasks: ["toy", "cnn", "lstm", "gan"],
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
    expect(parseError([])).toMatch(/^missing command: one of toy, cnn, lstm, gan, suite/);
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

  it("--help prints usage for the program and every command", () => {
    let text = "";
    const sink = { write: (s: string) => void (text += s) };
    expect(parseCli(["--help"], sink).kind).toBe("help");
    expect(text).toContain("suite");
    for (const cmd of ["toy", "cnn", "lstm", "gan", "suite", "sweep"]) {
      text = "";
      expect(parseCli([cmd, "--help"], sink).kind).toBe("help");
      for (const opt of ["--quick", "--full", "--optimizers", "--seeds", "--epochs", "--backend", "--out"])
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

describe("the CLI process", () => {
  function run(args: string[], cwd: string) {
    return spawnSync(tsx, [cli, ...args], { cwd, encoding: "utf8", timeout: 60_000 });
  }

  it("bad arguments: one-line error on stderr, exit code 2, nothing written", () => {
    const d = tmp();
    for (const args of [
      ["toy", "--optimizers", "adamx", "--out", "o"],
      ["nope"],
      // The toy task has no validation split: a sweep of it is refused before any work.
      ["sweep", "toy", "--lrs", "0.01,0.1", "--out", "o"],
    ]) {
      const r = run(args, d);
      expect(r.status, args.join(" ")).toBe(2);
      expect(r.stderr.trim().split("\n"), r.stderr).toHaveLength(1);
      expect(r.stderr).toMatch(/^adabelief-suite: error: /);
      expect(r.stdout).toBe("");
    }
    expect(readdirSync(d)).toEqual([]);
  });

  it("report: regenerates a folder's reports without running; a folder without runs is an error", () => {
    const d = tmp();
    const empty = run(["report", "--out", d], d);
    expect(empty.status).toBe(2);
    expect(empty.stderr.trim()).toMatch(/^adabelief-suite: error: --out .* holds no task folder with runs$/);
    const missing = run(["report", "--out", join(d, "nope")], d);
    expect(missing.status).toBe(2);
    expect(missing.stderr.trim()).toMatch(/is not a folder$/);
    expect(readdirSync(d)).toEqual([]);
  });

  it("an unwritable --out: one-line error, exit code 2, nothing written", () => {
    const d = tmp();
    writeFileSync(join(d, "file"), "x");
    const r = run(["toy", "--out", join(d, "file", "results")], d);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain("is not writable");
    expect(readdirSync(d)).toEqual(["file"]);
  });

  it("runs the toy task end to end with plain progress lines when stdout is not a TTY", () => {
    const d = tmp();
    const r = run(["toy", "--optimizers", "sgd,adabelief", "--epochs", "100", "--out", "o"], d);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("toy [1/2] sgd seed 1: started");
    expect(r.stdout).toContain("| AdaBelief |");
    expect(r.stdout).toContain(`Report: ${join(d, "o", "README.md")}`);
    expect(readdirSync(join(d, "o", "toy", "runs")).sort()).toEqual([
      "adabelief-seed1.json",
      "sgd-seed1.json",
    ]);
    const again = run(["toy", "--optimizers", "sgd,adabelief", "--epochs", "100", "--out", "o"], d);
    expect(again.stdout).toContain("2 finished runs found, skipped (resume)");
    expect(again.stdout).toContain("Runs: 0 done now, 2 resumed from disk");
  });
});
