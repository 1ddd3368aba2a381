// scan in emitted code: a `for` loop over the steps around its body, the body emitted as a
// small program of its own by the same op hooks as the outer kernels (elementwise `emit`,
// views' `mapIndex`, sources' `value`, kernels' `kernel`), each body value in a scratch
// array sized by the body's shapes — which do not mention T, so the code does not grow
// with the number of steps. The carry is read from its own array; slices and captured
// values are read from the scan's inputs (slice t of xs at [t, ...]).

import { InternalError } from "../diagnostics";
import { topoSort, type Dim, type Node, type Shape } from "../ir";
import type { KernelContext, KernelEmit, SourceEmit, ViewEmit, ElementwiseDef } from "../ops/define";
import * as js from "./estree";

function nestLoops(vars: string[], shape: Shape, dim: (d: Dim) => js.Expression, body: js.Statement[]): js.Statement[] {
  let inner: js.Statement[] = body;
  for (let k = shape.length - 1; k >= 0; k--) inner = [js.loop(vars[k]!, js.num(0), dim(shape[k]!), inner)];
  return inner;
}

function sizeOf(shape: Shape, dim: (d: Dim) => js.Expression): js.Expression {
  return shape.reduce<js.Expression>((acc, d) => js.mul(acc, dim(d)), js.num(1));
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
  const k = node.attrs.slices as number;
  const reverse = node.attrs.reverse === true;
  const [init, ...rest] = node.inputs as Node[];
  const xs = rest.slice(0, k), caps = rest.slice(k);
  const [carryArg, ...others] = body.args as Node[];
  const sliceArgs = others.slice(0, k), capArgs = others.slice(k);
  const dim = ctx.dim;
  const array = ctx.dtype === "f64" ? "Float64Array" : "Float32Array";
  const out: js.Statement[] = [];
  const t = ctx.fresh("t");
  const step = ctx.fresh("s");

  // Where each body value lives: args read from the carry array and the scan's inputs,
  // every computed value in its own scratch array (allocated once per call, not per step).
  const carry = ctx.fresh("carry");
  out.push(js.declare("const", carry, js.newExpr(array, sizeOf(carryArg!.shape, dim))));
  const scratch = new Map<Node, string>();
  const order = topoSort([body.result]).filter((n) => !body.args.includes(n));
  for (const n of order) {
    const name = ctx.fresh("b");
    scratch.set(n, name);
    out.push(js.declare("const", name, js.newExpr(array, sizeOf(n.shape, dim))));
  }
  const read = (input: Node, idx: js.Expression[], stmts: js.Statement[]): js.Expression => {
    if (input === carryArg) return js.index(carry, offsetOf(input.shape, idx, dim));
    const si = sliceArgs.indexOf(input);
    if (si >= 0) return ctx.read(xs[si]!, [js.id(t), ...idx], stmts);
    const ci = capArgs.indexOf(input);
    if (ci >= 0) return ctx.read(caps[ci]!, idx, stmts);
    const s = scratch.get(input);
    if (!s) throw new InternalError(`scan body reads ${input.op.name} outside its body`);
    return js.index(s, offsetOf(input.shape, idx, dim));
  };
  const contextOf = (n: Node): KernelContext => ({
    node: n, dtype: ctx.dtype, dim, fresh: ctx.fresh,
    read,
    store: (idx, value, operator = "=") => js.stmt(js.assign(js.index(scratch.get(n)!, offsetOf(n.shape, idx, dim)), value, operator)),
    load: (idx) => js.index(scratch.get(n)!, offsetOf(n.shape, idx, dim)),
  });

  // carry = init
  {
    const vars = init!.shape.map(() => ctx.fresh("i"));
    const stmts: js.Statement[] = [];
    const v = ctx.read(init!, vars.map(js.id), stmts);
    stmts.push(js.stmt(js.assign(js.index(carry, offsetOf(init!.shape, vars.map(js.id), dim)), v)));
    out.push(...nestLoops(vars, init!.shape, dim, stmts));
  }

  // One step: every body value in order, then the result into the output row and the carry.
  const stepBody: js.Statement[] = [];
  const steps = dim(node.shape[0]!);
  stepBody.push(js.declare("const", t, reverse ? js.binary("-", js.binary("-", steps, js.num(1)), js.id(step)) : js.id(step)));
  for (const n of order) {
    const c = contextOf(n);
    if (n.op.kind === "kernel") {
      // Kernels may accumulate into their output: start each step from zeros.
      stepBody.push(js.stmt(js.call(js.member(scratch.get(n)!, "fill"), js.num(0))));
      stepBody.push(...(n.op.emit as KernelEmit).kernel(c));
      continue;
    }
    const vars = n.shape.map(() => ctx.fresh("i"));
    const idx = vars.map(js.id);
    const stmts: js.Statement[] = [];
    let value: js.Expression;
    if (n.op.kind === "elementwise") {
      value = (n.op as ElementwiseDef).emit(n.inputs.map((i) => read(i, idx, stmts)));
    } else if (n.op.kind === "view") {
      const mapped = (n.op.emit as ViewEmit).mapIndex(idx, n, dim, (input, at) => read(input, at, stmts));
      value = read(n.inputs[0]!, mapped, stmts);
    } else {
      const emit = n.op.emit as SourceEmit | undefined;
      if (!emit?.value) throw new InternalError(`scan body source ${n.op.name} has no value`);
      value = emit.value(idx, n, dim);
    }
    stmts.push(c.store(idx, value));
    stepBody.push(...nestLoops(vars, n.shape, dim, stmts));
  }
  {
    const result = body.result;
    const vars = result.shape.map(() => ctx.fresh("i"));
    const idx = vars.map(js.id);
    const stmts: js.Statement[] = [];
    const v = read(result, idx, stmts);
    const local = ctx.fresh("v");
    stmts.push(js.declare("const", local, v));
    stmts.push(ctx.store([js.id(t), ...idx], js.id(local)));
    stmts.push(js.stmt(js.assign(js.index(carry, offsetOf(result.shape, idx, dim)), js.id(local))));
    stepBody.push(...nestLoops(vars, result.shape, dim, stmts));
  }
  out.push(js.loop(step, js.num(0), steps, stepBody));
  return [js.block(out)];
}
