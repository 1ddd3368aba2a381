// matmul on operands of equal rank 2 ([m, k] @ [k, n]) or 3 (a batch, [b, m, k] @ [b, k, n]).
// Lowering reduces NumPy's matmul (rank-1 operands, a rank-3 batch against rank 2) to
// this with reshapes and broadcasts, so their derivatives come for free.

import { fail } from "../diagnostics";
import * as js from "../codegen/estree";
import { formatShape, numel, type OpDef, type Shape } from "../ir";
import type { KernelEmit } from "./define";
import { nest } from "./movement";

type KernelDef = OpDef & { readonly emit: KernelEmit };

export function swapLast(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 1] = rank - 2;
  perm[rank - 2] = rank - 1;
  return perm;
}

export const matmul: KernelDef = {
  name: "matmul", kind: "kernel", arity: 2,
  shape: ([a, b], _attrs, span) => {
    const sa = formatShape(a!);
    const sb = formatShape(b!);
    if (a!.length !== b!.length || a!.length < 2 || a!.length > 3) fail("E0202", span, sa, sb, "ranks must be 1, 2 or 3");
    const r = a!.length;
    if (a![r - 1] !== b![r - 2]) fail("E0202", span, sa, sb, `inner sizes ${a![r - 1]} and ${b![r - 2]} differ`);
    if (r === 3 && a![0] !== b![0]) fail("E0202", span, sa, sb, `batch sizes ${a![0]} and ${b![0]} differ`);
    return [...a!.slice(0, r - 1), b![r - 1]!] as Shape;
  },
  evaluate: ([a, b], _attrs, out) => {
    const r = out.length;
    const batch = r === 3 ? out[0]! : 1;
    const m = out[r - 2]!, n = out[r - 1]!, k = a!.shape[r - 1]!;
    const data = new Float64Array(numel(out));
    for (let p = 0; p < batch; p++) {
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let acc = 0;
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
  emit: {
    fusesInputs: false,
    kernel: (ctx) => {
      const node = ctx.node;
      const [a, b] = node.inputs as [typeof node, typeof node];
      const r = node.shape.length;
      const vars = node.shape.map(() => ctx.fresh("i"));
      const q = ctx.fresh("k");
      const acc = ctx.fresh("acc");
      const batch = r === 3 ? [js.id(vars[0]!)] : [];
      const i = js.id(vars[r - 2]!), j = js.id(vars[r - 1]!);
      const inner: js.Statement[] = [];
      const av = ctx.read(a, [...batch, i, js.id(q)], inner);
      const bv = ctx.read(b, [...batch, js.id(q), j], inner);
      inner.push(js.stmt(js.assign(js.id(acc), js.binary("*", av, bv), "+=")));
      const body = [
        js.declare("let", acc, js.num(0)),
        js.loop(q, js.num(0), ctx.dim(a.shape[r - 1]!), inner),
        ctx.store(vars.map(js.id), js.id(acc)),
      ];
      return [nest(vars, node.shape, ctx, body)];
    },
  },
};

export const linalgOps: OpDef[] = [matmul];
