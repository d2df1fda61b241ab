import { StateError } from "./errors.js";

/** A tensor of a safetensors file: float32 or float64 values in row-major order. */
export interface SafeTensor {
  /** `"F32"` or `"F64"` (the only element types this reader and writer take). */
  dtype: "F32" | "F64";
  /** The shape; `[]` for a scalar. */
  shape: number[];
  /** The values, `shape`'s product of them. */
  data: Float32Array | Float64Array;
}

/** The contents of a safetensors file. */
export interface SafetensorsFile {
  /** The tensors by name. */
  tensors: Record<string, SafeTensor>;
  /** The string-to-string `__metadata__` of the header (empty when the file has none). */
  metadata: Record<string, string>;
}

const BYTES = { F32: 4, F64: 8 } as const;
/** Larger headers are refused (the format's own reader refuses headers over 100 MB). */
const MAX_HEADER = 100_000_000;

/**
 * Writes a safetensors file: an 8-byte little-endian header length, a JSON header (padded with spaces to a
 * multiple of 8 bytes) giving each tensor's dtype, shape and byte range, then the tensors' little-endian
 * bytes in the header's order (names sorted). Readable by Hugging Face's `safetensors` and by the few lines
 * of Python in the docs.
 *
 * @throws StateError when a tensor's data length does not match its shape, or a metadata value is not a
 *   string.
 */
export function writeSafetensors(
  tensors: Record<string, SafeTensor>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const name of names) {
    const t = tensors[name]!;
    if (t.dtype !== "F32" && t.dtype !== "F64")
      throw new StateError(
        `safetensors: tensor ${name} has dtype ${String(t.dtype)}; only F32 and F64 are written`,
      );
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) {
      throw new StateError(
        `safetensors: tensor ${name} has shape [${t.shape.join(", ")}] but ${t.data.length} values`,
      );
    }
    const size = count * BYTES[t.dtype];
    header[name] = { dtype: t.dtype, shape: [...t.shape], data_offsets: [offset, offset + size] };
    offset += size;
  }
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== "string")
      throw new StateError(`safetensors: metadata ${k} must be a string, got ${typeof v}`);
  }
  if (Object.keys(metadata).length > 0) header["__metadata__"] = metadata;
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const name of names) {
    const { dtype, data } = tensors[name]!;
    for (let i = 0; i < data.length; i++, at += BYTES[dtype]) {
      if (dtype === "F32") view.setFloat32(at, data[i]!, true);
      else view.setFloat64(at, data[i]!, true);
    }
  }
  return out;
}

/**
 * Reads a safetensors file written by {@link writeSafetensors}, by PyTorch through Hugging Face's
 * `safetensors`, or by the docs' Python lines. Only F32 and F64 tensors are read; any other dtype, a byte
 * range outside the data, overlapping or unaccounted bytes, or a malformed header is refused.
 *
 * @throws StateError naming what is wrong.
 */
export function readSafetensors(bytes: Uint8Array): SafetensorsFile {
  if (!(bytes instanceof Uint8Array))
    throw new StateError("safetensors: expected the file's bytes as a Uint8Array");
  if (bytes.length < 8) throw new StateError(`safetensors: ${bytes.length} bytes is too short for a header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  if (n > MAX_HEADER || 8 + n > bytes.length) {
    throw new StateError(
      `safetensors: the header length ${n} does not fit the file of ${bytes.length} bytes`,
    );
  }
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    throw new StateError(`safetensors: the header is not JSON (${(e as Error).message})`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    throw new StateError("safetensors: the header is not a JSON object");
  }
  const dataStart = 8 + n;
  const dataLength = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const tensors: Record<string, SafeTensor> = {};
  const ranges: [number, number, string][] = [];
  for (const [name, info] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (typeof info !== "object" || info === null)
        throw new StateError("safetensors: __metadata__ is not an object");
      for (const [k, v] of Object.entries(info)) {
        if (typeof v !== "string") throw new StateError(`safetensors: metadata ${k} is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    const {
      dtype,
      shape,
      data_offsets: offsets,
    } = (info ?? {}) as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (dtype !== "F32" && dtype !== "F64") {
      throw new StateError(
        `safetensors: tensor ${name} has dtype ${JSON.stringify(dtype)}; only F32 and F64 are read`,
      );
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new StateError(`safetensors: tensor ${name} has no valid shape`);
    }
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)
    ) {
      throw new StateError(`safetensors: tensor ${name} has no valid data_offsets`);
    }
    const [begin, end] = offsets as [number, number];
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    if (end < begin || end > dataLength || end - begin !== count * BYTES[dtype]) {
      throw new StateError(
        `safetensors: tensor ${name}'s bytes ${begin}…${end} do not hold its ${count} ${dtype} values inside the ${dataLength} data bytes`,
      );
    }
    const data = dtype === "F32" ? new Float32Array(count) : new Float64Array(count);
    for (let i = 0, at = dataStart + begin; i < count; i++, at += BYTES[dtype]) {
      data[i] = dtype === "F32" ? view.getFloat32(at, true) : view.getFloat64(at, true);
    }
    tensors[name] = { dtype, shape: [...(shape as number[])], data };
    ranges.push([begin, end, name]);
  }
  ranges.sort((a, b) => a[0] - b[0]);
  let covered = 0;
  for (const [begin, end, name] of ranges) {
    if (begin !== covered)
      throw new StateError(
        `safetensors: tensor ${name} starts at byte ${begin}, expected ${covered} (gap or overlap)`,
      );
    covered = end;
  }
  if (covered !== dataLength)
    throw new StateError(`safetensors: ${dataLength - covered} data bytes belong to no tensor`);
  return { tensors, metadata };
}
