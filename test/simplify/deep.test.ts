// Simplify on deep graphs: a 50,000-deep chain is rewritten, or walked when nothing
// applies, without recursion (no stack overflow). Apart from the rule tests in
// simplify.test.ts because they are slow (seconds): \`npm run mutate -- src/simplify\` leaves
// them out.

import { describe, expect, it } from "vitest";
import "../../src/ops";
import { Graph } from "../../src/ir";
import { Builder } from "../../src/ops";
import { simplify } from "../../src/simplify";

function fresh() {
  const graph = new Graph();
  const b = new Builder(graph, undefined);
  return { graph, b, x: b.input("x", "input", []) };
}

describe("simplify on deep graphs", () => {
  it("rewrites a 50,000-deep chain without recursion", () => {
    const { graph, b, x } = fresh();
    const one = b.constant(1);
    let v = x;
    for (let i = 0; i < 50_000; i++) v = b.mul(b.neg(b.neg(v)), one);
    expect(simplify(graph, [v])[0]).toBe(x);
  });

  it("walks a 50,000-deep chain it cannot shorten", () => {
    const { graph, b, x } = fresh();
    let v = x;
    for (let i = 0; i < 50_000; i++) v = b.unary(i % 2 ? "sin" : "exp", v);
    expect(simplify(graph, [v])[0]).toBe(v);
  });
});

