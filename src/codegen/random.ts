// The generator state of a model that draws (rand, randn, dropout): module-level, seeded
// from the `seed` option and independent of createParams' stream. `generatorState` holds
// [seed, calls, key]: each API call sets the key from (seed, calls) and counts itself, so
// every draw is reproducible from the state alone; `reseed` and `randomState` set and read it.

import { messages } from "../diagnostics";
import { topoSort } from "../ir";
import type { LoweredProgram } from "../lower";
import { generatorNames, generatorSource, randomStateName } from "../ops";
import type { Statement } from "./estree";
import { parseStatements } from "./runtime";

/** Names the generator runtime declares (reserved in every module). */
export const randomRuntimeNames = [...generatorNames, randomStateName, "nextDraws", "reseed", "randomState", "checkDrawCount"];

/** The members a drawing model adds to the compiled object and module exports. */
export const randomMembers = ["reseed", "randomState"];

/** Whether the program draws: rand, randn or dropout anywhere in its outputs or objective.
 *  Such a model has the generator members whatever each function keeps after dropout is
 *  specialised away. */
export function drawsRandom(program: LoweredProgram): boolean {
  const roots = [...program.outputs.map((o) => o.node), ...(program.objective ? [program.objective.node] : [])];
  return topoSort(roots).some((n) => n.op.name === "rand" || n.op.name === "randn");
}

function around(message: string): [string, string] {
  const [before, after] = message.split("\u0000") as [string, string];
  return [JSON.stringify(before), JSON.stringify(after)];
}

/** The generator's functions and state, with `seed` as the state a fresh module starts from;
 *  on the wasm target the state lives in the memory at byte offset `placed`, where the
 *  kernels read the call's key. */
export function randomRuntime(seed: number, placed?: number): Statement[] {
  const [seedBefore, seedAfter] = around(messages.E0413("seed", "an integer", "\u0000"));
  const [callsBefore, callsAfter] = around(messages.E0413("calls", "a whole number of calls (0 or more)", "\u0000"));
  return parseStatements(`${generatorSource}
${placed === undefined ? `const ${randomStateName} = Float64Array.of(${seed}, 0, 0);` : `const ${randomStateName} = new Float64Array(memoryBuffer, ${placed}, 3);
${randomStateName}[0] = ${seed};`}
function nextDraws() {
  // One key per call: the forward and backward kernels of this call read the same draws.
  ${randomStateName}[2] = drawKey(${randomStateName}[0], ${randomStateName}[1]);
  ${randomStateName}[1] += 1;
}
function checkDrawCount(v, min, before, after) {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min) fail("E0413", before + seedText(v) + after);
}
function reseed(seed, calls = 0) {
  checkDrawCount(seed, -Number.MAX_SAFE_INTEGER, ${seedBefore}, ${seedAfter});
  checkDrawCount(calls, 0, ${callsBefore}, ${callsAfter});
  ${randomStateName}[0] = seed;
  ${randomStateName}[1] = calls;
}
function randomState() {
  return { seed: ${randomStateName}[0], calls: ${randomStateName}[1] };
}
`);
}

/** The statement each API function of a drawing model runs before its kernels. */
export function advanceStatements(draws: boolean): Statement[] {
  return draws ? parseStatements("nextDraws();") : [];
}
