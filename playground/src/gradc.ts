// The CLI's verbs as the page needs them, over the compiler's own modules in ../../src:
// the same calls src/cli/run.ts makes, so the page shows what `gradc grad`, `gradc graph
// --grad` and `gradc compile -o` print or write. src/index.ts is browser-safe (no node:
// import on its path); the CLI (node:path, node:fs) and the plugins are never imported.

import { buildModel, check, compileToSource, GradcError, type ModelMeta } from "../../src/index";
import { emitDeclarations } from "../../src/codegen";
import { lowerSource, trainable } from "../../src/lower";
import { printDefinitions, printDot } from "../../src/print";
import { renderDiagnostic, type Diagnostic } from "../../src/diagnostics/error";

/** One problem for the editor: offsets into the text, and the CLI's rendering. */
export interface Problem {
  from: number;
  to: number;
  code: string;
  message: string;
  line: number;
  column: number;
  /** This diagnostic as the CLI prints it (code frame, notes, hint). */
  rendered: string;
}

export type Analysis =
  | { ok: true; meta: ModelMeta; gradText: string; dot: string }
  | { ok: false; problems: Problem[]; rendered: string };

/** check + grad + graph --grad for one text, or its diagnostics. */
export function analyse(text: string, filename: string): Analysis {
  try {
    const meta = check(text, { filename });
    const program = lowerSource(text, { filename });
    const model = buildModel(program);
    const gradText = model.grads
      ? printDefinitions(trainable(program.params).map((p, i) => ({ name: `d_${p.name}`, node: model.grads![i]! })))
      : "# this program has no `minimize`, so it has no gradient\n";
    const forward = [
      ...program.outputs.map((o, i) => ({ name: o.name, node: model.outputs[i]! })),
      ...(model.objective ? [{ name: program.objective!.name ?? "objective", node: model.objective }] : []),
    ];
    const grads = model.grads ? trainable(program.params).map((p, i) => ({ name: `d_${p.name}`, node: model.grads![i]! })) : undefined;
    return { ok: true, meta, gradText, dot: printDot(forward, grads) };
  } catch (e) {
    if (!(e instanceof GradcError)) throw e;
    return { ok: false, problems: e.errors.map((d) => problem(d, text)), rendered: e.rendered };
  }
}

function problem(d: Diagnostic, text: string): Problem {
  // A diagnostic without a span (rare: whole-program errors) marks the first character.
  const from = Math.min(d.span?.start ?? 0, text.length);
  const to = Math.min(Math.max(d.span?.end ?? 0, from + 1), text.length);
  const before = text.slice(0, from);
  const line = before.split("\n").length;
  const column = from - before.lastIndexOf("\n");
  return { from, to, code: d.code, message: d.message, line, column, rendered: renderDiagnostic(d) };
}

/** What `gradc compile model.grad -o model.mjs` writes: the ES module and its declarations. */
export function moduleFiles(text: string, filename: string): { js: string; dts: string } {
  const { text: js, model } = compileToSource(text, { filename, format: "esm", dtype: "f32", seed: 1 });
  return { js, dts: emitDeclarations(model.program, "f32", "esm") };
}
