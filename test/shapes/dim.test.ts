// Symbolic dims (src/ir/dim.ts): one canonical text per expression, so equal dims are
// equal strings; they print as gradc, fold constants, simplify floor divisions where
// exact, and evaluate from dim values.

import { describe, expect, it } from "vitest";
import {
  dimAdd, dimDivExact, dimFloorDiv, dimMul, dimNames, dimProduct, dimSub, evalDim, isMonomial, mayBeNegative, sameSize, sizeOf,
} from "../../src/ir";
import { intExpr } from "../../src/lower/shape-expr";
import { parseExpression } from "../../src/syntax";

describe("symbolic dims", () => {
  it("canonical: equal expressions are the same string", () => {
    expect(dimMul("b", 5)).toBe("b * 5");
    expect(dimMul(5, "b")).toBe("b * 5");
    expect(dimMul("t", "b")).toBe(dimMul("b", "t"));
    expect(dimMul("t", "b")).toBe("b * t");
    expect(dimAdd("t", 1)).toBe("t + 1");
    expect(dimAdd(1, "t")).toBe("t + 1");
    expect(dimSub("t", 1)).toBe("t - 1");
    expect(dimAdd(dimSub("t", 1), 1)).toBe("t");
    expect(dimMul(dimAdd("t", 1), "b")).toBe(dimAdd(dimMul("b", "t"), "b"));
    expect(dimProduct([2, "b", 3])).toBe("b * 6");
    expect(dimProduct([2, 3])).toBe(6);
  });

  it("floor division: exact quotients, nesting and constant parts simplify", () => {
    expect(dimFloorDiv("n", 2)).toBe("n // 2");
    expect(dimFloorDiv(dimMul("b", 10), 5)).toBe("b * 2");
    expect(dimFloorDiv(dimMul("b", "t"), "t")).toBe("b");
    expect(dimFloorDiv(dimFloorDiv("n", 2), 3)).toBe("n // 6");
    expect(dimFloorDiv(dimAdd(dimMul("t", 4), 3), 2)).toBe("t * 2 + 1");
    expect(dimFloorDiv(dimAdd("n", 1), 2)).toBe("(n + 1) // 2");
    expect(dimFloorDiv(7, 2)).toBe(3);
    expect(dimMul(dimFloorDiv("n", 2), 2)).toBe("(n // 2) * 2");
    expect(dimDivExact(dimMul("b", 6), 4)).toBeUndefined();
    expect(dimAdd(dimFloorDiv("n", 2), 1)).toBe("n // 2 + 1");
    // reads back as gradc: `-n // 2` would floor-divide -n
    expect(dimSub("t", dimFloorDiv("n", 2))).toBe("-(n // 2) + t");
  });

  it("evaluates from dim values", () => {
    const v = (n: string) => ({ b: 3, t: 5, n: 7 })[n]!;
    expect(evalDim(dimMul("b", "t"), v)).toBe(15);
    expect(evalDim(dimFloorDiv("n", 2), v)).toBe(3);
    expect(evalDim(dimSub(dimMul("t", 2), "b"), v)).toBe(7);
    expect(evalDim(dimFloorDiv(dimAdd("n", 1), 2), v)).toBe(4);
    expect(evalDim(dimMul(dimFloorDiv("n", 2), 2), v)).toBe(6);
  });

  it("sizes compare as products of irreducible factors", () => {
    expect(sameSize(sizeOf(["b", 5, 5]), sizeOf([dimMul("b", 5), 5]))).toBe(true);
    expect(sameSize(sizeOf([dimAdd("t", 1), "b"]), sizeOf([dimAdd(dimMul("b", "t"), "b")]))).toBe(true);
    expect(sameSize(sizeOf([dimAdd(dimMul("t", 2), 2)]), sizeOf([dimAdd("t", 1), 2]))).toBe(true);
    expect(sameSize(sizeOf(["n"]), sizeOf([dimFloorDiv("n", 2), 2]))).toBe(false);
  });

  it("knows its names, whether it is a monomial, and whether it may be negative", () => {
    expect([...dimNames(dimFloorDiv(dimAdd("a", "b"), "c"))].sort()).toEqual(["a", "b", "c"]);
    expect(isMonomial(dimMul("b", "t"))).toBe(true);
    expect(isMonomial(dimFloorDiv("n", 2))).toBe(false);
    expect(isMonomial(dimAdd("t", 1))).toBe(false);
    expect(mayBeNegative(dimSub("t", 1))).toBe(true);
    expect(mayBeNegative(dimAdd("t", 1))).toBe(false);
  });
});

describe("size factors", () => {
  it("divide out an integer content exactly", () => {
    // 49 * (1 / 49) is 0.9999999999999999 in floating point: the content is divided, not scaled
    expect(sizeOf([dimAdd(dimMul("t", 49), 49)])).toEqual({ coef: 49, dims: ["t + 1"] });
    expect(sizeOf([dimSub(dimMul("t", 6), 3)])).toEqual({ coef: 3, dims: ["t * 2 - 1"] });
  });
});

describe("printed dims read back", () => {
  it("the canonical text, parsed as gradc and folded again, is the same dim", () => {
    const dims = [
      dimMul("b", 5), dimAdd("t", 1), dimSub("t", 1), dimFloorDiv("n", 2), dimAdd(dimFloorDiv("n", 2), 1),
      dimSub("t", dimFloorDiv("n", 2)), dimMul(dimFloorDiv("n", 2), 2), dimFloorDiv(dimAdd("n", 1), 2),
      dimFloorDiv(dimMul("b", "t"), dimMul("d", 2)), dimSub(dimMul("b", 3), dimMul("t", "t")), dimSub(1, "t"),
    ];
    const lookup = { dim: (name: string) => name };
    for (const d of dims) {
      const back = intExpr(lookup, parseExpression({ file: "d", text: String(d) }));
      expect(back, String(d)).toBe(d);
    }
  });
});
