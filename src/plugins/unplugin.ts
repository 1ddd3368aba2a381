// The one bundler plugin, on unplugin: esbuild (and tsup), Vite and Rollup are views of it.
// `import model from "./xor.grad"` loads the emitted ES module (with a source map from its
// kernels to the model's lines); `` grad`...` `` inline models become imports of their emitted
// modules. Model errors fail the build through the bundler's own error, at file:line:col.

import { readFile, writeFile } from "node:fs/promises";
import { dirname, isAbsolute, relative, resolve, sep } from "node:path";
import { createUnplugin, type UnpluginBuildContext, type UnpluginContext } from "unplugin";
import { emitDeclarations } from "../codegen";
import { lineColumn, type Span } from "../diagnostics";
import { compileToSource, GradcError } from "../index";
import { validateOptions } from "../options";
import { inlineQuery, mayHoldInlineModels, parseHost, transformInlineModels } from "./inline-transform";
import { mergeOptions, readPragmas, readQuery, splitQuery, type ModelOptions } from "./options";
import { composeMaps, kernelSourceMap, type SourceMap } from "./source-map";

export interface GradcPluginOptions extends ModelOptions {
  /** Replace `` grad`...` `` inline models at build time (default true). */
  inline?: boolean;
  /** Also write `model.grad.d.ts` beside each imported model when it compiles (default false). */
  dts?: boolean;
  /** Directory that file names in diagnostics and kernel comments are relative to
   *  (default: the working directory). */
  root?: string;
}

const gradFile = /\.grad$/;
const hostFile = /\.(?:[cm]?[jt]s|[jt]sx)$/;
const inlineHash = (id: string) => {
  const query = splitQuery(id)[1];
  return query.startsWith(inlineQuery) ? query.slice(inlineQuery.length) : undefined;
};
/** Query keys bundlers add on their own (Vite: `?import`, `?t=`, `?v=`). */
const bundlerQueryKeys = new Set(["import", "t", "v", "direct", "used"]);

type Context = UnpluginBuildContext & UnpluginContext;

/** What esbuild needs beyond unplugin's message to draw its own frame and notes. */
export interface EsbuildMeta {
  length: number;
  notes: { text: string; line: number; column: number; length: number }[];
}

export const gradcPlugin = createUnplugin<GradcPluginOptions | undefined>((options = {}) => {
  // `gradc({ sizez })` in a bundler config fails there, rather than compiling without it.
  validateOptions("plugin", options);
  const root = options.root ?? process.cwd();
  const base: ModelOptions = { sizes: options.sizes, dtype: options.dtype, seed: options.seed, target: options.target };
  const inlineModules = new Map<string, { code: string; map: SourceMap }>();
  const display = (file: string) => {
    const rel = relative(root, file);
    return (rel && !rel.startsWith("..") && !isAbsolute(rel) ? rel : file).split(sep).join("/");
  };

  /** A GradcError as the bundler's error (rollup throws; esbuild collects, so the hook
   *  still returns a result that carries it). */
  function report(ctx: Context, e: unknown, file: string): { code: string } {
    if (!(e instanceof GradcError)) throw e;
    const [, ...frame] = e.rendered.split("\n");
    const headline = e.errors[0]!;
    const extent = (s: Span) => {
      const lc = lineColumn(s.source.text, s.start);
      return { line: lc.line, column: lc.column - 1, length: Math.max(1, Math.min(s.end, lc.lineEnd) - s.start) };
    };
    // esbuild renders its own frame from `meta` (see esbuild.ts); rollup and Vite print `frame`.
    const meta: EsbuildMeta = {
      length: headline.span ? extent(headline.span).length : 0,
      // Labels and related locations ("first defined here", "in this call of `f`") alike.
      notes: [...(headline.labels ?? []), ...(headline.notes ?? [])]
        .flatMap((n) => (n.span && n.span.source === headline.span?.source ? [{ text: n.message, ...extent(n.span) }] : [])),
    };
    ctx.error({
      message: headline.hint ? `${headline.message} (hint: ${headline.hint})` : headline.message,
      id: file,
      loc: e.line > 0 ? { file, line: e.line, column: e.column - 1 } : undefined,
      frame: frame.join("\n"),
      meta,
    } as Parameters<Context["error"]>[0]);
    return { code: "" };
  }

  async function loadModel(ctx: Context, id: string) {
    const [file, query] = splitQuery(id);
    ctx.addWatchFile(file);
    const text = await readFile(file, "utf8");
    const name = display(file);
    try {
      const own = mergeOptions(base, readPragmas(text, name));
      const ours = new URLSearchParams(query);
      for (const key of [...ours.keys()]) if (bundlerQueryKeys.has(key)) ours.delete(key);
      const opts = mergeOptions(own, readQuery(ours.toString(), name));
      const { text: code, model } = compileToSource(text, { ...opts, filename: name, format: "esm" });
      if (options.dts) await writeIfChanged(`${file}.d.ts`, emitDeclarations(model.program, own.dtype ?? "f32", "esm"));
      return { code, map: kernelSourceMap(code, { filename: name, source: file, sourceContent: text, generated: query ? `${file}.${query.replace(/[^\w.=-]+/g, "_")}.js` : `${file}.js` }) };
    } catch (e) {
      return report(ctx, e, file);
    }
  }

  async function transformHost(ctx: Context, code: string, id: string) {
    const [file] = splitQuery(id);
    let ast = parseHost(code);
    let js = code;
    let stripped: SourceMap | undefined;
    if (!ast && /\.[cm]?ts$/.test(file)) {
      // esbuild hands plugins TypeScript: strip the types first, and chain the maps.
      const native = ctx.getNativeBuildContext?.();
      if (native?.framework === "esbuild") {
        const out = await native.build.esbuild.transform(code, { loader: "ts", sourcemap: "external", sourcefile: file });
        js = out.code;
        stripped = JSON.parse(out.map) as SourceMap;
        ast = parseHost(js);
      }
    }
    if (!ast) {
      if (/\bgrad\s*`/.test(code)) ctx.warn(`${display(file)}: cannot parse this file as JavaScript, so its grad\`...\` models compile at run time`);
      return undefined;
    }
    // Where earlier transforms (Vite's TypeScript step) changed the code, place models
    // by the combined map, so errors and kernel maps name the original lines.
    let prior = stripped;
    let original = stripped ? code : js;
    const chain = (ctx as { getCombinedSourcemap?: () => SourceMap | null }).getCombinedSourcemap;
    if (!prior && typeof chain === "function") {
      try {
        const m = chain.call(ctx);
        if (m?.mappings && m.sourcesContent?.[0] != null && m.sourcesContent[0] !== js) { prior = m; original = m.sourcesContent[0]; }
      } catch { /* no chain to follow */ }
    }
    try {
      const name = display(file);
      const result = transformInlineModels(ast, js, file, original, prior, name);
      if (!result) return undefined;
      for (const m of result.models) {
        const opts = mergeOptions(base, readPragmas(m.source, name));
        const { text } = compileToSource(m.source, { ...opts, filename: name, format: "esm" });
        inlineModules.set(m.hash, {
          code: text, map: kernelSourceMap(text, { filename: name, source: file, sourceContent: m.hostText, generated: `${file}.${m.hash}.js` }),
        });
      }
      if (result.keptImport) ctx.warn(`${name}: \`grad\` is used other than as a tag, so the gradc compiler stays in the bundle`);
      return { code: result.code, map: stripped ? composeMaps(result.map, stripped) : result.map };
    } catch (e) {
      return report(ctx, e, file);
    }
  }

  /** An inline model's module: compiled when its host was transformed, or now (a dev
   *  server asked for it first, after a restart) from the host file as it is. */
  async function loadInline(ctx: Context, id: string, hash: string) {
    if (!inlineModules.has(hash)) {
      const host = splitQuery(id)[0];
      const code = await readFile(host, "utf8").catch(() => undefined);
      if (code !== undefined && mayHoldInlineModels(code)) await transformHost(ctx, code, host);
    }
    const module = inlineModules.get(hash);
    if (!module) ctx.error(`gradc: ${display(splitQuery(id)[0])} holds no such inline model (${hash}); was the file changed?`);
    return module ?? { code: "" };
  }

  /** `.grad` files and inline models, with their queries (Rollup drops queries). */
  function resolveId(source: string, importer: string | undefined) {
    const [path, query] = splitQuery(source);
    if (!(gradFile.test(path) || query.startsWith(inlineQuery)) || !(path.startsWith(".") || isAbsolute(path))) return null;
    const file = resolve(importer && !importer.startsWith("\0") ? dirname(splitQuery(importer)[0]) : root, path);
    return query ? `${file}?${query}` : file;
  }

  return {
    name: "gradc",
    loadInclude: (id) => gradFile.test(splitQuery(id)[0]) || inlineHash(id) !== undefined,
    load(id) {
      const hash = inlineHash(id);
      if (hash !== undefined) return loadInline(this, id, hash);
      return loadModel(this, id);
    },
    transformInclude: (id) => options.inline !== false && !id.startsWith("\0") && inlineHash(id) === undefined &&
      hostFile.test(splitQuery(id)[0]) && !id.includes("/node_modules/gradc/"),
    transform(code, id) {
      if (!mayHoldInlineModels(code)) return undefined;
      return transformHost(this, code, id);
    },
    // esbuild and Vite resolve `./xor.grad?dtype=f64` themselves (esbuild keeps the query
    // as a suffix, in its file namespace, so bundles name files relative to the project).
    rollup: { resolveId },
    esbuild: { onLoadFilter: /\.grad$|\.(?:[cm]?[jt]s|[jt]sx)$/ },
  };
});

async function writeIfChanged(file: string, text: string): Promise<void> {
  const old = await readFile(file, "utf8").catch(() => undefined);
  if (old !== text) await writeFile(file, text);
}
