/**
 * The user documentation works as written: every fenced code block of the README is run (or, for
 * browser-only and shell blocks, checked), the `js` examples of docs/*.md run too, and every relative link
 * of README.md, CHANGELOG.md and docs/*.md points to an existing file (and heading, for `#anchors`).
 *
 * Code blocks, by language:
 * - `js`, `ts` (README) and `js` (docs): written to a temporary file and imported, with the temporary folder
 *   as working directory; "adabelief", "adabelief/tfjs" and "adabelief/tfjs/wasm-kernels" resolve to the
 *   library's sources through the workspace aliases, and `node:` built-ins may be imported too. A
 *   `console.log(…)` line that ends in `// ≈ [3, -1]` must print those numbers (each within 1 % of the
 *   expected value, or 1e-12 of 0), one that ends in `// → text` must print exactly that text, and either
 *   must run once. In the README every `console.log` line must say what it prints.
 * - `ts` (docs): fragments, not run: their syntax is checked and every name they import must exist.
 * - `cjs`: run as a CommonJS script whose `require` returns the library's modules (what require(esm) gives
 *   on Node 20.19+); the names it destructures must exist.
 * - `sh`: every `npm …` command must be `npm install` or name a script of the root package.json; nothing
 *   is executed. The README's shell blocks hold npm commands only, and its first one starts with
 *   `npm install adabelief`.
 * - `html`: browser-only: the module scripts' syntax is checked and every name they import must exist.
 * - `text`, `python` (docs only): formulas, layouts and the PyTorch side of an example; not run.
 * A block in any other language, or without one, fails; so does a README block no handler ran.
 *
 * The README has at most 250 lines, and no page speaks of sessions, issue numbers, "today" or PASS/FAIL.
 */
import { createRequire } from "node:module";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { format } from "node:util";
import * as tf from "@tensorflow/tfjs";
import * as core from "adabelief";
import * as tfjsOptimizers from "adabelief/tfjs";
import * as wasmKernels from "adabelief/tfjs/wasm-kernels";
import ts from "typescript";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../../../", import.meta.url));
const readmePath = fileURLToPath(new URL("../../../../README.md", import.meta.url));
const docsDir = join(root, "docs");
const docPaths = readdirSync(docsDir)
  .filter((f) => f.endsWith(".md"))
  .sort()
  .map((f) => join(docsDir, f));
const rootScripts = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { scripts: object })
  .scripts;

/** The modules examples may import, and what they export. */
const MODULES: Record<string, Record<string, unknown>> = {
  adabelief: core,
  "adabelief/tfjs": tfjsOptimizers,
  "adabelief/tfjs/wasm-kernels": wasmKernels,
  "@tensorflow/tfjs": tf,
};
/** Modules examples may import for their side effects only. */
const SIDE_EFFECT_ONLY = new Set(["@tensorflow/tfjs-backend-wasm"]);

interface Block {
  file: string;
  lang: string;
  code: string;
  /** 1-based line of the opening fence. */
  line: number;
}

/** The fenced code blocks of a Markdown file. */
function codeBlocks(path: string): Block[] {
  const lines = readFileSync(path, "utf8").split("\n");
  const blocks: Block[] = [];
  let open: { lang: string; line: number; body: string[] } | null = null;
  lines.forEach((text, i) => {
    if (open === null) {
      const m = /^```(\S*)\s*$/.exec(text);
      if (m) open = { lang: m[1]!, line: i + 1, body: [] };
      else expect(text.startsWith("```"), `${path}:${i + 1}: a fence this test cannot read`).toBe(false);
    } else if (/^```\s*$/.test(text)) {
      blocks.push({ file: path, lang: open.lang, code: open.body.join("\n") + "\n", line: open.line });
      open = null;
    } else {
      open.body.push(text);
    }
  });
  expect(open, `${path}: a code block is not closed`).toBeNull();
  return blocks;
}

const label = (b: Block) =>
  `${b.file.slice(root.length)}:${b.line} \`\`\`${b.lang || "(none)"}: ${b.code.split("\n")[0]!.slice(0, 60)}`;

/** `import … from "x"` / `import "x"` statements: the module and the names taken from it. */
function imports(code: string): { from: string; names: string[]; star: boolean }[] {
  const out: { from: string; names: string[]; star: boolean }[] = [];
  const re = /^\s*import\s+(?:(\*\s+as\s+\w+)|\{([^}]*)\}|(\w+))?\s*(?:from\s*)?["']([^"']+)["']/gm;
  for (const m of code.matchAll(re)) {
    const names = (m[2] ?? "")
      .split(",")
      .map((n) => n.trim().split(/\s+as\s+/)[0]!)
      .filter((n) => n.length > 0);
    out.push({ from: m[4]!, names, star: m[1] !== undefined || m[3] !== undefined });
  }
  return out;
}

/** Every imported module is one users have, and every imported name exists in it. */
function checkImports(b: Block, code = b.code): void {
  const found = imports(code);
  for (const { from, names, star } of found) {
    if (SIDE_EFFECT_ONLY.has(from)) {
      expect(names.length === 0 && !star, `${label(b)}: import "${from}" for its side effects only`).toBe(true);
      continue;
    }
    const mod = from.startsWith("node:")
      ? (createRequire(import.meta.url)(from) as Record<string, unknown>)
      : MODULES[from];
    expect(mod, `${label(b)}: imports unknown module "${from}"`).toBeDefined();
    for (const name of names) expect(mod, `${label(b)}: "${from}" has no export ${name}`).toHaveProperty(name);
  }
}

/** Syntax errors of a module's source (TypeScript's parser; types are not checked). */
function syntaxErrors(code: string, fileName: string): string[] {
  const out = ts.transpileModule(code, {
    fileName,
    reportDiagnostics: true,
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
  });
  return (out.diagnostics ?? []).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
}

const tmp = mkdtempSync(join(tmpdir(), "adabelief-docs-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
beforeAll(async () => {
  core.setWarningHandler(() => {});
  await tf.setBackend("cpu");
});
afterEach(async () => {
  // An example may switch the TensorFlow.js backend (the wasm one): the next starts on cpu again.
  if (tf.getBackend() !== "cpu") await tf.setBackend("cpu");
});

/** What a `console.log` line says it prints: `// ≈ …` (approximately) or `// → …` (exactly). */
interface Expectation {
  approx: boolean;
  text: string;
}

function expectationOf(line: string): Expectation | undefined {
  const m = /console\.log\(.*\);?\s*\/\/\s*(≈|→)\s*(.+?)\s*$/.exec(line);
  return m ? { approx: m[1] === "≈", text: m[2]! } : undefined;
}

/** Compares what a `console.log` call printed with what its line says. */
function checkPrinted(b: Block, line: number, e: Expectation, args: unknown[]): void {
  const where = `${label(b)}, line ${line}: prints ${format(...args)}, expected ${e.approx ? "≈" : "→"} ${e.text}`;
  if (!e.approx) {
    expect(format(...args), where).toBe(e.text);
    return;
  }
  const expected = [JSON.parse(e.text.replace(/−/g, "-")) as number | number[]].flat();
  const value = args[0];
  const actual = [ArrayBuffer.isView(value) ? Array.from(value as Float64Array) : value].flat() as number[];
  expect(actual.length, where).toBe(expected.length);
  expected.forEach((x, i) =>
    expect(Math.abs(actual[i]! - x) <= (x === 0 ? 1e-12 : 0.01 * Math.abs(x)), where).toBe(true),
  );
}

/** Receives the `console.log` calls of the example running, by line (see {@link runModule}). */
let logCalls = new Map<number, unknown[][]>();
(globalThis as Record<string, unknown>).__docsLog = (line: number, ...args: unknown[]) => {
  logCalls.set(line, [...(logCalls.get(line) ?? []), args]);
};

/**
 * Runs an ES-module example, in the temporary folder (files it writes land there), and checks what its
 * `console.log` lines print. Each `console.log(` is renamed to a logger that records its line.
 */
async function runModule(b: Block, everyLogSaysWhat: boolean): Promise<void> {
  checkImports(b);
  const lines = b.code.split("\n");
  const expectations = new Map<number, Expectation>();
  lines.forEach((text, i) => {
    if (!text.includes("console.log(")) return;
    const e = expectationOf(text);
    if (e) expectations.set(i + 1, e);
    else if (everyLogSaysWhat) {
      throw new Error(`${label(b)}: "${text.trim()}" must say what it prints (// ≈ … or // → …)`);
    }
  });
  const source = lines
    .map((text, i) => text.replace(/console\.log\(/g, `globalThis.__docsLog(${i + 1}, `))
    .join("\n");
  const file = join(tmp, `block-${b.file.slice(root.length).replace(/\W/g, "_")}-${b.line}.${b.lang}`);
  writeFileSync(file, source);
  logCalls = new Map();
  const cwd = process.cwd();
  process.chdir(tmp);
  try {
    await import(/* @vite-ignore */ file);
  } finally {
    process.chdir(cwd);
  }
  for (const [line, e] of expectations) {
    const calls = logCalls.get(line) ?? [];
    expect(calls.length, `${label(b)}, line ${line}: the console.log runs once`).toBe(1);
    checkPrinted(b, line, e, calls[0]!);
  }
}

/** Runs a CommonJS example with a `require` that returns the library's modules. */
function runCommonJs(b: Block): void {
  const required: string[] = [];
  const requireFn = (id: string) => {
    const mod = MODULES[id];
    if (!mod) throw new Error(`${label(b)}: requires unknown module "${id}"`);
    required.push(id);
    return mod;
  };
  new Function("require", "module", "exports", b.code)(requireFn, { exports: {} }, {});
  expect(required.length, `${label(b)}: requires something`).toBeGreaterThan(0);
  for (const m of b.code.matchAll(/\{([^}]*)\}\s*=\s*require\(\s*["']([^"']+)["']\s*\)/g)) {
    for (const name of m[1]!.split(",").map((n) => n.trim().split(/\s*:\s*/)[0]!)) {
      if (name) expect(MODULES[m[2]!], `${label(b)}: "${m[2]}" has no export ${name}`).toHaveProperty(name);
    }
  }
}

/** Checks the npm commands of a shell block against the root package.json; returns them. */
function checkShell(b: Block, npmOnly: boolean): string[] {
  const commands = b.code
    .split("\n")
    .map((l) => l.replace(/\s+#.*$/, "").replace(/^#.*$/, "").trim())
    .filter((l) => l.length > 0)
    .flatMap((l) => l.split(/\s*(?:&&|;)\s*/))
    .map((c) => c.replace(/^(?:[A-Z_]+=\S*\s+)+/, "")); // environment assignments
  for (const c of commands) {
    const words = c.split(/\s+/);
    if (words[0] !== "npm") {
      expect(npmOnly, `${label(b)}: "${c}" is not an npm command`).toBe(false);
      continue;
    }
    const [, sub, name] = words;
    if (sub === "install" || sub === "i" || sub === "ci") continue;
    const script = sub === "run" || sub === "run-script" ? name : sub;
    expect(
      ["run", "run-script", "test", "start", "stop", "restart"].includes(sub ?? ""),
      `${label(b)}: "${c}" is not an npm command this test knows`,
    ).toBe(true);
    expect(rootScripts, `${label(b)}: "${c}": no script "${script}" in package.json`).toHaveProperty(
      script ?? "",
    );
  }
  return commands;
}

/** Checks the module scripts of an HTML block. */
function checkHtml(b: Block): void {
  const scripts = [...b.code.matchAll(/<script type="module">([\s\S]*?)<\/script>/g)].map((m) => m[1]!);
  expect(scripts.length, `${label(b)}: holds a <script type="module">`).toBeGreaterThan(0);
  for (const s of scripts) {
    expect(syntaxErrors(s, "page.js"), label(b)).toEqual([]);
    expect(imports(s).length, `${label(b)}: imports something`).toBeGreaterThan(0);
    checkImports(b, s);
  }
}

describe("README code blocks", () => {
  const blocks = codeBlocks(readmePath);
  const handled = new Map<Block, string>();
  const shellBlocks = blocks.filter((b) => b.lang === "sh");

  it("has the blocks a reader needs, the first shell block installing the package", () => {
    expect(blocks.filter((b) => b.lang === "js").length).toBeGreaterThanOrEqual(2);
    expect(shellBlocks.length).toBeGreaterThan(0);
    expect(shellBlocks[0]!.code.trim().split("\n")[0]!.replace(/\s+#.*$/, "")).toBe("npm install adabelief");
    expect(blocks.indexOf(shellBlocks[0]!)).toBe(0);
  });

  it.each(blocks.map((b) => [label(b), b] as const))("%s", async (_name, b) => {
    switch (b.lang) {
      case "js":
      case "ts":
        await runModule(b, true);
        break;
      case "cjs":
        runCommonJs(b);
        break;
      case "sh":
        checkShell(b, true);
        break;
      case "html":
        checkHtml(b);
        break;
      default:
        throw new Error(`${label(b)}: no test handles README blocks in language "${b.lang}"`);
    }
    handled.set(b, b.lang);
  });

  it("ran or checked every block", () => {
    const count = (list: Iterable<string>) => {
      const c: Record<string, number> = {};
      for (const l of list) c[l] = (c[l] ?? 0) + 1;
      return c;
    };
    expect(count(handled.values())).toEqual(count(blocks.map((b) => b.lang)));
  });

  it("stays a README: at most 250 lines", () => {
    expect(readFileSync(readmePath, "utf8").trimEnd().split("\n").length).toBeLessThanOrEqual(250);
  });
});

describe("docs code blocks", () => {
  const blocks = docPaths.flatMap(codeBlocks);
  it.each(blocks.map((b) => [label(b), b] as const))("%s", async (_name, b) => {
    switch (b.lang) {
      case "js":
        await runModule(b, false);
        break;
      case "ts":
        expect(syntaxErrors(b.code, "fragment.ts"), label(b)).toEqual([]);
        checkImports(b);
        break;
      case "sh":
        checkShell(b, false);
        break;
      case "html":
        checkHtml(b);
        break;
      case "text":
      case "python":
        break;
      default:
        throw new Error(`${label(b)}: no test handles docs blocks in language "${b.lang}"`);
    }
  });
});

/** GitHub's anchor of a heading. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/<[^>]+>/g, "")
    .replace(/[^\p{L}\p{N}\p{M}\p{Pc}\- ]/gu, "")
    .replace(/ /g, "-");
}

/** The anchors of a Markdown file's headings (outside code blocks), with GitHub's `-1`, `-2` for repeats. */
function anchors(path: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const line of withoutCode(readFileSync(path, "utf8"), false).split("\n")) {
    const m = /^#{1,6}\s+(.+?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const base = slug(m[1]!);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** The text with fenced code blocks blanked (line numbers kept) and, unless told not to, inline code removed. */
function withoutCode(text: string, inline = true): string {
  let inFence = false;
  return text
    .split("\n")
    .map((line) => {
      if (/^```/.test(line)) {
        inFence = !inFence;
        return "";
      }
      return inFence ? "" : inline ? line.replace(/`[^`]*`/g, "") : line;
    })
    .join("\n");
}

describe("writing", () => {
  // The documentation speaks of the product and its users: no accounts of how it was made, no internal
  // targets or verdict tables (benchmark and suite numbers live in the generated reports under results/).
  const files = [readmePath, join(root, "CHANGELOG.md"), ...docPaths];
  it.each(files.map((f) => [f.slice(root.length), f] as const))("%s", (_name, file) => {
    const hits = readFileSync(file, "utf8")
      .split("\n")
      .map((line, i) => ({ line, n: i + 1 }))
      .filter(({ line }) => /\bsessions?\b|\bissue [0-9]+|\btoday\b/i.test(line) || /\b(?:PASS|FAIL)\b/.test(line))
      .map(({ line, n }) => `${n}: ${line}`);
    expect(hits).toEqual([]);
  });
});

describe("relative links", () => {
  const files = [readmePath, join(root, "CHANGELOG.md"), ...docPaths];
  it.each(files.map((f) => [f.slice(root.length), f] as const))("%s", (_name, file) => {
    const text = withoutCode(readFileSync(file, "utf8"));
    const targets = [...text.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]!);
    const bad: string[] = [];
    for (const target of targets) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:, …
      const [path, anchor] = target.split("#") as [string, string | undefined];
      const resolved = path === "" ? file : resolve(dirname(file), decodeURIComponent(path));
      let exists = false;
      try {
        exists = statSync(resolved).isFile() || statSync(resolved).isDirectory();
      } catch {
        exists = false;
      }
      if (!exists) bad.push(`${target}: no such file`);
      else if (anchor !== undefined && resolved.endsWith(".md") && !anchors(resolved).has(anchor)) {
        bad.push(`${target}: no heading with anchor #${anchor}`);
      }
    }
    expect(bad).toEqual([]);
  });
});
