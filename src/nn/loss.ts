/**
 * SoftmaxCrossEntropy: the mean over the batch of -log softmax(logits)[label], as torch.nn.CrossEntropyLoss
 * with reduction 'mean'. Labels are class indices (an Int32Array, or any array of integers) or one-hot rows
 * (a float array of N*C values, each row a single 1). `forward` returns the loss; `backward` the gradient
 * with respect to the logits.
 */
import type { Backend } from '../kernels/backend.js';
import type { FloatArray } from '../kernels/check.js';
import { formatShape, type Tensor } from './tensor.js';
import { Workspace } from './workspace.js';
import { show } from '../util/show.js';
import { checkTensor } from './validate.js';
import { types } from 'node:util';

export type Labels = Int32Array | readonly number[] | Float32Array | Float64Array;

export class SoftmaxCrossEntropy {
  private workspace?: Workspace;
  private saved?: { N: number; C: number; labels: Int32Array; probs: FloatArray };

  constructor(private readonly backend?: Backend<FloatArray>) {}

  /** The mean loss for logits (N, C) and their labels. */
  forward(logits: Tensor, labels: Labels, backend: Backend<FloatArray> | undefined = this.backend): number {
    if (!backend) throw new TypeError('SoftmaxCrossEntropy: no backend (pass one to the constructor or to forward)');
    if (typeof backend !== 'object' || typeof backend.softmaxCrossEntropyForward !== 'function') throw new TypeError(`SoftmaxCrossEntropy: backend must be a backend (getBackend()), got ${show(backend)}`);
    checkTensor('SoftmaxCrossEntropy', 'logits', logits);
    if (logits.shape.length !== 2) {
      throw new RangeError(`SoftmaxCrossEntropy: expected logits of shape [N, C], got ${formatShape(logits.shape)}`);
    }
    const [N, C] = logits.shape;
    this.workspace ??= new Workspace(backend.dtype === 'float64' ? Float64Array : Float32Array);
    const indices = toIndices(labels, N, C, this.workspace.int32s('labels', N));
    const probs = this.workspace.floats('probs', N * C);
    const loss = backend.softmaxCrossEntropyForward(probs, logits.data, indices, N, C);
    this.saved = { N, C, labels: indices, probs };
    return loss;
  }

  /** d(loss)/d(logits), shape (N, C). */
  backward(backend: Backend<FloatArray> | undefined = this.backend): Tensor {
    if (!this.saved || !this.workspace || !backend) throw new Error('SoftmaxCrossEntropy: backward before forward');
    const { N, C, labels, probs } = this.saved;
    const dlogits = this.workspace.floats('dlogits', N * C);
    backend.softmaxCrossEntropyBackward(dlogits, probs, labels, N, C, N === 0 ? 0 : 1 / N);
    return { data: dlogits, shape: [N, C] };
  }
}

/** Class indices from labels given as indices or one-hot rows; a RangeError names the first bad one. */
export function toIndices(labels: Labels, N: number, C: number, out: Int32Array): Int32Array {
  if (types.isFloat32Array(labels) || types.isFloat64Array(labels)) {
    if (labels.length !== N * C) {
      throw new RangeError(`SoftmaxCrossEntropy: one-hot labels must have N*C = ${N * C} values, got ${labels.length}`);
    }
    for (let n = 0; n < N; n++) {
      let hot = -1;
      for (let c = 0; c < C; c++) {
        const v = labels[n * C + c];
        if (v === 1 && hot === -1) hot = c;
        else if (v !== 0) hot = -2;
      }
      if (hot < 0) throw new RangeError(`SoftmaxCrossEntropy: one-hot label row ${n} must hold a single 1 and zeros`);
      out[n] = hot;
    }
    return out;
  }
  if (!types.isInt32Array(labels) && !Array.isArray(labels)) {
    throw new TypeError('SoftmaxCrossEntropy: labels must be an Int32Array or array of class indices, or one-hot rows in a Float32Array');
  }
  if (labels.length !== N) throw new RangeError(`SoftmaxCrossEntropy: expected ${N} labels for ${N} rows of logits, got ${labels.length}`);
  for (let n = 0; n < N; n++) {
    const label = labels[n];
    if (!Number.isInteger(label) || label < 0 || label >= C) {
      throw new RangeError(`SoftmaxCrossEntropy: labels[${n}] = ${show(label)} is not a class index in [0, ${C})`);
    }
    out[n] = label;
  }
  return out;
}
