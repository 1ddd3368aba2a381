// The params file: trained params saved once and loaded later, byte for byte.
//
// Format, version 1. The file is a safetensors file, so other tools read it too:
//   bytes 0..8    N, the header's byte length, an unsigned 64-bit little-endian integer
//   bytes 8..8+N  the header: UTF-8 JSON, padded with spaces so the data starts at a
//                 multiple of 8 bytes
//   the rest      the data: each param's values as raw little-endian floats (row-major),
//                 packed in header order with no gaps
// The header maps each param name to { "dtype": "F32" | "F64", "shape": [...],
// "data_offsets": [begin, end] } (byte offsets into the data, end exclusive), plus
// "__metadata__": string -> string, where gradc writes "format": "gradc-params" and
// "version": "1" and the caller may add its own entries (a model name, the accuracy...).
// A reader rejects a gradc file of a later version; a safetensors file without gradc's
// metadata loads if its tensors are F32 or F64.

import { GradcError } from "../diagnostics";

export const PARAMS_FORMAT = "gradc-params";
export const PARAMS_VERSION = 1;

type TypedArray = Float32Array | Float64Array;

export interface ParamsSource {
  meta: { params: { name: string; shape: (number | string)[] }[] };
  params: Record<string, TypedArray>;
}

export interface DecodedParams {
  tensors: Record<string, { shape: number[]; data: TypedArray }>;
  /** the header's `__metadata__`, gradc's own `format` and `version` included */
  metadata: Record<string, string>;
}

const METADATA = "__metadata__";
const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function bad(message: string): never {
  throw new GradcError([{ code: "E0304", message: `params file: ${message}` }]);
}

/** The params of a model (`{ meta, params }`, e.g. a compiled model) as the bytes of a
 *  params file. `metadata` adds string entries to the header. */
export function encodeParams(model: ParamsSource, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  const meta: Record<string, string> = {};
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== "string") bad(`metadata value \`${k}\` must be a string, found ${typeof v}`);
    meta[k] = v;
  }
  meta.format = PARAMS_FORMAT;
  meta.version = String(PARAMS_VERSION);
  header[METADATA] = meta;
  const arrays: TypedArray[] = [];
  let offset = 0;
  for (const { name, shape } of model.meta.params) {
    const data = model.params[name];
    if (!(data instanceof Float32Array || data instanceof Float64Array)) bad(`param \`${name}\` is not a Float32Array or Float64Array`);
    if (name === METADATA) bad(`a param cannot be named \`${METADATA}\``);
    const dims = shape.map((d) => (typeof d === "number" ? d : NaN));
    const known = dims.every((d) => Number.isInteger(d));
    const size = known ? dims.reduce((a, b) => a * b, 1) : data.length;
    if (size !== data.length) bad(`param \`${name}\` has ${data.length} values but its shape [${shape.join(", ")}] holds ${size}`);
    const end = offset + data.byteLength;
    header[name] = { dtype: data instanceof Float32Array ? "F32" : "F64", shape: known ? dims : [data.length], data_offsets: [offset, end] };
    arrays.push(data);
    offset = end;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil((8 + json.length) / 8) * 8 - 8;
  const bytes = new Uint8Array(8 + padded + offset);
  bytes.fill(0x20, 8 + json.length, 8 + padded);
  bytes.set(json, 8);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, padded, true);
  view.setUint32(4, 0, true);
  let at = 8 + padded;
  for (const data of arrays) {
    writeFloats(bytes, at, data);
    at += data.byteLength;
  }
  return bytes;
}

/** Reads the bytes of a params file (or any safetensors file of F32/F64 tensors). */
export function decodeParams(bytes: Uint8Array): DecodedParams {
  if (!(bytes instanceof Uint8Array)) bad("expected the file's bytes as a Uint8Array (or Buffer)");
  if (bytes.length < 8) bad(`${bytes.length} bytes is too short for a header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const low = view.getUint32(0, true);
  const high = view.getUint32(4, true);
  if (high !== 0 || low > bytes.length - 8) bad(`the header claims ${high * 2 ** 32 + low} bytes, but the file has ${bytes.length - 8} after the length`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + low)));
  } catch {
    bad("the header is not valid UTF-8 JSON");
  }
  if (header === null || typeof header !== "object" || Array.isArray(header)) bad("the header is not a JSON object");
  const start = 8 + low;
  const dataLength = bytes.length - start;
  const metadata: Record<string, string> = {};
  const tensors: DecodedParams["tensors"] = {};
  const ranges: [number, number, string][] = [];
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === METADATA) {
      if (entry === null || typeof entry !== "object") bad("`__metadata__` must be an object of strings");
      for (const [k, v] of Object.entries(entry as Record<string, unknown>)) {
        if (typeof v !== "string") bad(`metadata \`${k}\` must be a string`);
        metadata[k] = v;
      }
      continue;
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (e === null || typeof e !== "object") bad(`tensor \`${name}\` has no description`);
    if (e.dtype !== "F32" && e.dtype !== "F64") bad(`tensor \`${name}\` has dtype ${JSON.stringify(e.dtype)}; gradc reads F32 and F64`);
    const shape = e.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) bad(`tensor \`${name}\` has a bad shape`);
    const offsets = e.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      bad(`tensor \`${name}\` has bad data_offsets`);
    }
    const [begin, end] = offsets as [number, number];
    const width = e.dtype === "F32" ? 4 : 8;
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    if (end < begin || end > dataLength || end - begin !== count * width) {
      bad(`tensor \`${name}\`: bytes [${begin}, ${end}) do not hold its ${count} values inside the ${dataLength} data bytes`);
    }
    tensors[name] = { shape: [...(shape as number[])], data: readFloats(bytes, start + begin, count, e.dtype) };
    ranges.push([begin, end, name]);
  }
  ranges.sort((a, b) => a[0] - b[0]);
  let covered = 0;
  for (const [begin, end, name] of ranges) {
    if (begin !== covered) bad(`tensor \`${name}\` ${begin < covered ? "overlaps the one before it" : "leaves a gap before it"}`);
    covered = end;
  }
  if (covered !== dataLength) bad(`${dataLength - covered} bytes after the last tensor`);
  if (metadata.format === PARAMS_FORMAT) {
    const version = Number(metadata.version);
    if (!Number.isInteger(version) || version < 1) bad(`unknown version ${JSON.stringify(metadata.version)}`);
    if (version > PARAMS_VERSION) bad(`version ${version} is newer than this gradc reads (${PARAMS_VERSION})`);
  }
  return { tensors, metadata };
}

/** Loads a params file into `model.params` (in place, converting f64 <-> f32 if the
 *  dtypes differ). Every param of the model must be in the file with its shape, and the
 *  file may hold nothing else. Returns the file's metadata. */
export function loadParams(model: ParamsSource, bytes: Uint8Array): Record<string, string> {
  const { tensors, metadata } = decodeParams(bytes);
  const wanted = new Set(model.meta.params.map((p) => p.name));
  for (const name of Object.keys(tensors)) if (!wanted.has(name)) bad(`the model has no param \`${name}\``);
  for (const { name, shape } of model.meta.params) {
    const t = tensors[name];
    if (!t) bad(`param \`${name}\` is missing`);
    const target = model.params[name]!;
    const sameShape = t.shape.length === shape.length && shape.every((d, i) => typeof d !== "number" || d === t.shape[i]);
    if (!sameShape || t.data.length !== target.length) {
      bad(`param \`${name}\` is [${t.shape.join(", ")}] in the file but [${shape.join(", ")}] in the model`);
    }
  }
  for (const { name } of model.meta.params) model.params[name]!.set(tensors[name]!.data);
  return metadata;
}

function writeFloats(bytes: Uint8Array, at: number, data: TypedArray): void {
  if (littleEndian) {
    bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at);
    return;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset + at, data.byteLength);
  const f32 = data instanceof Float32Array;
  for (let i = 0; i < data.length; i++) {
    if (f32) view.setFloat32(i * 4, data[i]!, true);
    else view.setFloat64(i * 8, data[i]!, true);
  }
}

function readFloats(bytes: Uint8Array, at: number, count: number, dtype: "F32" | "F64"): TypedArray {
  const width = dtype === "F32" ? 4 : 8;
  if (littleEndian) {
    // a copy into a fresh, aligned buffer, whatever the file buffer's offset (not
    // bytes.slice: on a node Buffer that is a view, not a copy)
    const copy = new Uint8Array(count * width);
    copy.set(bytes.subarray(at, at + count * width));
    return dtype === "F32" ? new Float32Array(copy.buffer) : new Float64Array(copy.buffer);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset + at, count * width);
  const out = dtype === "F32" ? new Float32Array(count) : new Float64Array(count);
  for (let i = 0; i < count; i++) out[i] = dtype === "F32" ? view.getFloat32(i * 4, true) : view.getFloat64(i * 8, true);
  return out;
}
