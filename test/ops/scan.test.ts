// scan's records (src/ops/scan.ts, scan-layout.ts): the packed layout (final carries, then
// the stacked ys), the shape rule and its internal refusals, the interpreter's reverse loop
// with two carries and two ys against the loop written out, scan_out at each offset, a
// body arg evaluated outside its loop, the cost (one step's body times the steps), and the
// wasm target.

import { describe, expect, it } from "vitest";
import { InternalError } from "../../src/diagnostics";
import { compile } from "../../src/index";
import { evaluate } from "../../src/interpret";
import { Graph, type Node } from "../../src/ir";
import { lowerSource } from "../../src/lower";
import { Builder, getOp, layoutOf } from "../../src/ops";
import { scanLayout, stepsOf } from "../../src/ops/scan-layout";
import { expectClose } from "../builtins/helpers";

const numel = (s: readonly unknown[]) => (s as number[]).reduce((x, d) => x * d, 1);

/** The loop node a program's first output reads (through scan_out). */
function loopOf(source: string): { loop: Node; program: ReturnType<typeof lowerSource> } {
  const program = lowerSource(source, { filename: "s.grad" });
  let n = program.outputs[0]!.node;
  while (n.op.name !== "scan") n = n.inputs[0]!;
  return { loop: n, program };
}

// Two carries (a: [2], b: [3]) and two ys (p: [2], q: []) over 4 steps of xs: [4, 3], from the last.
const listForm = `input xs: [4, 3]
input a0: [2]
input b0: [3]
fn cell(a, b, x) {
  a1 = a * 0.5 + sum(x * b)
  b1 = b - x * a[1]
  [a1, b1, a * 2, sum(b1)]
}
fa = scan(cell, [a0, b0], [xs], reverse = true, out = 0)
fb = scan(cell, [a0, b0], [xs], reverse = true, out = 1)
ps = scan(cell, [a0, b0], [xs], reverse = true, out = 2)
qs = scan(cell, [a0, b0], [xs], reverse = true, out = 3)
output fa, fb, ps, qs`;

describe("the packed layout", () => {
  it("final carries first, then each y stacked over the steps, back to back", () => {
    expect(scanLayout([[2], [3]], [[2], []], 4)).toEqual([
      { offset: 0, shape: [2] }, { offset: 2, shape: [3] }, { offset: 5, shape: [4, 2] }, { offset: 13, shape: [4] },
    ]);
    // free sizes: offsets as dim expressions
    const free = scanLayout([[2]], [["n"]], "t");
    expect(free.map((o) => o.shape)).toEqual([[2], ["t", "n"]]);
    expect(free[1]!.offset).toBe(2);
    expect(scanLayout([], [], 3)).toEqual([]);
  });

  it("the shape rule: one flat buffer of every output; no slices or unequal steps are refused", () => {
    const shape = getOp("scan").shape;
    const attrs = { carries: 1, slices: 1, ys: [[2], [3, 2]] as never, reverse: false };
    expect(shape([[2], [5, 4]], attrs, undefined, [])).toEqual([2 + 5 * 2 + 5 * 6]);
    expect(shape([[2], [5, 4], [5]], { ...attrs, slices: 2, ys: [] as never }, undefined, [])).toEqual([2]);
    expect(() => shape([[2], [5, 4], [6]], { ...attrs, slices: 2 }, undefined, [])).toThrow(InternalError);
    expect(() => shape([[2], [5, 4], [6]], { ...attrs, slices: 2 }, undefined, [])).toThrow("scan over [5, 4], [6]");
    expect(() => shape([[2], [5, 4]], { ...attrs, slices: 0 }, undefined, [])).toThrow(/scan over/);
    expect(() => shape([[2], []], attrs, undefined, [])).toThrow(InternalError);
  });

  it("a loop node's layout, its steps, and scan_out's shapes", () => {
    const { loop } = loopOf(listForm);
    expect(stepsOf(loop)).toBe(4);
    expect(layoutOf(loop).slice(0, 4)).toEqual([{ offset: 0, shape: [2] }, { offset: 2, shape: [3] }, { offset: 5, shape: [4, 2] }, { offset: 13, shape: [4] }]);
    const g = new Builder(new Graph(), undefined);
    expect(() => g.op("scan_out", [loop], { output: layoutOf(loop).length })).toThrow(/scan_out \d+ of a loop with fewer outputs/);
  });
});

describe("the interpreter", () => {
  it("a reverse loop of two carries and two ys equals the loop written out", () => {
    const { program } = loopOf(listForm);
    const xs = [0.5, -1, 2, 1.5, 0.25, -0.5, 1, 1, -2, 0.75, 0.1, 0.3];
    const a0 = [0.2, -0.4], b0 = [1, 2, -1];
    const outs = program.outputs.map((o) => o.node);
    const got = evaluate(outs, { values: new Map([["xs", xs], ["a0", a0], ["b0", b0]]) });
    // by hand, from the last step
    let a = [...a0], b = [...b0];
    const ps: number[][] = [], qs: number[] = [];
    for (let t = 3; t >= 0; t--) {
      const x = xs.slice(t * 3, t * 3 + 3);
      const s = x.reduce((acc, v, i) => acc + v * b[i]!, 0);
      const a1 = a.map((v) => v * 0.5 + s);
      const b1 = b.map((v, i) => v - x[i]! * a[1]!);
      ps[t] = a.map((v) => v * 2);
      qs[t] = b1.reduce((x1, y1) => x1 + y1, 0);
      a = a1; b = b1;
    }
    const flat = outs.map((o) => [...got.get(o)!.data]);
    expect(flat.length).toBe(4);
    expectClose(flat[0]!, a, 1e-14, "final a");
    expectClose(flat[1]!, b, 1e-14, "final b");
    expectClose(flat[2]!, ps.flat(), 1e-14, "stacked a * 2");
    expectClose(flat[3]!, qs, 1e-14, "stacked sum(b1)");
  });

  it("a y with a free dim other than the steps is stacked at its size bound at run time", () => {
    const src = "dim b\ninput xs: [3, b]\ninput h0: [b]\nfn cell(h, x) = h * 0.5 + x\nhs = scan(cell, h0, xs)\noutput hs";
    const { program } = loopOf(src);
    const hs = program.outputs[0]!.node;
    const got = evaluate([hs], { values: new Map([["xs", [1, 2, 3, 4, 5, 6]], ["h0", [10, 20]]]), dims: new Map([["b", 2]]) }).get(hs)!;
    expect([...got.data]).toEqual([6, 12, 6, 10, 8, 11]);
  });

  it("a body arg evaluated outside its loop is refused", () => {
    const g = new Builder(new Graph(), undefined);
    const arg = g.op("scan_arg", [], { tag: 0, slot: 0, shape: [2] });
    expect(arg.shape).toEqual([2]);
    expect(() => evaluate([arg], { values: new Map() })).toThrow(InternalError);
    expect(() => evaluate([arg], { values: new Map() })).toThrow(/outside its loop/);
  });
});

describe("emitted code", () => {
  it("the same reverse loop in f64 equals the interpreter, every output at its offset", () => {
    const { program } = loopOf(listForm);
    const values = { xs: Float64Array.of(0.5, -1, 2, 1.5, 0.25, -0.5, 1, 1, -2, 0.75, 0.1, 0.3), a0: Float64Array.of(0.2, -0.4), b0: Float64Array.of(1, 2, -1) };
    const outs = program.outputs.map((o) => o.node);
    const want = evaluate(outs, { values: new Map(Object.entries(values)) });
    const got = compile(listForm, { dtype: "f64" }).forward(values);
    ["fa", "fb", "ps", "qs"].forEach((name, i) => expectClose(got[name] as Float64Array, want.get(outs[i]!)!.data, 1e-13, name));
  });

  it("runs on the wasm target (scan, its args and outputs have wasm kernels) as on the JS target", () => {
    const src = "input xs: [3, 2]\ninput h0: [2]\nparam w: [2, 2]\nfn cell(h, x) = tanh(h @ w + x)\nhs = scan(cell, h0, xs)\noutput hs\nminimize sum(hs * hs)";
    const values = { xs: Float32Array.of(0.5, -1, 0.25, 0.75, -0.5, 1), h0: Float32Array.of(0.1, -0.2), w: Float32Array.of(0.3, -0.6, 0.9, 0.2) };
    const wasm = compile(src, { target: "wasm" }).valueAndGrad(values);
    const js = compile(src).valueAndGrad(values);
    expect(wasm.value).toBeCloseTo(js.value, 5);
    expectClose(wasm.grads.w!, js.grads.w!, 1e-5, "d_w");
  });
});

describe("scan's cost", () => {
  it("is one step's body (its sources free) times the steps; a free count of steps counts once", () => {
    const cell = "fn cell(h, x) = tanh(h * x + 1)";
    const fixed = loopOf(`input xs: [5, 3]\ninput h0: [3]\n${cell}\nhs = scan(cell, h0, xs)\noutput hs`).loop;
    const free = loopOf(`dim t\ninput xs: [t, 3]\ninput h0: [3]\n${cell}\nhs = scan(cell, h0, xs)\noutput hs`).loop;
    const count = (n: Node) => getOp("scan").cost!(n, ((s: readonly unknown[]) => numel(s.map((d) => (typeof d === "number" ? d : 1)))) as never);
    const perStep = count(free);
    expect(perStep).toBeGreaterThan(0);
    expect(count(fixed)).toBe(5 * perStep);
    // the body's nodes that are not sources (args, constants), each its size: h * x, + 1, tanh
    const body = fixed.body!;
    const seen = new Set<Node>();
    const work = [...body.results];
    for (let n = work.pop(); n; n = work.pop()) if (!seen.has(n)) { seen.add(n); work.push(...n.inputs); }
    const inner = [...seen].filter((n) => n.op.kind !== "source").reduce((acc, n) => acc + numel(n.shape), 0);
    expect(perStep).toBe(inner);
    expect([...seen].some((n) => n.op.kind === "source")).toBe(true);
  });
});
