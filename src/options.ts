// The public API's options, checked before any work. `compile`, `check`, `gradcheck` and
// the bundler plugin take a plain object whose every key is an option they know (a
// misspelt one is an error with a suggestion, never silently ignored) and whose values
// have the right type and range. The values of `sizes` are checked again by lowering, at
// the `dim` they bind, where the error can point into the source.

import { diagnostic, fail, failWith } from "./diagnostics";
import { nearest } from "./lower/suggest";

/** The option names of each entry point, in the order the messages list them. */
export const optionNames = {
  // check also takes compile's options, so one options object serves both; dtype, seed
  // and target do not change what check reports.
  check: ["filename", "sizes", "dtype", "seed", "target"],
  compile: ["filename", "sizes", "dtype", "seed", "target"],
  source: ["filename", "sizes", "dtype", "seed", "target", "format"],
  gradcheck: ["filename", "sizes", "seed", "points", "tolerance", "values", "dims", "maxElements"],
  plugin: ["sizes", "dtype", "seed", "target", "inline", "dts", "root"],
} as const;

/** A value as a message shows it: `"abc"`, `1.5`, `null`, `an array`. */
export function showValue(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "number" || typeof v === "boolean" || typeof v === "bigint" || v === undefined || v === null) return String(v);
  if (typeof v === "function") return "a function";
  if (typeof v === "symbol") return "a symbol";
  return Array.isArray(v) ? "an array" : "an object";
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Checks `options` of entry point `api`; returns it as a record (`{}` for undefined). */
export function validateOptions(api: keyof typeof optionNames, options: unknown): Record<string, unknown> {
  if (options === undefined) return {};
  if (!isRecord(options)) fail("E0304", undefined, `the options must be an object like { filename: "model.grad" }, but are ${showValue(options)}`);
  const known: readonly string[] = optionNames[api];
  for (const key of Object.keys(options)) {
    // `{ ...options, seed: undefined }` is the common way to leave an option out
    if (known.includes(key) || options[key] === undefined) continue;
    const near = nearest(key, known);
    const d = diagnostic("E0305", undefined, key, known.map((k) => `\`${k}\``).join(", "));
    failWith(near ? { ...d, hint: `did you mean \`${near}\`?` } : d);
  }
  const { filename, sizes, dtype, seed } = options;
  if (filename !== undefined && typeof filename !== "string") fail("E0304", undefined, `filename must be a string, but is ${showValue(filename)}`);
  if (sizes !== undefined && !isRecord(sizes)) fail("E0304", undefined, `sizes must be an object like { n: 64 }, but is ${showValue(sizes)}`);
  if (dtype !== undefined && dtype !== "f32" && dtype !== "f64") fail("E0303", undefined, showValue(dtype));
  if (seed !== undefined && !Number.isSafeInteger(seed)) fail("E0304", undefined, `seed must be an integer, but is ${showValue(seed)}`);
  if (options.target !== undefined && options.target !== "js" && options.target !== "wasm") fail("E0307", undefined, showValue(options.target));
  if (api === "plugin") {
    for (const name of ["inline", "dts"] as const) {
      const v: unknown = options[name];
      if (v !== undefined && typeof v !== "boolean") fail("E0304", undefined, `${name} must be true or false, but is ${showValue(v)}`);
    }
    if (options.root !== undefined && typeof options.root !== "string") fail("E0304", undefined, `root must be a folder name, but is ${showValue(options.root)}`);
  }
  if (api === "gradcheck") {
    for (const name of ["values", "dims"] as const) {
      const v: unknown = options[name];
      if (v !== undefined && !isRecord(v)) fail("E0304", undefined, `${name} must be an object keyed by name, but is ${showValue(v)}`);
    }
  }
  return options;
}

/** gradcheck's `dims`: each a free dim of the model (a name in its descriptors' shapes),
 *  each a positive integer. */
export function validateDims(dims: Record<string, unknown> | undefined, meta: { [k in "inputs" | "params" | "outputs"]: readonly { shape: readonly (number | string)[] }[] }): void {
  if (dims === undefined) return;
  const free = new Set<string>();
  for (const list of [meta.inputs, meta.params, meta.outputs]) {
    for (const { shape } of list) {
      for (const d of shape) if (typeof d === "string") for (const name of d.match(/[A-Za-z_][A-Za-z0-9_]*/g) ?? []) free.add(name);
    }
  }
  for (const [name, value] of Object.entries(dims)) {
    if (!free.has(name)) {
      const listed = free.size === 0 ? "it has none" : `its free dims are ${[...free].map((n) => `\`${n}\``).join(", ")}`;
      const near = name.length > 1 ? nearest(name, free) : undefined;
      const d = diagnostic("E0306", undefined, name, listed);
      failWith(near ? { ...d, hint: `did you mean \`${near}\`?` } : d);
    }
    if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
      fail("E0304", undefined, `dims: \`${name}\` must be a positive integer, but is ${showValue(value)}`);
    }
  }
}
