// W3 by hand: the gradient of f(x, y) = (1-x)^2 + 100(y-x^2)^2 + sin(xy) exp(-x^2) over a
// batch of points, derived on paper with the shared terms named once:
//   d = y - x^2, e = exp(-x^2), s = sin(xy), c = cos(xy)
//   df/dx = -2(1-x) - 400 x d + e (y c - 2 x s)
//   df/dy = 200 d + x c e
// Inputs and outputs are Float32Arrays, as gradc's.

export function handGrad(n) {
  const gx = new Float32Array(n), gy = new Float32Array(n);
  const make = new Function("gx", "gy", `
    return function run(v) {
      const xs = v.x, ys = v.y;
      for (let i = 0; i < ${n}; i++) {
        const x = xs[i], y = ys[i];
        const x2 = x * x;
        const d = y - x2;
        const e = Math.exp(-x2);
        const xy = x * y;
        const s = Math.sin(xy), c = Math.cos(xy);
        gx[i] = -2 * (1 - x) - 400 * x * d + e * (y * c - 2 * x * s);
        gy[i] = 200 * d + x * c * e;
      }
      return gx[0];
    };`);
  return { gx, gy, run: make(gx, gy) };
}
