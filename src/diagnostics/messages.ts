// The message catalog: every user-facing diagnostic has a stable code and one template
// here, never an inline string at the call site (Svelte's `messages/`).

export const messages = {
  // lexical and syntax
  E0001: (found: string) => `unexpected character ${found}`,
  E0002: (expected: string, found: string) => `expected ${expected}, found ${found}`,
  E0003: (text: string) => `malformed number \`${text}\``,
  E0004: () => `program is nested too deeply`,
  E0005: (name: string) => `\`${name}\` is a reserved word and cannot be used as a name`,
  E0006: () => `positional arguments must come before keyword arguments`,
  E0007: (name: string) => `keyword argument \`${name}\` is given twice`,
  E0008: () => `comparisons cannot be chained; use parentheses`,
  E0009: () => `\`...\` may appear at most once in an index`,
  E0010: (open: string) => `unclosed \`${open}\``,
  E0011: () => `\`=\` inside a call names a keyword argument; to compare, use \`==\``,
  E0020: (name: string) => `a function body cannot end with a definition (\`${name} = ...\`): its last line is the value`,
  E0021: (name: string) => `\`${name}\` is already defined in this function body`,
  E0019: (name: string) => `parameter \`${name}\` needs a default value, like the parameters before it (\`${name} = ...\`)`,
  // names and statements
  E0101: (name: string) => `unknown name \`${name}\``,
  E0102: (name: string) => `\`${name}\` is already defined`,
  E0103: (name: string, kind: string) => `\`${name}\` is ${kind} and cannot be assigned`,
  E0104: (name: string) => `unknown function \`${name}\``,
  E0105: (name: string, expected: string, found: number) =>
    `\`${name}\` takes ${expected}, but ${found} ${found === 1 ? "was" : "were"} given`,
  E0106: (name: string, arg: string) => `\`${name}\` has no argument named \`${arg}\``,
  E0107: (name: string, arg: string) => `\`${name}\` is missing its argument \`${arg}\``,
  E0108: (chain: string) => `functions call each other recursively: ${chain}`,
  E0109: (name: string) => `\`${name}\` is a function; call it with arguments`,
  E0110: (name: string) => `\`${name}\` is a tensor, not a function`,
  E0111: () => `a program may have only one \`minimize\``,
  E0112: (name: string) => `\`${name}\` is listed as an output twice`,
  E0113: (name: string) => `unknown optimizer \`${name}\``,
  E0114: (name: string) => `unknown initialiser \`${name}\``,
  E0116: (name: string, arg: string) => `\`${name}\`: \`${arg}\` must be a constant number`,
  E0117: (name: string, arg: string) => `\`${name}\`: \`${arg}\` must be \`true\` or \`false\``,
  E0118: (name: string) => `argument \`${name}\` must be a list of integers, like [0, 1]`,
  E0119: (name: string) => `the second argument of \`grad\` must be a param or input name, found ${name}`,
  E0121: (name: string) => `\`${name}\` is a function parameter name used twice`,
  E0122: () => `\`true\` and \`false\` can only be keyword-argument values`,
  E0123: () => `a list is not a tensor; lists are only for arguments such as \`axis\`, shapes and \`concat\``,
  E0124: (name: string) => `\`${name}\` is not defined yet; names must be defined before they are used`,
  E0125: (name: string) => `param \`${name}\` has a free dim in its shape; bind it with \`sizes\` (or \`--size\`) so the param can be allocated`,
  E0126: (name: string) => `dim \`${name}\` is free, but no input's length determines it; bind it with the \`sizes\` option (or \`--size\`)`,
  E0127: () => `a string is not a tensor; strings are only for arguments such as einsum's subscripts`,
  E0128: (name: string, arg: string) => `\`${name}\`: \`${arg}\` must be a constant number or the name of a scalar input`,
  // shapes
  E0201: (a: string, b: string) => `cannot broadcast ${a} with ${b}`,
  E0202: (a: string, b: string, detail: string) => `cannot matmul ${a} by ${b}: ${detail}`,
  E0203: (axis: number, rank: number) => `axis ${axis} is out of range for a tensor of rank ${rank}`,
  E0204: (axis: number) => `axis ${axis} is listed twice`,
  E0205: (from: string, to: string) => `cannot reshape ${from} to ${to}: the sizes differ`,
  E0206: () => `reshape allows at most one -1`,
  E0207: (perm: string, rank: number) => `${perm} is not a permutation of the ${rank} axes`,
  E0208: (from: string, to: string) => `cannot broadcast ${from} to ${to}`,
  E0209: (detail: string) => `cannot concatenate: ${detail}`,
  E0210: (detail: string) => `bad index: ${detail}`,
  E0211: (shape: string) => `the objective must be a scalar, but this is ${shape}`,
  E0212: (what: string, shape: string) => `${what} must be a scalar, but this is ${shape}`,
  // convolution: `fn` is the built-in as written (conv1d, conv2d, conv_transpose2d, ...)
  E0213: (fn: string, weights: string, expected: string, input: string, found: string) =>
    `${fn}: the weights ${weights} expect ${expected} input channels, but the input ${input} has ${found}`,
  E0250: (fn: string, what: string, layout: string, found: string) => `${fn}: the ${what} must be ${layout}, but this is ${found}`,
  E0251: (fn: string, what: string, count: string, groups: number) =>
    `${fn}: the ${what} must be divisible by groups = ${groups}, but there are ${count}`,
  E0252: (fn: string, kernel: string, input: string) =>
    `${fn}: the output would be empty: the ${kernel} kernel (spread by its dilation) is larger than the ${input} padded input`,
  E0253: (fn: string, arg: string, rule: string, found: string) => `${fn}: \`${arg}\` must be ${rule}, found ${found}`,
  E0254: (fn: string, what: string, shape: string) => `${fn}: the ${what} must be known sizes, but this is ${shape}`,
  E0255: (fn: string, what: string, found: string, expected: string) => `${fn}: ${what} is ${found}, but must be ${expected}`,
  E0256: (fn: string, sizes: string) =>
    `${fn}: the output would be empty: (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1 gives ${sizes}`,
  E0214: (name: string, detail: string) => `${name}: ${detail}`,
  E0215: (detail: string) => `bad size: ${detail}`,
  E0216: (k: string) => `one_hot: the number of classes must be a positive integer, found ${k}`,
  E0219: (name: string) => `grad: \`${name}\` must be a scalar expression`,
  E0220: (shape: string, count: number) => `a tensor of shape ${shape} would have ${count} elements, more than the limit of 2147483647 (2^31 - 1)`,
  E0221: (limit: number) => `the program is too large: its graph would have more than ${limit} nodes (nested \`grad\` or functions that call each other twice can grow it exponentially)`,
  E0222: (detail: string) => `cannot allocate the model's params and buffers (${detail}): they need more memory than the JavaScript engine can give`,
  E0223: (shape: string, rank: number) => `a tensor of shape ${shape} has rank ${rank}, more than the limit of 8`,
  E0224: (detail: string) => `bad shape expression: ${detail}`,
  E0225: (detail: string) => `einsum: ${detail}`,
  // take, scatter_add and constants
  // the built-ins for real models (src/lower/builtins-models.ts)
  E0260: (fn: string, axis: number, size: string) => `${fn}: axis ${axis} has size ${size}, not 1`,
  E0261: (fn: string, a: string, b: string) => `${fn}: every tensor must have the same shape, but ${a} and ${b} differ`,
  E0264: (what: string, found: string) => `scan: the first argument must name a function of ${what}, but ${found}`,
  E0265: (shape: string) => `scan: \`xs\` is sliced along its first axis, so it needs one, but its shape is ${shape}`,
  E0267: (detail: string) => `scan: ${detail}`,
  E0266: (result: string, init: string) => `scan: the function returns ${result}, but the carry (\`init\`) is ${init}; it must return the carry's shape`,
  E0263: (fn: string, arg: string, expected: number, found: number) =>
    `${fn}: \`${arg}\` needs one entry per axis (${expected}), but has ${found}`,
  E0240: (detail: string) => `tensor: ${detail}`,
  E0241: (detail: string) => `scatter_add: ${detail}`,
  E0242: (value: string, index: string, bound: number | string) =>
    `the id ${value} at index ${index} is not an integer in [0, ${bound})`,
  E0243: (detail: string) => `arange: ${detail}`,
  E0244: (fn: string, arg: string) => `\`${fn}\`: \`${arg}\` must be an integer or a dim name`,
  E0246: (ids: string, bound: string) =>
    `the ids ${ids} may not fit an axis of size ${bound}: a range of ids sized by a dim can index only an axis of that dim or of a fixed size`,
  E0247: (dim: string, bound: number) => `the ids arange(stop = ${dim}) index an axis of size ${bound}, so ${dim} must be at most ${bound}`,
  E0245: (fn: string, arg: string, found: string) => `\`${fn}\`: \`${arg}\` must be a constant number, found ${found}`,
  // sizes and options
  E0301: (name: string) => `unknown size \`${name}\`: the program declares no \`dim ${name}\``,
  E0302: (name: string, value: string) => `size \`${name}\` must be a positive integer, found ${value}`,
  E0303: (value: string) => `unknown dtype ${value}: use "f32" or "f64"`,
  E0304: (detail: string) => `bad option: ${detail}`,
  E0305: (option: string, known: string) => `unknown option \`${option}\`; the options are ${known}`,
  E0306: (name: string, dims: string) => `\`dims\` names \`${name}\`, which is not a free dim of the model (${dims})`,
  E0307: (value: string) => `unknown target ${value}: use "js" or "wasm"`,
  E0308: (what: string, why: string) => `the wasm target cannot compile ${what} yet: ${why}; use target "js" (docs/wasm.md)`,
  // runtime misuse (reported by the compiled model's wrappers)
  E0401: (name: string) => `missing input \`${name}\``,
  E0402: (name: string) => `unknown value \`${name}\`: the model has no input or param of that name`,
  E0403: (name: string, expected: number, found: number) =>
    `\`${name}\` must have ${expected} elements, but has ${found}`,
  E0404: (name: string, expected: string, found: string) => `\`${name}\` must be a ${expected}, but is ${found}`,
  E0405: (name: string, dim: string, detail: string) => `\`${name}\`: cannot infer dim \`${dim}\`: ${detail}`,
  E0406: () => `this program has no \`minimize\`, so it has no gradient or step`,
  E0407: (name: string, dims: string) => `\`${name}\` has free dims ${dims} whose values cannot be read from the arrays passed in; bind them with the \`sizes\` option`,
  E0408: (count: number) => `this call needs a tensor of ${count} elements, more than the limit of 2147483647 (2^31 - 1)`,
  E0409: (count: number) => `cannot allocate a tensor of ${count} elements: out of memory`,
  // shape expressions only the dims' values settle (`where` is file:line:col; `detail` is E0205 or E0412)
  E0410: (where: string, detail: string) => `${where}: ${detail}`,
  E0411: (found: string) => `createParams(seed): the seed must be an integer, but is ${found}`,
  E0412: (dim: string) => `the size ${dim} is negative`,
  E0413: (arg: string, rule: string, found: string) => `reseed(seed, calls = 0): \`${arg}\` must be ${rule}, but is ${found}`,
  // ids of take / one_hot, checked by the compiled model once per call
  E0420: (name: string, value: string, index: string, flat: string, bound: string) =>
    `\`${name}\` holds ${value} at index ${index} (flat index ${flat}), but an id must be an integer in [0, ${bound})`,
  E0421: (source: string, value: string, index: string, flat: string, bound: string) =>
    `the ids computed at ${source} hold ${value} at index ${index} (flat index ${flat}), but an id must be an integer in [0, ${bound})`,
  E0422: (value: string, index: string, flat: number, bound: number) =>
    `the ids hold ${value} at index ${index} (flat index ${flat}), but an id must be an integer in [0, ${bound})`,
  // CLI
  E0502: (path: string, reason: string) => `cannot read ${path}: ${reason}`,
  E0503: (path: string, reason: string) => `cannot write ${path}: ${reason}`,
  E0504: (path: string) => `-o ${path} would overwrite the model itself; choose a .mjs, .cjs or .js name`,
} as const;

export type MessageCode = keyof typeof messages;
