// The gradc command (SPEC §3): every verb in-process through `run(argv, out, err)` with
// captured output; the emitted modules loaded by a real `node` from an otherwise empty
// folder (ESM and CJS), their `.d.ts` checked as `tsc --strict` checks them (in-process:
// test/helpers/tsc.ts); and a few runs of the built binary `node dist/cli.js` (rebuilt
// first when src/ is newer: test/helpers/build-dist.ts).

import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "../../src/cli/run";
import { compile } from "../../src/index";
import { parse } from "../../src/syntax";
import { ensureFreshDist } from "../helpers/build-dist";
import { tscDiagnostics } from "../helpers/tsc";

const root = fileURLToPath(new URL("../..", import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };
const xorPath = join(root, "examples/xor/xor.grad");
const xorSource = readFileSync(xorPath, "utf8");

let tmp: string;
let badPath: string;
let dimmedPath: string;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "gradc-cli-"));
  badPath = join(tmp, "bad.grad");
  writeFileSync(badPath, "input x: [4, 2]\nparam m: [3, 3]\ny = x @ m\noutput y\n");
  dimmedPath = join(tmp, "dimmed.grad");
  writeFileSync(dimmedPath, "dim n\ninput x: [n, 2]\nparam w: [2, 1] = ones\ny = x @ w\noutput y\n");
});

afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

/** Run the command in-process. */
function gradc(...argv: string[]): { code: number; out: string; err: string } {
  let out = "";
  let err = "";
  const code = run(argv, (s) => (out += s), (s) => (err += s));
  return { code, out, err };
}

/** A fresh empty folder under the test's temp dir. */
function folder(name: string): string {
  const dir = join(tmp, name);
  mkdirSync(dir);
  return dir;
}

/** Run an ES module script with node in `cwd`; its stdout parsed as JSON. */
function nodeEval(cwd: string, script: string, type: "module" | "commonjs" = "module"): unknown {
  const stdout = execFileSync(process.execPath, [`--input-type=${type}`, "-e", script], { cwd, encoding: "utf8" });
  return JSON.parse(stdout);
}

const noStack = (text: string) => expect(text).not.toMatch(/^ {4}at /m);

// The module's exports are exactly the library object's members (SPEC §3), whatever they are.
const members = Object.keys(compile(xorSource)).filter((k) => k !== "source").sort();

describe("gradc check", () => {
  it("is silent and exits 0 on a good file", () => {
    expect(gradc("check", xorPath)).toEqual({ code: 0, out: "", err: "" });
  });

  it("prints the rendered diagnostic on stderr and exits 1 on a bad file", () => {
    const r = gradc("check", badPath);
    expect(r.code).toBe(1);
    expect(r.out).toBe("");
    expect(r.err).toMatch(new RegExp(`^${badPath.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}:3:5: error: cannot matmul \\[4, 2\\] by \\[3, 3\\]`));
    expect(r.err).toContain("  y = x @ m\n");
    expect(r.err).toContain("^");
    noStack(r.err);
  });

  it("reports a missing file in words, not a stack", () => {
    const r = gradc("check", join(tmp, "missing.grad"));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error: cannot read .*missing\.grad: no such file or folder\n$/);
    noStack(r.err);
  });
});

describe("gradc --help, --version and bad arguments", () => {
  it("--help prints the usage and exits 0", () => {
    for (const flag of ["--help", "-h"]) {
      const r = gradc(flag);
      expect(r.code).toBe(0);
      expect(r.out).toContain("usage:");
      for (const verb of ["compile", "grad", "diff", "graph", "check"]) expect(r.out).toContain(`gradc ${verb}`);
    }
  });

  it("--version prints package.json's version", () => {
    expect(gradc("--version")).toEqual({ code: 0, out: `${pkg.version}\n`, err: "" });
  });

  it("an unknown command or option exits 1 with a message", () => {
    const cmd = gradc("frobnicate", xorPath);
    expect(cmd.code).toBe(1);
    expect(cmd.err).toMatch(/unknown command "frobnicate"/);
    const opt = gradc("check", xorPath, "--bogus");
    expect(opt.code).toBe(1);
    expect(opt.err).toMatch(/unknown option --bogus/);
    for (const r of [cmd, opt]) noStack(r.err);
  });

  it("bad --size values and unknown size names give clean errors", () => {
    const notNumber = gradc("compile", dimmedPath, "--size", "n=abc");
    expect(notNumber.code).toBe(1);
    expect(notNumber.err).toMatch(/dimmed\.grad:1:5: error: size `n` must be a positive integer/);
    // Reported once: the dim stays declared, so its uses are not errors too.
    expect(notNumber.err.match(/error:/g)).toHaveLength(1);
    const unknown = gradc("compile", dimmedPath, "--size", "x=abc");
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/unknown size `x`/);
    const unknown2 = gradc("compile", dimmedPath, "--size", "q=3");
    expect(unknown2.code).toBe(1);
    expect(unknown2.err).toMatch(/unknown size `q`: the program declares no `dim q`/);
    const malformed = gradc("compile", dimmedPath, "--size", "n");
    expect(malformed.code).toBe(1);
    expect(malformed.err).toMatch(/--size takes name=value/);
    for (const r of [notNumber, unknown, unknown2, malformed]) {
      expect(r.out).toBe("");
      noStack(r.err);
    }
  });

  it("bad --dtype and --format values exit 1", () => {
    expect(gradc("compile", xorPath, "--dtype", "f16")).toMatchObject({ code: 1, err: expect.stringMatching(/--dtype must be f32 or f64/) });
    expect(gradc("compile", xorPath, "--format", "umd")).toMatchObject({ code: 1, err: expect.stringMatching(/--format must be esm or cjs/) });
  });
});

describe("gradc compile", () => {
  it("-o writes the module and its .d.mts; the module alone in a folder imports and trains XOR", () => {
    const dir = folder("esm");
    const target = join(dir, "out.mjs");
    expect(gradc("compile", xorPath, "-o", target)).toEqual({ code: 0, out: "", err: "" });
    expect(existsSync(target)).toBe(true);
    expect(readFileSync(join(dir, "out.d.mts"), "utf8")).toMatch(/export declare function forward/);
    expect(existsSync(join(dir, "out.d.ts"))).toBe(false); // one declaration file per module

    const alone = folder("alone");
    copyFileSync(target, join(alone, "model.mjs"));
    const url = pathToFileURL(join(alone, "model.mjs")).href;
    const result = nodeEval(alone, `
      import * as m from ${JSON.stringify(url)};
      import d from ${JSON.stringify(url)};
      const x = Float32Array.from([0, 0, 0, 1, 1, 0, 1, 1]);
      const y = Float32Array.from([0, 1, 1, 0]);
      const first = m.step({ x, y });
      let last = first;
      for (let i = 1; i < 500; i++) last = m.step({ x, y });
      const out = m.forward({ x, y });
      console.log(JSON.stringify({
        named: Object.keys(m).sort(),
        defaultKeys: Object.keys(d).sort(),
        same: Object.keys(d).every((k) => d[k] === m[k]),
        array: m.params.m1.constructor.name,
        decreased: last < first / 10,
        rounded: Array.from(out.y_out, Math.round),
      }));
    `);
    expect(members).toEqual(expect.arrayContaining(["createParams", "forward", "meta", "params", "step", "valueAndGrad"]));
    expect(result).toEqual({
      named: [...members, "default"].sort(),
      defaultKeys: members,
      same: true,
      array: "Float32Array",
      decreased: true,
      rounded: [0, 1, 1, 0],
    });
  });

  it("--format cjs output can be require()d", () => {
    const dir = folder("cjs");
    const target = join(dir, "model.cjs");
    expect(gradc("compile", xorPath, "--format", "cjs", "-o", target).code).toBe(0);
    const result = nodeEval(dir, `
      const m = require(${JSON.stringify(target)});
      const out = m.forward({ x: new Float32Array(8), y: new Float32Array(4) });
      console.log(JSON.stringify({ members: ${JSON.stringify(members)}.filter((k) => k in m), out: out.y_out.length, loss: typeof out.loss }));
    `, "commonjs");
    expect(result).toEqual({ members, out: 4, loss: "number" });
  });

  it("--dtype f64 gives Float64Array params and outputs", () => {
    const dir = folder("f64");
    const target = join(dir, "model.mjs");
    expect(gradc("compile", xorPath, "--dtype", "f64", "-o", target).code).toBe(0);
    const result = nodeEval(dir, `
      import m from ${JSON.stringify(pathToFileURL(target).href)};
      const out = m.forward({ x: new Float64Array(8), y: new Float64Array(4) });
      console.log(JSON.stringify([m.params.m1.constructor.name, out.y_out.constructor.name]));
    `);
    expect(result).toEqual(["Float64Array", "Float64Array"]);
    expect(readFileSync(join(dir, "model.d.mts"), "utf8")).toContain("Float64Array");
  });

  it("--size n=4 binds a dim: meta shows 4", () => {
    const dir = folder("sized");
    const target = join(dir, "model.mjs");
    expect(gradc("compile", dimmedPath, "--size", "n=4", "-o", target).code).toBe(0);
    const result = nodeEval(dir, `
      import { meta } from ${JSON.stringify(pathToFileURL(target).href)};
      console.log(JSON.stringify(meta));
    `);
    expect(result).toEqual({
      inputs: [{ name: "x", shape: [4, 2] }],
      params: [{ name: "w", shape: [2, 1] }],
      outputs: [{ name: "y", shape: [4, 1] }],
    });
    // Without --size the dim stays free and is named in meta.
    const free = gradc("compile", dimmedPath);
    expect(free.code).toBe(0);
    expect(free.out).toContain("export");
  });

  it("the .d.ts types a TypeScript consumer under tsc --strict (and rejects a wrong input name)", () => {
    const dir = folder("typed");
    expect(gradc("compile", xorPath, "-o", join(dir, "model.mjs")).code).toBe(0);
    const consumer = (values: string) => `
import model, { createParams, forward, meta, params, step, valueAndGrad } from "./model.mjs";
const x = new Float32Array(8);
const y = new Float32Array(4);
const out = forward(${values});
const yOut: Float32Array = out.y_out;
const loss: number = out.loss;
const objective: number = step({ x, y });
const g: Float32Array = valueAndGrad({ x, y }).grads.m1;
const m1: Float32Array = params.m1;
const fresh: Float32Array = createParams(3).b2;
const first: string = meta.inputs[0].name;
model.forward({ x, y });
export { yOut, loss, objective, g, m1, fresh, first };
`;
    writeFileSync(join(dir, "good.mts"), consumer("{ x, y }"));
    writeFileSync(join(dir, "wrong.mts"), consumer("{ x, yy: y }"));
    const errors = tscDiagnostics(dir, ["good.mts", "wrong.mts"], "nodenext");
    expect(errors.get("")).toEqual([]);
    expect(errors.get("good.mts")).toEqual([]);
    expect(errors.get("wrong.mts")!.join("\n")).toMatch(/wrong\.mts.*error TS\d+:.*yy/);
  }, 60_000);
});

describe("gradc grad, diff, graph", () => {
  it("grad prints a parseable gradient program that computes the gradients", () => {
    const r = gradc("grad", xorPath);
    expect(r.code).toBe(0);
    expect(r.out).toContain("d_m1 =");
    expect(() => parse({ file: "grad.grad", text: r.out })).not.toThrow();
    // With the model's declarations it compiles and agrees with valueAndGrad.
    const declarations = xorSource.split("\n").filter((l) => /^(input|param) /.test(l)).join("\n");
    const printed = compile(`${declarations}\n${r.out}output d_m1, d_b1, d_m2, d_b2\n`, { dtype: "f64" });
    const model = compile(xorSource, { dtype: "f64" });
    const values = { x: Float64Array.from([0, 0, 0, 1, 1, 0, 1, 1]), y: Float64Array.from([0, 1, 1, 0]) };
    const want = model.valueAndGrad(values).grads;
    const got = printed.forward(values);
    for (const name of ["m1", "b1", "m2", "b2"]) {
      const g = got[`d_${name}`] as Float64Array;
      Array.from(want[name]!).forEach((v, i) => expect(g[i]).toBeCloseTo(v, 12));
    }
  });

  it("grad on a program without minimize is a clean error", () => {
    const r = gradc("grad", dimmedPath);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/no `minimize`/);
    noStack(r.err);
  });

  it('diff "x^2 * sin(x)" --wrt x prints 2x sin x + x^2 cos x', () => {
    const r = gradc("diff", "x^2 * sin(x)", "--wrt", "x");
    expect(r.code).toBe(0);
    expect(r.out.trim().split("\n")).toHaveLength(1);
    const model = compile(`input x\ny = ${r.out.trim()}\noutput y\n`, { dtype: "f64" });
    for (const x of [-1.3, 0.4, 2, 3.7]) {
      expect(model.forward({ x }).y).toBeCloseTo(2 * x * Math.sin(x) + x * x * Math.cos(x), 12);
    }
  });

  it("diff without --wrt, or on a malformed expression, exits 1 cleanly", () => {
    expect(gradc("diff", "x^2").code).toBe(1);
    const r = gradc("diff", "x^^2", "--wrt", "x");
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^<expr>:1:3: error:/);
    noStack(r.err);
  });

  it("graph --grad prints Graphviz DOT", () => {
    const r = gradc("graph", xorPath, "--grad");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^digraph/);
    expect(r.out.trimEnd()).toMatch(/}$/);
    expect(r.out).toContain("d_m1");
    expect(gradc("graph", xorPath).out).toMatch(/^digraph/);
  });
});

describe("the built binary, node dist/cli.js", () => {
  let snapshot = "";
  beforeAll(async () => {
    await ensureFreshDist(); // rebuilt when src/ is newer than dist/
    // A copy of dist/ (inside node_modules/.cache, so it resolves the dependencies): a
    // concurrent rebuild cannot pull the binary away mid-test.
    const cache = join(root, "node_modules", ".cache");
    mkdirSync(cache, { recursive: true });
    snapshot = mkdtempSync(join(cache, "gradc-cli-"));
    cpSync(join(root, "dist"), snapshot, { recursive: true });
  }, 180_000);
  afterAll(() => rmSync(snapshot, { recursive: true, force: true }));

  const cli = (...argv: string[]) => spawnSync(process.execPath, [join(snapshot, "cli.js"), ...argv], { cwd: tmp, encoding: "utf8" });

  it("check: silent exit 0 on a good file, rendered diagnostic and exit 1 on a bad one", () => {
    const good = cli("check", xorPath);
    expect([good.status, good.stdout, good.stderr]).toEqual([0, "", ""]);
    const bad = cli("check", "bad.grad");
    expect(bad.status).toBe(1);
    expect(bad.stdout).toBe("");
    expect(bad.stderr).toMatch(/^bad\.grad:3:5: error: cannot matmul \[4, 2\] by \[3, 3\]/);
    noStack(bad.stderr);
  });

  it("--version and an unknown command", () => {
    const version = cli("--version");
    expect([version.status, version.stdout]).toEqual([0, `${pkg.version}\n`]);
    const unknown = cli("frobnicate");
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toMatch(/unknown command/);
    noStack(unknown.stderr);
  });

  it("diff prints the derivative", () => {
    const r = cli("diff", "sin(x) * x", "--wrt", "x");
    expect(r.status).toBe(0);
    const model = compile(`input x\ny = ${r.stdout.trim()}\noutput y\n`, { dtype: "f64" });
    expect(model.forward({ x: 0.7 }).y).toBeCloseTo(Math.cos(0.7) * 0.7 + Math.sin(0.7), 12);
  });
});
