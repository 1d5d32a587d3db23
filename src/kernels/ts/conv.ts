/**
 * Convolution as a GEMM over the unfolded input (im2col), NCHW, the lowering of PyTorch's CPU
 * `slow_conv2d` (aten/src/ATen/native/ConvolutionMM2d.cpp, Unfold2d): for a weight (OC, C, KH, KW) seen as
 * (OC, C*KH*KW),
 *
 *   forward:   cols = im2col(x)                       (C*KH*KW, N*OH*OW)
 *              t = weight x cols                      (OC, N*OH*OW)    (gemm)
 *              y = convBiasForward(t, bias)           (N, OC, OH, OW)
 *   backward:  dt, dbias += convBiasBackward(dy)
 *              dweight += dt x cols^T                 (gemm; cols is what forward saves for backward)
 *              dcols = weight^T x dt;  dx = col2im(dcols)
 *
 *   im2col:  cols[(c*KH + kh)*KW + kw, (n*OH + oh)*OW + ow] = x[n, c, oh*stride + kh - padding, ow*stride + kw - padding],
 *            0 where that position lies in the zero padding;
 *            OH = floor((H + 2*padding - KH) / stride) + 1, OW likewise.
 *   col2im:  its adjoint: dx = 0, then each cols entry is added to the pixel im2col read it from (entries
 *            that came from the padding are dropped).
 *   convBiasForward:   y[n, c, s] = t[c, n, s] + bias[c]            t (C, N*S), y (N, C, S), S = OH*OW
 *   convBiasBackward:  dt[c, n, s] = dy[n, c, s];  dbias[c] += sum over n, s of dy[n, c, s]  (summed in double)
 *
 * Both unfoldings walk the input one (n, c) plane at a time (the native kernels split the planes over
 * threads), and for each kernel offset (kh, kw) first work out which output rows and columns read inside the
 * image, so the inner loops have no bounds tests.
 */
import type { FloatArray } from '../check.js';

/** Output positions o in [lo, hi) whose input position o*stride + k - padding lies in [0, size). */
function insideRange(k: number, size: number, out: number, stride: number, padding: number): [number, number] {
  const lo = Math.min(out, Math.max(0, Math.ceil((padding - k) / stride)));
  const hi = Math.max(lo, Math.min(out, Math.floor((size - 1 + padding - k) / stride) + 1));
  return [lo, hi];
}

function outSize(size: number, window: number, stride: number, padding: number): number {
  return Math.floor((size + 2 * padding - window) / stride) + 1;
}

export function im2col<F extends FloatArray>(cols: F, x: F, N: number, C: number, H: number, W: number,
  KH: number, KW: number, stride: number, padding: number): void {
  const OH = outSize(H, KH, stride, padding);
  const OW = outSize(W, KW, stride, padding);
  const S = OH * OW;
  const rowLength = N * S;
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const plane = (n * C + c) * H * W;
      for (let kh = 0; kh < KH; kh++) {
        const [oh0, oh1] = insideRange(kh, H, OH, stride, padding);
        for (let kw = 0; kw < KW; kw++) {
          const [ow0, ow1] = insideRange(kw, W, OW, stride, padding);
          const out = ((c * KH + kh) * KW + kw) * rowLength + n * S;
          cols.fill(0, out, out + oh0 * OW);
          for (let oh = oh0; oh < oh1; oh++) {
            const dst = out + oh * OW;
            const src = plane + (oh * stride + kh - padding) * W + kw - padding;
            cols.fill(0, dst, dst + ow0);
            for (let ow = ow0; ow < ow1; ow++) cols[dst + ow] = x[src + ow * stride];
            cols.fill(0, dst + ow1, dst + OW);
          }
          cols.fill(0, out + oh1 * OW, out + S);
        }
      }
    }
  }
}

export function col2im<F extends FloatArray>(dx: F, cols: F, N: number, C: number, H: number, W: number,
  KH: number, KW: number, stride: number, padding: number): void {
  const OH = outSize(H, KH, stride, padding);
  const OW = outSize(W, KW, stride, padding);
  const S = OH * OW;
  const rowLength = N * S;
  dx.fill(0);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const plane = (n * C + c) * H * W;
      for (let kh = 0; kh < KH; kh++) {
        const [oh0, oh1] = insideRange(kh, H, OH, stride, padding);
        for (let kw = 0; kw < KW; kw++) {
          const [ow0, ow1] = insideRange(kw, W, OW, stride, padding);
          const src = ((c * KH + kh) * KW + kw) * rowLength + n * S;
          for (let oh = oh0; oh < oh1; oh++) {
            const from = src + oh * OW;
            const to = plane + (oh * stride + kh - padding) * W + kw - padding;
            for (let ow = ow0; ow < ow1; ow++) dx[to + ow * stride] += cols[from + ow];
          }
        }
      }
    }
  }
}

export function convBiasForward<F extends FloatArray>(y: F, t: F, bias: F, N: number, C: number, S: number): void {
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const b = bias[c];
      const from = (c * N + n) * S;
      const to = (n * C + c) * S;
      for (let s = 0; s < S; s++) y[to + s] = t[from + s] + b;
    }
  }
}

export function convBiasBackward<F extends FloatArray>(dt: F, dbias: F, dy: F, N: number, C: number, S: number): void {
  for (let c = 0; c < C; c++) {
    let sum = 0;
    for (let n = 0; n < N; n++) {
      const from = (n * C + c) * S;
      const to = (c * N + n) * S;
      for (let s = 0; s < S; s++) {
        const g = dy[from + s];
        dt[to + s] = g;
        sum += g;
      }
    }
    dbias[c] += sum;
  }
}
