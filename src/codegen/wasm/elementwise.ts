// Fused elementwise and reduction kernels for the wasm target. A kernel body is a small
// expression over its inputs, written once and printed twice: as f32x4 instructions for
// the vector loop and as f32 instructions for the scalar tail (n mod 4), so both halves
// compute the same function. `where(a > b, x, y)` is how a relu mask or its gradient
// reads; it is a bitselect in the vector loop and a select in the tail.

import { FunctionBuilder, type ModuleBuilder, type Opcode } from "./encode";

export type Expr =
  | { input: number }
  | { constant: number }
  | { op: "add" | "sub" | "mul" | "div" | "min" | "max"; a: Expr; b: Expr }
  | { op: "neg" | "abs" | "sqrt"; a: Expr }
  | { op: "where_gt"; a: Expr; b: Expr; then: Expr; else: Expr };

/** max and min are Math.max and Math.min, as the JS target's `maximum`/`minimum`: a NaN
 *  gives NaN and -0 < +0, which is exactly wasm's f32x4.max / f32.max. */
const binary: Record<"add" | "sub" | "mul" | "div" | "min" | "max", [Opcode, Opcode]> = {
  add: ["f32x4.add", "f32.add"], sub: ["f32x4.sub", "f32.sub"], mul: ["f32x4.mul", "f32.mul"], div: ["f32x4.div", "f32.div"],
  min: ["f32x4.min", "f32.min"], max: ["f32x4.max", "f32.max"],
};
const unary: Record<"neg" | "abs" | "sqrt", [Opcode, Opcode]> = {
  neg: ["f32x4.neg", "f32.neg"], abs: ["f32x4.abs", "f32.abs"], sqrt: ["f32x4.sqrt", "f32.sqrt"],
};

/** Adds `map(in0, ..., out)` computing out[i] = body(in0[i], ...) for i < n (byte offsets);
 *  returns its function index. The output may alias an input (in-place update). */
export function addMap(module: ModuleBuilder, n: number, inputs: number, body: Expr, exportName?: string): number {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`map n must be a positive integer, got ${n}`);
  checkInputs(body, inputs);
  const f = new FunctionBuilder(Array.from({ length: inputs + 1 }, () => "i32" as const), []);
  const out = inputs;
  const i = f.local("i32");
  const vec = Math.floor(n / 4) * 4;
  // i runs over byte offsets; every input and the output advance together
  if (vec > 0) {
    f.op("i32.const", 0).op("local.set", i);
    f.open("loop");
    f.op("local.get", out).op("local.get", i).op("i32.add");
    emit(f, body, i, true);
    f.op("v128.store", 2, 0);
    f.op("local.get", i).op("i32.const", 16).op("i32.add").op("local.tee", i).op("i32.const", vec * 4).op("i32.lt_s").op("br_if", 0);
    f.op("end");
  }
  for (let t = vec; t < n; t++) {
    f.op("i32.const", t * 4).op("local.set", i);
    f.op("local.get", out).op("local.get", i).op("i32.add");
    emit(f, body, i, false);
    f.op("f32.store", 2, 0);
  }
  return module.addFunction(f, exportName);
}

/** Adds `colsum(x, out)`: out[j] = sum over i of x[i, j] for x of [m, n] (a bias gradient,
 *  the sum over the batch); with `accumulate`, out[j] += that sum. */
export function addColumnSum(module: ModuleBuilder, m: number, n: number, accumulate = false, exportName?: string): number {
  for (const [name, v] of Object.entries({ m, n })) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`colsum ${name} must be a positive integer, got ${v}`);
  }
  const f = new FunctionBuilder(["i32", "i32"], []);
  const [x, out] = [0, 1];
  const p = f.local("i32"), rows = f.local("i32"), accV = f.local("v128"), accS = f.local("f32");
  const vec = Math.floor(n / 4) * 4;
  for (let j = 0; j < n; j += j < vec ? 4 : 1) {
    const wide = j < vec;
    if (accumulate) f.op("local.get", out).op(wide ? "v128.load" : "f32.load", 2, j * 4);
    else if (wide) f.v128Const([0, 0, 0, 0]);
    else f.op("f32.const", 0);
    f.op("local.set", wide ? accV : accS);
    f.op("local.get", x).op("i32.const", j * 4).op("i32.add").op("local.set", p);
    f.op("i32.const", m).op("local.set", rows);
    f.open("loop");
    f.op("local.get", wide ? accV : accS).op("local.get", p).op(wide ? "v128.load" : "f32.load", 2, 0);
    f.op(wide ? "f32x4.add" : "f32.add").op("local.set", wide ? accV : accS);
    f.op("local.get", p).op("i32.const", n * 4).op("i32.add").op("local.set", p);
    f.op("local.get", rows).op("i32.const", 1).op("i32.sub").op("local.tee", rows).op("br_if", 0);
    f.op("end");
    f.op("local.get", out).op("local.get", wide ? accV : accS).op(wide ? "v128.store" : "f32.store", 2, j * 4);
  }
  return module.addFunction(f, exportName);
}

function checkInputs(e: Expr, inputs: number): void {
  if ("input" in e) {
    if (!Number.isInteger(e.input) || e.input < 0 || e.input >= inputs) throw new RangeError(`map body reads input ${e.input} of ${inputs}`);
  } else if ("op" in e) {
    for (const part of [e.a, "b" in e ? e.b : undefined, "then" in e ? e.then : undefined, "else" in e ? e.else : undefined]) {
      if (part) checkInputs(part, inputs);
    }
  }
}

/** Pushes the value of `e` at byte offset `i`: a v128 (vector) or an f32. */
function emit(f: FunctionBuilder, e: Expr, i: number, vector: boolean): void {
  if ("input" in e) {
    f.op("local.get", e.input).op("local.get", i).op("i32.add").op(vector ? "v128.load" : "f32.load", 2, 0);
  } else if ("constant" in e) {
    if (vector) f.v128Const([e.constant, e.constant, e.constant, e.constant]);
    else f.op("f32.const", e.constant);
  } else if (e.op === "where_gt") {
    if (vector) {
      // bitselect(then, else, a > b): lanes of `then` where the mask is set
      emit(f, e.then, i, true);
      emit(f, e.else, i, true);
      emit(f, e.a, i, true);
      emit(f, e.b, i, true);
      f.op("f32x4.gt").op("v128.bitselect");
    } else {
      emit(f, e.then, i, false);
      emit(f, e.else, i, false);
      emit(f, e.a, i, false);
      emit(f, e.b, i, false);
      f.op("f32.gt").op("select");
    }
  } else if ("b" in e) {
    emit(f, e.a, i, vector);
    emit(f, e.b, i, vector);
    f.op(binary[e.op][vector ? 0 : 1]);
  } else {
    emit(f, e.a, i, vector);
    f.op(unary[e.op][vector ? 0 : 1]);
  }
}
