// Block-bodied functions: definitions local to the body, the last line is the value;
// printing and parsing agree; mistakes are located GradcErrors.

import { describe, expect, it } from "vitest";
import { compile, GradcError } from "../../src/index";
import { evaluate } from "../../src/interpret";
import { lowerSource } from "../../src/lower";
import { parse, printProgram } from "../../src/syntax";


const gru = `
dim b, d, h
input x: [b, d]
input h0: [b, h]
param wz: [d, h]
param uz: [h, h]
param wn: [d, h]
param un: [h, h]
fn cell(h, x) { z = sigmoid(x @ wz + h @ uz); n = tanh(x @ wn + (z * h) @ un); (1 - z) * n + z * h }
fn cell2(h, x) {
  z = sigmoid(x @ wz + h @ uz)

  n = tanh(x @ wn + (z * h) @ un)
  (1 - z) * n + z * h
}
fn cell3(h, x) = (1 - sigmoid(x @ wz + h @ uz)) * tanh(x @ wn + (sigmoid(x @ wz + h @ uz) * h) @ un) + sigmoid(x @ wz + h @ uz) * h
y1 = cell(h0, x)
y2 = cell2(h0, x)
y3 = cell3(h0, x)
output y1, y2, y3
`;

function errorOf(source: string): GradcError {
  try {
    compile(source, { filename: "m.grad", sizes: { b: 2, d: 3, h: 4 } });
  } catch (e) {
    if (e instanceof GradcError) return e;
    throw e;
  }
  throw new Error("expected a GradcError");
}

describe("block bodies", () => {
  it("a block body is the same graph as the one-line body it spells out (hash-consed)", () => {
    const p = lowerSource(gru, { sizes: { b: 2, d: 3, h: 4 } });
    const [y1, y2, y3] = p.outputs.map((o) => o.node);
    expect(y1).toBe(y2);
    expect(y1).toBe(y3);
    // the locals name the nodes they define
    expect(p.outputs[0]!.node.inputs.some((n) => n.name === "n" || n.inputs.some((m) => m.name === "n"))).toBe(true);
  });

  it("locals shadow outer names and are invisible outside the body", () => {
    const src = "input x: [3]\nz = x * 10\nfn f(a) {\n  z = a + 1\n  z * 2\n}\ny = f(x) + z\noutput y";
    const p = lowerSource(src);
    const x = [1, 2, 3];
    const out = evaluate([p.outputs[0]!.node], { values: new Map([["x", x]]) }).get(p.outputs[0]!.node)!;
    expect(Array.from(out.data)).toEqual(x.map((v) => (v + 1) * 2 + v * 10));
    const hidden = errorOf("input x: [3]\nfn f(a) {\n  q = a + 1\n  q * 2\n}\ny = f(x) + q\noutput y");
    expect([hidden.code, hidden.line, hidden.column]).toEqual(["E0101", 6, 12]);
  });

  it("runs in emitted code like the interpreter", () => {
    const model = compile(gru, { sizes: { b: 2, d: 3, h: 4 } });
    const x = Float32Array.from({ length: 6 }, (_, i) => Math.sin(i));
    const h0 = Float32Array.from({ length: 8 }, (_, i) => Math.cos(i));
    const out = model.forward({ x, h0 });
    expect(Array.from(out.y1 as Float32Array)).toEqual(Array.from(out.y3 as Float32Array));
  });

  it("prints as a block and reads back to the same program", () => {
    const program = parse({ file: "m.grad", text: gru });
    const text = printProgram(program);
    expect(text).toContain("fn cell(h, x) {\n  z = sigmoid(x @ wz + h @ uz)\n  n = tanh(x @ wn + z * h @ un)\n  (1 - z) * n + z * h\n}");
    expect(printProgram(parse({ file: "m.grad", text: text }))).toBe(text);
  });

  it("mistakes are located: redefinition, ending in a definition, unclosed brace, two values", () => {
    const redef = errorOf("input x\nfn f(a) {\n  b = a\n  b = 2 * b\n  b\n}\ny = f(x)\noutput y");
    expect([redef.code, redef.line, redef.column]).toEqual(["E0021", 4, 3]);
    expect(redef.notes[0]).toMatchObject({ line: 3, column: 3 });
    const param = errorOf("input x\nfn f(a) {\n  a = 2 * a\n  a\n}\ny = f(x)\noutput y");
    expect([param.code, param.line, param.column]).toEqual(["E0021", 3, 3]);
    expect(param.notes[0]!.message).toMatch(/parameter/);
    const ends = errorOf("input x\nfn f(a) {\n  b = a\n}\ny = f(x)\noutput y");
    expect([ends.code, ends.line, ends.column]).toEqual(["E0020", 3, 3]);
    const unclosed = errorOf("input x\nfn f(a) {\n  b = a\n  b * 2\noutput x");
    expect([unclosed.code, unclosed.line, unclosed.column]).toEqual(["E0010", 2, 9]);
    expect(unclosed.errors).toHaveLength(1);
    const atEnd = errorOf("input x\nfn f(a) {\n  a * 2");
    expect([atEnd.code, atEnd.line, atEnd.column]).toEqual(["E0010", 2, 9]);
    const two = errorOf("input x\nfn f(a) {\n  a * 2\n  a * 3\n}\ny = f(x)\noutput y");
    expect([two.code, two.line, two.column]).toEqual(["E0002", 4, 3]);
    expect(two.errors).toHaveLength(1);
    const empty = errorOf("input x\nfn f(a) { }\ny = f(x)\noutput y");
    expect([empty.code, empty.line, empty.column]).toEqual(["E0002", 2, 11]);
  });
});
