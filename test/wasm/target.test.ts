// The `target` option end to end: compile, check, the CLI's --target, the `# gradc:` pragma
// and the plugin options. "js" is the default and changes nothing; "wasm" compiles what it
// covers and refuses the rest with E0308 at the first op it has no kernel for
// (docs/wasm.md), and f64 models with their own reason; a misspelt target is E0307 or a
// usage error.

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "../../src/cli/run";
import { check, compile, compileToSource, GradcError } from "../../src/index";
import { allOps } from "../../src/ops";
import { validateOptions } from "../../src/options";
import { mergeOptions, readPragmas, readQuery } from "../../src/plugins/options";

const model = "dim n\ninput x: [3, n]\nfn cell(h, v) = tanh(h * v)\nminimize sum(scan(cell, x[0], x))";

// The wasm target runs every op of the table: to see how it refuses an op it cannot run,
// these tests take `scan` off its list (OpDef.wasm) and put it back after.
const scanOp = allOps().find((op) => op.name === "scan") as { wasm?: boolean };
beforeAll(() => { scanOp.wasm = false; });
afterAll(() => { scanOp.wasm = true; });

function caught(f: () => unknown): GradcError {
  try {
    f();
  } catch (e) {
    if (e instanceof GradcError) return e;
    throw e;
  }
  throw new Error("expected a GradcError");
}

describe("target option", () => {
  it("js is the default and emits the same module", () => {
    expect(compileToSource(model, { target: "js" }).text).toBe(compileToSource(model).text);
    const m = compile(model, { target: "js" });
    expect(m.forward({ x: new Float32Array([0.5, -0.25, 1, 2, -1, 0]) })).toBeDefined();
  });

  it("wasm is refused at the first op it cannot run, with its line and column", () => {
    const e = caught(() => compile(model, { target: "wasm", filename: "m.grad" }));
    expect(e.code).toBe("E0308");
    expect(e.message).toContain("`scan`");
    expect([e.file, e.line, e.column]).toEqual(["m.grad", 4, 14]);
    expect(e.rendered).toMatch(/^m\.grad:4:14: error: the wasm target cannot compile/);
    expect(e.rendered.split("\n")[2]).toBe(`               ${"^".repeat("scan(cell, x[0], x)".length)}`);
  });

  it("f64 is refused for its own reason", () => {
    const e = caught(() => compile(model, { target: "wasm", dtype: "f64" }));
    expect(e.code).toBe("E0308");
    expect(e.message).toContain("an f64 model yet: its kernels are f32 only");
  });

  it("an unknown target is E0307; check accepts the option and reports as without it", () => {
    expect(caught(() => compile(model, { target: "webgpu" as "js" })).code).toBe("E0307");
    expect(caught(() => check(model, { target: 1 as never })).code).toBe("E0307");
    expect(check(model, { target: "wasm" })).toEqual(check(model));
    expect(validateOptions("plugin", { target: "wasm" })).toEqual({ target: "wasm" });
    expect(caught(() => validateOptions("plugin", { target: "gpu" })).code).toBe("E0307");
  });
});

describe("pragma and query", () => {
  it("reads target=, and later layers win", () => {
    expect(readPragmas("# gradc: target=wasm seed=3\ninput x", "m.grad")).toEqual({ target: "wasm", seed: 3 });
    expect(readQuery("target=js", "m.grad")).toEqual({ target: "js" });
    expect(mergeOptions({ target: "wasm" }, { seed: 2 }, { target: "js" })).toEqual({ target: "js", seed: 2 });
  });

  it("a bad target in a pragma points at it", () => {
    const e = caught(() => readPragmas("input x\n# gradc: target=gpu", "m.grad"));
    expect([e.line, e.column]).toEqual([2, 10]);
    expect(e.message).toBe("bad option: target must be js or wasm, found `gpu`");
  });

  it("the inline grad tag honours the pragma", async () => {
    const { grad } = await import("../../src/index");
    expect(() => grad`# gradc: target=wasm
dim n
input x: [3, n]
fn cell(h, v) = tanh(h * v)
y = scan(cell, x[0], x)
output y`).toThrow(/wasm target cannot compile `scan`/);
    const m = grad`# gradc: target=wasm
input x: [2]
y = relu(x)
output y`;
    expect((m as unknown as { ready: Promise<void> }).ready).toBeInstanceOf(Promise);
    expect([...(m.forward({ x: new Float32Array([-1, 2]) }).y as Float32Array)]).toEqual([0, 2]);
  });
});

describe("gradc compile --target", () => {
  const dir = mkdtempSync(join(tmpdir(), "gradc-target-"));
  const file = join(dir, "m.grad");
  writeFileSync(file, model);
  const cli = (...argv: string[]) => {
    let out = "", err = "";
    const code = run(argv, (s) => { out += s; }, (s) => { err += s; });
    return { code, out, err };
  };

  it("js prints the same module as no flag", () => {
    const plain = cli("compile", file), js = cli("compile", file, "--target", "js");
    expect(js.code).toBe(0);
    expect(js.out).toBe(plain.out);
  });

  it("wasm exits 1 with the diagnostic", () => {
    const r = cli("compile", file, "--target", "wasm");
    expect(r.code).toBe(1);
    expect(r.err).toContain("error: the wasm target cannot compile `scan`");
    expect(r.err).toContain("m.grad:4:14");
  });

  it("a bad value is a usage error; other verbs do not take it", () => {
    expect(cli("compile", file, "--target", "gpu").err).toContain("--target must be js or wasm, got gpu");
    expect(cli("check", file, "--target", "wasm").code).toBe(1);
  });
});
