// jax-js (@jax-js/jax, from bench/node_modules) on its wasm backend, the fastest it offers
// in Node (webgpu and webgl are browser-only), with the whole training step under `jit`:
// forward, valueAndGrad and the SGD update are traced once per shape and run as fused
// wasm kernels. jax-js counts references: every call consumes its array arguments, so the
// step passes `.ref` of the data it keeps and gets new params back; `dataSync()` on the
// loss consumes it too. The loss is read back every step, as gradc's step returns it.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const require = createRequire(new URL("../package.json", import.meta.url));

let loaded;
export async function loadJax() {
  if (loaded) return loaded;
  let entry;
  try {
    entry = require.resolve("@jax-js/jax");
  } catch {
    // an older bench/node_modules: the jax-js rows say so instead of stopping the run
    loaded = { jax: null, version: null, missing: "@jax-js/jax is not installed (npm ci --prefix bench)" };
    return loaded;
  }
  const jax = await import(entry);
  const devices = await jax.init("wasm");
  if (!devices.includes("wasm")) throw new Error(`jax-js: no wasm backend (got ${devices.join(", ")})`);
  jax.defaultDevice("wasm");
  // the package's exports leave out package.json: read it beside the resolved entry
  const { version } = JSON.parse(readFileSync(join(dirname(entry), "..", "package.json"), "utf8"));
  loaded = { jax, version };
  return loaded;
}

/** The loaded module, or the reason it is missing as an error (the row then fails). */
export function need(jax) {
  if (!jax) throw new Error(loaded?.missing ?? "jax-js is not loaded");
  return jax;
}

/**
 * A jitted SGD step for `lossFn(params, ...data)`: params is a record of jax arrays made
 * from `init` with `shapes`; data are jax arrays kept for every call.
 * Returns { step() -> loss, read() -> record of Float32Array }.
 */
export function jaxStepper(jax, lossFn, init, shapes, data, lr) {
  const { numpy: np, jit, valueAndGrad, tree } = need(jax);
  let params = Object.fromEntries(Object.entries(shapes).map(([k, s]) => [k, np.array(Float32Array.from(init[k])).reshape(s)]));
  const update = jit((p, ...d) => {
    const [loss, g] = valueAndGrad(lossFn)(tree.map((a) => a.ref, p), ...d);
    return [loss, tree.map((w, gw) => w.sub(gw.mul(lr)), p, g)];
  });
  const step = () => {
    const [loss, next] = update(params, ...data.map((d) => d.ref));
    params = next;
    return loss.dataSync()[0];
  };
  const read = () => Object.fromEntries(Object.entries(params).map(([k, a]) => [k, a.ref.dataSync()]));
  return { step, read };
}
