// The user-facing gradient checker can be trusted: it passes every example model and a
// model per op of the op table at its default tolerance (1e-6), fails gradients that are
// off by one part in 10^5 (a wrapped valueAndGrad, a model whose objective differs by a
// factor 1 + 1e-5), says when a difference is below the finite differences' own
// resolution instead of printing 0, and draws valid ids for inputs that feed `take` or
// `one_hot`, so embedding gradients are really checked.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { buildModel, compile, formatGradcheck, GradcError, gradcheck, type CompiledModel } from "../../src/index";
import { topoSort } from "../../src/ir";
import { lowerSource } from "../../src/lower";
import { allOps, type ElementwiseDef, type GradDomain } from "../../src/ops";

type Values = Record<string, Float32Array | Float64Array | number>;
const example = (path: string) => readFileSync(new URL(`../../examples/${path}`, import.meta.url), "utf8");

/** The model with `grads[param][index]` scaled by `factor` in every valueAndGrad. */
function perturbed(model: CompiledModel, param: string, index: number, factor: number) {
  return {
    ...model,
    valueAndGrad(values: Values) {
      const r = model.valueAndGrad(values);
      const g = Float64Array.from(r.grads[param]!);
      g[index] = g[index]! * factor;
      return { value: r.value, grads: { ...r.grads, [param]: g } };
    },
  };
}

describe("gradcheck: the default tolerance and wrong gradients", () => {
  it("defaults to 1e-6", () => {
    expect(gradcheck("param w: [2]\nminimize sum(w ^ 2)").tolerance).toBe(1e-6);
  });

  it("fails the seed model with any one gradient entry scaled by 1 + 1e-5", () => {
    const xor = compile(example("xor/xor.grad"), { dtype: "f64" });
    expect(gradcheck(xor).ok).toBe(true);
    for (const { name, shape } of xor.meta.params) {
      const size = shape.reduce<number>((a, d) => a * (d as number), 1);
      for (let i = 0; i < size; i++) {
        const r = gradcheck(perturbed(xor, name, i, 1 + 1e-5), { points: 1 });
        expect(r.ok, `${name}[${i}]`).toBe(false);
        const report = r.params.find((p) => p.name === name)!;
        expect(report.ok).toBe(false);
        expect(report.worstAt!.index).toBe(i);
        expect(report.worst).toBeGreaterThan(5e-6);
        // The other params are untouched and still pass.
        expect(r.params.filter((p) => p.name !== name).every((p) => p.ok)).toBe(true);
      }
    }
  });

  it("fails a gradient off by 1e-4 relative (which passed before), and by 1e-5 everywhere", () => {
    const mlp = compile(example("iris/iris.grad"), { dtype: "f64", sizes: { n: 4 } });
    expect(gradcheck(perturbed(mlp, "w2", 5, 1 + 1e-4)).ok).toBe(false);
    // valueAndGrad from an objective 1 + 1e-5 times the one forward computes: every
    // gradient entry is off by 1e-5 relative, as a rule off by a small factor would be.
    const source = (k: string) => `input x: [4]\nparam w: [4, 3] = glorot_uniform\nparam b: [3] = zeros\nminimize ${k} * sum(tanh(x @ w + b) ^ 2)\n`;
    const exact = compile(source("1"), { dtype: "f64" });
    const scaled = compile(source("1.00001"), { dtype: "f64" });
    const wrong = { ...exact, valueAndGrad: scaled.valueAndGrad };
    expect(gradcheck(exact).ok).toBe(true);
    const r = gradcheck(wrong);
    expect(r.params.map((p) => p.ok)).toEqual([false, false]);
    for (const p of r.params) expect(p.worst).toBeCloseTo(1e-5, 6);
  });
});

describe("gradcheck: models it cannot check", () => {
  it("a valueAndGrad without a param's gradient is a GradcError naming the param", () => {
    const real = compile("param w: [3]\nparam u: [2]\nminimize sum(sin(w)) + sum(u ^ 2)", { dtype: "f64" });
    const missing = { ...real, valueAndGrad: (v: Values) => ({ value: real.valueAndGrad(v).value, grads: { w: real.valueAndGrad(v).grads.w! } }) };
    expect(() => gradcheck(missing)).toThrow(GradcError);
    expect(() => gradcheck(missing)).toThrow(/valueAndGrad gave no f64 gradient of 2 elements for `u`/);
    const short = { ...real, valueAndGrad: () => ({ value: 0, grads: { w: new Float64Array(2), u: new Float64Array(2) } }) };
    expect(() => gradcheck(short)).toThrow(/of 3 elements for `w`/);
  });
});

describe("gradcheck: resolution, not a bare zero", () => {
  it("reports the finite differences' resolution and says when the error is below it", () => {
    const r = gradcheck(example("xor/xor.grad"));
    for (const p of r.params) {
      expect(p.resolution).toBeGreaterThan(0);
      expect(p.resolution).toBeLessThan(1e-7);
      expect(p.worst).toBeLessThanOrEqual(p.resolution);
    }
    const text = formatGradcheck(r, "xor.grad");
    expect(text).not.toMatch(/0\.00e\+0/);
    for (const p of r.params) {
      const shown = `~${p.resolution.toExponential(0)}`;
      expect(text).toMatch(new RegExp(`\\n${p.name}\\s+\\d+\\s+\\d+\\s+0\\s+below the finite-difference resolution ${shown.replace("+", "\\+")}\\s+ok\\n`));
    }
  });

  it("prints a measured error, above the resolution, as a number", () => {
    const xor = compile(example("xor/xor.grad"), { dtype: "f64" });
    const r = gradcheck(perturbed(xor, "b2", 0, 1 + 1e-3), { points: 1 });
    const b2 = r.params.find((p) => p.name === "b2")!;
    expect(b2.worst).toBeGreaterThan(b2.resolution);
    expect(formatGradcheck(r, "xor.grad")).toMatch(new RegExp(`\\nb2\\s+1\\s+1\\s+0\\s+${b2.worst.toExponential(2).replace(/[.+]/g, "\\$&")}\\s+FAIL\\n`));
  });

  it("a param with a zero gradient passes (its error is measured against the others' scale)", () => {
    const r = gradcheck("param w: [3]\nparam u: [2]\nminimize sum(sin(w)) + 0 * sum(u)");
    expect(r.ok).toBe(true);
    expect(r.params[1]!.checked).toBe(6);
  });

  it("skips elements it cannot settle, and fails a param with nothing checked", () => {
    // A kink every 3e-6 of w: several within the smallest step of every element.
    const r = gradcheck("param w: [4] = uniform(0.5, 1)\nminimize sum(abs(sin(w * 1e6)))", { points: 1 });
    expect(r.params[0]!.checked).toBe(0);
    expect(r.params[0]!.skipped).toBe(4);
    expect(r.ok).toBe(false);
    expect(formatGradcheck(r, "m")).toMatch(/\nw\s+4\s+0\s+4\s+nothing checked: finite differences cannot settle any element\s+FAIL\n/);
  });
});

describe("gradcheck: ids are drawn valid", () => {
  const oneHot = "input ids: [12]\ninput target: [12, 4]\nparam E: [5, 4] = normal(0, 1)\nminimize sum((one_hot(ids, 5) @ E - target) ^ 2)\n";

  /** The model, recording the ids and the largest |gradient| of E it was called with. */
  function watched(source: string, ids: string, param: string) {
    const model = compile(source, { dtype: "f64" });
    const seen = { ids: [] as number[], largest: 0 };
    return {
      seen,
      model: {
        ...model,
        forward(values: Values) {
          seen.ids.push(...Array.from(values[ids] as Float64Array));
          return model.forward(values);
        },
        valueAndGrad(values: Values) {
          const r = model.valueAndGrad(values);
          seen.largest = Math.max(seen.largest, ...Array.from(r.grads[param]!, Math.abs));
          return r;
        },
      },
    };
  }

  it("one_hot(ids, 5) @ E: integer ids in [0, 5), a nonzero gradient for E, ok", () => {
    const { model, seen } = watched(oneHot, "ids", "E");
    const r = gradcheck(model);
    expect(r.ok).toBe(true);
    expect(r.params[0]!.checked).toBe(60);
    expect(seen.ids.length).toBeGreaterThan(0);
    expect(seen.ids.every((v) => Number.isInteger(v) && v >= 0 && v < 5)).toBe(true);
    expect(new Set(seen.ids).size).toBe(5);
    expect(seen.largest).toBeGreaterThan(0.1);
  });

  it("one_hot(ids, 5) @ E with a wrong gradient fails", () => {
    const model = compile(oneHot, { dtype: "f64" });
    // An entry whose row some drawn id picks (row 0 holds 4 entries; rows are 4 wide).
    const r = gradcheck(perturbed(model, "E", 9, 1 + 1e-5));
    expect(r.ok).toBe(false);
    expect(r.params[0]!.worstAt!.index).toBe(9);
  });

  it("take(E, ids) through a reshape of the ids, and a bound given by a free dim", () => {
    const viaView = "input ids: [2, 3]\nparam E: [7, 2] = normal(0, 1)\nminimize sum(sin(take(E, reshape(ids, [6]))))\n";
    const { model, seen } = watched(viaView, "ids", "E");
    expect(gradcheck(model).ok).toBe(true);
    expect(seen.ids.every((v) => Number.isInteger(v) && v >= 0 && v < 7)).toBe(true);
    expect(seen.largest).toBeGreaterThan(0.1);
    const free = "dim k\ninput table: [k, 3]\ninput ids: [4]\nparam w: [3]\nminimize sum(tanh(take(table, ids) @ w))\n";
    const f = watched(free, "ids", "w");
    expect(gradcheck(f.model, { dims: { k: 9 } }).ok).toBe(true);
    expect(f.seen.ids.every((v) => Number.isInteger(v) && v >= 0 && v < 9)).toBe(true);
    expect(new Set(f.seen.ids).size).toBeGreaterThan(4);
  });

  it("keeps ids the caller gives", () => {
    const { model, seen } = watched(oneHot, "ids", "E");
    const ids = new Float64Array(12).fill(4);
    expect(gradcheck(model, { values: { ids } }).ok).toBe(true);
    expect(new Set(seen.ids)).toEqual(new Set([4]));
  });
});

describe("gradcheck passes every example model", () => {
  const cases: [string, Record<string, number>, number][] = [
    ["xor/xor.grad", {}, 3],
    ["iris/iris.grad", { n: 5 }, 3],
    ["mnist/mlp.grad", { n: 3 }, 2],
    ["mnist/cnn.grad", { n: 2 }, 1],
  ];
  for (const [path, dims, points] of cases) {
    it(path, () => {
      const r = gradcheck(example(path), { dims, points, maxElements: 24 });
      expect(r.ok, formatGradcheck(r, path)).toBe(true);
      for (const p of r.params) expect(p.checked).toBeGreaterThan(0);
    });
  }
});

describe("gradcheck passes a model per op of the op table", () => {
  // Elementwise ops by their printed spelling, sampled inside their gradient-check domain
  // (narrowed, since gradcheck jitters params by 10%); the rest as language snippets.
  const spell = (op: ElementwiseDef, args: string[]): string | undefined => {
    const p = op.print;
    if (!p) return undefined;
    if (p.kind === "infix") return `(${args[0]} ${p.symbol} ${args[1]})`;
    if (p.kind === "prefix") return `${p.symbol}${args[0]}`;
    return p.kind === "call" ? `${p.fn}(${args.join(", ")})` : undefined;
  };
  // stop_gradient's gradient is by definition not the derivative of its value.
  const blocked = new Set(["stop_gradient"]);
  const elementwise = allOps().filter((op): op is ElementwiseDef => op.kind === "elementwise" && op.vjp !== undefined && !blocked.has(op.name));

  it("covers the elementwise ops", () => expect(elementwise.length).toBeGreaterThan(30));

  for (const op of elementwise) {
    it(`elementwise ${op.name}`, () => {
      const domains: GradDomain[] = Array.from({ length: op.arity }, (_, i) => (Array.isArray(op.gradDomain) ? op.gradDomain[i]! : op.gradDomain ?? { lo: -2, hi: 2 }));
      const names = domains.map((_, i) => `a${i}`);
      const params = domains.map((d, i) => {
        const margin = 0.15 * (d.hi - d.lo);
        return `param a${i}: [5] = uniform(${d.lo + margin}, ${d.hi - margin})`;
      });
      const call = spell(op, names);
      expect(call, `${op.name} has no printed spelling`).toBeDefined();
      const source = `${params.join("\n")}\ninput r: [5]\nminimize sum(${call} * r)\n`;
      const r = gradcheck(source, { points: 2 });
      expect(r.ok, `${source}\n${formatGradcheck(r, op.name)}`).toBe(true);
    });
  }

  const snippets: [string, string][] = [
    ["sum, mean, prod over axes", "param w: [3, 4]\nminimize sum(w, axis = 0) @ mean(w, axis = 0) + sum(prod(w, axis = 1))"],
    ["max, min (no ties)", "param w: [3, 4] = uniform(-2, 2)\nminimize sum(max(w, axis = 1)) - sum(min(w, axis = 0) * 2)"],
    ["logsumexp, softmax, log_softmax", "param w: [2, 5]\ninput r: [2, 5]\nminimize sum(logsumexp(w, axis = 1)) + sum(softmax(w) * r) + sum(log_softmax(w, axis = 0) * r)"],
    ["matmul at ranks 1 to 3", "param a: [4]\nparam m: [4, 3]\nparam t: [2, 3, 4]\ninput v: [3]\nminimize a @ (m @ v) + sum((t @ m) ^ 2)"],
    ["transpose, reshape, broadcast_to, concat, indexing", "param w: [2, 3]\ninput r: [3, 2]\nminimize sum(transpose(w) * r) + sum(broadcast_to(reshape(w, [6])[1:4], [2, 3]) * w) + sum(concat([w, w * w], axis = 0)[::2, 1:] ^ 2) + sum(w[..., -1] * w[:, 0])"],
    ["conv2d, maxpool2d, avgpool2d", "input x: [1, 2, 6, 6]\nparam k: [3, 2, 3, 3]\nminimize sum(maxpool2d(conv2d(x, k, padding = 1)) ^ 2) + sum(avgpool2d(tanh(conv2d(x, k))))"],
    ["where, clip, maximum, leaky_relu, elu, gelu", "param w: [6] = uniform(-2, 2)\ninput r: [6]\nminimize sum((where(w > 0, w * w, sin(w)) + clip(w, -1, 1) + maximum(w, r) + leaky_relu(w) + elu(w) + gelu(w)) * r)"],
    ["mse, cross_entropy", "input x: [3, 4]\ninput t: [3, 2]\nparam w: [4, 2]\nminimize mse(x @ w, t) + cross_entropy(x @ w, softmax(t))"],
    ["grad (second derivatives)", "param w: [3]\ninput v: [3]\nminimize sum(grad(sum(sin(w) * w), w) * v)"],
    ["take, embedding, scatter_add", "input ids: [5]\nparam E: [4, 3]\nparam g: [2, 5]\nminimize sum(sin(take(E, ids) @ E[0])) + sum(tanh(embedding(E, ids))) + sum(scatter_add(g, ids, 4, axis = 1) ^ 2)"],
    ["var, std, norm, cumsum, argmax", "param w: [3, 4]\ninput r: [3, 4]\nminimize sum(var(w, axis = 1)) + std(w, correction = 1) + norm(w) + sum(cumsum(w, axis = 1) * r) + sum(w * (argmax(r, axis = 1)[0] + argmin(r, axis = 0)[1] + 1))"],
    ["layer_norm, rms_norm, silu, log_sigmoid, rsqrt", "param w: [2, 5]\ninput r: [2, 5]\nminimize sum(layer_norm(w) * r) + sum(rms_norm(w, axis = 0) * r) + sum(silu(w) + log_sigmoid(w)) + sum(rsqrt(w * w + 1))"],
    ["stack, squeeze, expand_dims, flip, pad, tile, repeat", "param w: [2, 3]\ninput r: [2, 3]\nminimize sum(stack([w, r * w], axis = 1) ^ 2) + sum(squeeze(expand_dims(w, 0)) * flip(r, 1)) + sum(pad(w, [[1, 0], [0, 2]], value = 1) ^ 3) + sum(tile(w, [2, 1]) ^ 2) + sum(repeat(w, 2, axis = 1) * repeat(r, 2, axis = 1))"],
    ["einsum, tril, triu, constants", "param q: [2, 3, 4]\nparam k: [2, 3, 4]\ninput r: [3, 3]\nminimize sum(softmax(einsum(\"bqd,bkd->bqk\", q, k) + tril(ones([3, 3])) * -1) * r) + sum(triu(einsum(\"bij->ji\", q)[0:3] * eye(3) + arange(3) * full([3, 3], 0.5)))"],
    ["conv1d, conv2d (dilation, groups), conv_transpose1d/2d", "input x: [1, 2, 7]\ninput y: [1, 4, 6, 6]\nparam w1: [3, 2, 3]\nparam w2: [4, 1, 3, 3]\nparam wt: [4, 2, 3, 3]\nparam t1: [3, 2, 2]\nminimize sum(tanh(conv1d(x, w1, padding = 1, dilation = 2))) + sum(conv2d(y, w2, groups = 4, stride = 2) ^ 2) + sum(sin(conv_transpose2d(y, wt, stride = 2))) + sum(conv_transpose1d(conv1d(x, w1), t1) ^ 2)"],
    ["conv and pool gradients as built-ins", "input x: [1, 2, 6, 6]\ninput x1: [1, 2, 7]\nparam g: [1, 3, 4, 4]\nparam g1: [1, 3, 5]\nparam h: [1, 2, 3, 3]\nparam s: [1, 2, 6, 6]\nminimize sum(conv2d_weight_grad(x, g, [3, 3]) ^ 2) + sum(conv1d_weight_grad(x1, g1, [3]) ^ 2) + sum(maxpool2d_grad(x, h) * x) + sum(maxpool2d_select(x, sin(s)) ^ 2) + sum(avgpool2d_grad(h, 6, 6) ^ 2)"],
    ["scan (a GRU-like cell over 4 steps)", "input xs: [4, 2, 3]\ninput h0: [2, 3]\nparam w: [3, 3]\nfn cell(h, x) {\n  z = sigmoid(h @ w + x)\n  z * tanh(x) + (1 - z) * h\n}\nminimize sum(scan(cell, h0, xs) ^ 2)"],
  ];
  for (const [name, source] of snippets) {
    it(name, () => {
      const r = gradcheck(source, { points: 2 });
      expect(r.ok, `${source}\n${formatGradcheck(r, name)}`).toBe(true);
    });
  }

  it("covers every non-elementwise op with a derivative rule", () => {
    const seen = new Set<string>();
    for (const [, source] of snippets) {
      const model = buildModel(lowerSource(source, { filename: "snippet.grad" }));
      for (const n of topoSort([...model.outputs, model.objective!, ...model.grads!])) seen.add(n.op.name);
    }
    const missing = allOps().filter((op) => op.kind !== "elementwise" && op.vjp !== undefined && !seen.has(op.name)).map((op) => op.name);
    expect(missing).toEqual([]);
  });
});
