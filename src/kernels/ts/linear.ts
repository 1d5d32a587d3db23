/**
 * A Linear layer's two passes, each one kernel call (torch.nn.Linear: y = x * weight^T + bias):
 *
 *   linearForward   y (N, out) = x (N, in) * weight^T (in, out) + bias: every row of y starts as bias and the
 *                   GEMM adds into it (beta 1), so the bias costs no pass of its own
 *   linearBackward  dweight (out, in) += dy^T * x     dbias (out) += column sums of dy (in double)
 *                   dx (N, in) = dy * weight          (skipped when dx is null: the first layer needs none)
 *
 * bias and dbias are null for a Linear without bias.
 */
import type { FloatArray } from '../check.js';
import { gemm } from './gemm.js';

export function linearForward<F extends FloatArray>(y: F, x: F, weight: F, bias: F | null,
  N: number, inFeatures: number, outFeatures: number): void {
  if (bias) for (let n = 0; n < N; n++) y.set(bias, n * outFeatures);
  gemm(false, true, N, outFeatures, inFeatures, 1, x, weight, bias ? 1 : 0, y);
}

export function linearBackward<F extends FloatArray>(dx: F | null, dweight: F, dbias: F | null, dy: F, x: F, weight: F,
  N: number, inFeatures: number, outFeatures: number): void {
  gemm(true, false, outFeatures, inFeatures, N, 1, dy, x, 1, dweight);
  if (dbias) {
    for (let j = 0; j < outFeatures; j++) {
      let sum = 0;
      for (let n = 0; n < N; n++) sum += dy[n * outFeatures + j];
      dbias[j] += sum;
    }
  }
  if (dx) gemm(false, false, N, inFeatures, outFeatures, 1, dy, weight, 0, dx);
}
