/**
 * Conv2d(in, out, kernel, { stride, padding }) over NCHW, weight (out, in, kh, kw), bias (out), as
 * torch.nn.Conv2d (cross-correlation, zero padding): the conv2d kernels (src/kernels/ts/conv.ts), which unfold
 * one image at a time; forward keeps x for backward, nothing else.
 */
import type { FloatArray } from '../kernels/check.js';
import { windowOutput } from '../kernels/check.js';
import { checkInit, initBias, initWeight, type Init } from './init.js';
import { Layer, type LayerContext, type TensorSpec } from './layer.js';
import type { Tensor } from './tensor.js';
import { checkNonNegativeInt, checkPositiveInt, checkShape, checkTensor } from './validate.js';
import { show } from '../util/show.js';

export interface Conv2dOptions {
  stride?: number;
  padding?: number;
  bias?: boolean;
  init?: Init;
}

export class Conv2d extends Layer {
  readonly kernelSize: [number, number];
  readonly stride: number;
  readonly padding: number;
  readonly bias: boolean;
  readonly init: Init;
  private values!: Record<string, FloatArray>;
  private grads!: Record<string, FloatArray>;
  private saved?: Tensor;

  constructor(readonly inChannels: number, readonly outChannels: number, kernelSize: number | [number, number], options: Conv2dOptions = {}) {
    super();
    checkPositiveInt('Conv2d', 'inChannels', inChannels);
    checkPositiveInt('Conv2d', 'outChannels', outChannels);
    if (typeof kernelSize !== 'number' && !(Array.isArray(kernelSize) && kernelSize.length === 2)) {
      throw new TypeError(`Conv2d: kernelSize must be a number or [kh, kw], got ${show(kernelSize)}`);
    }
    const [kh, kw] = typeof kernelSize === 'number' ? [kernelSize, kernelSize] : kernelSize;
    if (typeof options !== 'object' || options === null) throw new TypeError(`Conv2d: options must be an object, got ${show(options)}`);
    this.kernelSize = [checkPositiveInt('Conv2d', 'kernelSize', kh), checkPositiveInt('Conv2d', 'kernelSize', kw)];
    this.stride = checkPositiveInt('Conv2d', 'stride', options.stride ?? 1);
    this.padding = checkNonNegativeInt('Conv2d', 'padding', options.padding ?? 0);
    this.bias = options.bias ?? true;
    this.init = checkInit('Conv2d', options.init ?? 'default');
  }

  describe(): string {
    const [kh, kw] = this.kernelSize;
    const extra = [this.stride !== 1 ? `stride=${this.stride}` : '', this.padding !== 0 ? `padding=${this.padding}` : '', this.bias ? '' : 'bias=false'];
    return `Conv2d(${[this.inChannels, this.outChannels, kh === kw ? kh : `(${kh}, ${kw})`, ...extra.filter(Boolean)].join(', ')})`;
  }

  clone(): Conv2d {
    return new Conv2d(this.inChannels, this.outChannels, [...this.kernelSize], { stride: this.stride, padding: this.padding, bias: this.bias, init: this.init });
  }

  private get patch(): number {
    return this.inChannels * this.kernelSize[0] * this.kernelSize[1];
  }

  tensors(): TensorSpec[] {
    const fanIn = this.patch;
    const specs: TensorSpec[] = [{
      name: 'weight', shape: [this.outChannels, this.inChannels, ...this.kernelSize], kind: 'parameter', decay: true,
      init: (values, random) => initWeight(values, this.init, fanIn, random),
    }];
    if (this.bias) specs.push({ name: 'bias', shape: [this.outChannels], kind: 'parameter', init: (values, random) => initBias(values, this.init, fanIn, random) });
    return specs;
  }

  bind(values: Record<string, FloatArray>, grads: Record<string, FloatArray>, context: LayerContext): void {
    super.bind(values, grads, context);
    const floatType = this.floatType;
    this.values = { ...values };
    this.grads = { ...grads };
    if (!this.bias) {
      this.values.bias = new floatType(this.outChannels);
      this.grads.bias = new floatType(this.outChannels);
    }
  }

  outputShape(input: readonly number[]): number[] {
    checkShape(this, 'input', input);
    if (input.length !== 4 || input[1] !== this.inChannels) throw this.shapeError(`[N, ${this.inChannels}, H, W]`, input);
    const [kh, kw] = this.kernelSize;
    const OH = this.windowFits(input, 'H', input[2], kh);
    const OW = this.windowFits(input, 'W', input[3], kw);
    return [input[0], this.outChannels, OH, OW];
  }

  private windowFits(input: readonly number[], axis: string, size: number, window: number): number {
    try {
      return windowOutput(this.describe(), axis, size, window, this.stride, this.padding);
    } catch {
      throw this.shapeError(`[N, ${this.inChannels}, H, W] with H and W at least ${window - 2 * this.padding}`, input);
    }
  }

  forward(x: Tensor): Tensor {
    checkTensor(this, 'x', x);
    const shape = this.outputShape(x.shape);
    const [N, C, H, W] = x.shape;
    const [kh, kw] = this.kernelSize;
    const y = this.workspace.floats('y', N * this.outChannels * shape[2] * shape[3]);
    this.ctx.backend.conv2dForward(y, x.data, this.values.weight, this.values.bias, N, C, H, W, this.outChannels, kh, kw, this.stride, this.padding);
    this.saved = x;
    return { data: y, shape };
  }

  backward(dy: Tensor, needDx: boolean): Tensor | undefined {
    checkTensor(this, 'dy', dy);
    if (!this.saved) throw new Error(`${this.describe()}: backward before forward`);
    const x = this.saved;
    const [N, C, H, W] = x.shape;
    const [kh, kw] = this.kernelSize;
    const { backend } = this.ctx;
    backend.conv2dBackwardParams(this.grads.weight, this.grads.bias, dy.data, x.data, N, C, H, W, this.outChannels, kh, kw, this.stride, this.padding);
    if (!needDx) return undefined;
    const dx = this.workspace.floats('dx', x.data.length);
    backend.conv2dBackwardInput(dx, dy.data, this.values.weight, N, C, H, W, this.outChannels, kh, kw, this.stride, this.padding);
    return { data: dx, shape: x.shape };
  }
}
