// The loop built-in: `scan(f, init, xs)` runs the user function `f` once per slice of `xs`
// along axis 0, as one IR node with `f`'s body as its graph (src/ops/scan.ts). The general
// form, which printed gradients use, takes lists: several carries, several sliced inputs,
// captured values passed to `f` explicitly, `f` returning `[next carries..., ys...]`, and
// `out = j` choosing one of the loop's outputs (the final carries, then the stacked ys).

import { diagnostic, fail, failWith, withNotes } from "../diagnostics";
import { formatShape, type Graph, type Node } from "../ir";
import { buildScan, scanOutput, stackedScan } from "../ops";
import type { Expr } from "../syntax";
import type { Builtin, BuiltinContext } from "./builtins";
import { bool, constNumber } from "./arguments";
import type { Binding } from "./scope";

type FnBinding = Extract<Binding, { kind: "fn" }>;

/** Loops already built, by function and argument nodes: `scan(f, ...)` calls that differ
 *  only in `out` read the same loop (a printed gradient names each output it uses). */
const loops = new WeakMap<Graph, Map<string, Node>>();

function functionArg(f: Expr, ctx: BuiltinContext, arity: number, what: string): FnBinding {
  const binding = f.kind === "name" ? ctx.scope.get(f.name) : undefined;
  if (binding?.kind !== "fn") {
    const found = f.kind === "name" ? (binding ? `\`${f.name}\` is not a function` : `\`${f.name}\` is not defined`) : "this is an expression";
    fail("E0264", f.span, what, found);
  }
  if (binding.params.length !== arity) {
    failWith(withNotes(diagnostic("E0264", f.span, what, `\`${binding.name}\` takes ${binding.params.length}`), { message: `\`${binding.name}\` is defined here`, span: binding.span }));
  }
  return binding;
}

function sliced(ctx: BuiltinContext, e: Expr): Node {
  const x = ctx.tensor(e);
  if (x.shape.length === 0) fail("E0265", e.span, formatShape(x.shape));
  return x;
}

/** The items of a list argument (`[a, b]`), lowered. */
function listArg(ctx: BuiltinContext, e: Expr, what: string, slicedItems: boolean): Node[] {
  if (e.kind !== "list") fail("E0267", e.span, `\`${what}\` must be a list of tensors, like [a, b], as \`init\` is a list`);
  return e.items.map((item) => (slicedItems ? sliced(ctx, item) : ctx.tensor(item)));
}

export const scanBuiltins: Record<string, Builtin> = {
  scan: {
    params: ["f", "init", "xs", "captures", "reverse", "out"], required: 3,
    doc: {
      group: "loop", signature: "scan(f, init, xs, captures = [], reverse = false, out = none)",
      summary: "For each slice `xs[t]` along axis 0, `carry = f(carry, xs[t])`, starting from `init`; stacks every carry. `f` is a user `fn` of two arguments returning a tensor of `init`'s shape; it may read params and top-level names. One loop, not a copy per step. `reverse = true` runs from the last slice to the first (each carry still stacked at its slice's index). `captures`, a list, passes more values to `f` after the slice. The general form, which `gradc grad` prints: `init` and `xs` are lists (several carries, several sliced inputs), `f(carries..., slices..., captures...)` returns a list `[next carries..., ys...]`, and the result is output `out` of the loop: the final carries are outputs 0 to m - 1, the ys stacked along a new axis 0 follow.",
      shape: "`[xs.shape[0], ...init.shape]`; in the general form, a final carry's shape or `[T, ...y.shape]`",
      grad: "to `init`, `xs` and every param or outer value `f` reads (summed over steps): one scan running the other way over the saved carries and the values of each step the gradient reads, whose body is `f`'s gradient",
      counterpart: "`jax.lax.scan(lambda c, x: (f(c, x), f(c, x)), init, xs, reverse=reverse)[1]`; the general form is `jax.lax.scan` itself; a `torch.nn.GRU`/`RNN` loop collecting its hidden states",
    },
    lower: ([f, init, xs, captureList, reverseArg, outputArg], ctx) => {
      const reverse = bool("scan", "reverse", reverseArg, false);
      const caps = captureList ? listArg(ctx, captureList, "captures", false) : [];
      if (init!.kind !== "list") {
        // scan(f, init, xs): the stack of the carry.
        if (outputArg) fail("E0267", outputArg.span, "`out` chooses among the outputs of the list form (`init` a list); this scan has one");
        const binding = functionArg(f!, ctx, 2 + caps.length, `${2 + caps.length} arguments (the carry, one slice${caps.length > 0 ? ", then each captured value" : ""})`);
        const carry = ctx.tensor(init!);
        const seq = sliced(ctx, xs!);
        return stackedScan(ctx.b, carry, [seq], (c, [x], captured) => ctx.lowerer.applyFunction(binding, [c, x!, ...captured], ctx.span), { span: ctx.span, reverse, captures: caps, cell: binding.name });
      }
      const inits = listArg(ctx, init!, "init", false);
      const seqs = listArg(ctx, xs!, "xs", true);
      if (inits.length === 0 || seqs.length === 0) fail("E0267", (inits.length === 0 ? init! : xs!).span, "the list form needs at least one carry and one sliced input");
      const steps = seqs[0]!.shape[0];
      seqs.forEach((s, i) => {
        if (s.shape[0] !== steps) fail("E0267", (xs as Extract<Expr, { kind: "list" }>).items[i]!.span, `every sliced input needs the same first axis, but ${formatShape(s.shape)} and ${formatShape(seqs[0]!.shape)} differ`);
      });
      const arity = inits.length + seqs.length + caps.length;
      const binding = functionArg(f!, ctx, arity, `${arity} arguments (each carry, each slice, each captured value)`);
      if (binding.body.kind !== "list") fail("E0267", binding.body.span, "in the list form `f` returns a list: `[next carries..., ys...]`");
      if (!outputArg) fail("E0267", ctx.span, "the list form needs `out = j`: which output of the loop (final carries first, then the stacked ys)");
      const output = constNumber(outputArg);
      const key = `${binding.name}#${binding.span.start}(${[...inits, ...seqs, ...caps].map((n) => n.id).join(",")})${reverse}`;
      const known = loops.get(ctx.b.graph) ?? new Map<string, Node>();
      loops.set(ctx.b.graph, known);
      let loop = known.get(key);
      if (!loop) {
        loop = buildScan(ctx.b, inits, seqs, (carries, slices, captured) => {
          const results = ctx.lowerer.applyFunctionList(binding, [...carries, ...slices, ...captured], ctx.span);
          if (results.length < inits.length) fail("E0267", binding.body.span, `\`${binding.name}\` returns ${results.length} values, fewer than the ${inits.length} carries`);
          return results;
        }, { span: ctx.span, reverse, captures: caps, cell: binding.name });
        known.set(key, loop);
      }
      const count = loop.body!.results.length;
      if (output === undefined || !Number.isInteger(output) || output < 0 || output >= count) {
        fail("E0267", outputArg.span, `\`out\` must be an integer from 0 to ${count - 1} (this loop has ${inits.length} carries and ${count - inits.length} ys)`);
      }
      return scanOutput(ctx.b, loop, output);
    },
  },
};
