// Type-checks files as `tsc --noEmit --strict --target es2022 --module M
// --moduleResolution M file` run in their folder would (no tsconfig: files named on tsc's
// command line ignore it), but in-process through the compiler API: one program checks
// several files, and the default library files (lib.es2022.full.d.ts and what it
// references, DOM included) are parsed once per test worker rather than once per tsc run,
// and not themselves checked (skipDefaultLibCheck: they are TypeScript's, not ours; every
// other file is, the emitted .d.ts included). Six tsc runs took ~21 s of CPU; this, ~2 s.
import { dirname, join, relative } from "node:path";
import ts from "typescript";

const libDir = dirname(ts.getDefaultLibFilePath({}));
const libFiles = new Map<string, ts.SourceFile>();

/**
 * The diagnostics of each of `files` (names relative to `dir`) in tsc's plain format,
 * "file(line,col): error TSn: message", keyed by file; diagnostics of no file or of another
 * file (the modules they import) under the key "".
 */
export function tscDiagnostics(dir: string, files: readonly string[], mode: "node16" | "nodenext"): Map<string, string[]> {
  const options: ts.CompilerOptions = {
    noEmit: true, strict: true, target: ts.ScriptTarget.ES2022, skipDefaultLibCheck: true,
    module: mode === "node16" ? ts.ModuleKind.Node16 : ts.ModuleKind.NodeNext,
    moduleResolution: mode === "node16" ? ts.ModuleResolutionKind.Node16 : ts.ModuleResolutionKind.NodeNext,
  };
  const host = ts.createCompilerHost(options);
  // tsc's current directory is the folder: automatic @types lookup starts there, not in
  // the test runner's working directory (the repository, with @types/node).
  host.getCurrentDirectory = () => dir;
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) => {
    if (dirname(fileName) !== libDir) return getSourceFile(fileName, languageVersion, onError, shouldCreate);
    const key = typeof languageVersion === "object" ? `${fileName} ${languageVersion.languageVersion} ${languageVersion.impliedNodeFormat}` : `${fileName} ${languageVersion}`;
    let file = libFiles.get(key);
    if (!file) {
      file = getSourceFile(fileName, languageVersion, onError, shouldCreate);
      if (file) libFiles.set(key, file);
    }
    return file;
  };
  const program = ts.createProgram(files.map((f) => join(dir, f)), options, host);
  const out = new Map<string, string[]>([["", []], ...files.map((f): [string, string[]] => [f, []])]);
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const name = d.file ? relative(dir, d.file.fileName) : "";
    const text = ts.formatDiagnostic(d, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => dir, getNewLine: () => "\n" });
    (out.get(name) ?? out.get("")!).push(text.trimEnd());
  }
  return out;
}
