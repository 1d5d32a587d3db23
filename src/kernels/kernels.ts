/**
 * The kernel list: every computation normnet runs, each with a native (C++) and a TypeScript implementation
 * behind one signature, and the argument checks both share. Arguments come in one order everywhere:
 * outputs, buffers saved for backward, inputs, parameters, dims, scalars. Backward kernels write the input
 * gradient (=) and add into parameter gradients (+=), so a step zeroes parameter gradients once.
 *
 * Layouts: row-major; images NCHW; "(N, C, S)" is a batch of N rows of C channels of S values each
 * (S = 1 after a Linear layer, S = H*W in a CNN).
 */
import { ArgReader, windowOutput, type FloatArray, type FloatArrayConstructor } from './check.js';

export interface Kernels<F extends FloatArray = Float32Array> {
  /** C = alpha * op(A) * op(B) + beta * C; op(A) is M x K, op(B) is K x N, C is M x N. beta = 0: C is not read. */
  gemm(transA: boolean, transB: boolean, M: number, N: number, K: number,
    alpha: number, A: F, B: F, beta: number, C: F): void;

  /**
   * A Linear layer's forward in one call: y (N, out) = x (N, in) * weight^T + bias, weight (out, in) as
   * torch.nn.Linear; bias null for none.
   */
  linearForward(y: F, x: F, weight: F, bias: F | null, N: number, inFeatures: number, outFeatures: number): void;
  /**
   * Its backward: dweight += dy^T * x, dbias += the column sums of dy, dx = dy * weight. dx null skips the input
   * gradient (a first layer); dbias null for a layer without bias.
   */
  linearBackward(dx: F | null, dweight: F, dbias: F | null, dy: F, x: F, weight: F,
    N: number, inFeatures: number, outFeatures: number): void;

  /**
   * Batch Normalization in training over (N, C, S): per channel, the batch mean and biased variance over N*S
   * values normalise x; y = gamma * xhat + beta. Saves the mean and 1/sqrt(var + eps) for backward, and moves
   * the running statistics: running = (1 - momentum) * running + momentum * batch, with the unbiased
   * variance (N*S/(N*S-1) times the biased one) for runningVar. Needs N*S > 1. relu: y = max(0, y), a
   * ReLU fused in (one pass over the activation instead of two).
   */
  batchnormForwardTrain(y: F, saveMean: F, saveInvStd: F, runningMean: F, runningVar: F,
    x: F, gamma: F, beta: F, N: number, C: number, S: number, momentum: number, eps: number, relu: boolean): void;
  /** Batch Normalization in evaluation: y = gamma * (x - runningMean) / sqrt(runningVar + eps) + beta (then max(0, y) when relu). */
  batchnormForwardEval(y: F, x: F, gamma: F, beta: F, runningMean: F, runningVar: F,
    N: number, C: number, S: number, eps: number, relu: boolean): void;
  /**
   * Gradients of batchnormForwardTrain: dx = ..., dgamma += sum(dy * xhat), dbeta += sum(dy). beta: the forward's
   * beta when it fused a ReLU, else null; dy is then the gradient of the ReLU's output, counted where that output
   * was positive, which the kernel recomputes from x, gamma, beta and the saved statistics exactly as the forward
   * formed it (so run both on the same backend and CPU path) rather than read the output back.
   */
  batchnormBackward(dx: F, dgamma: F, dbeta: F, dy: F, x: F, saveMean: F, saveInvStd: F, gamma: F,
    N: number, C: number, S: number, beta: F | null): void;
  /**
   * BatchNorm2d, its ReLU when relu, and a max-pool after them, in one kernel: y and argmax (N, C, OH, OW) are
   * maxpoolForward's of batchnormForwardTrain's output over x (N, C, H, W), S = H*W; the statistics as
   * batchnormForwardTrain saves and moves them. The normalized activation is not kept: backward is
   * maxpoolBackward's, then batchnormBackward's (which recomputes what it needs from x).
   */
  batchnormPoolForwardTrain(y: F, argmax: Int32Array, saveMean: F, saveInvStd: F, runningMean: F, runningVar: F,
    x: F, gamma: F, beta: F, N: number, C: number, H: number, W: number, KH: number, KW: number, stride: number,
    momentum: number, eps: number, relu: boolean): void;
  /**
   * Unfolds x (N, C, H, W) into cols (C*KH*KW, N*OH*OW): row (c, kh, kw), column (n, oh, ow) holds
   * x[n, c, oh*stride + kh - padding, ow*stride + kw - padding], 0 outside the image.
   */
  im2col(cols: F, x: F, N: number, C: number, H: number, W: number, KH: number, KW: number, stride: number, padding: number): void;
  /** The adjoint of im2col: dx (N, C, H, W) = the sum of every cols entry at the pixel it was read from. */
  col2im(dx: F, cols: F, N: number, C: number, H: number, W: number, KH: number, KW: number, stride: number, padding: number): void;
  /**
   * torch.nn.Conv2d's forward: y (N, OC, OH, OW) = the cross-correlation of x (N, C, H, W) with weight
   * (OC, C, KH, KW) at the stride, zero padding, + bias (OC).
   */
  conv2dForward(y: F, x: F, weight: F, bias: F, N: number, C: number, H: number, W: number, OC: number,
    KH: number, KW: number, stride: number, padding: number): void;
  /** dx (N, C, H, W) = the gradient of conv2dForward with respect to x, given dy (N, OC, OH, OW). */
  conv2dBackwardInput(dx: F, dy: F, weight: F, N: number, C: number, H: number, W: number, OC: number,
    KH: number, KW: number, stride: number, padding: number): void;
  /** dweight += the gradient of conv2dForward with respect to weight; dbias[oc] += sum over n, s of dy[n, oc, s]. */
  conv2dBackwardParams(dweight: F, dbias: F, dy: F, x: F, N: number, C: number, H: number, W: number, OC: number,
    KH: number, KW: number, stride: number, padding: number): void;

  /**
   * Max pooling over (N, C, H, W) with a KH x KW window, no padding: y (N, C, OH, OW), OH = (H - KH) / stride + 1
   * rounded down. argmax (N, C, OH, OW) keeps the index h*W + w in its plane of the first maximum (NaN wins).
   */
  maxpoolForward(y: F, argmax: Int32Array, x: F, N: number, C: number, H: number, W: number,
    KH: number, KW: number, stride: number): void;
  /** dx (N, C, H, W) = 0, then dx[argmax] += dy for every output. */
  maxpoolBackward(dx: F, dy: F, argmax: Int32Array, N: number, C: number, H: number, W: number,
    KH: number, KW: number, stride: number): void;

  /** y = max(x, 0). */
  reluForward(y: F, x: F, length: number): void;
  /** dx = dy where y > 0, else 0. */
  reluBackward(dx: F, dy: F, y: F, length: number): void;
  /** y = 1 / (1 + exp(-x)). */
  sigmoidForward(y: F, x: F, length: number): void;
  /** dx = dy * y * (1 - y). */
  sigmoidBackward(dx: F, dy: F, y: F, length: number): void;
  /**
   * Inverted dropout: mask[i] = 0 with probability p, else 1 / (1 - p); y = x * mask. The mask is a pure
   * function of (seed, i) (see src/kernels/ts/elementwise.ts), the same bit for bit on every backend.
   */
  dropoutForward(y: F, mask: F, x: F, length: number, p: number, seed: number): void;
  /** dx = dy * mask. */
  dropoutBackward(dx: F, dy: F, mask: F, length: number): void;

  /**
   * Softmax cross-entropy over logits (N, C) and integer labels in [0, C): probs = softmax(logits) (saved for
   * backward); returns the mean over the batch of -log probs[n, labels[n]], by log-sum-exp.
   */
  softmaxCrossEntropyForward(probs: F, logits: F, labels: Int32Array, N: number, C: number): number;
  /** dlogits = scale * (probs - onehot(labels)); scale is 1/N for the mean loss. */
  softmaxCrossEntropyBackward(dlogits: F, probs: F, labels: Int32Array, N: number, C: number, scale: number): void;
  // Optimizer updates (torch.optim, PyTorch 1.13, one param group, maximize off): fused and in place, one call per
  // parameter tensor per step over `length` values. g = grad + weightDecay * param when weightDecay != 0 (L2
  // added to the gradient, as torch does, not decoupled); grad itself is not written. Arithmetic is float32 in
  // torch's order, the scalars rounded to float32 once (src/kernels/ts/optim.ts). `step` counts from 1 (this step).

  /** torch SGD: param -= lr * g. */
  sgdUpdate(param: F, grad: F, length: number, lr: number, weightDecay: number): void;
  /**
   * torch SGD with momentum: velocity = g at step 1 (the buffer starts as a copy of g, undamped; the old
   * velocity is not read), else velocity = momentum * velocity + (1 - dampening) * g; param -= lr * velocity.
   */
  momentumUpdate(param: F, velocity: F, grad: F, length: number,
    lr: number, momentum: number, dampening: number, weightDecay: number, step: number): void;
  /**
   * torch SGD with nesterov=True (dampening 0): velocity = g at step 1, else momentum * velocity + g;
   * param -= lr * (g + momentum * velocity).
   */
  nesterovUpdate(param: F, velocity: F, grad: F, length: number,
    lr: number, momentum: number, weightDecay: number, step: number): void;
  /** torch Adagrad: sum += g * g; param -= clr * g / (sqrt(sum) + eps), clr = lr / (1 + (step - 1) * lrDecay). */
  adagradUpdate(param: F, sum: F, grad: F, length: number,
    lr: number, lrDecay: number, eps: number, weightDecay: number, step: number): void;
  /** torch RMSprop (no momentum, not centered): squareAvg = alpha * squareAvg + (1 - alpha) * g * g; param -= lr * g / (sqrt(squareAvg) + eps). */
  rmspropUpdate(param: F, squareAvg: F, grad: F, length: number,
    lr: number, alpha: number, eps: number, weightDecay: number): void;
  /**
   * torch Adam (amsgrad off): expAvg = beta1 * expAvg + (1 - beta1) * g; expAvgSq = beta2 * expAvgSq + (1 - beta2) * g * g;
   * param -= lr / (1 - beta1^step) * expAvg / (sqrt(expAvgSq) / sqrt(1 - beta2^step) + eps).
   */
  adamUpdate(param: F, expAvg: F, expAvgSq: F, grad: F, length: number,
    lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, step: number): void;

  /**
   * A data batch: out[n*D + d] = x[rows[n]*D + d] * scale, formed in double and rounded to float32 (uint8 pixels
   * with scale 1/255 give exactly value/255). out is float32 on every backend; x holds whole rows of D values,
   * uint8 or float32, and every rows[n] must be one of them.
   */
  gatherScale(out: Float32Array, x: Uint8Array | Float32Array, rows: Int32Array, N: number, D: number, scale: number): void;
  /**
   * A hint: the rows of x (D values each) that `rows` picks will be read soon (the next batch's samples, asked
   * for while this batch trains), so fetch them toward the caches now without waiting. Changes no value; the
   * native kernel issues prefetches (the first 2 MiB of rows: more would only evict the step's own operands),
   * the TS kernel can only check its arguments.
   */
  prefetchRows(x: Uint8Array | Float32Array, rows: Int32Array, N: number, D: number): void;
}

export type KernelName = keyof Kernels;

/** Every kernel's name; a test holds both backends (and the addon's exports) to this list. */
export const KERNEL_NAMES: readonly KernelName[] = [
  'gemm', 'linearForward', 'linearBackward',
  'batchnormForwardTrain', 'batchnormForwardEval', 'batchnormBackward', 'batchnormPoolForwardTrain',
  'im2col', 'col2im', 'conv2dForward', 'conv2dBackwardInput', 'conv2dBackwardParams',
  'maxpoolForward', 'maxpoolBackward',
  'reluForward', 'reluBackward', 'sigmoidForward', 'sigmoidBackward', 'dropoutForward', 'dropoutBackward',
  'softmaxCrossEntropyForward', 'softmaxCrossEntropyBackward',
  'sgdUpdate', 'momentumUpdate', 'nesterovUpdate', 'adagradUpdate', 'rmspropUpdate', 'adamUpdate',
  'gatherScale', 'prefetchRows',
];

type Check = (args: ArrayLike<unknown>, floats: FloatArrayConstructor) => void;

function labelsInRange(kernel: string, labels: Int32Array, C: number): void {
  for (let n = 0; n < labels.length; n++) {
    if (!(labels[n] >= 0 && labels[n] < C)) {
      throw new RangeError(`${kernel}: labels[${n}] = ${labels[n]} is not a class index in [0, ${C})`);
    }
  }
}

/** Every rows[n] must pick a whole row of D values of x. */
function rowsOfX(kernel: string, rows: Int32Array, N: number, D: number, xLength: number): void {
  const stored = D === 0 ? 0 : Math.floor(xLength / D);
  for (let n = 0; D > 0 && n < N; n++) {
    if (!(rows[n] >= 0 && rows[n] < stored)) {
      throw new RangeError(`${kernel}: rows[${n}] = ${rows[n]} is not a row of x in [0, x.length/D = ${stored})`);
    }
  }
}

/** N, C, H, W (then OC when `outChannels`), KH, KW, stride (and padding when `padded`) from argument `first` on. */
function windowDims(r: ArgReader, kernel: string, first: number, padded: boolean, outChannels = false) {
  const [N, C, H, W] = [r.int(first), r.int(first + 1), r.int(first + 2), r.int(first + 3)];
  const k = outChannels ? first + 5 : first + 4;
  const OC = outChannels ? r.int(first + 4) : 0;
  const [KH, KW, stride] = [r.int(k, 1), r.int(k + 1, 1), r.int(k + 2, 1)];
  const padding = padded ? r.int(k + 3) : 0;
  const OH = windowOutput(kernel, 'H', H, KH, stride, padding);
  const OW = windowOutput(kernel, 'W', W, KW, stride, padding);
  return { N, C, H, W, OC, KH, KW, OH, OW };
}

/** Every argmax (a pooling window's maximum) an index in its plane of `plane` values, before anything scatters through them. */
function planeIndices(kernel: string, argmax: Int32Array, plane: number): void {
  for (let i = 0; i < argmax.length; i++) {
    if (!(argmax[i] >= 0 && argmax[i] < plane)) {
      throw new RangeError(`${kernel}: argmax[${i}] = ${argmax[i]} is not an index in [0, H*W = ${plane})`);
    }
  }
}

/** The conv2d kernels unfold one image at a time into a workspace of C*KH*KW*OH*OW values; more than 2^31 is refused. */
function unfoldedImage(kernel: string, d: { C: number; KH: number; KW: number; OH: number; OW: number }): void {
  if (d.C * d.KH * d.KW * d.OH * d.OW >= 2 ** 31) {
    throw new RangeError(`${kernel}: one image unfolds to C*KH*KW*OH*OW = ${d.C}*${d.KH}*${d.KW}*${d.OH}*${d.OW} values, 2^31 or more`);
  }
}

const CHECKS: { [K in KernelName]: Check } = {
  gemm(args, floats) {
    const r = new ArgReader('gemm', args, 'transA, transB, M, N, K, alpha, A, B, beta, C', floats);
    const [transA, transB] = [r.boolean(0), r.boolean(1)];
    const [M, N, K] = [r.int(2), r.int(3), r.int(4)];
    r.number(5);
    r.floats(6, M * K, transA ? 'K*M' : 'M*K');
    r.floats(7, K * N, transB ? 'N*K' : 'K*N');
    r.number(8);
    r.floats(9, M * N, 'M*N');
    r.noOverlap(['C']);
  },
  linearForward(args, floats) {
    const r = new ArgReader('linearForward', args, 'y, x, weight, bias, N, inFeatures, outFeatures', floats);
    const [N, I, O] = [r.int(4), r.int(5), r.int(6)];
    r.floats(0, N * O, 'N*outFeatures');
    r.floats(1, N * I, 'N*inFeatures');
    r.floats(2, O * I, 'outFeatures*inFeatures');
    r.optionalFloats(3, O, 'outFeatures');
    r.noOverlap(['y']);
  },
  linearBackward(args, floats) {
    const r = new ArgReader('linearBackward', args, 'dx, dweight, dbias, dy, x, weight, N, inFeatures, outFeatures', floats);
    const [N, I, O] = [r.int(6), r.int(7), r.int(8)];
    r.optionalFloats(0, N * I, 'N*inFeatures');
    r.floats(1, O * I, 'outFeatures*inFeatures');
    r.optionalFloats(2, O, 'outFeatures');
    r.floats(3, N * O, 'N*outFeatures');
    r.floats(4, N * I, 'N*inFeatures');
    r.floats(5, O * I, 'outFeatures*inFeatures');
    r.noOverlap(['dx', 'dweight', 'dbias']);
  },
  batchnormForwardTrain(args, floats) {
    const r = new ArgReader('batchnormForwardTrain', args,
      'y, saveMean, saveInvStd, runningMean, runningVar, x, gamma, beta, N, C, S, momentum, eps, relu', floats);
    const [N, C, S] = [r.int(8), r.int(9), r.int(10)];
    r.inRange(11, 0, 1, true);
    r.inRange(12, 0, Infinity);
    r.boolean(13);
    for (const i of [0, 5]) r.floats(i, N * C * S, 'N*C*S');
    for (const i of [1, 2, 3, 4, 6, 7]) r.floats(i, C, 'C');
    if (N * S <= 1 && C > 0) {
      throw new RangeError(`batchnormForwardTrain: training needs more than one value per channel, got N*S = ${N * S}`);
    }
    r.noOverlap(['y', 'saveMean', 'saveInvStd', 'runningMean', 'runningVar']);
  },
  batchnormForwardEval(args, floats) {
    const r = new ArgReader('batchnormForwardEval', args, 'y, x, gamma, beta, runningMean, runningVar, N, C, S, eps, relu', floats);
    const [N, C, S] = [r.int(6), r.int(7), r.int(8)];
    r.inRange(9, 0, Infinity);
    r.boolean(10);
    for (const i of [0, 1]) r.floats(i, N * C * S, 'N*C*S');
    for (const i of [2, 3, 4, 5]) r.floats(i, C, 'C');
    r.noOverlap(['y']);
  },
  batchnormBackward(args, floats) {
    const r = new ArgReader('batchnormBackward', args, 'dx, dgamma, dbeta, dy, x, saveMean, saveInvStd, gamma, N, C, S, beta', floats);
    const [N, C, S] = [r.int(8), r.int(9), r.int(10)];
    for (const i of [0, 3, 4]) r.floats(i, N * C * S, 'N*C*S');
    for (const i of [1, 2, 5, 6, 7]) r.floats(i, C, 'C');
    r.optionalFloats(11, C, 'C');
    r.noOverlap(['dx', 'dgamma', 'dbeta']);
  },
  batchnormPoolForwardTrain(args, floats) {
    const r = new ArgReader('batchnormPoolForwardTrain', args,
      'y, argmax, saveMean, saveInvStd, runningMean, runningVar, x, gamma, beta, N, C, H, W, KH, KW, stride, momentum, eps, relu', floats);
    const d = windowDims(r, 'batchnormPoolForwardTrain', 9, false);
    r.inRange(16, 0, 1, true);
    r.inRange(17, 0, Infinity);
    r.boolean(18);
    r.floats(0, d.N * d.C * d.OH * d.OW, 'N*C*OH*OW');
    r.int32s(1, d.N * d.C * d.OH * d.OW, 'N*C*OH*OW');
    for (const i of [2, 3, 4, 5]) r.floats(i, d.C, 'C');
    r.floats(6, d.N * d.C * d.H * d.W, 'N*C*H*W');
    for (const i of [7, 8]) r.floats(i, d.C, 'C');
    if (d.N * d.H * d.W <= 1 && d.C > 0) {
      throw new RangeError(`batchnormPoolForwardTrain: training needs more than one value per channel, got N*H*W = ${d.N * d.H * d.W}`);
    }
    r.noOverlap(['y', 'argmax', 'saveMean', 'saveInvStd', 'runningMean', 'runningVar']);
  },
  im2col(args, floats) {
    const r = new ArgReader('im2col', args, 'cols, x, N, C, H, W, KH, KW, stride, padding', floats);
    const d = windowDims(r, 'im2col', 2, true);
    r.floats(0, d.C * d.KH * d.KW * d.N * d.OH * d.OW, 'C*KH*KW*N*OH*OW');
    r.floats(1, d.N * d.C * d.H * d.W, 'N*C*H*W');
    r.noOverlap(['cols']);
  },
  col2im(args, floats) {
    const r = new ArgReader('col2im', args, 'dx, cols, N, C, H, W, KH, KW, stride, padding', floats);
    const d = windowDims(r, 'col2im', 2, true);
    r.floats(0, d.N * d.C * d.H * d.W, 'N*C*H*W');
    r.floats(1, d.C * d.KH * d.KW * d.N * d.OH * d.OW, 'C*KH*KW*N*OH*OW');
    r.noOverlap(['dx']);
  },
  conv2dForward(args, floats) {
    const r = new ArgReader('conv2dForward', args, 'y, x, weight, bias, N, C, H, W, OC, KH, KW, stride, padding', floats);
    const d = windowDims(r, 'conv2dForward', 4, true, true);
    r.floats(0, d.N * d.OC * d.OH * d.OW, 'N*OC*OH*OW');
    r.floats(1, d.N * d.C * d.H * d.W, 'N*C*H*W');
    r.floats(2, d.OC * d.C * d.KH * d.KW, 'OC*C*KH*KW');
    r.floats(3, d.OC, 'OC');
    unfoldedImage('conv2dForward', d);
    r.noOverlap(['y']);
  },
  conv2dBackwardInput(args, floats) {
    const r = new ArgReader('conv2dBackwardInput', args, 'dx, dy, weight, N, C, H, W, OC, KH, KW, stride, padding', floats);
    const d = windowDims(r, 'conv2dBackwardInput', 3, true, true);
    r.floats(0, d.N * d.C * d.H * d.W, 'N*C*H*W');
    r.floats(1, d.N * d.OC * d.OH * d.OW, 'N*OC*OH*OW');
    r.floats(2, d.OC * d.C * d.KH * d.KW, 'OC*C*KH*KW');
    unfoldedImage('conv2dBackwardInput', d);
    r.noOverlap(['dx']);
  },
  conv2dBackwardParams(args, floats) {
    const r = new ArgReader('conv2dBackwardParams', args, 'dweight, dbias, dy, x, N, C, H, W, OC, KH, KW, stride, padding', floats);
    const d = windowDims(r, 'conv2dBackwardParams', 4, true, true);
    r.floats(0, d.OC * d.C * d.KH * d.KW, 'OC*C*KH*KW');
    r.floats(1, d.OC, 'OC');
    r.floats(2, d.N * d.OC * d.OH * d.OW, 'N*OC*OH*OW');
    r.floats(3, d.N * d.C * d.H * d.W, 'N*C*H*W');
    unfoldedImage('conv2dBackwardParams', d);
    r.noOverlap(['dweight', 'dbias']);
  },
  maxpoolForward(args, floats) {
    const r = new ArgReader('maxpoolForward', args, 'y, argmax, x, N, C, H, W, KH, KW, stride', floats);
    const d = windowDims(r, 'maxpoolForward', 3, false);
    r.floats(0, d.N * d.C * d.OH * d.OW, 'N*C*OH*OW');
    r.int32s(1, d.N * d.C * d.OH * d.OW, 'N*C*OH*OW');
    r.floats(2, d.N * d.C * d.H * d.W, 'N*C*H*W');
    r.noOverlap(['y', 'argmax']);
  },
  maxpoolBackward(args, floats) {
    const r = new ArgReader('maxpoolBackward', args, 'dx, dy, argmax, N, C, H, W, KH, KW, stride', floats);
    const d = windowDims(r, 'maxpoolBackward', 3, false);
    r.floats(0, d.N * d.C * d.H * d.W, 'N*C*H*W');
    r.floats(1, d.N * d.C * d.OH * d.OW, 'N*C*OH*OW');
    planeIndices('maxpoolBackward', r.int32s(2, d.N * d.C * d.OH * d.OW, 'N*C*OH*OW'), d.H * d.W);
    r.noOverlap(['dx']);
  },
  reluForward: unary('reluForward', 'y, x, length'),
  reluBackward: binary('reluBackward', 'dx, dy, y, length'),
  sigmoidForward: unary('sigmoidForward', 'y, x, length'),
  sigmoidBackward: binary('sigmoidBackward', 'dx, dy, y, length'),
  dropoutForward(args, floats) {
    const r = new ArgReader('dropoutForward', args, 'y, mask, x, length, p, seed', floats);
    const length = r.int(3);
    r.inRange(4, 0, 1);
    r.uint32(5);
    for (const i of [0, 1, 2]) r.floats(i, length, 'length');
    r.noOverlap(['y', 'mask']);
  },
  dropoutBackward: binary('dropoutBackward', 'dx, dy, mask, length'),
  softmaxCrossEntropyForward(args, floats) {
    const r = new ArgReader('softmaxCrossEntropyForward', args, 'probs, logits, labels, N, C', floats);
    const [N, C] = [r.int(3), r.int(4, 1)];
    r.floats(0, N * C, 'N*C');
    r.floats(1, N * C, 'N*C');
    labelsInRange('softmaxCrossEntropyForward', r.int32s(2, N, 'N'), C);
    r.noOverlap(['probs']);
  },
  softmaxCrossEntropyBackward(args, floats) {
    const r = new ArgReader('softmaxCrossEntropyBackward', args, 'dlogits, probs, labels, N, C, scale', floats);
    const [N, C] = [r.int(3), r.int(4, 1)];
    r.number(5);
    r.floats(0, N * C, 'N*C');
    r.floats(1, N * C, 'N*C');
    labelsInRange('softmaxCrossEntropyBackward', r.int32s(2, N, 'N'), C);
    r.noOverlap(['dlogits']);
  },
  sgdUpdate: update('sgdUpdate', 'param, grad, length, lr, weightDecay', 2, ['rate', 'rate']),
  momentumUpdate: update('momentumUpdate', 'param, velocity, grad, length, lr, momentum, dampening, weightDecay, step', 3,
    ['rate', 'unit', 'unit', 'rate', 'step']),
  nesterovUpdate: update('nesterovUpdate', 'param, velocity, grad, length, lr, momentum, weightDecay, step', 3,
    ['rate', 'unit', 'rate', 'step']),
  adagradUpdate: update('adagradUpdate', 'param, sum, grad, length, lr, lrDecay, eps, weightDecay, step', 3,
    ['rate', 'rate', 'rate', 'rate', 'step']),
  rmspropUpdate: update('rmspropUpdate', 'param, squareAvg, grad, length, lr, alpha, eps, weightDecay', 3,
    ['rate', 'unit', 'rate', 'rate']),
  adamUpdate: update('adamUpdate', 'param, expAvg, expAvgSq, grad, length, lr, beta1, beta2, eps, weightDecay, step', 4,
    ['rate', 'beta', 'beta', 'rate', 'rate', 'step']),
  gatherScale(args, floats) {
    const r = new ArgReader('gatherScale', args, 'out, x, rows, N, D, scale', floats);
    const [N, D] = [r.int(3), r.int(4)];
    r.number(5);
    r.float32s(0, N * D, 'N*D');
    const x = r.samples(1);
    const rows = r.int32s(2, N, 'N');
    rowsOfX('gatherScale', rows, N, D, x.length);
    r.noOverlap(['out']);
  },
  prefetchRows(args, floats) {
    const r = new ArgReader('prefetchRows', args, 'x, rows, N, D', floats);
    const [N, D] = [r.int(2), r.int(3)];
    const x = r.samples(0);
    const rows = r.int32s(1, N, 'N');
    rowsOfX('prefetchRows', rows, N, D, x.length);
  },
};

/** out = f(in) over `length` values. */
function unary(kernel: string, signature: string): Check {
  return (args, floats) => {
    const r = new ArgReader(kernel, args, signature, floats);
    const length = r.int(2);
    r.floats(0, length, 'length');
    r.floats(1, length, 'length');
    r.noOverlap([signature.split(', ')[0]]);
  };
}

/** out = f(a, b) over `length` values. */
function binary(kernel: string, signature: string): Check {
  return (args, floats) => {
    const r = new ArgReader(kernel, args, signature, floats);
    const length = r.int(3);
    for (const i of [0, 1, 2]) r.floats(i, length, 'length');
    r.noOverlap([signature.split(', ')[0]]);
  };
}

/**
 * How an optimizer update checks a scalar: 'rate' a number in [0, Infinity) (lr, weightDecay, eps, lrDecay),
 * 'unit' in [0, 1] (momentum, dampening, alpha), 'beta' in [0, 1), 'step' an integer in [1, 2^31).
 */
type ScalarRule = 'rate' | 'unit' | 'beta' | 'step';

/**
 * An optimizer update "param, state..., grad, length, scalars...": `arrays` float arrays of `length` values, the
 * last of them grad. param and the state buffers are written, so none of them may share memory with any other.
 */
function update(kernel: string, signature: string, arrays: number, scalars: ScalarRule[]): Check {
  const outputs = signature.split(', ').slice(0, arrays - 1);
  return (args, floats) => {
    const r = new ArgReader(kernel, args, signature, floats);
    const length = r.int(arrays);
    scalars.forEach((rule, k) => {
      const i = arrays + 1 + k;
      if (rule === 'rate') r.inRange(i, 0, Infinity);
      else if (rule === 'unit') r.inRange(i, 0, 1, true);
      else if (rule === 'beta') r.inRange(i, 0, 1);
      else r.int(i, 1);
    });
    for (let i = 0; i < arrays; i++) r.floats(i, length, 'length');
    r.noOverlap(outputs);
  };
}

/** Puts the argument checks in front of each kernel of a TS implementation (the addon checks its own). */
export function withChecks<F extends FloatArray>(impl: Kernels<F>, floats: FloatArrayConstructor): Kernels<F> {
  const checked = {} as Record<KernelName, (...args: unknown[]) => unknown>;
  for (const name of KERNEL_NAMES) {
    const kernel = impl[name] as (...args: unknown[]) => unknown;
    const check = CHECKS[name];
    checked[name] = (...args: unknown[]) => {
      check(args, floats);
      return kernel(...args);
    };
  }
  return checked as unknown as Kernels<F>;
}
