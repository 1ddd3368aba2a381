// W5: compile time. A deep MLP of L layers (width 128, batch 64, relu, mse loss, sgd) is
// compiled with gradc's compile() (parse, lower, differentiate, simplify, schedule, emit,
// new Function) for L = 10, 100 and 1,000: milliseconds, growth per layer between the
// sizes, and the emitted code size. Width 128 keeps the matmuls as loops, so this measures
// the compiler's pipeline rather than unrolling.
import { gradc } from "./lib/gradc.mjs";
import { median } from "./lib/harness.mjs";

export const WIDTH = 128;
export const BATCH = 64;

export function deepMlp(layers, width = WIDTH, batch = BATCH) {
  const s = [`# a deep MLP: ${layers} layers of ${width} relu units`, `input x: [${batch}, ${width}]`, `input y: [${batch}, ${width}]`];
  for (let i = 1; i <= layers; i++) s.push(`param w${i}: [${width}, ${width}] = glorot_uniform`, `param b${i}: [${width}] = zeros`);
  s.push("h0 = x");
  for (let i = 1; i <= layers; i++) s.push(`h${i} = relu(h${i - 1} @ w${i} + b${i})`);
  s.push(`loss = mse(h${layers}, y)`, `output h${layers}`, "minimize loss with sgd(lr = 0.01)");
  return s.join("\n") + "\n";
}

export function runW5({ sizes = [10, 100, 1000], runs = (l) => (l >= 1000 ? 1 : 3) } = {}) {
  gradc.compile(deepMlp(3)); // warm the compiler itself
  gradc.compile(deepMlp(3), { target: "wasm" });
  const rows = [];
  for (const layers of sizes) {
    const source = deepMlp(layers);
    const times = [], wasmTimes = [];
    let bytes = 0, wasmBytes = 0, wasmError;
    try {
      for (let r = 0; r < runs(layers); r++) {
        const t0 = performance.now();
        const model = gradc.compile(source, { filename: `deep-${layers}.grad` });
        times.push(performance.now() - t0);
        bytes = model.source.length;
        // the wasm target, interleaved (its own failure is reported beside the JS target's time)
        if (wasmError) continue;
        try {
          const t1 = performance.now();
          const wasm = gradc.compile(source, { filename: `deep-${layers}.grad`, target: "wasm" });
          wasmTimes.push(performance.now() - t1);
          wasmBytes = wasm.source.length;
        } catch (e) {
          wasmError = `${e.name}: ${e.message}`.slice(0, 200);
        }
      }
    } catch (e) {
      // A compiler failure is a result too (and a bug: only GradcError may escape).
      rows.push({ layers, error: `${e.name}: ${e.message}`.slice(0, 200), ms: null, bytes: null });
      continue;
    }
    const wasm = wasmError ? { wasmError } : { wasmMs: median(wasmTimes), wasmBytes, wasmRatio: median(wasmTimes) / median(times) };
    rows.push({ layers, ms: median(times), runs: times.length, min: Math.min(...times), max: Math.max(...times), bytes, msPerLayer: median(times) / layers, bytesPerLayer: bytes / layers, ...wasm });
  }
  // Growth per layer between consecutive sizes, and whether it stays flat (linear).
  for (let i = 1; i < rows.length; i++) {
    const a = rows[i - 1], b = rows[i];
    if (a.error || b.error) continue;
    b.growthMsPerLayer = (b.ms - a.ms) / (b.layers - a.layers);
    b.growthBytesPerLayer = (b.bytes - a.bytes) / (b.layers - a.layers);
  }
  return { width: WIDTH, batch: BATCH, rows };
}
