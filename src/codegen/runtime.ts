// The fixed runtime every emitted module carries: argument checks, the seeded PRNG and
// the initialisers. It is plain JS text with no model-specific part (model names reach
// the emitted code only as string literals built by codegen), parsed once with acorn
// into ESTree and spliced into each module's tree.

import { parse } from "acorn";
import { messages } from "../diagnostics";
import { maxElements } from "../ir";
import type { Statement } from "./estree";

/** A catalog message around one runtime value, as two JS string literals. */
function around(message: string): [string, string] {
  const [before, after] = message.split("\u0000") as [string, string];
  return [JSON.stringify(before), JSON.stringify(after)];
}
const [tooLargeBefore, tooLargeAfter] = around(messages.E0408("\u0000" as unknown as number));
const [outOfMemoryBefore, outOfMemoryAfter] = around(messages.E0409("\u0000" as unknown as number));
const [badSeedBefore, badSeedAfter] = around(messages.E0411("\u0000"));
const badSeedMessage = `${badSeedBefore} + seedText(seed)${badSeedAfter === '""' ? "" : ` + ${badSeedAfter}`}`;

/** Defines GradcError for standalone modules; the library passes its own class in. */
export const errorClassSource = `
class GradcError extends Error {
  constructor(errors) {
    super(errors[0].message);
    this.name = "GradcError";
    this.code = errors[0].code;
    this.errors = errors;
    this.file = "";
    this.line = 0;
    this.column = 0;
    this.rendered = "error: " + errors[0].message;
  }
}
`;

export const runtimeSource = `
const hasOwn = Object.prototype.hasOwnProperty;
function fail(code, message) {
  throw new GradcError([{ code, message }]);
}
// The typed-array brand and length, read through the intrinsic getters: an own \`length\`
// property, a subclass getter or a Proxy cannot make a short array pass a length check.
const typedArrayPrototype = Object.getPrototypeOf(Float32Array.prototype);
const typedArrayTag = Object.getOwnPropertyDescriptor(typedArrayPrototype, Symbol.toStringTag).get;
const typedArrayLength = Object.getOwnPropertyDescriptor(typedArrayPrototype, "length").get;
function describe(v) {
  if (v === null) return "null";
  const tag = typedArrayTag.call(v);
  if (tag !== undefined) return tag;
  if (Array.isArray(v)) return "a plain Array";
  if (typeof v === "object") return (v.constructor && typeof v.constructor.name === "string" ? v.constructor.name : "an object");
  return typeof v;
}
function isTyped(v, ArrayType) {
  return typedArrayTag.call(v) === ArrayType.name && v.length === typedArrayLength.call(v);
}
function badValues(values, message) {
  fail("E0404", message + describe(values));
}
function unknownValue(values, key) {
  // Inherited keys are not values; only own unknown names are an error.
  if (hasOwn.call(values, key)) fail("E0402", "unknown value \`" + key + "\`: the model has no input or param of that name");
}
function badArgument(values, name, required, missing, badType, held) {
  if (!hasOwn.call(values, name)) {
    if (required) fail("E0401", missing);
    // The held param (model.params is writable): missing, or replaced by something else.
    fail("E0404", badType + (held === undefined ? "missing from the model's params" : describe(held)));
  }
  fail("E0404", badType + describe(values[name]));
}
function scalarArg(values, name, fallback, ArrayType, missing, badType) {
  let v = fallback;
  if (hasOwn.call(values, name)) v = values[name];
  else if (fallback === null) fail("E0401", missing);
  if (typeof v !== "number" && (!isTyped(v, ArrayType) || v.length !== 1)) fail("E0404", badType + describe(v));
  return v;
}
function badLength(array, before, after) {
  fail("E0403", before + array.length + after);
}
function inferDim(length, known, before, after) {
  // An integer result (| 0) stays a small integer: no heap number per call.
  const d = (length / known) | 0;
  if (d < 1 || d * known !== length) fail("E0405", before + length + after);
  return d;
}
function grow(buffer, n, ArrayType) {
  if (buffer.length >= n) return buffer;
  if (!(n <= ${maxElements})) fail("E0408", ${tooLargeBefore} + n + ${tooLargeAfter});
  try {
    return new ArrayType(n);
  } catch (e) {
    fail("E0409", ${outOfMemoryBefore} + n + ${outOfMemoryAfter});
  }
}
function seedText(v) {
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "number" || typeof v === "boolean" || typeof v === "bigint") return String(v);
  return describe(v);
}
function checkSeed(seed) {
  // makeRandom would quietly turn "abc", null or 1.5 into some seed.
  if (typeof seed !== "number" || !Number.isSafeInteger(seed)) fail("E0411", ${badSeedMessage});
}
function freezeAll(value) {
  // meta is read-only all the way down: its lists, its descriptors and their shapes.
  if (typeof value === "object" && value !== null) {
    for (const key of Object.keys(value)) freezeAll(value[key]);
    Object.freeze(value);
  }
  return value;
}
function ownRecord(fields) {
  // A result record with a hidden class of its own. A literal \`{ gx: NaN }\` would share
  // V8's hidden class with every other module's record of the same keys, and where one of
  // those holds an array, each number stored into this one would allocate a heap number.
  function Record() {}
  Record.prototype = Object.prototype;
  const record = new Record();
  // (defined, not assigned: an output named \`__proto__\` is a field like any other)
  for (const key of Object.keys(fields)) {
    Object.defineProperty(record, key, { value: fields[key], writable: true, enumerable: true, configurable: true });
  }
  return record;
}
function makeRandom(seed) {
  let s = (seed >>> 0) ^ 0x9e3779b9;
  let spare = NaN;
  const next = () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = () => {
    if (spare === spare) { const v = spare; spare = NaN; return v; }
    let u = 0;
    while (u === 0) u = next();
    const v = next();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
  return { next, normal };
}
function initialise(array, kind, a, b, random) {
  const n = array.length;
  if (kind === 0) return array.fill(a);
  if (kind === 1) {
    const width = b - a;
    for (let i = 0; i < n; i++) array[i] = a + width * random.next();
    return array;
  }
  for (let i = 0; i < n; i++) array[i] = a + b * random.normal();
  return array;
}
`;

export function parseStatements(source: string): Statement[] {
  const program = parse(source, { ecmaVersion: 2022, sourceType: "script" }) as unknown as { body: Statement[] };
  return program.body;
}
