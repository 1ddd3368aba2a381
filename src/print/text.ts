// IR -> gradc text: the readable view of a graph (`gradc grad`) and single expressions
// (`derivative`). Definitions come in dependency order; a node gets its own line when it is
// a root, carries a model name, or is shared; everything else inlines with the fewest
// parentheses the language's precedence table allows. Explicit broadcasts print implicitly
// where NumPy broadcasting in their consumer reproduces them: an inlined expression may
// evaluate to a smaller shape that broadcasts to its node's, and only consumers that do not
// broadcast (and definitions) widen it back with `broadcast_to`.

import { attrKey, broadcastShape, dimSub, isCompoundDim, nodesWithBodies, sameShape, topoSort, useCounts, type Body, type AttrValue, type Dim, type Node, type Shape } from "../ir";
import { allOps } from "../ops";
import { binaryPrecedence, comparisonOps, formatNumber, keywords, unaryPrecedence, type BinaryOp } from "../syntax";

export interface NamedNode {
  name: string;
  node: Node;
}

const postfixPrecedence = 5;
const atomPrecedence = 6;
/** Deeper inline nesting than this gets a temporary name, so lines stay parseable
 *  (the parser bounds nesting) and readable. */
const maxInlineDepth = 40;

/** A readable gradc fragment: one `name = expr` per line, dependencies first, ending with
 *  the roots (a root also used by another line comes where it is first needed). */
export function printDefinitions(roots: readonly NamedNode[]): string {
  const order = topoSort(roots.map((r) => r.node));
  const taken = reservedNames(nodesWithBodies(roots.map((r) => r.node)));
  const functions = new FunctionPrinter(taken);
  const { bound, referenced } = chooseBound(order, new Set(roots.map((r) => r.node)));
  const { names, rootNames } = assignNames(order, roots, bound, taken);
  const printer = new TextPrinter(names, functions);
  const first = new Map<Node, number>();
  roots.forEach((r, k) => { if (!first.has(r.node)) first.set(r.node, k); });
  // A root no other line refers to is deferred to the end, in the order the roots were given.
  const deferred = (n: Node) => first.has(n) && !referenced.has(n);
  const lines: string[] = [];
  for (const n of order) {
    printer.render(n); // every node inputs-first, so rendering never recurses deeply
    // (a loop's functions come before the first line that calls them)
    if (bound.has(n) && !deferred(n)) lines.push(...functions.flush(), `${names.get(n)!} = ${printer.full(n).text}`);
  }
  roots.forEach((r, k) => {
    const own = names.get(r.node)!;
    if (first.get(r.node) !== k) lines.push(`${rootNames[k]!} = ${own}`);
    else if (deferred(r.node)) lines.push(...functions.flush(), `${own} = ${printer.full(r.node).text}`);
  });
  return lines.map((l) => `${l}\n`).join("");
}

/**
 * The functions of loops (scan), each printed once as a block-bodied `fn` taking the body's
 * args (carries, slices, then captured values, so it reads nothing else and can be defined
 * at the top level), its definitions local, its last line the list of its results. Each use
 * of a loop's output prints as the list form of `scan` with `out = j`; calls on the same
 * function and arguments lower to the same loop.
 */
class FunctionPrinter {
  private readonly names = new Map<Node, string>();
  private pending: string[] = [];

  constructor(private readonly taken: Set<string>) {}

  /** The definitions printed since the last flush (inner loops' first). */
  flush(): string[] {
    const out = this.pending;
    this.pending = [];
    return out;
  }

  /** `scan(f, [inits], [xs], [captures], reverse = true, out = j)` for a scan_out node. */
  call(n: Node, printer: TextPrinter): Printed {
    const loop = n.inputs[0]!;
    const m = loop.attrs.carries as number, k = loop.attrs.slices as number;
    const group = (nodes: readonly Node[]) => literal(`[${nodes.map((x) => printer.strict(x).text).join(", ")}]`);
    const args = [literal(this.nameOf(loop)), group(loop.inputs.slice(0, m)), group(loop.inputs.slice(m, m + k)), group(loop.inputs.slice(m + k))];
    const kwargs: [string, string][] = [];
    if (loop.attrs.reverse === true) kwargs.push(["reverse", "true"]);
    kwargs.push(["out", String(n.attrs.output)]);
    return call("scan", n.shape, args, kwargs);
  }

  /** Functions by the structure of their body: loops with equal bodies (the same cell
   *  lowered in two places) share one definition, so a program prints back the same. */
  private readonly byStructure = new Map<string, string>();

  private nameOf(loop: Node): string {
    let name = this.names.get(loop);
    if (name === undefined) {
      const key = bodyStructure(loop.body!);
      name = this.byStructure.get(key);
      if (name === undefined) {
        name = claimName(this.taken, typeof loop.attrs.cell === "string" ? loop.attrs.cell : "f");
        this.byStructure.set(key, name);
        this.pending.push(this.definition(loop, name));
      }
      this.names.set(loop, name);
    }
    return name;
  }

  private definition(loop: Node, name: string): string {
    const body = loop.body!;
    const m = loop.attrs.carries as number, k = loop.attrs.slices as number;
    const names = new Map<Node, string>();
    // (a captured value's param is named after it: `wz_2` for `wz`)
    const outer = (i: number) => { const c = loop.inputs[i]!; return typeof c.attrs.name === "string" ? c.attrs.name : c.name ?? "w"; };
    const params = body.args.map((a, i) => {
      const p = claimName(this.taken, i < m ? "c" : i < m + k ? "x" : outer(i));
      names.set(a, p);
      return p;
    });
    const order = topoSort(body.results);
    const { bound } = chooseBound(order, new Set(body.results));
    const locals = new Set(order.filter((n) => bound.has(n) && !names.has(n) && n.op.kind !== "source"));
    const local = (n: Node) => locals.has(n);
    let next = 1;
    for (const n of order) {
      if (!local(n)) continue;
      if (n.name !== undefined) { names.set(n, claimName(this.taken, n.name)); continue; }
      while (this.taken.has(`t${next}`)) next++;
      names.set(n, claimName(this.taken, `t${next}`));
    }
    const printer = new TextPrinter(names, this);
    const lines: string[] = [];
    for (const n of order) {
      printer.render(n);
      if (local(n)) lines.push(`${names.get(n)!} = ${printer.full(n).text}`);
    }
    const results = body.results.map((r) => printer.strict(r).text);
    return [`fn ${name}(${params.join(", ")}) {`, ...lines.map((l) => `  ${l}`), `  [${results.join(", ")}]`, "}"].join("\n");
  }
}

/** A body's computation as text, its args by position (not by their unique tags), nested
 *  loops by their own bodies': equal texts print as the same function. */
function bodyStructure(body: Body): string {
  const keys = new Map<Node, string>();
  body.args.forEach((a, i) => keys.set(a, `$${i}[${a.shape.join(",")}]`));
  const lines: string[] = [];
  for (const n of topoSort(body.results)) {
    if (keys.has(n)) continue;
    const inner = n.body ? `{${bodyStructure(n.body)}}` : "";
    lines.push(`${n.op.name}${attrKey(n.attrs)}${inner}(${n.inputs.map((i) => keys.get(i)).join(",")})`);
    keys.set(n, `%${lines.length - 1}`);
  }
  return `${lines.join(";")}=>${body.results.map((r) => keys.get(r)).join(",")}`;
}

/** One gradc expression for `node`, everything inlined (no definitions). Lowered again it
 *  computes the same values. */
export function printExpression(node: Node): string {
  const printer = new TextPrinter(new Map(), new FunctionPrinter(reservedNames(nodesWithBodies([node]))));
  for (const n of topoSort([node])) printer.render(n);
  return printer.full(node).text;
}

// ---- which nodes get a line ----

/** Roots; model-named nodes used at least once; other nodes referenced more than once.
 *  Sources always inline, and so do views of sources (`transpose(m2)`). Other views are
 *  transparent (a reference to an inlined view is a reference to its operand) unless they
 *  are their operand's only user, where the view is the better line
 *  (`t1 = max(x, axis = 1, keepdims = true)`); broadcasts, which mostly print as their
 *  operand, stay transparent. Last, nodes nested too deep get a line. */
function chooseBound(order: readonly Node[], roots: ReadonlySet<Node>): { bound: Set<Node>; referenced: Set<Node> } {
  const trivial = new Set<Node>();
  for (const n of order) {
    if (n.op.kind === "source" || (n.op.kind === "view" && trivial.has(n.inputs[0]!))) trivial.add(n);
  }
  const users = useCounts(order);
  const bound = new Set<Node>();
  const refs = new Map<Node, number>();
  for (let k = order.length - 1; k >= 0; k--) {
    const n = order[k]!;
    const r = refs.get(n) ?? 0;
    const shared = n.op.kind !== "view" ? r >= 2
      : r >= 2 && !trivial.has(n) && users.get(n.inputs[0]!) === 1 && viewForm(n) !== "broadcast";
    const named = n.name !== undefined && r >= 1;
    // A loop prints only through its outputs, each a `scan(...)` call of its own line.
    if (n.op.projects || ((roots.has(n) || (n.op.kind !== "source" && (named || shared))) && !n.body)) bound.add(n);
    const weight = bound.has(n) ? 1 : r;
    for (const i of n.inputs) refs.set(i, (refs.get(i) ?? 0) + weight);
  }
  const depth = new Map<Node, number>();
  for (const n of order) {
    let d = 1;
    for (const i of n.inputs) d = Math.max(d, depth.get(i)! + 1);
    if (d > maxInlineDepth) bound.add(n);
    depth.set(n, bound.has(n) ? 0 : d);
  }
  return { bound, referenced: new Set(refs.keys()) };
}

// ---- names ----

const identifier = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Names no definition may take: inputs and params (printed by name), dims (used in shapes),
 *  keywords, and every call spelling the printer may emit (a tensor named `sum` would
 *  shadow the built-in). */
function reservedNames(order: readonly Node[]): Set<string> {
  const taken = new Set<string>(keywords);
  taken.add("broadcast_to");
  for (const op of allOps()) {
    taken.add(op.name);
    if (op.print?.kind === "call") taken.add(op.print.fn);
    if (op.print?.kind === "builtin") for (const fn of op.print.fns) taken.add(fn);
  }
  const addDims = (dims: readonly AttrValue[] | Shape) => {
    for (const d of dims) if (typeof d === "string") taken.add(d);
  };
  for (const n of order) {
    addDims(n.shape);
    if (n.op.kind === "source" && typeof n.attrs.name === "string") taken.add(n.attrs.name);
    if (Array.isArray(n.attrs.dims)) addDims(n.attrs.dims);
  }
  return taken;
}

/** A name not yet taken, from `base` (made an identifier, numbered on collision). */
function claimName(taken: Set<string>, base: string): string {
  let stem = base.replace(/[^A-Za-z0-9_]/g, "_");
  if (!identifier.test(stem)) stem = `_${stem}`;
  let name = stem;
  for (let k = 2; taken.has(name); k++) name = `${stem}_${k}`;
  taken.add(name);
  return name;
}

function assignNames(
  order: readonly Node[], roots: readonly NamedNode[], bound: ReadonlySet<Node>, taken: Set<string>,
): { names: Map<Node, string>; rootNames: string[] } {
  const claim = (base: string): string => claimName(taken, base);
  const names = new Map<Node, string>();
  const rootNames = roots.map((r) => {
    const name = claim(r.name);
    if (!names.has(r.node)) names.set(r.node, name);
    return name;
  });
  for (const n of order) if (bound.has(n) && !names.has(n) && n.name !== undefined) names.set(n, claim(n.name));
  let next = 1;
  for (const n of order) {
    if (!bound.has(n) || names.has(n)) continue;
    while (taken.has(`t${next}`)) next++;
    names.set(n, claim(`t${next}`));
  }
  return { names, rootNames };
}

// ---- expressions ----

/** Text with the binding power of its outermost construct (syntax/tokens.ts levels) and
 *  the shape it evaluates to: the node's shape, or a smaller one that NumPy broadcasting
 *  (trailing-aligned) takes to the node's shape, where a broadcast was left implicit. */
interface Printed {
  text: string;
  prec: number;
  shape: Shape;
}

const has = (n: Node, key: string) => Object.prototype.hasOwnProperty.call(n.attrs, key);

type ViewForm = "broadcast" | "transpose" | "slice" | "reshape";
/** Which view a view op is, by the attributes that define it. */
function viewForm(n: Node): ViewForm | undefined {
  if (n.op.kind !== "view") return undefined;
  if (has(n, "dims")) return "broadcast";
  if (has(n, "perm")) return "transpose";
  if (has(n, "begin")) return "slice";
  return has(n, "shape") ? "reshape" : undefined;
}
const isReduction = (n: Node) => n.op.kind === "kernel" && n.op.arity === 1 && has(n, "axes");

const wrap = (p: Printed, min: number): string => (p.prec < min ? `(${p.text})` : p.text);
const list = (items: readonly (AttrValue | Dim)[]): string => `[${items.map(formatAttr).join(", ")}]`;
const literal = (text: string): Printed => ({ text, prec: atomPrecedence, shape: [] });

function call(fn: string, shape: Shape, args: readonly Printed[], kwargs: readonly [string, string][] = []): Printed {
  const parts = args.map((a) => a.text);
  for (const [k, v] of kwargs) parts.push(`${k} = ${v}`);
  return { text: `${fn}(${parts.join(", ")})`, prec: postfixPrecedence, shape };
}

function formatAttr(v: AttrValue | Dim): string {
  if (typeof v === "number") return formatNumber(v);
  if (typeof v === "boolean") return v ? "true" : "false";
  // A compound dim's text is already gradc: `b * 5`, `n // 2`.
  if (typeof v === "string") return identifier.test(v) || isCompoundDim(v) ? v : JSON.stringify(v);
  if (v === null) return "null";
  return list(v);
}

function printNumber(v: number): Printed {
  if (Object.is(v, -0)) return { text: "-0", prec: unaryPrecedence, shape: [] };
  const text = formatNumber(v);
  return { text, prec: text.startsWith("-") ? unaryPrecedence : atomPrecedence, shape: [] };
}

/** Attributes as keyword arguments, for call forms (conv2d stride, ...): those the print
 *  form lists as positional come out as arguments instead, and defaults are left out. */
function kwargsOf(n: Node): [string, string][] {
  const print = n.op.print?.kind === "call" ? n.op.print : undefined;
  const skip = (k: string) => n.attrs[k] === null || print?.positional?.includes(k) ||
    (print?.defaults && k in print.defaults && formatAttr(print.defaults[k]!) === formatAttr(n.attrs[k]!));
  return Object.keys(n.attrs).filter((k) => !skip(k)).map((k) => [k, formatAttr(n.attrs[k]!)]);
}

/** The inputs, then the attributes a call form prints positionally (`pad(g, [[1, 2]])`). */
function positionalOf(n: Node, inputs: readonly Printed[]): Printed[] {
  const print = n.op.print?.kind === "call" ? n.op.print : undefined;
  return [...inputs, ...(print?.positional ?? []).map((k) => literal(formatAttr(n.attrs[k]!)))];
}

class TextPrinter {
  private readonly inline = new Map<Node, Printed>();

  /** `names` holds the nodes that have their own line; they print as their name. */
  constructor(private readonly names: ReadonlyMap<Node, string>, private readonly functions: FunctionPrinter) {}

  /** A node's own text (its definition, when it has a name). Callers walk nodes in
   *  topological order, so this never recurses deeply. */
  render(n: Node): Printed {
    let p = this.inline.get(n);
    if (!p) {
      p = this.form(n);
      this.inline.set(n, p);
    }
    return p;
  }

  /** A node's own text at its full shape (a definition, a whole expression). */
  full(n: Node): Printed {
    return this.widen(this.render(n), n);
  }

  /** How a use of `n` prints: its name, or its text inlined; maybe at a smaller shape
   *  that broadcasts to n's (for elementwise consumers). */
  private loose(n: Node): Printed {
    const name = this.names.get(n);
    return name !== undefined ? { text: name, prec: atomPrecedence, shape: n.shape } : this.render(n);
  }

  /** A use of `n` at its full shape (for consumers that do not broadcast). */
  strict(n: Node): Printed {
    return this.widen(this.loose(n), n);
  }

  private widen(p: Printed, n: Node): Printed {
    return sameShape(p.shape, n.shape) ? p : call("broadcast_to", n.shape, [p, literal(list(n.shape))]);
  }

  private form(n: Node): Printed {
    if (n.op.projects) return this.functions.call(n, this);
    const print = n.op.print;
    if (n.op.kind === "elementwise") {
      const args = n.inputs.map((i) => this.loose(i));
      const shape = broadcastShape(args.map((a) => a.shape)) ?? n.shape;
      if (print?.kind === "infix") return infix(print.symbol, binaryPrecedence[print.symbol as BinaryOp] ?? print.precedence, args[0]!, args[1]!, shape);
      if (print?.kind === "prefix") return { text: `${print.symbol}${wrap(args[0]!, unaryPrecedence)}`, prec: unaryPrecedence, shape };
      return call(print?.kind === "call" ? print.fn : n.op.name, shape, args, kwargsOf(n));
    }
    if (print?.kind === "infix") {
      return infix(print.symbol, binaryPrecedence[print.symbol as BinaryOp] ?? print.precedence, this.strict(n.inputs[0]!), this.strict(n.inputs[1]!), n.shape);
    }
    if (print?.kind === "prefix") return { text: `${print.symbol}${wrap(this.strict(n.inputs[0]!), unaryPrecedence)}`, prec: unaryPrecedence, shape: n.shape };
    if (print?.kind === "call") return call(print.fn, n.shape, positionalOf(n, n.inputs.map((i) => this.strict(i))), kwargsOf(n));
    if (print?.kind === "builtin") {
      const { fn, kwargs } = print.spell(n);
      return call(fn, n.shape, n.inputs.map((i) => this.strict(i)), kwargs.map(([k, v]) => [k, formatAttr(v)]));
    }
    return this.structural(n);
  }

  /** Ops without a `print` form, by kind and attributes. The rest print as a call of the
   *  op's name with attributes as keywords (iota, pad; concat takes its inputs as a list). */
  private structural(n: Node): Printed {
    if (n.op.kind === "source") {
      if (typeof n.attrs.name === "string") return { text: n.attrs.name, prec: atomPrecedence, shape: n.shape };
      if (typeof n.attrs.value === "number") return printNumber(n.attrs.value);
      if (!has(n, "shape") && Array.isArray(n.attrs.dims)) {
        // the runtime size of free dims: a dim name in value position is its size
        // (a compound dim, `t + 1`, is parenthesised as a factor and binds like a sum)
        const dims = n.attrs.dims as string[];
        if (dims.length === 1) return { text: dims[0]!, prec: isCompoundDim(dims[0]!) ? binaryPrecedence["+"] : atomPrecedence, shape: [] };
        return { text: dims.map((d) => (isCompoundDim(d) ? `(${d})` : d)).join(" * "), prec: binaryPrecedence["*"], shape: [] };
      }
    }
    switch (viewForm(n)) {
      case "broadcast": return this.implicitBroadcast(n);
      case "transpose": {
        const perm = n.attrs.perm as number[];
        const x = this.strict(n.inputs[0]!);
        const reverses = perm.every((a, k) => a === perm.length - 1 - k);
        return call("transpose", n.shape, reverses ? [x] : [x, literal(list(perm))]);
      }
      case "slice": return this.index(n, false);
      case "reshape": return this.reshape(n.inputs[0]!, n.shape);
      case undefined: break;
    }
    if (isReduction(n)) return this.reduction(n, false);
    const args = n.op.arity < 0
      ? [literal(`[${n.inputs.map((i) => this.strict(i).text).join(", ")}]`)]
      : n.inputs.map((i) => this.strict(i));
    return call(n.op.name, n.shape, args, kwargsOf(n));
  }

  /** A broadcast as NumPy would redo it in an elementwise consumer: the operand, reshaped
   *  to keepdims form when its axes are not the trailing ones. */
  private implicitBroadcast(b: Node): Printed {
    const x = b.inputs[0]!;
    const dims = b.attrs.dims as number[];
    const offset = b.shape.length - x.shape.length;
    if (dims.every((d, i) => d === offset + i)) return this.loose(x);
    const keep: Dim[] = b.shape.map(() => 1);
    dims.forEach((d, i) => { keep[d] = x.shape[i]!; });
    return this.reshape(x, keep.slice(Math.min(...dims)));
  }

  /** `x` reshaped to `shape`: keepdims of an inlined reduction, integer indices of an
   *  inlined slice, else `reshape(x, [shape])` (of the first of a reshape chain). */
  private reshape(x: Node, shape: Shape): Printed {
    if (sameShape(x.shape, shape)) return this.strict(x);
    if (!this.names.has(x)) {
      // a broadcast scalar has every shape of its size: leave it to the consumer
      if (viewForm(x) === "broadcast" && x.inputs[0]!.shape.length === 0) return this.loose(x);
      if (viewForm(x) === "reshape") return this.reshape(x.inputs[0]!, shape);
      if (isReduction(x) && sameShape(shape, keptShape(x))) return this.reduction(x, true);
      if (viewForm(x) === "slice" && sameShape(shape, x.shape.filter((_, k) => !indexedAxis(x, k)))) return this.index(x, true);
    }
    return call("reshape", shape, [this.strict(x), literal(list(shape))]);
  }

  /** `sum(x, axis = 1)`; no axis when every axis is reduced. */
  private reduction(n: Node, keepdims: boolean): Printed {
    const x = n.inputs[0]!;
    const axes = n.attrs.axes as number[];
    const kwargs: [string, string][] = [];
    if (axes.length !== x.shape.length) kwargs.push(["axis", axes.length === 1 ? String(axes[0]) : list(axes)]);
    if (keepdims) kwargs.push(["keepdims", "true"]);
    return call(n.op.name, keepdims ? keptShape(n) : n.shape, [this.strict(x)], kwargs);
  }

  /** A slice in NumPy index syntax; with `integers`, the size-1 axes it narrows as integer
   *  indices (which drop the axis). */
  private index(n: Node, integers: boolean): Printed {
    const x = n.inputs[0]!;
    const begin = n.attrs.begin as number[];
    const step = n.attrs.step as number[];
    const items = n.shape.map((size, k) => {
      if (integers && indexedAxis(n, k)) return String(begin[k]);
      if (isFullAxis(n, k)) return ":";
      if (typeof size !== "number" || typeof x.shape[k] !== "number") {
        // a window of a free axis (the interior of a padded one): its distance from the end
        const after = (dimSub(x.shape[k]!, size) as number) - begin[k]!;
        return `${begin[k] === 0 ? "" : begin[k]}:${after === 0 ? "" : -after}`;
      }
      return sliceItem(begin[k]!, step[k]!, size, x.shape[k] as number);
    });
    while (items.length > 0 && items[items.length - 1] === ":") items.pop();
    if (items.length === 0) items.push("...");
    const shape = integers ? n.shape.filter((_, k) => !indexedAxis(n, k)) : n.shape;
    return { text: `${wrap(this.strict(x), postfixPrecedence)}[${items.join(", ")}]`, prec: postfixPrecedence, shape };
  }
}

function infix(symbol: string, prec: number, l: Printed, r: Printed, shape: Shape): Printed {
  // Binding tighter than unary minus (`^`): the base is a postfix expression and the
  // exponent may start with a minus; right-associative.
  if (prec > unaryPrecedence) return { text: `${wrap(l, postfixPrecedence)} ${symbol} ${wrap(r, unaryPrecedence)}`, prec, shape };
  const leftMin = comparisonOps.has(symbol) ? prec + 1 : prec;
  return { text: `${wrap(l, leftMin)} ${symbol} ${wrap(r, prec + 1)}`, prec, shape };
}

function keptShape(reduction: Node): Dim[] {
  const axes = reduction.attrs.axes as number[];
  return reduction.inputs[0]!.shape.map((d, k) => (axes.includes(k) ? 1 : d));
}

function isFullAxis(slice: Node, k: number): boolean {
  return (slice.attrs.begin as number[])[k] === 0 && (slice.attrs.step as number[])[k] === 1 &&
    slice.shape[k] === slice.inputs[0]!.shape[k];
}

/** A size-1 axis the slice actually narrows: what an integer index lowers to. */
function indexedAxis(slice: Node, k: number): boolean {
  return slice.shape[k] === 1 && !isFullAxis(slice, k);
}

/** `start:stop:step` selecting `size` elements from `begin` on an axis of `length`,
 *  leaving out what NumPy's defaults already give. */
function sliceItem(begin: number, step: number, size: number, length: number): string {
  if (size === 0) return step === 1 ? "0:0" : `0:0:${step}`;
  const suffix = step === 1 ? "" : `:${step}`;
  if (step > 0) {
    const toEnd = Math.ceil((length - begin) / step) === size;
    return `${begin === 0 ? "" : begin}:${toEnd ? "" : begin + (size - 1) * step + 1}${suffix}`;
  }
  const stop = begin + (size - 1) * step - 1;
  return `${begin === length - 1 ? "" : begin}:${stop < 0 ? "" : stop}${suffix}`;
}
