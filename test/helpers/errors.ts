// What a mistake reports: the error a compile or a builder call throws, for tests that
// check its code, position and message.
import { expect } from "vitest";
import { GradcError, InternalError } from "../../src/diagnostics";
import { compile } from "../../src/index";

/** "CODE: message" of the GradcError `f` throws, "internal: message" of an InternalError,
 *  or "no error". */
export function errorOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof GradcError) return `${e.code}: ${e.message}`;
    if (e instanceof InternalError) return `internal: ${e.message}`;
    throw e;
  }
  return "no error";
}

/** The GradcError compiling `source` throws (failing the test when it compiles). */
export function compileError(source: string, filename: string): GradcError {
  let err: unknown;
  try {
    compile(source, { filename });
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(GradcError);
  return err as GradcError;
}
