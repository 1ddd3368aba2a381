// The module: everything a compiled model is, as one ESTree program. Module-level state
// (params, arena buffers, result records, optimizer state) is allocated once; `forward`,
// `valueAndGrad` and `step` validate their arguments, infer free dims, then call one
// generated kernel function each, so a steady-state call allocates nothing.

import { lineColumn, messages } from "../diagnostics";
import { attrKey, bodyKey, dimNames, nodesWithBodies, isKnown, numel, sizeOf, topoSort, type Dim, type Node, type Shape, type Size } from "../ir";
import { allOps, type ElementwiseDef, type RuntimeHelper } from "../ops";
import { predictInputs, shapeChecks, trainable, type Hyper, type InitSpec, type ParamDecl, type TensorDecl } from "../lower";
import { planFunction, type Plan } from "../schedule";
import { dimExpression } from "./dim-expression";
import * as js from "./estree";
import { FunctionEmitter, groupLabel } from "./kernel";
import type { CodegenOptions, ModelIR } from "./model";
import { NameTable } from "./names";
import { clipStatements, optimizers } from "./optimizers";
import { astSize, functionBudget, splitFunction } from "./budget";
import { unrollLoops } from "./unroll";
import { scalarizeBuffers } from "./scalarize";
import { foldSumStarts } from "./sum-starts";
import { hoistArgumentLoads, hoistInvariantLoads, hoistLoopLoads, mentions, numericScalars } from "./hoist";
import { errorClassSource, parseStatements, runtimeSource } from "./runtime";
import { collectIdChecks, idCheckStatement, idFailureName, idReport, idsRuntimeSource, wasmIdCheckStatement, type IdCheck } from "./id-checks";
import { sparseGradients, sparseSgdUpdate, type SparseGradient } from "./sparse-update";
import { advanceStatements, drawsRandom, randomMembers, randomRuntime, randomRuntimeNames } from "./random";
import { WasmBuild, wasmRuntimeNames } from "./wasm/build";
import { simdGroupFor, simdMatmulFor } from "./wasm/select";
import { inlineCheckLimit, paramArg, paramRow, paramTableCreate, paramTableDeclarations, paramTableNames, paramTableRuntimeSource, takeParamsStatement } from "./param-table";

const marker = "\u0000";

/** Models whose kernels compute at most this many elements in all are emitted as one
 *  function per API call (their buffers may become locals) when it fits the function
 *  budget (budget.ts); others as one kernel function per distinct kernel, called from a
 *  run function split to the same budget. */
const smallModelElements = 4096;

/** The module-level Float64Array through which kernel functions pass scalars. */
const scalarsName = "scalars";

/** A canonical text of the fused expression computing `k`: equal texts mean identical
 *  code up to the names of the output and of the leaves (materialised inputs). */
function kernelSignature(members: readonly Node[], plan: Plan): { key: string; leaves: Node[] } {
  const leaves: Node[] = [];
  const ids = new Map<Node, string>();
  const lines: string[] = [];
  const roots = new Set(members);
  const visit = (n: Node): string => {
    const known = ids.get(n);
    if (known !== undefined) return known;
    let id: string;
    if (!roots.has(n) && plan.materialized.has(n)) {
      id = `#${leaves.length}${n.op.kind === "source" ? "i" : ""}`;
      leaves.push(n);
      lines.push(`${id}[${n.shape.join(",")}]`);
    } else {
      const args = n.inputs.map(visit);
      id = `%${lines.length}`;
      // A loop's code is its body's too (scan): distinct bodies never share a function.
      const body = n.body ? bodyKey(n.body) : "";
      lines.push(`${id}=${n.op.name}${attrKey(n.attrs)}${body}[${n.shape.join(",")}](${args.join(",")})`);
    }
    ids.set(n, id);
    return id;
  };
  // Roots in order; an epilogue's producer is part of the expression (not materialised).
  const rootIds = members.map(visit);
  // A pool computing the conv it reads, whose buffer holds first-maximum taps: the conv's
  // own inputs are read too.
  for (const m of members) {
    const pooled = plan.pooledConvs.get(m);
    if (pooled && plan.materialized.has(pooled)) lines.push(`taps ${visit(pooled)}: ${pooled.inputs.map(visit).join(",")}`);
  }
  // A member kept in a local (plan.localOnly) is not stored: functions differ by that too.
  const stored = members.map((m) => (plan.localOnly.has(m) ? "local" : "stored"));
  return { key: `${lines.join(";")}=>${rootIds.join(",")}:${stored.join(",")}`, leaves };
}

/** `target.push(...items)` without spreading: models can have 100,000s of statements. */
function append<T>(target: T[], items: readonly T[]): void {
  for (const item of items) target.push(item);
}

/** A catalog message with runtime parts: the text before and after a runtime value. */
function split(message: string): [js.Expression, js.Expression] {
  const i = message.indexOf(marker);
  return [js.str(message.slice(0, i)), js.str(message.slice(i + marker.length))];
}

export function emitModule(model: ModelIR, options: CodegenOptions): js.Program {
  const emitter = new ModuleEmitter(model, options);
  return emitter.program();
}

/** What `step` of a large model reuses from valueAndGrad. */
interface SharedGradient {
  runName: string;
  scratch: string;
  grow: js.Statement[];
  /** wasm: the arrays `layout()` places that the gradient's kernels use. */
  placed: { name: string; size: Size }[];
  grads: string[];
  /** The ids checks of the gradient's inputs (the same graph as step's). */
  idChecks: IdCheck[];
}

interface ApiFunction {
  name: "forward" | "valueAndGrad" | "step" | "predict";
  returned: Node[];
}

class ModuleEmitter {
  private readonly names = new NameTable();
  private readonly top: js.Statement[] = [];
  /** wasm: loop bodies' scratch arrays sized by free dims, placed by \`layout()\` (every
   *  API function made after one checks it: its kernels may be shared). */
  private readonly placedScratch: { name: string; size: Size }[] = [];
  private readonly arrayType: string;
  private readonly dimNames = new Map<string, string>();
  private readonly inputVars = new Map<string, string>();
  private readonly paramVars = new Map<string, string>();
  private readonly boxes = new Map<string, string>();
  /** The boxes some API function stores a number into (the others are never declared). */
  private readonly usedBoxes = new Set<string>();
  private readonly freeDims: string[];
  /** Shared kernel functions by signature, and their declarations. */
  private readonly kernelFunctions = new Map<string, string>();
  private readonly kernelDecls: js.Statement[] = [];
  /** Size of the module's scalar array (scalars passed between kernel functions). */
  private scalarCount = 0;
  /** valueAndGrad's kernel function and gradient buffers, which `step` of a large model reuses. */
  private gradKernels: SharedGradient | undefined;
  /** Whether the model draws (rand, randn, dropout): it then carries the generator. */
  private readonly draws: boolean;
  /** The wasm target's memory layout and functions (docs/wasm.md); undefined for js. */
  private readonly wasm: WasmBuild | undefined;
  /** wasm: the report of each check of computed ids (wasmIdCheckStatement), by number - 1. */
  private readonly wasmIdChecks: js.Statement[] = [];
  /** wasm: where each input and param passed in another array is copied (byte offset). */
  private readonly staging = new Map<string, number | string>();
  /** wasm: each param's own view of the memory, and its offset. */
  private readonly ownViews = new Map<string, { name: string; offset: number }>();
  /** wasm, growing memory: each param's view before the last growth. */
  private readonly staleViews = new Map<string, { stale: string; own: string }>();
  /** Whether params are checked through the table and passed in `paramArgs` (param-table.ts):
   *  models with many inputs and params. */
  private readonly paramTable: boolean;
  /** wasm, a model with many params: the run functions read each param's offset from its
   *  cell (written by the JS function that calls them) instead of taking it as an argument
   *  (a WebAssembly function takes at most 1,000). */
  private readonly paramCells: boolean;
  /** shapeChecks of the program (outputs only, or with the objective). */
  private readonly shapeCheckCache = new Map<boolean, ReturnType<typeof shapeChecks>>();

  constructor(private readonly model: ModelIR, private readonly options: CodegenOptions) {
    for (const reserved of ["GradcError", "hasOwn", "fail", "describe", "checkRecord", "tensorArg", "scalarArg",
      "checkLength", "badLength", "scalarBox", "inferDim", "grow", "badValues", "unknownValue", "badArgument", "key", "scalarField", "makeRandom", "initialise", "F", "meta", "params",
      "createParams", "forward", "valueAndGrad", "step", "predict", "scratch", "known", "seen", "c1", "c2", "Math", "Object",
      "Float32Array", "Float64Array", "Array", "Error", "NaN", "Infinity", "undefined", "values", "seed", "random",
      "scalars", "out", "Map", "checkIds", "badIds", "badIdAt", idFailureName, "reportIds", "check", "checkSeed", "seedText", "freezeAll", "ownRecord", "Number", "JSON", "String"]) {
      this.names.unique(reserved);
    }
    for (const reserved of randomRuntimeNames) this.names.unique(reserved);
    for (const reserved of [...paramTableNames, "row"]) this.names.unique(reserved);
    const free = model.program.dims.some((d) => typeof d.value === "string");
    this.wasm = options.target === "wasm" ? new WasmBuild(free) : undefined;
    // (a growing wasm memory refreshes each param's view by name: its checks stay inline)
    const many = model.program.inputs.length + model.program.params.length > inlineCheckLimit;
    this.paramTable = many && !this.wasm?.growing;
    this.paramCells = many && this.wasm !== undefined;
    if (this.wasm) for (const reserved of wasmRuntimeNames) this.names.unique(reserved);
    this.draws = drawsRandom(model.program);
    for (const op of allOps()) {
      const h = (op as Partial<ElementwiseDef>).helper;
      if (h) this.names.unique(h.name);
    }
    this.arrayType = options.dtype === "f64" ? "Float64Array" : "Float32Array";
    this.freeDims = model.program.dims.filter((d) => typeof d.value === "string").map((d) => d.name);
    for (const d of this.freeDims) this.dimNames.set(d, this.names.derive("dim", d));
    if (this.wasm) for (const d of this.freeDims) this.wasm.dim(this.dimNames.get(d)!);
    for (const i of model.program.inputs) this.inputVars.set(i.name, this.names.derive("in", i.name));
    for (const p of model.program.params) this.paramVars.set(p.name, this.names.derive("p", p.name));
  }

  program(): js.Program {
    const { program } = this.model;
    const body: js.Statement[] = [];
    if (this.options.format !== "function") body.push(...parseStatements(errorClassSource));
    body.push(...parseStatements(runtimeSource));
    if (this.wasm) body.push(this.wasm.memoryDeclaration(), ...parseStatements(this.wasm.runtime()));
    const roots = [...this.model.outputs, ...(this.model.objective ? [this.model.objective] : []), ...(this.model.grads ?? [])];
    if (collectIdChecks(nodesWithBodies(roots)).length > 0) body.push(...parseStatements(idsRuntimeSource));
    for (const h of this.helpers()) {
      body.push(...parseStatements(h.source));
      this.wasm?.addHelper(h);
    }
    if (this.paramTable) body.push(...parseStatements(paramTableRuntimeSource));
    body.push(js.declare("const", "F", js.id(this.arrayType)));
    for (const d of this.freeDims) body.push(js.declare("let", this.dimNames.get(d)!, js.num(0)));
    body.push(js.declare("const", "meta", this.metaExpression()));
    if (this.paramTable) {
      append(body, paramTableDeclarations(program.params.map((p) => paramRow(p.name, p.shape, initArguments(p.init, p.shape as number[]))), "F"));
    }
    body.push(this.createParamsFunction());
    body.push(js.declare("const", "params", js.call("createParams", js.num(this.options.seed))));
    // wasm: the params live in the memory; `model.params` are views of it.
    if (this.wasm) {
      for (const p of program.params) {
        const offset = this.wasm.reserve(Math.max(1, numel(p.shape as number[])) * 4);
        body.push(js.stmt(js.assign(js.index("params", js.str(p.name)), js.call("inMemory", js.index("params", js.str(p.name)), js.num(offset)))));
        // The view itself: a call passing it (the common case) passes its offset at once.
        const own = this.names.derive("own", p.name);
        body.push(js.declare(this.wasm.growing ? "let" : "const", own, js.index("params", js.str(p.name))));
        this.ownViews.set(p.name, { name: own, offset });
        if (!this.wasm.growing) continue;
        // When the memory grows: a new view, also in `params` unless the user replaced it.
        // The old one is remembered while the call that grew it starts over, in which a
        // value holding it is the param's own view (placedGrowth).
        const stale = this.names.derive("stale", p.name);
        body.push(js.declare("let", stale, js.nil()));
        this.staleViews.set(p.name, { stale, own });
        const view = js.newExpr("F", js.id("memoryBuffer"), js.num(offset), js.num(numel(p.shape as number[])));
        const fresh = [js.stmt(js.assign(js.id(stale), js.id(own))), js.stmt(js.assign(js.id(own), view))];
        this.wasm.refreshes.push(js.ifStmt(js.binary("===", js.index("params", js.str(p.name)), js.id(own)),
          [...fresh, js.stmt(js.assign(js.index("params", js.str(p.name)), js.id(own)))], fresh));
      }
    }
    if (this.draws) append(body, randomRuntime(this.options.seed, this.wasm?.generator()));
    body.push(js.declare("const", "known", js.record([...program.inputs, ...program.params].map((d) => [d.name, js.num(1)]), true)));
    for (const i of [...program.inputs, ...program.params]) {
      if (i.shape.length === 0) this.boxes.set(i.name, this.names.derive("box", i.name));
    }
    // (declared here once the API functions show which are used)
    const boxesAt = body.length;
    const api: js.Statement[] = [];
    // forward's objective has dropout off where valueAndGrad's has it on.
    const forwardObjective = this.model.forwardObjective ?? this.model.objective;
    const fwd: ApiFunction = { name: "forward", returned: [...this.model.outputs, ...(forwardObjective ? [forwardObjective] : [])] };
    append(api, this.apiFunction(fwd));
    append(api, this.apiFunction({ name: "predict", returned: [...this.model.outputs] }));
    if (this.model.objective && this.model.grads) {
      append(api, this.apiFunction({ name: "valueAndGrad", returned: [this.model.objective, ...this.model.grads] }));
      append(api, this.apiFunction({ name: "step", returned: [this.model.objective, ...this.model.grads] }));
    } else {
      const message = messages.E0406();
      for (const name of ["valueAndGrad", "step"]) {
        api.push(js.func(name, ["values"], [js.stmt(js.call("fail", js.str("E0406"), js.str(message)))]));
      }
    }
    // Optimizer state, declared while emitting `step`, and the shared kernels precede the
    // functions that use them.
    if (this.wasmIdChecks.length > 0) {
      // wasm: the record a bad computed id leaves, and its report by check number
      body.push(js.declare("const", idFailureName, this.buffer(idFailureName, 3, "Float64Array")));
      body.push(js.func("reportIds", [], [
        js.declare("const", "check", js.index(idFailureName, js.num(0))),
        js.stmt(js.assign(js.index(idFailureName, js.num(0)), js.num(0))),
        ...this.wasmIdChecks.map((report, i) => js.ifStmt(js.binary("===", js.id("check"), js.num(i + 1)), [report])),
      ]));
    }
    body.splice(boxesAt, 0, ...[...this.boxes.values()].filter((b) => this.usedBoxes.has(b)).map((b) => js.declare("const", b, js.newExpr("F", js.num(1)))));
    append(body, this.top);
    body.push(js.declare("const", scalarsName, this.buffer(scalarsName, Math.max(1, this.scalarCount), "Float64Array")));
    append(body, this.kernelDecls);
    append(body, api);
    if (this.wasm?.growing) {
      // Views of a memory that grows are made again: their declarations are `let`.
      const views = this.wasm.viewNames();
      const declared = new Set<string>();
      for (const s of body) {
        if (s.type !== "VariableDeclaration") continue;
        for (const d of s.declarations) {
          if (d.id.type === "Identifier" && views.has(d.id.name)) { s.kind = "let"; declared.add(d.id.name); }
        }
      }
      body.push(this.wasm.layoutFunction(declared));
    }
    if (this.wasm) append(body, this.wasm.instantiation(this.wasm.encode(), this.options.format === "esm"));

    const members = ["meta", "params", "createParams", "forward", "valueAndGrad", "step", "predict", ...(this.draws ? randomMembers : []), ...(this.wasm ? ["ready"] : [])];
    if (this.options.format === "function") {
      // strict, as the modules are: an assignment to an undeclared name throws instead of
      // making a global
      body.unshift(js.stmt(js.str("use strict")));
      body.push(js.ret(js.object(members.map((m) => [m, js.id(m)]))));
      return { type: "Program", sourceType: "script", body };
    }
    if (this.options.format === "esm") {
      body.push({ type: "ExportNamedDeclaration", declaration: null, source: null,
        specifiers: members.map((m) => ({ type: "ExportSpecifier", local: js.id(m), exported: js.id(m) })) });
      body.push({ type: "ExportDefaultDeclaration", declaration: js.object(members.map((m) => [m, js.id(m)])) });
      return { type: "Program", sourceType: "module", body };
    }
    body.unshift(js.stmt(js.str("use strict")));
    body.push(js.stmt(js.assign(js.member("module", "exports"), js.object([...members.map((m): [string, js.Expression] => [m, js.id(m)]), ["default", js.object(members.map((m) => [m, js.id(m)]))]]))));
    return { type: "Program", sourceType: "script", body };
  }

  /** The runtime helpers (erf, ...) the emitted ops call, each once, in first-use order. */
  private helpers(): RuntimeHelper[] {
    const roots = [...this.model.outputs, ...(this.model.objective ? [this.model.objective] : []), ...(this.model.grads ?? [])];
    const found = new Map<string, RuntimeHelper>();
    // (a loop's body calls them too)
    for (const n of nodesWithBodies(roots)) {
      const h = (n.op as Partial<ElementwiseDef>).helper;
      if (h && !found.has(h.name)) found.set(h.name, h);
    }
    return [...found.values()];
  }

  private metaExpression(): js.Expression {
    const { program } = this.model;
    const desc = (list: { name: string; shape: Shape }[]) => js.array(list.map((d) =>
      js.object([["name", js.str(d.name)], ["shape", js.array(d.shape.map((s) => (typeof s === "number" ? js.num(s) : js.str(s))))]])));
    return js.call("freezeAll", js.object([
      ["inputs", desc(program.inputs)],
      ["params", desc(program.params)],
      ["outputs", desc(program.outputs)],
    ]));
  }

  private createParamsFunction(): js.Statement {
    const { params } = this.model.program;
    const body: js.Statement[] = this.paramTable ? paramTableCreate("F") : [
      js.declare("const", "random", js.call("makeRandom", js.id("seed"))),
      js.ret(js.record(params.map((p) => [p.name, this.initExpression(p)]))),
    ];
    return js.func("createParams", ["seed"], [
      js.ifStmt(js.binary("===", js.id("seed"), js.id("undefined")), [js.stmt(js.assign(js.id("seed"), js.num(this.options.seed)))],
        [js.stmt(js.call("checkSeed", js.id("seed")))]),
      ...body,
    ]);
  }

  private initExpression(p: ParamDecl): js.Expression {
    const shape = p.shape as readonly number[];
    const n = Math.max(numel(shape), 0);
    const [kind, a, b] = initArguments(p.init, shape);
    return js.call("initialise", js.newExpr("F", js.num(n)), js.num(kind), js.num(a), js.num(b), js.id("random"));
  }

  /** The inputs a function reads: for `predict`, only those its outputs depend on (no
   *  labels for inference); every input otherwise, as SPEC section 2 requires. */
  private neededInputs(fn: ApiFunction): TensorDecl[] {
    return fn.name === "predict" ? predictInputs(this.model.program) : this.model.program.inputs;
  }

  /** Module state and the API function for one of forward / valueAndGrad / step / predict. */
  private apiFunction(fn: ApiFunction): js.Statement[] {
    const { program } = this.model;
    const needed = this.neededInputs(fn);
    const tag = fn.name === "valueAndGrad" ? "grad" : fn.name;
    const out: js.Statement[] = [];
    // `step` returns only the objective: its gradients stay internal to the function. A
    // table updated sparsely (sparse-update.ts) needs its gathered cotangent and ids, not
    // its dense gradient.
    const sparse = fn.name === "step" ? sparseGradients(fn.returned.slice(1), this.model.program.optimizer) : [];
    // (gradKernels is set when valueAndGrad was emitted as kernel functions: no plan needed.)
    if (fn.name === "step" && this.gradKernels && !sparse.some(Boolean)) return this.sharedStep(fn, this.gradKernels);
    const plan = fn.name === "step"
      ? planFunction({ returned: fn.returned.slice(0, 1), extra: fn.returned.slice(1).flatMap((g, i) => (sparse[i] ? [sparse[i]!.g, sparse[i]!.ids] : [g])), gradients: true, prologues: !this.wasm })
      : planFunction({ returned: fn.returned, gradients: fn.name === "valueAndGrad", prologues: !this.wasm });
    // Arena buffers, one per slot (declared once the kernels show which are needed).
    const slotNames = plan.slots.map((_, i) => this.names.unique(`${tag}_b${i}`));
    const symbolicSlots: { name: string; size: Size }[] = [];
    // Storage of every materialised node.
    const nodeNames = new Map<Node, string>();
    const localOf = (n: Node): string => {
      let name = nodeNames.get(n);
      if (name) return name;
      if (n.op.name === "input") {
        const declName = n.attrs.name as string;
        name = n.attrs.role === "param" ? this.paramVars.get(declName)! : this.inputVars.get(declName)!;
      } else if (n.shape.length === 0) {
        name = this.names.derive("s", n.name);
      } else {
        name = `${slotNames[plan.slotOf.get(n)!]!}`;
      }
      nodeNames.set(n, name);
      return name;
    };
    // Results: returned tensors are read from their buffers; scalars go through `scratch`.
    const scratch = this.names.unique(`${tag}_scratch`);
    // The result record (allocated once, below). forward's and predict's scalars are
    // written into it by the run function itself (JS target), each key once.
    const result = this.names.unique(`${tag}_result`);
    const fieldOf = new Map<number, string>();
    if (!this.wasm && (fn.name === "forward" || fn.name === "predict")) {
      const taken = new Set<string>();
      fn.returned.forEach((n, i) => {
        const key = this.resultKey(i);
        if (taken.has(key)) return;
        taken.add(key);
        if (n.shape.length === 0) fieldOf.set(i, key);
      });
    }
    // (no scratch when every scalar goes to the record)
    if (!fn.returned.every((n, i) => n.shape.length > 0 || fieldOf.has(i))) {
      out.push(js.declare("const", scratch, this.buffer(scratch, Math.max(1, fn.returned.length), "Float64Array")));
    }

    const argNames = this.kernelArguments();
    const runName = this.names.unique(`run_${tag}`);
    const idChecks = collectIdChecks(plan.order);

    // Kernels, the copies of results into arrays, and the optimizer update. Emitted first
    // with scalars in locals; a body too large for one function (V8 optimises huge
    // functions poorly) is emitted again with scalars in a shared Float64Array and split
    // into kernel functions.
    const emitBody = (scalarArray: string | undefined) => {
      const scalarIndex = new Map<Node, number>();
      const scalarIndexOf = (n: Node): number => {
        let k = scalarIndex.get(n);
        if (k === undefined) { k = scalarIndex.size; scalarIndex.set(n, k); }
        this.scalarCount = Math.max(this.scalarCount, scalarIndex.size);
        return k;
      };
      const storage = {
        nameOf: localOf,
        dimName: (d: string) => this.dimNames.get(d)!,
        scratch: (size: Size) => this.scratchBuffer(size),
        scratchPlaced: this.wasm !== undefined,
        ...(scalarArray ? { scalarSlot: (n: Node) => js.index(scalarArray, js.num(scalarIndexOf(n))) } : {}),
      };
      const emitter = new FunctionEmitter(plan, storage, this.names, this.options.dtype);
      // Small models inline every kernel; others call one shared function per distinct
      // kernel (scalar kernels stay inline).
      const members = new Set([...plan.groups.values()].flatMap((g) => g.slice(1)));
      const kernels = plan.kernels.filter((n) => !members.has(n)).map((n) => {
        const group = plan.groups.get(n) ?? [n];
        // Computed ids are checked as soon as their kernel has run.
        const checks = idChecks.filter((c) => group.includes(c.ids))
          .map((c) => {
            const value = c.ids.shape.length === 0 ? emitter.read(c.ids, [], []) : js.id(localOf(c.ids));
            if (!this.wasm) return idCheckStatement(c, value, emitter.dim);
            this.wasmIdChecks.push(idReport(c, emitter.dim));
            return wasmIdCheckStatement(c, this.wasmIdChecks.length, value, emitter.dim, (p) => this.names.unique(p));
          });
        if (scalarArray && n.shape.length > 0) return [this.kernelCall(group, plan, localOf, (l) => scalarIndexOf(l)), ...checks];
        return [...unrollLoops(group.length > 1 ? emitter.emitGroup(group) : emitter.emitKernel(n)), ...checks];
      });
      const decls: js.Statement[] = [];
      const tail: js.Statement[] = [];
      const copies: { node: Node; index: number; buffer: string; symbolic?: Size }[] = [];
      // Gradients of scalar params come back as length-1 arrays.
      const arrayResult = (i: number) => fn.name !== "forward" && fn.name !== "predict" && i > 0;
      fn.returned.forEach((n, i) => {
        if (i > 0 && sparse[i - 1]) return; // applied row by row, never formed
        if (n.shape.length === 0 && !arrayResult(i)) {
          const field = fieldOf.get(i);
          const target = field === undefined ? js.index(scratch, js.num(i)) : js.index(result, js.str(field));
          tail.push(js.stmt(js.assign(target, emitter.read(n, [], tail))));
        } else if (n.shape.length === 0) {
          const buffer = this.names.unique(`${tag}_scalar${i}`);
          copies.push({ node: n, index: i, buffer });
          decls.push(js.declare("const", buffer, this.buffer(buffer, 1, "F")));
          tail.push(js.stmt(js.assign(js.index(buffer, js.num(0)), emitter.read(n, [], tail))));
        } else if (!plan.slotOf.has(n)) {
          // A returned graph input (or source) is copied, so results never alias arguments.
          const buffer = this.names.unique(`${tag}_copy${i}`);
          const vars = n.shape.map(() => this.names.unique("i"));
          const body: js.Statement[] = [];
          const v = emitter.read(n, vars.map(js.id), body);
          body.push(js.stmt(js.assign(js.index(buffer, emitter.offset(n.shape, vars.map(js.id))), v)));
          let loop: js.Statement[] = body;
          for (let k = n.shape.length - 1; k >= 0; k--) loop = [js.loop(vars[k]!, js.num(0), emitter.dim(n.shape[k]!), loop)];
          append(tail, loop);
          const size = sizeOf(n.shape);
          copies.push({ node: n, index: i, buffer, symbolic: size.dims.length > 0 ? size : undefined });
          // Known sizes are `const`: V8 then treats the array as a constant inside loops.
          decls.push(js.declare(size.dims.length === 0 ? "const" : "let", buffer, size.dims.length === 0 ? this.buffer(buffer, size.coef, "F") : js.newExpr("F", js.num(0))));
        }
      });
      // By position: a node returned twice (two outputs, two params' gradients) has a copy each.
      const bufferOf = (n: Node, i: number): string => copies.find((c) => c.node === n && c.index === i)?.buffer ?? localOf(n);
      // The optimizer update, fused after the gradient kernels.
      if (fn.name === "step") {
        const grads = fn.returned.slice(1).map((g, i) => (sparse[i] ? "" : bufferOf(g, i + 1)));
        append(tail, unrollLoops(this.updateStatements(grads, sparse.map((sg) => sg && { ...sg, gName: localOf(sg.g), idsName: localOf(sg.ids) }))));
      }
      return { kernels, tail, decls, copies, bufferOf };
    };

    // Small models (every size known, few elements) become one function whose arena can
    // turn into locals, if it fits V8's budget once unrolled; others a sequence of kernel
    // functions. `step` of a large model reuses valueAndGrad's kernels and adds the update.
    // (A loop is never inlined: its kernel function stays small enough for V8 to optimise.)
    const small = plan.kernels.length <= 400 && !plan.kernels.some((n) => n.body) &&
      plan.kernels.reduce((sum, n) => sum + (isKnown(n.shape) ? numel(n.shape) : Infinity), 0) <= smallModelElements;
    const arena: js.Statement[] = [];
    let removed = new Set<string>();
    let body: ReturnType<typeof emitBody> | undefined;
    let inline: js.Statement[] | undefined;
    // The scalar arguments the run function takes as numbers.
    let numeric = new Set<string>();
    if (small) {
      const topLength = this.top.length;
      const restoreNames = this.names.checkpoint();
      body = emitBody(undefined);
      const internal = new Set(slotNames.filter((_, i) => !plan.pinned.has(i)));
      const scalarized = scalarizeBuffers([...body.kernels.flat(), ...body.tail], internal);
      // (after scalarizing: a reduction into a buffer element is a sum into a local now)
      const summed = foldSumStarts(scalarized.body);
      // JS: scalar inputs and params passed as numbers where only read, and the inputs'
      // and params' elements read once, at the top (hoist.ts).
      const boxOf = this.scalarArguments(argNames);
      const passed = this.wasm ? { body: summed, numeric: new Set<string>() } : numericScalars(summed, new Set(boxOf.keys()));
      // (each such value read from its box once, at the top)
      const read = [...passed.numeric].filter((a) => mentions(passed.body, a));
      const loads = read.length === 0 ? [] : [js.declareMany("const", read.map((a) => [a, js.index(boxOf.get(a)!, js.num(0))]))];
      const fresh = (base: string) => this.names.unique(base);
      const hoisted = this.wasm ? passed.body : [...loads, ...hoistLoopLoads(hoistArgumentLoads(passed.body, argNames, fresh), this.dimSet(), fresh)];
      // The wasm target translates the one function whatever its size.
      if (astSize(hoisted) <= functionBudget || this.wasm) {
        removed = scalarized.removed;
        inline = hoisted;
        numeric = passed.numeric;
      } else {
        // Too big for one function: emitted again as kernel functions, with the names
        // and optimizer state the first emission declared dropped.
        this.top.length = topLength;
        restoreNames();
        body = undefined;
      }
    }
    // The run function, declared after the result record it may write.
    const run: js.Statement[] = [];
    if (body && inline) {
      append(run, this.runFunction(runName, argNames.filter((a) => !numeric.has(a)), inline, fn.name));
    } else {
      body = emitBody(scalarsName);
      const statements: js.Statement[] = [];
      for (const k of body.kernels) append(statements, k);
      append(statements, body.tail);
      append(run, this.runFunction(runName, argNames, foldSumStarts(statements), fn.name));
    }
    out.unshift(...arena, ...body.decls);
    for (const c of body.copies) if (c.symbolic) symbolicSlots.push({ name: c.buffer, size: c.symbolic });
    plan.slots.forEach((size, i) => {
      if (removed.has(slotNames[i]!)) return;
      const known = size.dims.length === 0;
      out.unshift(js.declare(known ? "const" : "let", slotNames[i]!, known ? this.buffer(slotNames[i]!, size.coef, "F") : js.newExpr("F", js.num(0))));
      if (!known) symbolicSlots.push({ name: slotNames[i]!, size });
    });
    for (const s of symbolicSlots) this.wasm?.placedArray(s.name, this.sizeExpression(s.size));
    // Buffers sized by free dims grow (never shrink) before the kernels run. On the wasm
    // target they are placed in the memory, laid out again when a call needs more than
    // one of them (or an input's staging area) holds; the dims go to their cells.
    const placed = [...symbolicSlots, ...this.placedScratch, ...needed.flatMap((d) => {
      const stage = this.staging.get(d.name);
      return typeof stage === "string" ? [{ name: stage, size: sizeOf(d.shape) }] : [];
    })];
    // (wasm: a call that lays the memory out again starts over: see placedGrowth)
    const impl = this.wasm && fn.name === "step" ? this.names.unique("stepImpl") : undefined;
    const growStatements = this.wasm
      ? this.placedGrowth(placed, impl ?? fn.name)
      : symbolicSlots.map((s) =>
        js.stmt(js.assign(js.id(s.name), js.call("grow", js.id(s.name), this.sizeExpression(s.size), js.id("F")))));
    if (fn.name === "valueAndGrad" && !inline) {
      this.gradKernels = { runName, scratch, grow: growStatements, placed, grads: fn.returned.slice(1).map((g, i) => body.bufferOf(g, i + 1)), idChecks };
    }
    const bufferOf = body.bufferOf;

    // The result record, allocated once.
    const resultBody: js.Statement[] = [];
    const viewsFor: { key: string; index: number; node: Node }[] = [];
    if (fn.name === "forward" || fn.name === "predict") {
      const keys: string[] = [];
      const vals: js.Expression[] = [];
      const scalars: [string, number][] = [];
      fn.returned.forEach((n, i) => {
        const key = this.resultKey(i);
        if (keys.includes(key) || scalars.some(([k]) => k === key)) return;
        if (n.shape.length === 0) { scalars.push([key, i]); return; }
        keys.push(key);
        vals.push(this.initialView(n, bufferOf(n, i)));
        if (!isKnown(n.shape)) viewsFor.push({ key, index: i, node: n });
      });
      // Scalars are data fields holding a double from the start (NaN): each call stores
      // into the field's own box, without allocating, and a read is a plain load.
      const entries: [string, js.Expression][] = keys.map((k, i) => [k, vals[i]!]);
      // wasm, growing memory: fixed-size results are views, made again with the memory.
      if (this.wasm?.growing) entries.forEach(([k, v]) => { if (v.type === "Identifier") this.wasm!.refreshes.push(js.stmt(js.assign(js.index(result, js.str(k)), v))); });
      for (const [key] of scalars) entries.push([key, js.id("NaN")]);
      out.push(js.declare("const", result, js.call("ownRecord", js.record(entries))));
      for (const [key, i] of scalars) if (!fieldOf.has(i)) resultBody.push(js.stmt(js.assign(js.index(result, js.str(key)), js.index(scratch, js.num(i)))));
    } else if (fn.name === "valueAndGrad") {
      // Frozen params have no gradient, so no entry.
      const grads = js.record(trainable(program.params).map((p, i) => [p.name, js.id(bufferOf(fn.returned[i + 1]!, i + 1))]));
      if (this.wasm?.growing) {
        trainable(program.params).forEach((p, i) => this.wasm!.refreshes.push(js.stmt(js.assign(
          js.index(js.member(result, "grads"), js.str(p.name)), js.id(bufferOf(fn.returned[i + 1]!, i + 1))))));
      }
      out.push(js.declare("const", result, js.call("ownRecord", js.object([["grads", js.call("ownRecord", grads)], ["value", js.id("NaN")]]))));
      resultBody.push(js.stmt(js.assign(js.member(result, "value"), js.index(scratch, js.num(0)))));
    }

    // Views of exact length over grown buffers for returned tensors with free dims.
    for (const v of viewsFor) {
      const cache = this.names.unique(`${tag}_views`);
      out.push(js.declare("const", cache, js.newExpr("Map")));
      const len = this.sizeExpression(sizeOf(v.node.shape));
      const buffer = bufferOf(v.node, v.index);
      const view = this.names.unique("view");
      resultBody.push(
        js.declare("let", view, js.call(js.member(cache, "get"), len)),
        js.ifStmt(js.logical("||", js.binary("===", js.id(view), js.id("undefined")), js.binary("!==", js.member(js.id(view), "buffer"), js.member(js.id(buffer), "buffer"))), [
          js.stmt(js.assign(js.id(view), js.call(js.member(buffer, "subarray"), js.num(0), len))),
          js.stmt(js.call(js.member(cache, "set"), len, js.id(view))),
        ]),
        js.stmt(js.assign(js.index(result, js.str(v.key)), js.id(view))),
      );
    }

    append(out, run);

    // The API function: checks, dims, buffers, run, results.
    const api: js.Statement[] = [...this.argumentChecks(fn.name, needed, numeric), ...this.inputIdChecks(idChecks, numeric), ...growStatements];
    // An input `predict` does not read is passed as undefined (its kernels never run).
    const unread = new Set(program.inputs.filter((i) => !needed.includes(i)).map((i) => this.inputVars.get(i.name)!));
    append(api, advanceStatements(this.draws));
    api.push(js.stmt(js.call(runName, ...argNames.filter((a) => !numeric.has(a)).map((a) => (unread.has(a) ? js.id("undefined") : js.id(a))))));
    append(api, resultBody);
    if (fn.name === "step") {
      const stepImpl = impl ?? this.names.unique("stepImpl");
      out.push(js.func(stepImpl, ["values"], api));
      // A tiny wrapper returns the objective from a preallocated array: no heap number
      // is allocated inside the large function.
      out.push(js.func("step", ["values"], [js.stmt(js.call(stepImpl, js.id("values"))), js.ret(js.index(scratch, js.num(0)))]));
    } else {
      api.push(js.ret(js.id(result)));
      out.push(js.func(fn.name, ["values"], api));
    }
    return out;
  }

  /**
   * A call of the kernel function computing `k`. Kernels with the same signature (the
   * same fused expression over the same shapes, with materialised inputs as numbered
   * leaves) share one function taking its output and leaves as arguments, so a deep
   * network of identical layers emits each distinct kernel once.
   */
  private kernelCall(members: readonly Node[], plan: Plan, localOf: (n: Node) => string, scalarIndexOf: (n: Node) => number): js.Statement {
    const { key, leaves } = kernelSignature(members, plan);
    const computedScalar = (n: Node) => n.shape.length === 0 && n.op.kind !== "source";
    const k = members[0]!;
    let fname = this.kernelFunctions.get(key);
    if (!fname) {
      const params = leaves.map((l, i) => this.names.unique(computedScalar(l) ? `s${i}` : `a${i}`));
      const outs = members.map((_, j) => (members.length === 1 ? "out" : this.names.unique(`out${j}`)));
      fname = this.names.derive("kernel", k.name ?? k.op.name);
      this.kernelFunctions.set(key, fname);
      const leafIndex = new Map(leaves.map((l, i) => [l, i]));
      const dimOf = (d: Dim) => dimExpression(d, (n) => this.dimNames.get(n)!);
      const memberIndex = new Map(members.map((m, j) => [m, j]));
      const storage = {
        nameOf: (n: Node) => (memberIndex.has(n) ? outs[memberIndex.get(n)!]! : params[leafIndex.get(n)!]!),
        dimName: (d: string) => this.dimNames.get(d)!,
        scalarSlot: (n: Node) => js.index(scalarsName, js.id(params[leafIndex.get(n)!]!)),
        scratch: (size: Size) => this.scratchBuffer(size),
        scratchPlaced: this.wasm !== undefined,
        // wasm: a loop body's large matmuls and convs run on the SIMD kernels too.
        ...(this.wasm ? { simdKernel: (n: Node, body: Plan, pointerOf: (x: Node) => string) => simdMatmulFor(n, body, this.wasm!, pointerOf, (prefix) => this.names.unique(prefix), dimOf) } : {}),
      };
      const emitter = new FunctionEmitter(plan, storage, this.names, this.options.dtype);
      // wasm: a large enough matmul (with its epilogue after it) runs on the SIMD kernel.
      // (or a fused group of elementwise kernels, as one f32x4 map with several outputs)
      const simd = !this.wasm ? undefined : members.length === 1
        ? simdMatmulFor(k, plan, this.wasm, (n) => storage.nameOf(n), (prefix) => this.names.unique(prefix), dimOf)
        : simdGroupFor(members, plan, this.wasm, (n) => storage.nameOf(n), (prefix) => this.names.unique(prefix), dimOf);
      const body = simd
        ? [...simd.call, ...(simd.epilogue ? emitter.emitEpilogueInPlace(simd.epilogue.producer, k) : [])]
        : members.length === 1 ? emitter.emitKernel(k) : emitter.emitGroup(members);
      const invariant = hoistInvariantLoads(foldSumStarts(unrollLoops(body)));
      // (JS: each element a loop reads once per iteration, and the dims once per call)
      const decl = js.func(fname, [...outs, ...params], this.wasm ? invariant : hoistLoopLoads(invariant, this.dimSet(), (base) => this.names.unique(base)));
      if (this.wasm) this.wasm.addFunction(fname, [...outs, ...params], (decl as { body: js.BlockStatement }).body.body, groupLabel(members));
      else this.kernelDecls.push(decl);
    }
    const args = leaves.map((l) => (computedScalar(l) ? js.num(scalarIndexOf(l)) : js.id(localOf(l))));
    return js.withComment(js.stmt(js.call(fname, ...members.map((m) => js.id(localOf(m))), ...args)), groupLabel(members));
  }

  /** A module-level array for a loop body's values: `const` when its size is known, else
   *  an empty `let` that the loop grows before it runs (wasm: that \`layout()\` places
   *  before the call, scratchPlaced). */
  private scratchBuffer(size: Size): string {
    const name = this.names.unique("loop_b");
    const known = size.dims.length === 0;
    this.top.push(js.declare(known ? "const" : "let", name, known ? this.buffer(name, size.coef, "F") : js.newExpr("F", js.num(0))));
    if (!known && this.wasm) {
      this.wasm.placedArray(name, this.sizeExpression(size));
      this.placedScratch.push({ name, size });
    }
    return name;
  }

  /** The run functions' parameters: every input, then every param (unless they come
   *  through the table), as safe names. */
  private kernelArguments(): string[] {
    const { program } = this.model;
    return [...program.inputs.map((i) => this.inputVars.get(i.name)!), ...(this.paramTable ? [] : program.params.map((p) => this.paramVars.get(p.name)!))];
  }

  /** The free dims' module variables. */
  private dimSet(): Set<string> {
    return new Set(this.dimNames.values());
  }

  /** The key of forward's (predict's) `i`th returned value in its result record. */
  private resultKey(i: number): string {
    const { program } = this.model;
    return i < this.model.outputs.length ? program.outputs[i]!.name : (program.objective?.name ?? "objective");
  }

  /** Of the run functions' parameters, the scalar inputs' and params', with their boxes. */
  private scalarArguments(argNames: readonly string[]): Map<string, string> {
    const { program } = this.model;
    const boxes = new Map([...program.inputs.filter((d) => d.shape.length === 0).map((d) => [this.inputVars.get(d.name)!, this.boxes.get(d.name)!] as const),
      ...program.params.filter((d) => d.shape.length === 0).map((d) => [this.paramVars.get(d.name)!, this.boxes.get(d.name)!] as const)]);
    return new Map(argNames.filter((a) => boxes.has(a)).map((a) => [a, boxes.get(a)!]));
  }

  /** The params the run functions read from `paramArgs` (table mode), by local name. */
  private loadedParams(): Map<string, js.Expression> {
    return new Map(this.paramTable ? this.model.program.params.map((p, i) => [this.paramVars.get(p.name)!, paramArg(i)]) : []);
  }

  /** A param's array in an API function: its local, or its place in `paramArgs`. */
  private paramRef(name: string): js.Expression {
    return this.paramTable ? paramArg(this.model.program.params.findIndex((p) => p.name === name)) : js.id(this.paramVars.get(name)!);
  }

  /** `step` for a large model: valueAndGrad's kernels, then the optimizer update. */
  private sharedStep(fn: ApiFunction, grad: SharedGradient): js.Statement[] {
    const { program } = this.model;
    const argNames = this.kernelArguments();
    const runName = this.names.unique("run_step");
    // (wasm: params read through their cells are not passed from one run function to another)
    const inner = this.paramCells ? argNames.slice(0, program.inputs.length) : argNames;
    const body: js.Statement[] = [js.stmt(js.call(grad.runName, ...inner.map(js.id)))];
    append(body, unrollLoops(this.updateStatements(grad.grads)));
    const impl = this.names.unique("stepImpl");
    const grow = this.wasm ? this.placedGrowth(grad.placed, impl) : grad.grow;
    const api = [...this.argumentChecks(fn.name), ...this.inputIdChecks(grad.idChecks), ...grow, ...advanceStatements(this.draws), js.stmt(js.call(runName, ...argNames.map(js.id)))];
    return [
      ...this.runFunction(runName, argNames, body, "step"),
      js.func(impl, ["values"], api),
      js.func("step", ["values"], [js.stmt(js.call(impl, js.id("values"))), js.ret(js.index(grad.scratch, js.num(0)))]),
    ];
  }

  /** A module-level array: a fresh one, or on the wasm target a view of its place in memory. */
  private buffer(name: string, length: number, type: "F" | "Float64Array"): js.Expression {
    return this.wasm ? this.wasm.array(name, length, type) : js.newExpr(type, js.num(length));
  }

  /**
   * A run function (the kernels of one API function over its inputs and params). On the
   * wasm target its body is translated into the module and the JS function passes each
   * array's offset in memory: the model's own params (and any view of the memory) in
   * place, other arrays copied into their staging area first (and after a step, a param
   * passed in is copied back, as the JS target updates it in place).
   */
  private runFunction(name: string, args: string[], body: js.Statement[], api: string): js.Statement[] {
    // JS: within V8's budget, split into parts when longer (budget.ts).
    const loaded = this.loadedParams();
    if (!this.wasm) return splitFunction(name, args, body, (base) => this.names.unique(base), loaded);
    // wasm: one function takes every array's offset, or with many params (paramCells)
    // every input's, the params read through their cells, which the JS function writes.
    const { program } = this.model;
    const wrapperArgs = args;
    args = [...args, ...loaded.keys()];
    const direct = this.paramCells ? args.slice(0, program.inputs.length) : args;
    const entry = this.names.unique(`wasm_${name}`);
    this.top.push(js.declare("let", entry, js.id("notReady")));
    this.wasm.addFunction(name, direct, body, `the kernels of ${api}`, entry);
    const decls: TensorDecl[] = [...program.inputs, ...program.params];
    const offsets = decls.map((d) => this.stagingOffset(d));
    const own = decls.map((d) => (program.params.includes(d as ParamDecl) ? this.ownViews.get(d.name) : undefined));
    const pass = (a: string, i: number): js.Expression => {
      const placed = js.call("place", js.id(a), offsets[i]!);
      const view = own[i];
      return view ? js.conditional(js.binary("===", js.id(a), js.id(view.name)), js.num(view.offset), placed) : placed;
    };
    const cellWrites = args.slice(direct.length).map((n, k) => {
      const cell = this.wasm!.paramCell(n);
      return js.stmt(js.assign(js.index("cells", js.num(cell / 4)), pass(n, direct.length + k)));
    });
    const call = js.stmt(js.call(entry, ...direct.map(pass)));
    // A bad computed id made the module return early: report it as the JS target throws.
    const reported = this.wasmIdChecks.length > 0 ? [js.ifStmt(js.binary("!==", js.index(idFailureName, js.num(0)), js.num(0)), [js.stmt(js.call("reportIds"))])] : [];
    const back = api === "step" ? program.params.map((p, i) => {
      const a = args[program.inputs.length + i]!;
      const unplace = js.stmt(js.call("unplace", js.id(a), offsets[program.inputs.length + i]!));
      const view = own[program.inputs.length + i];
      return view ? js.ifStmt(js.binary("!==", js.id(a), js.id(view.name)), [unplace]) : unplace;
    }) : [];
    return [js.func(name, wrapperArgs, [...[...loaded].map(([n, e]) => js.declare("const", n, e)), ...cellWrites, call, ...reported, ...back])];
  }

  /** wasm, growing memory: a param given as its own view from before the growth this call
   *  started over after is its own view now. */
  private unstale(role: "input" | "param", name: string, v: string): js.Statement[] {
    const s = role === "param" ? this.staleViews.get(name) : undefined;
    return s ? [js.ifStmt(js.binary("===", js.id(v), js.id(s.stale)), [js.stmt(js.assign(js.id(v), js.id(s.own)))])] : [];
  }

  /** wasm: where an input or param given as another array is copied before a call: a
   *  fixed offset, or for a shape with free dims the offset of an array \`layout()\` places. */
  private stagingOffset(d: TensorDecl): js.Expression {
    let at = this.staging.get(d.name);
    if (at === undefined) {
      if (isKnown(d.shape)) {
        at = this.wasm!.reserve(Math.max(1, numel(d.shape as number[])) * 4);
      } else {
        at = this.names.derive("stage", d.name);
        this.top.push(js.declare("let", at, js.newExpr("F", js.num(0))));
        this.wasm!.placedArray(at, this.sizeExpression(sizeOf(d.shape)));
      }
      this.staging.set(d.name, at);
    }
    return typeof at === "number" ? js.num(at) : js.member(at, "byteOffset");
  }

  /**
   * wasm: when this call needs more than a placed array holds, \`layout()\` and start the
   * call over (`again`, the API function): the arguments read so far may be views the
   * growth detached. The model's own params are read again from \`params\`, or taken for
   * the new views when given as the old ones (unstale); any other view of the memory the
   * user passed fails its length check, never reads as zeros. Then the dims' cells.
   */
  private placedGrowth(arrays: readonly { name: string; size: Size }[], again: string): js.Statement[] {
    const short = arrays.map((a) => js.binary(">", this.sizeExpression(a.size), js.member(a.name, "length")));
    const result = this.names.unique("again");
    const check = short.length === 0 ? [] : [js.ifStmt(short.reduce((a, b) => js.logical("||", a, b)), [
      js.stmt(js.call("layout")),
      js.declare("const", result, js.call(again, js.id("values"))),
      ...[...this.staleViews.values()].map((s) => js.stmt(js.assign(js.id(s.stale), js.nil()))),
      js.ret(js.id(result)),
    ])];
    return [...check, ...this.wasm!.dimWrites()];
  }

  private initialView(n: Node, buffer: string): js.Expression {
    return isKnown(n.shape) ? js.id(buffer) : js.newExpr("F", js.num(0));
  }

  private sizeExpression(size: Size): js.Expression {
    return size.dims.reduce<js.Expression>((e, d) => js.mul(e, dimExpression(d, (n) => this.dimNames.get(n)!)), js.num(size.coef));
  }

  /** Ids inputs (take, one_hot) checked once per call, after their lengths and the dims. */
  private inputIdChecks(checks: readonly IdCheck[], numeric: ReadonlySet<string> = new Set()): js.Statement[] {
    const dim = (d: Dim) => dimExpression(d, (n) => this.dimNames.get(n)!);
    return checks.filter((c) => c.ids.op.name === "input").map((c) => {
      const name = c.ids.attrs.name as string;
      const v = c.ids.attrs.role === "param" ? this.paramRef(name) : js.id(this.inputVars.get(name)!);
      // A scalar is boxed in a one-element array by the argument checks (or stored into
      // its box, which the run function reads).
      const box = v.type === "Identifier" && numeric.has(v.name) ? js.id(this.boxes.get(name)!) : v;
      return idCheckStatement(c, c.ids.shape.length === 0 ? js.index(box, js.num(0)) : v, dim);
    });
  }

  /** Validation of `values`, once per call and outside the kernels; free dims inferred. */
  private argumentChecks(fnName: string, needed: readonly TensorDecl[] = this.model.program.inputs, numeric: ReadonlySet<string> = new Set()): js.Statement[] {
    const { program } = this.model;
    const out: js.Statement[] = [];
    const typeName = this.arrayType;
    // Inline checks: the common path is a few property loads and type tests; the runtime
    // helpers only build the error.
    const notObject = js.logical("||", js.binary("!==", js.unary("typeof", js.id("values")), js.str("object")), js.binary("===", js.id("values"), js.nil()));
    out.push(js.ifStmt(notObject, [js.stmt(js.call("badValues", js.id("values"),
      js.str(`${fnName}: the values must be an object mapping input names to ${typeName}s, but is `)))]));
    // Unknown names: a string switch for a few names (internalized-string compares), the
    // `known` table for many. With the switch, each name found as an own key sets its bit
    // in `seen`: `hasOwn.call(values, key)` on the loop's own key is a map check in
    // optimised code, where `hasOwn.call(values, "x")` per name is a runtime lookup.
    const names = [...program.inputs, ...program.params].map((d) => d.name);
    const unknown = js.stmt(js.call("unknownValue", js.id("values"), js.id("key")));
    // (one bit per name of an int: a few names only; the wasm target's growing memory checks
    // many params inline, without bits)
    const bits = names.length <= inlineCheckLimit;
    const bit = (name: string) => js.num(1 << names.indexOf(name));
    if (bits) out.push(js.declare("let", "seen", js.num(0)));
    const ownKey = js.call(js.member("hasOwn", "call"), js.id("values"), js.id("key"));
    out.push(js.forIn("key", js.id("values"), bits
      ? [js.switchStmt(js.id("key"), [
        ...names.map((n) => ({ test: js.str(n), body: [js.ifStmt(ownKey, [js.stmt(js.assign(js.id("seen"), bit(n), "|="))]), js.breakStmt()] })),
        { test: null, body: [unknown] },
      ], [js.breakStmt()])]
      : [js.ifStmt(js.binary("!==", js.index("known", js.id("key")), js.num(1)), [unknown])]));
    // Not an own value: its bit is unset and (for a non-enumerable own key) hasOwn agrees.
    const notOwn = (name: string): js.Expression => {
      const lookup = js.unary("!", js.call(js.member("hasOwn", "call"), js.id("values"), js.str(name)));
      return bits ? js.logical("&&", js.binary("===", js.binary("&", js.id("seen"), bit(name)), js.num(0)), lookup) : lookup;
    };
    const take = (d: TensorDecl, role: "input" | "param"): js.Statement[] => {
      const v = role === "input" ? this.inputVars.get(d.name)! : this.paramVars.get(d.name)!;
      const missing = js.str(messages.E0401(d.name));
      const scalar = d.shape.length === 0;
      const badType = js.str(messages.E0404(d.name, scalar ? `number or a ${typeName} of length 1` : typeName, marker).replace(marker, ""));
      const given = js.index("values", js.str(d.name));
      if (scalar) {
        // A number is taken inline (through a helper call it would be boxed, a heap
        // number per call); anything else goes through scalarArg's full checks. Boxed once
        // every value is read: a getter on a later value that calls the model again
        // would otherwise overwrite this call's box.
        const fallback = role === "param" ? js.index("params", js.str(d.name)) : js.nil();
        const raw = this.names.derive("raw", d.name);
        const box = this.boxes.get(d.name)!;
        const isNumber = js.binary("===", js.unary("typeof", js.id(raw)), js.str("number"));
        this.usedBoxes.add(box);
        if (numeric.has(v)) {
          // The run function reads the value from the box (hoist.ts numericScalars), not
          // an argument: a number passed to a function V8 did not inline is a heap number.
          boxing.push(js.stmt(js.assign(js.index(box, js.num(0)), js.conditional(isNumber, js.id(raw), js.index(raw, js.num(0))))));
        } else {
          boxing.push(
            js.ifStmt(isNumber, [js.stmt(js.assign(js.index(box, js.num(0)), js.id(raw)))]),
            js.declare("const", v, js.conditional(isNumber, js.id(box), js.id(raw))),
          );
        }
        return [
          js.declare("let", raw, given),
          ...this.unstale(role, d.name, raw),
          js.ifStmt(js.logical("||", js.binary("!==", js.unary("typeof", js.id(raw)), js.str("number")), notOwn(d.name)), [
            js.stmt(js.assign(js.id(raw), js.call("scalarArg", js.id("values"), js.str(d.name), fallback, js.id("F"), missing, badType))),
          ]),
        ];
      }
      const bad = js.unary("!", js.instanceOf(js.id(v), js.id("F")));
      const check = js.ifStmt(role === "input" ? js.logical("||", bad, notOwn(d.name)) : bad,
        [js.stmt(js.call("badArgument", js.id("values"), js.str(d.name), js.bool(role === "input"), missing, badType, js.id(v)))]);
      if (role === "input") return [js.declare("const", v, given), check];
      // A param not given reads undefined (no lookup); one given but not own is the held one.
      const held = js.logical("||", js.binary("===", js.id(v), js.id("undefined")), js.unary("!", js.call(js.member("hasOwn", "call"), js.id("values"), js.str(d.name))));
      const notGiven = bits ? js.logical("&&", js.binary("===", js.binary("&", js.id("seen"), bit(d.name)), js.num(0)), held) : held;
      return [
        js.declare("let", v, given),
        js.ifStmt(notGiven, [js.stmt(js.assign(js.id(v), js.index("params", js.str(d.name))))]),
        ...this.unstale(role, d.name, v),
        check,
      ];
    };
    const boxing: js.Statement[] = [];
    for (const i of needed) append(out, take(i, "input"));
    // Many params: one loop over the table (param-table.ts), after the inputs are read.
    if (this.paramTable) out.push(takeParamsStatement());
    else for (const p of program.params) append(out, take(p, "param"));
    append(out, boxing);

    // Free dims, each from the first input where it is the only unknown.
    const solved = new Set<string>();
    const readFrom = new Map<string, string>();
    const decls: TensorDecl[] = [...needed];
    let progress = true;
    while (progress) {
      progress = false;
      for (const d of decls) {
        const unknown = [...new Set(d.shape.filter((s): s is string => typeof s === "string" && !solved.has(s)))];
        if (unknown.length !== 1) continue;
        const dim = unknown[0]!;
        const count = d.shape.filter((s) => s === dim).length;
        // A zero-size axis makes the length 0 whatever the dim is (src/lower/dims.ts agrees).
        if (count !== 1 || d.shape.some((s) => s === 0)) continue;
        const knownPart = this.sizeExpression({ coef: sizeOf(d.shape.filter((s) => s !== dim)).coef, dims: sizeOf(d.shape.filter((s) => s !== dim)).dims });
        const [before, after] = split(messages.E0405(d.name, dim, `its length ${marker} is not a whole multiple of the other sizes`));
        out.push(js.stmt(js.assign(js.id(this.dimNames.get(dim)!), js.call("inferDim",
          js.member(this.inputVars.get(d.name)!, "length"), knownPart, before, after))));
        solved.add(dim);
        readFrom.set(dim, d.name);
        progress = true;
      }
    }
    for (const d of [...needed, ...(this.paramTable ? [] : program.params)]) {
      if (d.shape.length === 0) continue;
      const v = program.inputs.includes(d) ? this.inputVars.get(d.name)! : this.paramVars.get(d.name)!;
      if (d.shape.some((s) => typeof s === "string" && !solved.has(s))) continue;
      const expected = this.sizeExpression(sizeOf(d.shape));
      const shown = d.shape.every((s) => typeof s === "number") ? String(numel(d.shape as number[])) : d.shape.join("*");
      const [before, after] = split(messages.E0403(d.name, shown as unknown as number, marker as unknown as number));
      out.push(js.ifStmt(js.binary("!==", js.member(v, "length"), expected), [js.stmt(js.call("badLength", js.id(v), before, after))]));
    }
    append(out, this.shapeCheckStatements(readFrom, fnName === "predict"));
    return out;
  }

  /** Shape conditions that only the values of free dims settle (src/lower/dims.ts), checked
   *  once the dims are read; the message names each dim's value and the input it came from. */
  private shapeCheckStatements(readFrom: ReadonlyMap<string, string>, outputsOnly = false): js.Statement[] {
    const { program } = this.model;
    // `predict` checks only what its outputs need: the objective's inputs are not given.
    const roots = [...program.outputs.map((o) => o.node), ...(program.objective && !outputsOnly ? [program.objective.node] : [])];
    const value = (d: Dim) => dimExpression(d, (n) => this.dimNames.get(n)!);
    // (the same for every API function but predict: found once)
    let checks = this.shapeCheckCache.get(outputsOnly);
    if (!checks) this.shapeCheckCache.set(outputsOnly, checks = shapeChecks(roots));
    return checks.map((c) => {
      const test = c.kind === "equal" ? js.binary("!==", value(c.a), value(c.b)) : js.binary("<", value(c.a), js.num(0));
      let message: js.Expression | undefined;
      const text = (s: string) => { message = message ? js.binary("+", message, js.str(s)) : js.str(s); };
      const where = c.span ? (() => { const lc = lineColumn(c.span.source.text, c.span.start); return `${c.span.source.file}:${lc.line}:${lc.column}`; })() : "shape";
      text(messages.E0410(where, c.detail));
      [...new Set([...dimNames(c.a), ...dimNames(c.b)])].sort().forEach((n, i) => {
        text(`${i === 0 ? ", with " : ", "}${n} = `);
        message = js.binary("+", message!, js.id(this.dimNames.get(n)!));
        const input = readFrom.get(n);
        if (input) text(` (from the length of \`${input}\`)`);
      });
      return js.ifStmt(test, [js.stmt(js.call("fail", js.str("E0410"), message!))]);
    });
  }

  private updateStatements(gradBuffers: string[], sparse: (SparseGradient & { gName: string; idsName: string } | undefined)[] = []): js.Statement[] {
    const { program } = this.model;
    const spec = program.optimizer!;
    const def = optimizers[spec.kind];
    const counter = this.names.unique("opt_t");
    this.top.push(js.declare("let", counter, js.num(0)));
    this.wasm?.cell(counter);
    const hyper = (h: Hyper): js.Expression => (typeof h === "number" ? js.num(h) : js.index(this.inputVars.get(h.input)!, js.num(0)));
    const fresh = (prefix: string) => this.names.unique(prefix);
    const params = trainable(program.params);
    const out: js.Statement[] = [];
    let grad = (buffer: string, i: js.Expression): js.Expression => js.index(buffer, i);
    if (spec.clip_norm !== undefined) {
      const sum = this.names.unique("opt_sumsq");
      this.top.push(js.declare("const", sum, this.buffer(sum, 1, "Float64Array")));
      const clip = clipStatements(hyper(spec.clip_norm), params.map((p, i) => ({ buffer: gradBuffers[i]!, length: js.num(numel(p.shape as number[])) })), sum, fresh);
      append(out, clip.statements);
      grad = (buffer, i) => js.binary("*", js.index(buffer, i), js.id(clip.scale));
    }
    append(out, def.prologue(spec, { counter, hyper, fresh }));
    params.forEach((p, i) => {
      const state: string[] = [];
      for (let k = 0; k < def.stateArrays; k++) {
        const s = this.names.derive(`opt${k}`, p.name);
        this.top.push(js.declare("const", s, this.buffer(s, numel(p.shape as number[]), "F")));
        state.push(s);
      }
      const rows = sparse[i];
      if (rows && spec.kind === "sgd" && typeof spec.lr === "number") {
        const dim = (d: Dim) => dimExpression(d, (n) => this.dimNames.get(n)!);
        out.push(sparseSgdUpdate(spec.lr, this.paramVars.get(p.name)!, rows, rows.gName, rows.idsName, dim, (prefix) => this.names.unique(prefix)));
        return;
      }
      const buffer = gradBuffers[i]!;
      append(out, def.update(spec, {
        param: this.paramVars.get(p.name)!, grad: (k) => grad(buffer, k), state, counter, hyper, fresh,
        length: js.num(numel(p.shape as number[])),
      }));
    });
    return out;
  }
}

/** Initialisers reduced to the runtime's three kinds: 0 constant a; 1 uniform [a, b); 2 normal(a, b). */
function initArguments(init: InitSpec, shape: readonly number[]): [number, number, number] {
  const [fanIn, fanOut] = fans(shape);
  switch (init.kind) {
    case "zeros": return [0, 0, 0];
    case "ones": return [0, 1, 0];
    case "constant": return [0, init.value, 0];
    case "uniform": return [1, init.lo, init.hi];
    case "normal": return [2, init.mean, init.std];
    case "glorot_uniform": {
      const limit = Math.sqrt(6 / (fanIn + fanOut));
      return [1, -limit, limit];
    }
    case "he_normal": return [2, 0, Math.sqrt(2 / fanIn)];
  }
}

/** Fan-in and fan-out: [in, out] for matrices, OIHW for conv kernels. */
function fans(shape: readonly number[]): [number, number] {
  if (shape.length === 0) return [1, 1];
  if (shape.length === 1) return [shape[0]!, shape[0]!];
  const receptive = shape.slice(2).reduce((a, b) => a * b, 1);
  if (shape.length >= 3) return [shape[1]! * receptive, shape[0]! * receptive];
  return [shape[0]!, shape[1]!];
}

export type { Dim };
