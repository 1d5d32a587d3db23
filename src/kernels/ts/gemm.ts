/**
 * gemm: C = alpha * op(A) * op(B) + beta * C, row-major.
 *
 * Shapes: op(A) is M x K (A is M x K, or K x M when transA), op(B) is K x N (B is K x N, or N x K when
 * transB), C is M x N. As in BLAS, beta == 0 means C is overwritten and never read (NaN in C does not
 * survive), and alpha == 0 or K == 0 leaves beta * C.
 *
 * This is the spec the native GEMM is held against, written for speed within plain TypeScript: every inner
 * loop runs over contiguous memory (an axpy along a row of op(B), or a dot product along K), and the loops
 * are blocked over K and N so the rows they touch stay in cache. Generic over float32 and float64 storage;
 * sums are formed in double precision either way.
 */
export type FloatArray = Float32Array | Float64Array;

const KC = 256; // rows of op(B) per block: KC * NC floats stay in L2
const NC = 512; // columns of C per block

export function gemm<T extends FloatArray>(
  transA: boolean, transB: boolean, M: number, N: number, K: number,
  alpha: number, A: T, B: T, beta: number, C: T,
): void {
  scaleC(M * N, beta, C);
  if (M === 0 || N === 0 || K === 0 || alpha === 0) return;
  if (!transB) {
    gemmRowsOfB(transA, M, N, K, alpha, A, B, C);
  } else if (!transA) {
    gemmDots(M, N, K, alpha, A, B, C);
  } else {
    // op(A) and op(B) both transposed: lay B out as K x N once, then take the row path.
    const Bt = transposeScratch(B, N, K);
    gemmRowsOfB(true, M, N, K, alpha, A, Bt, C);
  }
}

function scaleC(length: number, beta: number, C: FloatArray): void {
  if (beta === 1) return;
  if (beta === 0) {
    C.fill(0, 0, length);
    return;
  }
  for (let i = 0; i < length; i++) C[i] *= beta;
}

/** C[i, :] += alpha * a(i, k) * B[k, :] with B stored K x N; a(i, k) read from A or A^T. */
function gemmRowsOfB(transA: boolean, M: number, N: number, K: number, alpha: number,
  A: FloatArray, B: FloatArray, C: FloatArray): void {
  // a(i, k) = A[i * strideI + k * strideK]
  const strideI = transA ? 1 : K;
  const strideK = transA ? M : 1;
  for (let j0 = 0; j0 < N; j0 += NC) {
    const j1 = Math.min(N, j0 + NC);
    for (let k0 = 0; k0 < K; k0 += KC) {
      const k1 = Math.min(K, k0 + KC);
      for (let i = 0; i < M; i++) {
        const c = i * N;
        const aRow = i * strideI;
        let k = k0;
        // Four rows of B at a time: one pass over C's row for four updates.
        for (; k + 3 < k1; k += 4) {
          const a0 = alpha * A[aRow + k * strideK];
          const a1 = alpha * A[aRow + (k + 1) * strideK];
          const a2 = alpha * A[aRow + (k + 2) * strideK];
          const a3 = alpha * A[aRow + (k + 3) * strideK];
          const b0 = k * N, b1 = b0 + N, b2 = b1 + N, b3 = b2 + N;
          for (let j = j0; j < j1; j++) {
            C[c + j] += a0 * B[b0 + j] + a1 * B[b1 + j] + a2 * B[b2 + j] + a3 * B[b3 + j];
          }
        }
        for (; k < k1; k++) {
          const a0 = alpha * A[aRow + k * strideK];
          const b0 = k * N;
          for (let j = j0; j < j1; j++) C[c + j] += a0 * B[b0 + j];
        }
      }
    }
  }
}

/** C[i, j] += alpha * dot(A[i, :], B[j, :]) with A stored M x K and B stored N x K. */
function gemmDots(M: number, N: number, K: number, alpha: number, A: FloatArray, B: FloatArray, C: FloatArray): void {
  for (let i = 0; i < M; i++) {
    const a = i * K;
    const c = i * N;
    let j = 0;
    // Four rows of B share each load of A's row.
    for (; j + 3 < N; j += 4) {
      const b0 = j * K, b1 = b0 + K, b2 = b1 + K, b3 = b2 + K;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let k = 0; k < K; k++) {
        const x = A[a + k];
        s0 += x * B[b0 + k];
        s1 += x * B[b1 + k];
        s2 += x * B[b2 + k];
        s3 += x * B[b3 + k];
      }
      C[c + j] += alpha * s0;
      C[c + j + 1] += alpha * s1;
      C[c + j + 2] += alpha * s2;
      C[c + j + 3] += alpha * s3;
    }
    for (; j < N; j++) {
      const b = j * K;
      let s = 0;
      for (let k = 0; k < K; k++) s += A[a + k] * B[b + k];
      C[c + j] += alpha * s;
    }
  }
}

let scratch32 = new Float32Array(0);
let scratch64 = new Float64Array(0);

/** B (rows x cols) transposed into a reused buffer of the same precision: no allocation once it is large enough. */
function transposeScratch(B: FloatArray, rows: number, cols: number): FloatArray {
  const length = rows * cols;
  let out: FloatArray;
  if (B instanceof Float64Array) {
    if (scratch64.length < length) scratch64 = new Float64Array(length);
    out = scratch64;
  } else {
    if (scratch32.length < length) scratch32 = new Float32Array(length);
    out = scratch32;
  }
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[c * rows + r] = B[r * cols + c];
  }
  return out;
}
