// Integer expressions of sizes and dims, where the language expects an integer or a shape
// entry: `reshape(x, [b * t, d])`, `[n // 2, 2]`, `[t + 1]`, `arange(t)`. They fold to
// symbolic dims (src/ir/dim.ts) at compile time; what can only be checked once the free
// dims are known (a count that must come out exact, a difference that must not be
// negative) is checked by the compiled wrappers (dims.ts lists those checks).

import { fail } from "../diagnostics";
import { dimAdd, dimFloorDiv, dimMul, dimScale, dimSub, isMonomial, type Dim } from "../ir";
import type { Expr } from "../syntax";
import { constNumber } from "./arguments";

/** What integer expressions need from lowering: the value of a dim name (bound: a number;
 *  free: its name), or undefined for a name that is not a dim. */
export interface DimLookup {
  dim(name: string): Dim | undefined;
}

/** An integer expression of numbers and dim names with `+ - * //` and parentheses. */
export function intExpr(ctx: DimLookup, e: Expr): Dim {
  switch (e.kind) {
    case "number":
      if (!Number.isInteger(e.value)) fail("E0224", e.span, `\`${e.text}\` is not an integer`);
      return e.value;
    case "name": {
      const d = ctx.dim(e.name);
      if (d === undefined) fail("E0215", e.span, `\`${e.name}\` is not a dim`);
      return d;
    }
    case "paren":
      return intExpr(ctx, e.inner);
    case "unary":
      return dimScale(intExpr(ctx, e.operand), -1);
    case "binary": {
      if (e.op === "/") fail("E0224", e.opSpan, "sizes are integers: use `//` for floor division");
      if (e.op !== "+" && e.op !== "-" && e.op !== "*" && e.op !== "//") {
        fail("E0224", e.opSpan, `\`${e.op}\` is not allowed in a size; use \`+\`, \`-\`, \`*\` and \`//\``);
      }
      const a = intExpr(ctx, e.left);
      const b = intExpr(ctx, e.right);
      if (e.op === "+") return dimAdd(a, b);
      if (e.op === "-") return dimSub(a, b);
      if (e.op === "*") return dimMul(a, b);
      if (typeof b === "number" && b <= 0) fail("E0224", e.right.span, `cannot floor-divide a size by ${b}`);
      // A symbolic divisor is a product of dims, so it is positive whatever their values.
      if (!isMonomial(b)) fail("E0224", e.right.span, "a divisor must be a number or a product of dims");
      return dimFloorDiv(a, b);
    }
    default:
      return fail("E0224", e.span, "a size must be an integer expression of numbers and dim names");
  }
}

/**
 * A shape argument: a list of integer expressions (non-negative where known) and, where
 * `allowInfer`, one `-1` standing for the rest. The -1 comes back as -1 for the caller
 * to infer; the `-1` of an expression such as `n - 1` is an ordinary entry.
 */
export function shapeList(ctx: DimLookup, e: Expr, allowInfer: boolean): (Dim | -1)[] {
  if (e.kind !== "list") fail("E0118", e.span, "shape");
  let inferred = 0;
  return e.items.map((item): Dim | -1 => {
    if (allowInfer && constNumber(item) === -1) {
      if (++inferred > 1) fail("E0206", item.span);
      return -1;
    }
    const d = intExpr(ctx, item);
    if (typeof d === "number" && d < 0) fail("E0215", item.span, `a shape entry cannot be negative, found ${d}`);
    return d;
  });
}

/**
 * A built-in's argument made only of integers and bound dims (`k`, `d // 2`, `n - 1`) as
 * the number literal it equals, so a dim name stands wherever a constant integer is
 * expected (`one_hot(labels, k)`, `repeat(x, n, axis = 0)`); else undefined. In a tensor
 * position the literal is the same value, so the substitution is always sound.
 */
export function boundSizeArgument(ctx: DimLookup, e: Expr): Expr | undefined {
  let names = 0;
  const sizeTerms = (x: Expr): boolean => {
    switch (x.kind) {
      case "number": return Number.isInteger(x.value);
      case "name": names++; return typeof ctx.dim(x.name) === "number";
      case "paren": return sizeTerms(x.inner);
      case "unary": return sizeTerms(x.operand);
      case "binary": return ["+", "-", "*", "//"].includes(x.op) && sizeTerms(x.left) && sizeTerms(x.right);
      default: return false;
    }
  };
  if (!sizeTerms(e) || names === 0) return undefined;
  const v = intExpr(ctx, e) as number;
  const literal = (n: number): Expr => ({ kind: "number", value: n, text: String(n), span: e.span });
  return v < 0 ? { kind: "unary", op: "-", operand: literal(-v), span: e.span } : literal(v);
}
