export { span, joinSpans, lineColumn, type Source, type Span } from "./span";
export { messages, type MessageCode } from "./messages";
export {
  GradcError,
  InternalError,
  issueTracker,
  diagnostic,
  fail,
  failWith,
  renderDiagnostic,
  sourceExcerpt,
  sourceLine,
  withNotes,
  type Diagnostic,
  type Label,
  type Note,
  type ResolvedNote,
} from "./error";
