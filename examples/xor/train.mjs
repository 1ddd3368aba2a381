// The seed example: compile xor.grad, train it with the model's own optimizer
// (sgd, lr = 1.0) for 500 steps, print the loss every 50 steps, then the trained params,
// the predictions and the final loss.
import { readFileSync } from "node:fs";
import { compile } from "gradc";

const source = readFileSync(new URL("./xor.grad", import.meta.url), "utf8");
const model = compile(source, { filename: "xor.grad", seed: 1 });

const x = Float32Array.from([0, 0, 0, 1, 1, 0, 1, 1]);
const y = Float32Array.from([0, 1, 1, 0]);

const fmt = (a) => `[${Array.from(a, (v) => v.toFixed(4)).join(", ")}]`;

for (let i = 0; i < 500; i++) {
  const loss = model.step({ x, y });
  if (i % 50 === 0) console.log(`step ${String(i).padStart(3)}  loss ${loss.toFixed(6)}`);
}

const { y_out, loss } = model.forward({ x, y });
for (const name of ["m1", "b1", "m2", "b2"]) console.log(`${name} = ${fmt(model.params[name])}`);
console.log(`y_out = ${fmt(y_out)}`);
console.log(`loss = ${loss.toFixed(6)}`);
console.log(`rounded = [${Array.from(y_out, Math.round).join(", ")}]`);
