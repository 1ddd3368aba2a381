// Two models, both compiled at build time: the seed XOR model imported from its file, and
// an inline linear fit. The built page carries only their emitted code.
import xor from "../../../xor/xor.grad";
import { grad } from "gradc";

const line = grad`
  # gradc: dtype=f64 seed=2
  input x: [8]
  input y: [8]
  param a = zeros
  param b = zeros
  loss = mean((a * x + b - y)^2)
  minimize loss with sgd(lr = 0.1)
`;

const x = Float32Array.from([0, 0, 0, 1, 1, 0, 1, 1]);
const y = Float32Array.from([0, 1, 1, 0]);
const first = xor.step({ x, y });
let last = first;
for (let i = 1; i < 500; i++) last = xor.step({ x, y });
const rounded = Array.from(xor.forward({ x, y }).y_out as Float32Array, Math.round);

const px = Float64Array.from([0, 1, 2, 3, 4, 5, 6, 7], (v) => v / 4);
const py = px.map((v) => 2 * v + 1);
for (let i = 0; i < 2000; i++) line.step({ x: px, y: py });
const fit = { a: line.params.a![0]!, b: line.params.b![0]! };

const report = { first, last, rounded, fit };
console.log(JSON.stringify(report));
if (typeof document !== "undefined") {
  document.querySelector("#out")!.textContent =
    `XOR loss ${first.toFixed(4)} -> ${last.toFixed(4)}, predictions ${rounded.join(" ")}\n` +
    `fit y = ${fit.a.toFixed(3)} x + ${fit.b.toFixed(3)}`;
}
