// Build-time inline models: find each `` grad`...` `` whose tag is the `grad` imported from
// "gradc" (acorn), replace it with an import of the emitted code (the host itself, queried),
// and drop the `grad` import (regenerated with astring), so the bundle has no compiler.
// The edit keeps the host's lines and returns a source map (magic-string); each model is
// compiled padded to its place in the host file, so its errors, kernel comments and source
// map name host lines directly.

import { createHash } from "node:crypto";
import { basename } from "node:path";
import { parse, type Node as AcornNode, type Options as AcornOptions } from "acorn";
import { generate } from "astring";
import MagicString from "magic-string";
import { fail, span } from "../diagnostics";
import { originalPosition, type SourceMap } from "./source-map";

/** An inline model is imported from its own host file with this query, so it is a module
 *  with a real path: bundlers keep its source map (Rollup and Vite drop those of `\0`
 *  ids) and print it relative to the project. */
export const inlineQuery = "gradc-inline=";

export interface InlineModel {
  /** The import specifier that replaces the tag (`./main.js?gradc-inline=<hash>`). */
  specifier: string;
  hash: string;
  /** The model text, padded with blank lines and spaces to its place in `hostText`. */
  source: string;
  /** The host file (absolute) and its original text, for the model's source map. */
  hostId: string;
  hostText: string;
}

export interface InlineTransform {
  code: string;
  map: SourceMap;
  models: InlineModel[];
  /** Uses of `grad` other than as a tag: the import stays, and so does the compiler. */
  keptImport: boolean;
}

type Any = AcornNode & Record<string, any>;

/** Cheap test before parsing. */
export function mayHoldInlineModels(code: string): boolean {
  return code.includes("gradc") && /\bgrad\b/.test(code);
}

/** Parse JS with acorn; undefined when it is not plain JS (TypeScript, JSX). */
export function parseHost(code: string): Any | undefined {
  const options: AcornOptions = { ecmaVersion: "latest", sourceType: "module", allowHashBang: true, allowAwaitOutsideFunction: true, allowReturnOutsideFunction: true };
  try {
    return parse(code, options) as Any;
  } catch {
    return undefined;
  }
}

/**
 * Rewrite the inline models of one host module. `code` is what the bundler passes;
 * `prior` maps it to the original file (`originalText`) when an earlier step (TypeScript
 * stripping) changed it; `hostName` (the file relative to the project) names the models.
 * Returns undefined when there is nothing to do.
 */
export function transformInlineModels(ast: Any, code: string, hostId: string, originalText = code, prior?: SourceMap, hostName = hostId): InlineTransform | undefined {
  const locals = new Set<string>();
  const imports: Any[] = [];
  for (const statement of ast.body as Any[]) {
    if (statement.type !== "ImportDeclaration" || statement.source.value !== "gradc") continue;
    for (const s of statement.specifiers as Any[]) {
      if (s.type === "ImportSpecifier" && (s.imported.name ?? s.imported.value) === "grad") {
        locals.add(s.local.name);
        imports.push(statement);
      }
    }
  }
  if (locals.size === 0) return undefined;

  const tags: Any[] = [];
  let otherUses = 0;
  walk(ast, undefined, undefined, (node, parent, key) => {
    if (node.type === "TaggedTemplateExpression" && node.tag.type === "Identifier" && locals.has(node.tag.name)) {
      tags.push(node);
      return false; // the tag identifier is not another use; its template may still nest tags
    }
    if (node.type === "Identifier" && locals.has(node.name) && isReference(parent, key)) otherUses++;
    return true;
  });
  if (tags.length === 0 && otherUses === 0) return undefined;

  const s = new MagicString(code);
  const hostSource = { file: hostId, text: originalText };
  const byText = new Map<string, InlineModel>();
  const models: InlineModel[] = [];
  const bindings: string[] = [];
  const taken = new Set(code.match(/__gradc_model_\w*/g) ?? []);
  const locate = (offset: number) => {
    const at = lineColumn(code, offset);
    if (!prior) return at;
    const original = originalPosition(prior, at.line, at.column);
    return original ? { line: original.line, column: original.column } : at;
  };
  // A tag nested in another's ${...} makes the outer one non-static, so it is reported
  // before any two edits could overlap.
  for (const tag of tags) {
    const quasi = tag.quasi as Any;
    for (const e of quasi.expressions as Any[]) {
      if (!isStatic(e)) {
        const at = locate(e.start);
        const offset = offsetOf(originalText, at.line, at.column);
        fail("E0304", span(hostSource, offset, offset + Math.max(1, e.end - e.start)),
          "an inline grad`...` model compiles at build time, so its ${...} values must be literals");
      }
    }
    let text = "";
    (quasi.quasis as Any[]).forEach((q, i) => {
      text += q.value.cooked ?? q.value.raw;
      const e = (quasi.expressions as Any[])[i];
      if (e) text += String(staticValue(e));
    });
    let model = byText.get(text);
    if (!model) {
      const start = locate((quasi.quasis as Any[])[0]!.start);
      const source = "\n".repeat(start.line) + " ".repeat(start.column) + text;
      // Named by the host's display name, not its absolute path: bundles stay byte-identical
      // wherever the project is checked out.
      const hash = createHash("sha256").update(hostName).update("\0").update(text).digest("hex").slice(0, 16);
      model = { specifier: `./${basename(hostId)}?${inlineQuery}${hash}`, hash, source, hostId, hostText: originalText };
      byText.set(text, model);
      models.push(model);
      let name = `__gradc_model_${models.length - 1}`;
      while (taken.has(name)) name = `_${name}`;
      bindings.push(name);
    }
    // The binding, then the template's line breaks (whitespace inside the expression), so
    // every later line of the host stays where it was.
    const breaks = code.slice(tag.start, tag.end).match(/\r?\n/g)?.join("") ?? "";
    s.overwrite(tag.start, tag.end, bindings[models.indexOf(model)]! + breaks);
  }

  // The `gradc` import: drop `grad` unless something else uses it, and import the models
  // on the same line, so the host keeps its line numbers.
  const keptImport = otherUses > 0;
  const injected = models.map((m, i) => `import ${bindings[i]} from ${JSON.stringify(m.specifier)};`).join(" ");
  [...new Set(imports)].forEach((declaration, i) => {
    const rest = keptImport ? declaration.specifiers : (declaration.specifiers as Any[]).filter((sp) => !(sp.type === "ImportSpecifier" && (sp.imported.name ?? sp.imported.value) === "grad"));
    const kept = rest.length > 0 ? generate({ ...declaration, specifiers: rest } as never).trim() : "";
    s.overwrite(declaration.start, declaration.end, [kept, i === 0 ? injected : ""].filter(Boolean).join(" ") || ";");
  });
  const map = s.generateMap({ hires: true, source: hostId, includeContent: true });
  return {
    code: s.toString(),
    map: { version: 3, sources: map.sources, sourcesContent: map.sourcesContent as string[], names: map.names, mappings: map.mappings },
    models,
    keptImport,
  };
}

/** Visit every node; `visit` returns false to skip a node's children. */
function walk(node: Any, parent: Any | undefined, key: string | undefined, visit: (node: Any, parent: Any | undefined, key: string | undefined) => boolean): void {
  if (!visit(node, parent, key)) {
    if (node.type === "TaggedTemplateExpression") walk(node.quasi, node, "quasi", visit);
    return;
  }
  for (const k of Object.keys(node)) {
    const child = (node as Any)[k];
    if (Array.isArray(child)) {
      for (const c of child) if (c && typeof c.type === "string") walk(c, node, k, visit);
    } else if (child && typeof child === "object" && typeof child.type === "string") {
      walk(child, node, k, visit);
    }
  }
}

/** An identifier in this position reads a binding (not a property name, label or import). */
function isReference(parent: Any | undefined, key: string | undefined): boolean {
  if (!parent) return true;
  switch (parent.type) {
    case "MemberExpression": return key !== "property" || parent.computed;
    case "Property": case "PropertyDefinition": case "MethodDefinition": return key !== "key" || parent.computed;
    case "ImportSpecifier": case "ImportDefaultSpecifier": case "ImportNamespaceSpecifier": case "ExportSpecifier": return false;
    case "LabeledStatement": case "BreakStatement": case "ContinueStatement": return false;
    default: return true;
  }
}

function isStatic(e: Any): boolean {
  if (e.type === "Literal") return typeof e.value === "number" || typeof e.value === "string" || typeof e.value === "boolean";
  return e.type === "UnaryExpression" && e.operator === "-" && e.argument.type === "Literal" && typeof e.argument.value === "number";
}

function staticValue(e: Any): unknown {
  return e.type === "UnaryExpression" ? -e.argument.value : e.value;
}

/** 0-based line and column of an offset. */
function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 0, start = 0;
  for (let i = text.indexOf("\n"); i >= 0 && i < offset; i = text.indexOf("\n", i + 1)) { line++; start = i + 1; }
  return { line, column: offset - start };
}

function offsetOf(text: string, line: number, column: number): number {
  let offset = 0;
  for (let l = 0; l < line; l++) {
    const next = text.indexOf("\n", offset);
    if (next < 0) return text.length;
    offset = next + 1;
  }
  return Math.min(text.length, offset + column);
}
