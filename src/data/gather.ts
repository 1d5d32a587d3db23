/**
 * The data layer's inner loops, in the kernels' argument order (outputs, inputs, dims, scalars):
 *
 *   gatherScale   out[n*D + d] = x[rows[n]*D + d] * scale        out (N, D) float32, x (rows, D) uint8 or float32
 *   gatherLabels  out[n] = labels[rows[n]]                        out (N) int32
 *   oneHotRows    out[n*C + c] = (c == labels[n]) ? 1 : 0         out (N, C) float32
 *
 * gatherScale, the one that moves the pixels, is a backend kernel (src/kernels/ts/gather.ts and its native twin);
 * the other two touch one value per sample. Rows are trusted here: Dataset.batch checks them at the public API.
 */
export { gatherScale } from '../kernels/ts/gather.js';

export function gatherLabels(out: Int32Array, labels: Uint8Array | Int32Array, rows: Int32Array, N: number): void {
  for (let n = 0; n < N; n++) out[n] = labels[rows[n]];
}

export function oneHotRows(out: Float32Array, labels: Int32Array, N: number, C: number): void {
  out.fill(0, 0, N * C);
  for (let n = 0; n < N; n++) out[n * C + labels[n]] = 1;
}
