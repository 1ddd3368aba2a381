// Per-model build options, read from the model itself and from the import that names it.
// A model states what it needs in a comment pragma (`# gradc: dtype=f64 seed=3 size.n=64`);
// an import can override it with a query (`./xor.grad?dtype=f64&size.n=64`). Layers merge
// plugin options < pragma < query, sizes key by key. Bad values are GradcErrors that point
// at the pragma.

import { fail, span, type Source } from "../diagnostics";

export interface ModelOptions {
  sizes?: Record<string, number>;
  dtype?: "f32" | "f64";
  seed?: number;
  target?: "js" | "wasm";
}

const pragmaLine = /^[ \t]*#[ \t]*gradc:(.*)$/gm;

/** The options a model states in `# gradc: key=value ...` comment lines. */
export function readPragmas(text: string, filename: string): ModelOptions {
  const source: Source = { file: filename, text };
  const out: ModelOptions = {};
  for (const line of text.matchAll(pragmaLine)) {
    const body = line[1]!;
    const bodyStart = line.index! + line[0].length - body.length;
    for (const item of body.matchAll(/[^\s,]+/g)) {
      const start = bodyStart + item.index!;
      const where = span(source, start, start + item[0].length);
      const eq = item[0].indexOf("=");
      if (eq <= 0) fail("E0304", where, `a gradc pragma takes key=value items (dtype=f64, seed=3, size.n=64), found \`${item[0]}\``);
      setOption(out, item[0].slice(0, eq), item[0].slice(eq + 1), (detail) => fail("E0304", where, detail));
    }
  }
  return out;
}

/** The options of an import query: `dtype=f64&seed=3&size.n=64` (without the `?`). */
export function readQuery(query: string, filename: string): ModelOptions {
  const out: ModelOptions = {};
  for (const [key, value] of new URLSearchParams(query)) {
    setOption(out, key, value, (detail) => fail("E0304", undefined, `${detail} (in the import of ${filename}?${query})`));
  }
  return out;
}

/** Later layers win; sizes merge by name. */
export function mergeOptions(...layers: (ModelOptions | undefined)[]): ModelOptions {
  const out: ModelOptions = {};
  for (const layer of layers) {
    if (!layer) continue;
    if (layer.dtype !== undefined) out.dtype = layer.dtype;
    if (layer.seed !== undefined) out.seed = layer.seed;
    if (layer.target !== undefined) out.target = layer.target;
    if (layer.sizes) out.sizes = { ...out.sizes, ...layer.sizes };
  }
  return out;
}

/** Split `file?query` (a bundler id) into its parts. */
export function splitQuery(id: string): [string, string] {
  const q = id.indexOf("?");
  return q < 0 ? [id, ""] : [id.slice(0, q), id.slice(q + 1)];
}

function setOption(out: ModelOptions, key: string, value: string, bad: (detail: string) => never): void {
  if (key === "dtype") {
    if (value !== "f32" && value !== "f64") bad(`dtype must be f32 or f64, found \`${value}\``);
    out.dtype = value;
  } else if (key === "seed") {
    const seed = Number(value);
    if (value.trim() === "" || !Number.isInteger(seed)) bad(`seed must be an integer, found \`${value}\``);
    out.seed = seed;
  } else if (key === "target") {
    if (value !== "js" && value !== "wasm") bad(`target must be js or wasm, found \`${value}\``);
    out.target = value;
  } else if (/^sizes?\.[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
    const n = Number(value);
    if (value.trim() === "" || !Number.isInteger(n) || n < 1) bad(`${key} must be a positive integer, found \`${value}\``);
    const sizes: Record<string, number> = { ...out.sizes };
    Object.defineProperty(sizes, key.slice(key.indexOf(".") + 1), { value: n, enumerable: true, writable: true, configurable: true });
    out.sizes = sizes;
  } else {
    bad(`unknown gradc option \`${key}\`: use dtype, seed, target or size.NAME`);
  }
}
