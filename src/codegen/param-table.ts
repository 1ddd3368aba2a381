// Params checked by a loop over a table, for models with many inputs and params. Inline
// checks cost code per param in every API function (a 1,000-layer MLP's forward was
// 780 KB); with the table, the API functions are the same size however many params the
// model has. The table is data at module level, one row per param; one runtime call
// (`takeParams`) reads each param from `values` or the held record, checks its type and
// length, and leaves the arrays of this call in a module array (`paramArgs`) that the run
// functions read, each only the params it uses. Messages are the catalog's, word for word.

import { messages } from "../diagnostics";
import { numel, type Shape } from "../ir";
import * as js from "./estree";

/** Models with more inputs and params than this take their params through the table;
 *  others check each name inline (a string switch and a bit per name). */
export const inlineCheckLimit = 16;

/** The emitted names of the table's module state and runtime. */
export const paramTableNames = ["paramTable", "paramArgs", "paramBoxes", "paramReads", "paramDepth", "takeParams", "badParam",
  "paramTypeMessage", "paramLengthMessage"] as const;

/** A catalog message as the source of a JS function of its runtime parts (no model text). */
function messageFunction(name: string, make: (...parts: string[]) => string, parts: string[]): string {
  const markers = parts.map((_, i) => String.fromCharCode(0xe000 + i));
  const pieces = make(...markers).split(/([\ue000-\ue0ff])/);
  const terms = pieces.map((p, i) => (i % 2 === 1 ? parts[p.charCodeAt(0) - 0xe000]! : JSON.stringify(p))).filter((t) => t !== '""');
  return `function ${name}(${parts.join(", ")}) {\n  return ${terms.join(" + ")};\n}`;
}

/** The runtime helpers, emitted only into modules that use the table. */
export const paramTableRuntimeSource = `
// Params checked by one loop over the model's table (models with many inputs and params).
// A row is [name, length, scalar (1: also given as a number), init kind, a, b]. This call's
// arrays go into \`args\`, in table order, once all are checked; the run functions read
// them there.
const paramReads = [];
let paramDepth = 0;
function takeParams(values, held, table, args, boxes, ArrayType) {
  // Every value is read before any is checked, into an array of this call's own (one per
  // nesting depth): a getter that calls the model again reads into the next one, and
  // \`args\` is written only once no user code can run before the kernels.
  const read = paramReads[paramDepth] ?? (paramReads[paramDepth] = table.map(() => null));
  paramDepth++;
  try {
    for (let i = 0; i < table.length; i++) {
      const name = table[i][0];
      const given = values[name];
      // A param not given (or given as undefined) is the held one.
      read[i] = given === undefined || !hasOwn.call(values, name) ? held[name] : given;
    }
  } finally {
    paramDepth--;
  }
  // The checks run no user code: the brand and length come from the intrinsic getters.
  for (let i = 0; i < table.length; i++) {
    const row = table[i];
    const v = read[i];
    read[i] = null;
    if (row[2] === 1 && typeof v === "number") {
      boxes[i][0] = v;
      args[i] = boxes[i];
      continue;
    }
    if (typedArrayTag.call(v) !== ArrayType.name) badParam(row, v, ArrayType);
    const n = typedArrayLength.call(v);
    if (n !== row[1]) {
      if (row[2] === 1) badParam(row, v, ArrayType);
      fail("E0403", paramLengthMessage(row[0], row[1], n));
    }
    args[i] = v;
  }
}
function badParam(row, v, ArrayType) {
  const expected = row[2] === 1 ? "number or a " + ArrayType.name + " of length 1" : ArrayType.name;
  fail("E0404", paramTypeMessage(row[0], expected, v === undefined ? "missing from the model's params" : describe(v)));
}
${messageFunction("paramTypeMessage", (n, e, f) => messages.E0404(n!, e!, f!), ["name", "expected", "found"])}
${messageFunction("paramLengthMessage", (n, e, f) => messages.E0403(n!, e as unknown as number, f as unknown as number), ["name", "expected", "found"])}
`;

/** A param's table row: name, length, scalar flag and initialiser (see `initialise`). */
export function paramRow(name: string, shape: Shape, init: readonly [number, number, number]): js.Expression {
  const length = Math.max(numel(shape as number[]), 0);
  return js.array([js.str(name), js.num(length), js.num(shape.length === 0 ? 1 : 0), ...init.map(js.num)]);
}

/** Module state: the table, the arrays of the current call and a box per scalar param. */
export function paramTableDeclarations(rows: js.Expression[], arrayType: "F"): js.Statement[] {
  return [
    js.withComment(js.declare("const", "paramTable", js.array(rows)),
      "Each param: [name, length, scalar, init kind, a, b]; takeParams checks them in one loop."),
    js.declare("const", "paramArgs", js.call(js.member(js.id("paramTable"), "map"), js.arrow([], js.nil()))),
    js.declare("const", "paramBoxes", js.call(js.member(js.id("paramTable"), "map"),
      js.arrow(["row"], js.conditional(js.binary("===", js.index("row", js.num(2)), js.num(1)), js.newExpr(arrayType, js.num(1)), js.nil())))),
  ];
}

/** `createParams`' body after the seed check: every row initialised, in table order. */
export function paramTableCreate(arrayType: "F"): js.Statement[] {
  // Object.fromEntries defines own properties: a param named __proto__ stays a param.
  const row = (k: number) => js.index("row", js.num(k));
  const init = js.call("initialise", js.newExpr(arrayType, row(1)), row(3), row(4), row(5), js.id("random"));
  return [
    js.declare("const", "random", js.call("makeRandom", js.id("seed"))),
    js.ret(js.call(js.member("Object", "fromEntries"), js.call(js.member(js.id("paramTable"), "map"), js.arrow(["row"], js.array([row(0), init]))))),
  ];
}

/** The statement that checks and takes every param for one call. */
export function takeParamsStatement(): js.Statement {
  return js.stmt(js.call("takeParams", js.id("values"), js.id("params"), js.id("paramTable"), js.id("paramArgs"), js.id("paramBoxes"), js.id("F")));
}

/** A param of the current call, as the run functions read it. */
export function paramArg(index: number): js.Expression {
  return js.index("paramArgs", js.num(index));
}
