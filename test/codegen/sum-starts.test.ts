// Sums start from -0 (matmul, sum, cumsum, avgpool, conv: the interpreter's and every
// emitted kernel's), and codegen/sum-starts.ts drops the first addition of an unrolled
// sum. The pass on small programs (what it folds, what it must leave), then whole models:
// a sum of -0s is -0 in the interpreter, the unrolled and looped JS kernels and the wasm
// target.
import { parse } from "acorn";
import { generate } from "astring";
import { describe, expect, it } from "vitest";
import { compile } from "../../src/index";
import { evaluate } from "../../src/interpret";
import { lowerSource } from "../../src/lower";
import { foldSumStarts } from "../../src/codegen/sum-starts";
import type { Statement } from "../../src/codegen/estree";

const fold = (code: string): string => {
  const program = parse(code, { ecmaVersion: 2022, sourceType: "module" }) as unknown as { body: Statement[] };
  return generate({ type: "Program", sourceType: "module", body: foldSumStarts(program.body) } as never, { indent: "  " }).trim();
};
const same = (code: string) => expect(fold(code)).toBe(fold(code.replace(/\bFOLD\b/g, "")));
const lines = (...l: string[]) => l.join("\n");

describe("foldSumStarts", () => {
  it("drops a sum's start: the declaration moves to the first term", () => {
    expect(fold("let acc = -0; acc += a * b; acc += c * d; out[0] = acc;")).toBe(lines("let acc = a * b;", "acc += c * d;", "out[0] = acc;"));
    // statements that do not mention it may come between
    expect(fold("let acc = -0; const t = x[1]; acc += t * t;")).toBe(lines("const t = x[1];", "let acc = t * t;"));
  });

  it("folds `s = s + t` and `s = t + s`, and drops the store of -0 when nothing read it", () => {
    expect(fold("let s = 0; s = -0; { const v = a; s = s + v; } { const v = b; s = s + v; }"))
      .toBe(lines("let s = 0;", "{", "  const v = a;", "  s = v;", "}", "{", "  const v = b;", "  s = s + v;", "}"));
    expect(fold("let s = 0; s = -0; s = f(a) + s;")).toBe(lines("let s = 0;", "s = f(a);"));
    // read between the store and the sum: the store stays
    expect(fold("let s = 0; s = -0; g(s); s += a;")).toBe(lines("let s = 0;", "s = -0;", "g(s);", "s = a;"));
  });

  it("a declaration in an outer block stays where it is; the first term is an assignment", () => {
    expect(fold("let acc = -0; { const t = a; acc = acc + t * t; } { const t = b; acc = acc + t * t; }"))
      .toBe(lines("let acc = -0;", "{", "  const t = a;", "  acc = t * t;", "}", "{", "  const t = b;", "  acc = acc + t * t;", "}"));
  });

  it("leaves what is not a first term of a sum from -0", () => {
    // from +0: 0 + -0 is +0, so the addition stays
    same("let acc = 0; acc += a;");
    // a loop's body runs more than once
    same("let acc = -0; for (let k = 0; k < n; k++) { acc += a[k]; }");
    same("let acc = -0; for (let k = 0; k < n; k++) acc = acc + a[k];");
    // a branch may not run; after it the local is unknown
    same("let acc = -0; if (c) { acc = 1; } acc += a;");
    // the term reads the local itself
    same("let acc = -0; acc += acc * a;");
    // other operators
    same("let acc = -0; acc -= a;");
    same("let acc = -0; acc = acc - a;");
    // assigned by anything else first
    same("let acc = -0; acc = b; acc += a;");
    same("let acc = -0; acc++; acc += a;");
    // not a local of this code (a closure or a call may change it)
    same("s = -0; s += a;");
    same("let s = -0; const f = () => { s = 1; }; f(); s += a;");
  });

  it("an inner block's own local of the same name does not stand for the outer one", () => {
    expect(fold("let acc = -0; { let acc = 1; acc += a; } acc += b;")).toBe(lines("{", "  let acc = 1;", "  acc += a;", "}", "let acc = b;"));
    expect(fold("let acc = 2; { let acc = -0; acc += a; out[0] = acc; } acc += b;")).toBe(lines("let acc = 2;", "{", "  let acc = a;", "  out[0] = acc;", "}", "acc += b;"));
  });
});

/** Every output of `source` from the emitted forward (js or wasm, f32 or f64) and the interpreter. */
function outputs(source: string, values: Record<string, number[]>, target: "js" | "wasm", dtype: "f32" | "f64") {
  const model = compile(source, { filename: "sum.grad", dtype, target, seed: 1 });
  const Arr = dtype === "f32" ? Float32Array : Float64Array;
  const args = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Arr.from(v)]));
  const got = model.forward(args);
  const program = lowerSource(source, { filename: "sum.grad" });
  const want = evaluate(program.outputs.map((o) => o.node), { dims: new Map(), values: new Map(Object.entries(values).map(([k, v]) => [k, Float64Array.from(v)])) });
  return program.outputs.map((o) => {
    const r = got[o.name]!;
    return { name: o.name, got: Array.from(typeof r === "number" ? [r] : r), want: Array.from(want.get(o.node)!.data) };
  });
}

describe("sums of -0s are -0", () => {
  // products 0 * w with w < 0 are -0; with one w > 0 one product is +0, and so is the sum
  const matmulModel = (m: number, k: number, n: number) => `input x: [${m}, ${k}]
input w: [${k}, ${n}]
input z: [${m}, ${k}]
input v: [1, 1, 4, 4]
h = x @ w
s = sum(z, axis = 1)
t = sum(z)
c = cumsum(z, axis = 1)
p = avgpool2d(v, size = 2)
output h, s, t, c, p`;

  for (const [m, k, n] of [[2, 3, 2], [48, 64, 64]] as const) {
    for (const target of ["js", "wasm"] as const) {
      for (const dtype of target === "wasm" ? (["f32"] as const) : (["f32", "f64"] as const)) {
        it(`${m}x${k} @ ${k}x${n} (${m * n * k <= 256 ? "unrolled" : "tiled; wasm: SIMD matmul and sums"}), ${target} ${dtype}`, () => {
          const w = Array.from({ length: k * n }, (_, i) => (i % n === 0 ? 1 : -1 - i));
          const results = outputs(matmulModel(m, k, n), { x: new Array(m * k).fill(0), w, z: new Array(m * k).fill(-0), v: new Array(16).fill(-0) }, target, dtype);
          for (const { name, got, want } of results) {
            for (let i = 0; i < want.length; i++) expect(Object.is(got[i], want[i]), `${name}[${i}]: ${got[i]} vs ${want[i]}`).toBe(true);
          }
          const [h, ...sums] = results;
          // column 0 has a w = 1 (a +0 product); the others only negative ws
          expect(h!.want.map((v) => Object.is(v, -0))).toEqual(h!.want.map((_, i) => i % n !== 0));
          for (const { name, want } of sums) expect(want.every((v) => Object.is(v, -0)), name).toBe(true);
        });
      }
    }
  }

  it("the XOR step's sums have no addition of their start", () => {
    const source = `input x: [4, 2]
input y: [4, 1]
param m1: [2, 3]
param b1: [3]
param m2: [3, 1]
param b2: [1]
h1 = sigmoid(x @ m1 + b1)
y_out = sigmoid(h1 @ m2 + b2)
minimize sum((y - y_out)^2) with sgd(lr = 1.0)`;
    const text = compile(source, { filename: "xor.grad" }).source;
    const step = text.slice(text.indexOf("function run_step"), text.indexOf("function stepImpl"));
    expect(step).toMatch(/let acc_\d+ = in_x_at\w+ \* p_m1_at\w+;/);
    expect(step).not.toMatch(/(\w+) = -0;\s*\1 \+=/);
    expect(step).not.toMatch(/(\w+) = 0;\s*\1 \+=/);
  });
});
