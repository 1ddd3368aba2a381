// Limits (README "Limits"): each of these compiles within its stated time (asserted by
// `npm run test:limits`, see test/helpers/limits.ts) or gives a clear,
// located GradcError; never a stack overflow, a RangeError or an out-of-memory crash.
// 100,000-deep expression nesting and a 50,000-line scalar chain are covered by
// test/property/robustness.test.ts; here: 100,000 nested function calls, a 50,000-node
// model with its gradient, 20,000 single-use definitions fused into one expression, a
// 1,000-layer network, absurd dims (2^40) in shapes and sizes, and allocation failure.

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildSync } from "esbuild";
import { describe, expect, it } from "vitest";
import { expectWithinBudget } from "../helpers/limits";
import { check, compile, GradcError, gradcheck } from "../../src/index";
import { expectClose, expectGradcError, interpret } from "./helpers";

const root = fileURLToPath(new URL("../..", import.meta.url));

function timed<T>(label: string, f: () => T): { value: T; ms: number } {
  const started = performance.now();
  const value = f();
  const ms = performance.now() - started;
  console.log(`${label}: ${ms.toFixed(0)} ms`);
  return { value, ms };
}

describe("deep programs", () => {
  it("100,000 functions, each calling the one before: E0004 at the call that goes too deep, within 10 s", () => {
    const lines = ["input x", "fn f0(a) = a * 1.5"];
    for (let i = 1; i < 100_000; i++) lines.push(`fn f${i}(a) = f${i - 1}(a) + 1`);
    lines.push("y = f99999(x)", "output y");
    const text = lines.join("\n");
    const { value: error, ms } = timed("100,000 nested fn calls", () => {
      try { check(text); } catch (e) { return e; }
      return undefined;
    });
    expect(error).toBeInstanceOf(GradcError);
    const e = error as GradcError;
    expect(e.code).toBe("E0004");
    expect(e.line).toBeGreaterThan(2);
    expect(e.line).toBeLessThanOrEqual(lines.length);
    expectWithinBudget(ms, 10_000, "100,000 nested function calls");
    // 400 levels are fine.
    const shallow = ["input x", "fn f0(a) = a * 1.5", ...Array.from({ length: 399 }, (_, i) => `fn f${i + 1}(a) = f${i}(a) + 1`), "y = f399(x)", "output y"];
    expect(compile(shallow.join("\n"), { dtype: "f64" }).forward({ x: 2 }).y).toBe(402);
  });

  it("20,000 single-use definitions fuse into one expression without overflowing the compiler's stack (< 30 s)", () => {
    const lines = ["input x: [3]", "param w: [3] = constant(0.5)", "v0 = x * w"];
    for (let i = 1; i <= 20_000; i++) lines.push(`v${i} = sin(v${i - 1})`);
    lines.push("output v20000", "minimize sum(v20000)");
    const { value: model, ms } = timed("20,000-deep fused chain", () => compile(lines.join("\n"), { dtype: "f64" }));
    const { value, grads } = model.valueAndGrad({ x: Float64Array.of(1, 2, 3) });
    let sum = 0;
    [1, 2, 3].forEach((x, k) => {
      let v = 0.5 * x, d = x;
      for (let i = 0; i < 20_000; i++) { d *= Math.cos(v); v = Math.sin(v); }
      sum += v;
      expect(grads.w![k]!).toBeCloseTo(d, 12);
    });
    expect(value).toBeCloseTo(sum, 12);
    expectWithinBudget(ms, 30_000, "20,000 single-use definitions");
  }, 60_000);
});

describe("large programs", () => {
  it("a 50,000-node model compiles with its gradient (< 30 s) and its gradient is right", () => {
    // 12,500 definitions of 4 ops each, every value used twice; the gradient neither
    // vanishes nor explodes along the chain, so a wrong step anywhere shows.
    const lines = ["param x: [4] = uniform(-1, 1)", "v0 = x"];
    for (let i = 1; i <= 12_500; i++) lines.push(`v${i} = v${i - 1} * 0.99995 + sin(v${i - 1}) * 0.0001`);
    lines.push("minimize sum(v12500)");
    const text = lines.join("\n");
    const { value: model, ms } = timed("50,000-node model", () => compile(text, { dtype: "f64" }));
    const x = Array.from(model.params.x!);
    const { value, grads } = model.valueAndGrad({});
    const expected = interpret(text, {}, { x });
    expectClose([value], [expected.objective!], 1e-12);
    expectClose(grads.x!, expected.grads.x!, 1e-12);
    expect(Math.min(...Array.from(grads.x!, Math.abs))).toBeGreaterThan(0.1);
    expect(gradcheck(model, { points: 1 }).ok).toBe(true);
    expectWithinBudget(ms, 30_000, "a 50,000-node model");
  }, 90_000);

  it("a 1,000-layer network (16 wide, tanh) compiles (< 30 s) and trains", () => {
    const lines = ["input x: [8, 16]"];
    for (let i = 0; i < 1000; i++) lines.push(`param w${i}: [16, 16] = glorot_uniform`, `param b${i}: [16] = zeros`);
    lines.push("h0 = x");
    for (let i = 0; i < 1000; i++) lines.push(`h${i + 1} = tanh(h${i} @ w${i} + b${i}) + h${i} * 0.5`);
    lines.push("loss = mean(h1000 ^ 2)", "minimize loss with sgd(lr = 0.01)");
    const { value: model, ms } = timed("1,000-layer network", () => compile(lines.join("\n")));
    const x = Float32Array.from({ length: 128 }, (_, i) => Math.sin(i));
    const first = model.step({ x });
    let last = first;
    for (let k = 0; k < 5; k++) last = model.step({ x });
    expect(Number.isFinite(first)).toBe(true);
    expect(last).toBeLessThan(first);
    expectWithinBudget(ms, 30_000, "a 1,000-layer network");
  }, 90_000);
});

describe("absurd dims are located GradcErrors, found at once", () => {
  const cases: [string, string, Record<string, number>?][] = [
    ["a param of 2^40 elements", "param w: [1099511627776]\nminimize sum(w)"],
    ["a param of 2^20 x 2^20", "param w: [1048576, 1048576]\nminimize sum(w)"],
    ["an input of 2^40", "input x: [1099511627776]\ny = sum(x)\noutput y"],
    ["a dim bound to 2^40", "dim n\ninput x: [n]\ny = sum(x * x)\noutput y", { n: 2 ** 40 }],
    ["a dim bound to 2^60", "dim n\nparam w: [n, 2]\nminimize sum(w)", { n: 2 ** 60 }],
    ["a dim bound to 1e300", "dim n\ninput x: [n]\ny = sum(x)\noutput y", { n: 1e300 }],
    ["a shape of 1e300", "input x: [1e300]\ny = sum(x)\noutput y"],
    ["broadcast_to 2^42 elements (never stored: only summed)", "input x: [4]\ny = sum(broadcast_to(x, [1048576, 1048576, 4]))\noutput y"],
    ["a free dim times 2^40", "dim n\ninput x: [n, 1099511627776]\ny = sum(x)\noutput y"],
    ["one_hot with 2^40 classes", "input x: [4]\ny = sum(one_hot(x, 1099511627776))\noutput y"],
    ["a matmul of 2^16 x 2^16 by 2^16 x 2^16 (2^32 outputs)", "input a: [65536, 65536]\ninput b: [65536, 65536]\ny = sum(a @ b)\noutput y"],
    ["concat past the limit", "input a: [1073741824, 2]\ny = sum(concat([a, a, a], axis = 0))\noutput y"],
  ];
  for (const [what, source, sizes] of cases) {
    it(what, () => {
      const { value: error, ms } = timed(what, () => {
        try { compile(source, { sizes, filename: "big.grad" }); } catch (e) { return e; }
        return undefined;
      });
      expect(error).toBeInstanceOf(GradcError);
      const e = error as GradcError;
      expect(e.code, e.message).toBe("E0220");
      expect(e.message).toMatch(/more than the limit of 2147483647 \(2\^31 - 1\)/);
      expect(e.file).toBe("big.grad");
      expect(e.line).toBeGreaterThan(0);
      expectWithinBudget(ms, 1000, what);
    });
  }

  it("2^31 - 1 elements is allowed (a shape only; nothing is allocated for an unused input)", () => {
    expect(check("input x: [2147483647]\ny = x * 2\noutput y").inputs[0]!.shape).toEqual([2147483647]);
    expectGradcError(() => check("input x: [2147483648]"), "E0220");
  });

  it("a runtime size past the limit is E0408 (see runtime.test.ts); a free-dim product is checked per call", () => {
    const outer = compile("dim n\ninput a: [n]\ny = reshape(a, [n, 1]) * reshape(a, [1, n])\noutput y");
    expectGradcError(() => outer.forward({ a: new Float32Array(65_536) }), "E0408");
    expect((outer.forward({ a: new Float32Array(3) }).y as Float32Array).length).toBe(9);
  });
});

describe("allocation failure", () => {
  // `ulimit -v` needs a POSIX shell and Linux's address-space accounting
  it.skipIf(process.platform !== "linux")("an engine out of memory gives E0222 (params at compile time) and E0409 (a buffer at call time)", () => {
    // Run bundled (no loader needing a large WebAssembly reservation) under a small
    // address space, where the engine's ArrayBuffer allocation fails with a RangeError.
    const tmp = mkdtempSync(join(tmpdir(), "gradc-alloc-"));
    try {
      const bundle = join(tmp, "alloc.mjs");
      buildSync({ entryPoints: [join(root, "test/hardening/fixtures/alloc-child.ts")], bundle: true, platform: "node", format: "esm", outfile: bundle, logLevel: "error" });
      const r = spawnSync("bash", ["-c", `ulimit -v 8000000 && exec "${process.execPath}" "${bundle}"`], { encoding: "utf8", timeout: 60_000 });
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual(["E0222", "E0409", "ok"]);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }, 60_000);
});
