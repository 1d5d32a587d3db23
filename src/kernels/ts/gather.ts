/**
 * gatherScale: a batch of samples taken by row and scaled, as the data layer forms one.
 *
 *   out[n*D + d] = x[rows[n]*D + d] * scale        out (N, D) float32; x (rows, D) uint8 or float32
 *
 * The product is formed in double and rounded to float32 once, so uint8 pixels with scale 1/255 land exactly on
 * value/255 in [0, 1] on every backend. scale 1 is a plain copy.
 */
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

/** prefetchRows: JS has no prefetch instruction, and touching the rows here would wait for them; a no-op. */
export function prefetchRows(_x: Uint8Array | Float32Array, _rows: Int32Array, _N: number, _D: number): void {}
