// The wasm side of one emitted module: the memory layout (params, staging for arguments,
// arena buffers, scratch, optimizer state, each at a fixed, 16-byte aligned offset), the
// functions to translate (the JS target's kernel and run functions), the SIMD matmul
// kernels, and at the end the module's bytes and the JavaScript that instantiates them.
// ModuleEmitter (../module.ts) drives it when the target is "wasm".

import { parse } from "acorn";
import * as js from "../estree";
import { ModuleBuilder, type FunctionBuilder } from "./encode";
import { addVectorMap, addVectorReduce, type VectorMap } from "./epilogue";
import { addConv, convScratch, type ConvGeometry, type ConvKind } from "./conv";
import { addMatmul, matmulArity, type MatmulShape } from "./matmul";
import { addBatchedMatmul, batchedScratch, type BatchedMatmul } from "./batched";
import { messages } from "../../diagnostics";
import { addPool, type PoolGeometry, type PoolKind } from "./pool";
import { addMathFunctions, mathNamesUsed } from "./math";
import { translateFunction, Untranslatable, type ArrayAt, type Signature } from "./translate";
import { trigTableBytes } from "./trig";
import { generatorSource, randomStateName, type RuntimeHelper } from "../../ops";

/** Runtime helpers of elementwise ops take numbers and return one. */
export function helperSignature(params: number): Signature {
  return { params: Array<"f64">(params).fill("f64"), result: "f64" };
}

/** The JS names the wasm target's runtime declares (module.ts reserves them). */
export const wasmRuntimeNames = ["memory", "memoryBuffer", "heap", "cells", "place", "unplace", "inMemory", "growMemory", "layout", "elementAddress", "wasmBytes", "instantiate", "ready", "notReady", "WebAssembly", "atob", "Uint8Array", "Int32Array", "Promise"];

const page = 65536;

const [outOfMemoryBefore, outOfMemoryAfter] = messages.E0409("\u0000" as unknown as number).split("\u0000") as [string, string];

interface PendingFunction {
  name: string;
  params: string[];
  body: js.Statement[];
  exported: boolean;
  /** What it computes, for a refusal should translation fail (a kernel's label). */
  label: string;
  /** Its types when not i32 parameters and no result (runtime helpers). */
  signature?: Signature;
}

export class WasmBuild {
  private top = 0;
  readonly arrays = new Map<string, ArrayAt>();
  readonly cells = new Map<string, number>();
  private readonly pending: PendingFunction[] = [];
  private readonly matmuls = new Map<string, string>();
  private readonly module = new ModuleBuilder();
  private readonly intrinsics = new Map<string, { index: number; arity: number }>();
  /** Name of the `let` each exported run function is called through, by run function. */
  readonly entries = new Map<string, string>();
  /** Updated with the page count once the layout is final. */
  private readonly pagesLiteral = js.num(1) as { type: "Literal"; value: number; raw?: string };
  /** Free dims by JS name: the i32 cell each is written to before a call. */
  readonly dims = new Map<string, number>();
  /** Arrays sized by free dims: their JS view, size (elements) and offset cell. */
  private readonly placed: { name: string; size: js.Expression; cell: number }[] = [];
  /** Fixed arrays' views, recreated when the memory grows. */
  private readonly views: { name: string; type: string; base: number; length: number }[] = [];
  /** Statements run after the views are recreated (result records pointing at them). */
  readonly refreshes: js.Statement[] = [];
  /** The first byte after the fixed layout (where `layout()` starts), set by encode. */
  private readonly topLiteral = js.num(0) as { type: "Literal"; value: number; raw?: string };

  /** With free dims, the memory grows: it has no maximum and every view is refreshed. */
  constructor(readonly growing = false) {}

  /** Reserves `bytes` of memory; returns the byte offset. */
  reserve(bytes: number): number {
    const at = this.top;
    this.top += Math.ceil(Math.max(bytes, 1) / 16) * 16;
    return at;
  }

  /** A module-level array in memory: `new Type(memory.buffer, offset, length)`. */
  array(name: string, length: number, type: "F" | "Float64Array"): js.Expression {
    const elem = type === "F" ? "f32" : "f64";
    const base = this.reserve(length * (elem === "f32" ? 4 : 8));
    this.arrays.set(name, { base, elem });
    this.views.push({ name, type, base, length });
    return js.newExpr(type, js.id("memoryBuffer"), js.num(base), js.num(length));
  }

  /** The names of the fixed arrays' views (declared with `let` in a growing memory). */
  viewNames(): Set<string> {
    return new Set(this.views.map((v) => v.name));
  }

  /** A free dim read by the kernels: JS writes it to its cell before each call. */
  dim(name: string): void {
    this.dims.set(name, this.reserve(4));
  }

  /** The statements writing every free dim to its cell (before a run function). */
  dimWrites(): js.Statement[] {
    return [...this.dims].map(([name, cell]) => js.stmt(js.assign(js.index("cells", js.num(cell / 4)), js.id(name))));
  }

  /** An f32 array of `size` elements (an expression of free dims), declared by the caller
   *  as \`let name = new F(0)\`: \`layout()\` places it and makes \`name\` its view. */
  placedArray(name: string, size: js.Expression): void {
    const cell = this.reserve(4);
    this.arrays.set(name, { base: cell, elem: "f32", placed: true });
    this.placed.push({ name, size, cell });
  }

  /** A param that run functions read through an i32 cell holding its offset (a model with
   *  many params: they are not passed as arguments, JS writes each one's cell before a
   *  call). Returns the cell's byte offset; the same cell for every run function. */
  paramCell(name: string): number {
    const at = this.arrays.get(name);
    if (at) return at.base;
    const cell = this.reserve(4);
    this.arrays.set(name, { base: cell, elem: "f32", placed: true });
    return cell;
  }

  /** Whether `name` is placed by \`layout()\`. */
  isPlaced(name: string): boolean {
    return this.arrays.get(name)?.placed === true;
  }

  /**
   * \`layout()\`, called before a call whose sizes need more than some placed array holds:
   * every placed array gets the larger of its capacity and what the current dims need, laid
   * out one after another above the fixed layout; the memory grows (always, by one page at
   * least, so that no view taken before is left pointing at moved data: every one is
   * detached), and every view (of those `declared`) is made again.
   */
  layoutFunction(declared: ReadonlySet<string>): js.Statement {
    const body: js.Statement[] = [js.declare("let", "at", this.topLiteral)];
    const sets: js.Statement[] = [];
    this.placed.forEach((p, k) => {
      const c = `c${k}`, o = `o${k}`;
      body.push(
        js.declare("const", c, js.math("max", js.member(p.name, "length"), p.size)),
        js.declare("const", o, js.id("at")),
        js.stmt(js.assign(js.id("at"), js.mul(js.math("ceil", js.binary("/", js.id(c), js.num(4))), js.num(16)), "+=")),
      );
      sets.push(
        js.stmt(js.assign(js.id(p.name), js.newExpr("F", js.id("memoryBuffer"), js.id(o), js.id(c)))),
        js.stmt(js.assign(js.index("cells", js.num(p.cell / 4)), js.id(o))),
      );
    });
    body.push(js.stmt(js.call("growMemory", js.id("at"))));
    for (const v of this.views.filter((w) => declared.has(w.name))) body.push(js.stmt(js.assign(js.id(v.name), js.newExpr(v.type, js.id("memoryBuffer"), js.num(v.base), js.num(v.length)))));
    body.push(...sets, ...this.refreshes);
    return js.func("layout", [], body);
  }


  /** A module-level number a run function updates (the optimizer's step counter). */
  cell(name: string): void {
    this.cells.set(name, this.reserve(8));
  }

  /** A function to translate; an exported one (a run function) is called from JS through
   *  a `let` named `entry`. */
  addFunction(name: string, params: string[], body: js.Statement[], label: string, entry?: string, signature?: Signature): void {
    this.pending.push({ name, params, body, exported: entry !== undefined, label, signature });
    if (entry) this.entries.set(name, entry);
  }

  /** An elementwise op's runtime helper (erf, round, mod: special.ts), numbers in and out. */
  addHelper(helper: RuntimeHelper): void {
    this.addRuntimeFunctions(helper.source, [helper.name], helperSignature);
  }

  /** The generator (random.ts): its state [seed, calls, key] in the memory, returned as a
   *  byte offset, and the integer functions the kernels' draws call (drawBits, drawMix). */
  generator(): number {
    const base = this.reserve(3 * 8);
    this.arrays.set(randomStateName, { base, elem: "f64" });
    // a view like the others: made again when the memory grows (its values stay)
    this.views.push({ name: randomStateName, type: "Float64Array", base, length: 3 });
    this.addRuntimeFunctions(generatorSource, ["drawMix", "drawBits"], (n) => ({ params: Array<"i32">(n).fill("i32"), result: "i32" }));
    return base;
  }

  /** The function declarations `names` of runtime JS `source` (erf, the generator's
   *  drawBits...), translated with `signature`: kernels call them as JS calls them. */
  addRuntimeFunctions(source: string, names: readonly string[], signature: (params: number) => Signature): void {
    for (const s of parseModuleStatements(source)) {
      if (s.type !== "FunctionDeclaration") continue;
      const name = (s.id as { name: string }).name;
      if (!names.includes(name)) continue;
      const params = s.params.map((p) => (p as { name: string }).name);
      this.addFunction(name, params, s.body.body, `the runtime function ${name}`, undefined, signature(params.length));
    }
  }

  /** The name of a SIMD matmul kernel of `shape` (one per distinct shape); it takes the
   *  offsets of A, B and C, for a transposed B of scratch (an array it declares), then
   *  the free sizes (matmulArity). */
  matmul(shape: MatmulShape, names: (prefix: string) => string): { name: string; scratch?: string } {
    const key = JSON.stringify(shape);
    let name = this.matmuls.get(key);
    if (!name) {
      name = names("simd_matmul");
      this.matmuls.set(key, name);
      const index = addMatmul(this.module, shape);
      this.intrinsics.set(name, { index, arity: matmulArity(shape) });
    }
    if (!shape.bTransposed) return { name };
    const scratch = `${name}_scratch`;
    if (!this.arrays.has(scratch)) {
      // (addMatmul refuses a transposed B with k or n free)
      const base = this.reserve((shape.k as number) * (shape.n as number) * 4);
      this.arrays.set(scratch, { base, elem: "f32" });
    }
    return { name, scratch };
  }

  /** The name of a batched SIMD matmul (batched.ts), one per distinct spec; it takes the
   *  offsets of A, B and C, and owns its scratch. */
  batchedMatmul(spec: BatchedMatmul, names: (prefix: string) => string): string {
    const key = JSON.stringify(["batched", spec]);
    let name = this.matmuls.get(key);
    if (!name) {
      const { m, k, n, a } = spec;
      const inner = this.matmul({ m, k, n, ...(a.rows === k && a.cols === 1 ? {} : { aStride: [a.rows, a.cols] as [number, number] }) }, names);
      name = names("simd_batched_matmul");
      this.matmuls.set(key, name);
      const floats = batchedScratch(spec);
      const scratch = floats > 0 ? this.reserve(floats * 4) : 0;
      this.intrinsics.set(name, { index: addBatchedMatmul(this.module, spec, this.intrinsics.get(inner.name)!.index, scratch), arity: 3 });
    }
    return name;
  }

  /** The name of a SIMD convolution kernel (conv.ts), one per distinct kind and geometry;
   *  it takes the offsets of the op's two inputs and its output (then a free batch), and
   *  owns its scratch. */
  conv(kind: ConvKind, geometry: ConvGeometry, names: (prefix: string) => string): string {
    const key = JSON.stringify([kind, geometry]);
    let name = this.matmuls.get(key);
    if (!name) {
      name = names(`simd_${kind}`);
      this.matmuls.set(key, name);
      const scratch = convScratch(kind, geometry).map((floats) => this.reserve(floats * 4));
      this.intrinsics.set(name, { index: addConv(this.module, kind, geometry, scratch), arity: geometry.n === "free" ? 4 : 3 });
    }
    return name;
  }

  /** The name of an f32x4 pooling kernel (pool.ts), one per kind and geometry; it takes
   *  the offsets of the op's inputs and its output. */
  pool(kind: PoolKind, geometry: PoolGeometry, names: (prefix: string) => string): string {
    const key = JSON.stringify([kind, geometry]);
    let name = this.matmuls.get(key);
    if (!name) {
      name = names(`simd_${kind}`);
      this.matmuls.set(key, name);
      this.intrinsics.set(name, { index: addPool(this.module, kind, geometry), arity: (kind === "maxpool2d" ? 2 : 3) + (geometry.freeBatch ? 1 : 0) });
    }
    return name;
  }

  /** The name of an f32x4 elementwise map (epilogue.ts), one per distinct map; it takes
   *  the offsets of its output and operands (in place: operand 0 is the output), then the
   *  size of a free first axis. */
  vectorMap(map: VectorMap, inPlace: boolean, names: (prefix: string) => string): string {
    const key = JSON.stringify(["map", map, inPlace]);
    let name = this.matmuls.get(key);
    if (!name) {
      name = names(inPlace ? "simd_epilogue" : "simd_map");
      this.matmuls.set(key, name);
      this.intrinsics.set(name, { index: addVectorMap(this.module, map, inPlace), arity: map.operands.length + (inPlace ? 0 : map.exprs.length) + (map.shape[0] === "free" ? 1 : 0) });
    }
    return name;
  }

  /** The name of an f32x4 reduction over the last axis (epilogue.ts), one per distinct
   *  map and kind; it takes the offsets of its output and operands. */
  vectorReduce(map: VectorMap, kind: "sum" | "max", names: (prefix: string) => string): string {
    const key = JSON.stringify(["reduce", kind, map]);
    let name = this.matmuls.get(key);
    if (!name) {
      name = names(`simd_${kind}`);
      this.matmuls.set(key, name);
      this.intrinsics.set(name, { index: addVectorReduce(this.module, map, kind), arity: map.operands.length + 1 });
    }
    return name;
  }

  /** The statement creating the memory, before any view of it. */
  memoryDeclaration(): js.Statement {
    const limits = js.object([["initial", this.pagesLiteral], ...(this.growing ? [] : [["maximum", this.pagesLiteral] as [string, js.Expression]])]);
    return js.declare("const", "memory", { type: "NewExpression", callee: js.member("WebAssembly", "Memory"), arguments: [limits] });
  }

  /** Translates every function and encodes the module; throws Untranslatable with the label
   *  of the function that could not be translated. */
  encode(): Uint8Array {
    // The math functions the bodies call (sin, cos and tan read a table in memory).
    const used = mathNamesUsed(this.pending.map((p) => p.body));
    let table: number | undefined;
    if (["sin", "cos", "tan"].some((m) => used.has(m))) table = this.reserve(trigTableBytes);
    // 64 bytes past the last array: a kernel's last vector load may reach past its end
    const pages = Math.max(1, Math.ceil((this.top + 64) / page));
    this.pagesLiteral.value = pages;
    this.pagesLiteral.raw = String(pages);
    this.topLiteral.value = this.top;
    this.topLiteral.raw = String(this.top);
    this.module.importMemory("gradc", "memory", pages, this.growing ? undefined : pages);
    const math = addMathFunctions(this.module, used, () => table!);
    // Function indices are known before any body is translated (calls may go forward).
    const base = this.module.functionCount;
    const functions = new Map(this.intrinsics);
    this.pending.forEach((p, i) => functions.set(p.name, { index: base + i, arity: p.params.length, ...p.signature }));
    const env = { arrays: this.arrays, cells: this.cells, dims: this.dims, functions, math };
    for (const p of this.pending) {
      let f: FunctionBuilder;
      try {
        f = translateFunction(p.params, p.body, env, p.signature);
      } catch (e) {
        if (e instanceof Untranslatable) throw new Untranslatable(`${p.label}: ${e.message}`);
        throw e;
      }
      this.module.addFunction(f, p.exported ? p.name : undefined);
    }
    return this.module.encode();
  }

  /** The module text's runtime: views and staging (before the params are created). */
  runtime(): string {
    return (this.growing ? `
// The memory grows when a call's sizes need more (layout()): its buffer and every view
// of it are then made again.
let memoryBuffer = memory.buffer;
let heap = new Float32Array(memoryBuffer);
let cells = new Int32Array(memoryBuffer);
function growMemory(bytes) {
  const pages = Math.max(1, Math.ceil(bytes / 65536) - memoryBuffer.byteLength / 65536);
  try {
    memory.grow(pages);
  } catch (e) {
    fail("E0409", ${JSON.stringify(outOfMemoryBefore)} + Math.ceil(bytes / 4) + ${JSON.stringify(outOfMemoryAfter)});
  }
  memoryBuffer = memory.buffer;
  heap = new Float32Array(memoryBuffer);
  cells = new Int32Array(memoryBuffer);
}` : `
// The memory never grows (every size is fixed when compiling), so its buffer is too.
const memoryBuffer = memory.buffer;
const heap = new Float32Array(memoryBuffer);
const cells = new Int32Array(memoryBuffer);`) + `
function inMemory(values, offset) {
  const view = new Float32Array(memoryBuffer, offset, values.length);
  view.set(values);
  return view;
}
function place(v, offset) {
  if (v === undefined) return 0;
  if (v.buffer === memoryBuffer) return v.byteOffset;
  const at = offset >>> 2, n = v.length;
  // a loop beats the set() call on a few elements
  if (n > 32) heap.set(v, at);
  else for (let i = 0; i < n; i++) heap[at + i] = v[i];
  return offset;
}
function unplace(v, offset) {
  if (v.buffer === memoryBuffer) return;
  const at = offset >>> 2;
  for (let i = 0; i < v.length; i++) v[i] = heap[at + i];
}
function notReady() {
  fail("E0308", "the wasm module is still compiling: await model.ready before the first call");
}
`;
  }

  /** The statements that compile and instantiate `bytes` and bind each entry: synchronously
   *  where the engine allows it (Node, workers), else asynchronously (\`ready\`). With
   *  `topLevelAwait` (an ES module), the module's evaluation waits for it. */
  instantiation(bytes: Uint8Array, topLevelAwait: boolean): js.Statement[] {
    const base64 = toBase64(bytes);
    const binds = [...this.entries].map(([fn, entry]) => `${entry} = exports.${fn};`).join("\n  ");
    const text = `
const wasmBytes = (() => {
  const text = atob(${JSON.stringify(base64)});
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
})();
function instantiate() {
  const imports = { gradc: { memory } };
  const bind = (exports) => {
  ${binds}
  };
  let module;
  try {
    module = new WebAssembly.Module(wasmBytes);
  } catch (e) {
    // Browsers refuse to compile large modules synchronously on the main thread.
    if (!(e instanceof RangeError)) throw e;
    return WebAssembly.instantiate(wasmBytes, imports).then((r) => { bind(r.instance.exports); });
  }
  bind(new WebAssembly.Instance(module, imports).exports);
  return Promise.resolve();
}
const ready = instantiate();
${topLevelAwait ? "await ready;" : ""}
`;
    return parseModuleStatements(text);
  }
}

function parseModuleStatements(text: string): js.Statement[] {
  return (parse(text, { ecmaVersion: 2022, sourceType: "module" }) as unknown as { body: js.Statement[] }).body;
}

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** Base64 of `bytes` (the compiler runs in browsers too: no Buffer). */
export function toBase64(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const [a, b, c] = [bytes[i]!, bytes[i + 1], bytes[i + 2]];
    const n = (a << 16) | ((b ?? 0) << 8) | (c ?? 0);
    out += alphabet[(n >> 18) & 63]! + alphabet[(n >> 12) & 63]!;
    out += b === undefined ? "=" : alphabet[(n >> 6) & 63]!;
    out += c === undefined ? "=" : alphabet[n & 63]!;
  }
  return out;
}

export { Untranslatable };
