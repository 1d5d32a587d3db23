/**
 * BatchNorm2d's training forward with the max-pool after it fused in (and a ReLU between them when relu):
 * batchnorm.ts's and pool.ts's kernels one after the other, through a full-size buffer,
 *
 *   y, argmax = maxpoolForward(batchnormForwardTrain(x))   (x (N, C, H, W); y, argmax (N, C, OH, OW))
 *
 * That is the definition; the native kernel goes plane by plane instead (the normalized activation never passes
 * through memory there) and gives the same bits as the two kernels on its CPU path. Backward is the two kernels'.
 */
import type { FloatArray } from '../check.js';
import { batchnormForwardTrain } from './batchnorm.js';
import { maxpoolForward } from './pool.js';

let f32 = new Float32Array(0);
let f64 = new Float64Array(0);

/** A reused buffer of `length` values of like's type (its contents are overwritten by the kernel it is given to). */
function full<F extends FloatArray>(like: F, length: number): F {
  if (like instanceof Float32Array) {
    if (f32.length < length) f32 = new Float32Array(length);
    return f32.subarray(0, length) as F;
  }
  if (f64.length < length) f64 = new Float64Array(length);
  return f64.subarray(0, length) as F;
}

export function batchnormPoolForwardTrain<F extends FloatArray>(
  y: F, argmax: Int32Array, saveMean: F, saveInvStd: F, runningMean: F, runningVar: F, x: F, gamma: F, beta: F,
  N: number, C: number, H: number, W: number, KH: number, KW: number, stride: number, momentum: number, eps: number,
  relu: boolean,
): void {
  const normalized = full(x, x.length);
  batchnormForwardTrain(normalized, saveMean, saveInvStd, runningMean, runningVar, x, gamma, beta, N, C, H * W, momentum, eps, relu);
  maxpoolForward(y, argmax, normalized, N, C, H, W, KH, KW, stride);
}
