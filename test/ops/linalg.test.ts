// matmul's record (src/ops/linalg.ts): the shape rule's diagnostics at the IR; the emitted
// kernels against a reference product, the plain loop (m n k <= 256) and the register-
// tiled one at every remainder of its 2x4 tiles, batched, and with sizes bound at run
// time (all tiles emitted); the interpreter's batched product; the wasm target; its cost
// (two flops per term).

import { describe, expect, it } from "vitest";
import { GradcError } from "../../src/diagnostics";
import { compile } from "../../src/index";
import { evaluate } from "../../src/interpret";
import { Graph } from "../../src/ir";
import { Builder, getOp } from "../../src/ops";
import { expectClose, model } from "../builtins/helpers";
import { rng } from "../helpers/random";

/** [...batch, m, k] @ [...batch, k, n] by the definition. */
function product(a: Float64Array, b: Float64Array, batch: number, m: number, k: number, n: number): number[] {
  const out: number[] = [];
  for (let p = 0; p < batch; p++) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let q = 0; q < k; q++) s += a[p * m * k + i * k + q]! * b[p * k * n + q * n + j]!;
        out.push(s);
      }
    }
  }
  return out;
}

const random = (n: number, seed: number) => {
  const r = rng(seed);
  return Float64Array.from({ length: n }, () => 2 * r() - 1);
};

// [batch, m, k, n]: the plain loop (up to 256 terms), then tiled with each row remainder
// (m mod 2) and column remainder (n mod 4), n < 4 (no 4-wide tile), a batch
const SIZES: [number, number, number, number][] = [
  [1, 2, 3, 4], [1, 4, 16, 4], [1, 1, 3, 1],
  [1, 4, 17, 4], [1, 1, 40, 1], [1, 1, 40, 4], [1, 2, 40, 3], [1, 3, 40, 5], [1, 2, 40, 8], [1, 5, 40, 9], [1, 4, 30, 6],
  [2, 3, 30, 5],
];

describe("matmul in emitted code", () => {
  it("the plain and the tiled kernels at every tile remainder, batched", () => {
    const decl = (s: [number, number, number, number], i: number) => {
      const [p, m, k, n] = s;
      const lead = p > 1 ? `${p}, ` : "";
      return `input a${i}: [${lead}${m}, ${k}]\ninput b${i}: [${lead}${k}, ${n}]\nc${i} = a${i} @ b${i}`;
    };
    const src = `${SIZES.map(decl).join("\n")}\noutput ${SIZES.map((_, i) => `c${i}`).join(", ")}`;
    const values: Record<string, Float64Array> = {};
    SIZES.forEach(([p, m, k, n], i) => {
      values[`a${i}`] = random(p * m * k, 2 * i + 1);
      values[`b${i}`] = random(p * k * n, 2 * i + 2);
    });
    const out = model(src).forward(values);
    SIZES.forEach(([p, m, k, n], i) => {
      const got = out[`c${i}`] as Float64Array;
      expectClose(got, product(values[`a${i}`]!, values[`b${i}`]!, p, m, k, n), 1e-13, `[${p}, ${m}, ${k}] @ [${k}, ${n}]`);
    });
  });

  it("with rows and columns bound at run time", () => {
    const src = "dim m\ndim n\ninput a: [m, 40]\ninput b: [40, n]\ninput c: [m, 3]\ninput d: [3, n]\ny = a @ b\nz = c @ d\noutput y, z";
    const compiled = model(src);
    for (const [m, n] of [[1, 1], [2, 4], [3, 5], [5, 3], [4, 8], [1, 9]] as const) {
      const a = random(m * 40, m), b = random(40 * n, n + 10), c = random(m * 3, m + 20), d = random(3 * n, n + 30);
      const out = compiled.forward({ a, b, c, d });
      expectClose(out.y as Float64Array, product(a, b, 1, m, 40, n), 1e-13, `[${m}, 40] @ [40, ${n}]`);
      expectClose(out.z as Float64Array, product(c, d, 1, m, 3, n), 1e-13, `[${m}, 3] @ [3, ${n}]`);
    }
  });
});

describe("matmul in the interpreter and on the wasm target", () => {
  it("the interpreter's product, batched: every batch, row and column in its place", () => {
    const g = new Builder(new Graph(), undefined);
    const y = g.op("matmul", [g.input("a", "input", [3, 2, 4]), g.input("b", "input", [3, 4, 5])], {});
    const a = random(3 * 2 * 4, 101), b = random(3 * 4 * 5, 102);
    const got = evaluate([y], { values: new Map([["a", a], ["b", b]]) }).get(y)!;
    expectClose(got.data, product(a, b, 3, 2, 4, 5), 1e-13, "[3, 2, 4] @ [3, 4, 5]");
  });

  it("compiles for the wasm target (matmul has a wasm kernel) and computes the product", () => {
    const a = Float32Array.from(random(3 * 5, 7)), b = Float32Array.from(random(5 * 2, 8));
    const out = compile("input a: [3, 5]\ninput b: [5, 2]\ny = a @ b\noutput y", { target: "wasm" }).forward({ a, b });
    expectClose(out.y as Float32Array, product(Float64Array.from(a), Float64Array.from(b), 1, 3, 5, 2), 1e-5, "wasm [3, 5] @ [5, 2]");
  });
});

describe("matmul's shape rule (E0202, at the IR)", () => {
  const message = (a: number[], b: number[]) => {
    const g = new Builder(new Graph(), undefined);
    try {
      g.op("matmul", [g.input("a", "input", a), g.input("b", "input", b)], {});
    } catch (e) {
      if (e instanceof GradcError) return `${e.code}: ${e.message}`;
      throw e;
    }
    return "no error";
  };

  it("equal ranks of at least 2, inner sizes equal, batch dims equal", () => {
    expect(message([3], [3])).toMatch(/E0202.*cannot matmul \[3\] by \[3\]: the ranks must be equal and at least 2/);
    expect(message([2, 3], [4, 3, 2])).toMatch(/E0202.*the ranks must be equal and at least 2/);
    expect(message([2, 3], [4, 2])).toMatch(/E0202.*cannot matmul \[2, 3\] by \[4, 2\]: inner sizes 3 and 4 differ/);
    expect(message([2, 2, 3], [3, 3, 2])).toMatch(/E0202.*batch dims \[2\] and \[3\] differ/);
    expect(message([2, 5, 2, 3], [2, 4, 3, 2])).toMatch(/E0202.*batch dims \[2, 5\] and \[2, 4\] differ/);
  });

  it("the result: batch dims, the rows of the left and the columns of the right", () => {
    const g = new Builder(new Graph(), undefined);
    const y = g.op("matmul", [g.input("a", "input", [2, 5, 3]), g.input("b", "input", [2, 3, 7])], {});
    expect(y.shape).toEqual([2, 5, 7]);
    expect(g.op("matmul", [g.input("c", "input", [1, 3]), g.input("d", "input", [3, 1])], {}).shape).toEqual([1, 1]);
  });
});

describe("matmul's cost", () => {
  it("is two flops (a multiply and an add) per term", () => {
    const g = new Builder(new Graph(), undefined);
    const y = g.op("matmul", [g.input("a", "input", [2, 5, 3]), g.input("b", "input", [2, 3, 7])], {});
    const numel = (s: readonly unknown[]) => (s as number[]).reduce((x, d) => x * d, 1);
    expect(getOp("matmul").cost!(y, numel as never)).toBe(2 * 2 * 5 * 7 * 3);
  });
});
