// A naive einsum over dense row-major arrays: every assignment of the labels, summed.
// The independent oracle for the lowering in src/lower/einsum.ts (ellipsis expanded by
// the caller into explicit labels).

export interface Operand {
  shape: number[];
  data: Float64Array;
}

export function referenceEinsum(spec: string, ops: Operand[]): Operand {
  const [lhs, rhs] = spec.split("->") as [string, string | undefined];
  const terms = lhs.split(",");
  const size = new Map<string, number>();
  terms.forEach((t, i) => [...t].forEach((l, k) => size.set(l, ops[i]!.shape[k]!)));
  const counts = new Map<string, number>();
  for (const t of terms) for (const l of t) counts.set(l, (counts.get(l) ?? 0) + 1);
  const out = rhs ?? [...counts.keys()].filter((l) => counts.get(l) === 1).sort().join("");
  const labels = [...size.keys()];
  const outShape = [...out].map((l) => size.get(l)!);
  const data = new Float64Array(outShape.reduce((a, b) => a * b, 1));
  const value = new Map<string, number>();
  const flat = (t: string, shape: number[]) => [...t].reduce((o, l, k) => o * shape[k]! + value.get(l)!, 0);
  const visit = (j: number): void => {
    if (j === labels.length) {
      let p = 1;
      terms.forEach((t, i) => { p *= ops[i]!.data[flat(t, ops[i]!.shape)]!; });
      data[flat(out, outShape)] += p;
      return;
    }
    for (let v = 0; v < size.get(labels[j]!)!; v++) {
      value.set(labels[j]!, v);
      visit(j + 1);
    }
  };
  visit(0);
  return { shape: outShape, data };
}
