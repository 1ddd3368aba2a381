// `@` as NumPy matmul at every rank: batch dims broadcast, rank-1 operands promoted and
// removed; values against a direct reference, emitted code against the interpreter,
// gradients (which unbroadcast to each operand's shape) against central differences.

import { describe, expect, it } from "vitest";
import { check, compile } from "../../src/index";
import { errorOf, expectEmittedMatchesInterpreter, expectGradientsMatchDifferences, randomValues } from "./helpers";

/** NumPy's matmul on dense row-major arrays, written out directly. */
function referenceMatmul(a: Float64Array, sa: number[], b: Float64Array, sb: number[]): { data: Float64Array; shape: number[] } {
  const A = sa.length === 1 ? [1, sa[0]!] : sa;
  const B = sb.length === 1 ? [sb[0]!, 1] : sb;
  const ba = A.slice(0, -2), bb = B.slice(0, -2);
  const rank = Math.max(ba.length, bb.length);
  const pad = (s: number[]) => [...Array(rank - s.length).fill(1), ...s];
  const pa = pad(ba), pb = pad(bb);
  const batch = pa.map((d, i) => Math.max(d, pb[i]!));
  const [m, k] = A.slice(-2) as [number, number];
  const n = B[B.length - 1]!;
  const count = batch.reduce((x, y) => x * y, 1);
  const data = new Float64Array(count * m * n);
  for (let p = 0; p < count; p++) {
    let rest = p, oa = 0, ob = 0, sA = m * k, sB = k * n;
    for (let d = rank - 1; d >= 0; d--) {
      const i = rest % batch[d]!;
      rest = Math.floor(rest / batch[d]!);
      if (pa[d] !== 1) oa += i * sA;
      if (pb[d] !== 1) ob += i * sB;
      sA *= pa[d]!;
      sB *= pb[d]!;
    }
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
      let s = 0;
      for (let q = 0; q < k; q++) s += a[oa + i * k + q]! * b[ob + q * n + j]!;
      data[p * m * n + i * n + j] = s;
    }
  }
  const shape = [...batch, ...(sa.length === 1 ? [] : [m]), ...(sb.length === 1 ? [] : [n])];
  return { data, shape };
}

const shapes: [number[], number[]][] = [
  [[3, 4], [4, 5]],
  [[2, 3, 4], [2, 4, 5]],
  [[2, 3, 4], [4, 5]],
  [[4, 5], [2, 5, 3]],
  [[2, 1, 3, 4], [5, 4, 6]],
  [[2, 2, 3, 4], [2, 2, 4, 3]],
  [[2, 2, 3, 4], [4, 2]],
  [[4], [4]],
  [[4], [4, 3]],
  [[3, 4], [4]],
  [[2, 3, 4], [4]],
  [[4], [2, 4, 3]],
  [[1, 2, 1, 2, 1, 3, 2, 2], [2, 3]],
];

describe("@ follows NumPy matmul", () => {
  for (const [sa, sb] of shapes) {
    it(`[${sa}] @ [${sb}]`, () => {
      const source = `input a: [${sa}]\ninput b: [${sb}]\nc = a @ b\noutput c\n`;
      const values = randomValues(source);
      const want = referenceMatmul(values.a!, sa, values.b!, sb);
      const model = expectEmittedMatchesInterpreter(source, values);
      expect(model.meta.outputs[0]!.shape).toEqual(want.shape);
      const got = model.forward(values).c!;
      const arr = typeof got === "number" ? [got] : Array.from(got);
      arr.forEach((g, i) => expect(g).toBeCloseTo(want.data[i]!, 12));
    });
  }

  it("[2, 1, 3, 4] @ [5, 4, 6] gives [2, 5, 3, 6]", () => {
    expect(check("input a: [2, 1, 3, 4]\ninput b: [5, 4, 6]\nc = a @ b\noutput c").outputs[0]!.shape).toEqual([2, 5, 3, 6]);
  });

  it("attention shapes: [b, h, t, d] @ [b, h, d, t] and [b, h, t, d] @ [d, e] with free dims", () => {
    const source = `dim t
input q: [2, 2, t, 3]
input k: [2, 2, 3, t]
param w: [3, 4] = uniform(-1, 1)
s = q @ k
p = s @ (q @ w)
loss = sum(p * p)
output s, p
minimize loss`;
    const meta = check(source);
    expect(meta.outputs.map((o) => o.shape)).toEqual([[2, 2, "t", "t"], [2, 2, "t", 4]]);
    const values = randomValues(source, { t: 3 });
    const model = expectEmittedMatchesInterpreter(source, values, { t: 3 });
    expectGradientsMatchDifferences(model, values);
  });

  it("gradients unbroadcast to each operand's shape", () => {
    const source = `param a: [2, 1, 3, 4] = uniform(-1, 1)
param b: [5, 4, 2] = uniform(-1, 1)
param v: [4] = uniform(-1, 1)
param u: [3] = uniform(-1, 1)
loss = sum(sin(a @ b)) + sum((a @ v)^2) + sum(u @ (a @ b))
minimize loss`;
    const model = compile(source, { dtype: "f64" });
    const values = randomValues(source);
    const { grads } = model.valueAndGrad(values);
    expect([grads.a!.length, grads.b!.length, grads.v!.length, grads.u!.length]).toEqual([24, 40, 4, 3]);
    expectGradientsMatchDifferences(model, values);
  });

  it("the f32 build keeps the register-tiled kernel for batched products", () => {
    const model = compile("input a: [2, 3, 8, 8]\ninput b: [8, 8]\nc = a @ b\noutput c");
    expect(model.source).toMatch(/c00/);
    const values = { a: Float32Array.from({ length: 384 }, (_, i) => (i % 7) - 3), b: Float32Array.from({ length: 64 }, (_, i) => (i % 5) - 2) };
    const got = model.forward(values).c as Float32Array;
    const want = referenceMatmul(Float64Array.from(values.a), [2, 3, 8, 8], Float64Array.from(values.b), [8, 8]);
    expect(Array.from(got)).toEqual(Array.from(want.data));
  });

  it("reports mismatches with located errors", () => {
    const inner = errorOf(() => check("input a: [2, 3, 4]\ninput b: [5, 6]\nc = a @ b\noutput c"));
    expect(inner.message).toBe("cannot matmul [2, 3, 4] by [5, 6]: inner sizes 4 and 5 differ");
    expect([inner.line, inner.column]).toEqual([3, 5]);
    const batch = errorOf(() => check("input a: [2, 3, 4]\ninput b: [3, 4, 5]\nc = a @ b\noutput c"));
    expect(batch.message).toBe("cannot matmul [2, 3, 4] by [3, 4, 5]: batch dims [2] and [3] do not broadcast");
    const scalar = errorOf(() => check("input a\ninput b: [3]\nc = a @ b\noutput c"));
    expect(scalar.message).toBe("cannot matmul [] by [3]: a scalar operand has no axis to multiply over; use `*`");
  });
});

describe("rank up to 8", () => {
  it("elementwise ops, reductions, transposes, reshapes, broadcasts and indexing at rank 8", () => {
    const source = `input x: [2, 1, 2, 1, 2, 1, 2, 3]
param w: [3] = uniform(-1, 1)
param s: [2, 2, 2, 2, 2, 2, 2, 1] = uniform(-1, 1)
y = tanh(x * w) + s
z = transpose(y, [7, 6, 5, 4, 3, 2, 1, 0])
m = max(z, axis = [0, 3], keepdims = true)
r = reshape(y, [4, 2, 2, 2, 2, 2, 3])
loss = sum(softmax(y, axis = 2) * y) + sum(m) + mean(r[:, 1, ..., ::2]) + sum(concat([y, y], axis = 5))
output z, m
minimize loss`;
    const values = randomValues(source);
    const model = expectEmittedMatchesInterpreter(source, values);
    expect(model.meta.outputs[0]!.shape).toEqual([3, 2, 2, 2, 2, 2, 2, 2]);
    expectGradientsMatchDifferences(model, values);
  });

  it("rank 9 is a located error, in a declaration or from an operation", () => {
    const decl = errorOf(() => check("input x: [1, 1, 1, 1, 1, 1, 1, 1, 2]\noutput x"));
    expect(decl.code).toBe("E0223");
    expect(decl.message).toBe("a tensor of shape [1, 1, 1, 1, 1, 1, 1, 1, 2] has rank 9, more than the limit of 8");
    expect([decl.line, decl.column]).toEqual([1, 7]);
    const op = errorOf(() => check("input x: [2, 2, 2, 2, 2, 2, 2, 2]\ny = reshape(x, [2, 2, 2, 2, 2, 2, 2, 2, 1])\noutput y"));
    expect(op.code).toBe("E0223");
    expect([op.line, op.column]).toEqual([2, 5]);
    expect(op.rendered).toContain("^^^^^^^");
  });
});
