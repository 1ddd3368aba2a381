// The seed XOR model, imported as a module: compiled by the gradc plugin at build time.
// (`gradc types ../xor/xor.grad` writes xor.grad.d.ts for names checked by TypeScript;
// without it the package's `gradc/grad-module` fallback types the import.)
import model, { forward } from "../../../xor/xor.grad";

const x = Float32Array.from([0, 0, 0, 1, 1, 0, 1, 1]);
const y = Float32Array.from([0, 1, 1, 0]);

const first = model.step({ x, y });
let last = first;
for (let i = 1; i < 500; i++) last = model.step({ x, y });
const { y_out } = forward({ x, y });

console.log(`loss ${first.toFixed(4)} -> ${last.toFixed(4)}`);
console.log(JSON.stringify({ first, last, rounded: Array.from(y_out as Float32Array, Math.round) }));
