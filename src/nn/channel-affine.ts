/**
 * ChannelAffine(C): a per-channel scale and shift over (N, C) or (N, C, ...),
 *
 *   y[n, c, s] = weight[c] * x[n, c, s] + bias[c]
 *
 * what an eval-mode BatchNorm is once its statistics are folded into its affine parameters (foldBatchNorm makes
 * one for a BatchNorm with no Linear or Conv2d before it to absorb it). It runs the batchnormForwardEval kernel
 * with mean 0, variance 1 and eps 0, where gamma * (x - 0) / sqrt(1 + 0) + beta is exactly this map, so it has
 * the native and TS kernels of BatchNorm and fuses a following ReLU the same way. Eval only: a folded model has
 * no batch statistics to train with, so training mode is a RangeError and there is no backward.
 */
import type { FloatArray } from '../kernels/check.js';
import { ReLU } from './activation.js';
import { Layer, type LayerContext, type TensorSpec } from './layer.js';
import type { Tensor } from './tensor.js';
import { checkPositiveInt, checkShape, checkTensor } from './validate.js';

export class ChannelAffine extends Layer {
  private values!: Record<string, FloatArray>;
  /** The kernel's running mean (zeros) and variance (ones). */
  private zeros!: FloatArray;
  private ones!: FloatArray;
  private relu = false;

  constructor(readonly numChannels: number) {
    super();
    checkPositiveInt('ChannelAffine', 'numChannels', numChannels);
  }

  describe(): string {
    return `ChannelAffine(${this.numChannels})`;
  }

  clone(): ChannelAffine {
    return new ChannelAffine(this.numChannels);
  }

  tensors(): TensorSpec[] {
    const C = this.numChannels;
    return [
      { name: 'weight', shape: [C], kind: 'parameter', init: (values) => values.fill(1) },
      { name: 'bias', shape: [C], kind: 'parameter', init: (values) => values.fill(0) },
    ];
  }

  bind(values: Record<string, FloatArray>, grads: Record<string, FloatArray>, context: LayerContext): void {
    super.bind(values, grads, context);
    this.values = values;
    this.zeros = new this.floatType(this.numChannels);
    this.ones = new this.floatType(this.numChannels).fill(1);
  }

  outputShape(input: readonly number[], training: boolean): number[] {
    checkShape(this, 'input', input);
    if (input.length < 2 || input[1] !== this.numChannels) throw this.shapeError(`[N, ${this.numChannels}, ...]`, input);
    if (training) throw new RangeError(`${this.describe()}: eval only (a folded BatchNorm has no batch statistics to train with); call model.eval()`);
    return [...input];
  }

  fuseNext(next: Layer | undefined): boolean {
    this.relu = next instanceof ReLU;
    return this.relu;
  }

  forward(x: Tensor, training: boolean): Tensor {
    checkTensor(this, 'x', x);
    this.outputShape(x.shape, training);
    const [N, C] = x.shape;
    let S = 1; // the (N, C, S) view: S = 1 for (N, C), L for (N, C, L), H*W for (N, C, H, W)
    for (let i = 2; i < x.shape.length; i++) S *= x.shape[i];
    const y = this.workspace.floats('y', x.data.length);
    this.ctx.backend.batchnormForwardEval(y, x.data, this.values.weight, this.values.bias, this.zeros, this.ones, N, C, S, 0, this.relu);
    return { data: y, shape: x.shape };
  }

  backward(): Tensor | undefined {
    throw new Error(`${this.describe()}: eval only, it has no backward`);
  }
}
