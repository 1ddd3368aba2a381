// Bad values on the command line and in the emitted module (issue 12, point 5): a --size or
// --dim that names no dim of the model is an error naming the dims it has; the module that
// `gradc compile` writes checks createParams' seed itself (it imports nothing) and has its
// meta frozen all the way down.

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "../../src/cli/run";

const root = fileURLToPath(new URL("../..", import.meta.url));
const xorPath = join(root, "examples/xor/xor.grad");
let tmp: string;
let dimmedPath: string;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "gradc-options-"));
  dimmedPath = join(tmp, "dimmed.grad");
  writeFileSync(dimmedPath, "dim n, t\ninput x: [n, 2]\ninput z: [t]\nparam w: [2] = ones\nloss = sum(x @ w) + sum(z)\nminimize loss\n");
});

afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

function gradc(...argv: string[]): { code: number; out: string; err: string } {
  let out = "";
  let err = "";
  const code = run(argv, (s) => (out += s), (s) => (err += s));
  return { code, out, err };
}

describe("--size and --dim name dims of the model", () => {
  it("gradcheck --dim with an unknown dim is an error naming the model's free dims", () => {
    const r = gradc("gradcheck", dimmedPath, "--dim", "q=3");
    expect(r).toEqual({ code: 1, out: "", err: "error: `dims` names `q`, which is not a free dim of the model (its free dims are `n`, `t`)\n" });
    const near = gradc("gradcheck", dimmedPath, "--dim", "tt=3");
    expect(near.err).toBe("error: `dims` names `tt`, which is not a free dim of the model (its free dims are `n`, `t`)\n  hint: did you mean `t`?\n");
    // bound by --size, a dim is no longer free
    expect(gradc("gradcheck", dimmedPath, "--size", "n=2", "--dim", "n=3").err).toMatch(/names `n`, which is not a free dim of the model \(its free dims are `t`\)/);
    expect(gradc("gradcheck", xorPath, "--dim", "n=3").err).toMatch(/\(it has none\)\n$/);
    const good = gradc("gradcheck", dimmedPath, "--dim", "n=2", "--dim", "t=4");
    expect(good.code).toBe(0);
  });

  it("compile --size with an unknown dim names the dims the program declares", () => {
    expect(gradc("compile", dimmedPath, "--size", "q=3")).toEqual({
      code: 1, out: "", err: "error: unknown size `q`: the program declares no `dim q`\n  hint: its dims are `n`, `t`\n",
    });
    expect(gradc("check", xorPath, "--size", "n=3").err).toBe("error: unknown size `n`: the program declares no `dim n`\n  hint: it declares no dims\n");
  });
});

describe("an option or argument a verb would ignore is an error", () => {
  it("options that do not apply to the verb", () => {
    expect(gradc("check", xorPath, "--grad")).toEqual({ code: 1, out: "", err: "gradc: gradc check does not take --grad (its options: --size)\n" });
    expect(gradc("grad", xorPath, "-o", "x.mjs").err).toBe("gradc: gradc grad does not take -o (its options: --size)\n");
    expect(gradc("diff", "x^2", "--wrt", "x", "--dtype", "f64").err).toBe("gradc: gradc diff does not take --dtype (its options: --wrt)\n");
    expect(gradc("compile", xorPath, "--dim", "n=3").err).toMatch(/^gradc: gradc compile does not take --dim \(its options: -o, --size, --dtype, --format, --seed, --target, --stats\)\n$/);
    expect(gradc("gradcheck", xorPath, "--dtype", "f32").err).toBe("gradc: gradcheck always compiles the model in f64; --dtype does not apply\n");
  });

  it("a second model file, or a second expression", () => {
    const extra = join(tmp, "extra.grad");
    expect(gradc("check", xorPath, extra)).toEqual({ code: 1, out: "", err: `gradc: gradc check takes one model file, but got 2: ${xorPath} ${extra}\n` });
    expect(gradc("compile", xorPath, "out.mjs").err).toMatch(/^gradc: gradc compile takes one model file, but got 2/);
    expect(gradc("diff", "x^2", "y", "--wrt", "x").err).toBe("gradc: gradc diff takes one expression (quote it), but got 2: x^2 y\n");
  });

  it("an expression that starts with a minus is an argument, not an option", () => {
    const r = gradc("diff", "-x^2", "--wrt", "x");
    expect(r).toEqual({ code: 0, out: "-2 * x\n", err: "" });
    expect(gradc("diff", "--wrt", "x", "--", "-x").out).toBe("-1\n");
    expect(gradc("diff", "-x", "--wrt", "x").err).toBe("gradc: unknown option -x (an expression? put it after --: gradc diff --wrt x -- -x)\n");
    expect(gradc("check", xorPath, "--bogus=3").err).toBe("gradc: unknown option --bogus\n");
  });

  it("-o with an empty name", () => {
    expect(gradc("compile", xorPath, "-o", "")).toEqual({ code: 1, out: "", err: "gradc: -o needs a file name, like -o model.mjs\n" });
  });
});

describe("the emitted module checks its own arguments", () => {
  it("createParams rejects a seed that is not an integer; meta is frozen all the way down", () => {
    const target = join(tmp, "xor.mjs");
    expect(gradc("compile", xorPath, "-o", target).code).toBe(0);
    const text = readFileSync(target, "utf8");
    expect(text).not.toMatch(/^\s*import\b|\brequire\(/m); // depends on nothing
    const script = `
      import m from ${JSON.stringify(pathToFileURL(target).href)};
      const seeds = ["abc", null, 1.5, NaN, {}, 2 ** 53];
      const errors = seeds.map((s) => { try { m.createParams(s); return "accepted"; } catch (e) { return [e.name, e.code, e.message]; } });
      const tries = [() => { m.meta.inputs[0].shape[0] = 9; }, () => { m.meta.params.pop(); }, () => { m.meta.outputs[0].name = "z"; }];
      const writes = tries.map((f) => { try { f(); return "changed"; } catch (e) { return e.constructor.name; } });
      console.log(JSON.stringify({
        errors, writes,
        shape: m.meta.inputs[0].shape,
        same: Array.from(m.createParams(1).m1).join() === Array.from(m.params.m1).join() && Array.from(m.createParams().m1).join() === Array.from(m.params.m1).join(),
      }));
    `;
    const result = JSON.parse(execFileSync(process.execPath, ["--input-type=module", "-e", script], { cwd: tmp, encoding: "utf8" }));
    const message = (shown: string) => ["GradcError", "E0411", `createParams(seed): the seed must be an integer, but is ${shown}`];
    expect(result).toEqual({
      errors: [message('"abc"'), message("null"), message("1.5"), message("NaN"), message("Object"), message(String(2 ** 53))],
      writes: ["TypeError", "TypeError", "TypeError"],
      shape: [4, 2],
      same: true,
    });
  });
});
