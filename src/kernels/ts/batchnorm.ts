/**
 * Batch Normalization (Ioffe & Szegedy, 2015) over an (N, C, S) view: x[(n*C + c)*S + s], S = 1 for
 * BatchNorm1d and H*W for BatchNorm2d. Conventions are PyTorch's (torch.nn.functional.batch_norm):
 *
 *   forward, training:  mean_c = sum(x) / (N*S)            var_c = sum((x - mean_c)^2) / (N*S)   (biased)
 *                       invStd_c = 1 / sqrt(var_c + eps)   y = gamma_c * (x - mean_c) * invStd_c + beta_c
 *                       runningMean = (1 - momentum) * runningMean + momentum * mean
 *                       runningVar  = (1 - momentum) * runningVar  + momentum * var * N*S / (N*S - 1)  (unbiased)
 *                       saved for backward: mean (saveMean) and invStd (saveInvStd)
 *   forward, eval:      y = gamma_c * (x - runningMean_c) / sqrt(runningVar_c + eps) + beta_c
 *   backward:           xhat = (x - mean) * invStd
 *                       dbeta_c += sum(dy)    dgamma_c += sum(dy * xhat)
 *                       dx = gamma_c * invStd_c / (N*S) * (N*S * dy - sum(dy) - xhat * sum(dy * xhat))
 *
 * Fused ReLU (relu = true in forward, beta given to backward): forward writes y < 0 ? 0 : y (reluForward's rule),
 * and backward takes dy as the gradient of that output, counting it only where the output y > 0 (ReLU's
 * gradient, PyTorch's at 0 too). Backward recomputes y from x as normalize forms it (the same scale, shift and
 * rounding to the array's precision) instead of reading it: one stream fewer in passes bounded by memory.
 * One pass instead of a ReLU layer's read and write of the whole activation.
 *
 * The variance takes two passes (mean first), not E[x^2] - E[x]^2, which cancels catastrophically for inputs
 * far from zero. Sums are formed in double precision.
 */
import type { FloatArray } from '../check.js';

let sums = new Float64Array(0);
let sums2 = new Float64Array(0);

/** Two reused per-channel accumulators, zeroed: no allocation once they are large enough. */
function channelSums(C: number): [Float64Array, Float64Array] {
  if (sums.length < C) {
    sums = new Float64Array(C);
    sums2 = new Float64Array(C);
  }
  sums.fill(0, 0, C);
  sums2.fill(0, 0, C);
  return [sums, sums2];
}

export function batchnormForwardTrain<F extends FloatArray>(
  y: F, saveMean: F, saveInvStd: F, runningMean: F, runningVar: F,
  x: F, gamma: F, beta: F, N: number, C: number, S: number, momentum: number, eps: number, relu: boolean,
): void {
  const count = N * S;
  const [sum, squares] = channelSums(C);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const base = (n * C + c) * S;
      let s1 = 0;
      for (let s = 0; s < S; s++) s1 += x[base + s];
      sum[c] += s1;
    }
  }
  for (let c = 0; c < C; c++) sum[c] /= count; // now the mean
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const base = (n * C + c) * S;
      const mean = sum[c];
      let s2 = 0;
      for (let s = 0; s < S; s++) {
        const d = x[base + s] - mean;
        s2 += d * d;
      }
      squares[c] += s2;
    }
  }
  for (let c = 0; c < C; c++) {
    const mean = sum[c];
    const variance = squares[c] / count;
    saveMean[c] = mean;
    saveInvStd[c] = 1 / Math.sqrt(variance + eps);
    runningMean[c] = (1 - momentum) * runningMean[c] + momentum * mean;
    runningVar[c] = (1 - momentum) * runningVar[c] + momentum * variance * (count / (count - 1));
  }
  normalize(y, x, gamma, beta, saveMean, saveInvStd, N, C, S, relu);
}

export function batchnormForwardEval<F extends FloatArray>(
  y: F, x: F, gamma: F, beta: F, runningMean: F, runningVar: F, N: number, C: number, S: number, eps: number, relu: boolean,
): void {
  const [, invStd] = channelSums(C);
  for (let c = 0; c < C; c++) invStd[c] = 1 / Math.sqrt(runningVar[c] + eps);
  normalize(y, x, gamma, beta, runningMean, invStd, N, C, S, relu);
}

/** Channel c's scale = gamma * invStd and shift = beta - mean * scale: normalize's y = x * scale + shift. */
function affine(gamma: FloatArray, beta: FloatArray, mean: FloatArray, invStd: FloatArray, c: number): [number, number] {
  const scale = gamma[c] * invStd[c];
  return [scale, beta[c] - mean[c] * scale];
}

/** y = gamma * (x - mean) * invStd + beta, as one scale and shift per channel; then max(0, y) when relu. */
function normalize(y: FloatArray, x: FloatArray, gamma: FloatArray, beta: FloatArray,
  mean: FloatArray, invStd: FloatArray, N: number, C: number, S: number, relu: boolean): void {
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const [scale, shift] = affine(gamma, beta, mean, invStd, c);
      const base = (n * C + c) * S;
      if (relu) {
        for (let s = 0; s < S; s++) {
          const v = x[base + s] * scale + shift;
          y[base + s] = v < 0 ? 0 : v; // reluForward's rule: NaN propagates
        }
      } else {
        for (let s = 0; s < S; s++) y[base + s] = x[base + s] * scale + shift;
      }
    }
  }
}

export function batchnormBackward<F extends FloatArray>(
  dx: F, dgamma: F, dbeta: F, dy: F, x: F, saveMean: F, saveInvStd: F, gamma: F, N: number, C: number, S: number,
  beta: F | null,
): void {
  const count = N * S;
  const [sumDy, sumDyXhat] = channelSums(C);
  // dy where the forward's output (stored at x's precision) was positive, with a fused ReLU; each channel's
  // scale and shift formed once.
  const round = x instanceof Float32Array ? Math.fround : (v: number) => v;
  const affines = beta === null ? [] : Array.from({ length: C }, (_, c) => affine(gamma, beta, saveMean, saveInvStd, c));
  const grad = (i: number, c: number) =>
    (beta === null || round(x[i] * affines[c][0] + affines[c][1]) > 0 ? dy[i] : 0);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const base = (n * C + c) * S;
      const mean = saveMean[c];
      let a = 0;
      let b = 0;
      for (let s = 0; s < S; s++) {
        const g = grad(base + s, c);
        a += g;
        b += g * (x[base + s] - mean);
      }
      sumDy[c] += a;
      sumDyXhat[c] += b;
    }
  }
  for (let c = 0; c < C; c++) {
    sumDyXhat[c] *= saveInvStd[c];
    dbeta[c] += sumDy[c];
    dgamma[c] += sumDyXhat[c];
  }
  // dx = k * (dy - sum(dy)/count - xhat * sum(dy*xhat)/count), k = gamma * invStd
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const invStd = saveInvStd[c];
      const k = gamma[c] * invStd;
      const meanDy = sumDy[c] / count;
      const meanDyXhat = sumDyXhat[c] / count;
      const mean = saveMean[c];
      const base = (n * C + c) * S;
      for (let s = 0; s < S; s++) {
        const xhat = (x[base + s] - mean) * invStd;
        const g = grad(base + s, c);
        dx[base + s] = k * (g - meanDy - xhat * meanDyXhat);
      }
    }
  }
}
