// Kernel emission: the statements of one compiled function. For each materialised node of
// the plan, a loop nest computes it; fused producers (elementwise ops, views, constants)
// are inlined as expressions at the element being computed, bound to locals so each is
// computed once per element. Kernel ops (matmul, reductions, conv) use their own
// loop-nest templates from the op table through the KernelContext.

import { InternalError, sourceLine } from "../diagnostics";
import { sameShape, type Dim, type Node, type Shape, type Size } from "../ir";
import { nest, type KernelContext, type KernelEmit, type SourceEmit, type ViewEmit } from "../ops";
import { isFlat, type Plan } from "../schedule";
import { dimExpression, sizeExpression } from "./dim-expression";
import * as js from "./estree";
import type { NameTable } from "./names";

export interface Storage {
  /** Identifier of the array holding a materialised tensor, or of a scalar local. */
  nameOf(node: Node): string;
  /** Where a materialised scalar lives when not in a local: an element of a Float64Array
   *  shared by kernel functions (so values cross function boundaries unboxed). */
  scalarSlot?(node: Node): js.Expression;
  /** Identifier of a free dim's runtime size. */
  dimName(dim: string): string;
  /** Where a tensor starts in its array when not at 0 (a loop's slice of a stacked input). */
  baseOf?(node: Node): js.Expression | undefined;
  /** A module-level array for a loop body's values (KernelContext.scratch). */
  scratch?(size: Size): string;
  /** KernelContext.scratchPlaced. */
  scratchPlaced?: boolean;
  /** wasm: a loop body's kernel `k` on a SIMD kernel (KernelContext.simdKernel). */
  simdKernel?(k: Node, plan: Plan, pointerOf: (n: Node) => string): { call: js.Statement[]; epilogue?: { producer: Node } } | undefined;
}

type ViewRecord = ViewEmit & { needsContiguousInput?(node: Node): boolean };

export class FunctionEmitter {
  private readonly memo = new WeakMap<js.Statement[], Map<string, js.Expression>>();

  constructor(
    private readonly plan: Plan,
    private readonly storage: Storage,
    private readonly names: NameTable,
    private readonly dtype: "f32" | "f64",
  ) {}

  dim = (d: Dim): js.Expression => (typeof d === "number" ? js.num(d) : dimExpression(d, (n) => this.storage.dimName(n)));

  /** Row-major strides of a shape as expressions. */
  strides(shape: Shape): js.Expression[] {
    const out = new Array<js.Expression>(shape.length);
    let s: js.Expression = js.num(1);
    for (let k = shape.length - 1; k >= 0; k--) {
      out[k] = s;
      s = js.mul(s, this.dim(shape[k]!));
    }
    return out;
  }

  offset(shape: Shape, idx: js.Expression[]): js.Expression {
    const strides = this.strides(shape);
    let o: js.Expression = js.num(0);
    idx.forEach((i, k) => { o = js.add(o, js.mul(i, strides[k]!)); });
    return o;
  }

  /** The statements computing one materialised node. */
  emitKernel(node: Node): js.Statement[] {
    const target = this.storage.nameOf(node);
    const scalar = node.shape.length === 0;
    const out: js.Statement[] = [];
    if (scalar && !this.storage.scalarSlot) out.push(js.declare("let", target, js.num(0)));
    const ctx = this.context(node, target);
    const producer = this.plan.fusedProducer.get(node);
    const pooled = this.plan.pooledConvs.get(node);
    if (pooled) {
      out.push(...this.emitPooled(node, pooled, ctx));
    } else if (producer) {
      // An epilogue: the producer's loop nest, computing this node as it stores each element.
      const emit = producer.op.emit as KernelEmit;
      out.push(...emit.kernel(this.epilogueContext(producer, node, ctx)));
    } else if (node.op.kind === "kernel") {
      const emit = node.op.emit as KernelEmit;
      out.push(...emit.kernel(ctx));
    } else if (node.shape.length > 1 && isFlat(node, this.plan.materialized)) {
      // Every value read has the output's shape: one flat loop over the elements.
      const i = this.names.unique("i");
      this.flatIndex = js.id(i);
      const body: js.Statement[] = [];
      const value = this.compute(node, [js.id(i)], body);
      body.push(js.stmt(js.assign(js.index(target, js.id(i)), value)));
      this.flatIndex = undefined;
      out.push(js.loop(i, js.num(0), sizeExpression(node.shape, this.dim), body));
    } else {
      // An elementwise value or a view, materialised: one loop nest over its shape.
      const vars = node.shape.map(() => this.names.unique("i"));
      const body: js.Statement[] = [];
      const value = this.compute(node, vars.map(js.id), body);
      body.push(ctx.store(vars.map(js.id), value));
      out.push(nest(vars, node.shape, { dim: this.dim }, body));
    }
    const label = kernelLabel(node);
    out[0] = out[0]!.type === "BlockStatement" && out[0]!.body.length > 0
      ? { ...out[0]!, body: [js.withComment(out[0]!.body[0]!, label), ...out[0]!.body.slice(1)] }
      : js.withComment(out[0]!, label);
    return out;
  }

  private context(node: Node, target: string): KernelContext {
    const scalar = node.shape.length === 0;
    const scalarRef = (): js.Expression => this.scalarRef(node);
    return {
      node,
      dtype: this.dtype,
      read: (input, idx, body) => this.read(input, idx, body),
      store: (idx, value, operator = "=") =>
        js.stmt(js.assign(scalar ? scalarRef() : js.index(target, this.offset(node.shape, idx)), value, operator)),
      load: (idx) => (scalar ? scalarRef() : js.index(target, this.offset(node.shape, idx))),
      dim: this.dim,
      fresh: (prefix) => this.names.unique(prefix),
      arrayOf: (n) => (n.shape.length > 0 && (n === node || this.plan.materialized.has(n)) && !this.storage.baseOf?.(n) ? this.storage.nameOf(n) : undefined),
      ...(this.storage.scratch ? { scratch: this.storage.scratch } : {}),
      ...(this.storage.scratchPlaced ? { scratchPlaced: true } : {}),
      ...(this.storage.simdKernel ? { simdKernel: this.storage.simdKernel } : {}),
      dimName: (d) => this.storage.dimName(d),
      prologue: (n) => this.plan.prologues.has(n),
      firstMaxTap: (x, idx) => {
        const pool = this.plan.firstMaxTaps.get(x);
        return pool ? this.element(x, this.offset(pool.shape, idx)) : undefined;
      },
      subEmitter: (plan, storage) => new FunctionEmitter(plan as Plan, storage as Storage, this.names, this.dtype),
    };
  }

  /** Element `offset` of a materialised tensor's array (past its base, for a slice). */
  private element(node: Node, offset: js.Expression): js.Expression {
    const base = this.storage.baseOf?.(node);
    return js.index(this.storage.nameOf(node), base ? js.add(base, offset) : offset);
  }

  /** The producer's value at the index being stored, while an epilogue is emitted. */
  private readonly overrides = new Map<Node, { key: string; value: js.Expression }>();

  /** One flat loop computing every member of a group of same-shaped elementwise
   *  kernels; a member read by a later one is passed in a local, not re-read. */
  emitGroup(members: readonly Node[]): js.Statement[] {
    const first = members[0]!;
    const i = this.names.unique("i");
    this.flatIndex = js.id(i);
    const body: js.Statement[] = [];
    const key = exprKey(js.id(i));
    for (const m of members) {
      const value = this.compute(m, [js.id(i)], body);
      const local = this.names.unique("e");
      body.push(js.declare("const", local, value));
      if (!this.plan.localOnly.has(m)) body.push(js.stmt(js.assign(js.index(this.storage.nameOf(m), js.id(i)), js.id(local))));
      this.overrides.set(m, { key, value: js.id(local) });
    }
    for (const m of members) this.overrides.delete(m);
    this.flatIndex = undefined;
    const loop = js.loop(i, js.num(0), sizeExpression(first.shape, this.dim), body);
    return [js.withComment(loop, groupLabel(members))];
  }

  /** `consumer`, an epilogue, over its producer's values already stored in the consumer's
   *  buffer (out[i] = consumer(out[i])): for a target that computes the producer by other
   *  means first (the wasm target's SIMD matmul). */
  emitEpilogueInPlace(producer: Node, consumer: Node): js.Statement[] {
    const target = this.storage.nameOf(consumer);
    const vars = consumer.shape.map(() => this.names.unique("i"));
    const idx = vars.map(js.id);
    const at = this.offset(consumer.shape, idx);
    const body: js.Statement[] = [];
    this.overrides.set(producer, { key: idx.map(exprKey).join(","), value: js.index(target, at) });
    const value = this.compute(consumer, idx, body);
    this.overrides.delete(producer);
    body.push(js.stmt(js.assign(js.index(target, at), value)));
    return [nest(vars, consumer.shape, { dim: this.dim }, body)];
  }

  /** `node`, a max-pool over `value` (a conv's output, or the elementwise epilogue fused
   *  into the conv) or an elementwise epilogue fused into that pool, computed by the conv's
   *  template window by window (Plan.pooledConvs). */
  private emitPooled(node: Node, value: Node, poolCtx: KernelContext): js.Statement[] {
    const pool = this.plan.fusedProducer.get(node) ?? node;
    const conv = this.plan.fusedProducer.get(value) ?? value;
    const emit = conv.op.emit as KernelEmit;
    const tapsIn = this.plan.firstMaxTaps.has(value) ? this.storage.nameOf(value) : undefined;
    const ctx: KernelContext = {
      ...poolCtx,
      node: conv,
      store: () => { throw new InternalError(`${conv.op.name} under a max-pool stores its output`); },
      load: () => { throw new InternalError(`${conv.op.name} under a max-pool reads its output`); },
    };
    // `of` (value or a node it is computed from) at idx, from the conv's value there.
    const fused = (of: Node) => (idx: js.Expression[], kernelValue: js.Expression, body: js.Statement[]): js.Expression => {
      if (of === conv) return kernelValue;
      const v = this.names.unique("v");
      body.push(js.declare("const", v, kernelValue));
      this.overrides.set(conv, { key: idx.map(exprKey).join(","), value: js.id(v) });
      const result = this.compute(of, idx, body);
      this.overrides.delete(conv);
      return result;
    };
    return emit.pooledKernel!(ctx, {
      node: pool,
      value: fused(value),
      ...(value !== conv && value.op.props?.rectifier ? { beforeRelu: fused(value.inputs[0]!) } : {}),
      store: (idx, v) => {
        if (pool === node) return poolCtx.store(idx, v);
        const body: js.Statement[] = [];
        this.overrides.set(pool, { key: idx.map(exprKey).join(","), value: v });
        const result = this.compute(node, idx, body);
        this.overrides.delete(pool);
        body.push(poolCtx.store(idx, result));
        return js.block(body);
      },
      ...(tapsIn ? { storeTap: (idx: js.Expression[], tap: js.Expression) => js.stmt(js.assign(this.element(value, this.offset(pool.shape, idx)), tap)) } : {}),
    });
  }

  /** A context for `producer`'s template whose stores compute and store `consumer`. */
  private epilogueContext(producer: Node, consumer: Node, consumerCtx: KernelContext): KernelContext {
    return {
      ...consumerCtx,
      node: producer,
      store: (idx, value) => {
        const body: js.Statement[] = [];
        const v = this.names.unique("v");
        body.push(js.declare("const", v, value));
        this.overrides.set(producer, { key: idx.map(exprKey).join(","), value: js.id(v) });
        const result = this.compute(consumer, idx, body);
        this.overrides.delete(producer);
        body.push(consumerCtx.store(idx, result));
        return js.block(body);
      },
      load: () => { throw new InternalError(`epilogue of ${producer.op.name} reads its output`); },
    };
  }

  /** The loop variable of a flat elementwise kernel, while one is emitted. */
  private flatIndex: js.Expression | undefined;

  /** The value of `node` at `idx`, reading materialised values from storage. */
  read(node: Node, idx: js.Expression[], body: js.Statement[]): js.Expression {
    const override = this.overrides.get(node);
    if (override && override.key === idx.map(exprKey).join(",")) return override.value;
    if (this.plan.materialized.has(node)) {
      // Scalars computed here live in locals (or scalar slots); graph inputs are arrays.
      if (node.shape.length === 0 && node.op.kind !== "source") return this.scalarRef(node);
      if (this.flatIndex && node.shape.length > 0) return this.element(node, this.flatIndex);
      return this.element(node, this.offset(node.shape, node.shape.length === 0 ? [] : idx));
    }
    return this.compute(node, idx, body);
  }

  private scalarRef(node: Node): js.Expression {
    return this.storage.scalarSlot ? this.storage.scalarSlot(node) : js.id(this.storage.nameOf(node));
  }

  /** Compute a non-materialised node in place (also used for the kernel's own node). */
  private compute(node: Node, idx: js.Expression[], body: js.Statement[]): js.Expression {
    const key = `${node.id}@${idx.map(exprKey).join(",")}`;
    let memo = this.memo.get(body);
    if (!memo) { memo = new Map(); this.memo.set(body, memo); }
    const found = memo.get(key);
    if (found) return found;
    let value: js.Expression;
    switch (node.op.kind) {
      case "source": {
        const emit = node.op.emit as SourceEmit;
        if (!emit.value) throw new InternalError(`source ${node.op.name} read without storage`);
        value = emit.value(idx, node, this.dim);
        break;
      }
      case "view": {
        const view = node.op.emit as ViewRecord;
        const input = node.inputs[0]!;
        if (view.needsContiguousInput?.(node) && input.op.kind === "source" && input.shape.length === 1) {
          // A rank-1 index pattern (arange) reshaped: its index is the flat offset.
          value = this.read(input, [this.offset(node.shape, idx)], body);
        } else if (view.needsContiguousInput?.(node)) {
          if (!this.plan.materialized.has(input)) throw new InternalError(`reshape of an unmaterialised ${input.op.name}`);
          const flat = this.offset(node.shape, idx);
          value = this.read(input, [], body);
          if (input.shape.length > 0) value = this.element(input, flat);
        } else {
          // A gather's ids are read (once per element, into a local) to form the index.
          const readIndex = (n: Node, i: js.Expression[]) => this.bind(this.read(n, i, body), body);
          value = this.read(input, view.mapIndex(idx, node, this.dim, readIndex), body);
        }
        break;
      }
      case "elementwise": {
        const args = node.inputs.map((i) => this.bind(this.read(i, idx, body), body));
        value = (node.op.emit as (args: js.Expression[]) => js.Expression)(args);
        break;
      }
      default:
        throw new InternalError(`kernel ${node.op.name} (#${node.id}) was not materialised`);
    }
    memo.set(key, value);
    return value;
  }

  /** Bind a non-trivial expression to a local so repeated uses evaluate it once. */
  private bind(e: js.Expression, body: js.Statement[]): js.Expression {
    if (e.type === "Identifier" || e.type === "Literal" || (e.type === "UnaryExpression" && e.argument.type === "Literal")) return e;
    const name = this.names.unique("t");
    body.push(js.declare("const", name, e));
    return js.id(name);
  }
}

function exprKey(e: js.Expression): string {
  switch (e.type) {
    case "Identifier": return e.name;
    case "Literal": return String(e.value);
    case "BinaryExpression": return `(${exprKey(e.left)}${e.operator}${exprKey(e.right)})`;
    case "UnaryExpression": return `${e.operator}${exprKey(e.argument)}`;
    default: return JSON.stringify(e);
  }
}

/** The comment of a kernel: what it computes and the source line it came from. */
export function kernelLabel(node: Node): string {
  return `${node.name ?? node.op.name} ${formatDims(node.shape)}${node.span ? `  (${sourceLine(node.span)})` : ""}`;
}

/** The comment of a group of elementwise kernels: their names, shape and first source line. */
export function groupLabel(members: readonly Node[]): string {
  if (members.length === 1) return kernelLabel(members[0]!);
  const first = members.find((m) => m.span) ?? members[0]!;
  const names = members.map((m) => m.name ?? m.op.name).join(", ");
  return `${names} ${formatDims(first.shape)}${first.span ? `  (${sourceLine(first.span)})` : ""}`;
}


function formatDims(shape: Shape): string {
  return `[${shape.join(", ")}]`;
}
