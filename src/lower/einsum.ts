// einsum, lowered to primitives the schedule already fuses (opt_einsum's path): a diagonal
// is a strided slice of the flattened axis pair; labels nothing else needs are summed
// first; two operands contract with one batched matmul ([...batch, M, K] @ [...batch, K,
// N], labels merged by reshape, ordered by transposes) or, with nothing to contract, a
// broadcast multiply; more operands contract pairwise, cheapest pair first. Every mistake
// in the subscripts is located in the string.

import { fail, span as spanOf, type Span } from "../diagnostics";
import { broadcastShape, dimProduct, formatShape, type Dim, type Node } from "../ir";
import type { Builder } from "../ops";

/** An operand with one distinct label per axis. */
interface Labelled {
  node: Node;
  labels: string[];
}

interface Term {
  labels: string[];
  /** Where the `...` is among the labels, if anywhere. */
  ellipsis: number | undefined;
  /** Offset of each label's character in the string (for errors). */
  at: number[];
  start: number;
  end: number;
}

/** einsum("bhqd,bhkd->bhqk", q, k): `text` is the string's content, `where` its span
 *  (quotes included), `args` the operand nodes and `argSpans` their spans. */
export function lowerEinsum(b: Builder, text: string, where: Span, args: readonly Node[], argSpans: readonly Span[]): Node {
  const at = (from: number, to = from + 1) => spanOf(where.source, where.start + 1 + from, where.start + 1 + Math.max(to, from + 1));
  const arrow = text.indexOf("->");
  if (text.indexOf("->", arrow + 1) >= 0 && arrow >= 0) fail("E0225", at(text.indexOf("->", arrow + 1), text.indexOf("->", arrow + 1) + 2), "`->` may appear only once");
  const inputText = arrow >= 0 ? text.slice(0, arrow) : text;
  const terms = parseTerms(inputText, 0, at);
  const output = arrow >= 0 ? parseTerms(text.slice(arrow + 2), arrow + 2, at) : undefined;
  if (output && output.length !== 1) fail("E0225", at(arrow + 2, text.length), "the output after `->` is one list of labels, without commas");
  if (terms.length !== args.length) {
    fail("E0225", where, `the subscripts name ${terms.length} operand${terms.length === 1 ? "" : "s"}, but ${args.length} ${args.length === 1 ? "was" : "were"} given`);
  }

  // Each operand's axes: explicit labels, and `...` standing for the leading dims left.
  const ellipsisRank = Math.max(0, ...terms.map((t, i) => (t.ellipsis === undefined ? 0 : args[i]!.shape.length - t.labels.length)));
  const size = new Map<string, Dim>();
  const first = new Map<string, { term: number; axis: number }>();
  const operands = terms.map((t, i): Labelled => {
    const x = args[i]!;
    const explicit = t.labels.length;
    if (t.ellipsis === undefined ? x.shape.length !== explicit : x.shape.length < explicit) {
      fail("E0225", at(t.start, t.end), `operand ${i + 1} has shape ${formatShape(x.shape)}, rank ${x.shape.length}, but its subscripts \`${inputText.slice(t.start, t.end)}\` name ${explicit} ax${explicit === 1 ? "is" : "es"}${t.ellipsis === undefined ? "" : " or more"}`);
    }
    const extra = x.shape.length - explicit;
    // Ellipsis axes are labelled by their position from the right (`.0` is the last),
    // so they align as NumPy broadcasting aligns them.
    const dots = Array.from({ length: extra }, (_, k) => `.${extra - 1 - k}`);
    const labels = t.ellipsis === undefined ? t.labels : [...t.labels.slice(0, t.ellipsis), ...dots, ...t.labels.slice(t.ellipsis)];
    labels.forEach((l, axis) => {
      const d = x.shape[axis]!;
      if (l.startsWith(".")) {
        const known = size.get(l);
        const merged = known === undefined ? d : broadcastShape([[known], [d]])?.[0];
        if (merged === undefined) fail("E0225", argSpans[i]!, `the \`...\` axes of ${formatShape(x.shape)} do not broadcast with the other operands' (${known} and ${d})`);
        size.set(l, merged);
        return;
      }
      const known = size.get(l);
      if (known !== undefined && known !== d) {
        const prev = first.get(l)!;
        const charAt = t.at[t.ellipsis !== undefined && axis >= t.ellipsis ? axis - extra : axis]!;
        fail("E0225", at(charAt), prev.term === i
          ? `label \`${l}\` is ${known} and ${d} in the same operand`
          : `label \`${l}\` is ${known} in operand ${prev.term + 1} but ${d} in operand ${i + 1}`);
      }
      if (known === undefined) { size.set(l, d); first.set(l, { term: i, axis }); }
    });
    return diagonal(b, { node: x, labels }, at, t);
  });

  // The output labels: as written, or NumPy's implicit form (the `...` axes, then the
  // labels used once, in alphabetical order).
  const dots = Array.from({ length: ellipsisRank }, (_, k) => `.${ellipsisRank - 1 - k}`);
  let out: string[];
  if (output) {
    const o = output[0]!;
    o.labels.forEach((l, k) => {
      if (!size.has(l)) fail("E0225", at(o.at[k]!), `output label \`${l}\` is not in any operand`);
      if (o.labels.indexOf(l) !== k) fail("E0225", at(o.at[k]!), `output label \`${l}\` appears twice`);
    });
    if (ellipsisRank > 0 && o.ellipsis === undefined) fail("E0225", at(arrow + 2, text.length), "the operands have `...` axes, so the output must place them with `...`");
    out = o.ellipsis === undefined ? o.labels : [...o.labels.slice(0, o.ellipsis), ...dots, ...o.labels.slice(o.ellipsis)];
  } else {
    const counts = new Map<string, number>();
    for (const t of terms) for (const l of t.labels) counts.set(l, (counts.get(l) ?? 0) + 1);
    out = [...dots, ...[...counts.keys()].filter((l) => counts.get(l) === 1).sort()];
  }

  // Contract pairs greedily (opt_einsum's greedy path): each step the pair whose result
  // is smallest, keeping the labels the output or another operand still needs.
  let pending = operands.map((o, i) => sumUnneeded(b, o, needed(out, operands.filter((_, j) => j !== i))));
  while (pending.length > 1) {
    let best: { i: number; j: number; cost: number } | undefined;
    for (let i = 0; i < pending.length; i++) {
      for (let j = i + 1; j < pending.length; j++) {
        const keep = needed(out, pending.filter((_, k) => k !== i && k !== j));
        const labels = new Set([...pending[i]!.labels, ...pending[j]!.labels].filter((l) => keep.has(l)));
        const cost = [...labels].reduce((c, l) => c * estimate(size.get(l)!), 1);
        if (!best || cost < best.cost) best = { i, j, cost };
      }
    }
    const { i, j } = best!;
    const keep = needed(out, pending.filter((_, k) => k !== i && k !== j));
    const merged = contract(b, pending[i]!, pending[j]!, keep, size);
    pending = [merged, ...pending.filter((_, k) => k !== i && k !== j)];
  }
  const acc = sumUnneeded(b, pending[0]!, new Set(out));
  // Ellipsis axes of size 1 that another operand broadcasts still take the full size.
  const node = b.transpose(acc.node, out.map((l) => acc.labels.indexOf(l)));
  const full = out.map((l) => size.get(l)!);
  return b.broadcastTo(node, full);
}

/** Split "ij,jk" (or an output "ik") into terms of labels, checking every character. */
function parseTerms(text: string, offset: number, at: (from: number, to?: number) => Span): Term[] {
  const terms: Term[] = [];
  let cur: Term = { labels: [], ellipsis: undefined, at: [], start: offset, end: offset };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    const pos = offset + i;
    if (c === ",") {
      cur.end = pos;
      terms.push(cur);
      cur = { labels: [], ellipsis: undefined, at: [], start: pos + 1, end: pos + 1 };
    } else if (c === ".") {
      if (text.slice(i, i + 3) !== "...") fail("E0225", at(pos), "`.` must be part of `...`");
      if (cur.ellipsis !== undefined) fail("E0225", at(pos, pos + 3), "`...` may appear once per operand");
      cur.ellipsis = cur.labels.length;
      i += 2;
    } else if (/[A-Za-z]/.test(c)) {
      cur.labels.push(c);
      cur.at.push(pos);
    } else if (c !== " ") {
      const shown = /[!-~]/.test(c) ? `\`${c}\`` : `U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}`;
      fail("E0225", at(pos), `${shown} is not a subscript: use letters, \`,\`, \`->\` and \`...\``);
    }
  }
  cur.end = offset + text.length;
  terms.push(cur);
  return terms;
}

/** A label repeated within one operand takes the diagonal: the two axes moved last,
 *  merged, and every (n + 1)-th element kept; with a free size, the elements off the
 *  diagonal are masked to zero and the second axis summed. */
function diagonal(b: Builder, x: Labelled, at: (from: number, to?: number) => Span, t: Term): Labelled {
  for (let p = 0; p < x.labels.length; p++) {
    const q = x.labels.indexOf(x.labels[p]!, p + 1);
    if (q < 0) continue;
    const n = x.node.shape[p]!;
    if (x.node.shape[q] !== n) {
      fail("E0225", at(t.at[t.labels.lastIndexOf(x.labels[p]!)]!), `label \`${x.labels[p]}\` is ${n} and ${x.node.shape[q]} in the same operand`);
    }
    if (typeof n !== "number") {
      const shape = x.node.shape as Dim[];
      const onDiagonal = b.binary("eq", b.op("iota", [], { shape, axis: p }), b.op("iota", [], { shape, axis: q }));
      const kept = b.sum(b.where(onDiagonal, x.node, b.constant(0)), [q]);
      return diagonal(b, { node: kept, labels: x.labels.filter((_, k) => k !== q) }, at, t);
    }
    const rest = x.labels.map((_, k) => k).filter((k) => k !== p && k !== q);
    const moved = b.transpose(x.node, [...rest, p, q]);
    const lead = rest.map((k) => x.node.shape[k]!);
    const flat = b.reshape(moved, [...lead, n * n]);
    const begin = [...lead.map(() => 0), 0];
    const step = [...lead.map(() => 1), n + 1];
    const diag = b.op("slice", [flat], { begin, step, shape: [...lead, n] as Dim[] });
    return diagonal(b, { node: diag, labels: [...rest.map((k) => x.labels[k]!), x.labels[p]!] }, at, t);
  }
  return x;
}

/** A size for comparing contraction orders: free dims count as 16. */
function estimate(d: Dim): number {
  return typeof d === "number" ? d : 16;
}

/** The labels the output and the operands still to come use. */
function needed(out: readonly string[], later: readonly Labelled[]): Set<string> {
  return new Set([...out, ...later.flatMap((o) => o.labels)]);
}

/** Sum the axes whose labels nothing else needs. */
function sumUnneeded(b: Builder, x: Labelled, keep: ReadonlySet<string>): Labelled {
  const axes = x.labels.map((l, k) => (keep.has(l) ? -1 : k)).filter((k) => k >= 0);
  if (axes.length === 0) return x;
  return { node: b.sum(x.node, axes), labels: x.labels.filter((l) => keep.has(l)) };
}

/** Two operands whose shared labels are either kept (batch) or summed (contracted). */
function contract(b: Builder, x: Labelled, y: Labelled, keep: ReadonlySet<string>, size: ReadonlyMap<string, Dim>): Labelled {
  const inY = new Set(y.labels);
  const batch = x.labels.filter((l) => inY.has(l) && keep.has(l));
  const summed = x.labels.filter((l) => inY.has(l) && !keep.has(l));
  const left = x.labels.filter((l) => !inY.has(l));
  const right = y.labels.filter((l) => !x.labels.includes(l));
  const sizes = (ls: readonly string[]) => ls.map((l) => size.get(l)!);
  // Shared axes of size 1 (broadcast `...` axes) take the common size first.
  const arrange = (v: Labelled, order: readonly string[], shape: readonly Dim[]): Node =>
    b.broadcastTo(b.transpose(v.node, order.map((l) => v.labels.indexOf(l))), shape);
  if (summed.length === 0) {
    // Nothing to contract: a broadcast product in the order batch, left, right.
    const order = [...batch, ...left, ...right];
    const xs = arrange(x, [...batch, ...left], sizes([...batch, ...left]));
    const ys = arrange(y, [...batch, ...right], sizes([...batch, ...right]));
    const axes = (ls: readonly string[]) => ls.map((l) => order.indexOf(l));
    const xFull = b.broadcastTo(xs, sizes(order), axes([...batch, ...left]));
    const yFull = b.broadcastTo(ys, sizes(order), axes([...batch, ...right]));
    return { node: b.mul(xFull, yFull), labels: order };
  }
  const xs = arrange(x, [...batch, ...left, ...summed], sizes([...batch, ...left, ...summed]));
  const ys = arrange(y, [...batch, ...summed, ...right], [...sizes(batch), ...sizes(summed), ...sizes(right)]);
  const m = dimProduct(sizes(left)), k = dimProduct(sizes(summed)), n = dimProduct(sizes(right));
  const product = b.op("matmul", [b.reshape(xs, [...sizes(batch), m, k]), b.reshape(ys, [...sizes(batch), k, n])]);
  return { node: b.reshape(product, [...sizes(batch), ...sizes(left), ...sizes(right)]), labels: [...batch, ...left, ...right] };
}
