/** Classification metrics over logits (N, C) and class indices. */
import type { FloatArray } from '../kernels/check.js';

/** How many rows have their largest logit at the label (the first largest, as torch.argmax). */
export function countCorrect(logits: FloatArray, labels: Int32Array, N: number, C: number): number {
  let correct = 0;
  for (let n = 0; n < N; n++) {
    if (argmaxRow(logits, n, C) === labels[n]) correct++;
  }
  return correct;
}

/** Adds each row's (label, prediction) into a C x C confusion matrix, rows = true class. */
export function addConfusion(confusion: Int32Array, logits: FloatArray, labels: Int32Array, N: number, C: number): void {
  for (let n = 0; n < N; n++) confusion[labels[n] * C + argmaxRow(logits, n, C)]++;
}

function argmaxRow(logits: FloatArray, n: number, C: number): number {
  let best = 0;
  let max = logits[n * C];
  for (let c = 1; c < C; c++) {
    if (logits[n * C + c] > max) {
      max = logits[n * C + c];
      best = c;
    }
  }
  return best;
}
