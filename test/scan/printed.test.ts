// scan's printed form is gradc: the gradient of a model with a scan prints as block `fn`s
// and list-form `scan(...)` calls that compile to the same values as valueAndGrad and print
// back to the same text; user-written reverse and list-form scans (several carries, ys,
// captures) run in emitted code as in the interpreter and gradcheck.

import { describe, expect, it } from "vitest";
import { buildModel, compile, GradcError, gradcheck } from "../../src/index";
import { evaluate } from "../../src/interpret";
import { lowerSource } from "../../src/lower";
import { printDefinitions } from "../../src/print";

const gru = (t: number | string) => `${typeof t === "string" ? `dim ${t}\n` : ""}input xs: [${t}, 2, 3]
input h0: [2, 4]
param wz: [3, 4]
param uz: [4, 4]
param wn: [3, 4]
param un: [4, 4]
fn cell(h, x) {
  z = sigmoid(x @ wz + h @ uz)
  n = tanh(x @ wn + (z * h) @ un)
  (1 - z) * n + z * h
}
hs = scan(cell, h0, xs)
minimize sum(hs * hs) + sum(hs * wz[0])`;

/** The printed gradient of `source` (as `gradc grad` prints it) and the same as a program. */
function printed(source: string): { text: string; program: string } {
  const p = lowerSource(source);
  const model = buildModel(p);
  const text = printDefinitions(p.params.map((d, i) => ({ name: `d_${d.name}`, node: model.grads![i]! })));
  const dims = source.split("\n").filter((l) => l.startsWith("dim "));
  const decl = (d: { name: string; shape: readonly (number | string)[] }) => `input ${d.name}: [${d.shape.join(", ")}]`;
  const program = [...dims, ...p.inputs.map(decl), ...p.params.map(decl), text.trimEnd(), `output ${p.params.map((d) => `d_${d.name}`).join(", ")}`].join("\n") + "\n";
  return { text, program };
}

const wave = (n: number, phase: number) => Float64Array.from({ length: n }, (_, i) => 0.6 * Math.sin(1.1 * i + phase));

function valuesFor(source: string, dims: Record<string, number> = {}): Record<string, Float64Array> {
  const p = lowerSource(source);
  const out: Record<string, Float64Array> = {};
  [...p.inputs, ...p.params].forEach((d, k) => {
    const n = d.shape.reduce<number>((a, s) => a * (typeof s === "number" ? s : dims[s]!), 1);
    out[d.name] = wave(n, k);
  });
  return out;
}

describe("scan's printed form", () => {
  for (const t of [1, 5, "t"] as const) {
    it(`the printed gradient of a GRU scan (T ${t === "t" ? "free" : `= ${t}`}) compiles, equals valueAndGrad's, and prints back the same`, () => {
      const source = gru(t);
      const { text, program } = printed(source);
      // the loops' functions are named after the user's cell: `cell`'s gradient loop is `cell_grad`
      expect(text).toMatch(/^fn cell_grad\(/m);
      expect(text).toMatch(/scan\(cell_grad, /);
      expect(text).toMatch(/reverse = true, out = \d\)/);
      const dims: Record<string, number> = t === "t" ? { t: 6 } : {};
      const values = valuesFor(source, dims);
      const want = compile(source, { dtype: "f64" }).valueAndGrad(values).grads;
      const got = compile(program, { dtype: "f64" }).forward(values);
      for (const name of Object.keys(want)) {
        const g = got[`d_${name}`] as Float64Array;
        Array.from(want[name]!).forEach((v, i) => expect(Math.abs(g[i]! - v), `d_${name}[${i}]\n${program}`).toBeLessThan(1e-10));
      }
      // print -> parse -> print: the printed program's outputs print as the same text.
      const again = lowerSource(program);
      const reprinted = printDefinitions(again.outputs.map((o) => ({ name: o.name, node: o.node })));
      expect(reprinted).toBe(text);
    });
  }

  it("the printed gradient of a scan of a scan (inner functions first) compiles, equals valueAndGrad's, and prints back the same", () => {
    const source = `input xs: [3, 4, 2]
input h0: [2]
param w: [2, 2]
fn inner(c, x) = tanh(c @ w + x)
fn outer(h, row) { hs = scan(inner, h, row); hs[-1] * 0.5 + h }
ys = scan(outer, h0, xs)
minimize sum(ys * ys)`;
    const { text, program } = printed(source);
    for (const f of ["inner", "outer", "inner_grad", "outer_grad"]) expect(text, text).toMatch(new RegExp(`^fn ${f}\\(`, "m"));
    const values = valuesFor(source);
    const want = compile(source, { dtype: "f64" }).valueAndGrad(values).grads.w!;
    const got = compile(program, { dtype: "f64" }).forward(values).d_w as Float64Array;
    Array.from(want).forEach((v, i) => expect(Math.abs(got[i]! - v), program).toBeLessThan(1e-10));
    const again = lowerSource(program);
    expect(printDefinitions(again.outputs.map((o) => ({ name: o.name, node: o.node })))).toBe(text);
  });

  it("a user-written reverse scan runs from the last slice, stacks at each slice's index, and gradchecks", () => {
    const source = `input xs: [5, 2, 3]
input h0: [2, 3]
param w: [3, 3]
fn cell(h, x) = tanh(h @ w + x)
back = scan(cell, h0, xs, reverse = true)
fwd = scan(cell, h0, flip(xs, 0))
output back, fwd
minimize sum(back * back * w[0])`;
    const model = compile(source, { dtype: "f64" });
    const values = valuesFor(source);
    const out = model.forward(values);
    const back = out.back as Float64Array, fwd = out.fwd as Float64Array;
    // back[t] is the carry after the slices T-1 ... t: fwd (over flipped xs) at row T-1-t.
    for (let t = 0; t < 5; t++) for (let i = 0; i < 6; i++) expect(back[t * 6 + i]).toBeCloseTo(fwd[(4 - t) * 6 + i]!, 12);
    const p = lowerSource(source);
    const ref = evaluate([p.outputs[0]!.node], { values: new Map(Object.entries(values)) }).get(p.outputs[0]!.node)!.data;
    Array.from(back).forEach((v, i) => expect(Math.abs(v - ref[i]!)).toBeLessThan(1e-12));
    const r = gradcheck(source, { points: 2 });
    expect(r.ok, JSON.stringify(r).slice(0, 400)).toBe(true);
  });

  it("the list form: two carries, two sliced inputs, a y, captures and `out`; emitted as interpreted; gradchecks (T = 1, 40, free)", () => {
    const body = (t: string) => `input xs: [${t}, 2, 3]
input us: [${t}, 3]
input h0: [2, 3]
input m0: [3]
param w: [3, 3]
param v: [3]
fn step(h, m, x, u, ww, vv) {
  nh = tanh(h @ ww + x * m)
  nm = m * 0.8 + sum(nh, axis = 0) * 0.1 + u * vv
  [nh, nm, sin(nh) * m]
}
hl = scan(step, [h0, m0], [xs, us], [w, v], out = 0)
ml = scan(step, [h0, m0], [xs, us], [w, v], out = 1)
ys = scan(step, [h0, m0], [xs, us], [w, v], reverse = true, out = 2)
output hl, ml, ys
minimize sum(hl * hl) + sum(ml) + sum(ys * ys)`;
    for (const t of ["1", "40"]) {
      const source = body(t);
      const model = compile(source, { dtype: "f64" });
      const values = valuesFor(source);
      const out = model.forward(values);
      const p = lowerSource(source);
      for (const o of p.outputs) {
        const ref = evaluate([o.node], { values: new Map(Object.entries(values)) }).get(o.node)!.data;
        Array.from(out[o.name] as Float64Array).forEach((x, i) => expect(Math.abs(x - ref[i]!), `${o.name}[${i}]`).toBeLessThan(1e-12));
      }
      const r = gradcheck(source, { points: 1 });
      expect(r.ok, JSON.stringify(r).slice(0, 400)).toBe(true);
    }
    const free = `dim t\n${body("t")}`;
    for (const t of [1, 7]) expect(gradcheck(free, { points: 1, dims: { t } }).ok).toBe(true);
    // its printed gradient is a program too, with the same values
    const { program } = printed(body("4"));
    const values = valuesFor(body("4"));
    const want = compile(body("4"), { dtype: "f64" }).valueAndGrad(values).grads;
    const got = compile(program, { dtype: "f64" }).forward(values);
    for (const name of Object.keys(want)) {
      Array.from(want[name]!).forEach((x, i) => expect(Math.abs((got[`d_${name}`] as Float64Array)[i]! - x)).toBeLessThan(1e-10));
    }
  });

  it("mistakes in the list form are located errors", () => {
    const base = `input xs: [4, 3]\ninput h: [3]\n`;
    const cases: [string, RegExp, number][] = [
      [`fn f(c, x) = [c + x, c]\ny = scan(f, [h], [xs])`, /needs `out = j`/, 4],
      [`fn f(c, x) = [c + x, c]\ny = scan(f, [h], [xs], out = 2)`, /`out` must be an integer from 0 to 1/, 4],
      // (at the function's value, which must be a list)
      [`fn f(c, x) = c + x\ny = scan(f, [h], [xs], out = 0)`, /returns a list/, 3],
      [`fn f(c, x) = c + x\ny = scan(f, h, xs, out = 0)`, /`out` chooses among/, 4],
      [`fn f(c, x) = [c + x, c]\ny = scan(f, [h], xs, out = 0)`, /must be a list of tensors/, 4],
    ];
    for (const [text, message, line] of cases) {
      let error: unknown;
      try { compile(base + text); } catch (e) { error = e; }
      expect(error, text).toBeInstanceOf(GradcError);
      expect((error as GradcError).message).toMatch(message);
      expect((error as GradcError).line).toBe(line);
    }
  });
});
