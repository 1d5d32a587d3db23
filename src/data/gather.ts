/**
 * The data layer's inner loops, in the kernels' argument order (outputs, inputs, dims, scalars):
 *
 *   gatherScale   out[n*D + d] = x[rows[n]*D + d] * scale        out (N, D) float32, x (rows, D) uint8 or float32
 *   gatherLabels  out[n] = labels[rows[n]]                        out (N) int32
 *   oneHotRows    out[n*C + c] = (c == labels[n]) ? 1 : 0         out (N, C) float32
 *
 * gatherScale, the one that moves the pixels, is a backend kernel (src/kernels/ts/gather.ts and its native twin);
 * the other two touch one value per sample. The exported ones check their arguments; Dataset.batch, which checks
 * its rows where they come in, calls the unchecked ones.
 */
import { types } from 'node:util';
import { getBackend } from '../kernels/backend.js';
import { ArgReader } from '../kernels/check.js';

/** The TS backend's gatherScale, its arguments checked (unchecked, a huge N looped for ever). */
export function gatherScale(out: Float32Array, x: Uint8Array | Float32Array, rows: Int32Array, N: number, D: number, scale: number): void {
  getBackend('ts').gatherScale(out, x, rows, N, D, scale);
}

/** out (N) = labels[rows], checked: a TypeError or RangeError naming the argument. */
export function gatherLabels(out: Int32Array, labels: Uint8Array | Int32Array, rows: Int32Array, N: number): void {
  const r = new ArgReader('gatherLabels', [out, labels, rows, N], 'out, labels, rows, N', Float32Array);
  const n = r.int(3);
  r.int32s(0, n, 'N');
  if (!(types.isUint8Array(labels) || types.isInt32Array(labels))) throw new TypeError('gatherLabels: labels must be a Uint8Array or an Int32Array');
  r.int32s(2, n, 'N');
  for (let i = 0; i < n; i++) {
    if (!(rows[i] >= 0 && rows[i] < labels.length)) throw new RangeError(`gatherLabels: rows[${i}] = ${rows[i]} is not an index of labels in [0, ${labels.length})`);
  }
  r.noOverlap(['out']);
  gatherLabelsUnchecked(out, labels, rows, n);
}

/** out (N, C) = one-hot rows of labels, checked: a TypeError or RangeError naming the argument. */
export function oneHotRows(out: Float32Array, labels: Int32Array, N: number, C: number): void {
  const r = new ArgReader('oneHotRows', [out, labels, N, C], 'out, labels, N, C', Float32Array);
  const [n, c] = [r.int(2), r.int(3)];
  r.float32s(0, n * c, 'N*C');
  r.int32s(1, n, 'N');
  for (let i = 0; i < n; i++) {
    if (!(labels[i] >= 0 && labels[i] < c)) throw new RangeError(`oneHotRows: labels[${i}] = ${labels[i]} is not a class index in [0, ${c})`);
  }
  r.noOverlap(['out']);
  oneHotRowsUnchecked(out, labels, n, c);
}

/** Dataset.batch's: its rows and labels are checked where they come in. */
export function gatherLabelsUnchecked(out: Int32Array, labels: Uint8Array | Int32Array, rows: Int32Array, N: number): void {
  for (let n = 0; n < N; n++) out[n] = labels[rows[n]];
}

export function oneHotRowsUnchecked(out: Float32Array, labels: Int32Array, N: number, C: number): void {
  out.fill(0, 0, N * C);
  for (let n = 0; n < N; n++) out[n * C + labels[n]] = 1;
}
