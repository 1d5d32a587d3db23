/**
 * BatchNorm1d(features) over (N, C) or (N, C, L), BatchNorm2d(channels) over (N, C, H, W): the batchnorm
 * kernels on an (N, C, S) view. PyTorch's rules (torch.nn.BatchNorm1d/2d): eps 1e-5; momentum 0.1 is the
 * weight of the new batch statistic, and `momentum: null` makes the running statistics a cumulative average
 * (weight 1/num_batches_tracked); normalisation uses the biased batch variance, running_var takes the
 * unbiased one; training with one value per channel is a RangeError; eval uses the running statistics.
 * `affine: false` drops weight and bias (gamma 1, beta 0).
 */
import type { FloatArray } from '../kernels/check.js';
import { ReLU } from './activation.js';
import { Layer, type LayerContext, type TensorSpec } from './layer.js';
import { MaxPool2d } from './maxpool2d.js';
import { formatShape, sizeOf, type Tensor } from './tensor.js';
import { checkPositiveInt, checkShape, checkTensor } from './validate.js';
import { show } from '../util/show.js';

export interface BatchNormOptions {
  eps?: number;
  /** Weight of the new batch statistic in the running ones; null for a cumulative average. */
  momentum?: number | null;
  affine?: boolean;
}

export abstract class BatchNorm extends Layer {
  readonly eps: number;
  readonly momentum: number | null;
  readonly affine: boolean;
  numBatchesTracked = 0;
  private values!: Record<string, FloatArray>;
  private grads!: Record<string, FloatArray>;
  /** Set by fuseNext: the kernels apply the ReLU that follows. */
  private relu = false;
  /** Set by fuseNext (BatchNorm2d): the kernels apply the max-pool that follows (after the ReLU, if fused). */
  protected pool?: MaxPool2d;
  /**
   * What backward needs of the last training forward (with a fused ReLU, the kernel recomputes its output from
   * x; with a fused max-pool, argmax is the pool's).
   */
  private saved?: { x: Tensor; N: number; S: number; argmax?: Int32Array };

  constructor(readonly numFeatures: number, options: BatchNormOptions) {
    super();
    checkPositiveInt(new.target.name, 'numFeatures', numFeatures);
    if (typeof options !== 'object' || options === null) throw new TypeError(`${new.target.name}: options must be an object, got ${show(options)}`);
    this.eps = options.eps ?? 1e-5;
    this.momentum = options.momentum === undefined ? 0.1 : options.momentum;
    this.affine = options.affine ?? true;
    if (!(this.eps >= 0)) throw new RangeError(`${new.target.name}: eps must be >= 0, got ${show(this.eps)}`);
    if (this.momentum !== null && !(this.momentum >= 0 && this.momentum <= 1)) {
      throw new RangeError(`${new.target.name}: momentum must be in [0, 1] or null, got ${show(this.momentum)}`);
    }
  }

  /** (N, S) of the (N, C, S) view, or a RangeError naming the expected shape. */
  protected abstract view(shape: readonly number[]): { N: number; S: number };

  protected options(): string {
    const parts = [`${this.numFeatures}`];
    if (this.eps !== 1e-5) parts.push(`eps=${this.eps}`);
    if (this.momentum !== 0.1) parts.push(`momentum=${this.momentum}`);
    if (!this.affine) parts.push('affine=false');
    return parts.join(', ');
  }

  protected cloneOptions(): BatchNormOptions {
    return { eps: this.eps, momentum: this.momentum, affine: this.affine };
  }

  tensors(): TensorSpec[] {
    const C = this.numFeatures;
    const fill = (value: number) => (values: FloatArray) => values.fill(value);
    const specs: TensorSpec[] = [];
    if (this.affine) {
      specs.push({ name: 'weight', shape: [C], kind: 'parameter', init: fill(1) });
      specs.push({ name: 'bias', shape: [C], kind: 'parameter', init: fill(0) });
    }
    specs.push({ name: 'running_mean', shape: [C], kind: 'buffer', init: fill(0) });
    specs.push({ name: 'running_var', shape: [C], kind: 'buffer', init: fill(1) });
    return specs;
  }

  counters(): Record<string, number> {
    return { num_batches_tracked: this.numBatchesTracked };
  }

  setCounter(name: string, value: number): void {
    if (name !== 'num_batches_tracked') super.setCounter(name, value);
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${this.describe()}: num_batches_tracked must be an integer >= 0, got ${show(value)}`);
    this.numBatchesTracked = value;
  }

  bind(values: Record<string, FloatArray>, grads: Record<string, FloatArray>, context: LayerContext): void {
    super.bind(values, grads, context);
    const floatType = this.floatType;
    this.values = { ...values };
    this.grads = { ...grads };
    if (!this.affine) {
      // gamma 1 and beta 0, and somewhere for their unused gradients to go.
      const C = this.numFeatures;
      this.values.weight = new floatType(C).fill(1);
      this.values.bias = new floatType(C);
      this.grads.weight = new floatType(C);
      this.grads.bias = new floatType(C);
    }
  }

  outputShape(input: readonly number[], training: boolean): number[] {
    checkShape(this, 'input', input);
    const { N, S } = this.view(input);
    if (training && N * S <= 1) {
      throw new RangeError(`${this.describe()}: training needs more than one value per channel, got input of shape ${formatShape(input)}`);
    }
    return [...input];
  }

  /**
   * A ReLU right after takes no pass of its own: the kernels apply it (and its gradient). As ReLU is idempotent,
   * running the ReLU layer on this output anyway gives the same values and gradients.
   */
  fuseNext(next: Layer | undefined, following: readonly Layer[] = []): boolean | number {
    void following;
    this.relu = next instanceof ReLU;
    return this.relu;
  }

  forward(x: Tensor, training: boolean): Tensor {
    checkTensor(this, 'x', x);
    this.outputShape(x.shape, training);
    const { N, S } = this.view(x.shape);
    const C = this.numFeatures;
    const { backend } = this.ctx;
    const v = this.values;
    if (this.pool) return this.forwardPooled(x, training, this.pool);
    const y = this.workspace.floats('y', x.data.length);
    if (training) {
      this.numBatchesTracked++;
      const momentum = this.momentum ?? 1 / this.numBatchesTracked;
      backend.batchnormForwardTrain(y, this.workspace.floats('mean', C), this.workspace.floats('invStd', C),
        v.running_mean, v.running_var, x.data, v.weight, v.bias, N, C, S, momentum, this.eps, this.relu);
      this.saved = { x, N, S };
    } else {
      backend.batchnormForwardEval(y, x.data, v.weight, v.bias, v.running_mean, v.running_var, N, C, S, this.eps, this.relu);
      this.saved = undefined;
    }
    return { data: y, shape: x.shape };
  }

  /**
   * Forward with the max-pool fused: training in one kernel that never writes the full-size activation; eval as
   * the two layers would run (BatchNorm, then the pool's kernel).
   */
  private forwardPooled(x: Tensor, training: boolean, pool: MaxPool2d): Tensor {
    const [N, C, H, W] = x.shape;
    const [KH, KW] = pool.kernelSize;
    const shape = pool.outputShape(x.shape);
    const { backend } = this.ctx;
    const v = this.values;
    const y = this.workspace.floats('pooled', sizeOf(shape));
    const argmax = this.workspace.int32s('argmax', y.length);
    if (training) {
      this.numBatchesTracked++;
      const momentum = this.momentum ?? 1 / this.numBatchesTracked;
      backend.batchnormPoolForwardTrain(y, argmax, this.workspace.floats('mean', C), this.workspace.floats('invStd', C),
        v.running_mean, v.running_var, x.data, v.weight, v.bias, N, C, H, W, KH, KW, pool.stride, momentum, this.eps, this.relu);
      this.saved = { x, N, S: H * W, argmax };
    } else {
      const normalized = this.workspace.floats('y', x.data.length);
      backend.batchnormForwardEval(normalized, x.data, v.weight, v.bias, v.running_mean, v.running_var, N, C, H * W, this.eps, this.relu);
      backend.maxpoolForward(y, argmax, normalized, N, C, H, W, KH, KW, pool.stride);
      this.saved = undefined;
    }
    return { data: y, shape };
  }

  backward(dy: Tensor, needDx: boolean): Tensor | undefined {
    checkTensor(this, 'dy', dy);
    if (!this.saved) throw new Error(`${this.describe()}: backward needs a forward in training mode first`);
    const { x, N, S, argmax } = this.saved;
    const C = this.numFeatures;
    // The kernel forms dx with the same sums it needs for dgamma and dbeta, so it is always written.
    const dx = this.workspace.floats('dx', x.data.length);
    const [mean, invStd] = [this.workspace.floats('mean', C), this.workspace.floats('invStd', C)];
    let g = dy.data;
    if (this.pool && argmax) {
      // The pool's backward first, as the layer would run it (fused, the two passes measured no faster).
      const [KH, KW] = this.pool.kernelSize;
      g = this.workspace.floats('dy', x.data.length);
      this.ctx.backend.maxpoolBackward(g, dy.data, argmax, N, C, x.shape[2], x.shape[3], KH, KW, this.pool.stride);
    }
    this.ctx.backend.batchnormBackward(dx, this.grads.weight, this.grads.bias, g, x.data, mean, invStd,
      this.values.weight, N, C, S, this.relu ? this.values.bias : null);
    return needDx ? { data: dx, shape: x.shape } : undefined;
  }
}

export class BatchNorm1d extends BatchNorm {
  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    super(numFeatures, options);
  }

  describe(): string {
    return `BatchNorm1d(${this.options()})`;
  }

  clone(): BatchNorm1d {
    return new BatchNorm1d(this.numFeatures, this.cloneOptions());
  }

  protected view(shape: readonly number[]): { N: number; S: number } {
    if ((shape.length !== 2 && shape.length !== 3) || shape[1] !== this.numFeatures) {
      throw this.shapeError(`[N, ${this.numFeatures}] or [N, ${this.numFeatures}, L]`, shape);
    }
    return { N: shape[0], S: shape.length === 3 ? shape[2] : 1 };
  }
}

export class BatchNorm2d extends BatchNorm {
  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    super(numFeatures, options);
  }

  describe(): string {
    return `BatchNorm2d(${this.options()})`;
  }

  clone(): BatchNorm2d {
    return new BatchNorm2d(this.numFeatures, this.cloneOptions());
  }

  /**
   * Also a MaxPool2d right after (or after the fused ReLU): the training forward pools each normalized plane while
   * it is in cache and never writes the full-size activation, with the same values and gradients, bit for bit, as
   * the layers one by one. Forward then returns the pool's output.
   */
  fuseNext(next: Layer | undefined, following: readonly Layer[] = []): boolean | number {
    const relu = super.fuseNext(next, following) === true;
    const after = relu ? following[0] : next;
    this.pool = after instanceof MaxPool2d ? after : undefined;
    return Number(relu) + Number(this.pool !== undefined);
  }

  protected view(shape: readonly number[]): { N: number; S: number } {
    if (shape.length !== 4 || shape[1] !== this.numFeatures) throw this.shapeError(`[N, ${this.numFeatures}, H, W]`, shape);
    return { N: shape[0], S: shape[2] * shape[3] };
  }
}
