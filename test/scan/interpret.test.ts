// scan in the reference interpreter and through autodiff: one node with a body graph, the
// same values as the loop written out step by step, gradients (to init, xs and every
// captured param) against central differences in f64, and a second derivative.

import { describe, expect, it } from "vitest";
import { gradients } from "../../src/autodiff/reverse";
import { GradcError } from "../../src/index";
import { topoSort, type Node } from "../../src/ir";
import { evaluate } from "../../src/interpret";
import { lowerSource, type LoweredProgram } from "../../src/lower";
import { Builder } from "../../src/ops";
import { simplify } from "../../src/simplify";

const cells = {
  gru: `fn cell(h, x) {
  z = sigmoid(x @ wz + h @ uz)
  n = tanh(x @ wn + (z * h) @ un)
  (1 - z) * n + z * h
}`,
  rnn: `fn cell(h, x) = tanh(x @ wz + h @ uz + sum(h * h, axis = -1, keepdims = true) * 0.1)`,
};

/** A program scanning `cell` over xs: [t, b, d] from h0: [b, h]; `loss` reads every carry. */
function program(cell: string, t: number | "free", extra = ""): string {
  const dims = t === "free" ? "dim t\n" : "";
  const tt = t === "free" ? "t" : String(t);
  return `${dims}input xs: [${tt}, 2, 3]
input h0: [2, 4]
param wz: [3, 4]
param uz: [4, 4]
param wn: [3, 4]
param un: [4, 4]
${cell}
hs = scan(cell, h0, xs)
loss = sum(hs * hs) + sum(hs * wz[0])${extra}
output hs
minimize loss`;
}

function values(p: LoweredProgram, dims: Map<string, number>, seed: number): Map<string, number[]> {
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  const out = new Map<string, number[]>();
  for (const d of [...p.inputs, ...p.params]) {
    const n = d.shape.reduce<number>((a, x) => a * (typeof x === "number" ? x : dims.get(x as string)!), 1);
    out.set(d.name, Array.from({ length: n }, () => 0.8 * rand()));
  }
  return out;
}

function scalar(node: Node, vals: Map<string, number[]>, dims: Map<string, number>): number {
  return evaluate([node], { values: vals, dims }).get(node)!.data[0]!;
}

/** Every gradient of `loss` (by name) against central differences. */
function checkGradients(p: LoweredProgram, dims: Map<string, number>, names: string[]): void {
  const loss = p.objective!.node;
  const decls = [...p.inputs, ...p.params].filter((d) => names.includes(d.name));
  const b = new Builder(p.graph, undefined);
  const grads = simplify(p.graph, gradients(b, loss, decls.map((d) => d.node)));
  const vals = values(p, dims, 7);
  const got = evaluate(grads, { values: vals, dims });
  decls.forEach((d, k) => {
    const g = got.get(grads[k]!)!.data;
    const x = vals.get(d.name)!;
    for (let i = 0; i < x.length; i += Math.max(1, Math.floor(x.length / 9))) {
      const h = 1e-5;
      const v0 = x[i]!;
      x[i] = v0 + h; const up = scalar(loss, vals, dims);
      x[i] = v0 - h; const down = scalar(loss, vals, dims);
      x[i] = v0;
      const fd = (up - down) / (2 * h);
      expect(Math.abs(g[i]! - fd), `${d.name}[${i}]: ${g[i]} vs ${fd}`).toBeLessThan(1e-6 * Math.max(1, Math.abs(fd)));
    }
  });
}

describe("scan in the interpreter", () => {
  it("is one node holding its body, and equals the loop written out", () => {
    const p = lowerSource(program(cells.gru, 3));
    const scans = topoSort([p.outputs[0]!.node]).filter((n) => n.op.name === "scan");
    expect(scans).toHaveLength(1);
    const body = scans[0]!.body!;
    // carry, slice, then the four captured params
    expect(body.args.map((a) => a.shape)).toEqual([[2, 4], [2, 3], [3, 4], [4, 4], [3, 4], [4, 4]]);
    expect(scans[0]!.inputs.slice(2).map((n) => n.attrs.name)).toEqual(["wz", "uz", "wn", "un"]);
    expect(p.outputs[0]!.shape).toEqual([3, 2, 4]);
    // the same cell unrolled by hand
    const unrolled = lowerSource(`input xs: [3, 2, 3]\ninput h0: [2, 4]\nparam wz: [3, 4]\nparam uz: [4, 4]\nparam wn: [3, 4]\nparam un: [4, 4]\n${cells.gru}
h1 = cell(h0, xs[0])\nh2 = cell(h1, xs[1])\nh3 = cell(h2, xs[2])\nhs = stack([h1, h2, h3])\noutput hs`);
    const vals = values(p, new Map(), 3);
    const a = evaluate([p.outputs[0]!.node], { values: vals }).get(p.outputs[0]!.node)!.data;
    const e = evaluate([unrolled.outputs[0]!.node], { values: vals }).get(unrolled.outputs[0]!.node)!.data;
    expect(Array.from(a)).toEqual(Array.from(e));
  });

  it("T may be a free dim: the body does not depend on T", () => {
    const p = lowerSource(program(cells.rnn, "free"));
    expect(p.outputs[0]!.shape).toEqual(["t", 2, 4]);
    for (const t of [1, 5]) {
      const dims = new Map([["t", t]]);
      const out = evaluate([p.outputs[0]!.node], { values: values(p, dims, 1), dims }).get(p.outputs[0]!.node)!;
      expect(out.shape).toEqual([t, 2, 4]);
    }
  });

  for (const [name, cell] of Object.entries(cells)) {
    for (const t of [1, 40, "free"] as const) {
      it(`gradients of a ${name} scan (T = ${t}) to init, xs and every param match finite differences`, () => {
        const p = lowerSource(program(cell, t));
        checkGradients(p, new Map([["t", 6]]), ["xs", "h0", "wz", "uz", "wn", "un"].filter((n) => name === "gru" || !n.endsWith("n")));
      });
    }
  }

  it("the gradient of a scan is scans (no step unrolled), and it differentiates again: a Hessian-vector product", () => {
    const src = `input xs: [5, 2, 3]\ninput h0: [2, 4]\ninput v: [3, 4]\nparam wz: [3, 4]\nparam uz: [4, 4]\n${cells.rnn}
hs = scan(cell, h0, xs)\nloss = sum(hs * hs)\nhv = sum(grad(loss, wz) * v)\nminimize loss`;
    const p = lowerSource(src);
    const hv = p.definitions.get("hv")!;
    const b = new Builder(p.graph, undefined);
    const [g1] = gradients(b, p.objective!.node, [p.params[0]!.node]);
    expect(topoSort([g1!]).filter((n) => n.op.name === "scan").length).toBeGreaterThan(1);
    // d/dwz of (grad(loss, wz) . v) = H v: checked against differences of the gradient
    const [hvp] = gradients(b, hv, [p.params[0]!.node]);
    const vals = values(p, new Map(), 11);
    const got = evaluate([hvp!], { values: vals }).get(hvp!)!.data;
    const w = vals.get("wz")!;
    for (let i = 0; i < w.length; i += 3) {
      const h = 1e-5, w0 = w[i]!;
      w[i] = w0 + h; const up = scalar(hv, vals, new Map());
      w[i] = w0 - h; const down = scalar(hv, vals, new Map());
      w[i] = w0;
      const fd = (up - down) / (2 * h);
      expect(Math.abs(got[i]! - fd), `Hv[${i}]`).toBeLessThan(1e-6 * Math.max(1, Math.abs(fd)));
    }
  });

  it("a scan of a scan: the inner loop reads the outer carry", () => {
    const src = `input xs: [3, 4, 2]\ninput h0: [2]\nparam w: [2, 2]
fn inner(c, x) = tanh(c @ w + x)
fn outer(h, row) { hs = scan(inner, h, row); hs[-1] * 0.5 + h }
ys = scan(outer, h0, xs)\nloss = sum(ys * ys)\nminimize loss`;
    const p = lowerSource(src);
    checkGradients(p, new Map(), ["xs", "h0", "w"]);
  });

  it("mistakes are located GradcErrors", () => {
    const at = (src: string): [string, number, number] => {
      try { lowerSource(src, { filename: "m.grad" }); } catch (e) {
        if (e instanceof GradcError) return [e.code, e.line, e.column];
        throw e;
      }
      throw new Error("expected an error");
    };
    const head = "input xs: [5, 3]\ninput h0: [3]\n";
    expect(at(`${head}fn f(c, x) = sum(c) + x[0]\nys = scan(f, h0, xs)\noutput ys`)).toEqual(["E0266", 4, 6]);
    expect(at(`${head}fn f(c) = c\nys = scan(f, h0, xs)\noutput ys`)).toEqual(["E0264", 4, 11]);
    expect(at(`${head}ys = scan(h0, h0, xs)\noutput ys`)).toEqual(["E0264", 3, 11]);
    expect(at(`${head}input s\nfn f(c, x) = c + x\nys = scan(f, h0, s)\noutput ys`)).toEqual(["E0265", 5, 18]);
    expect(at(`${head}fn f(c, x) = c + q\nys = scan(f, h0, xs)\noutput ys`)).toEqual(["E0101", 3, 18]);
  });
});
