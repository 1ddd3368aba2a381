export { span, joinSpans, lineColumn, type Source, type Span } from "./span";
export { messages, type MessageCode } from "./messages";
export {
  GradcError,
  InternalError,
  diagnostic,
  fail,
  failWith,
  renderDiagnostic,
  type Diagnostic,
  type Label,
} from "./error";
