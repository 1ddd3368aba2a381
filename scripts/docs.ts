// The language reference, generated: docs/language.md is scripts/language.template.md with
// each `<!-- builtins: GROUP -->` marker replaced by the table of that group's built-ins,
// read from the records' `doc` (src/lower/builtins.ts) and from the structured comments
// above each prelude `fn` (src/syntax/prelude.ts), and each ```gradc error example followed
// by the error gradc reports for it. `npm run docs` writes the file; test/docs/language.test.ts
// fails when it is stale or when a built-in has no doc.

import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { check, GradcError } from "../src/index";
import { builtins, type BuiltinDoc } from "../src/lower/builtins";
import { parse, preludeFile, preludeSource } from "../src/syntax";

export const templatePath = "scripts/language.template.md";
export const outputPath = "docs/language.md";
/** The repository root, so the script and the test work from any directory. */
export const root = dirname(dirname(fileURLToPath(import.meta.url)));

/** The six fields of a doc, in table order; the prelude's comment keys are these names. */
export const docKeys = ["group", "signature", "summary", "shape", "grad", "counterpart"] as const;

/** One built-in as the reference sees it: where it is defined, its doc, what is wrong. */
export interface BuiltinEntry {
  name: string;
  /** A record of the `builtins` table (src/lower/builtins.ts and the files it spreads in),
   *  or a `fn` of the prelude. */
  origin: "record" | "prelude";
  /** Parameter names in order, and how many are required (the rest have defaults). */
  params: readonly string[];
  required: number;
  doc?: Partial<BuiltinDoc>;
  /** Lines of a prelude doc comment that could not be read. */
  errors: string[];
}

/** Every built-in: the records first, in declaration order, then the prelude functions. */
export function collectBuiltins(prelude: string = preludeSource): BuiltinEntry[] {
  const entries: BuiltinEntry[] = Object.entries(builtins).map(([name, b]) => ({
    name, origin: "record", params: b.params, required: b.required, errors: [], ...(b.doc ? { doc: b.doc } : {}),
  }));
  const docs = preludeDocs(prelude);
  for (const s of parse({ file: preludeFile, text: prelude }).statements) {
    if (s.kind !== "fn") continue;
    const params = s.params.map((p) => p.name);
    const found = docs.get(s.name.name);
    const doc = found && Object.keys(found.doc).length > 0 ? { doc: found.doc } : {};
    const required = s.defaults ? s.defaults.findIndex((d) => d !== undefined) : params.length;
    entries.push({ name: s.name.name, origin: "prelude", params, required, errors: found?.errors ?? [], ...doc });
  }
  return entries;
}

/**
 * The doc comments of the prelude: the run of `#` lines directly above a `fn` line.
 * In that run, `# key: value` (one space after `#`, key one of `docKeys`) starts a field,
 * a line indented further (`#   more words`) continues it, and plain `# text` lines before
 * the first key are ordinary comments. Anything else is kept as an `error` entry.
 */
export function preludeDocs(prelude: string): Map<string, { doc: Partial<BuiltinDoc>; errors: string[] }> {
  const lines = prelude.split("\n");
  const out = new Map<string, { doc: Partial<BuiltinDoc>; errors: string[] }>();
  lines.forEach((line, i) => {
    const fn = /^fn\s+([A-Za-z_][A-Za-z0-9_]*)/.exec(line);
    if (!fn) return;
    let start = i;
    while (start > 0 && lines[start - 1]!.startsWith("#")) start--;
    const doc: Partial<BuiltinDoc> = {};
    const errors: string[] = [];
    let current: (typeof docKeys)[number] | undefined;
    for (const comment of lines.slice(start, i)) {
      const field = /^# ([a-z_]+): (.*)$/.exec(comment);
      const continued = /^#\s{2,}(\S.*)$/.exec(comment);
      if (field && (docKeys as readonly string[]).includes(field[1]!)) {
        current = field[1] as (typeof docKeys)[number];
        doc[current] = field[2]!.trim();
      } else if (continued && current) {
        doc[current] = `${doc[current]} ${continued[1]!.trim()}`;
      } else if (current || field) {
        errors.push(`cannot read the doc line \`${comment}\` (write \`# key: value\` with a key among ${docKeys.join(", ")}, or indent a continuation)`);
      }
    }
    out.set(fn[1]!, { doc, errors });
  });
  return out;
}

/** The template's table markers, in order: group id and the heading above the marker. */
export function templateGroups(template: string): { group: string; title: string }[] {
  const groups: { group: string; title: string }[] = [];
  let title = "";
  for (const line of template.split("\n")) {
    const heading = /^#{2,4} (.+)$/.exec(line);
    if (heading) title = heading[1]!.trim();
    const marker = /^<!-- builtins: ([a-z_]+) -->$/.exec(line.trim());
    if (marker && marker[1] !== "index") groups.push({ group: marker[1]!, title });
  }
  return groups;
}

/** What is wrong with each built-in's doc, as one line per built-in (empty when none). */
export function docProblems(entries: BuiltinEntry[], template: string): string[] {
  const groups = new Set(templateGroups(template).map((g) => g.group));
  const problems: string[] = [];
  for (const e of entries) {
    const where = e.origin === "prelude"
      ? "add `# key: value` comment lines above its `fn` in src/syntax/prelude.ts"
      : "add `doc: { group, signature, summary, shape, grad, counterpart }` to its record (src/lower/builtins.ts or the file it comes from)";
    if (!e.doc && e.errors.length === 0) {
      problems.push(`\`${e.name}\` has no doc: ${where}`);
      continue;
    }
    const doc = e.doc ?? {};
    const issues: string[] = [...e.errors];
    const missing = docKeys.filter((k) => !doc[k]?.trim());
    if (missing.length > 0) issues.push(`missing ${missing.join(", ")}`);
    if (doc.group && !groups.has(doc.group)) {
      issues.push(`group \`${doc.group}\` has no \`<!-- builtins: ${doc.group} -->\` table in ${templatePath} (groups: ${[...groups].join(", ")})`);
    }
    if (doc.signature) issues.push(...signatureProblems(e, doc.signature));
    const from = e.origin === "prelude" ? "src/syntax/prelude.ts" : "its record";
    if (issues.length > 0) problems.push(`\`${e.name}\` (${from}): ${issues.join("; ")}`);
  }
  return problems;
}

/**
 * The signature must name the built-in, and every `name = default` it shows must be a
 * parameter (the keywords users type). Unless it elides with `...` (`stack([a, b, ...])`,
 * `einsum(subscripts, x1, x2, ...)`), it lists the parameters in order (one that takes a
 * list may be shown in brackets, `zeros([shape])`) with a default exactly for the optional
 * ones. A built-in called in several ways lists them joined by " or ", the last naming
 * every parameter: `arange(stop) or arange(start, stop, step = 1)`.
 */
function signatureProblems(e: BuiltinEntry, signature: string): string[] {
  const forms = signature.split(" or ");
  const usage = `\`${e.name}(${e.params.map((p, i) => (i < e.required ? p : `${p} = default`)).join(", ")})\``;
  const parsed: string[][] = [];
  for (const form of forms) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)\((.*)\)$/.exec(form.trim());
    if (!m) return [`signature \`${signature}\` is not of the form ${usage}`];
    if (m[1] !== e.name) return [`signature \`${signature}\` names \`${m[1]}\`, not \`${e.name}\``];
    parsed.push(splitTopLevel(m[2]!));
  }
  const paramName = (part: string) => part.split("=")[0]!.trim().replace(/^\[(.*)\]$/, "$1");
  const keywords = parsed.flat().filter((p) => /^[A-Za-z_][A-Za-z0-9_]*\s*=/.test(p)).map(paramName);
  const unknown = keywords.filter((k) => !e.params.includes(k));
  if (unknown.length > 0) {
    return [`signature \`${signature}\` shows ${unknown.map((k) => `\`${k} =\``).join(", ")}, but the parameters are (${e.params.join(", ")})`];
  }
  if (signature.includes("...")) return [];
  const last = parsed[parsed.length - 1]!;
  const names = last.map(paramName);
  if (names.join(",") !== e.params.join(",")) {
    return [`signature \`${signature}\` lists (${names.join(", ")}) but the parameters are (${e.params.join(", ")}): write ${usage}`];
  }
  const stray = parsed.flat().map(paramName).filter((n) => !e.params.includes(n));
  if (stray.length > 0) return [`signature \`${signature}\` shows ${stray.join(", ")}, which ${stray.length === 1 ? "is not a parameter" : "are not parameters"}`];
  if (forms.length > 1) return [];
  const wrong = last.filter((p, i) => p.includes("=") !== i >= e.required).map(paramName);
  return wrong.length === 0 ? [] : [`signature \`${signature}\`: give a default exactly for the optional parameters (check ${wrong.join(", ")}): write ${usage}`];
}

function splitTopLevel(text: string): string[] {
  if (text.trim() === "") return [];
  const parts: string[] = [];
  let depth = 0, begin = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "(" || c === "[" || c === "{") depth++;
    else if (c === ")" || c === "]" || c === "}") depth--;
    else if (c === "," && depth === 0) {
      parts.push(text.slice(begin, i));
      begin = i + 1;
    }
  }
  parts.push(text.slice(begin));
  return parts.map((p) => p.trim());
}

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens. */
export function anchor(title: string): string {
  return title.toLowerCase().replace(/[^a-z0-9 _-]/g, "").replace(/ /g, "-");
}

function cell(text: string | undefined): string {
  return (text ?? "").replace(/\|/g, "\\|").replace(/\n/g, " ");
}

function renderTable(entries: BuiltinEntry[]): string {
  if (entries.length === 0) return "_No built-ins in this group yet._";
  const rows = entries.map((e) => {
    const d = e.doc!;
    return `| \`${cell(d.signature)}\` | ${cell(d.summary)} | ${cell(d.shape)} | ${cell(d.grad)} | ${cell(d.counterpart)} |`;
  });
  return ["| call | computes | result shape | derivative | NumPy / PyTorch |", "|---|---|---|---|---|", ...rows].join("\n");
}

function renderIndex(entries: BuiltinEntry[], template: string): string {
  return templateGroups(template).map(({ group, title }) => {
    const names = entries.filter((e) => e.doc?.group === group).map((e) => `\`${e.name}\``);
    return `- [${title}](#${anchor(title)}): ${names.length > 0 ? names.join(", ") : "none yet"}`;
  }).join("\n");
}

export const generatedNote =
  "<!-- Generated by `npm run docs` from scripts/language.template.md and the built-ins' docs\n" +
  "     (the records of src/lower/, the prelude's comments). Edit those, not this file. -->\n";

/** The file name the error examples are compiled under. */
export const exampleFile = "model.grad";

/** The error gradc reports for an example that must fail, as rendered (file model.grad). */
export function renderedError(program: string): string {
  try {
    check(program, { filename: exampleFile });
  } catch (e) {
    if (e instanceof GradcError) return e.rendered;
    throw e;
  }
  throw new Error(`${templatePath}: this \`\`\`gradc error example compiles without an error:\n${program}`);
}

/** docs/language.md: the template with every marker replaced, and a ```text block with
 *  the rendered error after each ```gradc error block. Built-ins without a doc are left
 *  out (docProblems names them). */
export function renderLanguageDoc(template: string, entries: BuiltinEntry[] = collectBuiltins()): string {
  const documented = entries.filter((e) => e.doc?.group && e.doc.signature);
  const out: string[] = [];
  const lines = template.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const marker = /^<!-- builtins: ([a-z_]+) -->$/.exec(line.trim());
    if (marker) {
      out.push(marker[1] === "index" ? renderIndex(documented, template) : renderTable(documented.filter((e) => e.doc!.group === marker[1])));
    } else if (line === "```gradc error") {
      const end = lines.indexOf("```", i + 1);
      if (end < 0) throw new Error(`${templatePath}:${i + 1}: the \`\`\`gradc error block is not closed`);
      out.push(...lines.slice(i, end + 1), "", "```text", renderedError(lines.slice(i + 1, end).join("\n") + "\n"), "```");
      i = end;
    } else {
      out.push(line);
    }
  }
  return generatedNote + out.join("\n");
}

function main(): void {
  const template = readFileSync(join(root, templatePath), "utf8");
  const entries = collectBuiltins();
  writeFileSync(join(root, outputPath), renderLanguageDoc(template, entries));
  const problems = docProblems(entries, template);
  if (problems.length > 0) {
    console.error(`wrote ${outputPath}, but ${problems.length === 1 ? "1 built-in needs" : `${problems.length} built-ins need`} a doc:\n  ${problems.join("\n  ")}`);
    process.exitCode = 1;
  } else {
    console.log(`wrote ${outputPath} (${entries.length} built-ins)`);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) main();
