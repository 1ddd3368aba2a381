export { evaluate, type EvaluateOptions } from "./evaluate";
