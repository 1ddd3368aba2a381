// Symbolic dims. A dim is a known size (a number) or the canonical gradc text of an integer
// expression over dim names: `b`, `b * 5`, `n // 2`, `t + 1`. Each text is a polynomial
// (sorted terms, each a coefficient times sorted atoms; an atom is a dim name or a floor
// division) printed one way only, so equal dims are equal strings: shapes, attributes and
// hash-consing compare them with ===, and a dim that folds to a constant is a number.

import { InternalError } from "../diagnostics";

export type Dim = number | string;

interface Term {
  coef: number;
  /** Sorted; repeats allowed (`b * b`). */
  atoms: readonly string[];
}

interface Poly {
  /** Non-constant terms, sorted by their atoms, no zero coefficients. */
  terms: readonly Term[];
  constant: number;
}

/** The structure of every compound dim text built so far (interned, like graph nodes). */
const compound = new Map<string, Poly>();
/** The parts of every floor-division atom. */
const floorDivs = new Map<string, { num: Dim; den: Dim }>();

const identifier = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A plain dim name (not a compound expression). */
export function isDimName(d: Dim): d is string {
  return typeof d === "string" && identifier.test(d);
}

/** Whether a string is the text of a compound dim built here (`b * 5`, `n // 2`). */
export function isCompoundDim(s: string): boolean {
  return compound.has(s) || floorDivs.has(s);
}

function polyOf(d: Dim): Poly {
  if (typeof d === "number") return { terms: [], constant: d };
  if (identifier.test(d) || floorDivs.has(d)) return { terms: [{ coef: 1, atoms: [d] }], constant: 0 };
  const p = compound.get(d);
  if (!p) throw new InternalError(`unknown symbolic dim ${JSON.stringify(d)}`);
  return p;
}

const atomsKey = (atoms: readonly string[]) => atoms.join("\u0001");

function normalize(terms: Term[], constant: number): Poly {
  const byKey = new Map<string, Term>();
  for (const t of terms) {
    const key = atomsKey(t.atoms);
    const found = byKey.get(key);
    byKey.set(key, { coef: (found?.coef ?? 0) + t.coef, atoms: t.atoms });
  }
  const kept = [...byKey.entries()].filter(([, t]) => t.coef !== 0).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return { terms: kept.map(([, t]) => t), constant };
}

/** Parenthesised where it would not parse back as one factor of a product. */
function factorText(atom: string, alone: boolean): string {
  return !alone && floorDivs.has(atom) ? `(${atom})` : atom;
}

function operandText(d: Dim): string {
  return typeof d === "number" || identifier.test(d) ? String(d) : `(${d})`;
}

function termText(t: Term): string {
  const magnitude = Math.abs(t.coef);
  // (a subtracted floor division keeps its parentheses: `-n // 2` would be `(-n) // 2`)
  const alone = t.atoms.length === 1 && magnitude === 1 && t.coef > 0;
  const parts = t.atoms.map((a) => factorText(a, alone));
  if (magnitude !== 1) parts.push(String(magnitude));
  return parts.join(" * ");
}

function dimOf(p: Poly): Dim {
  if (p.terms.length === 0) return p.constant;
  const first = p.terms[0]!;
  if (p.terms.length === 1 && p.constant === 0 && first.coef === 1 && first.atoms.length === 1) return first.atoms[0]!;
  let text = "";
  p.terms.forEach((t, i) => {
    const sign = t.coef < 0 ? (i === 0 ? "-" : " - ") : i === 0 ? "" : " + ";
    text += sign + termText(t);
  });
  if (p.constant !== 0) text += `${p.constant < 0 ? " - " : " + "}${Math.abs(p.constant)}`;
  if (!compound.has(text)) compound.set(text, p);
  return text;
}

export function dimAdd(a: Dim, b: Dim): Dim {
  if (typeof a === "number" && typeof b === "number") return a + b;
  const pa = polyOf(a), pb = polyOf(b);
  return dimOf(normalize([...pa.terms, ...pb.terms], pa.constant + pb.constant));
}

export function dimScale(a: Dim, k: number): Dim {
  if (typeof a === "number") return a * k;
  const p = polyOf(a);
  return dimOf(normalize(p.terms.map((t) => ({ coef: t.coef * k, atoms: t.atoms })), p.constant * k));
}

export function dimSub(a: Dim, b: Dim): Dim {
  return dimAdd(a, dimScale(b, -1));
}

export function dimMul(a: Dim, b: Dim): Dim {
  if (typeof a === "number" && typeof b === "number") return a * b;
  if (typeof a === "number") return dimScale(b, a);
  if (typeof b === "number") return dimScale(a, b);
  const pa = polyOf(a), pb = polyOf(b);
  const ta = [...pa.terms, ...(pa.constant !== 0 ? [{ coef: pa.constant, atoms: [] }] : [])];
  const tb = [...pb.terms, ...(pb.constant !== 0 ? [{ coef: pb.constant, atoms: [] }] : [])];
  const terms: Term[] = [];
  let constant = 0;
  for (const x of ta) {
    for (const y of tb) {
      const atoms = [...x.atoms, ...y.atoms].sort();
      if (atoms.length === 0) constant += x.coef * y.coef;
      else terms.push({ coef: x.coef * y.coef, atoms });
    }
  }
  return dimOf(normalize(terms, constant));
}

/** The product of a shape's entries. */
export function dimProduct(shape: readonly Dim[]): Dim {
  return shape.reduce<Dim>((acc, d) => dimMul(acc, d), 1);
}

/** a / b where the quotient is exact for every value of the dims (b a single term). */
export function dimDivExact(a: Dim, b: Dim): Dim | undefined {
  if (typeof a === "number" && typeof b === "number") return b !== 0 && a % b === 0 ? a / b : undefined;
  const pa = polyOf(a), pb = polyOf(b);
  let divisor: Term;
  if (pb.terms.length === 0) divisor = { coef: pb.constant, atoms: [] };
  else if (pb.terms.length === 1 && pb.constant === 0) divisor = pb.terms[0]!;
  else return a === b ? 1 : undefined;
  if (divisor.coef === 0) return undefined;
  const out: Term[] = [];
  if (pa.constant !== 0 && (divisor.atoms.length > 0 || pa.constant % divisor.coef !== 0)) return undefined;
  for (const t of pa.terms) {
    if (t.coef % divisor.coef !== 0) return undefined;
    const atoms = [...t.atoms];
    for (const d of divisor.atoms) {
      const i = atoms.indexOf(d);
      if (i < 0) return undefined;
      atoms.splice(i, 1);
    }
    out.push({ coef: t.coef / divisor.coef, atoms });
  }
  const constant = out.filter((t) => t.atoms.length === 0).reduce((s, t) => s + t.coef, pa.constant / divisor.coef);
  return dimOf(normalize(out.filter((t) => t.atoms.length > 0), constant));
}

/** floor(a / b) for a >= 0 and b >= 1, simplified where that is exact. */
export function dimFloorDiv(a: Dim, b: Dim): Dim {
  if (typeof a === "number" && typeof b === "number") return Math.floor(a / b);
  if (b === 1) return a;
  const exact = dimDivExact(a, b);
  if (exact !== undefined) return exact;
  // floor(floor(n / p) / q) = floor(n / (p q)) for positive integers p, q.
  const inner = typeof a === "string" ? floorDivs.get(a) : undefined;
  if (inner) return dimFloorDiv(inner.num, dimMul(inner.den, b));
  if (typeof b === "number") {
    // floor((b Q + R) / b) = Q + floor(R / b) when Q is an integer.
    const p = polyOf(a);
    const whole = p.terms.filter((t) => t.coef % b === 0);
    if (whole.length > 0) {
      const rest = dimOf(normalize(p.terms.filter((t) => t.coef % b !== 0), p.constant));
      const q = dimOf(normalize(whole.map((t) => ({ coef: t.coef / b, atoms: t.atoms })), 0));
      return dimAdd(q, dimFloorDiv(rest, b));
    }
  }
  const text = `${operandText(a)} // ${operandText(b)}`;
  if (!floorDivs.has(text)) floorDivs.set(text, { num: a, den: b });
  return text;
}

/** The dim names a dim depends on. */
export function dimNames(d: Dim, into: Set<string> = new Set()): Set<string> {
  if (typeof d === "number") return into;
  for (const t of polyOf(d).terms) {
    for (const a of t.atoms) {
      const fd = floorDivs.get(a);
      if (fd) { dimNames(fd.num, into); dimNames(fd.den, into); } else into.add(a);
    }
  }
  return into;
}

/** Whether some values of its dims could make `d` negative (it subtracts). */
export function mayBeNegative(d: Dim): boolean {
  if (typeof d === "number") return d < 0;
  const p = polyOf(d);
  return p.constant < 0 || p.terms.some((t) => t.coef < 0 || t.atoms.some((a) => {
    const fd = floorDivs.get(a);
    return fd !== undefined && (mayBeNegative(fd.num) || mayBeNegative(fd.den));
  }));
}

/** Whether `d` is more than a product of dim names and a coefficient (a sum, a floor
 *  division): its equalities are then only known at run time. */
export function isMonomial(d: Dim): boolean {
  if (typeof d === "number") return true;
  const p = polyOf(d);
  return p.constant === 0 && p.terms.length === 1 && p.terms[0]!.atoms.every((a) => !floorDivs.has(a));
}

/** How to build a dim's value in some algebra (numbers, JS expressions). */
export interface DimAlgebra<T> {
  num(n: number): T;
  name(name: string): T;
  add(a: T, b: T): T;
  sub(a: T, b: T): T;
  mul(a: T, b: T): T;
  floorDiv(a: T, b: T): T;
}

export function foldDim<T>(d: Dim, f: DimAlgebra<T>): T {
  if (typeof d === "number") return f.num(d);
  const atom = (a: string): T => {
    const fd = floorDivs.get(a);
    return fd ? f.floorDiv(foldDim(fd.num, f), foldDim(fd.den, f)) : f.name(a);
  };
  const p = polyOf(d);
  let acc: T | undefined;
  for (const t of p.terms) {
    let v = t.atoms.map(atom).reduce((x, y) => f.mul(x, y));
    if (Math.abs(t.coef) !== 1) v = f.mul(v, f.num(Math.abs(t.coef)));
    acc = acc === undefined ? (t.coef < 0 ? f.sub(f.num(0), v) : v) : t.coef < 0 ? f.sub(acc, v) : f.add(acc, v);
  }
  if (acc === undefined) return f.num(p.constant);
  if (p.constant > 0) return f.add(acc, f.num(p.constant));
  if (p.constant < 0) return f.sub(acc, f.num(-p.constant));
  return acc;
}

/** The value of a dim given the values of its names. */
export function evalDim(d: Dim, value: (name: string) => number): number {
  return foldDim<number>(d, {
    num: (n) => n, name: value,
    add: (a, b) => a + b, sub: (a, b) => a - b, mul: (a, b) => a * b,
    floorDiv: (a, b) => Math.floor(a / b),
  });
}

/** The element count of a shape, as a coefficient times irreducible factors (dim names,
 *  floor divisions, sums with no common integer factor), so equal counts compare equal. */
export function factorSize(d: Dim): { coef: number; dims: string[] } {
  if (typeof d === "number") return { coef: d, dims: [] };
  const p = polyOf(d);
  if (p.constant === 0 && p.terms.length === 1) return { coef: p.terms[0]!.coef, dims: [...p.terms[0]!.atoms] };
  const content = p.terms.reduce((g, t) => gcd(g, Math.abs(t.coef)), Math.abs(p.constant));
  const k = ((p.terms[0]?.coef ?? 1) < 0 ? -1 : 1) * content;
  // (exact integer division: scaling by 1 / k could round, 49 * (1 / 49) is not 1)
  const primitive = dimOf(normalize(p.terms.map((t) => ({ coef: t.coef / k, atoms: t.atoms })), p.constant / k));
  return { coef: k, dims: [String(primitive)] };
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}
