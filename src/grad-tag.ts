// The `grad` tagged template: an inline model. Unbuilt, it compiles at run time (through
// `compile`, so `new Function`), once per distinct source text; the bundler plugins replace
// each `` grad`...` `` with an import of the emitted module, so a built app carries no compiler.
// Options come from the model's own pragma (`# gradc: dtype=f64 size.n=64 seed=3`). index.ts
// hands in `compile`, so this module imports the API for its types only (no import cycle).

import type { CompiledModel, CompileOptions } from "./index";
import { readPragmas } from "./plugins/options";

/** The file name inline models report in their errors when they compile at run time. */
export const inlineFilename = "<grad>";

type Compile = (source: string, options: CompileOptions) => CompiledModel;

/** The `grad` tag over `compile`: `` grad`input x: [4, 2] ...` `` is the compiled model.
 *  Interpolated values are spliced in as text; the same text always gives the same model
 *  object (and so the same params). */
export function gradTag(compile: Compile): (strings: TemplateStringsArray, ...values: unknown[]) => CompiledModel {
  const cache = new Map<string, CompiledModel>();
  return function grad(strings: TemplateStringsArray, ...values: unknown[]): CompiledModel {
    let source = strings[0] ?? "";
    for (let i = 0; i < values.length; i++) source += String(values[i]) + (strings[i + 1] ?? "");
    let model = cache.get(source);
    if (!model) {
      model = compile(source, { ...readPragmas(source, inlineFilename), filename: inlineFilename });
      cache.set(source, model);
    }
    return model;
  };
}
