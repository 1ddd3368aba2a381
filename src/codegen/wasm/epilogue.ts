// f32x4 elementwise code for the wasm target: the elementwise expression fused after a
// SIMD kernel (bias, relu, a relu mask, ...), run in place over the kernel's stored
// result, and a whole-kernel elementwise map. The expression is the ops' own JS templates
// (each ElementwiseDef's `emit`), printed as f32x4 instructions instead of JavaScript:
// arithmetic, comparisons (lane masks), `?:` (bitselect), `+(test)`, `!`, `&&`, `||`,
// Math.max/min/abs/sqrt/fround, Math.exp and Math.tanh (vmath.ts), literals; a template
// using anything else (log, a runtime helper) is not vectorised and stays translated
// scalar code. Operands are stored arrays
// read contiguously or through broadcasts: the loop runs over the longest trailing block
// of axes in which every operand is either contiguous or constant, f32x4 over it (single
// floats for its last n mod 4), with each operand's place computed once per block. Values
// are f32 in every lane, so results differ from the JS target's (f64, rounded at the
// store) by f32 rounding.

import type * as js from "../estree";
import { id as jsId, num as jsNum } from "../estree";
import type { Node } from "../../ir";
import type { ElementwiseDef } from "../../ops";
import type { Plan } from "../../schedule";
import { FunctionBuilder, type ModuleBuilder, type Opcode } from "./encode";
import { emitExpF32x4, emitTanhF32x4 } from "./vmath";

/** An expression over the loop's operands. */
export type VExpr =
  | { operand: number }
  | { constant: number }
  | { template: js.Expression; args: VExpr[] };

/** A map out_j[i] = exprs[j] over `shape` (one output, or a fused group's several, sharing
 *  subexpressions); operand 0 is the one `out` itself when `inPlace`. Its first axis may
 *  be "free" (a batch): the function then takes its size as the last argument. */
export interface VectorMap {
  shape: (number | "free")[];
  /** Each operand's element stride per axis of `shape` (0 along a broadcast axis). */
  operands: number[][];
  exprs: VExpr[];
}

/** Row-major strides (only a first axis may be free: it is in no stride). */
const rowMajor = (shape: readonly (number | string)[]) => shape.map((_, a) => (shape.slice(a + 1) as number[]).reduce((x, y) => x * y, 1));

/** The elementwise expressions computing `roots` (one node, or a fused group's members,
 *  each stored: the map's outputs) from stored arrays (and `self`, read as the one output's
 *  own buffer), with the stored arrays they read in `leaves`; undefined when something in
 *  them cannot be vectorised. A node read twice (a member another one reads) is one
 *  VExpr, computed once. */
export function vectorMapOf(roots: Node | readonly Node[], plan: Plan, self?: Node): { map: VectorMap; leaves: Node[] } | undefined {
  const members = Array.isArray(roots) ? roots as readonly Node[] : [roots as Node];
  const root = members[0]!;
  const shape = root.shape;
  // every size known, but for a first axis (a free batch) ahead of others
  if (shape.length === 0 || !shape.slice(1).every((d) => typeof d === "number")) return undefined;
  if (typeof shape[0] !== "number" && shape.length < 2) return undefined;
  if (members.some((m) => m.shape.join(",") !== shape.join(","))) return undefined;
  const inGroup = new Set(members);
  const seen = new Map<string, VExpr>();
  const leaves: Node[] = [];
  const operands: number[][] = [];
  if (self) { leaves.push(self); operands.push(rowMajor(shape)); }
  const operand = (leaf: Node, strides: number[]): VExpr => {
    const key = strides.join(",");
    const at = leaves.findIndex((l, i) => l === leaf && operands[i]!.join(",") === key);
    if (at >= 0) return { operand: at };
    leaves.push(leaf);
    operands.push(strides);
    return { operand: leaves.length - 1 };
  };
  // strides of `n` (shape `s`) read at the root's index; `dims` maps n's axes to the root's
  const read = (n: Node, dims: number[]): VExpr | undefined => {
    const key = `${n.id}:${dims.join(",")}`;
    if (seen.has(key)) return seen.get(key);
    const e = readOnce(n, dims);
    if (e) seen.set(key, e);
    return e;
  };
  const readOnce = (n: Node, dims: number[]): VExpr | undefined => {
    if (n.op.name === "const" && typeof n.attrs.value === "number") return { constant: n.attrs.value };
    if (n.op.name === "broadcast") {
      const inner = n.attrs.dims as number[];
      return read(n.inputs[0]!, inner.map((d) => dims[d]!));
    }
    // a stored array, or a reshape of one (which reads it row-major at its own shape)
    const stored = n === self || (!inGroup.has(n) && plan.materialized.has(n)) ? n : reshapedStored(n, plan, inGroup);
    if (stored) {
      // (a free size only as the first axis, read along the root's first axis: checked below)
      if (n.shape.length === 0 || !n.shape.slice(1).every((d) => typeof d === "number")) return undefined;
      const own = rowMajor(n.shape);
      const strides = shape.map(() => 0);
      n.shape.forEach((d, i) => { if (d !== 1) strides[dims[i]!] = own[i]!; });
      // a stored array is read on the root's axes it maps to, the same size on each
      if (n.shape.some((d, i) => d !== 1 && d !== shape[dims[i]!])) return undefined;
      if (n === self) return strides.join(",") === rowMajor(shape).join(",") ? { operand: 0 } : undefined;
      return operand(stored, strides);
    }
    if (n.op.kind !== "elementwise" || n.shape.length !== dims.length) return undefined;
    const def = n.op as ElementwiseDef;
    if (def.helper) return undefined;
    const args: VExpr[] = [];
    for (const i of n.inputs) {
      const a = read(i, dims);
      if (!a) return undefined;
      args.push(a);
    }
    const template = def.emit(args.map((a, i) => ("constant" in a ? literal(a.constant) : jsId(`v${i}`))));
    if (!vectorizable(template)) return undefined;
    return { template, args };
  };
  const exprs: VExpr[] = [];
  for (const m of members) {
    const e = read(m, shape.map((_, a) => a));
    if (!e) return undefined;
    exprs.push(e);
  }
  return { map: { shape: shape.map((d) => (typeof d === "number" ? d : "free")), operands, exprs }, leaves };
}

/** The stored array a chain of reshapes `n` views (none of them stored or computed in
 *  the kernel itself), or undefined. */
function reshapedStored(n: Node, plan: Plan, inGroup: ReadonlySet<Node>): Node | undefined {
  let x = n;
  while (x.op.name === "reshape" && !plan.materialized.has(x) && !inGroup.has(x)) x = x.inputs[0]!;
  return x !== n && plan.materialized.has(x) && !inGroup.has(x) ? x : undefined;
}

function literal(v: number): js.Expression {
  return v < 0 || Object.is(v, -0) ? { type: "UnaryExpression", operator: "-", prefix: true, argument: jsNum(-v) } as js.Expression : jsNum(v);
}

const compare: Record<string, [Opcode, Opcode]> = {
  "<": ["f32x4.lt", "f32.lt"], ">": ["f32x4.gt", "f32.gt"], "<=": ["f32x4.le", "f32.le"], ">=": ["f32x4.ge", "f32.ge"],
  "===": ["f32x4.eq", "f32.eq"], "==": ["f32x4.eq", "f32.eq"], "!==": ["f32x4.ne", "f32.ne"], "!=": ["f32x4.ne", "f32.ne"],
};
const arith: Record<string, [Opcode, Opcode]> = {
  "+": ["f32x4.add", "f32.add"], "-": ["f32x4.sub", "f32.sub"], "*": ["f32x4.mul", "f32.mul"], "/": ["f32x4.div", "f32.div"],
};
const mathOps: Record<string, [Opcode, Opcode]> = {
  abs: ["f32x4.abs", "f32.abs"], sqrt: ["f32x4.sqrt", "f32.sqrt"], max: ["f32x4.max", "f32.max"], min: ["f32x4.min", "f32.min"],
};

type Kind = "num" | "mask";

/** One-argument Math functions on lanes: an opcode, or inline code (vmath.ts). */
const unaryMath: Record<string, Opcode | ((f: FunctionBuilder) => void) | null> = {
  abs: "f32x4.abs", sqrt: "f32x4.sqrt", fround: null, exp: emitExpF32x4, tanh: emitTanhF32x4,
};

/** The kind of a template expression, or undefined outside the subset. */
function kindOf(e: js.Expression): Kind | undefined {
  switch (e.type) {
    case "Identifier": return /^v\d+$/.test(e.name) ? "num" : undefined;
    case "Literal": return typeof e.value === "number" ? "num" : typeof e.value === "boolean" ? "mask" : undefined;
    case "BinaryExpression":
      if (e.operator in arith) return kindOf(e.left) === "num" && kindOf(e.right) === "num" ? "num" : undefined;
      if (e.operator in compare) return kindOf(e.left) === "num" && kindOf(e.right) === "num" ? "mask" : undefined;
      return undefined;
    case "LogicalExpression":
      return (e.operator === "&&" || e.operator === "||") && kindOf(e.left) === "mask" && kindOf(e.right) === "mask" ? "mask" : undefined;
    case "UnaryExpression": {
      const k = kindOf(e.argument);
      if (e.operator === "-") return k === "num" ? "num" : undefined;
      if (e.operator === "+") return k ? "num" : undefined;
      if (e.operator === "!") return k === "mask" ? "mask" : undefined;
      return undefined;
    }
    case "ConditionalExpression": {
      const [t, a, b] = [kindOf(e.test), kindOf(e.consequent), kindOf(e.alternate)];
      return t === "mask" && a !== undefined && a === b ? a : undefined;
    }
    case "CallExpression": {
      const c = e.callee;
      if (c.type !== "MemberExpression" || c.computed || c.object.type !== "Identifier" || c.object.name !== "Math" || c.property.type !== "Identifier") return undefined;
      const name = c.property.name;
      const n = e.arguments.length;
      const ok = (name in unaryMath && n === 1) || ((name === "max" || name === "min") && n >= 1);
      return ok && e.arguments.every((a) => kindOf(a as js.Expression) === "num") ? "num" : undefined;
    }
    default: return undefined;
  }
}

function vectorizable(e: js.Expression): boolean {
  return kindOf(e) === "num";
}

interface Emit {
  f: FunctionBuilder;
  vector: boolean;
  /** Pushes operand `i`'s value at the current element. */
  load: (i: number) => void;
  /** The local holding each expression already computed at this element. */
  done: Map<VExpr, number>;
}

/** Pushes `e` (a number: v128 or f32). Each argument is computed once, into a local, and
 *  an expression met again (shared by two outputs) is read from its local. */
function emitExpr(x: Emit, e: VExpr): void {
  const { f, vector } = x;
  if ("operand" in e) { x.load(e.operand); return; }
  if ("constant" in e) { pushConstant(f, vector, e.constant); return; }
  const known = x.done.get(e);
  if (known !== undefined) { f.op("local.get", known); return; }
  const locals = e.args.map((a) => {
    if ("constant" in a) return -1;
    emitExpr(x, a);
    const l = f.local(vector ? "v128" : "f32");
    f.op("local.set", l);
    return l;
  });
  emitTemplate(f, vector, e.template, locals);
  const l = f.local(vector ? "v128" : "f32");
  f.op("local.tee", l);
  x.done.set(e, l);
}

function pushConstant(f: FunctionBuilder, vector: boolean, v: number): void {
  if (vector) f.v128Const([v, v, v, v]);
  else f.op("f32.const", v);
}

/** Pushes a template expression; masks are all-ones lanes (vector) or an i32 0/1. */
function emitTemplate(f: FunctionBuilder, vector: boolean, e: js.Expression, locals: number[]): void {
  const at = vector ? 0 : 1;
  switch (e.type) {
    case "Identifier": f.op("local.get", locals[Number(e.name.slice(1))]!); return;
    case "Literal":
      if (typeof e.value === "boolean") {
        if (vector) f.op("i32.const", e.value ? -1 : 0).op("i32x4.splat");
        else f.op("i32.const", e.value ? 1 : 0);
      } else pushConstant(f, vector, e.value as number);
      return;
    case "BinaryExpression":
      emitTemplate(f, vector, e.left, locals);
      emitTemplate(f, vector, e.right, locals);
      f.op((arith[e.operator] ?? compare[e.operator])![at]);
      return;
    case "LogicalExpression":
      emitTemplate(f, vector, e.left, locals);
      emitTemplate(f, vector, e.right, locals);
      f.op(e.operator === "&&" ? (vector ? "v128.and" : "i32.and") : (vector ? "v128.or" : "i32.or"));
      return;
    case "UnaryExpression":
      if (e.operator === "-" && e.argument.type === "Literal") { pushConstant(f, vector, -(e.argument.value as number)); return; }
      emitTemplate(f, vector, e.argument, locals);
      if (e.operator === "-") f.op(vector ? "f32x4.neg" : "f32.neg");
      else if (e.operator === "!") f.op(vector ? "v128.not" : "i32.eqz");
      else if (kindOf(e.argument) === "mask") {
        // +(test): 1 where set, else 0
        if (vector) { pushConstant(f, true, 1); f.op("v128.and"); } else f.op("f32.convert_i32_u");
      }
      return;
    case "ConditionalExpression":
      // vector: bitselect(then, else, mask); scalar: select(then, else, test)
      emitTemplate(f, vector, e.consequent, locals);
      emitTemplate(f, vector, e.alternate, locals);
      emitTemplate(f, vector, e.test, locals);
      f.op(vector ? "v128.bitselect" : "select");
      return;
    case "CallExpression": {
      const name = ((e.callee as { property: { name: string } }).property).name;
      const args = e.arguments as js.Expression[];
      emitTemplate(f, vector, args[0]!, locals);
      if (name === "fround") return;
      if (name === "abs" || name === "sqrt") { f.op(mathOps[name]![at]); return; }
      const inline = unaryMath[name];
      if (typeof inline === "function") {
        // a single float goes through lane 0 of the vector code
        if (!vector) f.op("f32x4.splat");
        inline(f);
        if (!vector) f.op("f32x4.extract_lane", 0);
        return;
      }
      for (const a of args.slice(1)) { emitTemplate(f, vector, a, locals); f.op(mathOps[name]![at]); }
      return;
    }
    default: throw new RangeError(`epilogue: ${e.type} in a template`);
  }
}

/** Adds `map(out1, ..., outN, op1, op2, ...[, batch])` (byte offsets; with `inPlace`,
 *  operand 0 is the one `out` and is not a parameter; then the size of a free first axis)
 *  computing `map`; returns its function index. */
export function addVectorMap(module: ModuleBuilder, map: VectorMap, inPlace: boolean, exportName?: string): number {
  const { operands, exprs } = map;
  const outs = inPlace ? 1 : exprs.length;
  const free = map.shape[0] === "free";
  // (a free first axis stays an outer one: sized 1 here, its count multiplied in at entry)
  const shape = map.shape.map((d) => (d === "free" ? 1 : d));
  const contiguous = rowMajor(map.shape);
  // the longest trailing block of axes where each operand is contiguous or constant
  let t = shape.length;
  const classOf = (s: number[], from: number) => {
    const tail = s.slice(from);
    if (tail.every((v) => v === 0)) return "constant";
    if (tail.every((v, i) => v === contiguous[from + i] || shape[from + i] === 1)) return "contiguous";
    return undefined;
  };
  while (t > (free ? 1 : 0) && operands.every((s) => classOf(s, t - 1) !== undefined)) t--;
  if (t === shape.length) t = shape.length - 1; // one axis at least (its operands read one element apart... or not at all)
  const run = shape.slice(t).reduce((a, b) => a * b, 1);
  const outer = shape.slice(0, t).reduce((a, b) => a * b, 1);
  const classes = operands.map((s) => classOf(s, t) ?? "strided");
  const params = outs + operands.length - (inPlace ? 1 : 0);
  const f = new FunctionBuilder(Array.from({ length: params + (free ? 1 : 0) }, () => "i32" as const), []);
  const param = (i: number) => (inPlace ? i : i + outs);
  const o = f.local("i32"), i = f.local("i32"), outers = f.local("i32");
  const outPtr = exprs.map(() => f.local("i32"));
  const ptr = operands.map(() => f.local("i32"));
  const splat = operands.map((_, k) => (classes[k] === "constant" ? f.local("v128") : -1));
  const single = operands.map((_, k) => (classes[k] === "constant" ? f.local("f32") : -1));
  const strided = classes.some((c) => c === "strided");
  // an operand strided inside the run: the element-by-element loop below
  f.op("i32.const", outer);
  if (free) f.op("local.get", params).op("i32.mul");
  f.op("local.tee", outers);
  // (a free batch may be 0)
  f.op("i32.eqz").open("if").op("return").op("end");
  f.op("i32.const", 0).op("local.set", o);
  f.open("loop");
  // out = base + o * run * 4; each operand: base + 4 * sum over outer axes of index * stride
  outPtr.forEach((p, j) => f.op("local.get", j).op("local.get", o).op("i32.const", run * 4).op("i32.mul").op("i32.add").op("local.set", p));
  operands.forEach((s, k) => {
    pushOuterAddress(f, param(k), o, s, shape, map.shape, t);
    f.op("local.set", ptr[k]!);
    if (classes[k] === "constant") {
      f.op("local.get", ptr[k]!).op("v128.load32_splat", 2, 0).op("local.set", splat[k]!);
      f.op("local.get", ptr[k]!).op("f32.load", 2, 0).op("local.set", single[k]!);
    }
  });
  const loader = (vector: boolean, offset: () => void) => (k: number) => {
    if (classes[k] === "constant") { f.op("local.get", vector ? splat[k]! : single[k]!); return; }
    f.op("local.get", ptr[k]!);
    offset();
    f.op("i32.add").op(vector ? "v128.load" : "f32.load", 2, 0);
  };
  if (strided) throw new RangeError("epilogue: an operand strided within the run");
  const vec = Math.floor(run / 4) * 4;
  if (vec > 0) {
    f.op("i32.const", 0).op("local.set", i);
    f.open("loop");
    const x = { f, vector: true, load: loader(true, () => f.op("local.get", i)), done: new Map<VExpr, number>() };
    exprs.forEach((e, j) => {
      f.op("local.get", outPtr[j]!).op("local.get", i).op("i32.add");
      emitExpr(x, e);
      f.op("v128.store", 2, 0);
    });
    f.op("local.get", i).op("i32.const", 16).op("i32.add").op("local.tee", i).op("i32.const", vec * 4).op("i32.lt_u").op("br_if", 0);
    f.op("end");
  }
  for (let e = vec; e < run; e++) {
    const x = { f, vector: false, load: loader(false, () => f.op("i32.const", e * 4)), done: new Map<VExpr, number>() };
    exprs.forEach((ex, j) => {
      f.op("local.get", outPtr[j]!);
      emitExpr(x, ex);
      f.op("f32.store", 2, e * 4);
    });
  }
  f.op("local.get", o).op("i32.const", 1).op("i32.add").op("local.tee", o).op("local.get", outers).op("i32.lt_u").op("br_if", 0);
  f.op("end");
  return module.addFunction(f, exportName);
}

/** Pushes an operand's byte address for the outer index `o` (a local) over the first
 *  `axes` axes: its base (parameter `base`) + 4 * the sum over those axes of the index
 *  along the axis times the operand's stride `strides[a]`. `shape` gives the sizes
 *  (a free axis counted as 1); an axis of stride 0 or of size 1 in `sizes` adds nothing
 *  (a free axis is never skipped: its index runs over the batch). */
export function pushOuterAddress(f: FunctionBuilder, base: number, o: number, strides: readonly number[], shape: readonly number[], sizes: readonly (number | "free")[], axes: number): void {
  f.op("local.get", base);
  for (let a = 0; a < axes; a++) {
    if (strides[a] === 0 || sizes[a] === 1) continue;
    const inner = shape.slice(a + 1, axes).reduce((x, y) => x * y, 1);
    f.op("local.get", o);
    if (inner > 1) f.op("i32.const", inner).op("i32.div_u");
    if (a > 0) f.op("i32.const", shape[a]!).op("i32.rem_u");
    f.op("i32.const", strides[a]! * 4).op("i32.mul").op("i32.add");
  }
}

/** Whether every operand of `map` is contiguous or constant within some trailing block
 *  (what addVectorMap runs). */
export function vectorMapRuns(map: VectorMap): boolean {
  const { shape, operands } = map;
  const contiguous = rowMajor(shape);
  const last = shape.length - 1;
  return operands.every((s) => s[last] === 0 || s[last] === contiguous[last] || shape[last] === 1);
}

/** Adds `reduce(out, op1, op2, ...)` (byte offsets): out[o] = the sum (or maximum) over
 *  the last axis of `map`'s one expression, for each index o of the axes before it (every
 *  size known, each operand contiguous or constant along the last axis: vectorMapRuns).
 *  f32x4 partial results over the row, then its four lanes combined, then its last n mod
 *  4 elements one by one: the order of the JS target's sum differs (it adds in f64, left
 *  to right), so sums differ by f32 rounding; maxima are exact (f32x4.max is Math.max on
 *  floats, NaN winning, -0 below +0). Returns its function index. */
export function addVectorReduce(module: ModuleBuilder, map: VectorMap, kind: "sum" | "max"): number {
  const { operands, exprs } = map;
  const shape = map.shape as number[];
  const last = shape.length - 1;
  const n = shape[last]!;
  const outer = shape.slice(0, last).reduce((a, b) => a * b, 1);
  const constant = operands.map((s) => s[last] === 0 || n === 1);
  const f = new FunctionBuilder(Array.from({ length: 1 + operands.length }, () => "i32" as const), []);
  const o = f.local("i32"), i = f.local("i32"), acc = f.local("v128"), total = f.local("f32");
  const ptr = operands.map(() => f.local("i32"));
  const splat = operands.map((_, k) => (constant[k] ? f.local("v128") : -1));
  const single = operands.map((_, k) => (constant[k] ? f.local("f32") : -1));
  const [vop, sop] = kind === "sum" ? ["f32x4.add", "f32.add"] as const : ["f32x4.max", "f32.max"] as const;
  // (a sum from -0, the identity of +, as the interpreter's)
  const init = kind === "sum" ? -0 : -Infinity;
  f.op("i32.const", 0).op("local.set", o);
  f.open("loop");
  operands.forEach((s, k) => {
    pushOuterAddress(f, k + 1, o, s, shape, shape, last);
    f.op("local.set", ptr[k]!);
    if (constant[k]) {
      f.op("local.get", ptr[k]!).op("v128.load32_splat", 2, 0).op("local.set", splat[k]!);
      f.op("local.get", ptr[k]!).op("f32.load", 2, 0).op("local.set", single[k]!);
    }
  });
  const loader = (vector: boolean, offset: () => void) => (k: number) => {
    if (constant[k]) { f.op("local.get", vector ? splat[k]! : single[k]!); return; }
    f.op("local.get", ptr[k]!);
    offset();
    f.op("i32.add").op(vector ? "v128.load" : "f32.load", 2, 0);
  };
  const vec = Math.floor(n / 4) * 4;
  f.op("f32.const", init).op("local.set", total);
  if (vec > 0) {
    f.v128Const([init, init, init, init]).op("local.set", acc);
    f.op("i32.const", 0).op("local.set", i);
    f.open("loop");
    f.op("local.get", acc);
    emitExpr({ f, vector: true, load: loader(true, () => f.op("local.get", i)), done: new Map() }, exprs[0]!);
    f.op(vop).op("local.set", acc);
    f.op("local.get", i).op("i32.const", 16).op("i32.add").op("local.tee", i).op("i32.const", vec * 4).op("i32.lt_u").op("br_if", 0);
    f.op("end");
    // (lane 0 + lane 1) + (lane 2 + lane 3)
    f.op("local.get", acc).op("f32x4.extract_lane", 0).op("local.get", acc).op("f32x4.extract_lane", 1).op(sop);
    f.op("local.get", acc).op("f32x4.extract_lane", 2).op("local.get", acc).op("f32x4.extract_lane", 3).op(sop);
    f.op(sop).op("local.set", total);
  }
  for (let e = vec; e < n; e++) {
    f.op("local.get", total);
    emitExpr({ f, vector: false, load: loader(false, () => f.op("i32.const", e * 4)), done: new Map() }, exprs[0]!);
    f.op(sop).op("local.set", total);
  }
  f.op("local.get", 0).op("local.get", o).op("i32.const", 4).op("i32.mul").op("i32.add").op("local.get", total).op("f32.store", 2, 0);
  f.op("local.get", o).op("i32.const", 1).op("i32.add").op("local.tee", o).op("i32.const", outer).op("i32.lt_u").op("br_if", 0);
  f.op("end");
  return module.addFunction(f);
}
