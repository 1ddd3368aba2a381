// IR -> Graphviz DOT: deterministic, every reachable node once, every root named, gradient
// nodes drawn apart and linked to their forward nodes, labels escaped.

import { describe, expect, it } from "vitest";
import { Graph, topoSort } from "../../src/ir";
import { Builder } from "../../src/ops";
import { printDot } from "../../src/print";
import { gradientsOf, lower, xorSource } from "./helpers";

function xorDot(withGradients: boolean): string {
  const p = lower(xorSource);
  const forward = [{ name: "y_out", node: p.outputs[0]!.node }, { name: "loss", node: p.objective!.node }];
  return printDot(forward, withGradients ? gradientsOf(p) : undefined);
}

/** Node ids declared (`n3 [label=...]`) and edges (`n1 -> n3`) of a printed graph. */
function parseDot(dot: string) {
  const nodes = [...dot.matchAll(/^\s*(n\d+) \[label="/gm)].map((m) => m[1]!);
  const edges = [...dot.matchAll(/^\s*(n\d+) -> (n\d+)( \[[^\]]*\])?;$/gm)].map((m) => ({ from: m[1]!, to: m[2]!, dashed: m[3]?.includes("dashed") ?? false }));
  return { nodes, edges };
}

describe("printDot", () => {
  it("is deterministic, across separately built graphs too", () => {
    expect(xorDot(true)).toBe(xorDot(true));
    expect(xorDot(false)).toBe(xorDot(false));
  });

  it("draws every reachable node once, with edges from inputs to users", () => {
    const p = lower(xorSource);
    const dot = printDot([{ name: "loss", node: p.objective!.node }]);
    expect(dot.startsWith("digraph gradc {\n")).toBe(true);
    expect(dot.endsWith("}\n")).toBe(true);
    const { nodes, edges } = parseDot(dot);
    const reachable = topoSort([p.objective!.node]);
    expect(nodes.length).toBe(reachable.length);
    expect(new Set(nodes).size).toBe(nodes.length);
    expect(edges.length).toBe(reachable.reduce((k, n) => k + n.inputs.length, 0));
    for (const e of edges) {
      expect(nodes).toContain(e.from);
      expect(nodes).toContain(e.to);
    }
    for (const name of ["x", "y", "m1", "b1", "m2", "b2", "h1", "y_out", "loss"]) expect(dot).toContain(`"${name}\\n`);
    expect(dot).not.toContain("cluster_grad");
  });

  it("mentions every root and sets gradient nodes apart, linked to their forward nodes", () => {
    const dot = xorDot(true);
    for (const name of ["y_out", "loss", "d_m1", "d_b1", "d_m2", "d_b2"]) expect(dot).toContain(`"${name}\\n`);
    expect(dot).toContain("subgraph cluster_grad {");
    expect(dot).toContain(`fillcolor="#fde0dd"`);
    const cluster = dot.slice(dot.indexOf("subgraph cluster_grad"), dot.indexOf("\n  }\n"));
    expect(cluster).toContain(`"d_m1\\n`);
    expect(cluster).toContain(`"d_h1\\n`);
    expect(cluster).not.toContain(`"h1\\n`);
    const label = (id: string) => new RegExp(`^\\s*${id} \\[label="([^\\\\"]*)`, "m").exec(dot)![1];
    const links = parseDot(dot).edges.filter((e) => e.dashed).map((e) => `${label(e.from)} -> ${label(e.to)}`);
    expect(links.sort()).toEqual(["b1 -> d_b1", "b2 -> d_b2", "h1 -> d_h1", "m1 -> d_m1", "m2 -> d_m2", "y_out -> d_y_out"]);
  });

  it("escapes labels", () => {
    const g = new Graph();
    const b = new Builder(g, undefined);
    const x = b.input("x", "input", [2]);
    const y = b.unary("exp", x);
    y.name = 'odd"name\\';
    const dot = printDot([{ name: "out\nline", node: y }]);
    expect(dot).toContain(String.raw`label="odd\"name\\\nout\nline\nexp\n[2]"`);
  });
});
