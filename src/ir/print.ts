// The IR text form, for debugging and golden files, JAX-style with types on binders:
// one line per node in topological order, `%4: [8, 16] = mul %2, %3  # h1`. Nodes are
// numbered in print order (not by id), so the text depends only on the graph's structure.
// Constants print inline as their value wherever they are used; graph inputs print as
// `input "x" (param)`; attributes print compactly (`{axes=[0]}`); the roots end the text as
// `return %7, %9`.

import { topoSort, type AttrValue, type Attrs, type Node } from "./graph";
import { formatShape } from "./shape";

/** The IR of everything `roots` depend on, one node per line, then `return <roots>`. */
export function printIR(roots: readonly Node[]): string {
  const numbers = new Map<Node, number>();
  const operand = (n: Node): string => (isConst(n) ? formatValue(n.attrs.value!) : `%${numbers.get(n)!}`);
  const lines: string[] = [];
  for (const node of topoSort(roots)) {
    if (isConst(node)) continue;
    const k = numbers.size;
    numbers.set(node, k);
    let rhs: string;
    if (node.op.name === "input") {
      rhs = `input ${JSON.stringify(node.attrs.name)} (${String(node.attrs.role)})`;
    } else {
      rhs = node.op.name;
      if (node.inputs.length > 0) rhs += ` ${node.inputs.map(operand).join(", ")}`;
      const attrs = formatAttrs(node);
      if (attrs) rhs += ` ${attrs}`;
    }
    const note = node.name !== undefined && node.op.name !== "input" ? `  # ${node.name}` : "";
    lines.push(`%${k}: ${formatShape(node.shape)} = ${rhs}${note}`);
  }
  lines.push(`return ${roots.map(operand).join(", ")}`);
  return lines.map((l) => `${l}\n`).join("");
}

function isConst(n: Node): boolean {
  return n.op.name === "const";
}

/** `{axes=[0], keepdims=true}`; a `shape` attribute equal to the node's own shape is
 *  already on the binder and is left out. */
function formatAttrs(node: Node): string {
  const attrs: Attrs = node.attrs;
  const parts: string[] = [];
  for (const key of Object.keys(attrs)) {
    const v = attrs[key]!;
    if (key === "shape" && Array.isArray(v) && formatValue(v) === formatShape(node.shape)) continue;
    parts.push(`${key}=${formatValue(v)}`);
  }
  return parts.length > 0 ? `{${parts.join(", ")}}` : "";
}

/** Exact and compact: -0, NaN and infinities stay distinct; dim names print bare inside
 *  lists (shapes), other strings quoted. */
function formatValue(v: AttrValue, inList = false): string {
  if (typeof v === "number") return Object.is(v, -0) ? "-0" : String(v);
  if (typeof v === "string") return inList && /^[A-Za-z_][A-Za-z0-9_]*$/.test(v) ? v : JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map((x) => formatValue(x, true)).join(", ")}]`;
  return String(v);
}
