// A GRU over a scan, for the run-time tests (runtime.test.ts, allocation.test.ts).

/** The GRU with T = `t` steps: a number, or "t" for a free dim. */
export const gru = (t: string) => `${t === "t" ? "dim t\n" : ""}input xs: [${t}, 4, 3]
input h0: [4, 8]
param wz: [3, 8] = glorot_uniform
param uz: [8, 8] = glorot_uniform
param wn: [3, 8] = glorot_uniform
param un: [8, 8] = glorot_uniform
fn cell(h, x) {
  z = sigmoid(x @ wz + h @ uz)
  n = tanh(x @ wn + (z * h) @ un)
  (1 - z) * n + z * h
}
hs = scan(cell, h0, xs)
output hs
minimize mean(hs * hs) with adam(lr = 0.01)`;
