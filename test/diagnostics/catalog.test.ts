// The whole message catalog, code by code: every diagnostic code has a trigger here, and
// the test checks that the trigger produces exactly that code — at its line and column for
// mistakes in a model's source; by code for options, run-time misuse and the CLI, which
// have no source position. A code added to the catalog without a row here fails the first
// test, and so does a row for a code the catalog no longer has: no code goes untested, and
// no code nothing produces stays in the catalog.

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readText, writeText } from "../../src/cli/files";
import { run } from "../../src/cli/run";
import { messages } from "../../src/diagnostics/messages";
import { compile, gradcheck, GradcError } from "../../src/index";
import { evaluate } from "../../src/interpret";
import { lowerSource } from "../../src/lower";

/** A mistake in a model's source, reported at `at` = [line, column] (1-based). */
interface SourceTrigger {
  source: string;
  at: [number, number];
  sizes?: Record<string, number>;
  /** ms, for a trigger slow by nature (a million nodes): not a time budget, room for a busy machine */
  timeout?: number;
}

/** A mistake with no source position: a bad option, a bad call of a compiled model, the CLI. */
interface CallTrigger {
  call: () => unknown;
}

/** A CLI mistake: the command exits 1 printing exactly the catalog's message (it prints
 *  no code). */
interface CliTrigger {
  cli: () => [argv: string[], message: string];
}

/** A message that is the detail of another code's error (E0410's run-time shape checks
 *  say which rule failed with E0205's or E0412's words). */
interface DetailTrigger {
  detailOf: string;
  call: () => unknown;
  contains: string;
}

/** Produced only where a test needs a child process (an engine out of memory): that test
 *  is named here and must check the code. */
interface ElsewhereTrigger {
  testedIn: string;
}

type Trigger = SourceTrigger | CallTrigger | CliTrigger | DetailTrigger | ElsewhereTrigger;

const xor = "input x: [4, 2]\ninput y: [4, 1]\nparam w: [2, 1]\nminimize sum((x @ w - y) ^ 2)";
const model = (source = xor) => compile(source, { filename: "m.grad" });
const tmp = mkdtempSync(join(tmpdir(), "gradc-catalog-"));

const triggers: Record<string, Trigger> = {
  // lexical and syntax
  E0001: { source: "x = 1 $ 2", at: [1, 7] },
  E0002: { source: "input x\ny = x +\n", at: [2, 8] },
  E0003: { source: "y = 1.2.3", at: [1, 5] },
  E0004: { source: `input x\ny = ${"(".repeat(3000)}x${")".repeat(3000)}`, at: [2, 255] },
  E0005: { source: "y = dim + 1", at: [1, 5] },
  E0006: { source: "input x: [2]\ny = sum(axis = 0, x)", at: [2, 19] },
  E0007: { source: "input x: [2]\ny = sum(x, axis = 0, axis = 0)", at: [2, 22] },
  E0008: { source: "input x\ny = 1 < x < 2", at: [2, 11] },
  E0009: { source: "input x: [2, 3]\ny = x[..., ...]", at: [2, 12] },
  E0010: { source: "input x\ny = exp(x\noutput y", at: [2, 8] },
  E0011: { source: "input w\nb = 1\ny = where(w = 0, w, b)", at: [3, 13] },
  E0019: { source: "fn f(a = 1, b) = a + b\ny = f(1, 2)", at: [1, 13] },
  // names and statements
  E0101: { source: "input x\ny = sigmoid(z)", at: [2, 13] },
  E0102: { source: "input x\ny = x\ny = x * 2", at: [3, 1] },
  E0103: { source: "param w\nw = 2", at: [2, 1] },
  E0104: { source: "input x\ny = sigmod(x)", at: [2, 5] },
  E0105: { source: "input x\ny = exp(x, x)", at: [2, 5] },
  E0106: { source: "input x: [2]\ny = sum(x, axes = 0)", at: [2, 12] },
  E0107: { source: "input x\ny = pow(x)", at: [2, 5] },
  E0108: { source: "fn f(a) = g(a)\nfn g(a) = f(a)\ninput x\ny = f(x)", at: [2, 11] },
  E0109: { source: "fn f(a) = a\ny = f + 1", at: [2, 5] },
  E0110: { source: "input x\ny = x(1)", at: [2, 5] },
  E0111: { source: "param w\nminimize w\nminimize w", at: [3, 1] },
  E0112: { source: "input x\noutput x, x", at: [2, 11] },
  E0113: { source: "param w\nminimize w with sdg(lr = 1)", at: [2, 17] },
  E0114: { source: "param w: [2] = unifrom(0, 1)", at: [1, 16] },
  E0116: { source: "input a: [2]\ny = concat([a, a], axis = 0.5)", at: [2, 27] },
  E0117: { source: "input x: [2]\ny = sum(x, axis = 0, keepdims = 1)", at: [2, 33] },
  E0118: { source: "input x: [2, 3]\ny = sum(x, axis = [0.5])", at: [2, 20] },
  E0119: { source: "input x\ny = grad(x * 2, x * 3)", at: [2, 17] },
  E0020: { source: "input x\nfn f(a) {\n  b = a * 2\n}\ny = f(x)", at: [3, 3] },
  E0021: { source: "input x\nfn f(a) {\n  b = a * 2\n  b = b + 1\n  b\n}\ny = f(x)", at: [4, 3] },
  E0121: { source: "fn f(a, a) = a\ninput x\ny = f(x, x)", at: [1, 9] },
  E0122: { source: "y = true + 1", at: [1, 5] },
  E0123: { source: "y = [1, 2] + 1", at: [1, 5] },
  E0124: { source: "input x\ny = z + x\nz = 1", at: [2, 5] },
  E0125: { source: "dim n\nparam w: [n]", at: [2, 7] },
  E0126: { source: "dim n\ninput x: [2]\ny = full([n], 1) * 0 + sum(x)\noutput y", at: [1, 5] },
  E0127: { source: 'y = "ab" + 1', at: [1, 5] },
  E0128: { source: "input x: [2]\nparam w: [2]\nminimize sum(x * w) with adam(lr = w)", at: [3, 36] },
  // shapes
  E0201: { source: "input a: [3]\ninput b: [4]\nc = a + b", at: [3, 5] },
  E0202: { source: "input x: [4, 2]\nparam m: [3, 3]\nh = x @ m", at: [3, 5] },
  E0203: { source: "input x: [2, 3]\ny = sum(x, axis = 2)", at: [2, 19] },
  E0204: { source: "input x: [2, 3]\ny = sum(x, axis = [1, -1])", at: [2, 23] },
  E0205: { source: "input x: [2, 3]\ny = reshape(x, [4, 2])", at: [2, 5] },
  E0206: { source: "input x: [2, 3]\ny = reshape(x, [-1, -1])", at: [2, 21] },
  E0207: { source: "input x: [2, 3]\ny = transpose(x, [0, 0])", at: [2, 18] },
  E0208: { source: "input x: [2, 3]\ny = broadcast_to(x, [3, 3])", at: [2, 5] },
  E0209: { source: "input a: [2, 3]\ninput b: [2, 4]\nc = concat([a, b], axis = 0)", at: [3, 5] },
  E0210: { source: "input x: [2, 3]\ny = x[2]", at: [2, 7] },
  E0211: { source: "param w: [2]\nminimize w * 2", at: [2, 10] },
  E0212: { source: "input v: [2]\ny = full([3], v)", at: [2, 15] },
  E0213: { source: "input x: [1, 2, 5, 5]\nparam w: [4, 3, 3, 3]\ny = conv2d(x, w)", at: [3, 5] },
  E0214: { source: "input x: [4, 4]\ny = maxpool2d(x)", at: [2, 5] },
  E0215: { source: "input x: [2, 3]\ny = reshape(x, [x, 3])", at: [2, 17] },
  E0216: { source: "input l: [3]\ny = one_hot(l, 0)", at: [2, 16] },
  E0219: { source: "input x: [2]\ny = grad(x * 2, x)", at: [2, 10] },
  E0220: { source: "param w: [1099511627776]\nminimize sum(w)", at: [1, 7] },
  E0221: {
    // every call doubles the distinct nodes: sin and cos of sin and cos ... of x
    source: ["input x", "fn f0(a) = a", ...Array.from({ length: 29 }, (_, i) => `fn f${i + 1}(a) = f${i}(sin(a)) + f${i}(cos(a))`), "y = f29(x)", "output y"].join("\n"),
    at: [4, 15],
    // (builds a million nodes: about 5 s on a quiet machine, over a minute on a loaded one)
    timeout: 600_000,
  },
  E0223: { source: "input x: [1, 1, 1, 1, 1, 1, 1, 1, 1]", at: [1, 7] },
  E0224: { source: "dim n\ninput x: [n * 2]", at: [2, 11] },
  E0225: { source: 'input a: [2, 3]\ny = einsum("ij,jk", a)', at: [2, 12] },
  // take, scatter_add and constants
  E0240: { source: "y = tensor([[1, 2], [3]])", at: [1, 21] },
  E0241: { source: "input g: [3, 4]\ninput ids: [2]\ny = scatter_add(g, ids, 5)", at: [3, 5] },
  E0242: { source: "y = take(tensor([1, 2, 3]), tensor([0, 5]))\noutput y", at: [1, 5] },
  E0243: { source: "y = arange(0, 5, 0)", at: [1, 18] },
  E0244: { source: "y = eye(-2)", at: [1, 9] },
  E0245: { source: "y = arange(0, 2, true)", at: [1, 18] },
  E0246: { source: "dim t\ndim s\ninput x: [t]\ninput e: [s, 2]\ny = take(e, arange(t))\noutput y", at: [5, 5] },
  // convolution and pooling
  E0250: { source: "input x: [1, 5, 5]\nparam w: [4, 1, 3, 3]\ny = conv2d(x, w)", at: [3, 5] },
  E0251: { source: "input x: [1, 3, 5, 5]\nparam w: [4, 1, 3, 3]\ny = conv2d(x, w, groups = 2)", at: [3, 5] },
  E0252: { source: "input x: [1, 1, 2, 2]\nparam w: [1, 1, 3, 3]\ny = conv2d(x, w)", at: [3, 5] },
  E0253: { source: "input x: [1, 1, 5, 5]\nparam w: [1, 1, 3, 3]\ny = conv2d(x, w, stride = 0)", at: [3, 27] },
  E0254: { source: "dim n\ninput x: [1, 1, n, 5]\nparam w: [1, 1, 3, 3]\ny = conv2d(x, w)", at: [4, 5] },
  E0255: { source: "input x: [1, 1, 4, 4]\ninput g: [1, 1, 3, 3]\ny = maxpool2d_grad(x, g, size = 2)", at: [3, 5] },
  E0256: { source: "input x: [1, 1, 1, 1]\nparam w: [1, 1, 1, 1]\ny = conv_transpose2d(x, w, padding = 1)", at: [3, 5] },
  // the built-ins for real models
  E0260: { source: "input x: [2, 3]\ny = squeeze(x, 0)", at: [2, 16] },
  E0261: { source: "input a: [2]\ninput b: [3]\ny = stack([a, b])", at: [3, 11] },
  E0263: { source: "input x: [2, 3]\ny = pad(x, [[1, 1]])", at: [2, 12] },
  E0264: { source: "input xs: [4, 3]\ninput h: [3]\nfn f(c) = c\ny = scan(f, h, xs)", at: [4, 10] },
  E0265: { source: "input s\ninput h: [3]\nfn f(c, x) = c + x\ny = scan(f, h, s)", at: [4, 16] },
  E0267: { source: "input xs: [4, 3]\ninput h: [3]\nfn f(c, x) = [c + x, c]\ny = scan(f, [h], [xs])", at: [4, 5] },
  E0266: { source: "input xs: [4, 3]\ninput h: [3]\nfn f(c, x) = sum(c * x)\ny = scan(f, h, xs)", at: [4, 5] },
  // sizes and options
  E0301: { call: () => compile("input x", { sizes: { n: 3 } }) },
  E0302: { source: "dim n\ninput x: [n]", at: [1, 5], sizes: { n: 0 } },
  E0303: { call: () => compile(xor, { dtype: "f16" as "f32" }) },
  E0304: { call: () => gradcheck(model(), { sizes: { n: 2 } } as never) },
  E0305: { call: () => compile(xor, { nope: 1 } as never) },
  E0306: { call: () => gradcheck("dim n\ninput x: [n]\nparam w\nminimize sum(x * w)", { dims: { q: 3 } } as never) },
  E0307: { call: () => compile(xor, { target: "webgpu" as "js" }) },
  E0308: { call: () => compile(xor, { target: "wasm", dtype: "f64" }) },
  // run-time misuse, reported by the compiled model
  E0401: { call: () => model().forward({ x: new Float32Array(8) }) },
  E0402: { call: () => model().forward({ x: new Float32Array(8), y: new Float32Array(4), z: new Float32Array(1) }) },
  E0403: { call: () => model().forward({ x: new Float32Array(7), y: new Float32Array(4) }) },
  E0404: { call: () => model().forward({ x: [0, 0, 0, 0, 0, 0, 0, 0] as never, y: new Float32Array(4) }) },
  E0405: { call: () => model("dim n\ninput x: [n, 3]\ny = sum(x)\noutput y").forward({ x: new Float32Array(4) }) },
  E0406: { call: () => model("input x\ny = x * 2\noutput y").valueAndGrad({ x: 1 }) },
  E0407: { source: "dim n\ndim m\ninput x: [n, m]\ny = sum(x)\noutput y", at: [3, 7] },
  E0408: { call: () => model("dim n\ninput a: [n]\ny = reshape(a, [n, 1]) * reshape(a, [1, n])\noutput y").forward({ a: new Float32Array(65_536) }) },
  E0409: { testedIn: "test/hardening/limits.test.ts" },
  E0410: { call: () => model("dim n\ninput x: [n]\ny = reshape(x, [n // 2, 2])\noutput y").forward({ x: new Float32Array(5) }) },
  E0412: {
    detailOf: "E0410",
    call: () => model("dim t\ninput x: [t]\ny = sum(zeros([t - 5])) + sum(x)\noutput y").forward({ x: new Float32Array(3) }),
    contains: messages.E0412("t - 5"),
  },
  E0247: {
    detailOf: "E0410",
    call: () => model("dim t\ninput x: [t]\nparam P: [4, 2]\ny = take(P, arange(t)) * expand_dims(x, 1)\noutput y").forward({ x: new Float32Array(5) }),
    contains: messages.E0247("t", 4),
  },
  E0411: { call: () => model().createParams("abc" as never) },
  E0413: { call: () => compile("u = rand([2])\noutput u").reseed!(1.5) },
  E0420: { call: () => model("input ids: [2]\nparam e: [3, 2]\nminimize sum(take(e, ids))").forward({ ids: Float32Array.of(0, 3) }) },
  E0421: { call: () => model("input ids: [2]\nparam e: [3, 2]\nminimize sum(take(e, ids + 1))").forward({ ids: Float32Array.of(0, 2) }) },
  E0422: {
    call: () => {
      const p = lowerSource("input ids: [2]\nparam e: [3, 2]\ny = take(e, ids)\noutput y", { filename: "m.grad" });
      const values = new Map([["ids", Float64Array.of(1, 7)], ["e", new Float64Array(6)]]);
      return evaluate([p.outputs[0]!.node], { dims: new Map(), values });
    },
  },
  // the CLI
  E0502: { call: () => readText(join(tmp, "missing.grad")) },
  E0503: { call: () => writeText(join(tmp, "file.txt", "below-a-file.mjs"), "x") },
  E0504: { cli: () => { const path = join(tmp, "self.grad"); writeFileSync(path, xor); return [["compile", path, "-o", path], messages.E0504(path)]; } },
  E0222: { testedIn: "test/hardening/limits.test.ts" },
};
writeFileSync(join(tmp, "file.txt"), "a file, not a folder");

/** The GradcError that `f` throws. */
function errorOf(f: () => unknown): GradcError {
  try {
    f();
  } catch (e) {
    if (e instanceof GradcError) return e;
    throw e;
  }
  throw new Error("expected a GradcError, but nothing was thrown");
}

describe("the message catalog", () => {
  it("every code has a trigger, and every trigger is a code of the catalog", () => {
    const codes = Object.keys(messages).sort();
    expect(codes.filter((c) => !(c in triggers)), "codes without a trigger in this file").toEqual([]);
    expect(Object.keys(triggers).filter((c) => !codes.includes(c)).sort(), "triggers for codes the catalog no longer has").toEqual([]);
  });

  for (const [code, trigger] of Object.entries(triggers)) {
    if ("source" in trigger) {
      it(`${code} at ${trigger.at.join(":")}`, () => {
        const e = errorOf(() => compile(trigger.source, { filename: "m.grad", sizes: trigger.sizes }));
        expect(e.code, e.rendered).toBe(code);
        expect([e.line, e.column], e.rendered).toEqual(trigger.at);
        expect(e.file).toBe("m.grad");
        expect(e.rendered.startsWith(`m.grad:${trigger.at[0]}:${trigger.at[1]}: error: `), e.rendered).toBe(true);
      }, trigger.timeout);
    } else if ("detailOf" in trigger) {
      it(`${code} (in ${trigger.detailOf}'s message)`, () => {
        const e = errorOf(trigger.call);
        expect(e.code, e.message).toBe(trigger.detailOf);
        expect(e.message).toContain(trigger.contains);
      });
    } else if ("call" in trigger) {
      it(`${code} (no source position)`, () => {
        const e = errorOf(trigger.call);
        expect(e.code, e.message).toBe(code);
        expect(e.message.length).toBeGreaterThan(10);
      });
    } else if ("cli" in trigger) {
      it(`${code} (the CLI)`, () => {
        const [argv, message] = trigger.cli();
        let text = "";
        const status = run(argv, () => {}, (t) => { text += t; });
        expect(status, text).toBe(1);
        expect(text).toContain(message);
      });
    } else {
      it(`${code} is checked by ${trigger.testedIn}`, async () => {
        const { readFileSync } = await import("node:fs");
        const text = readFileSync(new URL(`../../${trigger.testedIn}`, import.meta.url), "utf8");
        expect(text).toContain(`"${code}"`);
      });
    }
  }
});
