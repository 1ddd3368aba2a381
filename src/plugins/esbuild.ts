// `gradc/esbuild`: the gradc plugin for esbuild (and tsup, through `esbuildPlugins`).
// unplugin passes esbuild a file, line and column only; this wrapper adds the source line,
// the span's length and the diagnostic's labels as notes, so esbuild draws its own frame.

import { readFileSync } from "node:fs";
import type { Message, OnLoadResult, PartialMessage, Plugin, PluginBuild } from "esbuild";
import { gradcPlugin, type EsbuildMeta, type GradcPluginOptions } from "./unplugin";

export type { GradcPluginOptions } from "./unplugin";

export function gradc(options?: GradcPluginOptions): Plugin {
  const inner = gradcPlugin.esbuild(options);
  return {
    name: inner.name,
    setup(build) {
      const onLoad: PluginBuild["onLoad"] = (filter, callback) =>
        build.onLoad(filter, async (args) => withFrames(await callback(args)));
      return inner.setup({ ...build, onLoad });
    },
  };
}

export default gradc;

function withFrames(result: OnLoadResult | null | undefined): OnLoadResult | null | undefined {
  if (!result?.errors?.length) return result;
  return { ...result, errors: result.errors.map(withFrame) };
}

function withFrame(message: PartialMessage): PartialMessage {
  const meta = message.detail as EsbuildMeta | undefined;
  const location = message.location;
  if (!location?.file || !meta || !Array.isArray(meta.notes)) return message;
  let lines: string[] = [];
  try {
    lines = readFileSync(location.file, "utf8").split(/\r?\n/);
  } catch { /* a file we cannot read keeps a bare location */ }
  const at = (line: number, column: number, length: number): Partial<Message["location"]> & object =>
    ({ file: location.file!, line, column, length, lineText: lines[line - 1] ?? "" });
  return {
    ...message,
    detail: undefined,
    location: at(location.line!, location.column!, meta.length),
    notes: [...meta.notes.map((n) => ({ text: n.text, location: at(n.line, n.column, n.length) })), ...(message.notes ?? [])],
  };
}
