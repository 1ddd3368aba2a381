// NumPy basic indexing: `x[0]`, `x[:, 1:3]`, `x[..., -1]`, `x[2:, ::2]`, `x[::-1]`.
// Lowered to one slice (begin, step, size per axis) and a reshape that drops the axes
// indexed by an integer. Indices are constant integers; negative ones count from the end.

import { fail, type Span } from "../diagnostics";
import { dimSub, formatShape, mayBeNegative, type Dim, type Node } from "../ir";
import type { Builder } from "../ops";
import type { IndexItem } from "../syntax";
import { constNumber } from "./arguments";

export function lowerIndex(b: Builder, x: Node, items: IndexItem[], _dim: (n: string) => Dim | undefined, span: Span): Node {
  const rank = x.shape.length;
  const explicit = items.filter((i) => i.kind !== "ellipsis").length;
  if (explicit > rank) fail("E0210", span, `${explicit} indices for a tensor of rank ${rank} ${formatShape(x.shape)}`);
  const expanded: (IndexItem | undefined)[] = [];
  for (const item of items) {
    if (item.kind === "ellipsis") for (let k = 0; k < rank - explicit; k++) expanded.push(undefined);
    else expanded.push(item);
  }
  while (expanded.length < rank) expanded.push(undefined);

  const begin: number[] = [], step: number[] = [], shape: Dim[] = [], kept: Dim[] = [];
  expanded.forEach((item, k) => {
    const n = x.shape[k]!;
    const intOf = (e: Parameters<typeof constNumber>[0] | undefined, what: string): number | undefined => {
      if (!e) return undefined;
      const v = constNumber(e);
      if (v === undefined || !Number.isInteger(v)) fail("E0210", e.span, `${what} must be a constant integer`);
      return v;
    };
    if (!item || (item.kind === "slice" && !item.start && !item.stop && !item.step)) {
      begin.push(0); step.push(1); shape.push(n); kept.push(n);
      return;
    }
    if (typeof n !== "number") {
      // A free axis takes a window a constant distance from both ends, `x[2:-1]` (what a
      // printed gradient of `pad` writes), when its size cannot be negative.
      const start = item.kind === "slice" && !item.step ? intOf(item.start, "a slice start") ?? 0 : -1;
      const stop = item.kind === "slice" && !item.step ? intOf(item.stop, "a slice end") ?? 0 : 1;
      const size = dimSub(n, start - stop);
      if (start < 0 || stop > 0 || mayBeNegative(size)) fail("E0210", item.span, `axis ${k} has the free dim \`${n}\`; only \`:\` or a window like \`2:-1\` can index it`);
      begin.push(start); step.push(1); shape.push(size); kept.push(size);
      return;
    }
    if (item.kind === "at") {
      const i = intOf(item.index, "an index")!;
      const j = i < 0 ? i + n : i;
      if (j < 0 || j >= n) fail("E0210", item.span, `index ${i} is out of range for axis ${k} of size ${n}`);
      begin.push(j); step.push(1); shape.push(1);
      return;
    }
    if (item.kind === "ellipsis") return;
    const st = intOf(item.step, "a step") ?? 1;
    if (st === 0) fail("E0210", item.step!.span, "the step cannot be zero");
    let start = intOf(item.start, "a slice start");
    let stop = intOf(item.stop, "a slice end");
    let length: number;
    if (st > 0) {
      start = start === undefined ? 0 : clamp(start < 0 ? start + n : start, 0, n);
      stop = stop === undefined ? n : clamp(stop < 0 ? stop + n : stop, 0, n);
      length = stop > start ? Math.ceil((stop - start) / st) : 0;
    } else {
      start = start === undefined ? n - 1 : clamp(start < 0 ? start + n : start, -1, n - 1);
      stop = stop === undefined ? -1 : clamp(stop < 0 ? stop + n : stop, -1, n - 1);
      length = start > stop ? Math.ceil((start - stop) / -st) : 0;
    }
    begin.push(length === 0 ? 0 : start); step.push(st); shape.push(length); kept.push(length);
  });
  const sliced = begin.every((v, k) => v === 0 && step[k] === 1 && shape[k] === x.shape[k])
    ? x
    : b.op("slice", [x], { begin, step, shape });
  return b.reshape(sliced, kept);
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
