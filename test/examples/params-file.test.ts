// The params file: save -> load is bit-exact (NaN payloads, -0, subnormals, f32 and f64),
// the bytes follow the documented layout (a safetensors file with gradc's metadata), files
// written by other tools load, and damaged or mismatched files fail with GradcError.

import { describe, expect, it } from "vitest";
import { compile, decodeParams, encodeParams, GradcError, loadParams, PARAMS_VERSION } from "../../src/index";

const source = `
dim n
input x: [n, 3]
param w: [3, 2] = normal(0, 1)
param b: [2] = uniform(-1, 1)
param s = constant(0.5)
out = x @ w + b * s
output out
`;

/** Awkward values, bit patterns included. */
function fillAwkward(a: Float32Array | Float64Array): void {
  const special = [NaN, -0, Infinity, -Infinity, 1e-40, 5e-324, Math.PI, -1.5];
  for (let i = 0; i < a.length; i++) a[i] = special[i % special.length]!;
  if (a instanceof Float32Array) new Uint32Array(a.buffer)[0] = 0x7fc01234; // a NaN with a payload
}

const bits = (a: Float32Array | Float64Array) => Array.from(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));

describe("params file", () => {
  for (const dtype of ["f32", "f64"] as const) {
    it(`round-trips ${dtype} params bit for bit`, () => {
      const model = compile(source, { dtype, seed: 3 });
      fillAwkward(model.params.w!);
      const bytes = encodeParams(model, { note: "hello" });
      const fresh = compile(source, { dtype, seed: 99 });
      expect(bits(fresh.params.w!)).not.toEqual(bits(model.params.w!));
      const metadata = loadParams(fresh, bytes);
      for (const name of ["w", "b", "s"]) expect(bits(fresh.params[name]!)).toEqual(bits(model.params[name]!));
      expect(metadata).toEqual({ note: "hello", format: "gradc-params", version: String(PARAMS_VERSION) });
      // and the same bytes again
      expect(Array.from(encodeParams(fresh, { note: "hello" }))).toEqual(Array.from(bytes));
    });
  }

  it("a loaded model computes exactly what the saved one did", () => {
    const model = compile(source, { seed: 5 });
    const x = Float32Array.from([0.1, -2, 3, 4, 0.5, -0.25]);
    const expected = Array.from(model.forward({ x }).out as Float32Array);
    const later = compile(source, { seed: 6 });
    loadParams(later, encodeParams(model));
    expect(Array.from(later.forward({ x }).out as Float32Array)).toEqual(expected);
  });

  it("follows the documented layout", () => {
    const model = compile(source, { seed: 1 });
    const bytes = encodeParams(model, { model: "tiny" });
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const n = view.getUint32(0, true);
    expect(view.getUint32(4, true)).toBe(0);
    expect((8 + n) % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    expect(header.__metadata__).toEqual({ model: "tiny", format: "gradc-params", version: "1" });
    expect(header.w).toEqual({ dtype: "F32", shape: [3, 2], data_offsets: [0, 24] });
    expect(header.b).toEqual({ dtype: "F32", shape: [2], data_offsets: [24, 32] });
    expect(header.s).toEqual({ dtype: "F32", shape: [], data_offsets: [32, 36] });
    expect(bytes.length).toBe(8 + n + 36);
    // raw little-endian floats
    expect(view.getFloat32(8 + n + 4 * 5, true)).toBe(model.params.w![5]);
  });

  it("reads a safetensors file from another writer (no padding, f64 into an f32 model)", () => {
    const header = JSON.stringify({
      s: { dtype: "F64", shape: [], data_offsets: [64, 72] },
      w: { dtype: "F64", shape: [3, 2], data_offsets: [0, 48] },
      b: { dtype: "F64", shape: [2], data_offsets: [48, 64] },
    });
    const h = new TextEncoder().encode(header);
    const bytes = new Uint8Array(8 + h.length + 72);
    const view = new DataView(bytes.buffer);
    view.setUint32(0, h.length, true);
    bytes.set(h, 8);
    for (let i = 0; i < 9; i++) view.setFloat64(8 + h.length + 8 * i, i + 0.5, true);
    // a Buffer-like view at an odd offset, as fs.readFileSync may give
    const odd = new Uint8Array(bytes.length + 1);
    odd.set(bytes, 1);
    const model = compile(source, { seed: 1 });
    expect(loadParams(model, odd.subarray(1))).toEqual({});
    // and from a node Buffer, whose slice() is a view
    const other = compile(source, { seed: 2 });
    loadParams(other, Buffer.concat([Buffer.from("padding"), Buffer.from(bytes)]).subarray(7));
    expect(Array.from(other.params.w!)).toEqual([0.5, 1.5, 2.5, 3.5, 4.5, 5.5]);
    expect(Array.from(model.params.w!)).toEqual([0.5, 1.5, 2.5, 3.5, 4.5, 5.5]);
    expect(Array.from(model.params.b!)).toEqual([6.5, 7.5]);
    expect(Array.from(model.params.s!)).toEqual([8.5]);
  });

  it("rejects damaged and mismatched files with GradcError", () => {
    const model = compile(source, { seed: 1 });
    const good = encodeParams(model);
    const expectError = (bytes: Uint8Array, pattern: RegExp) => {
      let error: unknown;
      try {
        loadParams(model, bytes);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(GradcError);
      expect((error as Error).message).toMatch(pattern);
    };
    expectError(good.subarray(0, 5), /too short/);
    expectError(good.subarray(0, good.length - 4), /do not hold|after the last/);
    expectError(Uint8Array.from([...good, 0]), /bytes after the last tensor/);
    const other = compile(source.replace("[3, 2]", "[3, 4]").replace("[2] =", "[4] ="), { seed: 1 });
    expectError(encodeParams(other), /param `w` is \[3, 4\] in the file but \[3, 2\]/);
    const extra = compile(`${source}\nparam extra: [1]`, { seed: 1 });
    expectError(encodeParams(extra), /no param `extra`/);
    // a later version
    const newer = good.slice();
    const at = new TextDecoder("latin1").decode(newer).indexOf('"version":"1"');
    newer[at + '"version":"'.length] = "9".charCodeAt(0);
    expectError(newer, /version 9 is newer/);
    const garbage = good.slice();
    garbage[9] = 0xff;
    expectError(garbage, /not valid UTF-8 JSON/);
    expect(() => decodeParams("nope" as unknown as Uint8Array)).toThrow(GradcError);
  });
});
