// The wasm target: the same schedule printed by the same emitter (../module.ts), with every
// run function and kernel function translated into one WebAssembly module inside the
// emitted one (translate.ts), large matmuls on SIMD128 register tiles (matmul.ts,
// select.ts), and params, inputs and the arena in its memory (build.ts). What it cannot
// run yet is refused up front with E0308 at the op, never compiled to something else.

import { fail } from "../../diagnostics";
import { topoSort, type Node } from "../../ir";
import type { ElementwiseDef } from "../../ops";
import { emitSource } from "../index";
import * as js from "../estree";
import type { CodegenOptions, ModelIR } from "../model";
import { mathArity } from "./math";
import { translateFunction, Untranslatable, type FunctionType } from "./translate";
import { helperSignature } from "./build";
import { parse } from "acorn";

export { Bytes, FunctionBuilder, ModuleBuilder, valType, type Opcode, type ValType } from "./encode";
export { addMatmul, type MatmulShape } from "./matmul";
export { addColumnSum, addMap, type Expr } from "./elementwise";

/** The module text of `model` for the wasm target; refuses (E0308) what it cannot run. */
export function emitWasmSource(model: ModelIR, options: CodegenOptions): string {
  if (options.dtype === "f64") fail("E0308", undefined, "an f64 model", "its kernels are f32 only");
  const roots = [...model.outputs, ...(model.objective ? [model.objective] : []), ...(model.grads ?? []), ...(model.forwardObjective ? [model.forwardObjective] : [])];
  const first = firstUncovered(roots);
  if (first) fail("E0308", first.span, `\`${first.op.name}\``, "it has no wasm kernel for this op");
  try {
    return emitSource(model, { ...options, target: "wasm" });
  } catch (e) {
    if (e instanceof Untranslatable) fail("E0308", undefined, "this model", e.message);
    throw e;
  }
}

/** The op, earliest in the source, that the target cannot run. */
function firstUncovered(roots: readonly Node[]): Node | undefined {
  let first: Node | undefined;
  const note = (n: Node | undefined) => { if (n && (!first || n.id < first.id)) first = n; };
  for (const n of topoSort(roots)) {
    if (n.body) {
      // A scan runs when its cell does (its scratch arrays sized by free dims are placed
      // by layout() like the arena's).
      note(firstUncovered(n.body.results));
      if (!runs(n)) note(n);
      continue;
    }
    if (!runs(n)) note(n);
  }
  return first;
}

const probed = new Map<string, boolean>();

/** Whether the target runs `n`: an op that says so in the op table (OpDef.wasm), or an
 *  elementwise op whose one-element expression (and runtime helper) translates. */
function runs(n: Node): boolean {
  if (n.op.kind !== "elementwise") return n.op.wasm === true;
  const def = n.op as ElementwiseDef;
  // A constant operand reaches the template as a literal (pow(x, 2) is x * x).
  const constants = n.inputs.map(constantOf);
  const key = `${def.name}(${constants.map((c) => (c === undefined ? "_" : String(c))).join(",")})`;
  let ok = probed.get(key);
  if (ok === undefined) {
    // out[0] = emit(a[0], b[0], ...), translated on its own
    const args = n.inputs.map((_, i) => (constants[i] === undefined ? js.index(`a${i}`, js.num(0)) : js.num(constants[i]!)));
    const body = [js.stmt(js.assign(js.index("out", js.num(0)), def.emit(args)))];
    const math = new Map(Object.keys(mathArity).map((m) => [m, 0]));
    const functions = new Map<string, FunctionType>();
    try {
      if (def.helper) {
        // the helper (erf, ...) translates as the module will translate it (build.ts)
        const decl = (parse(def.helper.source, { ecmaVersion: 2022 }) as unknown as { body: { params: { name: string }[]; body: { body: js.Statement[] } }[] }).body[0]!;
        const params = decl.params.map((p) => p.name);
        const signature = helperSignature(params.length);
        translateFunction(params, decl.body.body, { arrays: new Map(), cells: new Map(), functions: new Map(), math }, signature);
        functions.set(def.helper.name, { index: 0, arity: params.length, ...signature });
      }
      translateFunction(["out", ...n.inputs.map((_, i) => `a${i}`)], body, { arrays: new Map(), cells: new Map(), functions, math });
      ok = true;
    } catch (e) {
      if (!(e instanceof Untranslatable)) throw e;
      ok = false;
    }
    probed.set(key, ok);
  }
  return ok;
}

/** The value of a node that is one constant everywhere (a `const` seen through views). */
function constantOf(n: Node): number | undefined {
  let x = n;
  while (x.op.kind === "view") x = x.inputs[0]!;
  return x.op.name === "const" ? (x.attrs.value as number) : undefined;
}
