/**
 * Optimizer updates: torch.optim's rules (PyTorch 1.13, torch/optim/{sgd,adagrad,rmsprop,adam}.py, the
 * single-tensor path, one param group, maximize off), each fused into one in-place pass over `length` values.
 * param and the state buffers are updated; grad is read only. step counts from 1 and is this step's number.
 *
 *   g = grad + weightDecay * param          when weightDecay != 0 (L2 into the gradient, as torch; not AdamW)
 *   sgd:       param += -lr * g
 *   momentum:  v = step == 1 ? g : momentum * v + (1 - dampening) * g        param += -lr * v
 *   nesterov:  v = step == 1 ? g : momentum * v + g                          param += -lr * (g + momentum * v)
 *   adagrad:   sum += g * g        param += -clr * g / (sqrt(sum) + eps),    clr = lr / (1 + (step - 1) * lrDecay)
 *   rmsprop:   sq = alpha * sq + (1 - alpha) * g * g                         param += -lr * g / (sqrt(sq) + eps)
 *   adam:      m = beta1 * m + (1 - beta1) * g     v = beta2 * v + (1 - beta2) * g * g
 *              param += -(lr / (1 - beta1^step)) * m / (sqrt(v) / sqrt(1 - beta2^step) + eps)
 *
 * At step 1 torch creates the momentum buffer as a copy of g (no dampening), so the old velocity is not read:
 * a fresh buffer needs no zeroing. Adagrad's `sum` starts at torch's initial_accumulator_value (the caller's).
 *
 * Arithmetic is torch's on float32 tensors: every operation rounded to float32, in the order torch's CPU ops
 * evaluate them (add: a + alpha * b; addcmul: a + value * b * c; addcdiv: a + value * b / c, left to right),
 * with the hyper-parameters rounded to float32 once and the per-step scalars (bias corrections, clr) formed in
 * double first, as Python does. Each op computed in double and rounded to float32 is the correctly rounded
 * float32 result, so on Float32Array storage these are the native kernels' values bit for bit (those are
 * compiled without FMA contraction). torch itself uses FMA for add-with-alpha on AVX2, so it can differ from
 * both in the last bit. On Float64Array storage nothing is rounded.
 */
import type { FloatArray } from '../check.js';

type Round = (x: number) => number;
const exact: Round = (x) => x;

/** The rounding of one operation on this storage: float32 for Float32Array, none for Float64Array. */
function roundingFor(a: FloatArray): Round {
  return a instanceof Float32Array ? Math.fround : exact;
}

export function sgdUpdate<F extends FloatArray>(param: F, grad: F, length: number, lr: number, weightDecay: number): void {
  const f = roundingFor(param);
  const wd = f(weightDecay), decay = weightDecay !== 0;
  const negLr = f(-lr);
  for (let i = 0; i < length; i++) {
    const p = param[i];
    const g = decay ? f(grad[i] + f(wd * p)) : grad[i];
    param[i] = f(p + f(negLr * g));
  }
}

export function momentumUpdate<F extends FloatArray>(param: F, velocity: F, grad: F, length: number,
  lr: number, momentum: number, dampening: number, weightDecay: number, step: number): void {
  const f = roundingFor(param);
  const wd = f(weightDecay), decay = weightDecay !== 0;
  const negLr = f(-lr);
  const m = f(momentum);
  const keep = f(1 - dampening);
  for (let i = 0; i < length; i++) {
    const p = param[i];
    const g = decay ? f(grad[i] + f(wd * p)) : grad[i];
    const v = step === 1 ? g : f(f(velocity[i] * m) + f(keep * g));
    velocity[i] = v;
    param[i] = f(p + f(negLr * v));
  }
}

export function nesterovUpdate<F extends FloatArray>(param: F, velocity: F, grad: F, length: number,
  lr: number, momentum: number, weightDecay: number, step: number): void {
  const f = roundingFor(param);
  const wd = f(weightDecay), decay = weightDecay !== 0;
  const negLr = f(-lr);
  const m = f(momentum);
  for (let i = 0; i < length; i++) {
    const p = param[i];
    const g = decay ? f(grad[i] + f(wd * p)) : grad[i];
    const v = step === 1 ? g : f(f(velocity[i] * m) + g); // alpha 1 - dampening = 1: 1 * g is exact
    velocity[i] = v;
    param[i] = f(p + f(negLr * f(g + f(m * v))));
  }
}

export function adagradUpdate<F extends FloatArray>(param: F, sum: F, grad: F, length: number,
  lr: number, lrDecay: number, eps: number, weightDecay: number, step: number): void {
  const f = roundingFor(param);
  const wd = f(weightDecay), decay = weightDecay !== 0;
  const e = f(eps);
  const negClr = f(-(lr / (1 + (step - 1) * lrDecay)));
  for (let i = 0; i < length; i++) {
    const p = param[i];
    const g = decay ? f(grad[i] + f(wd * p)) : grad[i];
    const s = f(sum[i] + f(g * g)); // addcmul value 1: 1 * g is exact
    sum[i] = s;
    const std = f(f(Math.sqrt(s)) + e);
    param[i] = f(p + f(f(negClr * g) / std));
  }
}

export function rmspropUpdate<F extends FloatArray>(param: F, squareAvg: F, grad: F, length: number,
  lr: number, alpha: number, eps: number, weightDecay: number): void {
  const f = roundingFor(param);
  const wd = f(weightDecay), decay = weightDecay !== 0;
  const e = f(eps);
  const a = f(alpha);
  const rest = f(1 - alpha);
  const negLr = f(-lr);
  for (let i = 0; i < length; i++) {
    const p = param[i];
    const g = decay ? f(grad[i] + f(wd * p)) : grad[i];
    const sq = f(f(squareAvg[i] * a) + f(f(rest * g) * g));
    squareAvg[i] = sq;
    const avg = f(f(Math.sqrt(sq)) + e);
    param[i] = f(p + f(f(negLr * g) / avg));
  }
}

export function adamUpdate<F extends FloatArray>(param: F, expAvg: F, expAvgSq: F, grad: F, length: number,
  lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, step: number): void {
  const f = roundingFor(param);
  const wd = f(weightDecay), decay = weightDecay !== 0;
  const e = f(eps);
  const b1 = f(beta1), rest1 = f(1 - beta1);
  const b2 = f(beta2), rest2 = f(1 - beta2);
  const negStepSize = f(-(lr / (1 - beta1 ** step)));
  const correction2 = f(Math.sqrt(1 - beta2 ** step));
  for (let i = 0; i < length; i++) {
    const p = param[i];
    const g = decay ? f(grad[i] + f(wd * p)) : grad[i];
    const m = f(f(expAvg[i] * b1) + f(rest1 * g));
    const v = f(f(expAvgSq[i] * b2) + f(f(rest2 * g) * g));
    expAvg[i] = m;
    expAvgSq[i] = v;
    const denom = f(f(f(Math.sqrt(v)) / correction2) + e);
    param[i] = f(p + f(f(negStepSize * m) / denom));
  }
}
