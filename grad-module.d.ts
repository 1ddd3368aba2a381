// The fallback type of a `.grad` import, for models without their own declarations.
// `gradc types model.grad` writes `model.grad.d.ts` beside a model, typed with its own
// input, param and output names and array type; TypeScript prefers that file. Enable this
// fallback with `"types": ["gradc/grad-module"]` in tsconfig.json or
// `/// <reference types="gradc/grad-module" />`.
declare module "*.grad" {
  type Tensor = Float32Array | Float64Array;
  type Values = Record<string, Tensor | number>;
  interface Descriptor {
    readonly name: string;
    readonly shape: readonly (number | string)[];
  }
  export const meta: {
    readonly inputs: readonly Descriptor[];
    readonly params: readonly Descriptor[];
    readonly outputs: readonly Descriptor[];
  };
  export const params: Record<string, Tensor>;
  export function createParams(seed?: number): Record<string, Tensor>;
  export function forward(values: Values): Record<string, Tensor | number>;
  export function valueAndGrad(values: Values): { value: number; grads: Record<string, Tensor> };
  export function step(values: Values): number;
  export function predict(values: Values): Record<string, Tensor | number>;
  const model: {
    meta: typeof meta; params: typeof params; createParams: typeof createParams;
    forward: typeof forward; valueAndGrad: typeof valueAndGrad; step: typeof step; predict: typeof predict;
    /** Only models that draw (rand, randn, dropout) have a generator to set and read. */
    reseed?(seed: number, calls?: number): void;
    randomState?(): { seed: number; calls: number };
  };
  export default model;
}
