/**
 * The experiments' on-disk cache: parsed data sets and the GAN's feature classifier, stored once under
 * `.cache/` at the repository root (git-ignored) so later runs skip slow parsing and training.
 *
 * Format of a cache file: the 8 bytes `ABCACHE1`, a little-endian uint32 giving the length of a UTF-8 JSON
 * header, the header (`{ meta, arrays: [{ name, dtype, length, offset }] }`), then each array's bytes at its
 * offset (8-byte aligned). Files are written to a temporary name and renamed, so a crash never leaves a
 * half-written cache; a file that fails to parse is ignored (and rebuilt by the caller).
 *
 * @module
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const MAGIC = "ABCACHE1";

/** Typed arrays a cache file can hold. */
export type CachedArray = Uint8Array | Uint16Array | Int32Array | Float32Array | Float64Array;

type DTypeName = "uint8" | "uint16" | "int32" | "float32" | "float64";

const CTORS = {
  uint8: Uint8Array,
  uint16: Uint16Array,
  int32: Int32Array,
  float32: Float32Array,
  float64: Float64Array,
} as const;

function dtypeName(a: CachedArray): DTypeName {
  if (a instanceof Uint8Array) return "uint8";
  if (a instanceof Uint16Array) return "uint16";
  if (a instanceof Int32Array) return "int32";
  if (a instanceof Float32Array) return "float32";
  return "float64";
}

/** Contents of one cache file: named arrays plus a JSON-serialisable `meta` object. */
export interface CacheEntry {
  meta: Record<string, unknown>;
  arrays: Record<string, CachedArray>;
}

let overrideDir: string | undefined;

/**
 * Folder of the cache: `$ADABELIEF_CACHE_DIR` if set, else `.cache/` in the nearest folder above this module
 * that holds a `package.json` (the repository root, from both `src/` and `dist/`).
 */
export function cacheDir(): string {
  if (overrideDir !== undefined) return overrideDir;
  const env = process.env["ADABELIEF_CACHE_DIR"];
  if (env !== undefined && env !== "") return resolve(env);
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "package.json"))) return join(dir, ".cache");
    const up = dirname(dir);
    if (up === dir) return resolve(".cache");
    dir = up;
  }
}

/** Redirects the cache (tests); `undefined` restores the default. */
export function setCacheDir(dir: string | undefined): void {
  overrideDir = dir;
}

/** Writes a cache file atomically. Errors (e.g. a read-only checkout) are swallowed: the cache is optional. */
export function writeCache(name: string, entry: CacheEntry): boolean {
  const path = join(cacheDir(), name);
  const headerArrays: { name: string; dtype: DTypeName; length: number; offset: number }[] = [];
  let offset = 0;
  for (const [key, a] of Object.entries(entry.arrays)) {
    headerArrays.push({ name: key, dtype: dtypeName(a), length: a.length, offset });
    offset += Math.ceil(a.byteLength / 8) * 8;
  }
  const header = Buffer.from(JSON.stringify({ meta: entry.meta, arrays: headerArrays }), "utf8");
  const start = Math.ceil((8 + 4 + header.length) / 8) * 8;
  const buf = Buffer.alloc(start + offset);
  buf.write(MAGIC, 0, "latin1");
  buf.writeUInt32LE(header.length, 8);
  header.copy(buf, 12);
  for (const h of headerArrays) {
    const a = entry.arrays[h.name]!;
    Buffer.from(a.buffer, a.byteOffset, a.byteLength).copy(buf, start + h.offset);
  }
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(tmp, buf);
    renameSync(tmp, path);
    return true;
  } catch {
    rmSync(tmp, { force: true });
    return false;
  }
}

/** Reads a cache file, or `undefined` if it is missing or malformed. The arrays are fresh copies. */
export function readCache(name: string): CacheEntry | undefined {
  const path = join(cacheDir(), name);
  if (!existsSync(path)) return undefined;
  try {
    const buf = readFileSync(path);
    if (buf.length < 12 || buf.toString("latin1", 0, 8) !== MAGIC) return undefined;
    const headerLength = buf.readUInt32LE(8);
    const header = JSON.parse(buf.toString("utf8", 12, 12 + headerLength)) as {
      meta: Record<string, unknown>;
      arrays: { name: string; dtype: DTypeName; length: number; offset: number }[];
    };
    const start = Math.ceil((12 + headerLength) / 8) * 8;
    const arrays: Record<string, CachedArray> = {};
    for (const h of header.arrays) {
      const Ctor = CTORS[h.dtype];
      if (Ctor === undefined) return undefined;
      const bytes = h.length * Ctor.BYTES_PER_ELEMENT;
      if (start + h.offset + bytes > buf.length) return undefined;
      const out = new Ctor(h.length);
      Buffer.from(out.buffer).set(buf.subarray(start + h.offset, start + h.offset + bytes));
      arrays[h.name] = out;
    }
    return { meta: header.meta, arrays };
  } catch {
    return undefined;
  }
}

/** A short stable hash (FNV-1a, 32 bits, hex) of a JSON-serialisable value; used in cache keys. */
export function hashKey(value: unknown): string {
  const s = JSON.stringify(value);
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, "0");
}
