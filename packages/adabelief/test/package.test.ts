/**
 * The published package as a user receives it: `npm pack` (whose `prepack` builds), the tarball's contents,
 * and a consumer project that imports it by name with ESM `import`, CommonJS `require` and TypeScript.
 */
import { execFileSync } from "node:child_process";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const pkgDir = fileURLToPath(new URL("..", import.meta.url));
const repoModules = fileURLToPath(new URL("../../../node_modules", import.meta.url));
const npm = process.platform === "win32" ? "npm.cmd" : "npm";

/** Names marked `@internal` in the library's sources (the declaration that follows the TSDoc block). */
function internalNames(): string[] {
  const names: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.endsWith(".ts")) {
        const re =
          /@internal(?:(?!\*\/)[\s\S])*\*\/\s*export\s+(?:declare\s+)?(?:async\s+)?(?:function|const|class|let|interface|type)\s+(\w+)/g;
        for (const m of readFileSync(p, "utf8").matchAll(re)) names.push(m[1]!);
      }
    }
  };
  walk(join(pkgDir, "src"));
  return names;
}

let work: string;
let files: string[];
let consumer: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "adabelief-pack-"));
  const out = execFileSync(npm, ["pack", "--json", "--pack-destination", work], {
    cwd: pkgDir,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  const json = JSON.parse(out.slice(out.indexOf("[\n"))) as { filename: string; files: { path: string }[] }[];
  files = json[0]!.files.map((f) => f.path).sort();
  // A consumer project: the tarball unpacked as node_modules/adabelief, TensorFlow.js (the optional peer)
  // linked from the workspace.
  consumer = join(work, "consumer");
  const modules = join(consumer, "node_modules");
  mkdirSync(join(modules, "adabelief"), { recursive: true });
  execFileSync("tar", [
    "-xzf",
    join(work, json[0]!.filename),
    "-C",
    join(modules, "adabelief"),
    "--strip-components=1",
  ]);
  symlinkSync(join(repoModules, "@tensorflow"), join(modules, "@tensorflow"), "dir");
  for (const dep of ["seedrandom", "long"]) {
    try {
      symlinkSync(join(repoModules, dep), join(modules, dep), "dir");
    } catch {
      /* not needed by this tfjs version */
    }
  }
  writeFileSync(join(consumer, "package.json"), JSON.stringify({ name: "consumer", private: true }));
}, 120_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

const node = (file: string, source: string): string => {
  writeFileSync(join(consumer, file), source);
  return execFileSync(process.execPath, [file], { cwd: consumer, encoding: "utf8" }).trim();
};

describe("the npm tarball", () => {
  it("holds the built library, its README, LICENSE and CHANGELOG, and nothing else", () => {
    const outside = files.filter((f) => !f.startsWith("dist/"));
    expect(outside).toEqual(["CHANGELOG.md", "LICENSE", "README.md", "package.json"]);
    for (const entry of ["core", "tfjs", "tfjs/wasm-kernels"]) {
      expect(files).toContain(`dist/${entry}/index.js`);
      expect(files).toContain(`dist/${entry}/index.d.ts`);
    }
    expect(files.filter((f) => f.endsWith(".map"))).toEqual([]); // maps would point at sources not shipped
    expect(files.filter((f) => /experiments|demo|bench|test/.test(f))).toEqual([]);
    expect(files.every((f) => f === "package.json" || !f.endsWith(".json"))).toBe(true);
  });

  it("has an MIT LICENSE and the repository fields npm shows", () => {
    const pkg = JSON.parse(
      readFileSync(join(consumer, "node_modules/adabelief/package.json"), "utf8"),
    ) as Record<string, unknown>;
    expect(pkg["license"]).toBe("MIT");
    expect(readFileSync(join(consumer, "node_modules/adabelief/LICENSE"), "utf8")).toMatch(/^MIT License/);
    for (const field of ["repository", "homepage", "bugs"]) expect(pkg[field]).toBeDefined();
  });
});

describe("a consumer project", () => {
  it("imports every entry point by name (ESM), and no @internal symbol is exported", () => {
    const internal = internalNames();
    expect(internal.length).toBeGreaterThan(0);
    const out = node(
      "esm.mjs",
      `const entries = ["adabelief", "adabelief/tfjs", "adabelief/tfjs/wasm-kernels"];
       const result = {};
       for (const e of entries) result[e] = Object.keys(await import(e)).sort();
       console.log(JSON.stringify(result));`,
    );
    const exported = JSON.parse(out) as Record<string, string[]>;
    expect(exported["adabelief"]).toContain("AdaBelief");
    expect(exported["adabelief"]).toContain("OPTIMIZERS");
    expect(exported["adabelief/tfjs"]).toContain("adabelief");
    expect(exported["adabelief/tfjs"]).toContain("TFJS_OPTIMIZERS");
    expect(exported["adabelief/tfjs/wasm-kernels"]).toContain("registerWasmTrainingKernels");
    for (const names of Object.values(exported)) {
      expect(names.filter((n) => internal.includes(n))).toEqual([]);
      expect(names.filter((n) => /Rule$|Loop|^rho$/.test(n))).toEqual([]);
    }
  });

  it("runs a core step through ESM import and through require() (Node ≥ 20.19 loads ES modules)", () => {
    const step = `opt.step([Float64Array.of(1)]); console.log(w[0]);`;
    const esm = node(
      "step.mjs",
      `import { Adam } from "adabelief"; const w = Float64Array.of(0.5); const opt = new Adam([w], { learningRate: 0.1 }); ${step}`,
    );
    expect(Number(esm)).toBeCloseTo(0.4, 6);
    const [major, minor] = process.versions.node.split(".").map(Number) as [number, number];
    if (major > 20 || (major === 20 && minor >= 19)) {
      const cjs = node(
        "step.cjs",
        `const { Adam } = require("adabelief"); const w = Float64Array.of(0.5); const opt = new Adam([w], { learningRate: 0.1 }); ${step}`,
      );
      expect(cjs).toBe(esm);
      const tfjs = node(
        "tfjs.cjs",
        `const { adabelief } = require("adabelief/tfjs"); console.log(typeof adabelief);`,
      );
      expect(tfjs).toBe("function");
    }
  });

  it("importing the wasm kernels subpath registers nothing until registerWasmTrainingKernels() is called", () => {
    const out = node(
      "kernels.mjs",
      `import * as tf from "@tensorflow/tfjs-core";
       import "@tensorflow/tfjs-backend-wasm";
       const before = tf.getKernel("Conv2DBackpropFilter", "wasm");
       const { registerWasmTrainingKernels } = await import("adabelief/tfjs/wasm-kernels");
       const afterImport = tf.getKernel("Conv2DBackpropFilter", "wasm");
       const report = registerWasmTrainingKernels();
       console.log(JSON.stringify([before === undefined, afterImport === undefined, report.Conv2DBackpropFilter]));`,
    );
    expect(JSON.parse(out)).toEqual([true, true, "registered"]);
  });

  it("type-checks against the shipped declarations (TypeScript, NodeNext resolution)", () => {
    writeFileSync(
      join(consumer, "use.ts"),
      `import { AdaBelief, OPTIMIZERS, type OptimizerName } from "adabelief";
       import { adabelief, TFJS_OPTIMIZERS } from "adabelief/tfjs";
       import { registerWasmTrainingKernels } from "adabelief/tfjs/wasm-kernels";
       const name: OptimizerName = "adabelief";
       const opt = new OPTIMIZERS[name]([new Float32Array(3)], { learningRate: 1e-3 });
       const ok: boolean = opt.step([new Float32Array(3)]);
       const a: AdaBelief = new AdaBelief([new Float64Array(1)]);
       const t = adabelief({ learningRate: 1e-3 });
       const u = new TFJS_OPTIMIZERS.adam({ learningRate: 1e-3 });
       registerWasmTrainingKernels();
       export { ok, a, t, u };`,
    );
    writeFileSync(
      join(consumer, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          module: "nodenext",
          moduleResolution: "nodenext",
          target: "es2022",
          lib: ["es2022", "dom"],
          types: [],
          skipLibCheck: true,
        },
        files: ["use.ts"],
      }),
    );
    writeFileSync(
      join(consumer, "package.json"),
      JSON.stringify({ name: "consumer", private: true, type: "module" }),
    );
    try {
      execFileSync(process.execPath, [join(repoModules, "typescript/bin/tsc"), "-p", "."], {
        cwd: consumer,
        encoding: "utf8",
      });
    } catch (e) {
      throw new Error(`tsc failed:\n${(e as { stdout?: string }).stdout ?? String(e)}`);
    } finally {
      writeFileSync(join(consumer, "package.json"), JSON.stringify({ name: "consumer", private: true }));
    }
  });
});

describe("the workspace boundary", () => {
  it("the experiments and the demo reach the library only through its public names", () => {
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (e.isDirectory()) {
          if (e.name !== "node_modules" && e.name !== "dist") walk(p);
        } else if (/\.(ts|js|mjs)$/.test(p)) {
          const text = readFileSync(p, "utf8");
          for (const m of text.matchAll(/(?:from|import)\s*\(?\s*["']([^"']+)["']/g)) {
            const spec = m[1]!;
            if (
              /(^|\/)adabelief\/(src|dist)\b/.test(spec) ||
              /^adabelief\/(?!tfjs$|tfjs\/wasm-kernels$|package\.json$)/.test(spec)
            ) {
              offenders.push(`${p}: ${spec}`);
            }
          }
        }
      }
    };
    for (const ws of ["experiments", "demo"]) walk(fileURLToPath(new URL(`../../${ws}`, import.meta.url)));
    expect(offenders).toEqual([]);
  });
});
