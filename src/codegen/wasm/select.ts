// Which kernels the wasm target runs on its SIMD matmul instead of translating the JS
// target's scalar code: a rank-2 matmul with known sizes, each operand a stored array or the
// transpose of one (A^T @ dC and dC @ B^T, a matmul's gradients), large enough for the
// tiles to pay. An epilogue fused into it (bias, relu) then runs over the stored product.

import * as js from "../estree";
import type { Node } from "../../ir";
import type { Plan } from "../../schedule";
import type { WasmBuild } from "./build";
import { convGeometry, type ConvAttributes } from "./conv";
import { vectorMapOf, vectorMapRuns } from "./epilogue";
import { poolGeometry, type PoolKind } from "./pool";

/** Products smaller than this (m * k * n) stay scalar code. */
const minimumWork = 2048;

interface Operand {
  leaf: Node;
  transposed: boolean;
}

/** The stored array `n` reads as it is, row-major: `n` itself, or what a chain of
 *  reshapes views (a reshape of a stored array moves nothing). */
function storedAs(n: Node, plan: Plan): Node | undefined {
  let x = n;
  while (!plan.materialized.has(x) && x.op.name === "reshape") x = x.inputs[0]!;
  return plan.materialized.has(x) ? x : undefined;
}

function operand(n: Node, plan: Plan): Operand | undefined {
  if (n.shape.length !== 2) return undefined;
  const leaf = storedAs(n, plan);
  if (leaf) return { leaf, transposed: false };
  if (n.op.name === "transpose" && n.inputs[0]!.shape.length === 2) {
    const inner = storedAs(n.inputs[0]!, plan);
    if (inner) return { leaf: inner, transposed: true };
  }
  return undefined;
}

/** The SIMD call computing `k` (or the matmul whose epilogue `k` is), or undefined. */
export function simdMatmulFor(k: Node, plan: Plan, wasm: WasmBuild, nameOf: (n: Node) => string, fresh: (prefix: string) => string):
  { call: js.Statement[]; epilogue?: { producer: Node } } | undefined {
  const producer = plan.fusedProducer.get(k);
  const mm = producer ?? k;
  const conv = simdConvFor(mm, k, plan, wasm, nameOf, fresh);
  if (conv) return withEpilogue(conv, k, producer, plan, wasm, nameOf, fresh);
  const pool = simdPoolFor(mm, k, plan, wasm, nameOf, fresh);
  if (pool) return withEpilogue(pool, k, producer, plan, wasm, nameOf, fresh);
  if (!producer && k.op.kind === "elementwise") {
    const map = simdMap(k, undefined, plan, wasm, nameOf, fresh);
    return map ? { call: map } : undefined;
  }
  if (mm.op.name !== "matmul" || mm.shape.length !== 2) return undefined;
  const [a, b] = mm.inputs as [Node, Node];
  const [m, n] = mm.shape;
  const inner = a.shape[1];
  if (typeof m !== "number" || typeof n !== "number" || typeof inner !== "number" || m * n * inner < minimumWork) return undefined;
  const A = operand(a, plan), B = operand(b, plan);
  if (!A || !B) return undefined;
  const { name, scratch } = wasm.matmul({ m, k: inner, n, ...(A.transposed ? { aStride: [1, m] as [number, number] } : {}), ...(B.transposed ? { bTransposed: true } : {}) }, fresh);
  const args = [nameOf(A.leaf), nameOf(B.leaf), nameOf(k), ...(scratch ? [scratch] : [])].map(js.id);
  return withEpilogue([js.stmt(js.call(name, ...args))], k, producer, plan, wasm, nameOf, fresh);
}

/** The SIMD call, then the epilogue fused after it: f32x4 code where its expression
 *  vectorises, else (epilogue) the JS target's, translated. */
function withEpilogue(call: js.Statement[], k: Node, producer: Node | undefined, plan: Plan, wasm: WasmBuild, nameOf: (n: Node) => string, fresh: (prefix: string) => string):
  { call: js.Statement[]; epilogue?: { producer: Node } } {
  if (!producer) return { call };
  const map = simdMap(k, producer, plan, wasm, nameOf, fresh);
  return map ? { call: [...call, ...map] } : { call, epilogue: { producer } };
}

/** `k` as an f32x4 map over stored arrays (in place over `self`, the stored result of
 *  the SIMD kernel it is fused after), or undefined. */
function simdMap(k: Node, self: Node | undefined, plan: Plan, wasm: WasmBuild, nameOf: (n: Node) => string, fresh: (prefix: string) => string): js.Statement[] | undefined {
  const found = vectorMapOf(k, plan, self);
  if (!found || !vectorMapRuns(found.map)) return undefined;
  const operands = (self ? found.leaves.slice(1) : found.leaves).map(nameOf);
  if (operands.some((n) => typeof n !== "string")) return undefined;
  const name = wasm.vectorMap(found.map, self !== undefined, fresh);
  return [js.stmt(js.call(name, ...[nameOf(k), ...operands].map(js.id)))];
}

/** A convolution or one of its gradients (spatial rank 1 or 2, known sizes, stored
 *  operands) as a call of its SIMD kernel (conv.ts), storing into `stored`'s buffer (the
 *  op's own, or that of the epilogue fused after it). */
function simdConvFor(op: Node, stored: Node, plan: Plan, wasm: WasmBuild, nameOf: (n: Node) => string, fresh: (prefix: string) => string): js.Statement[] | undefined {
  const kind = op.op.name;
  if (kind !== "conv" && kind !== "conv_input_grad" && kind !== "conv_weight_grad") return undefined;
  const [sa, sb] = op.inputs.map((i) => storedAs(i, plan));
  if (!sa || !sb) return undefined;
  const [a, b] = op.inputs as [Node, Node];
  const attrs = op.attrs as unknown as ConvAttributes;
  // the geometry of the forward convolution: x, w, y
  const [x, w, y] = kind === "conv" ? [a.shape, b.shape, op.shape] : kind === "conv_input_grad" ? [op.shape, b.shape, a.shape] : [a.shape, op.shape, b.shape];
  const geometry = convGeometry(x, w, y, attrs);
  if (!geometry) return undefined;
  const name = wasm.conv(kind, geometry, fresh);
  return [js.stmt(js.call(name, ...[sa, sb, stored].map((n) => js.id(nameOf(n)))))];
}

/** Max pooling, its selection and (windows tiling the plane) its gradient as a call of
 *  the f32x4 kernel (pool.ts), storing into `stored`'s buffer. */
function simdPoolFor(op: Node, stored: Node, plan: Plan, wasm: WasmBuild, nameOf: (n: Node) => string, fresh: (prefix: string) => string): js.Statement[] | undefined {
  const kind = op.op.name;
  if (kind !== "maxpool2d" && kind !== "maxpool2d_select" && kind !== "maxpool2d_grad") return undefined;
  const inputs = op.inputs.map((i) => storedAs(i, plan));
  if (!inputs.every((i): i is Node => i !== undefined)) return undefined;
  const geometry = poolGeometry(kind as PoolKind, op.inputs[0]!.shape, op.attrs as { size?: unknown; stride?: unknown });
  if (!geometry) return undefined;
  const name = wasm.pool(kind as PoolKind, geometry, fresh);
  return [js.stmt(js.call(name, ...[...inputs, stored].map((n) => js.id(nameOf(n)))))];
}
