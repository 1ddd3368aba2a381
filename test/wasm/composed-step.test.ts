// The wasm kernels compose into a whole training step: the W2-shaped MLP (784-128-10,
// batch 64, relu, mse) run as matmul (+ bias, relu), map and column-sum kernels over one
// wasm memory, checked against the JS target's valueAndGrad and step of the same model.
// This is the schedule the model step will print (docs/wasm.md); here it is written by hand.

import { describe, expect, it } from "vitest";
import { ModuleBuilder } from "../../src/codegen/wasm/encode";
import { addColumnSum, addMap, type Expr } from "../../src/codegen/wasm/elementwise";
import { wasmApi, type WasmMemory } from "../../src/codegen/wasm/engine";
import { addMatmul } from "../../src/codegen/wasm/matmul";
import { compile } from "../../src/index";

const WebAssembly = wasmApi!;
const [B, I, H, O] = [64, 784, 128, 10];
const lr = 0.1;
const source = `input x: [${B}, ${I}]
input y: [${B}, ${O}]
param w1: [${I}, ${H}]
param b1: [${H}]
param w2: [${H}, ${O}]
param b2: [${O}]
h = relu(x @ w1 + b1)
logits = h @ w2 + b2
minimize mse(logits, y) with sgd(lr = ${lr})
`;

const x0: Expr = { input: 0 }, x1: Expr = { input: 1 };

function buildStep() {
  const m = new ModuleBuilder().setMemory(32, undefined, "memory");
  addMatmul(m, { m: B, k: I, n: H, bias: true, relu: true }, "layer1");
  addMatmul(m, { m: B, k: H, n: O, bias: true }, "layer2");
  addMap(m, B * O, 2, { op: "mul", a: { op: "sub", a: x0, b: x1 }, b: { constant: 2 / (B * O) } }, "dlogits");
  addMap(m, B * O, 2, { op: "mul", a: { op: "sub", a: x0, b: x1 }, b: { op: "sub", a: x0, b: x1 } }, "squares");
  addColumnSum(m, B * O, 1, false, "total");
  addMatmul(m, { m: H, k: B, n: O, aStride: [1, H] }, "dw2");
  addColumnSum(m, B, O, false, "db2");
  addMatmul(m, { m: B, k: O, n: H, bTransposed: true }, "dh");
  addMap(m, B * H, 2, { op: "where_gt", a: x0, b: { constant: 0 }, then: x1, else: { constant: 0 } }, "relugrad");
  addMatmul(m, { m: I, k: B, n: H, aStride: [1, I] }, "dw1");
  addColumnSum(m, B, H, false, "db1");
  for (const n of [I * H, H, H * O, O]) addMap(m, n, 2, { op: "sub", a: x0, b: { op: "mul", a: { constant: lr }, b: x1 } }, `sgd${n}`);
  const wasm = m.encode();
  expect(WebAssembly.validate(wasm)).toBe(true);
  const ex = new WebAssembly.Instance(new WebAssembly.Module(wasm)).exports as Record<string, (...a: number[]) => void>;
  const memory = (ex.memory as unknown as WasmMemory);
  // a bump arena, 16-byte aligned
  let top = 0;
  const at: Record<string, { off: number; n: number }> = {};
  for (const [name, n] of Object.entries({ x: B * I, y: B * O, w1: I * H, b1: H, w2: H * O, b2: O, h: B * H, logits: B * O, d: B * O, sq: B * O, loss: 1, gw1: I * H, gb1: H, gw2: H * O, gb2: O, dh: B * H, dhr: B * H, scratch: O * H })) {
    at[name] = { off: top, n };
    top += Math.ceil(n / 4) * 16;
  }
  expect(top).toBeLessThan(memory.buffer.byteLength);
  const view = (name: string) => new Float32Array(memory.buffer, at[name]!.off, at[name]!.n);
  const p = (name: string) => at[name]!.off;
  const valueAndGrad = () => {
    ex.layer1!(p("x"), p("w1"), p("h"), p("b1"));
    ex.layer2!(p("h"), p("w2"), p("logits"), p("b2"));
    ex.squares!(p("logits"), p("y"), p("sq"));
    ex.total!(p("sq"), p("loss"));
    ex.dlogits!(p("logits"), p("y"), p("d"));
    ex.dw2!(p("h"), p("d"), p("gw2"));
    ex.db2!(p("d"), p("gb2"));
    ex.dh!(p("d"), p("w2"), p("dh"), p("scratch"));
    ex.relugrad!(p("h"), p("dh"), p("dhr"));
    ex.dw1!(p("x"), p("dhr"), p("gw1"));
    ex.db1!(p("dhr"), p("gb1"));
    return view("loss")[0]! / (B * O);
  };
  const step = () => {
    const loss = valueAndGrad();
    for (const [w, g] of [["w1", "gw1"], ["b1", "gb1"], ["w2", "gw2"], ["b2", "gb2"]] as const) ex[`sgd${at[w]!.n}`]!(p(w), p(g), p(w));
    return loss;
  };
  return { view, valueAndGrad, step };
}

function expectClose(got: Float32Array, want: Float32Array, what: string): void {
  let scale = 0, worst = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]!));
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
  // f32 sums of up to 784 terms in a different order
  expect(worst / scale, what).toBeLessThan(1e-4);
}

describe("a training step composed of wasm kernels", () => {
  const js = compile(source, { seed: 3 });
  const wasm = buildStep();
  const x = new Float32Array(B * I).map((_, i) => ((i * 7919) % 1000) / 1000);
  const y = new Float32Array(B * O).map((_, i) => ((i * 31) % 17) / 17 - 0.5);
  wasm.view("x").set(x);
  wasm.view("y").set(y);
  for (const name of ["w1", "b1", "w2", "b2"]) wasm.view(name).set(js.params[name]!);

  it("loss and every gradient agree with the JS target's valueAndGrad", () => {
    const ref = js.valueAndGrad({ x, y });
    const loss = wasm.valueAndGrad();
    expect(Math.abs(loss - ref.value) / ref.value).toBeLessThan(1e-5);
    for (const name of ["w1", "b1", "w2", "b2"]) expectClose(wasm.view(`g${name}`), ref.grads[name] as Float32Array, name);
    // the relu is active somewhere and dead somewhere: the mask is exercised both ways
    const h = wasm.view("h");
    expect(h.some((v) => v === 0) && h.some((v) => v > 0)).toBe(true);
  });

  it("ten sgd steps track the JS target's step", () => {
    for (let s = 0; s < 10; s++) {
      const want = js.step({ x, y });
      const got = wasm.step();
      expect(Math.abs(got - want) / want).toBeLessThan(1e-4);
    }
    for (const name of ["w1", "b1", "w2", "b2"]) expectClose(wasm.view(name), js.params[name] as Float32Array, name);
  });
});
