// matmul on operands of equal rank r >= 2 with equal leading (batch) dims:
// [...batch, m, k] @ [...batch, k, n]. Lowering reduces NumPy's matmul (rank-1 operands,
// batch dims that broadcast) to this with reshapes and broadcasts, so their derivatives
// (the unbroadcast sums) come for free.

import { fail } from "../diagnostics";
import * as js from "../codegen/estree";
import { formatShape, numel, type Dim, type OpDef, type Shape } from "../ir";
import type { KernelContext, KernelEmit } from "./define";
import { nest } from "./movement";

type KernelDef = OpDef & { readonly emit: KernelEmit };

export function swapLast(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 1] = rank - 2;
  perm[rank - 2] = rank - 1;
  return perm;
}

export const matmul: KernelDef = {
  name: "matmul", kind: "kernel", arity: 2, wasm: true,
  shape: ([a, b], _attrs, span) => {
    const sa = formatShape(a!);
    const sb = formatShape(b!);
    if (a!.length !== b!.length || a!.length < 2) fail("E0202", span, sa, sb, "the ranks must be equal and at least 2");
    const r = a!.length;
    if (a![r - 1] !== b![r - 2]) fail("E0202", span, sa, sb, `inner sizes ${a![r - 1]} and ${b![r - 2]} differ`);
    if (a!.slice(0, r - 2).some((d, i) => d !== b![i])) fail("E0202", span, sa, sb, `batch dims ${formatShape(a!.slice(0, r - 2))} and ${formatShape(b!.slice(0, r - 2))} differ`);
    return [...a!.slice(0, r - 1), b![r - 1]!] as Shape;
  },
  evaluate: ([a, b], _attrs, out) => {
    const r = out.length;
    // Stryker disable next-line MethodExpression,ArithmeticOperator: more batches than there are only read past the inputs and write past the output (ignored)
    const batch = numel(out.slice(0, r - 2));
    const m = out[r - 2]!, n = out[r - 1]!, k = a!.shape[r - 1]!;
    const data = new Float64Array(numel(out));
    // A bound turned `<=` writes one element past the end (the typed array ignores it) or
    // one that a later step of the same loop overwrites; the marks ignore `>=` too (no step).
    // Stryker disable next-line EqualityOperator: see above
    for (let p = 0; p < batch; p++) {
      // Stryker disable next-line EqualityOperator: see above
      for (let i = 0; i < m; i++) {
        // Stryker disable next-line EqualityOperator: see above
        for (let j = 0; j < n; j++) {
          // from -0, the identity of + (as conv's): a sum of -0s stays -0
          let acc = -0;
          for (let q = 0; q < k; q++) acc += a!.data[p * m * k + i * k + q]! * b!.data[p * k * n + q * n + j]!;
          data[p * m * n + i * n + j] = acc;
        }
      }
    }
    return data;
  },
  vjp: (b, g, node) => {
    const [x, y] = node.inputs as [typeof node, typeof node];
    const r = node.shape.length;
    return [b.op("matmul", [g, b.transpose(y, swapLast(r))]), b.op("matmul", [b.transpose(x, swapLast(r)), g])];
  },
  print: { kind: "infix", symbol: "@", precedence: 2 },
  // a multiply and an add per term
  cost: (node, numel) => 2 * numel(node.shape) * numel([node.inputs[0]!.shape[node.shape.length - 1]!]),
  emit: {
    fusesInputs: false,
    storesOnce: () => true,
    kernel: (ctx) => {
      const node = ctx.node;
      const [a] = node.inputs as [typeof node];
      const r = node.shape.length;
      const [m, n, k] = [node.shape[r - 2]!, node.shape[r - 1]!, a.shape[r - 1]!];
      const small = typeof m === "number" && typeof n === "number" && typeof k === "number" && m * n * k <= 256;
      return small ? simpleMatmul(ctx) : tiledMatmul(ctx);
    },
  },
};

/** The plain triple loop, for tiny products that the unroller turns into straight-line code. */
function simpleMatmul(ctx: KernelContext): js.Statement[] {
  const node = ctx.node;
  const [a, b] = node.inputs as [typeof node, typeof node];
  const r = node.shape.length;
  const vars = node.shape.map(() => ctx.fresh("i"));
  // Stryker disable next-line StringLiteral: any name is unique (fresh), and the unroller replaces this loop's variable in the products it is used for
  const q = ctx.fresh("k");
  const acc = ctx.fresh("acc");
  const batch = vars.slice(0, r - 2).map(js.id);
  const i = js.id(vars[r - 2]!), j = js.id(vars[r - 1]!);
  const inner: js.Statement[] = [];
  const av = ctx.read(a, [...batch, i, js.id(q)], inner);
  const bv = ctx.read(b, [...batch, js.id(q), j], inner);
  inner.push(js.stmt(js.assign(js.id(acc), js.binary("*", av, bv), "+=")));
  const body = [
    js.declare("let", acc, js.num(-0)),
    js.loop(q, js.num(0), ctx.dim(a.shape[r - 1]!), inner),
    ctx.store(vars.map(js.id), js.id(acc)),
  ];
  return [nest(vars, node.shape, ctx, body)];
}

/**
 * A register-tiled product: each step of the k loop (innermost) loads 2 values of A and
 * 4 of B into locals and updates 8 accumulators, so every load feeds several multiplies.
 * Remainder rows and columns get 1x4, 2x1 and 1x1 tiles; with known sizes only the tiles
 * that can occur are emitted.
 */
function tiledMatmul(ctx: KernelContext): js.Statement[] {
  const node = ctx.node;
  const [a, b] = node.inputs as [typeof node, typeof node];
  const r = node.shape.length;
  const M = node.shape[r - 2]!, N = node.shape[r - 1]!, K = a.shape[r - 1]!;
  const bv = node.shape.slice(0, r - 2).map(() => ctx.fresh("bt"));
  const batch = bv.map(js.id);
  const i = ctx.fresh("i"), j = ctx.fresh("j");

  const tile = (rows: number, cols: number): js.Statement[] => {
    const q = ctx.fresh("k");
    const acc = (ri: number, ci: number) => `c${ri}${ci}`;
    const accNames: string[][] = [];
    const out: js.Statement[] = [];
    for (let ri = 0; ri < rows; ri++) {
      accNames.push([]);
      for (let ci = 0; ci < cols; ci++) {
        const name = ctx.fresh(acc(ri, ci));
        accNames[ri]!.push(name);
        out.push(js.declare("let", name, js.num(-0)));
      }
    }
    const inner: js.Statement[] = [];
    const as = Array.from({ length: rows }, (_, ri) => {
      const name = ctx.fresh("a");
      inner.push(js.declare("const", name, ctx.read(a, [...batch, js.add(js.id(i), js.num(ri)), js.id(q)], inner)));
      return name;
    });
    const bs = Array.from({ length: cols }, (_, ci) => {
      const name = ctx.fresh("b");
      inner.push(js.declare("const", name, ctx.read(b, [...batch, js.id(q), js.add(js.id(j), js.num(ci))], inner)));
      return name;
    });
    for (let ri = 0; ri < rows; ri++) {
      for (let ci = 0; ci < cols; ci++) {
        inner.push(js.stmt(js.assign(js.id(accNames[ri]![ci]!), js.binary("*", js.id(as[ri]!), js.id(bs[ci]!)), "+=")));
      }
    }
    out.push(js.loop(q, js.num(0), ctx.dim(K), inner));
    for (let ri = 0; ri < rows; ri++) {
      for (let ci = 0; ci < cols; ci++) {
        out.push(ctx.store([...batch, js.add(js.id(i), js.num(ri)), js.add(js.id(j), js.num(ci))], js.id(accNames[ri]![ci]!)));
      }
    }
    return out;
  };

  const known = (d: Dim) => (typeof d === "number" ? d : undefined);
  const m = known(M), n = known(N);
  const columns = (rows: number): js.Statement[] => {
    const out: js.Statement[] = [js.declare("let", j, js.num(0))];
    if (n === undefined || n >= 4) out.push(forWhile(js.binary("<", js.add(js.id(j), js.num(3)), ctx.dim(N)), j, 4, tile(rows, 4)));
    if (n === undefined || n % 4 !== 0) out.push(forWhile(js.binary("<", js.id(j), ctx.dim(N)), j, 1, tile(rows, 1)));
    return out;
  };
  const body: js.Statement[] = [js.declare("let", i, js.num(0))];
  if (m === undefined || m >= 2) body.push(forWhile(js.binary("<", js.add(js.id(i), js.num(1)), ctx.dim(M)), i, 2, columns(2)));
  if (m === undefined || m % 2 !== 0) body.push(forWhile(js.binary("<", js.id(i), ctx.dim(M)), i, 1, columns(1)));
  if (bv.length > 0) return [nest(bv, node.shape.slice(0, r - 2), ctx, body)];
  return [js.block(body)];
}

/** `for (; test; v += step) body` over a variable declared before the loop. */
function forWhile(test: js.Expression, v: string, step: number, body: js.Statement[]): js.Statement {
  return {
    type: "ForStatement", init: null, test,
    update: step === 1 ? { type: "UpdateExpression", operator: "++", prefix: false, argument: js.id(v) } : js.assign(js.id(v), js.num(step), "+="),
    body: js.block(body),
  };
}

export const linalgOps: OpDef[] = [matmul];
