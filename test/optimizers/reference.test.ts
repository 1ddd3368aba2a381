// Every optimizer, step by step, against its reference update (PyTorch's documented
// formulas for torch.optim.SGD, SGD with momentum, Adam, AdamW, and clipping as
// torch.nn.utils.clip_grad_norm_), in f64: before each `step`, the
// gradient comes from `valueAndGrad` at the same params; the reference applies the
// formula to its own copy of the params and state, and after the step the model's params
// must equal the reference's to rounding. A wrong bias correction, a momentum that
// dampens, or a state that is not kept between steps changes the params at step 1 or 2.

import { describe, expect, it } from "vitest";
import { optimizers } from "../../src/codegen/optimizers";
import { compile, type CompiledModel } from "../../src/index";
import { rng } from "../helpers/random";

/** A loss whose gradient changes with the params (so the steps differ), over two params. */
const model = (optimizer: string) => `
input x: [5, 3]
input y: [5]
param w: [3] = normal(0, 0.5)
param c = constant(0.3)
pred = tanh(x @ w + c)
minimize mean((pred - y) ^ 2) + 0.01 * sum(w ^ 4) with ${optimizer}
`;

type Update = (p: Float64Array, g: Float64Array, state: Float64Array[], t: number) => void;

interface Case {
  name: string;
  optimizer: string;
  stateArrays: number;
  update: Update;
  /** `clip_norm`, and whether it must scale the gradient at every step (true) or never. */
  clip?: { norm: number; active: boolean };
}

const adamw = (lr: number, b1: number, b2: number, eps: number, wd: number): Update => (p, g, [m, v], t) => {
  for (let i = 0; i < p.length; i++) {
    p[i] -= lr * wd * p[i]!; // decoupled weight decay first
    m![i] = b1 * m![i]! + (1 - b1) * g[i]!;
    v![i] = b2 * v![i]! + (1 - b2) * g[i]! * g[i]!;
    const mHat = m![i]! / (1 - b1 ** t), vHat = v![i]! / (1 - b2 ** t);
    p[i] -= (lr * mHat) / (Math.sqrt(vHat) + eps);
  }
};

const cases: Case[] = [
  {
    // torch.optim.SGD: p = p - lr * g
    name: "sgd", optimizer: "sgd(lr = 0.3)", stateArrays: 0,
    update: (p, g) => { for (let i = 0; i < p.length; i++) p[i] -= 0.3 * g[i]!; },
  },
  {
    // torch.optim.SGD(momentum = beta, dampening = 0): b = beta * b + g (b = g at t = 1); p = p - lr * b
    name: "momentum", optimizer: "momentum(lr = 0.2, beta = 0.8)", stateArrays: 1,
    update: (p, g, [b], t) => {
      for (let i = 0; i < p.length; i++) {
        b![i] = t === 1 ? g[i]! : 0.8 * b![i]! + g[i]!;
        p[i] -= 0.2 * b![i]!;
      }
    },
  },
  {
    // torch.optim.Adam: m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
    // p = p - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
    name: "adam", optimizer: "adam(lr = 0.05, beta1 = 0.7, beta2 = 0.95, eps = 1e-3)", stateArrays: 2,
    update: (p, g, [m, v], t) => {
      for (let i = 0; i < p.length; i++) {
        m![i] = 0.7 * m![i]! + 0.3 * g[i]!;
        v![i] = 0.95 * v![i]! + 0.05 * g[i]! * g[i]!;
        const mHat = m![i]! / (1 - 0.7 ** t), vHat = v![i]! / (1 - 0.95 ** t);
        p[i] -= (0.05 * mHat) / (Math.sqrt(vHat) + 1e-3);
      }
    },
  },
  {
    // torch.optim.AdamW: p = p - lr * wd * p, then Adam's update
    name: "adamw", optimizer: "adamw(lr = 0.05, beta1 = 0.7, beta2 = 0.95, eps = 1e-3, weight_decay = 0.3)", stateArrays: 2,
    update: adamw(0.05, 0.7, 0.95, 1e-3, 0.3),
  },
  {
    // AdamW's defaults: beta1 0.9, beta2 0.999, eps 1e-8, weight_decay 0.01
    name: "adamw, defaults", optimizer: "adamw(0.02)", stateArrays: 2,
    update: adamw(0.02, 0.9, 0.999, 1e-8, 0.01),
  },
  {
    // clip_grad_norm_(0.05) before SGD: the gradients here have norms near 1, so it clips
    name: "sgd, clipped", optimizer: "sgd(lr = 0.3, clip_norm = 0.05)", stateArrays: 0, clip: { norm: 0.05, active: true },
    update: (p, g) => { for (let i = 0; i < p.length; i++) p[i] -= 0.3 * g[i]!; },
  },
  {
    // a bound far above the norm: the gradient is used as it is
    name: "momentum, clip inactive", optimizer: "momentum(lr = 0.2, beta = 0.8, clip_norm = 100)", stateArrays: 1, clip: { norm: 100, active: false },
    update: (p, g, [b], t) => {
      for (let i = 0; i < p.length; i++) {
        b![i] = t === 1 ? g[i]! : 0.8 * b![i]! + g[i]!;
        p[i] -= 0.2 * b![i]!;
      }
    },
  },
  {
    name: "adamw, clipped", optimizer: "adamw(lr = 0.05, beta1 = 0.7, beta2 = 0.95, eps = 1e-3, weight_decay = 0.3, clip_norm = 0.1)", stateArrays: 2,
    clip: { norm: 0.1, active: true }, update: adamw(0.05, 0.7, 0.95, 1e-3, 0.3),
  },
];

/** torch.nn.utils.clip_grad_norm_: the global L2 norm over every param's gradient; all are
 *  scaled by c / (norm + 1e-6) when that is below 1. Returns whether it scaled. */
function clipGradNorm(grads: Record<string, Float64Array>, c: number): boolean {
  let sq = 0;
  for (const g of Object.values(grads)) for (const x of g) sq += x * x;
  const coef = c / (Math.sqrt(sq) + 1e-6);
  if (coef >= 1) return false;
  for (const g of Object.values(grads)) for (let i = 0; i < g.length; i++) g[i] *= coef;
  return true;
}

function data(seed: number) {
  const r = rng(seed);
  return {
    x: Float64Array.from({ length: 15 }, () => 2 * r() - 1),
    y: Float64Array.from({ length: 5 }, () => 2 * r() - 1),
  };
}

function copyParams(m: CompiledModel): Record<string, Float64Array> {
  return Object.fromEntries(Object.entries(m.params).map(([k, v]) => [k, Float64Array.from(v as Float64Array)]));
}

/** The largest difference relative to the largest magnitude, with the index where it is. */
function worst(actual: ArrayLike<number>, expected: ArrayLike<number>): { err: number; at: number } {
  let scale = 1e-300, err = 0, at = -1;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]!));
  for (let i = 0; i < expected.length; i++) {
    const e = Math.abs(actual[i]! - expected[i]!) / scale;
    if (e > err) { err = e; at = i; }
  }
  return { err, at };
}

describe.each(cases)("$name follows its reference update step by step (f64)", ({ optimizer, stateArrays, update, clip }) => {
  it("matches for 6 steps, state carried between steps", () => {
    const m = compile(model(optimizer), { dtype: "f64", seed: 4 });
    const ref = copyParams(m);
    const state = Object.fromEntries(Object.entries(ref).map(([k, v]) => [k, Array.from({ length: stateArrays }, () => new Float64Array(v.length))]));
    for (let t = 1; t <= 6; t++) {
      const values = data(100 + t);
      const { value, grads } = m.valueAndGrad(values);
      const gradsNow = Object.fromEntries(Object.entries(grads).map(([k, v]) => [k, Float64Array.from(v as Float64Array)]));
      if (clip) expect(clipGradNorm(gradsNow, clip.norm), `clipping active at step ${t}`).toBe(clip.active);
      for (const k of Object.keys(ref)) update(ref[k]!, gradsNow[k]!, state[k]!, t);
      const returned = m.step(values);
      expect(returned, `step ${t} returns the objective before the update`).toBeCloseTo(value, 12);
      for (const k of Object.keys(ref)) {
        const { err, at } = worst(m.params[k] as Float64Array, ref[k]!);
        expect(err, `${optimizer}: param ${k}[${at}] after step ${t}: ${(m.params[k] as Float64Array)[at]} vs reference ${ref[k]![at]}`).toBeLessThan(1e-13);
      }
    }
  });
});

describe("emitted modules follow the same updates", () => {
  it("adam's f32 step agrees with the f64 reference to f32 rounding", () => {
    const f32 = compile(model(cases[2]!.optimizer), { dtype: "f32", seed: 4 });
    const ref = copyParams(f32);
    const state = Object.fromEntries(Object.entries(ref).map(([k, v]) => [k, [new Float64Array(v.length), new Float64Array(v.length)]]));
    for (let t = 1; t <= 3; t++) {
      const values = data(200 + t);
      const { grads } = f32.valueAndGrad({ x: Float32Array.from(values.x), y: Float32Array.from(values.y) });
      for (const k of Object.keys(ref)) cases[2]!.update(ref[k]!, Float64Array.from(grads[k] as Float32Array), state[k]!, t);
      f32.step({ x: Float32Array.from(values.x), y: Float32Array.from(values.y) });
      for (const k of Object.keys(ref)) {
        const { err, at } = worst(f32.params[k] as Float32Array, ref[k]!);
        expect(err, `param ${k}[${at}] after step ${t}`).toBeLessThan(1e-5);
        ref[k]!.set(f32.params[k] as Float32Array); // follow the model's own rounding from here
      }
    }
  });
});

it("every optimizer in the optimizer table has a reference case", () => {
  expect(Object.keys(optimizers).sort()).toEqual(cases.map((c) => c.name).filter((n) => !n.includes(",")).sort());
});
