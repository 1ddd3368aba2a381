// W3: the gradient of f(x, y) = (1-x)^2 + 100(y-x^2)^2 + sin(xy) exp(-x^2), per point.
// gradc compiles the gradient over a free-dim batch of points (and, as a second row, a
// model with scalar inputs called once per point); beside it the derivative by hand, and
// math.js: its derivative evaluated through math.js's compile(), and the same derivative
// printed as a JavaScript function.
import { createRequire } from "node:module";
import { relError, uniform } from "./lib/data.mjs";
import { compileModel } from "./lib/gradc.mjs";
import { ownLoop } from "./lib/harness.mjs";
import { handGrad } from "./hand/w3-grad.mjs";

const require = createRequire(new URL("./package.json", import.meta.url));
const F = "(1-x)^2 + 100*(y-x^2)^2 + sin(x*y)*exp(-x^2)";
const N = 1000;

/** A math.js expression tree as JavaScript source (x ^ y as Math.pow). */
function mathToJs(node) {
  switch (node.type) {
    case "ParenthesisNode": return mathToJs(node.content);
    case "SymbolNode": return node.name;
    case "ConstantNode": return `(${String(node.value)})`;
    case "FunctionNode": return `Math.${node.fn.name}(${node.args.map(mathToJs).join(", ")})`;
    case "OperatorNode": {
      const a = node.args.map(mathToJs);
      if (node.fn === "unaryMinus") return `(-${a[0]})`;
      if (node.fn === "unaryPlus") return `(+${a[0]})`;
      if (node.op === "^") return `Math.pow(${a[0]}, ${a[1]})`;
      return `(${a.join(` ${node.op} `)})`;
    }
    default: throw new Error(`mathToJs: unexpected ${node.type}`);
  }
}

/** The values of one call of the per-point model: fields that only ever hold numbers. */
class Point {
  constructor() {
    this.x = 0;
    this.y = 0;
  }
}

export function w3Data() {
  return { x: uniform(N, -2, 2, 31), y: uniform(N, -2, 2, 32) };
}

export async function setupW3() {
  const math = require("mathjs");
  const values = w3Data();

  const batch = compileModel("w3-grad");
  const point = compileModel("w3-point");
  // the same models on the wasm target (docs/wasm.md): its batch a free dim too
  const wasmBatch = compileModel("w3-grad", { target: "wasm" });
  const wasmPoint = compileModel("w3-point", { target: "wasm" });
  const hand = handGrad(N);

  const dx = math.derivative(F, "x");
  const dy = math.derivative(F, "y");
  const cdx = dx.compile(), cdy = dy.compile();
  const mjGx = new Float32Array(N), mjGy = new Float32Array(N);
  const scope = { x: 0, y: 0 };
  const mathjsCompiled = (v) => {
    for (let i = 0; i < N; i++) {
      scope.x = v.x[i];
      scope.y = v.y[i];
      mjGx[i] = cdx.evaluate(scope);
      mjGy[i] = cdy.evaluate(scope);
    }
    return mjGx[0];
  };

  const jsDx = mathToJs(dx), jsDy = mathToJs(dy);
  const printed = { gx: new Float32Array(N), gy: new Float32Array(N) };
  const printedRun = new Function("gx", "gy", `
    const dfdx = (x, y) => ${jsDx};
    const dfdy = (x, y) => ${jsDy};
    return function run(v) {
      const xs = v.x, ys = v.y;
      for (let i = 0; i < ${N}; i++) { gx[i] = dfdx(xs[i], ys[i]); gy[i] = dfdy(xs[i], ys[i]); }
      return gx[0];
    };`)(printed.gx, printed.gy);

  const gradcBatch = (v) => batch.forward(v).gx[0];
  const pGx = new Float32Array(N), pGy = new Float32Array(N);
  // Each per-point loop has its own function text (as ownLoop's), so V8 keeps its own
  // feedback: loops made by one closure share it, and `model.forward` would be a
  // polymorphic call over the JS and wasm models. Each loop passes one values object of its
  // own class: an object literal `{ x: 0, y: 0 }` would share V8's hidden class with the
  // batch's `{ x, y }` of Float32Arrays, whose fields then hold any value, and every
  // `point.x = v.x[i]` would allocate a heap number (docs/runtime.md, "One point per call").
  const perPoint = (model, gx, gy, label) => new Function("model", "gx", "gy", "Point", `
    const point = new Point();
    return function ${label}(v) {
      const xs = v.x, ys = v.y;
      for (let i = 0; i < ${N}; i++) {
        point.x = xs[i];
        point.y = ys[i];
        const r = model.forward(point);
        gx[i] = r.gx;
        gy[i] = r.gy;
      }
      return gx[0];
    };`)(model, gx, gy, Point);
  const gradcPoint = perPoint(point, pGx, pGy, "gradc_point");
  const wasmBatchRun = (v) => wasmBatch.forward(v).gx[0];
  const wGx = new Float32Array(N), wGy = new Float32Array(N);
  const wasmPointRun = perPoint(wasmPoint, wGx, wGy, "wasm_point");

  // Every implementation against gradc's gradient (the batch model), point by point.
  const want = batch.forward(values);
  const wantGx = Float32Array.from(want.gx), wantGy = Float32Array.from(want.gy);
  const checks = [];
  const check = (name, run, gx, gy) => {
    run(values);
    const err = Math.max(relError(gx(), wantGx), relError(gy(), wantGy));
    checks.push({ name, gradErr: err });
  };
  check("gradc, batch of 1000", gradcBatch, () => batch.forward(values).gx, () => batch.forward(values).gy);
  check("gradc, one point per call", gradcPoint, () => pGx, () => pGy);
  check("gradc wasm target, batch of 1000", wasmBatchRun, () => wasmBatch.forward(values).gx, () => wasmBatch.forward(values).gy);
  check("gradc wasm target, one point per call", wasmPointRun, () => wGx, () => wGy);
  check("hand-written", hand.run, () => hand.gx, () => hand.gy);
  check("math.js derivative printed as JS", printedRun, () => printed.gx, () => printed.gy);
  check("math.js derivative + compile", mathjsCompiled, () => mjGx, () => mjGy);

  return {
    id: "W3",
    title: "gradient of f(x,y), per point",
    unit: "ns",
    scale: 1e9,
    reference: "hand-written",
    checks,
    notes: { mathjs: math.version, dfdx: dx.toString(), dfdy: dy.toString() },
    impls: [
      { name: "gradc, batch of 1000", loop: ownLoop(gradcBatch, values, "gradc_w3"), units: N },
      { name: "gradc, one point per call", loop: ownLoop(gradcPoint, values, "gradc_point_w3"), units: N },
      { name: "gradc wasm target, batch of 1000", loop: ownLoop(wasmBatchRun, values, "gradc_wasm_w3"), units: N },
      { name: "gradc wasm target, one point per call", loop: ownLoop(wasmPointRun, values, "gradc_wasm_point_w3"), units: N },
      { name: "hand-written", loop: ownLoop(hand.run, values, "hand_w3"), units: N },
      { name: "math.js derivative printed as JS", loop: ownLoop(printedRun, values, "printed_w3"), units: N },
      { name: "math.js derivative + compile", loop: ownLoop(mathjsCompiled, values, "mathjs_w3"), units: N },
    ],
  };
}
