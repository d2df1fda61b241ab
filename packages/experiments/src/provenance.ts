/**
 * Provenance of a run: the code it ran (git commit, and whether the working tree had changes), the machine
 * (CPU model, cores, platform), the command line, the shard, and when it ran. The suite stores it in every
 * run file as `provenance` (see {@link RunProvenance}); the reports sum it up (commands, commits, machines,
 * compute time and wall-clock time).
 *
 * @packageDocumentation
 */
import { spawnSync } from "node:child_process";
import { availableParallelism, cpus } from "node:os";
import { dirname, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

/** What a run file records about how and where it was made (all fields but the code state optional). */
export interface RunProvenance {
  /** `git rev-parse HEAD` of the repository the suite ran from, or `"unknown"` (no git, not a checkout). */
  commit: string;
  /**
   * Whether the working tree differed from the commit (tracked changes or untracked files outside
   * `results/` and the output folder); `null` when unknown.
   */
  dirty: boolean | null;
  /** CPU model, e.g. `AMD EPYC 7B13`. */
  cpu?: string;
  /** Cores the process could use (`os.availableParallelism()`). */
  cores?: number;
  /** `process.platform` and `process.arch`, e.g. `linux x64`. */
  platform?: string;
  /** The command line that made the run, as a user would type it from the repository's root. */
  command?: string;
  /** The shard of the command (`k/n`) when it ran with `--shard`. */
  shard?: string;
  /** When the run started and ended (ISO 8601, UTC). */
  startedAt?: string;
  finishedAt?: string;
}

/** The code state: commit and dirty flag. */
export interface CodeState {
  commit: string;
  dirty: boolean | null;
}

/** The repository folder the suite's sources live in (where `git` is asked). */
const SOURCE_DIR = dirname(fileURLToPath(import.meta.url));

function git(args: readonly string[], cwd: string): string | null {
  try {
    const r = spawnSync("git", args, { cwd, encoding: "utf8", timeout: 20_000, windowsHide: true });
    return r.status === 0 && typeof r.stdout === "string" ? r.stdout : null;
  } catch {
    return null;
  }
}

const codeStates = new Map<string, CodeState>();

/**
 * The commit and dirty flag of the checkout at `cwd` (default: the suite's own sources), computed once per
 * process and `exclude` list. Changes under `results/` and under the `exclude` folders (the output folder
 * of the run, which the suite itself writes) do not count as dirty. Without git, or outside a checkout:
 * `{ commit: "unknown", dirty: null }`.
 */
export function codeState(options: { cwd?: string; exclude?: readonly string[] } = {}): CodeState {
  const cwd = options.cwd ?? SOURCE_DIR;
  const key = JSON.stringify([cwd, options.exclude ?? []]);
  const hit = codeStates.get(key);
  if (hit) return hit;
  const head = git(["rev-parse", "HEAD"], cwd)?.trim();
  const top = git(["rev-parse", "--show-toplevel"], cwd)?.trim();
  let state: CodeState = { commit: "unknown", dirty: null };
  if (head && /^[0-9a-f]{7,64}$/.test(head) && top) {
    const excludes = [":(top,exclude)results"];
    for (const dir of options.exclude ?? []) {
      const rel = relative(top, resolve(dir));
      if (rel !== "" && !rel.startsWith("..") && !rel.startsWith(sep))
        excludes.push(`:(top,exclude)${rel.split(sep).join("/")}`);
    }
    const status = git(["status", "--porcelain", "--", ":(top)", ...excludes], cwd);
    state = { commit: head, dirty: status === null ? null : status.trim().length > 0 };
  }
  codeStates.set(key, state);
  return state;
}

/** The machine: CPU model, usable cores and platform. */
export function machine(): { cpu: string; cores: number; platform: string } {
  const list = cpus();
  const model = list[0]?.model.replace(/\s+/g, " ").trim();
  return {
    cpu: model && model.length > 0 ? model : "unknown",
    cores: typeof availableParallelism === "function" ? availableParallelism() : list.length,
    platform: `${process.platform} ${process.arch}`,
  };
}

/**
 * The provenance of a run about to be made: code state (with `out` excluded from the dirty check), the
 * machine, and the given command and shard. The caller adds `startedAt` / `finishedAt`.
 */
export function runProvenance(
  options: { out?: string; command?: string; shard?: string } = {},
): RunProvenance {
  const p: RunProvenance = {
    ...codeState(options.out ? { exclude: [options.out] } : {}),
    ...machine(),
  };
  if (options.command) p.command = options.command;
  if (options.shard) p.shard = options.shard;
  return p;
}

function isIsoTime(v: unknown): boolean {
  return typeof v === "string" && !Number.isNaN(Date.parse(v));
}

/**
 * The problem of a run file's `provenance` (absent is fine: run files made before it was recorded), naming
 * the field, or null.
 */
export function provenanceProblem(v: unknown): string | null {
  if (v === undefined) return null;
  if (typeof v !== "object" || v === null || Array.isArray(v)) return "provenance: expected an object";
  const p = v as Record<string, unknown>;
  if (typeof p.commit !== "string") return "provenance.commit: expected a string";
  if (p.dirty !== null && typeof p.dirty !== "boolean") return "provenance.dirty: expected a boolean or null";
  for (const k of ["cpu", "platform", "command", "shard"] as const)
    if (p[k] !== undefined && typeof p[k] !== "string") return `provenance.${k}: expected a string`;
  if (p.cores !== undefined && !(Number.isSafeInteger(p.cores) && (p.cores as number) > 0))
    return "provenance.cores: expected a positive integer";
  for (const k of ["startedAt", "finishedAt"] as const)
    if (p[k] !== undefined && !isIsoTime(p[k])) return `provenance.${k}: expected an ISO 8601 time`;
  return null;
}
