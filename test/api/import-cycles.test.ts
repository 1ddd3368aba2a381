// src/ has no import cycles: walks the import graph of src/**/*.ts (value imports and
// re-exports; `import type`, `export type` and imports naming only types are erased by
// TypeScript and do not count) and fails naming the modules of any cycle it finds.

import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const src = new URL("../../src/", import.meta.url).pathname;

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? tsFiles(path) : name.endsWith(".ts") ? [path] : [];
  });
}

const clause = String.raw`(?:type\s+)?(\{[^}]*\}|\*(?:\s+as\s+\w+)?|\w+(?:\s*,\s*(?:\{[^}]*\}|\*\s+as\s+\w+))?)`;
const fromImport = new RegExp(String.raw`^\s*(import|export)\s+(type\s+)?${clause}\s*from\s*["'](\.[^"']*)["']`, "gm");
const bareImport = /^\s*import\s*["'](\.[^"']*)["']/gm;

/** Whether an import clause names types only (`{ type A, type B }`). */
function typeOnly(keywordType: string | undefined, names: string): boolean {
  if (keywordType) return true;
  if (!names.startsWith("{")) return false;
  const items = names.slice(1, -1).split(",").map((s) => s.trim()).filter(Boolean);
  return items.length > 0 && items.every((s) => s.startsWith("type "));
}

function resolveModule(from: string, spec: string): string | undefined {
  const base = resolve(dirname(from), spec);
  for (const path of [`${base}.ts`, join(base, "index.ts"), base]) if (existsSync(path) && statSync(path).isFile()) return path;
  return undefined;
}

/** Module -> the modules it imports values from (load-time edges). */
export function importGraph(files: string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const text = readFileSync(file, "utf8");
    const deps = new Set<string>();
    for (const m of text.matchAll(fromImport)) {
      if (typeOnly(m[2], m[3]!)) continue;
      const target = resolveModule(file, m[4]!);
      if (target) deps.add(target);
    }
    for (const m of text.matchAll(bareImport)) {
      const target = resolveModule(file, m[1]!);
      if (target) deps.add(target);
    }
    graph.set(file, [...deps]);
  }
  return graph;
}

/** One cycle per strongly connected component of more than one module (or a self-import),
 *  as the path around it; iterative Tarjan. */
export function cycles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let next = 0;
  for (const start of graph.keys()) {
    if (index.has(start)) continue;
    const work: { v: string; i: number }[] = [{ v: start, i: 0 }];
    index.set(start, next); low.set(start, next++); stack.push(start); onStack.add(start);
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      const deps = graph.get(frame.v) ?? [];
      if (frame.i < deps.length) {
        const w = deps[frame.i++]!;
        if (!index.has(w)) {
          index.set(w, next); low.set(w, next++); stack.push(w); onStack.add(w);
          work.push({ v: w, i: 0 });
        } else if (onStack.has(w)) low.set(frame.v, Math.min(low.get(frame.v)!, index.get(w)!));
        continue;
      }
      work.pop();
      if (work.length > 0) { const up = work[work.length - 1]!.v; low.set(up, Math.min(low.get(up)!, low.get(frame.v)!)); }
      if (low.get(frame.v) !== index.get(frame.v)) continue;
      const component: string[] = [];
      let w: string;
      do { w = stack.pop()!; onStack.delete(w); component.push(w); } while (w !== frame.v);
      if (component.length > 1 || (graph.get(frame.v) ?? []).includes(frame.v)) found.push(pathAround(graph, component));
    }
  }
  return found;
}

/** A closed path through a component, from its first module back to it (breadth-first). */
function pathAround(graph: Map<string, string[]>, component: string[]): string[] {
  const members = new Set(component);
  const start = [...component].sort()[0]!;
  const parent = new Map<string, string>();
  const queue = [start];
  for (let k = 0; k < queue.length; k++) {
    const v = queue[k]!;
    for (const w of graph.get(v) ?? []) {
      if (!members.has(w)) continue;
      if (w === start) {
        const path = [v];
        for (let u = v; u !== start; u = parent.get(u)!) path.push(parent.get(u)!);
        return [...path.reverse(), start];
      }
      if (!parent.has(w)) { parent.set(w, v); queue.push(w); }
    }
  }
  return component;
}

describe("the import graph of src/", () => {
  const files = tsFiles(src);
  const graph = importGraph(files);

  it("is read: every module is a node, and the API's imports are found", () => {
    expect(files.length).toBeGreaterThan(50);
    const index = join(src, "index.ts");
    expect(graph.get(index)).toEqual(expect.arrayContaining([join(src, "lower/index.ts"), join(src, "grad-tag.ts")]));
    // a type-only import is not an edge: grad-tag.ts names the API's types only
    expect(graph.get(join(src, "grad-tag.ts"))).not.toContain(index);
  });

  it("finds a cycle when there is one (the checker itself)", () => {
    const a = join(src, "a.ts"), b = join(src, "b.ts"), c = join(src, "c.ts");
    expect(cycles(new Map([[a, [b]], [b, [c]], [c, [a]]]))).toEqual([[a, b, c, a]]);
    expect(cycles(new Map([[a, [b]], [b, [c]], [c, []]]))).toEqual([]);
  });

  it("has no cycles", () => {
    const found = cycles(graph).map((cycle) => cycle.map((f) => relative(src, f)).join(" -> "));
    expect(found).toEqual([]);
  });
});
