/**
 * Convolution (torch.nn.Conv2d: cross-correlation, zero padding) as GEMMs over the unfolded input (im2col),
 * NCHW, image by image, the lowering of PyTorch's CPU `slow_conv2d` (aten/src/ATen/native/ConvolutionMM2d.cpp,
 * Unfold2d). For a weight (OC, C, KH, KW) seen as (OC, K), K = C*KH*KW, and S = OH*OW, each image n has its
 * unfolded columns cols_n = im2col(x_n) (K, S), and
 *
 *   conv2dForward:         y_n = weight x cols_n + bias              (OC, S): NCHW as it stands   (gemm)
 *   conv2dBackwardInput:   dx_n = col2im(weight^T x dy_n)            (C, H, W)                    (gemm)
 *   conv2dBackwardParams:  dweight += dy_n x cols_n^T                (OC, K)                      (gemm)
 *                          dbias[oc] += sum over n, s of dy[n, oc, s]  (summed in double)
 *
 * Nothing is saved for backward but x itself: conv2dBackwardParams unfolds each image again (one image's
 * columns are small enough to stay in cache between the unfolding and the GEMM, which is why the native
 * kernels go image by image too).
 *
 *   im2col:  cols[(c*KH + kh)*KW + kw, (n*OH + oh)*OW + ow] = x[n, c, oh*stride + kh - padding, ow*stride + kw - padding],
 *            0 where that position lies in the zero padding;
 *            OH = floor((H + 2*padding - KH) / stride) + 1, OW likewise.
 *   col2im:  its adjoint: dx = 0, then each cols entry is added to the pixel im2col read it from (entries
 *            that came from the padding are dropped).
 *
 * Both unfoldings walk the input one (n, c) plane at a time (the native kernels split the planes over
 * threads), and for each kernel offset (kh, kw) first work out which output rows and columns read inside the
 * image, so the inner loops have no bounds tests.
 */
import type { FloatArray } from '../check.js';
import { gemm } from './gemm.js';

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

const scratchBuffers = new Map<Function, FloatArray>();

/**
 * Working memory of x's type and at least `length` values, reused across calls (one image's unfolded columns):
 * no allocation per call once it is large enough, as the native kernels' per-thread buffers.
 */
function scratchLike<F extends FloatArray>(x: F, length: number): F {
  let buffer = scratchBuffers.get(x.constructor);
  if (!buffer || buffer.length < length) {
    buffer = new (x.constructor as new (length: number) => F)(length);
    scratchBuffers.set(x.constructor, buffer);
  }
  return buffer.subarray(0, length) as F;
}

/** Image n of a batch of images of `size` values each. */
function image<F extends FloatArray>(a: F, n: number, size: number): F {
  return a.subarray(n * size, (n + 1) * size) as F;
}

export function conv2dForward<F extends FloatArray>(y: F, x: F, weight: F, bias: F, N: number, C: number, H: number,
  W: number, OC: number, KH: number, KW: number, stride: number, padding: number): void {
  const K = C * KH * KW;
  const S = outSize(H, KH, stride, padding) * outSize(W, KW, stride, padding);
  const cols = scratchLike(x, K * S);
  for (let n = 0; n < N; n++) {
    im2col(cols, image(x, n, C * H * W), 1, C, H, W, KH, KW, stride, padding);
    const yn = image(y, n, OC * S);
    gemm(false, false, OC, S, K, 1, weight, cols, 0, yn);
    for (let oc = 0; oc < OC; oc++) {
      for (let s = 0; s < S; s++) yn[oc * S + s] += bias[oc];
    }
  }
}

export function conv2dBackwardInput<F extends FloatArray>(dx: F, dy: F, weight: F, N: number, C: number, H: number,
  W: number, OC: number, KH: number, KW: number, stride: number, padding: number): void {
  const K = C * KH * KW;
  const S = outSize(H, KH, stride, padding) * outSize(W, KW, stride, padding);
  const dcols = scratchLike(dy, K * S);
  for (let n = 0; n < N; n++) {
    gemm(true, false, K, S, OC, 1, weight, image(dy, n, OC * S), 0, dcols);
    col2im(image(dx, n, C * H * W), dcols, 1, C, H, W, KH, KW, stride, padding);
  }
}

export function conv2dBackwardParams<F extends FloatArray>(dweight: F, dbias: F, dy: F, x: F, N: number, C: number,
  H: number, W: number, OC: number, KH: number, KW: number, stride: number, padding: number): void {
  const K = C * KH * KW;
  const S = outSize(H, KH, stride, padding) * outSize(W, KW, stride, padding);
  const cols = scratchLike(x, K * S);
  const sums = new Float64Array(OC);
  for (let n = 0; n < N; n++) {
    const dyn = image(dy, n, OC * S);
    im2col(cols, image(x, n, C * H * W), 1, C, H, W, KH, KW, stride, padding);
    gemm(false, true, OC, K, S, 1, dyn, cols, 1, dweight);
    for (let oc = 0; oc < OC; oc++) {
      for (let s = 0; s < S; s++) sums[oc] += dyn[oc * S + s];
    }
  }
  for (let oc = 0; oc < OC; oc++) dbias[oc] += sums[oc];
}
