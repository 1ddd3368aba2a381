// Which kernels the wasm target runs on its SIMD matmul instead of translating the JS
// target's scalar code: a rank-2 matmul with known sizes, each operand a stored array or the
// transpose of one (A^T @ dC and dC @ B^T, a matmul's gradients), large enough for the
// tiles to pay. An epilogue fused into it (bias, relu) then runs over the stored product.

import * as js from "../estree";
import type { Node } from "../../ir";
import type { Plan } from "../../schedule";
import type { WasmBuild } from "./build";
import { convGeometry, type ConvAttributes } from "./conv";

/** Products smaller than this (m * k * n) stay scalar code. */
const minimumWork = 2048;

interface Operand {
  leaf: Node;
  transposed: boolean;
}

function operand(n: Node, plan: Plan): Operand | undefined {
  if (n.shape.length !== 2) return undefined;
  if (plan.materialized.has(n)) return { leaf: n, transposed: false };
  if (n.op.name === "transpose" && plan.materialized.has(n.inputs[0]!) && n.inputs[0]!.shape.length === 2) {
    return { leaf: n.inputs[0]!, transposed: true };
  }
  return undefined;
}

/** The SIMD call computing `k` (or the matmul whose epilogue `k` is), or undefined. */
export function simdMatmulFor(k: Node, plan: Plan, wasm: WasmBuild, nameOf: (n: Node) => string, fresh: (prefix: string) => string):
  { call: js.Statement[]; epilogue?: { producer: Node } } | undefined {
  const producer = plan.fusedProducer.get(k);
  const mm = producer ?? k;
  const conv = simdConvFor(mm, k, plan, wasm, nameOf, fresh);
  if (conv) return { call: conv, ...(producer ? { epilogue: { producer } } : {}) };
  if (mm.op.name !== "matmul" || mm.shape.length !== 2) return undefined;
  const [a, b] = mm.inputs as [Node, Node];
  const [m, n] = mm.shape;
  const inner = a.shape[1];
  if (typeof m !== "number" || typeof n !== "number" || typeof inner !== "number" || m * n * inner < minimumWork) return undefined;
  const A = operand(a, plan), B = operand(b, plan);
  if (!A || !B) return undefined;
  const { name, scratch } = wasm.matmul({ m, k: inner, n, ...(A.transposed ? { aStride: [1, m] as [number, number] } : {}), ...(B.transposed ? { bTransposed: true } : {}) }, fresh);
  const args = [nameOf(A.leaf), nameOf(B.leaf), nameOf(k), ...(scratch ? [scratch] : [])].map(js.id);
  return { call: [js.stmt(js.call(name, ...args))], ...(producer ? { epilogue: { producer } } : {}) };
}

/** A convolution or one of its gradients (spatial rank 1 or 2, known sizes, stored
 *  operands) as a call of its SIMD kernel (conv.ts), storing into `stored`'s buffer (the
 *  op's own, or that of the epilogue fused after it). */
function simdConvFor(op: Node, stored: Node, plan: Plan, wasm: WasmBuild, nameOf: (n: Node) => string, fresh: (prefix: string) => string): js.Statement[] | undefined {
  const kind = op.op.name;
  if (kind !== "conv" && kind !== "conv_input_grad" && kind !== "conv_weight_grad") return undefined;
  const [a, b] = op.inputs as [Node, Node];
  if (!plan.materialized.has(a) || !plan.materialized.has(b)) return undefined;
  const attrs = op.attrs as unknown as ConvAttributes;
  // the geometry of the forward convolution: x, w, y
  const [x, w, y] = kind === "conv" ? [a.shape, b.shape, op.shape] : kind === "conv_input_grad" ? [op.shape, b.shape, a.shape] : [a.shape, op.shape, b.shape];
  const geometry = convGeometry(x, w, y, attrs);
  if (!geometry) return undefined;
  const name = wasm.conv(kind, geometry, fresh);
  return [js.stmt(js.call(name, ...[a, b, stored].map((n) => js.id(nameOf(n)))))];
}
