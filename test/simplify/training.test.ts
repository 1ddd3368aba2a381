// The training flag specialised away (src/simplify/training.ts): `where(training, a, b)`
// becomes a with the flag on and b with it off, nodes beneath that do not read the flag are
// kept as they are (with their names), and the values agree with the interpreter run with
// the flag set.

import { describe, expect, it } from "vitest";
import "../../src/ops";
import { evaluate } from "../../src/interpret";
import { Graph, topoSort, type Node } from "../../src/ir";
import { Builder } from "../../src/ops";
import { readsTraining, specialiseTraining } from "../../src/simplify";

function fixture() {
  const graph = new Graph();
  const b = new Builder(graph, undefined);
  const x = b.input("x", "input", [3]);
  const e = b.unary("exp", x);
  e.name = "e";
  const flag = b.op("training", []);
  // dropout's shape: where(training, 2 * e, e), then something on top
  const picked = b.where(flag, b.mul(e, b.constant(2, [3])), e);
  const out = b.sum(b.unary("sin", picked), [0]);
  out.name = "out";
  const plain = b.sum(e, [0]);
  return { graph, x, e, out, plain };
}

const values = new Map([["x", [-1, 0.5, 2]]]);

describe("specialiseTraining", () => {
  it("reads the flag only where it is used", () => {
    const { out, plain } = fixture();
    expect(readsTraining([out])).toBe(true);
    expect(readsTraining([plain])).toBe(false);
    expect(readsTraining([plain, out])).toBe(true);
  });

  for (const on of [true, false]) {
    it(`with the flag ${on ? "on" : "off"}: the branch taken, values as the interpreter's, names kept`, () => {
      const { graph, out, plain, e } = fixture();
      const [special, same] = specialiseTraining(graph, [out, plain], on);
      expect(readsTraining([special!])).toBe(false);
      expect(topoSort([special!]).some((n: Node) => n.op.name === "where")).toBe(false);
      // the doubled branch exists only with the flag on
      expect(topoSort([special!]).some((n: Node) => n.op.name === "mul")).toBe(on);
      expect(special!.name).toBe("out");
      expect(same).toBe(plain);
      expect(topoSort([special!])).toContain(e);
      const want = evaluate([out, plain], { values, training: on });
      const got = evaluate([special!, same!], { values });
      expect(Array.from(got.get(special!)!.data)).toEqual(Array.from(want.get(out)!.data));
      expect(Array.from(got.get(same!)!.data)).toEqual(Array.from(want.get(plain)!.data));
    });
  }
});
