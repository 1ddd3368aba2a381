// scan in emitted code: one `for` loop over the steps around the body, the body scheduled
// and emitted like a function of its own (src/schedule's planner, the FunctionEmitter:
// elementwise chains fused, matmul epilogues, flat groups). Every body value lives in a
// module-level scratch array sized by the body's shapes, which never mention T, so the
// code and its buffers do not grow with the number of steps and a step allocates nothing.
// The loop's outputs share its one packed buffer: each carry lives at its final place and
// is updated there step by step; each y is stored at its step's row.

import { InternalError } from "../diagnostics";
import { sizeOf, type Dim, type Node, type Shape } from "../ir";
import type { KernelContext } from "../ops/define";
import { layoutOf } from "../ops/scan-layout";
import { planFunction } from "../schedule";
import { sizeExpression } from "./dim-expression";
import * as js from "./estree";
import { collectIdChecks, idCheckStatement, type IdCheck } from "./id-checks";
import type { FunctionEmitter, Storage } from "./kernel";

function nestLoops(vars: string[], shape: Shape, dim: (d: Dim) => js.Expression, body: js.Statement[]): js.Statement[] {
  let inner: js.Statement[] = body;
  for (let k = shape.length - 1; k >= 0; k--) inner = [js.loop(vars[k]!, js.num(0), dim(shape[k]!), inner)];
  return inner;
}


function offsetOf(shape: Shape, idx: readonly js.Expression[], dim: (d: Dim) => js.Expression): js.Expression {
  let o: js.Expression = js.num(0);
  let stride: js.Expression = js.num(1);
  for (let k = shape.length - 1; k >= 0; k--) {
    o = js.add(o, js.mul(idx[k]!, stride));
    stride = js.mul(stride, dim(shape[k]!));
  }
  return o;
}

/** The statements of one scan node, in the outer kernel context `ctx`. */
export function emitScan(ctx: KernelContext): js.Statement[] {
  const node = ctx.node;
  const body = node.body;
  if (!body) throw new InternalError("scan without a body");
  if (!ctx.scratch || !ctx.arrayOf || !ctx.dimName || !ctx.subEmitter) throw new InternalError("scan emitted without scratch storage");
  const scratch = ctx.scratch, arrayOf = ctx.arrayOf, dimName = ctx.dimName;
  // (wasm: a scratch array sized by free dims is placed before the call, not grown here)
  const grows = ctx.scratchPlaced !== true;
  const m = node.attrs.carries as number, k = node.attrs.slices as number;
  const reverse = node.attrs.reverse === true;
  const inits = node.inputs.slice(0, m), xs = node.inputs.slice(m, m + k), caps = node.inputs.slice(m + k);
  const carryArgs = body.args.slice(0, m), sliceArgs = body.args.slice(m, m + k), capArgs = body.args.slice(m + k);
  const layout = layoutOf(node);
  const dim = ctx.dim;
  const out = arrayOf(node);
  if (!out) throw new InternalError("scan output without an array");
  const before: js.Statement[] = [];
  const t = ctx.fresh("t");
  const step = ctx.fresh("s");

  /** A module-level array for `shape`, grown before the loop when its size is symbolic. */
  const buffer = (shape: Shape): string => {
    const size = sizeOf(shape);
    const name = scratch(size);
    if (size.dims.length > 0 && grows) before.push(js.stmt(js.assign(js.id(name), js.call("grow", js.id(name), sizeExpression(shape, dim), js.id("F")))));
    return name;
  };
  /** `target[i] = value(i)` over a shape, with nested loops. */
  const fill = (shape: Shape, into: (idx: js.Expression[]) => js.Expression, value: (idx: js.Expression[], stmts: js.Statement[]) => js.Expression): js.Statement[] => {
    const vars = shape.map(() => ctx.fresh("i"));
    const idx = vars.map(js.id);
    const stmts: js.Statement[] = [];
    const v = value(idx, stmts);
    stmts.push(js.stmt(js.assign(into(idx), v)));
    return nestLoops(vars, shape, dim, stmts);
  };

  // Where the body's args live: carries at their place in the output; slices in their
  // input's array at row t (or copied there each step when the input is not an array);
  // captures in their arrays (or copied once, before the loop).
  const names = new Map<Node, string>();
  const bases = new Map<Node, js.Expression>();
  const perStep: js.Statement[] = [];
  carryArgs.forEach((a, i) => { names.set(a, out); bases.set(a, dim(layout[i]!.offset)); });
  sliceArgs.forEach((a, j) => {
    const x = xs[j]!;
    const array = arrayOf(x);
    if (array) {
      names.set(a, array);
      bases.set(a, js.mul(js.id(t), sizeExpression(a.shape, dim)));
      return;
    }
    const copy = buffer(a.shape);
    names.set(a, copy);
    perStep.push(...fill(a.shape, (idx) => js.index(copy, offsetOf(a.shape, idx, dim)), (idx, stmts) => ctx.read(x, [js.id(t), ...idx], stmts)));
  });
  capArgs.forEach((a, j) => {
    const c = caps[j]!;
    const array = arrayOf(c);
    if (array) { names.set(a, array); return; }
    const copy = buffer(a.shape);
    names.set(a, copy);
    before.push(...fill(a.shape, (idx) => js.index(copy, offsetOf(a.shape, idx, dim)), (idx, stmts) => ctx.read(c, idx, stmts)));
  });

  // The body, planned as a function returning its results.
  const results = body.results;
  const plan = planFunction({ returned: results });
  const slotNames = plan.slots.map((size) => {
    const name = scratch(size);
    if (size.dims.length > 0 && grows) {
      const length = size.dims.reduce<js.Expression>((e, d) => js.mul(e, dim(d)), js.num(size.coef));
      before.push(js.stmt(js.assign(js.id(name), js.call("grow", js.id(name), length, js.id("F")))));
    }
    return name;
  });
  const scalarNames = new Map<Node, string>();
  const nameOf = (n: Node): string => {
    const known = names.get(n);
    if (known) return known;
    if (n.shape.length === 0) {
      let s = scalarNames.get(n);
      if (!s) { s = ctx.fresh("s"); scalarNames.set(n, s); }
      return s;
    }
    const slot = plan.slotOf.get(n);
    if (slot === undefined) throw new InternalError(`scan body value ${n.op.name} has no storage`);
    return slotNames[slot]!;
  };
  const storage: Storage = { nameOf, dimName, baseOf: (n) => bases.get(n), scratch, ...(grows ? {} : { scratchPlaced: true }) };
  const emitter = ctx.subEmitter!(plan, storage) as FunctionEmitter;

  /** `out[base + i] = from(i)` over `count` elements: one flat loop (copies and constants
   *  stay loops, short enough never to be unrolled into long code). */
  const flat = (count: js.Expression, base: js.Expression, from: (i: js.Expression) => js.Expression): js.Statement => {
    const i = ctx.fresh("i");
    return js.loop(i, js.num(0), count, [js.stmt(js.assign(js.index(out, js.add(base, js.id(i))), from(js.id(i))))]);
  };
  /** `out[base...] = value of init`: flat from an array or a constant, else by index. */
  const initCopy = (init: Node, base: js.Expression): js.Statement[] => {
    const array = arrayOf(init);
    if (array) return [flat(sizeExpression(init.shape, dim), base, (i) => js.index(array, i))];
    const probe = ctx.read(init, init.shape.map(() => js.num(0)), []);
    if (probe.type === "Literal" || (probe.type === "UnaryExpression" && probe.argument.type === "Literal")) {
      return [flat(sizeExpression(init.shape, dim), base, () => probe)];
    }
    return fill(init.shape, (idx) => js.index(out, js.add(base, offsetOf(init.shape, idx, dim))), (idx, stmts) => ctx.read(init, idx, stmts));
  };

  // carries = inits
  inits.forEach((init, i) => before.push(...initCopy(init, dim(layout[i]!.offset))));

  // One step: the slices copied in, every body kernel, then the ys at row t and the carries.
  const stepBody: js.Statement[] = [];
  const steps = dim(layout[m]?.shape[0] ?? xs[0]!.shape[0]!);
  stepBody.push(js.declare("const", t, reverse ? js.binary("-", js.binary("-", steps, js.num(1)), js.id(step)) : js.id(step)));
  stepBody.push(...perStep);
  // Ids the cell reads (take, one_hot...) are checked like top-level ones: an arg's before
  // the loop (a capture) or at the start of each step (a slice or a carry), a computed one
  // right after its kernel.
  const idChecks = collectIdChecks(plan.order);
  const checkIds = (c: IdCheck): js.Statement => c.ids.shape.length === 0
    ? idCheckStatement(c, emitter.read(c.ids, [], []), dim)
    : idCheckStatement(c, js.id(nameOf(c.ids)), dim, bases.get(c.ids));
  for (const c of idChecks) {
    if (c.ids.op.name !== "scan_arg") continue;
    (capArgs.includes(c.ids) ? before : stepBody).push(checkIds(c));
  }
  const members = new Set([...plan.groups.values()].flatMap((g) => g.slice(1)));
  // wasm: a SIMD kernel takes each operand's address; one inside a larger array (a carry
  // in the output, a slice at row t) is a local holding `elementAddress(array, base)`.
  const pointerOf = (n: Node): string => {
    const base = bases.get(n);
    if (!base) return nameOf(n);
    const p = ctx.fresh("at");
    stepBody.push(js.declare("const", p, js.call("elementAddress", js.id(nameOf(n)), base)));
    return p;
  };
  for (const n of plan.kernels) {
    if (members.has(n)) continue;
    const group = plan.groups.get(n) ?? [n];
    const simd = group.length === 1 ? ctx.simdKernel?.(n, plan, pointerOf) : undefined;
    if (simd) {
      stepBody.push(...(simd.call as js.Statement[]), ...(simd.epilogue ? emitter.emitEpilogueInPlace(simd.epilogue.producer, n) : []));
      continue;
    }
    stepBody.push(...(group.length > 1 ? emitter.emitGroup(group) : emitter.emitKernel(n)));
    for (const c of idChecks) if (c.ids.op.name !== "scan_arg" && group.includes(c.ids)) stepBody.push(checkIds(c));
  }
  const store = (r: Node, base: js.Expression, stmts: js.Statement[]) => {
    if (r.shape.length > 0 && (plan.materialized.has(r) || names.has(r))) {
      // A body value in an array (its slot, or an arg's): one flat copy.
      const from = nameOf(r), at = bases.get(r);
      stmts.push(flat(sizeExpression(r.shape, dim), base, (i) => js.index(from, at ? js.add(at, i) : i)));
      return;
    }
    stmts.push(...fill(r.shape, (idx) => js.index(out, js.add(base, offsetOf(r.shape, idx, dim))), (idx, s) => emitter.read(r, idx, s)));
  };
  results.slice(m).forEach((y, j) => {
    const { offset } = layout[m + j]!;
    store(y, js.add(dim(offset), js.mul(js.id(t), sizeExpression(y.shape, dim))), stepBody);
  });
  // A carry whose next value is an arg (carries trading places) is staged first.
  const staged = new Map<number, string>();
  results.slice(0, m).forEach((r, i) => {
    if (r.op.name !== "scan_arg") return;
    const temp = buffer(r.shape);
    staged.set(i, temp);
    stepBody.push(...fill(r.shape, (idx) => js.index(temp, offsetOf(r.shape, idx, dim)), (idx, s) => emitter.read(r, idx, s)));
  });
  results.slice(0, m).forEach((r, i) => {
    const base = dim(layout[i]!.offset);
    const temp = staged.get(i);
    if (temp) {
      stepBody.push(...fill(r.shape, (idx) => js.index(out, js.add(base, offsetOf(r.shape, idx, dim))), (idx) => js.index(temp, offsetOf(r.shape, idx, dim))));
    } else {
      store(r, base, stepBody);
    }
  });
  return [js.block([...before, js.loop(step, js.num(0), steps, stepBody)])];
}
