// IR -> Graphviz DOT (`gradc graph`): one box per node reachable from the roots, labelled
// with its model name, op and shape, edges from each input to its user. With gradients,
// the nodes only the gradient uses sit in a shaded cluster, and a dashed edge joins each
// forward node `x` to its gradient `d_x`. Node ids follow topological order, so the same
// graph always prints the same text.

import { formatShape, topoSort, type AttrValue, type Node } from "../ir";
import { formatNumber } from "../syntax";
import type { NamedNode } from "./text";

const gradientFill = `style="rounded,filled", fillcolor="#fde0dd"`;
const gradientLink = `style=dashed, color="#c51b8a", arrowhead=empty, constraint=false`;

export function printDot(forward: readonly NamedNode[], gradients: readonly NamedNode[] = []): string {
  const forwardOrder = topoSort(forward.map((r) => r.node));
  const inForward = new Set(forwardOrder);
  const gradientOnly = topoSort(gradients.map((r) => r.node)).filter((n) => !inForward.has(n));
  const ids = new Map<Node, string>();
  for (const n of [...forwardOrder, ...gradientOnly]) ids.set(n, `n${ids.size}`);

  const rootNames = new Map<Node, string[]>();
  for (const r of [...forward, ...gradients]) {
    const names = rootNames.get(r.node) ?? [];
    if (!names.includes(r.name)) names.push(r.name);
    rootNames.set(r.node, names);
  }
  const statement = (n: Node) => `${ids.get(n)!} [${nodeAttributes(n, rootNames.get(n) ?? [], !inForward.has(n))}];`;

  const lines = ["digraph gradc {", `  node [fontname="Helvetica", fontsize=10, shape=box, style=rounded];`, `  edge [color="#555555"];`];
  for (const n of forwardOrder) lines.push(`  ${statement(n)}`);
  if (gradientOnly.length > 0) {
    lines.push("  subgraph cluster_grad {", `    label="gradient"; style=dashed; color="#c51b8a"; fontname="Helvetica";`);
    for (const n of gradientOnly) lines.push(`    ${statement(n)}`);
    lines.push("  }");
  }
  for (const n of [...forwardOrder, ...gradientOnly]) {
    for (const i of n.inputs) lines.push(`  ${ids.get(i)!} -> ${ids.get(n)!};`);
  }
  for (const [from, to] of gradientLinks(forward, gradients, forwardOrder, gradientOnly, rootNames)) {
    lines.push(`  ${ids.get(from)!} -> ${ids.get(to)!} [${gradientLink}];`);
  }
  lines.push("}");
  return lines.map((l) => `${l}\n`).join("");
}

/** Names a node goes by: its model name (or input name) and any root names. */
function namesOf(n: Node, roots: readonly string[]): string[] {
  const own = n.name ?? (n.op.kind === "source" && typeof n.attrs.name === "string" ? n.attrs.name : undefined);
  return own === undefined || roots.includes(own) ? [...roots] : [own, ...roots];
}

/** Pairs (x, d_x): forward nodes and the gradient nodes named after them. */
function gradientLinks(
  forward: readonly NamedNode[], gradients: readonly NamedNode[], forwardOrder: readonly Node[],
  gradientOnly: readonly Node[], rootNames: ReadonlyMap<Node, string[]>,
): [Node, Node][] {
  const byName = new Map<string, Node>();
  for (const n of forwardOrder) for (const name of namesOf(n, [])) if (!byName.has(name)) byName.set(name, n);
  for (const r of forward) if (!byName.has(r.name)) byName.set(r.name, r.node);
  const links: [Node, Node][] = [];
  const seen = new Set<string>();
  const candidates = [...gradients.map((r) => r.node), ...gradientOnly];
  for (const g of candidates) {
    for (const name of namesOf(g, rootNames.get(g) ?? [])) {
      const x = name.startsWith("d_") ? byName.get(name.slice(2)) : undefined;
      const key = x ? `${x.id}:${g.id}` : "";
      if (!x || x === g || seen.has(key)) continue;
      seen.add(key);
      links.push([x, g]);
    }
  }
  return links;
}

function nodeAttributes(n: Node, roots: readonly string[], gradient: boolean): string {
  const lines = [...namesOf(n, roots), describeOp(n), n.shape.length === 0 ? "scalar" : formatShape(n.shape)];
  const attrs = [`label="${lines.map(escape).join("\\n")}"`];
  if (n.op.kind === "source") attrs.push(`shape=${n.attrs.role === "param" ? "box3d" : n.op.name === "input" ? "box" : "plaintext"}`);
  if (gradient) attrs.push(gradientFill);
  if (roots.length > 0) attrs.push("peripheries=2");
  return attrs.join(", ");
}

/** The op and its defining attributes (`sum axes=[0]`, `const 2`, `param`). */
function describeOp(n: Node): string {
  if (n.op.kind === "source" && typeof n.attrs.role === "string") return n.attrs.role;
  if (n.op.kind === "source" && typeof n.attrs.value === "number") return `${n.op.name} ${formatNumber(n.attrs.value)}`;
  if (n.op.print?.kind === "builtin") {
    // the built-in it is written as (conv2d, conv_transpose1d...), with its non-default arguments
    const { fn, kwargs } = n.op.print.spell(n);
    return [fn, ...kwargs.map(([k, v]) => `${k}=${formatAttr(v)}`)].join(" ");
  }
  const attrs = Object.keys(n.attrs)
    .filter((k) => k !== "shape" && n.attrs[k] !== null)
    .map((k) => `${k}=${formatAttr(n.attrs[k]!)}`);
  return [n.op.name, ...attrs].join(" ");
}

function formatAttr(v: AttrValue): string {
  if (Array.isArray(v)) return `[${v.map(formatAttr).join(", ")}]`;
  return typeof v === "number" ? formatNumber(v) : String(v);
}

/** A DOT double-quoted string body: quotes and backslashes escaped, newlines as `\n`. */
function escape(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\r?\n/g, "\\n");
}
