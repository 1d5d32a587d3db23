/**
 * Linear(in, out): y = x * weight^T + bias, x (N, in), weight (out, in), bias (out), as torch.nn.Linear.
 *   forward   y = x * weight^T + bias                                  one linearForward call
 *   backward  dweight += dy^T * x,  dbias += sum of dy's rows,  dx = dy * weight    one linearBackward call
 */
import type { FloatArray } from '../kernels/check.js';
import { checkInit, initBias, initWeight, type Init } from './init.js';
import { Layer, type LayerContext, type TensorSpec } from './layer.js';
import type { Tensor } from './tensor.js';
import { checkPositiveInt, checkShape, checkTensor } from './validate.js';
import { show } from '../util/show.js';

export interface LinearOptions {
  bias?: boolean;
  init?: Init;
}

export class Linear extends Layer {
  readonly bias: boolean;
  readonly init: Init;
  private weightValues!: FloatArray;
  private biasValues?: FloatArray;
  private weightGrad!: FloatArray;
  private biasGrad?: FloatArray;
  private x?: Tensor;

  constructor(readonly inFeatures: number, readonly outFeatures: number, options: LinearOptions = {}) {
    super();
    checkPositiveInt('Linear', 'inFeatures', inFeatures);
    checkPositiveInt('Linear', 'outFeatures', outFeatures);
    if (typeof options !== 'object' || options === null) throw new TypeError(`Linear: options must be an object, got ${show(options)}`);
    this.bias = options.bias ?? true;
    this.init = checkInit('Linear', options.init ?? 'default');
  }

  describe(): string {
    return `Linear(${this.inFeatures}, ${this.outFeatures}${this.bias ? '' : ', bias=false'})`;
  }

  clone(): Linear {
    return new Linear(this.inFeatures, this.outFeatures, { bias: this.bias, init: this.init });
  }

  tensors(): TensorSpec[] {
    const fanIn = this.inFeatures;
    const specs: TensorSpec[] = [{
      name: 'weight', shape: [this.outFeatures, this.inFeatures], kind: 'parameter', decay: true,
      init: (values, random) => initWeight(values, this.init, fanIn, random),
    }];
    if (this.bias) {
      specs.push({ name: 'bias', shape: [this.outFeatures], kind: 'parameter', init: (values, random) => initBias(values, this.init, fanIn, random) });
    }
    return specs;
  }

  bind(values: Record<string, FloatArray>, grads: Record<string, FloatArray>, context: LayerContext): void {
    super.bind(values, grads, context);
    this.weightValues = values.weight;
    this.weightGrad = grads.weight;
    this.biasValues = values.bias;
    this.biasGrad = grads.bias;
  }

  outputShape(input: readonly number[]): number[] {
    checkShape(this, 'input', input);
    if (input.length !== 2 || input[1] !== this.inFeatures) throw this.shapeError(`[N, ${this.inFeatures}]`, input);
    return [input[0], this.outFeatures];
  }

  forward(x: Tensor): Tensor {
    checkTensor(this, 'x', x);
    const shape = this.outputShape(x.shape);
    const N = shape[0];
    const y = this.workspace.floats('y', N * this.outFeatures);
    this.ctx.backend.linearForward(y, x.data, this.weightValues, this.biasValues ?? null, N, this.inFeatures, this.outFeatures);
    this.x = x;
    return { data: y, shape };
  }

  backward(dy: Tensor, needDx: boolean): Tensor | undefined {
    checkTensor(this, 'dy', dy);
    const x = this.x;
    if (!x) throw new Error(`${this.describe()}: backward before forward`);
    const N = x.shape[0];
    const dx = needDx ? this.workspace.floats('dx', N * this.inFeatures) : null;
    this.ctx.backend.linearBackward(dx, this.weightGrad, this.biasGrad ?? null, dy.data, x.data, this.weightValues,
      N, this.inFeatures, this.outFeatures);
    return dx ? { data: dx, shape: x.shape } : undefined;
  }
}
