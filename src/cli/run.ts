// The gradc command (see main.ts for the entry point): argument handling and output only; every verb is a few lines over
// the library API. User errors (file-system problems included) print the rendered
// diagnostic and exit 1, never a stack; only a compiler bug exits 2, with where to report it.

import { basename, dirname, extname, join, resolve } from "node:path";
import { buildModel, check, compileToSource, derivative, formatGradcheck, gradcheck, GradcError, type CompileOptions } from "../index";
import { emitDeclarations } from "../codegen";
import { fail, issueTracker } from "../diagnostics";
import { readText, writeText } from "./files";
import { lowerSource, trainable } from "../lower";
import { printDefinitions, printDot } from "../print";
import { mergeOptions, readPragmas } from "../plugins/options";
import { modelStats, formatStats } from "./stats";
import { version } from "./version";

const usage = `gradc ${version}: a symbolic differentiation compiler to JavaScript

usage:
  gradc compile model.grad [-o model.mjs] [--size n=64] [--dtype f32|f64] [--format esm|cjs] [--seed 1] [--stats]
                         [--target js|wasm]   wasm: SIMD128 kernels (docs/wasm.md; not yet whole models)
                                              -o also writes the declarations beside the module:
                                              model.d.mts for .mjs, model.d.cts for .cjs, model.d.ts for .js
  gradc grad model.grad [--size n=64]        print the simplified gradient program
  gradc diff "<expr>" --wrt x                 print d(expr)/dx
  gradc graph model.grad [--grad] [--size n=64]
                                              print the graph as Graphviz DOT
  gradc check model.grad [--size n=64]        report errors only
  gradc gradcheck model.grad [--size n=64] [--dim n=3] [--seed 1] [--points 3] [--tolerance 1e-6]
                                              compare the gradient with finite differences (f64)
  gradc types model.grad... [--dtype f32|f64] [--size n=64]
                                              write model.grad.d.ts beside each model
  gradc --help | --version
`;

class UsageError extends Error {}

interface Args {
  verb: string;
  positional: string[];
  flags: Map<string, string[]>;
}

const valueFlags = new Set(["-o", "--out", "--size", "--dtype", "--format", "--seed", "--target", "--wrt", "--dim", "--points", "--tolerance"]);
const booleanFlags = new Set(["--grad", "--stats", "--help", "-h", "--version", "-v"]);

function parseArgs(argv: string[]): Args {
  const positional: string[] = [];
  const flags = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i]!;
    // `--` ends the options; after it everything is an argument: `gradc diff --wrt x -- -x`
    // ("-x^2" needs no `--`: it does not have an option's shape).
    if (a === "--") { positional.push(...argv.slice(i + 1)); break; }
    let value: string | undefined;
    const eq = a.indexOf("=");
    if (a.startsWith("--") && eq > 0) { value = a.slice(eq + 1); a = a.slice(0, eq); }
    if (valueFlags.has(a)) {
      if (value === undefined) {
        value = argv[++i];
        if (value === undefined) throw new UsageError(`${a} needs a value`);
      }
      const list = flags.get(a) ?? [];
      list.push(value);
      flags.set(a, list);
    } else if (booleanFlags.has(a)) {
      flags.set(a, []);
    } else if (/^--?[A-Za-z][A-Za-z0-9-]*$/.test(a)) {
      // Only what looks like an option is one: "-x^2" and "-(a + b)" are expressions.
      throw new UsageError(`unknown option ${a}${a.length === 2 ? ` (an expression? put it after --: gradc diff --wrt x -- ${a})` : ""}`);
    } else {
      positional.push(a);
    }
  }
  return { verb: positional.shift() ?? "", positional, flags };
}

function one(args: Args, flag: string): string | undefined {
  const v = args.flags.get(flag);
  return v ? v[v.length - 1] : undefined;
}

function sizes(args: Args, flag = "--size"): Record<string, number> | undefined {
  const list = args.flags.get(flag);
  if (!list) return undefined;
  const out: Record<string, number> = {};
  for (const item of list) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(item);
    if (!m) throw new UsageError(`${flag} takes name=value, like ${flag} n=64; got ${JSON.stringify(item)}`);
    const v = Number(m[2]);
    // A value that is not a number goes through as text, so the error (at the `dim`) shows it.
    const value = Number.isFinite(v) && m[2]!.trim() !== "" ? v : m[2]!;
    Object.defineProperty(out, m[1]!, { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function readModel(args: Args): { text: string; filename: string } {
  const file = args.positional[0];
  if (!file) throw new UsageError(`gradc ${args.verb} needs a model file`);
  return { text: readText(file), filename: file };
}

function compileOptions(args: Args, filename: string): CompileOptions {
  const dtype = one(args, "--dtype") ?? "f32";
  if (dtype !== "f32" && dtype !== "f64") throw new UsageError(`--dtype must be f32 or f64, got ${dtype}`);
  const seedText = one(args, "--seed");
  const seed = seedText === undefined ? 1 : Number(seedText);
  if (!Number.isInteger(seed)) throw new UsageError(`--seed must be an integer, got ${seedText}`);
  return { filename, sizes: sizes(args), dtype, seed };
}

export function run(argv: string[], out: (s: string) => void, err: (s: string) => void): number {
  try {
    const args = parseArgs(argv);
    if (args.flags.has("--version") || args.flags.has("-v")) { out(`${version}\n`); return 0; }
    if (args.flags.has("--help") || args.flags.has("-h") || args.verb === "help") { out(usage); return 0; }
    checkVerbArguments(args);
    switch (args.verb) {
      case "compile": {
        const { text, filename } = readModel(args);
        const options = compileOptions(args, filename);
        const target = one(args, "-o") ?? one(args, "--out");
        if (target === "") throw new UsageError("-o needs a file name, like -o model.mjs");
        const formatFlag = one(args, "--format");
        if (formatFlag !== undefined && formatFlag !== "esm" && formatFlag !== "cjs") throw new UsageError(`--format must be esm or cjs, got ${formatFlag}`);
        const format = (formatFlag ?? (target?.endsWith(".cjs") ? "cjs" : "esm")) as "esm" | "cjs";
        if (target !== undefined) checkTarget(target, filename, format);
        const targetFlag = one(args, "--target");
        if (targetFlag !== undefined && targetFlag !== "js" && targetFlag !== "wasm") throw new UsageError(`--target must be js or wasm, got ${targetFlag}`);
        const { text: js, model } = compileToSource(text, { ...options, format, target: targetFlag as "js" | "wasm" | undefined });
        if (args.flags.has("--stats")) err(formatStats(modelStats(model, options.dtype ?? "f32")));
        if (!target) { out(js); return 0; }
        writeText(target, js);
        writeText(declarationPath(target), emitDeclarations(model.program, options.dtype ?? "f32", format));
        return 0;
      }
      case "grad": {
        const { text, filename } = readModel(args);
        const program = lowerSource(text, { filename, sizes: sizes(args) });
        const model = buildModel(program);
        if (!model.grads) throw new GradcError([{ code: "E0406", message: "this program has no `minimize`, so it has no gradient" }]);
        out(printDefinitions(trainable(program.params).map((p, i) => ({ name: `d_${p.name}`, node: model.grads![i]! }))));
        return 0;
      }
      case "diff": {
        const expr = args.positional[0];
        const wrt = one(args, "--wrt");
        if (expr === undefined || wrt === undefined) throw new UsageError(`usage: gradc diff "<expr>" --wrt x`);
        out(`${derivative(expr, wrt)}\n`);
        return 0;
      }
      case "graph": {
        const { text, filename } = readModel(args);
        const program = lowerSource(text, { filename, sizes: sizes(args) });
        const model = buildModel(program);
        const forward = [
          ...program.outputs.map((o, i) => ({ name: o.name, node: model.outputs[i]! })),
          ...(model.objective ? [{ name: program.objective!.name ?? "objective", node: model.objective }] : []),
        ];
        const grads = args.flags.has("--grad") && model.grads
          ? trainable(program.params).map((p, i) => ({ name: `d_${p.name}`, node: model.grads![i]! }))
          : undefined;
        out(printDot(forward, grads));
        return 0;
      }
      case "check": {
        const { text, filename } = readModel(args);
        check(text, { filename, sizes: sizes(args) });
        return 0;
      }
      case "gradcheck": {
        // Exit 1 when a param's gradient is off by more than the tolerance.
        const { text, filename } = readModel(args);
        const options = compileOptions(args, filename);
        const number = (flag: string) => {
          const v = one(args, flag);
          if (v === undefined) return undefined;
          const n = Number(v);
          if (v.trim() === "" || !Number.isFinite(n)) throw new UsageError(`${flag} must be a number, got ${v}`);
          return n;
        };
        if (args.flags.has("--dtype")) throw new UsageError("gradcheck always compiles the model in f64; --dtype does not apply");
        const { dtype: _f64, ...compiled } = options;
        const result = gradcheck(text, { ...compiled, dims: sizes(args, "--dim"), points: number("--points"), tolerance: number("--tolerance") });
        out(formatGradcheck(result, filename));
        return result.ok ? 0 : 1;
      }
      case "types": {
        // Beside each model, its `.d.ts` for `import model from "./model.grad"`; the
        // model's own pragma (`# gradc: dtype=f64`) applies, flags win over it.
        if (args.positional.length === 0) throw new UsageError("gradc types needs a model file");
        const dtypeFlag = one(args, "--dtype");
        if (dtypeFlag !== undefined && dtypeFlag !== "f32" && dtypeFlag !== "f64") throw new UsageError(`--dtype must be f32 or f64, got ${dtypeFlag}`);
        for (const file of args.positional) {
          const { text, filename } = readModel({ ...args, positional: [file] });
          const options = mergeOptions(readPragmas(text, filename), { sizes: sizes(args), dtype: dtypeFlag as "f32" | "f64" | undefined });
          const program = lowerSource(text, { filename, sizes: options.sizes });
          writeText(`${file}.d.ts`, emitDeclarations(program, options.dtype ?? "f32", "esm"));
        }
        return 0;
      }
      case "":
        out(usage);
        return 1;
      default:
        throw new UsageError(`unknown command ${JSON.stringify(args.verb)}; try gradc --help`);
    }
  } catch (e) {
    if (e instanceof GradcError) { err(`${e.rendered}\n`); return 1; }
    if (e instanceof UsageError) { err(`gradc: ${e.message}\n`); return 1; }
    // A compiler bug. InternalError's message already says where to report it; anything
    // else gets the same line, and its stack, which is what the report needs.
    const message = e instanceof Error ? e.message : String(e);
    if (message.startsWith("internal compiler error")) { err(`gradc: ${message}\n`); return 2; }
    const stack = e instanceof Error && e.stack ? `\n${e.stack}` : "";
    err(`gradc: internal compiler error: ${message}\nplease report this at ${issueTracker} with the model and this output (gradc ${version})${stack}\n`);
    return 2;
  }
}

/** What each verb takes: its options, and at most how many positional arguments. An option or
 *  argument a verb would ignore is an error, so `gradc check a.grad b.grad` cannot
 *  quietly check only a.grad. */
const verbs: Record<string, { flags: string[]; most: number }> = {
  compile: { flags: ["-o", "--out", "--size", "--dtype", "--format", "--seed", "--target", "--stats"], most: 1 },
  grad: { flags: ["--size"], most: 1 },
  diff: { flags: ["--wrt"], most: 1 },
  graph: { flags: ["--grad", "--size"], most: 1 },
  check: { flags: ["--size"], most: 1 },
  // --dtype gets its own message there: gradcheck is always f64
  gradcheck: { flags: ["--size", "--dim", "--seed", "--points", "--tolerance", "--dtype"], most: 1 },
  types: { flags: ["--dtype", "--size"], most: Infinity },
};

function checkVerbArguments(args: Args): void {
  const spec = verbs[args.verb];
  if (!spec) return;
  for (const flag of args.flags.keys()) {
    if (!spec.flags.includes(flag)) {
      const takes = spec.flags.filter((f) => f !== "--out" && !(args.verb === "gradcheck" && f === "--dtype"));
      throw new UsageError(`gradc ${args.verb} does not take ${flag}${takes.length > 0 ? ` (its options: ${takes.join(", ")})` : ""}`);
    }
  }
  if (args.positional.length > spec.most) {
    const what = args.verb === "diff" ? "one expression (quote it)" : "one model file";
    throw new UsageError(`gradc ${args.verb} takes ${what}, but got ${args.positional.length}: ${args.positional.join(" ")}`);
  }
}

/** A module name and format that agree, and that do not replace the model file. */
function checkTarget(target: string, model: string, format: "esm" | "cjs"): void {
  if (resolve(target) === resolve(model)) fail("E0504", undefined, target);
  // Node decides by the extension: a .mjs file is always ESM, a .cjs file always CommonJS.
  if (target.endsWith(".mjs") && format === "cjs") throw new UsageError(`${target} is loaded as an ES module; use --format esm, or name it .cjs`);
  if (target.endsWith(".cjs") && format === "esm") throw new UsageError(`${target} is loaded as CommonJS; use --format cjs, or name it .mjs`);
}

/** The one declaration file TypeScript looks for beside the module: m.mjs -> m.d.mts,
 *  m.cjs -> m.d.cts, m.js (or no extension) -> m.d.ts, m.ext -> m.d.ext.ts (TypeScript's
 *  allowArbitraryExtensions). Each module has its own, so compiling m.cjs next to m.mjs
 *  leaves m.mjs's declarations alone. */
export function declarationPath(target: string): string {
  const ext = extname(target);
  const base = basename(target, ext);
  const dir = dirname(target);
  if (ext === ".mjs") return join(dir, `${base}.d.mts`);
  if (ext === ".cjs") return join(dir, `${base}.d.cts`);
  if (ext === ".js" || ext === "") return join(dir, `${base}.d.ts`);
  return join(dir, `${base}.d${ext}.ts`);
}
