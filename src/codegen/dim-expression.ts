// A symbolic dim (src/ir/dim.ts) as a JS expression over the call's dim variables:
// `b * 5` becomes `dim_b * 5`, `n // 2` becomes `Math.floor(dim_n / 2)`. Dims only ever
// name generated identifiers, so no user text reaches the code.

import { foldDim, type Dim, type Shape } from "../ir";
import * as js from "./estree";

export function dimExpression(d: Dim, nameOf: (dim: string) => string): js.Expression {
  return foldDim<js.Expression>(d, {
    num: js.num,
    name: (n) => js.id(nameOf(n)),
    add: js.add,
    sub: (a, b) => js.binary("-", a, b),
    mul: js.mul,
    floorDiv: (a, b) => js.math("floor", js.binary("/", a, b)),
  });
}

/** The element count of `shape` as an expression: the product of its dims' expressions. */
export function sizeExpression(shape: Shape, dim: (d: Dim) => js.Expression): js.Expression {
  return shape.reduce<js.Expression>((e, d) => js.mul(e, dim(d)), js.num(1));
}
