// Scalar functions JavaScript's Math lacks (erf, round half to even, floor modulo). Each is
// written once, as JS source: an emitted module that uses one declares it once at module
// level (codegen collects `helper` from the records of the ops it emits), and the
// interpreter and constant folding call the very same function, built from that source.

/** A function declaration emitted into the module runtime when an op that calls it is used. */
export interface RuntimeHelper {
  /** The function's identifier in emitted code (reserved by codegen). */
  readonly name: string;
  /** A self-contained `function name(...) { ... }` declaration. */
  readonly source: string;
}

function helper(name: string, source: string): RuntimeHelper & { readonly fn: (...xs: number[]) => number } {
  const fn = new Function(`"use strict";\n${source}\nreturn ${name};`)() as (...xs: number[]) => number;
  return { name, source, fn };
}

/** erf by W. J. Cody's rational approximations (CALERF, 1969/1985): erf itself below
 *  0.46875, erfc above, with exp(-x^2) split as exp(-s^2) exp(-(x - s)(x + s)), s = x
 *  rounded down to 1/16, so the product keeps full precision. Relative error < 1e-15 in
 *  f64 (test/builtins/elementwise.test.ts measures it against a high-precision table). */
export const erfHelper = helper("erf", `function erf(x) {
  const y = Math.abs(x);
  if (y <= 0.46875) {
    const z = y > 1.11e-16 ? y * y : 0;
    let num = 1.85777706184603153e-1 * z;
    let den = z;
    num = (num + 3.16112374387056560e0) * z;
    den = (den + 2.36012909523441209e1) * z;
    num = (num + 1.13864154151050156e2) * z;
    den = (den + 2.44024637934444173e2) * z;
    num = (num + 3.77485237685302021e2) * z;
    den = (den + 1.28261652607737228e3) * z;
    return x * (num + 3.20937758913846947e3) / (den + 2.84423683343917062e3);
  }
  let r = 0;
  if (y <= 4) {
    let num = 2.15311535474403846e-8 * y;
    let den = y;
    num = (num + 5.64188496988670089e-1) * y;
    den = (den + 1.57449261107098347e1) * y;
    num = (num + 8.88314979438837594e0) * y;
    den = (den + 1.17693950891312499e2) * y;
    num = (num + 6.61191906371416295e1) * y;
    den = (den + 5.37181101862009858e2) * y;
    num = (num + 2.98635138197400131e2) * y;
    den = (den + 1.62138957456669019e3) * y;
    num = (num + 8.81952221241769090e2) * y;
    den = (den + 3.29079923573345963e3) * y;
    num = (num + 1.71204761263407058e3) * y;
    den = (den + 4.36261909014324716e3) * y;
    num = (num + 2.05107837782607147e3) * y;
    den = (den + 3.43936767414372164e3) * y;
    r = (num + 1.23033935479799725e3) / (den + 1.23033935480374942e3);
  } else if (!(y >= 26.543)) {
    const z = 1 / (y * y);
    let num = 1.63153871373020978e-2 * z;
    let den = z;
    num = (num + 3.05326634961232344e-1) * z;
    den = (den + 2.56852019228982242e0) * z;
    num = (num + 3.60344899949804439e-1) * z;
    den = (den + 1.87295284992346047e0) * z;
    num = (num + 1.25781726111229246e-1) * z;
    den = (den + 5.27905102951428412e-1) * z;
    num = (num + 1.60837851487422766e-2) * z;
    den = (den + 6.05183413124413191e-2) * z;
    r = z * (num + 6.58749161529837803e-4) / (den + 2.33520497626869185e-3);
    r = (5.6418958354775628695e-1 - r) / y;
  }
  if (r !== 0) {
    const s = Math.trunc(y * 16) / 16;
    r = Math.exp(-s * s) * Math.exp(-(y - s) * (y + s)) * r;
  }
  const e = 0.5 - r + 0.5;
  return x < 0 ? -e : e;
}`);

/** Round half to even (NumPy `round`, `torch.round`): Math.round rounds halves up. */
export const roundHelper = helper("roundHalfEven", `function roundHalfEven(x) {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}`);

/** Floor modulo (Python's %, torch.remainder): fmod, moved into the divisor's sign. Exact,
 *  unlike a - floor(a / b) * b, whose quotient rounds. */
export const modHelper = helper("floorMod", `function floorMod(a, b) {
  const r = a % b;
  return r !== 0 && (r < 0) !== (b < 0) ? r + b : r;
}`);
