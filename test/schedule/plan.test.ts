// The schedule decides what a compiled model costs: how many passes over memory its
// functions make (kernels), how much memory they hold (buffer slots) and which values stay
// in registers. Each case checks those costs on a small model, and that the emitted code
// still computes what the interpreter computes (a buffer reused while still read, or a
// returned value overwritten, shows up in the values).
import { describe, expect, it } from "vitest";
import { buildModel, compile } from "../../src/index";
import { evaluate } from "../../src/interpret";
import type { Node } from "../../src/ir";
import { lowerSource } from "../../src/lower";
import { planFunction } from "../../src/schedule";
import { expectValuesAgree, planOf } from "./helpers";

const chain = (n: number, first = "x") => Array.from({ length: n }, (_, i) => `h${i + 1} = ${i === 0 ? first : `h${i}`} @ w`).join("\n");

describe("buffers", () => {
  it("a chain of same-sized kernels alternates between two buffers (the output keeps its own)", () => {
    const source = `input x: [6, 6]\nparam w: [6, 6]\n${chain(6)}\noutput h6`;
    const { plan } = planOf(source);
    expect(plan.kernels.length).toBe(6);
    expect(plan.slots.length).toBe(3);
    expect(plan.pinned.size).toBe(1);
    expectValuesAgree(source);
  });

  it("buffers of free-dim sizes are reused when their sizes are the same expression", () => {
    const source = `dim n\ninput x: [n, 5]\nparam w: [5, 5]\n${chain(5)}\noutput h5`;
    const { plan } = planOf(source);
    expect(plan.slots.length).toBe(3);
    expectValuesAgree(source, { n: 3 });
  });

  it("a buffer of another size is not reused", () => {
    // h1 [4, 6] is dead once h2 [4, 3] is computed, but h3 [4, 3] cannot live in it.
    const source = "input x: [4, 5]\nparam a: [5, 6]\nparam b: [6, 3]\nparam c: [3, 3]\nh1 = x @ a\nh2 = h1 @ b\nh3 = h2 @ c\nh4 = h3 @ c\noutput h4";
    const { plan } = planOf(source);
    const sizes = plan.slots.map((s) => s.coef);
    expect(sizes.filter((s) => s === 24)).toHaveLength(1);
    expect(sizes.filter((s) => s === 12)).toHaveLength(3);
    expectValuesAgree(source);
  });

  it("returned values each keep their own buffer, never reused by a later kernel", () => {
    const source = `input x: [6, 6]\nparam w: [6, 6]\n${chain(6)}\noutput h1, h3, h6`;
    const { plan, out } = planOf(source);
    const slots = [out.h1!, out.h3!, out.h6!].map((n) => plan.slotOf.get(n)!);
    expect(new Set(slots).size).toBe(3);
    for (const s of slots) expect(plan.pinned.has(s)).toBe(true);
    for (const [n, s] of plan.slotOf) if (![out.h1, out.h3, out.h6].includes(n)) expect(slots).not.toContain(s);
    expectValuesAgree(source);
  });

  it("values used after the kernels (an optimizer's gradients) stay alive to the end", () => {
    const program = lowerSource(`input x: [6, 6]\nparam w: [6, 6]\n${chain(4)}\noutput h4`, { filename: "plan.grad" });
    const model = buildModel(program);
    const h4 = model.outputs[0]!;
    const h2 = h4.inputs[0]!.op.kind === "kernel" ? h4.inputs[0]!.inputs[0]! : h4.inputs[0]!;
    const plan = planFunction({ returned: [h4], extra: [h2] });
    expect(h2.op.name).toBe("matmul");
    const kept = plan.slotOf.get(h2)!;
    expect(kept).toBeTypeOf("number");
    // No kernel after h2 writes into its buffer, and it is not a returned (pinned) one.
    for (const [n, s] of plan.slotOf) if (n !== h2) expect(s).not.toBe(kept);
    expect(plan.pinned.has(kept)).toBe(false);
  });

  it("scalars are materialised and take no buffer slot", () => {
    const source = "input x: [5]\ns = sum(x)\ny = x * s\noutput y, s";
    const { plan, out } = planOf(source);
    expect(plan.materialized.has(out.s!)).toBe(true);
    expect(plan.slotOf.has(out.s!)).toBe(false);
    expectValuesAgree(source);
  });
});

describe("fusion", () => {
  it("an elementwise chain is one kernel", () => {
    const source = "input x: [7]\ny = exp(sin(x) * 2 + 1) - x\noutput y";
    expect(planOf(source).plan.kernels).toHaveLength(1);
    expectValuesAgree(source);
  });

  it("relu(x @ w + b) is computed inside the matmul's loop (one kernel, no buffer for x @ w)", () => {
    const source = "input x: [4, 3]\nparam w: [3, 5]\nparam b: [5]\ny = relu(x @ w + b)\noutput y";
    const { plan, out } = planOf(source);
    expect(plan.kernels).toEqual([out.y]);
    expect(plan.fusedProducer.get(out.y!)?.op.name).toBe("matmul");
    expect(plan.slots).toHaveLength(1);
    expectValuesAgree(source);
  });

  it("a matmul that is also returned, or read twice, keeps its buffer", () => {
    for (const source of [
      "input x: [4, 3]\nparam w: [3, 5]\nm = x @ w\ny = relu(m)\noutput y, m",
      "input x: [4, 3]\nparam w: [3, 5]\nm = x @ w\ny = relu(m) + sum(m, axis = 1, keepdims = true)\noutput y",
    ]) {
      const { plan } = planOf(source);
      expect(plan.fusedProducer.size, source).toBe(0);
      expectValuesAgree(source);
    }
  });

  it("an epilogue is fused only if what else it reads exists when the matmul runs", () => {
    // y reads m1 @ w and m2 @ w: only the later matmul can take y as its epilogue.
    const source = "input x: [4, 3]\ninput z: [4, 3]\nparam w: [3, 5]\ny = tanh(x @ w) + (z @ w)\noutput y";
    const { plan, out } = planOf(source);
    expect(plan.kernels).toHaveLength(2);
    expect(plan.kernels[1]).toBe(out.y);
    expectValuesAgree(source);
  });

  it("an elementwise value read by two kernels is computed once; a negation is recomputed", () => {
    const once = "input x: [6]\nt = exp(x) * 3\np = sum(t)\nq = sum(t * t)\noutput p, q";
    expect(planOf(once).plan.kernels).toHaveLength(3);
    expectValuesAgree(once);
    const recomputed = "input x: [6]\nparam w: [6]\nm = x * w\nt = sum(m)\nu = -x\np = sum(u)\nq = sum(u * u)\noutput p, q, t";
    const { plan } = planOf(recomputed);
    expect(plan.kernels.filter((k) => k.op.name === "neg")).toHaveLength(0);
    expectValuesAgree(recomputed);
  });

  it("a value broadcast to a larger shape is computed once, not once per copy", () => {
    const source = "input x: [6, 5]\ninput v: [5]\nt = exp(v) * 2\ny = x + t\noutput y";
    const { plan } = planOf(source);
    expect(plan.kernels).toHaveLength(2);
    expect(plan.kernels[0]!.shape).toEqual([5]);
    expectValuesAgree(source);
  });

  it("a long elementwise chain is cut into kernels of bounded depth and still computes the same", () => {
    const lines = Array.from({ length: 120 }, (_, i) => `h${i + 1} = sin(${i === 0 ? "x" : `h${i}`}) * 0.9 + 0.1`);
    const source = `input x: [3]\n${lines.join("\n")}\noutput h120`;
    const { plan } = planOf(source);
    expect(plan.kernels.length).toBeGreaterThan(1);
    expectValuesAgree(source);
  });
});

describe("groups", () => {
  it("same-shaped elementwise kernels share one loop; a member read only inside it is never stored", () => {
    const source = "input x: [8]\nt = exp(x) * 3\na = t + 1\nb = t * t\noutput a, b";
    const { plan, out } = planOf(source);
    const t = plan.kernels.find((k) => k !== out.a && k !== out.b)!;
    expect(plan.kernels).toHaveLength(3);
    expect([...plan.groups.values()]).toEqual([[t, out.a, out.b]]);
    expect([...plan.localOnly]).toEqual([t]);
    expect(plan.slotOf.has(t)).toBe(true);
    expectValuesAgree(source);
  });

  it("kernels of other shapes, or reading through a reshape, start a new group", () => {
    const source = "input x: [8]\ninput z: [2, 4]\na = exp(x)\nb = exp(z) * 2\nc = cos(x)\noutput a, b, c";
    const { plan } = planOf(source);
    // a and c are not adjacent in execution order unless the planner put them so.
    for (const members of plan.groups.values()) for (const m of members) expect(m.shape).toEqual(members[0]!.shape);
    expectValuesAgree(source);
  });

  it("a group member read by a later kernel outside the group is stored", () => {
    const source = "input x: [8]\nt = exp(x) * 3\na = t + 1\nb = t * t\nc = sum(t)\noutput a, b, c";
    const { plan } = planOf(source);
    expect(plan.localOnly.size).toBe(0);
    expectValuesAgree(source);
  });
});

describe("gradients in backprop order", () => {
  /** A deep relu MLP: layers of [8, 16] activations, weights [16, 16]. */
  const deep = (layers: number) => {
    const s = ["input x: [8, 16]", "input y: [8, 16]"];
    for (let i = 1; i <= layers; i++) s.push(`param w${i}: [16, 16] = glorot_uniform`, `param b${i}: [16] = zeros`);
    s.push("h0 = x");
    for (let i = 1; i <= layers; i++) s.push(`h${i} = relu(h${i - 1} @ w${i} + b${i})`);
    s.push(`loss = mse(h${layers}, y)`, `output h${layers}`, "minimize loss with sgd(lr = 0.1)");
    return s.join("\n");
  };

  it("each layer's cotangent dies at its weight gradient: activation buffers grow by one per layer, not two", () => {
    const slotsOf = (layers: number, gradients: boolean) => {
      const model = buildModel(lowerSource(deep(layers), { filename: "deep.grad" }));
      const plan = planFunction({ returned: [model.objective!, ...model.grads!], gradients });
      return plan.slots.filter((s) => s.coef === 8 * 16).length;
    };
    // The saved activations (one per layer) and a few cotangents in flight.
    expect(slotsOf(40, true) - slotsOf(20, true)).toBe(20);
    expect(slotsOf(40, true)).toBeLessThanOrEqual(40 + 3);
    // Visited in declaration order, every cotangent of the chain stays alive.
    expect(slotsOf(40, false) - slotsOf(20, false)).toBe(40);
  });

  it("the gradients and a training step are unchanged (against the interpreter, f64)", () => {
    const source = deep(5);
    const model = compile(source, { dtype: "f64", filename: "deep.grad" });
    const program = lowerSource(source, { filename: "deep.grad" });
    const ir = buildModel(program);
    const x = Float64Array.from({ length: 128 }, (_, i) => Math.sin(i)), y = Float64Array.from({ length: 128 }, (_, i) => Math.cos(i));
    const values = new Map<string, Float64Array>([["x", x], ["y", y]]);
    for (const p of program.params) values.set(p.name, Float64Array.from(model.params[p.name] as Float64Array));
    const want = evaluate([ir.objective!, ...ir.grads!], { dims: new Map(), values });
    const got = model.valueAndGrad({ x, y });
    expect(got.value).toBeCloseTo(want.get(ir.objective!)!.data[0]!, 12);
    program.params.forEach((p, i) => {
      const w = want.get(ir.grads![i]!)!.data;
      const g = got.grads[p.name]!;
      for (let k = 0; k < w.length; k++) expect(g[k], `${p.name}[${k}]`).toBeCloseTo(w[k]!, 12);
    });
  });
});

describe("a kernel computing its own input (prologues)", () => {
  // The filter gradient of a conv under a tiling max-pool reads the pool's gradient alone,
  // so the JS target computes it inside the weight-gradient kernel, visiting each window's
  // first maximum; the wasm target, whose SIMD conv kernels read stored operands, plans
  // without and stores it.
  const source = `input x: [2, 1, 8, 8]
param k: [4, 1, 3, 3] = glorot_uniform
p = maxpool2d(relu(conv2d(x, k, padding = 1)), size = 2, stride = 2)
minimize sum(p * p)`;
  const roots = () => {
    const model = buildModel(lowerSource(source, { filename: "plan.grad" }));
    return [model.objective!, ...model.grads!];
  };
  it("the pool gradient feeding the filter gradient is a prologue, not a stored buffer", () => {
    const plan = planFunction({ returned: roots(), gradients: true });
    const names = [...plan.prologues].map((n) => n.op.name);
    expect(names).toEqual(["maxpool2d_grad"]);
    for (const n of plan.prologues) expect(plan.materialized.has(n)).toBe(false);
  });
  it("planned with prologues: false, it is stored like any kernel's result", () => {
    const plan = planFunction({ returned: roots(), gradients: true, prologues: false });
    expect(plan.prologues.size).toBe(0);
    const pool = [...plan.materialized].filter((n) => n.op.name === "maxpool2d_grad");
    expect(pool.length).toBe(1);
  });
});

describe("a max-pool computed in its conv's loop", () => {
  // maxpool2d(relu(conv + bias)) with windows that tile the plane is one kernel: the conv's
  // template runs window by window, the conv's output is never stored. With the pool's
  // gradient, the conv's value keeps a buffer of each window's first-maximum tap (the
  // pooled size), read by the filter gradient instead of the conv's output.
  const source = (extra = "") => `input x: [2, 1, 8, 8]
param k: [4, 1, 3, 3] = glorot_uniform
param kb: [4, 1, 1] = zeros
c = relu(conv2d(x, k) + kb)
p = maxpool2d(c, size = 2)
${extra}
minimize sum(p * p)${extra ? " + sum(c)" : ""}`;
  const planned = (src: string, prologues = true) => {
    const model = buildModel(lowerSource(src, { filename: "plan.grad" }));
    return planFunction({ returned: [model.objective!, ...model.grads!], gradients: true, prologues });
  };
  const ops = (nodes: Iterable<Node>) => [...nodes].map((n) => n.op.name);

  it("the forward is one kernel, the conv not materialised", () => {
    const { plan } = planOf(`input x: [2, 1, 8, 8]
param k: [4, 1, 3, 3] = glorot_uniform
p = maxpool2d(relu(conv2d(x, k)), size = 2)
output p`);
    expect(ops(plan.kernels)).toEqual(["maxpool2d"]);
    expect(ops(plan.pooledConvs.values())).toEqual(["relu"]);
    expect(plan.firstMaxTaps.size).toBe(0);
    expect(ops(plan.materialized).filter((n) => n === "conv" || n === "relu")).toEqual([]);
  });

  it("with the gradient, the conv's value holds the taps: a buffer of the pooled size", () => {
    const plan = planned(source());
    const [c] = [...plan.firstMaxTaps.keys()];
    expect(c?.op.name).toBe("relu");
    expect(plan.kernels.includes(c!)).toBe(false);
    expect(c!.shape).toEqual([2, 4, 6, 6]);
    expect(plan.slots[plan.slotOf.get(c!)!]!.coef).toBe(2 * 4 * 3 * 3);
    expect(ops(plan.prologues)).toEqual(["maxpool2d_grad"]);
  });

  it("with an elementwise epilogue on the pool, that is the kernel", () => {
    const { plan } = planOf(`input x: [2, 1, 8, 8]
param k: [4, 1, 3, 3] = glorot_uniform
p = 1 - maxpool2d(conv2d(x, k), size = 2)
output p`);
    expect(ops(plan.kernels)).toEqual(["sub"]);
    expect(ops(plan.pooledConvs.values())).toEqual(["conv"]);
  });

  it("not when the conv's value is read otherwise, nor without prologues (the wasm target)", () => {
    expect(planned(source("s = sum(c)")).pooledConvs.size).toBe(0);
    expect(planned(source(), false).pooledConvs.size).toBe(0);
  });

  it("the values agree with the interpreter", () => {
    expectValuesAgree(`input x: [2, 2, 9, 9]
param k: [4, 2, 3, 3] = glorot_uniform
p = maxpool2d(tanh(conv2d(x, k, padding = 1)), size = 3)
q = maxpool2d(conv2d(x, k, stride = 2), size = 2)
r = exp(-maxpool2d(conv2d(x, k), size = 2))
output p, q, r`);
  });
});
