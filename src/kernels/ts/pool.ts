/**
 * Max pooling over x (N, C, H, W) with a KH x KW window and a stride, no padding (PyTorch's max_pool2d with
 * padding 0, dilation 1, ceil_mode false: aten/src/ATen/native/cpu/MaxPoolKernel.cpp):
 *
 *   OH = floor((H - KH) / stride) + 1, OW likewise
 *   forward:   y[n, c, oh, ow] = max over kh, kw of x[n, c, oh*stride + kh, ow*stride + kw]
 *              argmax[n, c, oh, ow] = (oh*stride + kh)*W + (ow*stride + kw) of that maximum, an index into
 *              the (n, c) plane: saved for backward.
 *              Ties go to the first maximum in scan order (kh outer, kw inner); a NaN in the window wins
 *              (propagates, as in PyTorch), the first NaN if there are several.
 *   backward:  dx = 0, then dx[n, c, argmax[n, c, oh, ow]] += dy[n, c, oh, ow]; overlapping windows
 *              (stride < KH or KW) accumulate.
 *
 * argmax holds indices within a plane, so each (n, c) plane is independent (the native kernels split the
 * planes over threads).
 */
import type { FloatArray } from '../check.js';

export function maxpoolForward<F extends FloatArray>(y: F, argmax: Int32Array, x: F, N: number, C: number,
  H: number, W: number, KH: number, KW: number, stride: number): void {
  const OH = Math.floor((H - KH) / stride) + 1;
  const OW = Math.floor((W - KW) / stride) + 1;
  for (let plane = 0; plane < N * C; plane++) {
    const xp = plane * H * W;
    const yp = plane * OH * OW;
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const corner = oh * stride * W + ow * stride;
        let best = corner;
        let max = x[xp + corner];
        for (let kh = 0; kh < KH; kh++) {
          for (let kw = 0; kw < KW; kw++) {
            const index = corner + kh * W + kw;
            const v = x[xp + index];
            // v > max keeps the first of equal maxima; a NaN replaces any number but not an earlier NaN.
            if (v > max || (v !== v && max === max)) {
              max = v;
              best = index;
            }
          }
        }
        y[yp + oh * OW + ow] = max;
        argmax[yp + oh * OW + ow] = best;
      }
    }
  }
}

export function maxpoolBackward<F extends FloatArray>(dx: F, dy: F, argmax: Int32Array, N: number, C: number,
  H: number, W: number, KH: number, KW: number, stride: number): void {
  const outputs = (Math.floor((H - KH) / stride) + 1) * (Math.floor((W - KW) / stride) + 1);
  dx.fill(0);
  for (let plane = 0; plane < N * C; plane++) {
    const xp = plane * H * W;
    const yp = plane * outputs;
    for (let o = 0; o < outputs; o++) dx[xp + argmax[yp + o]] += dy[yp + o];
  }
}
