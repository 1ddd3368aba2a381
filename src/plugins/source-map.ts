// Source maps for emitted modules, without a dependency: a base64 VLQ codec and the map
// from kernels back to model lines. Every kernel the codegen emits opens with a comment
// `// name [shape]  (file:line: source line)`; each generated line from that comment to the
// next kernel (or the end of the function) maps to the start of that model line, so a stack
// trace or a profile entry inside a kernel points at the model statement that produced it.

export interface SourceMap {
  version: 3;
  file?: string;
  sources: string[];
  sourcesContent: string[];
  names: string[];
  mappings: string;
}

/** One mapping: generated column, source index, source line and source column (all 0-based). */
export type Segment = [number, number, number, number];

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const digitOf = new Map([...alphabet].map((c, i) => [c, i]));

function encodeVlq(value: number): string {
  let v = value < 0 ? (-value << 1) | 1 : value << 1;
  let out = "";
  do {
    let digit = v & 31;
    v >>>= 5;
    if (v > 0) digit |= 32;
    out += alphabet[digit];
  } while (v > 0);
  return out;
}

/** `mappings` text of generated lines, each a list of segments sorted by column. */
export function encodeMappings(lines: Segment[][]): string {
  let source = 0, line = 0, column = 0;
  return lines.map((segments) => {
    let generated = 0;
    return segments.map(([g, s, l, c]) => {
      const text = encodeVlq(g - generated) + encodeVlq(s - source) + encodeVlq(l - line) + encodeVlq(c - column);
      generated = g; source = s; line = l; column = c;
      return text;
    }).join(",");
  }).join(";");
}

/** The inverse of encodeMappings (segments without a source are dropped). */
export function decodeMappings(mappings: string): Segment[][] {
  let source = 0, line = 0, column = 0;
  return mappings.split(";").map((lineText) => {
    let generated = 0;
    const out: Segment[] = [];
    for (const segment of lineText.split(",")) {
      if (segment === "") continue;
      const fields: number[] = [];
      let value = 0, shift = 0;
      for (const c of segment) {
        const digit = digitOf.get(c);
        if (digit === undefined) throw new Error(`bad source map character ${JSON.stringify(c)}`);
        value += (digit & 31) << shift;
        if (digit & 32) { shift += 5; continue; }
        fields.push(value & 1 ? -(value >>> 1) : value >>> 1);
        value = 0; shift = 0;
      }
      generated += fields[0]!;
      if (fields.length < 4) continue;
      source += fields[1]!; line += fields[2]!; column += fields[3]!;
      out.push([generated, source, line, column]);
    }
    return out;
  });
}

/** The original position of a generated one (0-based line and column), if mapped. */
export function originalPosition(map: { mappings: string; sources: string[] }, line: number, column: number): { source: string; line: number; column: number } | undefined {
  const segments = decodeMappings(map.mappings)[line] ?? [];
  let best: Segment | undefined;
  for (const s of segments) if (s[0] <= column) best = s;
  best ??= segments[0];
  return best ? { source: map.sources[best[1]]!, line: best[2], column: best[3] } : undefined;
}

export interface KernelMapOptions {
  /** The file name the model was compiled under (it appears in the kernel comments). */
  filename: string;
  /** The source file named in the map, and its text. */
  source: string;
  sourceContent: string;
  /** The name under which the emitted code itself is the map's second source: lines
   *  outside kernels (argument checks, the runtime) map there, one to one, so a stack
   *  trace through them names the generated line rather than the nearest kernel above. */
  generated: string;
}

/** The map of an emitted module: kernel statements -> their model line; everything else
 *  -> itself. Model lines are lines of `sourceContent` (inline models are compiled padded
 *  to their place in the host). */
export function kernelSourceMap(emitted: string, options: KernelMapOptions): SourceMap {
  const lines = emitted.split("\n");
  const original = options.sourceContent.split("\n");
  const marker = `  (${options.filename}:`;
  const firstColumn = (text: string) => Math.max(0, text.search(/\S/));
  /** The model line (0-based) a kernel comment names, if it is one of ours. */
  const kernelLine = (text: string): number | undefined => {
    const at = /^\s*\/\/ /.test(text) ? text.indexOf(marker) : -1;
    if (at < 0) return undefined;
    const line = Number(/^(\d+):/.exec(text.slice(at + marker.length))?.[1]);
    return Number.isInteger(line) && line >= 1 && line <= original.length ? line - 1 : undefined;
  };
  const out: Segment[][] = [];
  let current: number | undefined;
  lines.forEach((text, i) => {
    const comment = kernelLine(text);
    if (comment !== undefined) current = comment;
    else if (/^\S/.test(text)) current = undefined; // a top-level line ends the kernels of a function
    // A block opener right before a kernel comment belongs to that kernel.
    const target = /^\s*\{$/.test(text) && i + 1 < lines.length ? kernelLine(lines[i + 1]!) ?? current : current;
    const column = firstColumn(text);
    if (text.trim() === "") out.push([]);
    else if (target === undefined) out.push([[column, 1, i, column]]);
    else out.push([[column, 0, target, firstColumn(original[target]!)]]);
  });
  return {
    version: 3,
    sources: [options.source, options.generated],
    sourcesContent: [options.sourceContent, emitted],
    names: [],
    mappings: encodeMappings(out),
  };
}

/** Chain two maps: `outer` maps C -> B, `inner` maps B -> A; the result maps C -> A. */
export function composeMaps(outer: SourceMap, inner: SourceMap): SourceMap {
  const innerLines = decodeMappings(inner.mappings);
  const lines = decodeMappings(outer.mappings).map((segments) => {
    const out: Segment[] = [];
    for (const [g, , l, c] of segments) {
      const candidates = innerLines[l] ?? [];
      let best: Segment | undefined;
      for (const s of candidates) if (s[0] <= c) best = s;
      if (best) out.push([g, best[1], best[2], best[3]]);
    }
    return out;
  });
  return { version: 3, sources: inner.sources, sourcesContent: inner.sourcesContent, names: [], mappings: encodeMappings(lines) };
}
