// Which kernels the wasm target runs on its SIMD matmul instead of translating the JS
// target's scalar code: a rank-2 matmul, each operand a stored array or the transpose of
// one (A^T @ dC and dC @ B^T, a matmul's gradients), large enough for the tiles to pay. Its
// sizes may be free dims (a batch): the kernel then takes them as arguments, the values of
// the dims' expressions at the call. An epilogue fused into it (bias, relu) then runs over the stored product.

import * as js from "../estree";
import { isKnown, stridesOf, type Dim, type Node } from "../../ir";
import type { Plan } from "../../schedule";
import type { WasmBuild } from "./build";
import { convGeometry, type ConvAttributes } from "./conv";
import { vectorMapOf, vectorMapRuns } from "./epilogue";
import type { Extent, MatmulShape, Stride } from "./matmul";
import { poolGeometry, type PoolKind } from "./pool";

/** Products smaller than this (m * k * n) stay scalar code. */
const minimumWork = 2048;
/** A free size (a batch, read at run time), as the estimate of the work counts it. */
const freeSizeGuess = 16;

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
export function simdMatmulFor(k: Node, plan: Plan, wasm: WasmBuild, nameOf: (n: Node) => string, fresh: (prefix: string) => string, dim: (d: Dim) => js.Expression):
  { call: js.Statement[]; epilogue?: { producer: Node } } | undefined {
  const producer = plan.fusedProducer.get(k);
  const mm = producer ?? k;
  const conv = simdConvFor(mm, k, plan, wasm, nameOf, fresh, dim);
  if (conv) return withEpilogue(conv, k, producer, plan, wasm, nameOf, fresh, dim);
  const pool = simdPoolFor(mm, k, plan, wasm, nameOf, fresh, dim);
  if (pool) return withEpilogue(pool, k, producer, plan, wasm, nameOf, fresh, dim);
  if (!producer && (k.op.name === "sum" || k.op.name === "max")) {
    const reduce = simdReduce(k, plan, wasm, nameOf, fresh);
    return reduce ? { call: reduce } : undefined;
  }
  if (!producer && k.op.kind === "elementwise") {
    const map = simdMap(k, undefined, plan, wasm, nameOf, fresh, dim);
    return map ? { call: map } : undefined;
  }
  if (mm.op.name === "matmul" && mm.shape.length > 2) {
    const call = simdBatchedMatmulFor(mm, k, plan, wasm, nameOf, fresh);
    return call ? withEpilogue(call, k, producer, plan, wasm, nameOf, fresh, dim) : undefined;
  }
  if (mm.op.name !== "matmul" || mm.shape.length !== 2) return undefined;
  const [a, b] = mm.inputs as [Node, Node];
  const sizes = { m: mm.shape[0]!, k: a.shape[1]!, n: mm.shape[1]! };
  // a free size counts as freeSizeGuess in the estimate of the work
  const work = Object.values(sizes).reduce<number>((w, d) => w * (typeof d === "number" ? d : freeSizeGuess), 1);
  if (work < minimumWork) return undefined;
  const A = operand(a, plan), B = operand(b, plan);
  if (!A || !B) return undefined;
  // a weight gradient over a long batch, every size known: k in blocks
  const { m: sm, k: sk, n: sn } = sizes;
  if (A.transposed && !B.transposed && typeof sm === "number" && typeof sk === "number" && typeof sn === "number" && sk > 2 * kBlock) {
    return withEpilogue(splitK(sm, sk, sn, nameOf(A.leaf), nameOf(B.leaf), nameOf(k), wasm, fresh), k, producer, plan, wasm, nameOf, fresh, dim);
  }
  // (a transposed B is copied into scratch of a size known when compiling)
  if (B.transposed && (typeof sizes.k !== "number" || typeof sizes.n !== "number")) return undefined;
  const extent = (d: Dim): Extent => (typeof d === "number" ? d : "free");
  const shape: MatmulShape = {
    m: extent(sizes.m), k: extent(sizes.k), n: extent(sizes.n),
    ...(A.transposed ? { aStride: [1, typeof sizes.m === "number" ? sizes.m : "m"] as [Stride, Stride] } : {}),
    ...(B.transposed ? { bTransposed: true } : {}),
  };
  const { name, scratch } = wasm.matmul(shape, fresh);
  const free = (["m", "k", "n"] as const).filter((d) => shape[d] === "free").map((d) => dim(sizes[d]));
  const args = [...[nameOf(A.leaf), nameOf(B.leaf), nameOf(k), ...(scratch ? [scratch] : [])].map(js.id), ...free];
  return withEpilogue([js.stmt(js.call(name, ...args))], k, producer, plan, wasm, nameOf, fresh, dim);
}


/** `n` as a strided view of a stored array: the array, and `n`'s element stride along
 *  each of its axes (0 along a broadcast one), through reshapes, transposes and
 *  broadcasts; undefined for anything else, or a reshape that would need a copy. */
export function stridedView(n: Node, plan: Plan): { leaf: Node; strides: number[] } | undefined {
  if (!isKnown(n.shape)) return undefined;
  if (plan.materialized.has(n)) return { leaf: n, strides: stridesOf(n.shape) };
  const input = n.inputs[0];
  if (!input || !isKnown(input.shape)) return undefined;
  const name = n.op.name;
  if (name !== "reshape" && name !== "transpose" && name !== "broadcast") return undefined;
  const inner = stridedView(input, plan);
  if (!inner) return undefined;
  if (name === "transpose") return { leaf: inner.leaf, strides: (n.attrs.perm as number[]).map((p) => inner.strides[p]!) };
  if (name === "broadcast") {
    // input axis i is the output's axis dims[i]; the others (and size-1 ones) repeat
    const strides = n.shape.map(() => 0);
    (n.attrs.dims as number[]).forEach((d, i) => { if (input.shape[i] !== 1) strides[d] = inner.strides[i]!; });
    return { leaf: inner.leaf, strides };
  }
  const strides = reshapeStrides(input.shape, inner.strides, n.shape);
  return strides && { leaf: inner.leaf, strides };
}

/** The strides of a reshape of a strided array to `to` when it moves nothing (NumPy's
 *  no-copy reshape): `to`'s axes group with runs of the input's axes of the same count,
 *  each run of input axes (size-1 ones aside) stepping as one contiguous block. */
function reshapeStrides(from: readonly number[], strides: readonly number[], to: readonly number[]): number[] | undefined {
  const axes = from.map((d, i) => [d, strides[i]!] as const).filter(([d]) => d !== 1);
  const out = to.map(() => 0);
  let i = 0;
  let j = 0;
  while (j < to.length || i < axes.length) {
    if (j < to.length && to[j] === 1) { j++; continue; }
    if (i >= axes.length || j >= to.length) return undefined;
    // one group: input axes i..i2, output axes j..j2, of equal counts
    let [ci, cj] = [axes[i]![0], to[j]!];
    let [i2, j2] = [i + 1, j + 1];
    while (ci !== cj) {
      if (ci < cj) { if (i2 >= axes.length) return undefined; ci *= axes[i2++]![0]; }
      else { if (j2 >= to.length) return undefined; cj *= to[j2++]!; }
    }
    for (let a = i; a < i2 - 1; a++) if (axes[a]![1] !== axes[a + 1]![1] * axes[a + 1]![0]) return undefined;
    // output strides within the group, from its last input axis' stride
    let step = axes[i2 - 1]![1];
    for (let b = j2 - 1; b >= j; b--) { out[b] = step; step *= to[b]!; }
    [i, j] = [i2, j2];
  }
  return out;
}

/** A batched matmul (rank > 2, known sizes) whose operands are strided views of stored
 *  arrays, as a call of its SIMD kernel (batched.ts) storing into `stored`'s buffer. */
function simdBatchedMatmulFor(mm: Node, stored: Node, plan: Plan, wasm: WasmBuild, nameOf: (n: Node) => string, fresh: (prefix: string) => string): js.Statement[] | undefined {
  const [a, b] = mm.inputs as [Node, Node];
  if (!isKnown(mm.shape) || !isKnown(a.shape)) return undefined;
  const r = mm.shape.length;
  const [m, n] = mm.shape.slice(r - 2) as [number, number];
  const inner = a.shape[r - 1]!;
  if (mm.shape.reduce((x, y) => x * y, 1) * inner < minimumWork) return undefined;
  const A = stridedView(a, plan), B = stridedView(b, plan);
  if (!A || !B) return undefined;
  const operand = (s: number[]) => ({ batch: s.slice(0, r - 2), rows: s[r - 2]!, cols: s[r - 1]! });
  const name = wasm.batchedMatmul({ batch: mm.shape.slice(0, r - 2), m, k: inner, n, a: operand(A.strides), b: operand(B.strides) }, fresh);
  return [js.stmt(js.call(name, ...[A.leaf, B.leaf, stored].map((x) => js.id(nameOf(x)))))];
}

/** A weight gradient's k (the batch) runs in blocks of this many rows. */
const kBlock = 128;

/** C = A^T @ B over a long k (x^T @ dy, a weight gradient summed over a large batch) as a
 *  call per block of kBlock rows of A and B, the first storing, the others adding: each
 *  tile then walks kBlock rows of A and B, strided by a row each step, which stay in the
 *  L1 cache across the tiles, not the whole k (1.1-1.5x faster at k = 1024, CPU time). */
function splitK(m: number, inner: number, n: number, a: string, b: string, c: string, wasm: WasmBuild, fresh: (prefix: string) => string): js.Statement[] {
  const calls: js.Statement[] = [];
  for (let k0 = 0; k0 < inner; k0 += kBlock) {
    const { name } = wasm.matmul({ m, k: Math.min(kBlock, inner - k0), n, aStride: [1, m], ...(k0 > 0 ? { accumulate: true } : {}) }, fresh);
    const at = (array: string, offset: number) => (offset === 0 ? js.id(array) : js.call("elementAddress", js.id(array), js.num(offset)));
    calls.push(js.stmt(js.call(name, at(a, k0 * m), at(b, k0 * n), js.id(c))));
  }
  return calls;
}

/** The SIMD call, then the epilogue fused after it: f32x4 code where its expression
 *  vectorises, else (epilogue) the JS target's, translated. */
function withEpilogue(call: js.Statement[], k: Node, producer: Node | undefined, plan: Plan, wasm: WasmBuild, nameOf: (n: Node) => string, fresh: (prefix: string) => string, dim: (d: Dim) => js.Expression):
  { call: js.Statement[]; epilogue?: { producer: Node } } {
  if (!producer) return { call };
  const map = simdMap(k, producer, plan, wasm, nameOf, fresh, dim);
  return map ? { call: [...call, ...map] } : { call, epilogue: { producer } };
}

/** A fused group of elementwise kernels (each member stored, as gelu's intermediates its
 *  gradient reads) as one f32x4 map with an output per member, or undefined. */
export function simdGroupFor(members: readonly Node[], plan: Plan, wasm: WasmBuild, nameOf: (n: Node) => string, fresh: (prefix: string) => string, dim: (d: Dim) => js.Expression):
  { call: js.Statement[]; epilogue?: undefined } | undefined {
  if (!members.every((m) => m.op.kind === "elementwise" && !plan.fusedProducer.has(m))) return undefined;
  const found = vectorMapOf(members, plan);
  if (!found || !vectorMapRuns(found.map)) return undefined;
  const name = wasm.vectorMap(found.map, false, fresh);
  const batch = found.map.shape[0] === "free" ? [dim(members[0]!.shape[0]!)] : [];
  return { call: [js.stmt(js.call(name, ...[...members, ...found.leaves].map((n) => js.id(nameOf(n))), ...batch))] };
}

/** A sum or maximum over the last axis only (softmax's and layer norm's, with the
 *  elementwise code fused into it: the sum of exp(x - max)), every size known, as an
 *  f32x4 reduction (epilogue.ts) over its input's expression, or undefined. */
function simdReduce(k: Node, plan: Plan, wasm: WasmBuild, nameOf: (n: Node) => string, fresh: (prefix: string) => string): js.Statement[] | undefined {
  const x = k.inputs[0]!;
  const axes = k.attrs.axes as number[];
  if (!isKnown(x.shape) || x.shape.length === 0 || axes.length !== 1 || axes[0] !== x.shape.length - 1 || x.shape[axes[0]]! < 4) return undefined;
  // a stored array (or a reshape of one) read whole, else the expression fused into it
  const leaf = storedAs(x, plan);
  const found = leaf
    ? { map: { shape: [...x.shape], operands: [stridesOf(x.shape)], exprs: [{ operand: 0 }] }, leaves: [leaf] }
    : vectorMapOf(x, plan);
  if (!found || !vectorMapRuns(found.map) || found.leaves.length === 0) return undefined;
  const name = wasm.vectorReduce(found.map, k.op.name as "sum" | "max", fresh);
  return [js.stmt(js.call(name, ...[k, ...found.leaves].map((n) => js.id(nameOf(n)))))];
}

/** `k` as an f32x4 map over stored arrays (in place over `self`, the stored result of
 *  the SIMD kernel it is fused after), or undefined. */
function simdMap(k: Node, self: Node | undefined, plan: Plan, wasm: WasmBuild, nameOf: (n: Node) => string, fresh: (prefix: string) => string, dim: (d: Dim) => js.Expression): js.Statement[] | undefined {
  const found = vectorMapOf(k, plan, self);
  if (!found || !vectorMapRuns(found.map)) return undefined;
  const operands = (self ? found.leaves.slice(1) : found.leaves).map(nameOf);
  if (operands.some((n) => typeof n !== "string")) return undefined;
  const name = wasm.vectorMap(found.map, self !== undefined, fresh);
  const batch = found.map.shape[0] === "free" ? [dim(k.shape[0]!)] : [];
  return [js.stmt(js.call(name, ...[nameOf(k), ...operands].map(js.id), ...batch))];
}

/** A convolution or one of its gradients (spatial rank 1 or 2, known sizes but for a
 *  free batch, stored operands) as a call of its SIMD kernel (conv.ts), storing into `stored`'s buffer (the
 *  op's own, or that of the epilogue fused after it). */
function simdConvFor(op: Node, stored: Node, plan: Plan, wasm: WasmBuild, nameOf: (n: Node) => string, fresh: (prefix: string) => string, dim: (d: Dim) => js.Expression): js.Statement[] | undefined {
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
  const batch = geometry.n === "free" ? [dim(x[0]!)] : [];
  return [js.stmt(js.call(name, ...[sa, sb, stored].map((n) => js.id(nameOf(n))), ...batch))];
}

/** Max pooling, its selection and (windows tiling the plane) its gradient as a call of
 *  the f32x4 kernel (pool.ts; a free batch passed to it), storing into `stored`'s buffer. */
function simdPoolFor(op: Node, stored: Node, plan: Plan, wasm: WasmBuild, nameOf: (n: Node) => string, fresh: (prefix: string) => string, dim: (d: Dim) => js.Expression): js.Statement[] | undefined {
  const kind = op.op.name;
  if (kind !== "maxpool2d" && kind !== "maxpool2d_select" && kind !== "maxpool2d_grad") return undefined;
  const inputs = op.inputs.map((i) => storedAs(i, plan));
  if (!inputs.every((i): i is Node => i !== undefined)) return undefined;
  const geometry = poolGeometry(kind as PoolKind, op.inputs[0]!.shape, op.attrs as { size?: unknown; stride?: unknown });
  if (!geometry) return undefined;
  const name = wasm.pool(kind as PoolKind, geometry, fresh);
  const batch = geometry.freeBatch ? [dim(op.inputs[0]!.shape[0]!)] : [];
  return [js.stmt(js.call(name, ...[...inputs, stored].map((n) => js.id(nameOf(n))), ...batch))];
}
