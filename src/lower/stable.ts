// Stable forms: compositions of built-ins that are exact in real arithmetic but lose
// everything in floating point are lowered to an equivalent stable form as they are built,
// before autodiff sees them, so values and gradients are both stable. Unlike the
// simplifier's rules (exact in IEEE arithmetic), these change results: from -Infinity,
// Infinity or NaN to the finite, correctly rounded value. docs/stability.md lists them.

import type { Node } from "../ir";
import type { Builder } from "../ops";

export interface StableForm {
  /** The built-in applied last, whose argument is matched. */
  readonly fn: string;
  /** `pattern -> replacement` */
  readonly identity: string;
  match(b: Builder, x: Node): Node | undefined;
}

const is = (n: Node, name: string): boolean => n.op.name === name;

/** The value of a node that is one constant everywhere (a const, or views of one). */
function constValue(n: Node): number | undefined {
  let x = n;
  for (let k = 0; k < 16 && x.op.kind === "view"; k++) x = x.inputs[0]!;
  return is(x, "const") ? (x.attrs.value as number) : undefined;
}

/** `1 + y` or `y + 1` as y. */
function onePlus(n: Node): Node | undefined {
  if (!is(n, "add")) return undefined;
  const [a, c] = n.inputs as [Node, Node];
  if (constValue(a) === 1) return c;
  if (constValue(c) === 1) return a;
  return undefined;
}

const softplus = (b: Builder, x: Node) => b.unary("softplus", x);

export const stableForms: readonly StableForm[] = [
  {
    // sigmoid(x) underflows to 0 below x = -745 (f64); -softplus(-x) is about x there.
    fn: "log", identity: "log(sigmoid(x)) -> -softplus(-x)",
    match: (b, y) => (is(y, "sigmoid") ? b.neg(softplus(b, b.neg(y.inputs[0]!))) : undefined),
  },
  {
    // 1 - sigmoid(x) rounds to 0 above x = 37 (f64).
    fn: "log", identity: "log(1 - sigmoid(x)) -> -softplus(x)",
    match: (b, y) => (is(y, "sub") && constValue(y.inputs[0]!) === 1 && is(y.inputs[1]!, "sigmoid")
      ? b.neg(softplus(b, y.inputs[1]!.inputs[0]!)) : undefined),
  },
  {
    fn: "log1p", identity: "log1p(-sigmoid(x)) -> -softplus(x)",
    match: (b, y) => (is(y, "neg") && is(y.inputs[0]!, "sigmoid") ? b.neg(softplus(b, y.inputs[0]!.inputs[0]!)) : undefined),
  },
  {
    // exp(x) overflows above x = 709 and underflows below -745; so does log(softmax(x)),
    // which is log(exp(x - logsumexp(x))), and becomes log_softmax(x).
    fn: "log", identity: "log(exp(x)) -> x",
    match: (_b, y) => (is(y, "exp") ? y.inputs[0]! : undefined),
  },
  {
    fn: "log", identity: "log(1 + exp(x)) -> softplus(x); log(exp(x) + 1) -> softplus(x)",
    match(b, y) {
      const e = onePlus(y);
      return e && is(e, "exp") ? softplus(b, e.inputs[0]!) : undefined;
    },
  },
  {
    fn: "log1p", identity: "log1p(exp(x)) -> softplus(x)",
    match: (b, y) => (is(y, "exp") ? softplus(b, y.inputs[0]!) : undefined),
  },
];

/** `fn(x)` in its stable form, or undefined when no stable form applies. */
export function stableForm(b: Builder, fn: string, x: Node): Node | undefined {
  for (const form of stableForms) {
    if (form.fn !== fn) continue;
    const r = form.match(b, x);
    if (r) return r;
  }
  return undefined;
}
