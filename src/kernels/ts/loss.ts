/**
 * Softmax cross-entropy over logits (N, C) and integer labels (N) in [0, C) (PyTorch's cross_entropy with
 * reduction 'mean', no weights, no label smoothing):
 *
 *   forward, per row:  m = max_c logits[n, c]
 *                      lse = m + log(sum_c exp(logits[n, c] - m))     (log-sum-exp: no overflow for any finite logits)
 *                      probs[n, c] = exp(logits[n, c] - m) / sum       (saved for backward)
 *                      loss_n = lse - logits[n, labels[n]]
 *              returns the mean of loss_n over the batch, a double (0 for N = 0)
 *   backward:  dlogits[n, c] = scale * (probs[n, c] - (c == labels[n] ? 1 : 0)); scale = 1/N for the mean loss
 *              (the caller passes it, so a sum or a weighted loss needs no other kernel)
 *
 * Every row's arithmetic is in double precision, as are the loss and its mean; probs and dlogits are rounded
 * to the storage's precision once, when written.
 */
import type { FloatArray } from '../check.js';

export function softmaxCrossEntropyForward<F extends FloatArray>(probs: F, logits: F, labels: Int32Array,
  N: number, C: number): number {
  if (N === 0) return 0;
  let total = 0;
  for (let n = 0; n < N; n++) {
    const row = n * C;
    let m = logits[row];
    for (let c = 1; c < C; c++) if (logits[row + c] > m) m = logits[row + c];
    let sum = 0;
    for (let c = 0; c < C; c++) {
      const e = Math.exp(logits[row + c] - m);
      probs[row + c] = e;
      sum += e;
    }
    const inv = 1 / sum;
    for (let c = 0; c < C; c++) probs[row + c] *= inv;
    total += m + Math.log(sum) - logits[row + labels[n]];
  }
  return total / N;
}

export function softmaxCrossEntropyBackward<F extends FloatArray>(dlogits: F, probs: F, labels: Int32Array,
  N: number, C: number, scale: number): void {
  for (let n = 0; n < N; n++) {
    const row = n * C;
    for (let c = 0; c < C; c++) dlogits[row + c] = scale * probs[row + c];
    dlogits[row + labels[n]] = scale * (probs[row + labels[n]] - 1);
  }
}
