// Matrix-product and row kernels shared by the hand-written W6 and W7 steps: row-major
// Float32Arrays with offsets, 2x4 register tiles (8 accumulators in locals), k innermost.
// M must be even and N a multiple of 4 (true of every size those workloads use).

/** C[M,N] = (acc ? C : 0) + A[M,K] @ B[K,N] (row-major, offsets); M % 2 == 0, N % 4 == 0. */
export function mmNN(A, ao, Bm, bo, C, co, M, K, N, acc) {
  for (let i = 0; i < M; i += 2) {
    const a0 = ao + i * K, a1 = a0 + K;
    for (let j = 0; j < N; j += 4) {
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      let bk = bo + j;
      for (let k = 0; k < K; k++, bk += N) {
        const x0 = A[a0 + k], x1 = A[a1 + k];
        const b0 = Bm[bk], b1 = Bm[bk + 1], b2 = Bm[bk + 2], b3 = Bm[bk + 3];
        c00 += x0 * b0; c01 += x0 * b1; c02 += x0 * b2; c03 += x0 * b3;
        c10 += x1 * b0; c11 += x1 * b1; c12 += x1 * b2; c13 += x1 * b3;
      }
      const o0 = co + i * N + j, o1 = o0 + N;
      if (acc) {
        C[o0] += c00; C[o0 + 1] += c01; C[o0 + 2] += c02; C[o0 + 3] += c03;
        C[o1] += c10; C[o1 + 1] += c11; C[o1 + 2] += c12; C[o1 + 3] += c13;
      } else {
        C[o0] = c00; C[o0 + 1] = c01; C[o0 + 2] = c02; C[o0 + 3] = c03;
        C[o1] = c10; C[o1 + 1] = c11; C[o1 + 2] = c12; C[o1 + 3] = c13;
      }
    }
  }
}

/** C[M,N] = (acc ? C : 0) + A[M,K] @ B[N,K]^T: rows of A against rows of B, both contiguous. */
export function mmNT(A, ao, Bm, bo, C, co, M, K, N, acc) {
  for (let i = 0; i < M; i += 2) {
    const a0 = ao + i * K, a1 = a0 + K;
    for (let j = 0; j < N; j += 4) {
      const b0 = bo + j * K, b1 = b0 + K, b2 = b1 + K, b3 = b2 + K;
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      for (let k = 0; k < K; k++) {
        const x0 = A[a0 + k], x1 = A[a1 + k];
        const y0 = Bm[b0 + k], y1 = Bm[b1 + k], y2 = Bm[b2 + k], y3 = Bm[b3 + k];
        c00 += x0 * y0; c01 += x0 * y1; c02 += x0 * y2; c03 += x0 * y3;
        c10 += x1 * y0; c11 += x1 * y1; c12 += x1 * y2; c13 += x1 * y3;
      }
      const o0 = co + i * N + j, o1 = o0 + N;
      if (acc) {
        C[o0] += c00; C[o0 + 1] += c01; C[o0 + 2] += c02; C[o0 + 3] += c03;
        C[o1] += c10; C[o1 + 1] += c11; C[o1 + 2] += c12; C[o1 + 3] += c13;
      } else {
        C[o0] = c00; C[o0 + 1] = c01; C[o0 + 2] = c02; C[o0 + 3] = c03;
        C[o1] = c10; C[o1 + 1] = c11; C[o1 + 2] = c12; C[o1 + 3] = c13;
      }
    }
  }
}

/** C[M,N] = A[K,M]^T @ B[K,N] (weight gradients: K is the 1024 positions). */
export function mmTN(A, ao, Bm, bo, C, M, K, N) {
  for (let i = 0; i < M; i += 2) {
    for (let j = 0; j < N; j += 4) {
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      let ak = ao + i, bk = bo + j;
      for (let k = 0; k < K; k++, ak += M, bk += N) {
        const x0 = A[ak], x1 = A[ak + 1];
        const y0 = Bm[bk], y1 = Bm[bk + 1], y2 = Bm[bk + 2], y3 = Bm[bk + 3];
        c00 += x0 * y0; c01 += x0 * y1; c02 += x0 * y2; c03 += x0 * y3;
        c10 += x1 * y0; c11 += x1 * y1; c12 += x1 * y2; c13 += x1 * y3;
      }
      const o0 = i * N + j, o1 = o0 + N;
      C[o0] = c00; C[o0 + 1] = c01; C[o0 + 2] = c02; C[o0 + 3] = c03;
      C[o1] = c10; C[o1 + 1] = c11; C[o1 + 2] = c12; C[o1 + 3] = c13;
    }
  }
}

/** out[N] = column sums of A[M,N]. */
export function colSum(A, M, N, out) {
  out.fill(0);
  for (let i = 0; i < M; i++) {
    const a = i * N;
    for (let j = 0; j < N; j++) out[j] += A[a + j];
  }
}

/** Adds a bias row to every row of A[M,N]. */
export function addRows(A, M, N, b) {
  for (let i = 0; i < M; i++) {
    const a = i * N;
    for (let j = 0; j < N; j++) A[a + j] += b[j];
  }
}

export function sgd(w, g, lr) {
  for (let i = 0; i < w.length; i++) w[i] -= lr * g[i];
}
