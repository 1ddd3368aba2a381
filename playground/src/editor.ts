// The editor: CodeMirror 6 with gradc highlighting. The keyword and built-in name sets come
// from the compiler itself (its lexer's keywords, its built-in table, the prelude, the
// initialiser and optimizer tables), so the page highlights exactly the words it knows.

import { EditorState, type Extension } from "@codemirror/state";
import { EditorView, keymap, lineNumbers, highlightActiveLine, drawSelection } from "@codemirror/view";
import { defaultKeymap, history, historyKeymap } from "@codemirror/commands";
import { StreamLanguage, HighlightStyle, syntaxHighlighting, bracketMatching } from "@codemirror/language";
import { lintGutter } from "@codemirror/lint";
import { tags } from "@lezer/highlight";
import { keywords } from "../../src/syntax";
import { builtins } from "../../src/lower/builtins";
import { preludeSource } from "../../src/syntax";
import { initSchemas, optimizerSchemas } from "../../src/lower/lower";

// Prelude functions are written in gradc: `fn name(` in its source.
const preludeNames = [...preludeSource.matchAll(/\bfn\s+([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]!);
const known = new Set([...Object.keys(builtins), ...preludeNames, ...Object.keys(initSchemas), ...Object.keys(optimizerSchemas)]);

const gradc = StreamLanguage.define<{ afterDecl: boolean }>({
  name: "gradc",
  startState: () => ({ afterDecl: false }),
  token(stream, state) {
    if (stream.sol()) state.afterDecl = false;
    if (stream.eatSpace()) return null;
    if (stream.match("#")) { stream.skipToEnd(); return "comment"; }
    if (stream.match(/^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/)) return "number";
    const word = stream.match(/^[A-Za-z_][A-Za-z0-9_]*/) as RegExpMatchArray | null;
    if (word) {
      const w = word[0];
      if (w === "true" || w === "false") return "bool";
      if (keywords.has(w)) { state.afterDecl = w !== "with" && w !== "minimize"; return "keyword"; }
      if (state.afterDecl) { state.afterDecl = false; return "variableName.definition"; }
      return known.has(w) ? "variableName.function" : "variableName";
    }
    if (stream.match(/^(\.\.\.|\*\*|\/\/|<=|>=|==|!=|[+\-*/@^<>=])/)) return "operator";
    stream.next();
    return "punctuation";
  },
  languageData: { commentTokens: { line: "#" } },
});

const style = HighlightStyle.define([
  { tag: tags.comment, color: "#6a737d", fontStyle: "italic" },
  { tag: tags.keyword, color: "#8a3ffc", fontWeight: "600" },
  { tag: tags.number, color: "#0f7b6c" },
  { tag: tags.bool, color: "#0f7b6c" },
  { tag: tags.function(tags.variableName), color: "#005cc5" },
  { tag: tags.definition(tags.variableName), color: "#b35900", fontWeight: "600" },
  { tag: tags.operator, color: "#d73a49" },
]);

/** A CodeMirror view in `parent`; `onChange` gets the text after every edit. */
export function createEditor(parent: HTMLElement, text: string, onChange: (text: string) => void, extra: Extension[] = []): EditorView {
  return new EditorView({
    parent,
    state: EditorState.create({
      doc: text,
      extensions: [
        lineNumbers(),
        history(),
        drawSelection(),
        highlightActiveLine(),
        bracketMatching(),
        lintGutter(),
        gradc,
        syntaxHighlighting(style),
        keymap.of([...defaultKeymap, ...historyKeymap]),
        EditorView.updateListener.of((u) => { if (u.docChanged) onChange(u.state.doc.toString()); }),
        EditorView.theme({ "&": { height: "100%", fontSize: "13.5px" }, ".cm-scroller": { fontFamily: "ui-monospace, Menlo, Consolas, monospace" } }),
        ...extra,
      ],
    }),
  });
}
