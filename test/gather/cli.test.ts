// The CLI on models with take: `gradc grad` prints scatter_add, and that printed program
// compiles with `gradc compile`; the module `gradc compile` writes, run by node, checks
// its ids (E0420) like the library does, for f32 and f64.

import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "../../src/cli/run";

let tmp: string;
beforeAll(() => { tmp = mkdtempSync(join(tmpdir(), "gradc-take-cli-")); });
afterAll(() => { rmSync(tmp, { recursive: true, force: true }); });

function gradc(...argv: string[]): { code: number; out: string; err: string } {
  let out = "";
  let err = "";
  const code = run(argv, (s) => (out += s), (s) => (err += s));
  return { code, out, err };
}

const model = `input ids: [2, 2]\nparam E: [5, 3]\nparam w: [3]\nh = embedding(E, ids) * w\nminimize sum(h * h)\n`;

describe("gradc on take", () => {
  it("grad prints scatter_add, and the printed gradient compiles", () => {
    const path = join(tmp, "m.grad");
    writeFileSync(path, model);
    const printed = gradc("grad", path);
    expect(printed.code, printed.err).toBe(0);
    expect(printed.out).toMatch(/d_E = scatter_add\(.*, ids, size = 5, axis = 0\)/);
    const again = join(tmp, "again.grad");
    writeFileSync(again, `input ids: [2, 2]\nparam E: [5, 3]\nparam w: [3]\n${printed.out}output d_E, d_w\n`);
    const compiled = gradc("compile", again, "-o", join(tmp, "again.mjs"));
    expect(compiled.code, compiled.err).toBe(0);
  });

  for (const dtype of ["f32", "f64"]) {
    it(`the compiled ${dtype} module checks its ids`, () => {
      const path = join(tmp, `m-${dtype}.grad`);
      writeFileSync(path, model);
      const target = join(tmp, `m-${dtype}.mjs`);
      expect(gradc("compile", path, "-o", target, "--dtype", dtype).code).toBe(0);
      const Arr = dtype === "f64" ? "Float64Array" : "Float32Array";
      const script = `
        import * as m from ${JSON.stringify(target)};
        const ok = m.valueAndGrad({ ids: ${Arr}.from([4, 0, 4, 1]) }).value > 0;
        let error;
        try { m.step({ ids: ${Arr}.from([4, 0, 4, 5]) }); } catch (e) { error = { name: e.name, code: e.code, message: e.message }; }
        console.log(JSON.stringify({ ok, error }));`;
      const result = JSON.parse(execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" }));
      expect(result).toEqual({
        ok: true,
        error: { name: "GradcError", code: "E0420", message: "`ids` holds 5 at index [1, 1] (flat index 3), but an id must be an integer in [0, 5)" },
      });
    });
  }
});
