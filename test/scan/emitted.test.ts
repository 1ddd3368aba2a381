// scan in emitted code: a loop around the body, against the reference interpreter (f64
// and f32), gradients through the compiled model against finite differences, and code
// whose size does not depend on the number of steps.

import { describe, expect, it } from "vitest";
import { compile, compileToSource, gradcheck } from "../../src/index";
import { evaluate } from "../../src/interpret";
import { lowerSource } from "../../src/lower";

const gru = `fn cell(h, x) {
  z = sigmoid(x @ wz + h @ uz)
  n = tanh(x @ wn + (z * h) @ un)
  (1 - z) * n + z * h
}`;
const rnn = `fn cell(h, x) = tanh(x @ wz + h @ uz + sum(h * h, axis = -1, keepdims = true) * 0.1)`;

function program(cell: string, t: number | "t", hidden = 4, batch = 2, dims = ""): string {
  return `${t === "t" ? "dim t\n" : ""}${dims}input xs: [${t}, ${batch}, 3]
input h0: [${batch}, ${hidden}]
param wz: [3, ${hidden}]
param uz: [${hidden}, ${hidden}]
param wn: [3, ${hidden}]
param un: [${hidden}, ${hidden}]
${cell}
hs = scan(cell, h0, xs)
last = sum(hs * hs, axis = 0)
output hs, last
minimize sum(hs * hs) + sum(hs * wz[0])`;
}

const cast = (x: Float64Array, dtype: "f32" | "f64") => (dtype === "f32" ? Float32Array.from(x) : x);
const wave = (n: number, phase: number) => Float64Array.from({ length: n }, (_, i) => 0.7 * Math.sin(1.3 * i + phase));

describe("scan in emitted code", () => {
  for (const [name, cell] of [["gru", gru], ["rnn", rnn]] as const) {
    for (const dtype of ["f64", "f32"] as const) {
      it(`${name}: forward and gradients (${dtype}) equal the interpreter's`, () => {
        const src = program(cell, 5);
        const model = compile(src, { dtype });
        const params = model.createParams(3);
        const xs = cast(wave(30, 0.1), dtype), h0 = cast(wave(8, 2), dtype);
        const values = { xs, h0, ...params };
        const out = model.forward(values);
        const { grads } = model.valueAndGrad(values);
        const p = lowerSource(src);
        const vals = new Map<string, ArrayLike<number>>([["xs", xs], ["h0", h0], ...Object.entries(params)]);
        const hs = p.outputs[0]!.node;
        const ref = evaluate([hs], { values: vals }).get(hs)!.data;
        const tol = dtype === "f64" ? 1e-12 : 2e-5;
        Array.from(out.hs as Float64Array).forEach((v, i) => expect(Math.abs(v - ref[i]!), `hs[${i}]`).toBeLessThan(tol));
        const gc = gradcheck(src, { points: 1, seed: 5 });
        expect(gc.ok).toBe(true);
        expect(Object.keys(grads).sort()).toEqual(["un", "uz", "wn", "wz"]);
      });
    }
  }

  it("a free T: one compiled model runs T = 1, 7 and 40 and its gradients check", () => {
    const src = program(gru, "t");
    const model = compile(src, { dtype: "f64" });
    const params = model.createParams(1);
    for (const t of [1, 7, 40]) {
      const xs = wave(t * 6, 0.3), h0 = wave(8, 1);
      const out = model.forward({ xs, h0, ...params });
      expect((out.hs as Float64Array).length).toBe(t * 8);
      const p = lowerSource(src);
      const hs = p.outputs[0]!.node;
      const ref = evaluate([hs], { values: new Map<string, ArrayLike<number>>([["xs", xs], ["h0", h0], ...Object.entries(params)]), dims: new Map([["t", t]]) }).get(hs)!.data;
      Array.from(out.hs as Float64Array).forEach((v, i) => expect(Math.abs(v - ref[i]!)).toBeLessThan(1e-12));
    }
    for (const t of [1, 40]) {
      const r = gradcheck(src, { points: 1, dims: { t } });
      expect(r.ok, JSON.stringify(r).slice(0, 600)).toBe(true);
    }
  });

  it("a scan of a scan compiles and checks", () => {
    const src = `input xs: [3, 4, 2]\ninput h0: [2]\nparam w: [2, 2]
fn inner(c, x) = tanh(c @ w + x)
fn outer(h, row) { hs = scan(inner, h, row); hs[-1] * 0.5 + h }
ys = scan(outer, h0, xs)\noutput ys\nminimize sum(ys * ys)`;
    expect(gradcheck(src, { points: 2 }).ok).toBe(true);
  });

  it("emitted code does not grow with T (bound): T = 512 is no longer than T = 8, and T = 64 and 512 differ only in literals", () => {
    const src = program(gru, "t", 32, 8).replace(/\nlast = [^\n]*\noutput hs, last\nminimize [^\n]*/, "\noutput hs\nminimize sum(hs * hs)");
    const text = (t: number) => compileToSource(src, { sizes: { t } }).text;
    const [a, b, c] = [text(8), text(64), text(512)];
    // (only literals differ in length: offsets such as 512 * 256 have more digits, one per
    // stacked output, and the forward loop saves its gates for the gradient's loop)
    expect(c.length).toBeLessThanOrEqual(a.length + 512);
    expect(Math.abs(c.length - b.length)).toBeLessThanOrEqual(256);
    const shape = (x: string) => x.replace(/\d+(\.\d+)?/g, "N");
    expect(shape(c)).toBe(shape(b));
  });
});
