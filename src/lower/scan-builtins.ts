// The loop built-in: `scan(f, init, xs)` runs the user function `f` once per slice of `xs`
// along axis 0, as one IR node with `f`'s body as its graph (src/ops/scan.ts).

import { diagnostic, fail, failWith, withNotes } from "../diagnostics";
import { formatShape } from "../ir";
import { stackedScan } from "../ops";
import type { Builtin } from "./builtins";

export const scanBuiltins: Record<string, Builtin> = {
  scan: {
    params: ["f", "init", "xs"], required: 3,
    doc: {
      group: "loop", signature: "scan(f, init, xs)",
      summary: "For each slice `xs[t]` along axis 0, `carry = f(carry, xs[t])`, starting from `init`; stacks every carry. `f` is a user `fn` of two arguments returning a tensor of `init`'s shape; it may read params and top-level names. One loop, not a copy per step.",
      shape: "`[xs.shape[0], ...init.shape]`",
      grad: "to `init`, `xs` and every param or outer value `f` reads (summed over steps): a scan running backwards over the saved carries, whose body is `f`'s gradient",
      counterpart: "`jax.lax.scan(lambda c, x: (f(c, x), f(c, x)), init, xs)[1]`; a `torch.nn.GRU`/`RNN` loop collecting its hidden states",
    },
    lower: ([f, init, xs], ctx) => {
      const binding = f!.kind === "name" ? ctx.scope.get(f!.name) : undefined;
      if (binding?.kind !== "fn") {
        const found = f!.kind === "name" ? (binding ? `\`${f!.name}\` is not a function` : `\`${f!.name}\` is not defined`) : "this is an expression";
        fail("E0264", f!.span, found);
      }
      if (binding.params.length !== 2) {
        failWith(withNotes(diagnostic("E0264", f!.span, `\`${binding.name}\` takes ${binding.params.length}`), { message: `\`${binding.name}\` is defined here`, span: binding.span }));
      }
      const carry = ctx.tensor(init!);
      const seq = ctx.tensor(xs!);
      if (seq.shape.length === 0) fail("E0265", xs!.span, formatShape(seq.shape));
      return stackedScan(ctx.b, carry, [seq], (c, [x]) => ctx.lowerer.applyFunction(binding, [c, x!], ctx.span), { span: ctx.span });
    },
  },
};
