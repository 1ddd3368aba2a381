// A small WebAssembly binary encoder: LEB128, the module sections the wasm target needs
// (type, function, memory, export, code), and an instruction writer over an opcode table
// that holds exactly the core and SIMD128 instructions gradc emits. It checks arguments
// (a negative index, a local out of range) as it writes, so a bad module is an exception
// here, not a CompileError far away; tests validate every shape with WebAssembly.validate.

/** Value types by their binary code. */
export const valType = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b } as const;
export type ValType = keyof typeof valType;

/** A growable byte buffer with the primitive encodings. */
export class Bytes {
  private buf = new Uint8Array(256);
  length = 0;

  byte(b: number): this {
    if (this.length === this.buf.length) {
      const next = new Uint8Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.length++] = b & 0xff;
    return this;
  }

  bytes(bs: ArrayLike<number>): this {
    for (let i = 0; i < bs.length; i++) this.byte(bs[i]!);
    return this;
  }

  /** Unsigned LEB128 of a 32-bit value. */
  u32(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`u32 out of range: ${v}`);
    do {
      let b = v % 128;
      v = Math.floor(v / 128);
      if (v !== 0) b |= 0x80;
      this.byte(b);
    } while (v !== 0);
    return this;
  }

  /** Signed LEB128 of a 32-bit value (i32.const takes values as signed). */
  s32(v: number): this {
    if (!Number.isInteger(v) || v < -0x80000000 || v > 0xffffffff) throw new RangeError(`s32 out of range: ${v}`);
    v |= 0; // 0x80000000..0xffffffff wrap to their signed value, as the engine reads them
    for (;;) {
      const b = v & 0x7f;
      v >>= 7;
      const done = (v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0);
      this.byte(done ? b : b | 0x80);
      if (done) return this;
    }
  }

  /** Signed LEB128 of a 64-bit value (i64.const). */
  s64(v: bigint): this {
    if (v < -(1n << 63n) || v >= 1n << 63n) throw new RangeError(`s64 out of range: ${v}`);
    for (;;) {
      const b = Number(v & 0x7fn);
      v >>= 7n;
      const done = (v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0);
      this.byte(done ? b : b | 0x80);
      if (done) return this;
    }
  }

  f32(v: number): this {
    const view = new DataView(new ArrayBuffer(4));
    view.setFloat32(0, v, true);
    return this.bytes(new Uint8Array(view.buffer));
  }

  f64(v: number): this {
    const view = new DataView(new ArrayBuffer(8));
    view.setFloat64(0, v, true);
    return this.bytes(new Uint8Array(view.buffer));
  }

  name(s: string): this {
    const utf8 = new TextEncoder().encode(s);
    return this.u32(utf8.length).bytes(utf8);
  }

  /** A length-prefixed copy of `inner` (sections, function bodies). */
  sized(inner: Bytes): this {
    return this.u32(inner.length).bytes(inner.view());
  }

  view(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

/** Immediates an instruction takes, in order. `mem` is a memarg (align as log2, offset). */
type Imm = "none" | "u32" | "s32" | "s64" | "f32" | "f64" | "mem" | "lane" | "block";

/** The instructions gradc emits: [opcode bytes (0xfd-prefixed ones carry their LEB index),
 *  immediates]. */
const opcodes = {
  unreachable: [[0x00], "none"], nop: [[0x01], "none"],
  block: [[0x02], "block"], loop: [[0x03], "block"], if: [[0x04], "block"], else: [[0x05], "none"], end: [[0x0b], "none"],
  br: [[0x0c], "u32"], br_if: [[0x0d], "u32"], return: [[0x0f], "none"], call: [[0x10], "u32"], drop: [[0x1a], "none"], select: [[0x1b], "none"],
  "local.get": [[0x20], "u32"], "local.set": [[0x21], "u32"], "local.tee": [[0x22], "u32"],
  "i32.load": [[0x28], "mem"], "f32.load": [[0x2a], "mem"], "f64.load": [[0x2b], "mem"],
  "i32.store": [[0x36], "mem"], "f32.store": [[0x38], "mem"], "f64.store": [[0x39], "mem"],
  "memory.size": [[0x3f, 0x00], "none"], "memory.grow": [[0x40, 0x00], "none"],
  "i32.const": [[0x41], "s32"], "f32.const": [[0x43], "f32"], "f64.const": [[0x44], "f64"],
  "i32.eqz": [[0x45], "none"], "i32.eq": [[0x46], "none"], "i32.ne": [[0x47], "none"],
  "i32.lt_s": [[0x48], "none"], "i32.lt_u": [[0x49], "none"], "i32.gt_s": [[0x4a], "none"], "i32.ge_s": [[0x4e], "none"],
  "f32.lt": [[0x5d], "none"], "f32.gt": [[0x5e], "none"],
  "i32.add": [[0x6a], "none"], "i32.sub": [[0x6b], "none"], "i32.mul": [[0x6c], "none"],
  "i32.and": [[0x71], "none"], "i32.or": [[0x72], "none"], "i32.shl": [[0x74], "none"], "i32.shr_s": [[0x75], "none"], "i32.shr_u": [[0x76], "none"],
  "f32.abs": [[0x8b], "none"], "f32.neg": [[0x8c], "none"], "f32.sqrt": [[0x91], "none"],
  "f32.add": [[0x92], "none"], "f32.sub": [[0x93], "none"], "f32.mul": [[0x94], "none"], "f32.div": [[0x95], "none"],
  "f32.min": [[0x96], "none"], "f32.max": [[0x97], "none"],
  "f64.add": [[0xa0], "none"], "f64.sub": [[0xa1], "none"], "f64.mul": [[0xa2], "none"], "f64.div": [[0xa3], "none"],
  "f32.demote_f64": [[0xb6], "none"], "f64.promote_f32": [[0xbb], "none"],
  // SIMD128 (0xfd prefix, then the LEB128 opcode)
  "v128.load": [[0xfd, 0x00], "mem"], "v128.store": [[0xfd, 0x0b], "mem"],
  "f32x4.splat": [[0xfd, 0x13], "none"], "f32x4.extract_lane": [[0xfd, 0x1f], "lane"], "f32x4.replace_lane": [[0xfd, 0x20], "lane"],
  "v128.load32_splat": [[0xfd, 0x09], "mem"],
  "f32x4.abs": [[0xfd, 0xe0, 0x01], "none"], "f32x4.neg": [[0xfd, 0xe1, 0x01], "none"], "f32x4.sqrt": [[0xfd, 0xe3, 0x01], "none"],
  "f32x4.add": [[0xfd, 0xe4, 0x01], "none"], "f32x4.sub": [[0xfd, 0xe5, 0x01], "none"],
  "f32x4.mul": [[0xfd, 0xe6, 0x01], "none"], "f32x4.div": [[0xfd, 0xe7, 0x01], "none"],
  "f32x4.min": [[0xfd, 0xe8, 0x01], "none"], "f32x4.max": [[0xfd, 0xe9, 0x01], "none"],
  "f32x4.pmin": [[0xfd, 0xea, 0x01], "none"], "f32x4.pmax": [[0xfd, 0xeb, 0x01], "none"],
  "f32x4.eq": [[0xfd, 0x41], "none"], "f32x4.lt": [[0xfd, 0x43], "none"], "f32x4.gt": [[0xfd, 0x44], "none"],
  "v128.and": [[0xfd, 0x4e], "none"], "v128.bitselect": [[0xfd, 0x52], "none"],
  // f64 scalar code (the translated kernels compute in f64, as JavaScript does)
  "i32.le_s": [[0x4c], "none"], "i32.div_s": [[0x6d], "none"], "i32.rem_s": [[0x6f], "none"], "i32.xor": [[0x73], "none"],
  "i64.const": [[0x42], "s64"], "i64.and": [[0x83], "none"], "i64.or": [[0x84], "none"], "i64.shl": [[0x86], "none"], "i64.shr_u": [[0x88], "none"],
  "i64.add": [[0x7c], "none"], "i64.extend_i32_s": [[0xac], "none"], "i32.wrap_i64": [[0xa7], "none"],
  "i64.reinterpret_f64": [[0xbd], "none"], "f64.reinterpret_i64": [[0xbf], "none"],
  "f64.eq": [[0x61], "none"], "f64.ne": [[0x62], "none"], "f64.lt": [[0x63], "none"], "f64.gt": [[0x64], "none"], "f64.le": [[0x65], "none"], "f64.ge": [[0x66], "none"],
  "f64.abs": [[0x99], "none"], "f64.neg": [[0x9a], "none"], "f64.ceil": [[0x9b], "none"], "f64.floor": [[0x9c], "none"], "f64.trunc": [[0x9d], "none"],
  "f64.nearest": [[0x9e], "none"], "f64.sqrt": [[0x9f], "none"], "f64.min": [[0xa4], "none"], "f64.max": [[0xa5], "none"], "f64.copysign": [[0xa6], "none"],
  "f64.convert_i32_s": [[0xb7], "none"], "i32.trunc_sat_f64_s": [[0xfc, 0x02], "none"],
  // bulk memory (memory index 0 follows the opcode): copy (dst, src, bytes), fill (dst, byte, bytes)
  "memory.copy": [[0xfc, 0x0a, 0x00, 0x00], "none"], "memory.fill": [[0xfc, 0x0b, 0x00], "none"],
  // the f32x4 elementwise code (epilogue.ts)
  "f32.eq": [[0x5b], "none"], "f32.ne": [[0x5c], "none"], "f32.le": [[0x5f], "none"], "f32.ge": [[0x60], "none"],
  "f32.convert_i32_u": [[0xb3], "none"], "i32.div_u": [[0x6e], "none"], "i32.rem_u": [[0x70], "none"],
  "i32x4.splat": [[0xfd, 0x11], "none"], "f32x4.ne": [[0xfd, 0x42], "none"], "f32x4.le": [[0xfd, 0x45], "none"], "f32x4.ge": [[0xfd, 0x46], "none"],
  "v128.not": [[0xfd, 0x4d], "none"], "v128.or": [[0xfd, 0x50], "none"], "i32x4.eq": [[0xfd, 0x37], "none"],
  "i64.trunc_sat_f64_s": [[0xfc, 0x06], "none"], "i64.sub": [[0x7d], "none"], "i32.ge_u": [[0x4f], "none"],
  // vector exp and tanh (vmath.ts)
  "f32x4.nearest": [[0xfd, 0x6a], "none"], "i32x4.trunc_sat_f32x4_s": [[0xfd, 0xf8, 0x01], "none"],
  "i32x4.add": [[0xfd, 0xae, 0x01], "none"], "i32x4.sub": [[0xfd, 0xb1, 0x01], "none"],
  "i32x4.shl": [[0xfd, 0xab, 0x01], "none"], "i32x4.shr_s": [[0xfd, 0xac, 0x01], "none"],
  "f64x2.splat": [[0xfd, 0x14], "none"], "f64x2.add": [[0xfd, 0xf0, 0x01], "none"], "f64x2.mul": [[0xfd, 0xf2, 0x01], "none"],
} as const satisfies Record<string, readonly [readonly number[], Imm]>;
export type Opcode = keyof typeof opcodes;

/** Block types: no result, or one value. */
const blockType = { void: 0x40, i32: 0x7f, f32: 0x7d, f64: 0x7c, v128: 0x7b } as const;

/** One function: its signature, its locals past the params, and its body. Labels are
 *  relative depths, as in the binary; `depth` tracks open blocks to check `br` targets. */
export class FunctionBuilder {
  readonly body = new Bytes();
  readonly locals: ValType[] = [];
  private depth = 0;

  constructor(readonly params: readonly ValType[], readonly results: readonly ValType[]) {}

  /** A new local of `type`; returns its index. */
  local(type: ValType): number {
    this.locals.push(type);
    return this.params.length + this.locals.length - 1;
  }

  op(name: Opcode, ...imm: number[]): this {
    const [code, kind] = opcodes[name] as readonly [readonly number[], Imm];
    const want = kind === "none" ? 0 : kind === "mem" ? 2 : 1;
    if (imm.length !== want) throw new RangeError(`${name} takes ${want} immediate(s), got ${imm.length}`);
    this.body.bytes(code);
    switch (kind) {
      case "none": break;
      case "u32": this.checkIndex(name, imm[0]!); this.body.u32(imm[0]!); break;
      case "s32": this.body.s32(imm[0]!); break;
      case "s64": this.body.s64(BigInt(imm[0]!)); break;
      case "f32": this.body.f32(imm[0]!); break;
      case "f64": this.body.f64(imm[0]!); break;
      case "mem": this.body.u32(imm[0]!).u32(imm[1]!); break;
      case "lane":
        if (!Number.isInteger(imm[0]) || imm[0]! < 0 || imm[0]! > 3) throw new RangeError(`${name}: lane ${imm[0]} is not 0..3`);
        this.body.byte(imm[0]!);
        break;
      case "block": this.body.byte(imm[0]!); break;
    }
    if (kind === "block") this.depth++;
    if (name === "end") this.depth--;
    return this;
  }

  /** block / loop / if with a result type (default none). */
  open(kind: "block" | "loop" | "if", result: keyof typeof blockType = "void"): this {
    return this.op(kind, blockType[result]);
  }

  i64Const(v: bigint): this {
    this.body.byte(0x42).s64(v);
    return this;
  }

  v128Const(lanes: readonly [number, number, number, number]): this {
    this.body.bytes([0xfd, 0x0c]);
    for (const v of lanes) this.body.f32(v);
    return this;
  }

  /** i8x16.shuffle of the two vectors on the stack, by 32-bit lanes (0-3 the first,
   *  4-7 the second). */
  shuffle32(lanes: readonly [number, number, number, number]): this {
    if (!lanes.every((l) => Number.isInteger(l) && l >= 0 && l < 8)) throw new RangeError(`shuffle32: lanes ${lanes.join(",")} are not 0..7`);
    this.body.bytes([0xfd, 0x0d]);
    for (const l of lanes) for (let b = 0; b < 4; b++) this.body.byte(l * 4 + b);
    return this;
  }

  private checkIndex(name: string, i: number): void {
    if (name.startsWith("local.") && (i < 0 || i >= this.params.length + this.locals.length)) {
      throw new RangeError(`${name} ${i}: the function has ${this.params.length + this.locals.length} locals`);
    }
    if ((name === "br" || name === "br_if") && (i < 0 || i > this.depth)) throw new RangeError(`${name} ${i}: only ${this.depth} blocks are open`);
  }

  /** The code-section entry: locals run-length grouped by type, the body, `end`. */
  encode(): Bytes {
    if (this.depth !== 0) throw new RangeError(`function body leaves ${this.depth} block(s) open`);
    const out = new Bytes();
    const groups: [ValType, number][] = [];
    for (const t of this.locals) {
      const last = groups[groups.length - 1];
      if (last && last[0] === t) last[1]++;
      else groups.push([t, 1]);
    }
    out.u32(groups.length);
    for (const [t, n] of groups) out.u32(n).byte(valType[t]);
    out.bytes(this.body.view()).byte(0x0b);
    return out;
  }
}

/** A module of functions over one memory, exported by name. */
export class ModuleBuilder {
  private readonly functions: { fn: FunctionBuilder; export?: string }[] = [];
  private memory?: { min: number; max?: number; export?: string; import?: [string, string] };
  private readonly data: { offset: number; bytes: Uint8Array }[] = [];

  /** Declares the module's memory in 64 KiB pages. */
  setMemory(min: number, max?: number, exportName?: string): this {
    this.memory = { min, max, export: exportName };
    return this;
  }

  /** Declares the memory as imported (`module`.`name`), so its creator can make views of
   *  it before the module is compiled (asynchronous compilation in browsers). */
  importMemory(module: string, name: string, min: number, max?: number): this {
    this.memory = { min, max, import: [module, name] };
    return this;
  }

  /** Bytes the module writes into its memory at `offset` when it is instantiated (an
   *  active data segment: constant tables). */
  addData(offset: number, bytes: Uint8Array): this {
    this.data.push({ offset, bytes });
    return this;
  }

  get functionCount(): number {
    return this.functions.length;
  }

  /** Adds a function; returns its index (for `call`). */
  addFunction(fn: FunctionBuilder, exportName?: string): number {
    this.functions.push({ fn, export: exportName });
    return this.functions.length - 1;
  }

  encode(): Uint8Array {
    const out = new Bytes().bytes([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
    // Types: one per distinct signature, in first-use order.
    const sigs: string[] = [];
    const typeOf = this.functions.map(({ fn }) => {
      const key = `${fn.params.join(",")}->${fn.results.join(",")}`;
      if (!sigs.includes(key)) sigs.push(key);
      return sigs.indexOf(key);
    });
    const types = new Bytes().u32(sigs.length);
    for (const key of sigs) {
      const [ps, rs] = key.split("->").map((s) => (s === "" ? [] : s.split(",") as ValType[]));
      types.byte(0x60).u32(ps!.length).bytes(ps!.map((t) => valType[t])).u32(rs!.length).bytes(rs!.map((t) => valType[t]));
    }
    section(out, 1, types);
    if (this.memory?.import) {
      const { min, max, import: [mod, name] } = this.memory;
      const imports = new Bytes().u32(1).name(mod).name(name).byte(0x02);
      if (max === undefined) imports.byte(0x00).u32(min);
      else imports.byte(0x01).u32(min).u32(max);
      section(out, 2, imports);
    }
    const funcs = new Bytes().u32(typeOf.length);
    for (const t of typeOf) funcs.u32(t);
    section(out, 3, funcs);
    if (this.memory && !this.memory.import) {
      const { min, max } = this.memory;
      const mem = new Bytes().u32(1);
      if (max === undefined) mem.byte(0x00).u32(min);
      else mem.byte(0x01).u32(min).u32(max);
      section(out, 5, mem);
    }
    const exported: [string, number, number][] = [];
    if (this.memory?.export !== undefined) exported.push([this.memory.export, 0x02, 0]);
    this.functions.forEach((f, i) => { if (f.export !== undefined) exported.push([f.export, 0x00, i]); });
    const exports = new Bytes().u32(exported.length);
    for (const [name, kind, index] of exported) exports.name(name).byte(kind).u32(index);
    section(out, 7, exports);
    const code = new Bytes().u32(this.functions.length);
    for (const { fn } of this.functions) code.sized(fn.encode());
    section(out, 10, code);
    if (this.data.length > 0) {
      const data = new Bytes().u32(this.data.length);
      for (const d of this.data) data.u32(0).byte(0x41).s32(d.offset).byte(0x0b).u32(d.bytes.length).bytes(d.bytes);
      section(out, 11, data);
    }
    return out.view().slice();
  }
}

function section(out: Bytes, id: number, content: Bytes): void {
  out.byte(id).sized(content);
}
