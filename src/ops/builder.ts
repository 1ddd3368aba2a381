// The builder: how lowering, derivative rules and rewrites make nodes. It resolves op
// names through the registry, applies NumPy broadcasting for elementwise ops (inserting
// explicit broadcast nodes), and drops identity views. Every node it builds carries the
// builder's span, so gradient nodes point at the forward code that produced them.

import { fail, InternalError, type Span } from "../diagnostics";
import { broadcastShape, formatShape, sameShape, type Attrs, type Dim, type Graph, type GraphBuilder, type Node, type Shape } from "../ir";
import { getOp } from "./registry";

export class Builder implements GraphBuilder {
  constructor(readonly graph: Graph, readonly span: Span | undefined) {}

  /** The same builder at another source position. */
  at(span: Span | undefined): Builder {
    return span === this.span ? this : new Builder(this.graph, span);
  }

  op(name: string, inputs: readonly Node[], attrs: Attrs = {}): Node {
    return this.graph.apply(getOp(name), inputs, attrs, this.span);
  }

  input(name: string, role: "param" | "input", shape: Shape): Node {
    return this.op("input", [], { name, role, shape: shape as Dim[] });
  }

  constant(value: number, shape: Shape = []): Node {
    return this.broadcastTo(this.op("const", [], { value }), shape);
  }

  unary(name: string, a: Node): Node {
    return this.op(name, [a]);
  }

  binary(name: string, a: Node, b: Node): Node {
    const shape = broadcastShapes([a.shape, b.shape], this.span);
    return this.op(name, [this.broadcastTo(a, shape), this.broadcastTo(b, shape)]);
  }

  add(a: Node, b: Node): Node { return this.binary("add", a, b); }
  sub(a: Node, b: Node): Node { return this.binary("sub", a, b); }
  mul(a: Node, b: Node): Node { return this.binary("mul", a, b); }
  div(a: Node, b: Node): Node { return this.binary("div", a, b); }
  neg(a: Node): Node { return this.unary("neg", a); }

  where(c: Node, a: Node, b: Node): Node {
    const shape = broadcastShapes([c.shape, a.shape, b.shape], this.span);
    return this.op("where", [this.broadcastTo(c, shape), this.broadcastTo(a, shape), this.broadcastTo(b, shape)]);
  }

  /** Broadcast to `shape`; `dims` maps each input axis to an output axis (NumPy's
   *  trailing alignment when omitted). */
  broadcastTo(a: Node, shape: Shape, dims?: readonly number[]): Node {
    if (sameShape(a.shape, shape) && (!dims || dims.every((d, i) => d === i))) return a;
    // (a shape of lower rank gets negative dims: the shape rule says E0208)
    const offset = shape.length - a.shape.length;
    return this.op("broadcast", [a], { shape: shape as Dim[], dims: dims ? [...dims] : a.shape.map((_, i) => i + offset) });
  }

  reshape(a: Node, shape: Shape): Node {
    if (sameShape(a.shape, shape)) return a;
    // reshape of reshape is one reshape
    if (a.op.name === "reshape") return this.reshape(a.inputs[0]!, shape);
    return this.op("reshape", [a], { shape: shape as Dim[] });
  }

  transpose(a: Node, perm: readonly number[]): Node {
    if (perm.every((p, i) => p === i)) return a;
    return this.op("transpose", [a], { perm: [...perm] });
  }

  sum(a: Node, axes: readonly number[]): Node {
    if (axes.length === 0) return a;
    return this.op("sum", [a], { axes: [...axes].sort((x, y) => x - y) });
  }

  /** g summed over the axes a broadcast to its shape repeats (none: g itself). */
  unbroadcast(g: Node, shape: Shape): Node {
    const offset = g.shape.length - shape.length;
    const axes: number[] = [];
    for (const [k, d] of g.shape.entries()) {
      if (k < offset || (shape[k - offset] === 1 && d !== 1)) axes.push(k);
    }
    return this.reshape(this.sum(g, axes), shape);
  }
}

/** NumPy broadcasting of several shapes, or a located error naming a pair that clashes. */
export function broadcastShapes(shapes: readonly Shape[], span: Span | undefined): Shape {
  const out = broadcastShape(shapes);
  if (out) return out;
  for (const [i, a] of shapes.entries()) {
    // Stryker disable next-line MethodExpression: a shape broadcasts with itself, and a pair (later, earlier) was met the other way first
    for (const b of shapes.slice(i + 1)) {
      if (!broadcastShape([a, b])) fail("E0201", span, formatShape(a), formatShape(b));
    }
  }
  // Stryker disable next-line StringLiteral: not reached (shapes that broadcast pairwise broadcast together)
  throw new InternalError("shapes that broadcast pairwise do not broadcast together");
}
