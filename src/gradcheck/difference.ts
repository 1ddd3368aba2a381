// One element's finite-difference estimate of a derivative, with its own uncertainty:
// central quotients at steps h, h/2 and h/4, two Richardson extrapolations from them (the
// O(h^2) errors cancel, leaving O(h^4)), the gap between the two as the measured error,
// and the rounding of the objective amplified by the step (about eps * |f| / h). A large
// step (1e-3) keeps rounding small; where its extrapolations disagree (high curvature, a
// kink nearby) a small one (1e-5) is taken instead.

export interface Estimate {
  /** The derivative, from the finer extrapolation. */
  fd: number;
  /** |fine - coarse|: truncation and rounding as they happened at this element, or the
   *  sign of a kink, a branch or a tie within a step when large. */
  gap: number;
  /** The objective's rounding carried into fd: about 2 eps |f| / h. */
  rounding: number;
  /** The gap is more than 1e-4 of the estimate: a kink lies within a step. */
  kink: boolean;
}

const eps = Number.EPSILON;

/** d f / d x at `x`, where `at(dx)` is the objective with x moved by dx. */
export function centralDifference(at: (dx: number) => number, x: number): Estimate {
  const scale = Math.max(1, Math.abs(x));
  const large = extrapolate(at, 1e-3 * scale);
  // Converged to near rounding: the large step's smaller rounding wins.
  if (large.gap <= 1e-9 * Math.abs(large.fd) + 4 * large.rounding) return large;
  return extrapolate(at, 1e-5 * scale);
}

function extrapolate(at: (dx: number) => number, h: number): Estimate {
  let fmax = 0;
  const quotient = (s: number) => {
    const up = at(s);
    const down = at(-s);
    fmax = Math.max(fmax, Math.abs(up), Math.abs(down));
    return (up - down) / (2 * s);
  };
  const [q1, q2, q3] = [quotient(h), quotient(h / 2), quotient(h / 4)];
  const coarse = q2 + (q2 - q1) / 3;
  const fd = q3 + (q3 - q2) / 3;
  const rounding = (2 * eps * fmax) / h;
  const gap = Math.abs(fd - coarse);
  const kink = !Number.isFinite(fd) || gap > 1e-4 * Math.max(Math.abs(fd), Math.abs(coarse)) + 4 * rounding;
  return { fd, gap, rounding, kink };
}
