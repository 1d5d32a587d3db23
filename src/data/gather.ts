/**
 * The data layer's inner loops, one small function each, in the kernels' argument order (outputs, inputs,
 * dims, scalars) so a native kernel can take their place without touching the callers:
 *
 *   gatherScale   out[n*D + d] = x[rows[n]*D + d] * scale        out (N, D) float32, x (rows, D) uint8 or float32
 *   gatherLabels  out[n] = labels[rows[n]]                        out (N) int32
 *   oneHotRows    out[n*C + c] = (c == labels[n]) ? 1 : 0         out (N, C) float32
 *
 * Rows are trusted here: Dataset.batch checks them at the public API.
 */

/** Copies rows of x (N rows of D values, picked by `rows`) into out, scaled: uint8 pixels with scale 1/255 land in [0, 1]. */
export function gatherScale(out: Float32Array, x: Uint8Array | Float32Array, rows: Int32Array, N: number, D: number, scale: number): void {
  for (let n = 0; n < N; n++) {
    const from = rows[n] * D;
    const to = n * D;
    if (scale === 1) {
      for (let d = 0; d < D; d++) out[to + d] = x[from + d];
    } else {
      for (let d = 0; d < D; d++) out[to + d] = x[from + d] * scale;
    }
  }
}

export function gatherLabels(out: Int32Array, labels: Uint8Array | Int32Array, rows: Int32Array, N: number): void {
  for (let n = 0; n < N; n++) out[n] = labels[rows[n]];
}

export function oneHotRows(out: Float32Array, labels: Int32Array, N: number, C: number): void {
  out.fill(0, 0, N * C);
  for (let n = 0; n < N; n++) out[n * C + labels[n]] = 1;
}
