// The user-facing gradient checker: `gradcheck(model or source, options)` and
// `gradc gradcheck model.grad`. It must pass correct gradients (every example model),
// catch wrong ones (a hand-made model with a broken gradient; stop_gradient, whose
// gradient is by design not the derivative of the objective), skip kinks instead of
// failing on them, and be reproducible from its seed.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "../../src/cli/run";
import { compile, formatGradcheck, GradcError, gradcheck } from "../../src/index";
import { expectGradcError } from "./helpers";

const root = fileURLToPath(new URL("../..", import.meta.url));
const xorSource = readFileSync(join(root, "examples/xor/xor.grad"), "utf8");

const mlp = `dim n
input x: [n, 4]
input labels: [n, 3]
param w1: [4, 8] = glorot_uniform
param b1: [8] = zeros
param w2: [8, 3] = glorot_uniform
h = gelu(x @ w1 + b1)
logits = h @ w2
loss = cross_entropy(logits, labels) + 0.01 * sum(w1 ^ 2)
output logits
minimize loss with adam(lr = 0.01)
`;

describe("gradcheck()", () => {
  it("passes the seed model and an MLP with a free batch dim, per param", () => {
    const xor = gradcheck(xorSource);
    expect(xor.ok).toBe(true);
    expect(xor.params.map((p) => p.name)).toEqual(["m1", "b1", "m2", "b2"]);
    for (const p of xor.params) {
      expect(p.checked).toBe(p.size * 3);
      expect(p.worst).toBeLessThan(1e-6);
    }
    const r = gradcheck(mlp, { dims: { n: 5 }, points: 2, seed: 9 });
    expect(r.ok).toBe(true);
    expect(r.points).toBe(2);
    expect(r.params.find((p) => p.name === "w1")!.checked).toBe(64);
  });

  it("takes a compiled f64 model (and its own values), and refuses an f32 one", () => {
    const model = compile(mlp, { dtype: "f64" });
    const labels = new Float64Array(6).fill(0.5);
    expect(gradcheck(model, { values: { labels }, dims: { n: 2 } }).ok).toBe(true);
    expectGradcError(() => gradcheck(compile(mlp)), "E0304", /needs an f64 model/);
  });

  it("is reproducible from its seed", () => {
    const a = gradcheck(mlp, { seed: 4 });
    const b = gradcheck(mlp, { seed: 4 });
    const c = gradcheck(mlp, { seed: 5 });
    expect(a).toEqual(b);
    expect(a.params[0]!.worstAt).not.toEqual(c.params[0]!.worstAt);
  });

  it("catches a wrong gradient", () => {
    // A model object whose valueAndGrad is off by 1% in one element.
    const real = compile("param w: [3]\nminimize sum(sin(w) * w)", { dtype: "f64" });
    const broken = {
      ...real,
      valueAndGrad(values: Record<string, Float64Array | number>) {
        const r = real.valueAndGrad(values);
        const g = Float64Array.from(r.grads.w!);
        g[1] = g[1]! * 1.01;
        return { value: r.value, grads: { w: g } };
      },
    };
    const r = gradcheck(broken);
    expect(r.ok).toBe(false);
    expect(r.params[0]!.worst).toBeGreaterThan(5e-3);
    expect(r.params[0]!.worstAt!.index).toBe(1);
    // stop_gradient: the gradient is by definition not the derivative of the objective.
    const stopped = gradcheck("param w: [2] = uniform(0.5, 1)\nminimize sum(stop_gradient(w) * w)");
    expect(stopped.ok).toBe(false);
    expect(stopped.params[0]!.worst).toBeGreaterThan(0.3);
  });

  it("skips elements at kinks instead of failing there", () => {
    // |sin(1000 w)| has a kink every 3.1e-3: a few of 1000 elements sit within a step of
    // one, where the quotients with steps h and h/2 disagree; those are skipped.
    const r = gradcheck("param w: [1000] = uniform(-1, 1)\nminimize sum(abs(sin(w * 1000)))", { points: 1, maxElements: 1000 });
    expect(r.ok).toBe(true);
    expect(r.params[0]!.skipped).toBeGreaterThan(0);
    expect(r.params[0]!.skipped).toBeLessThan(30);
    expect(r.params[0]!.checked + r.params[0]!.skipped).toBe(1000);
    // Large params are sampled: maxElements elements per point.
    const sampled = gradcheck("param w: [1000] = uniform(-1, 1)\nminimize sum(w ^ 3)", { points: 2 });
    expect(sampled.params[0]!.checked).toBe(128);
  });

  it("reports option mistakes and models without minimize as GradcErrors", () => {
    expectGradcError(() => gradcheck(xorSource, { points: 0 }), "E0304", /points/);
    expectGradcError(() => gradcheck(xorSource, { tolerance: -1 }), "E0304", /tolerance/);
    expectGradcError(() => gradcheck(xorSource, { seed: 1.5 }), "E0304", /seed/);
    expectGradcError(() => gradcheck("input x\ny = x\noutput y"), "E0406");
    expect(() => gradcheck("param w: [2\nminimize w")).toThrow(GradcError);
    expectGradcError(() => gradcheck(42 as unknown as string), "E0304");
  });

  it("formats a per-param table", () => {
    const text = formatGradcheck(gradcheck(xorSource, { points: 1 }), "xor.grad");
    expect(text).toMatch(/^gradcheck xor\.grad: 1 point, f64 central differences \(Richardson-extrapolated\)\nparam\s+size\s+checked\s+skipped\s+worst rel\. error/);
    // Differences inside the estimate's own uncertainty are said to be so, not printed as 0.
    expect(text).toMatch(/\nm1\s+6\s+6\s+0\s+below the finite-difference resolution ~\de-\d+\s+ok\n/);
    expect(text).not.toContain("0.00e+0");
    expect(text.trimEnd().split("\n").pop()).toBe("ok: every param within 0.000001 (relative error beyond the finite-difference resolution)");
  });
});

describe("gradc gradcheck", () => {
  let tmp: string;
  beforeAll(() => { tmp = mkdtempSync(join(tmpdir(), "gradc-gradcheck-")); });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  function gradc(...argv: string[]) {
    let out = "", err = "";
    const code = run(argv, (s) => { out += s; }, (s) => { err += s; });
    return { code, out, err };
  }

  it("prints the worst relative error per param and exits 0 within the tolerance", () => {
    const r = gradc("gradcheck", join(root, "examples/xor/xor.grad"));
    expect(r.code).toBe(0);
    expect(r.err).toBe("");
    for (const p of ["m1", "b1", "m2", "b2"]) expect(r.out).toMatch(new RegExp(`\\n${p}\\s+\\d+\\s+\\d+\\s+0\\s+below the finite-difference resolution ~\\de-\\d+\\s+ok\\n`));
  });

  it("takes --dim for free dims, --size, --seed, --points and --tolerance", () => {
    const path = join(tmp, "mlp.grad");
    writeFileSync(path, mlp);
    const r = gradc("gradcheck", path, "--dim", "n=2", "--points", "1", "--seed", "3", "--tolerance", "1e-3");
    expect(r.code).toBe(0);
    expect(r.out).toContain("1 point,");
    expect(r.out).toContain("within 0.001");
    expect(gradc("gradcheck", path, "--size", "n=3").code).toBe(0);
    expect(gradc("gradcheck", path, "--points", "many").err).toMatch(/--points must be a number/);
  });

  it("exits 1 over the tolerance", () => {
    const path = join(tmp, "stopped.grad");
    writeFileSync(path, "param w: [2] = uniform(0.5, 1)\nminimize sum(stop_gradient(w) * w)\n");
    const r = gradc("gradcheck", path);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/\nw\s+2\s+6\s+0\s+\d\.\d\de-\d+\s+FAIL\n/);
    expect(r.out).toMatch(/FAILED: over the tolerance 0\.000001/);
  });

  it("reports user errors like every verb: rendered, exit 1", () => {
    const path = join(tmp, "bad.grad");
    writeFileSync(path, "input x: [4, 2]\nparam m: [3, 3]\ny = x @ m\nminimize sum(y)\n");
    const r = gradc("gradcheck", path);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/bad\.grad:3:5: error: cannot matmul \[4, 2\] by \[3, 3\]/);
    expect(gradc("gradcheck").err).toMatch(/needs a model file/);
  });
});
