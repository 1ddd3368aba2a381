// Elementwise primitives: one record each, holding scalar semantics (f64), the derivative
// as a vector-Jacobian product over forward nodes, the JS expression for one element, and
// the print form. Conventions at kinks follow PyTorch: relu'(0) = abs'(0) = 0,
// sign' = floor' = ceil' = trunc' = round' = 0; comparisons carry no gradient.

import * as js from "../codegen/estree";
import type { GraphBuilder, Node } from "../ir";
import { elementwiseShape, type ElementwiseDef, type GradDomain } from "./define";
import { erfHelper, modHelper, roundHelper, type RuntimeHelper } from "./special";

type Vjp = (b: GraphBuilder, g: Node, node: Node) => (Node | null)[];

function unary(
  name: string,
  scalar: (x: number) => number,
  vjp: Vjp | null,
  emit: (x: js.Expression) => js.Expression,
  gradDomain: GradDomain = { lo: -2, hi: 2 },
): ElementwiseDef {
  return {
    name, kind: "elementwise", arity: 1, shape: elementwiseShape(name), scalar,
    ...(vjp ? { vjp } : {}),
    emit: (args) => emit(args[0]!),
    print: { kind: "call", fn: name },
    gradDomain,
  };
}

const m = (fn: string) => (x: js.Expression) => js.math(fn, x);
/** A call of a runtime helper (special.ts), declared once in modules that use it. */
const call = (h: RuntimeHelper) => (...args: js.Expression[]) => js.call(h.name, ...args);
const withHelper = (def: ElementwiseDef, helper: RuntimeHelper): ElementwiseDef => ({ ...def, helper });
const x0 = (node: Node) => node.inputs[0]!;
/** The value of a node that is one constant everywhere (a `const` seen through views), so
 *  a rule can resolve a constant case when it is built. */
function constantOf(n: Node): number | undefined {
  let x = n;
  while (x.op.kind === "view") x = x.inputs[0]!;
  return x.op.kind === "source" && x.op.name === "const" ? (x.attrs.value as number) : undefined;
}
/** The rule of an op with no derivative (a step function, stop_gradient). */
// Stryker disable next-line ArrayDeclaration: the driver reads a missing cotangent as null (no gradient)
const noGradient: Vjp = () => [null];
const notInteger: GradDomain["avoid"] = (xs) => xs.every((x) => Math.abs(x - Math.round(x)) > 0.05);
const notZero: GradDomain["avoid"] = (xs) => xs.every((x) => Math.abs(x) > 0.05);

export const neg = unary("neg", (x) => -x, (b, g) => [b.neg(g)], (x) => js.unary("-", x));
Object.assign(neg, { print: { kind: "prefix", symbol: "-" }, props: { cheap: true } });

export const exp = unary("exp", Math.exp, (b, g, y) => [b.mul(g, y)], m("exp"));
// At zero, as PyTorch (grad / self, grad / (self + 1), grad / (2 * result)): log'(0) and
// sqrt'(0) are +Infinity for a positive g, log1p'(-1) likewise; a zero g there gives 0 / 0 = NaN
// in PyTorch too. No rule multiplies by 0 where the other factor may be infinite.
export const log = unary("log", Math.log, (b, g, y) => [b.div(g, x0(y))], m("log"), { lo: 0.1, hi: 3 });
// Stryker disable next-line UnaryOperator: a gradient-check domain; [0.8, 3] is smooth too
export const log1p = unary("log1p", Math.log1p, (b, g, y) => [b.div(g, b.add(x0(y), b.constant(1)))], m("log1p"), { lo: -0.8, hi: 3 });
export const expm1 = unary("expm1", Math.expm1, (b, g, y) => [b.mul(g, b.add(y, b.constant(1)))], m("expm1"));
export const sqrt = unary("sqrt", Math.sqrt, (b, g, y) => [b.div(b.mul(g, b.constant(0.5)), y)], m("sqrt"), { lo: 0.1, hi: 3 });
export const abs = unary("abs", Math.abs, (b, g, y) => [b.mul(g, b.unary("sign", x0(y)))], m("abs"), { lo: -2, hi: 2, avoid: notZero });
export const sin = unary("sin", Math.sin, (b, g, y) => [b.mul(g, b.unary("cos", x0(y)))], m("sin"));
export const cos = unary("cos", Math.cos, (b, g, y) => [b.neg(b.mul(g, b.unary("sin", x0(y))))], m("cos"));
export const tan = unary("tan", Math.tan, (b, g, y) => [b.mul(g, b.add(b.constant(1), b.mul(y, y)))], m("tan"), { lo: -1.2, hi: 1.2 });
export const asin = unary("asin", Math.asin,
  (b, g, y) => [b.div(g, b.unary("sqrt", b.sub(b.constant(1), b.mul(x0(y), x0(y)))))], m("asin"), { lo: -0.9, hi: 0.9 });
export const acos = unary("acos", Math.acos,
  (b, g, y) => [b.neg(b.div(g, b.unary("sqrt", b.sub(b.constant(1), b.mul(x0(y), x0(y))))))], m("acos"), { lo: -0.9, hi: 0.9 });
export const atan = unary("atan", Math.atan, (b, g, y) => [b.div(g, b.add(b.constant(1), b.mul(x0(y), x0(y))))], m("atan"));
export const tanh = unary("tanh", Math.tanh, (b, g, y) => [b.mul(g, b.sub(b.constant(1), b.mul(y, y)))], m("tanh"));
export const sinh = unary("sinh", Math.sinh, (b, g, y) => [b.mul(g, b.unary("cosh", x0(y)))], m("sinh"));
export const cosh = unary("cosh", Math.cosh, (b, g, y) => [b.mul(g, b.unary("sinh", x0(y)))], m("cosh"));

/** sigmoid(x) = 1 / (1 + exp(-x)): for large -x, exp overflows to Infinity and the result
 *  is exactly 0, never NaN; for large x it is 1. */
export const sigmoid = unary("sigmoid", (x) => 1 / (1 + Math.exp(-x)),
  (b, g, y) => [b.mul(g, b.mul(y, b.sub(b.constant(1), y)))],
  (x) => js.binary("/", js.num(1), js.binary("+", js.num(1), js.math("exp", js.unary("-", x)))), { lo: -4, hi: 4 });

export const relu = unary("relu", (x) => (x > 0 ? x : 0),
  // relu(x) > 0 exactly where x > 0: reading the output lets the pre-activation die early.
  (b, g, y) => [b.mul(g, b.binary("gt", y, b.constant(0)))],
  (x) => js.conditional(js.binary(">", x, js.num(0)), x, js.num(0)), { lo: -2, hi: 2, avoid: notZero });
Object.assign(relu, { props: { rectifier: true } });

/** softplus(x) = max(x, 0) + log1p(exp(-|x|)): finite and accurate for any |x|. */
export const softplus = unary("softplus", (x) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))),
  (b, g, y) => [b.mul(g, b.unary("sigmoid", x0(y)))],
  (x) => js.binary("+", js.math("max", x, js.num(0)), js.math("log1p", js.math("exp", js.unary("-", js.math("abs", x))))));

export const sign = unary("sign", Math.sign, noGradient, m("sign"), { lo: -2, hi: 2, avoid: notZero });
export const floor = unary("floor", Math.floor, noGradient, m("floor"), { lo: -3, hi: 3, avoid: notInteger });

export const ceil = unary("ceil", Math.ceil, noGradient, m("ceil"), { lo: -3, hi: 3, avoid: notInteger });
export const trunc = unary("trunc", Math.trunc, noGradient, m("trunc"), { lo: -3, hi: 3, avoid: notInteger });

/** Round half to even, as NumPy and PyTorch (Math.round rounds halves up). */
export const round = withHelper(unary("round", roundHelper.fn, noGradient, call(roundHelper),
  // Stryker disable next-line EqualityOperator: a gradient-check domain's bound (0.05 from a half or more)
  { lo: -3, hi: 3, avoid: (xs) => xs.every((x) => Math.abs(x - Math.floor(x) - 0.5) > 0.05) }), roundHelper);

/** erf'(x) = 2 / sqrt(pi) exp(-x^2). */
export const erf = withHelper(unary("erf", erfHelper.fn,
  (b, g, y) => [b.mul(g, b.mul(b.constant(2 / Math.sqrt(Math.PI)), b.unary("exp", b.neg(b.mul(x0(y), x0(y))))))],
  call(erfHelper)), erfHelper);

/** Identity whose derivative is zero: used by stable composites (logsumexp's shift). */
export const stopGradient = unary("stop_gradient", (x) => x, noGradient, (x) => x);

function binaryOp(
  name: string,
  scalar: (a: number, b: number) => number,
  vjp: Vjp,
  emit: (a: js.Expression, b: js.Expression) => js.Expression,
  print: ElementwiseDef["print"],
  extra: Partial<ElementwiseDef> = {},
): ElementwiseDef {
  return {
    name, kind: "elementwise", arity: 2, shape: elementwiseShape(name), scalar, vjp,
    emit: (args) => emit(args[0]!, args[1]!), print, gradDomain: { lo: -2, hi: 2 }, ...extra,
  };
}

const infix = (symbol: string, precedence: number) => ({ kind: "infix", symbol, precedence }) as const;

// (cheap: arithmetic a loop's gradient recomputes from saved values rather than saving)
// Stryker disable next-line BooleanLiteral: nothing reads `commutative` yet (src/ir/op.ts)
export const add = binaryOp("add", (a, b) => a + b, (_b, g) => [g, g], (a, b) => js.binary("+", a, b), infix("+", 1), { props: { commutative: true, cheap: true } });
export const sub = binaryOp("sub", (a, b) => a - b, (b, g) => [g, b.neg(g)], (a, b) => js.binary("-", a, b), infix("-", 1), { props: { cheap: true } });
export const mul = binaryOp("mul", (a, b) => a * b,
  // Stryker disable next-line BooleanLiteral: nothing reads `commutative` yet (src/ir/op.ts)
  (b, g, y) => [b.mul(g, y.inputs[1]!), b.mul(g, y.inputs[0]!)], (a, b) => js.binary("*", a, b), infix("*", 2), { props: { commutative: true, cheap: true } });
/** a / b. d/da = g / b; d/db = -(g * y) / b with y = a / b: PyTorch's div backward
 *  (-grad * (self / other) / other) in another order. At b = 0 both are infinite (d/db
 *  for a != 0) and d/db is NaN for a = 0 (0 / 0), in PyTorch too. */
export const div = binaryOp("div", (a, b) => a / b,
  (b, g, y) => [b.div(g, y.inputs[1]!), b.neg(b.div(b.mul(g, y), y.inputs[1]!))], (a, b) => js.binary("/", a, b), infix("/", 2),
  { gradDomain: [{ lo: -2, hi: 2 }, { lo: 0.5, hi: 2 }] });

/** pow(a, b) = a^b. d/da = b a^(b-1); d/db = a^b log(a). At zero, as PyTorch's
 *  pow_backward_self / pow_backward_exponent: d/da is 0 wherever b = 0 (not 0 * 0^-1 =
 *  NaN), so at a = 0 it is 0 for b = 0, 1 for b = 1, 0 for b = 2, +Infinity for b = 0.5,
 *  -Infinity for b = -1; d/db is 0 where a = 0 and b >= 0 (not 0 * log 0 = NaN). A
 *  constant exponent is resolved here: c = 0 gives no gradient, c = 1 passes g through,
 *  else g * (c * a^(c-1)) with c - 1 folded; a constant base c != 0 needs no mask. A
 *  constant small integer exponent is emitted as multiplications. Not `^ 0.5` as
 *  Math.sqrt: they differ at -0 and -Infinity, and the emitted code must compute what
 *  Math.pow does. */
export const pow = binaryOp("pow", Math.pow,
  (b, g, y) => {
    const [a, e] = y.inputs as [Node, Node];
    const c = constantOf(e);
    let da: Node | null;
    if (c === 0) da = null;
    else if (c === 1) da = g;
    else if (c !== undefined) da = b.mul(g, b.mul(e, c === 2 ? a : b.binary("pow", a, b.constant(c - 1, e.shape))));
    else da = b.where(b.binary("eq", e, b.constant(0)), b.constant(0, g.shape), b.mul(g, b.mul(e, b.binary("pow", a, b.sub(e, b.constant(1))))));
    // Stryker disable next-line ConditionalExpression: a constant exponent's cotangent is dropped anyway (nothing depends on it)
    if (c !== undefined) return [da, null];
    const base = constantOf(a);
    const db = b.mul(g, b.mul(y, b.unary("log", a)));
    if (base !== undefined && base !== 0) return [da, db];
    const atZero = base === 0 ? b.binary("ge", e, b.constant(0))
      : b.mul(b.binary("eq", a, b.constant(0)), b.binary("ge", e, b.constant(0)));
    return [da, b.where(atZero, b.constant(0, g.shape), db)];
  },
  (a, e) => {
    // Stryker disable ConditionalExpression,BlockStatement: skipping a special case emits
    // Math.pow, which computes the same (x * x * x within an ulp of x ^ 3): only speed differs
    if (js.isNum(e)) {
      const v = (e as { value: number }).value;
      if (v === 0) return js.num(1);
      if (v === 1) return a;
      if (v === 2) return js.binary("*", a, a);
      if (v === 3) return js.binary("*", js.binary("*", a, a), a);
    }
    if (e.type === "UnaryExpression" && js.isNum(e.argument, 1)) return js.binary("/", js.num(1), a);
    // Stryker restore ConditionalExpression,BlockStatement
    return js.math("pow", a, e);
  },
  infix("^", 4), { gradDomain: [{ lo: 0.5, hi: 2 }, { lo: -2, hi: 2 }] });

/** mod(a, b): floor modulo, the sign of b (Python's %, torch.remainder). As PyTorch,
 *  d/da = 1 and d/db = -floor(a / b); the jumps where a / b is an integer carry none. */
export const mod = binaryOp("mod", modHelper.fn,
  (b, g, y) => [g, b.neg(b.mul(g, b.unary("floor", b.div(y.inputs[0]!, y.inputs[1]!))))],
  call(modHelper), { kind: "call", fn: "mod" },
  { helper: modHelper, gradDomain: { lo: -3, hi: 3, avoid: ([a, d]) => {
    if (Math.abs(d!) < 0.5) return false;
    const q = a! / d!;
    // Stryker disable next-line EqualityOperator: a gradient-check domain's bound (0.05 from an integer or more)
    return Math.abs(q - Math.round(q)) > 0.05;
  } } });

/** maximum/minimum: ties split the gradient evenly between the two sides. */
function extremum(name: "maximum" | "minimum", cmp: "gt" | "lt") {
  return binaryOp(name, name === "maximum" ? Math.max : Math.min,
    (b, g, y) => {
      const [l, r] = y.inputs as [Node, Node];
      const half = b.mul(b.binary("eq", l, r), b.constant(0.5));
      const wl = b.add(b.binary(cmp, l, r), half);
      const wr = b.add(b.binary(cmp, r, l), half);
      return [b.mul(g, wl), b.mul(g, wr)];
    },
    (a, c) => js.math(name === "maximum" ? "max" : "min", a, c), { kind: "call", fn: name },
    // Stryker disable next-line BooleanLiteral: nothing reads `commutative` yet (src/ir/op.ts)
    { props: { commutative: true }, gradDomain: { lo: -2, hi: 2, avoid: (xs) => Math.abs(xs[0]! - xs[1]!) > 0.05 } });
}
export const maximum = extremum("maximum", "gt");
export const minimum = extremum("minimum", "lt");

function comparison(name: string, symbol: string, jsOp: string, scalar: (a: number, b: number) => boolean) {
  // Stryker disable next-line ArrayDeclaration: the driver reads a missing cotangent as null (no gradient)
  return binaryOp(name, (a, b) => (scalar(a, b) ? 1 : 0), (_b, _g) => [null, null],
    // `+(a < b)` converts without a branch: on data of mixed signs (a relu mask) a
    // conditional mispredicts half the time and ran 2.3x slower.
    (a, b) => js.unary("+", js.binary(jsOp, a, b)), infix(symbol, 0),
    // Stryker disable next-line ConditionalExpression,LogicalOperator,EqualityOperator,StringLiteral: nothing reads `commutative` yet (src/ir/op.ts)
    { props: { boolean: true, cheap: true, commutative: name === "eq" || name === "ne" } });
}
export const lt = comparison("lt", "<", "<", (a, b) => a < b);
export const le = comparison("le", "<=", "<=", (a, b) => a <= b);
export const gt = comparison("gt", ">", ">", (a, b) => a > b);
export const ge = comparison("ge", ">=", ">=", (a, b) => a >= b);
export const eq = comparison("eq", "==", "===", (a, b) => a === b);
export const ne = comparison("ne", "!=", "!==", (a, b) => a !== b);

/** where(c, a, b): a where c is nonzero, else b. The condition carries no gradient. */
export const where: ElementwiseDef = {
  name: "where", kind: "elementwise", arity: 3, shape: elementwiseShape("where"),
  scalar: (c, a, b) => (c !== 0 ? a : b),
  vjp: (b, g, y) => {
    const c = y.inputs[0]!;
    const zero = b.constant(0, g.shape);
    return [null, b.where(c, g, zero), b.where(c, zero, g)];
  },
  emit: (args) => js.conditional(js.binary("!==", args[0]!, js.num(0)), args[1]!, args[2]!),
  print: { kind: "call", fn: "where" },
  props: { cheap: true },
  gradDomain: [{ lo: -1, hi: 1, avoid: notZero }, { lo: -2, hi: 2 }, { lo: -2, hi: 2 }],
};

export const elementwiseOps: ElementwiseDef[] = [
  neg, exp, log, log1p, expm1, sqrt, abs, sin, cos, tan, asin, acos, atan, tanh, sinh, cosh,
  sigmoid, relu, softplus, sign, floor, ceil, trunc, round, erf, stopGradient,
  add, sub, mul, div, pow, mod, maximum, minimum, lt, le, gt, ge, eq, ne, where,
];
