// Emitted code is safe: model names that are JS keywords, globals, builtins or equal to the
// emitted code's own identifiers compile and compute what the interpreter computes, in
// every role (input, param, definition, output, objective, fn and fn parameter); no user
// text reaches the emitted code except through the safe name mapping, string literals and
// single-line comments; the `values` record and the returned records never reach the
// prototype chain.

import { parse } from "acorn";
import { describe, expect, it } from "vitest";
import { compile, GradcError } from "../../src/index";
import { expectClose, expectGradcError, inputsFor, interpret, put, type Values } from "./helpers";

const hostile = [
  "constructor", "__proto__", "toString", "valueOf", "hasOwnProperty", "isPrototypeOf", "__defineGetter__",
  "Math", "Float32Array", "Float64Array", "Object", "Array", "Map", "Error", "Symbol", "globalThis", "window",
  "arguments", "eval", "this", "undefined", "NaN", "Infinity", "null", "let", "new", "return", "function", "class",
  "delete", "typeof", "void", "yield", "await", "static", "prototype", "length", "name",
  // the runtime's and codegen's own identifiers
  "hasOwn", "fail", "record", "params", "F", "values", "known", "key", "seed", "random", "meta", "forward",
  "valueAndGrad", "step", "createParams", "GradcError", "describe", "grow", "inferDim", "scalarArg", "initialise",
  "makeRandom", "scalarField", "badLength", "out", "scalars", "scratch",
  // names equal to generated identifiers
  "run_step", "run_grad", "run_forward", "step_b0", "grad_b1", "forward_b0", "p_w", "in_x", "s_loss", "v_h", "t_12",
  "i", "i_3", "t", "acc", "view", "stepImpl", "opt_t", "opt0_w", "box_x", "dim_n", "kernel_h", "a0", "s0", "c1", "c2",
];

/** Each role of `name` in its own model (a name is one thing per program). */
function roles(name: string): Record<string, string> {
  return {
    input: `input ${name}: [2, 3]\nparam w: [3]\ny = sum(${name} * w, axis = 1)\noutput y\nminimize sum(y ^ 2)`,
    param: `input x: [2, 3]\nparam ${name}: [3] = uniform(-1, 1)\ny = tanh(x @ ${name})\noutput y\nminimize sum(y ^ 2)`,
    "scalar param": `input x: [2]\nparam ${name} = constant(0.7)\ny = x * ${name}\noutput y\nminimize sum(y ^ 2)`,
    "scalar input": `input ${name}\nparam w: [2]\ny = w * ${name}\noutput y\nminimize sum(sin(y))`,
    "definition, output and objective": `input x: [2, 3]\nparam w: [3]\n${name} = sum((x * w) ^ 2)\nh = x * w\noutput h, ${name}\nminimize ${name}`,
    "tensor output": `input x: [2, 3]\nparam w: [3]\n${name} = x * w\noutput ${name}\nminimize sum(${name} ^ 2)`,
    "fn and fn parameter": `input x: [3]\nparam w: [3]\nfn ${name}(a) = a * 3\nfn g(${name}) = ${name} * ${name} + 1\ny = g(${name}(x * w))\noutput y\nminimize sum(y)`,
  };
}

function modelParams(model: ReturnType<typeof compile>): Record<string, Float64Array> {
  const out: Record<string, Float64Array> = {};
  for (const p of model.meta.params) put(out, p.name, Float64Array.from(model.params[p.name]!));
  return out;
}

describe("hostile model names compute the interpreter's values", () => {
  for (const name of hostile) {
    it(`\`${name}\` in every role`, () => {
      for (const [role, source] of Object.entries(roles(name))) {
        const model = compile(source, { dtype: "f64", filename: `${role}.grad` });
        const values = inputsFor(model, 3);
        const params = modelParams(model);
        const expected = interpret(source, values, params);
        const forward = model.forward(values);
        for (const o of model.meta.outputs) {
          expect(Object.prototype.hasOwnProperty.call(forward, o.name), `${role}: output ${o.name}`).toBe(true);
          const v = forward[o.name]!;
          expectClose(typeof v === "number" ? [v] : v, expected.outputs[o.name]!, 1e-12);
        }
        const { value, grads } = model.valueAndGrad(values);
        expectClose([value], [expected.objective!], 1e-12);
        for (const p of model.meta.params) {
          expect(Object.prototype.hasOwnProperty.call(grads, p.name), `${role}: gradient of ${p.name}`).toBe(true);
          expectClose(grads[p.name]!, expected.grads[p.name]!, 1e-12);
        }
        expect(model.step(values)).toBeCloseTo(value, 12);
      }
    });
  }
});

/** Every identifier of a program (bindings and references), every string literal, every comment. */
function scan(code: string, sourceType: "module" | "script") {
  const identifiers = new Set<string>();
  const comments: string[] = [];
  const ast = parse(code, { ecmaVersion: "latest", sourceType, allowReturnOutsideFunction: true, onComment: (_block, text) => comments.push(text) });
  const walk = (n: unknown, parentKey?: string, parent?: Record<string, unknown>): void => {
    if (Array.isArray(n)) { n.forEach((x) => walk(x, parentKey, parent)); return; }
    if (!n || typeof n !== "object") return;
    const node = n as Record<string, unknown> & { type?: string };
    if (node.type === "Identifier") {
      // `a.b` and `{ b: ... }`: b is a property name, not a variable.
      const isProperty = (parent?.type === "MemberExpression" && parentKey === "property" && !parent.computed) ||
        (parent?.type === "Property" && parentKey === "key" && !parent.computed);
      if (!isProperty) identifiers.add(node.name as string);
      return;
    }
    for (const [k, v] of Object.entries(node)) if (k !== "loc" && k !== "start" && k !== "end") walk(v, k, node);
  };
  walk(ast);
  return { identifiers, comments };
}

describe("no user text reaches the emitted code except through the name mapping", () => {
  // Every model name carries a marker, so any identifier made from user text is visible.
  const source = `dim Qzn
input QzIn: [Qzn, 3]
input QzT
param QzW: [3, 2] = glorot_uniform
param QzB
fn QzF(QzA) = tanh(QzA) * 2
QzH = QzF(QzIn @ QzW + QzB) * QzT
QzS = sum(QzH ^ 2)
output QzH, QzS
minimize QzS with adam(lr = 0.1)
`;
  const userNames = ["Qzn", "QzIn", "QzT", "QzW", "QzB", "QzF", "QzA", "QzH", "QzS"];

  for (const format of ["function", "esm", "cjs"] as const) {
    it(`identifiers made from model names are prefixed, sanitised and never a bare name (${format})`, async () => {
      const { compileToSource } = await import("../../src/index");
      const { text } = compileToSource(source, { format, dtype: "f64" });
      const { identifiers } = scan(text, format === "esm" ? "module" : "script");
      for (const id of identifiers) {
        expect(userNames, `identifier ${id}`).not.toContain(id);
        if (id.includes("Qz")) expect(id, `identifier ${id}`).toMatch(/^[a-z][a-z0-9]*_Qz[A-Za-z0-9_]*$/);
      }
      // Every identifier is the codegen's: made of [A-Za-z0-9_] (no `$`, no Unicode).
      for (const id of identifiers) expect(id).toMatch(/^[A-Za-z_][A-Za-z0-9_]*$/);
    });
  }

  it("source text in kernel comments cannot end the comment: line terminators are replaced", () => {
    const evil = "input x: [3]\nparam w: [3]\ny = x * w  # \u2028 globalThis.pwned = 1 \u2029 globalThis.pwned = 2 \r globalThis.pwned = 3\nminimize sum(y ^ 2)\n";
    const model = compile(evil, { dtype: "f64", filename: "evil\n globalThis.pwned = 4 //\u2028.grad" });
    const { comments } = scan(model.source, "script");
    for (const c of comments) expect(c).not.toMatch(/[\n\r\u2028\u2029]/);
    model.step({ x: Float64Array.of(1, 2, 3) });
    expect((globalThis as Record<string, unknown>).pwned).toBeUndefined();
    expect(comments.some((c) => c.includes("globalThis.pwned = 1"))).toBe(true);
  });

  it("names reach string literals through JSON escaping only", () => {
    const model = compile("input constructor: [2]\nparam __proto__: [2]\ny = constructor * __proto__\noutput y\nminimize sum(y)");
    expect(model.source).toContain('"__proto__"');
    // Only the codegen's own `__proto__: null` (a record without a prototype) is a key.
    expect(model.source.match(/\b__proto__\s*[:=](?!\s*null\b)/g)).toBeNull();
    expect(Object.keys(model.params)).toEqual(["__proto__"]);
    expect(model.params.__proto__).toBeInstanceOf(Float32Array);
  });
});

describe("the values record cannot reach the prototype chain", () => {
  const source = "input x: [2]\nparam w: [2] = constant(0.5)\ny = x * w\noutput y\nminimize sum(y)";

  it("an own `__proto__` key is an unknown value; a literal `__proto__:` is just a prototype", () => {
    const model = compile(source);
    const x = Float32Array.of(1, 2);
    expectGradcError(() => model.forward(JSON.parse('{"__proto__": 1}')), "E0402", /unknown value `__proto__`/);
    const values: Values = { x };
    put(values, "__proto__", x);
    expectGradcError(() => model.forward(values), "E0402");
    // `{ __proto__: p }` sets the prototype: p's keys are inherited, so not values.
    expectGradcError(() => model.forward({ __proto__: { x } } as unknown as Values), "E0401", /missing input `x`/);
    expect(Array.from(model.forward({ __proto__: { w: Float32Array.of(9, 9) }, x } as unknown as Values).y as Float32Array)).toEqual([0.5, 1]);
  });

  it("inherited names are not values: Object.create, class instances, Object.prototype pollution", () => {
    const model = compile(source);
    const x = Float32Array.of(1, 2);
    expectGradcError(() => model.forward(Object.create({ x })), "E0401");
    class Holder { get x() { return x; } }
    expectGradcError(() => model.forward(new Holder() as unknown as Values), "E0401");
    const proto = Object.prototype as Record<string, unknown>;
    try {
      proto.x = x;
      proto.w = Float32Array.of(100, 100);
      proto.polluted = 1;
      expectGradcError(() => model.forward({}), "E0401", /missing input `x`/);
      // The held param is used, not the polluted one; unknown inherited keys are ignored.
      expect(Array.from(model.forward({ x }).y as Float32Array)).toEqual([0.5, 1]);
      expect(model.valueAndGrad({ x }).grads.w).toEqual(Float32Array.of(1, 2));
    } finally {
      delete proto.x;
      delete proto.w;
      delete proto.polluted;
    }
  });

  it("a model with names on Object.prototype reads only its own values", () => {
    const model = compile("input toString: [2]\nparam valueOf: [2] = constant(2)\nconstructor = toString * valueOf\noutput constructor\nminimize sum(constructor)");
    expectGradcError(() => model.forward({}), "E0401", /missing input `toString`/);
    const values: Values = {};
    put(values, "toString", Float32Array.of(1, 3));
    const r = model.forward(values);
    expect(Object.prototype.hasOwnProperty.call(r, "constructor")).toBe(true);
    expect(Array.from(r["constructor"] as unknown as Float32Array)).toEqual([2, 6]);
    expect(Array.from(model.valueAndGrad(values).grads["valueOf"] as unknown as Float32Array)).toEqual([1, 3]);
  });

  it("the returned records and meta hold only own data: no accessor reaches a prototype", () => {
    const model = compile("input __proto__: [2]\nparam constructor: [2]\nhasOwnProperty = __proto__ * constructor\noutput hasOwnProperty\nminimize sum(hasOwnProperty)");
    const values: Values = {};
    put(values, "__proto__", Float32Array.of(1, 2));
    const r = model.forward(values);
    expect(Object.getPrototypeOf(r)).toBe(Object.prototype);
    expect(Object.keys(r).sort()).toEqual(["hasOwnProperty", "objective"]);
    const g = model.valueAndGrad(values).grads;
    expect(Object.keys(g)).toEqual(["constructor"]);
    expect(g.constructor).toBeInstanceOf(Float32Array);
    expect(Object.isFrozen(model.meta)).toBe(true);
    expect(Object.keys(model.createParams(3))).toEqual(["constructor"]);
    expect(({} as Record<string, unknown>).hasOwnProperty).toBe(Object.prototype.hasOwnProperty);
    // and the model still runs after all that, computing the same objective
    const again = model.forward(values) as Record<string, unknown>;
    expect(Object.keys(again).sort()).toEqual(["hasOwnProperty", "objective"]);
    expect(again.objective).toBe(model.valueAndGrad(values).value);
  });
});
