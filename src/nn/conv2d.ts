/**
 * Conv2d(in, out, kernel, { stride, padding }) over NCHW, weight (out, in, kh, kw), bias (out), as
 * torch.nn.Conv2d (cross-correlation, zero padding). By im2col and one GEMM for the whole batch:
 *   forward   cols = im2col(x)                  (in*kh*kw, N*OH*OW)
 *             t = weight * cols                  (out, N*OH*OW)
 *             y = t to NCHW, + bias              (N, out, OH, OW)
 *   backward  dt = dy to (out, N*OH*OW), dbias += sums of dy
 *             dweight += dt * cols^T,  dcols = weight^T * dt,  dx = col2im(dcols)
 */
import type { FloatArray } from '../kernels/check.js';
import { windowOutput } from '../kernels/check.js';
import { checkInit, initBias, initWeight, type Init } from './init.js';
import { Layer, type LayerContext, type TensorSpec } from './layer.js';
import type { Tensor } from './tensor.js';
import { checkNonNegativeInt, checkPositiveInt } from './validate.js';

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
  private saved?: { x: Tensor; N: number; H: number; W: number; OH: number; OW: number };

  constructor(readonly inChannels: number, readonly outChannels: number, kernelSize: number | [number, number], options: Conv2dOptions = {}) {
    super();
    checkPositiveInt('Conv2d', 'inChannels', inChannels);
    checkPositiveInt('Conv2d', 'outChannels', outChannels);
    const [kh, kw] = typeof kernelSize === 'number' ? [kernelSize, kernelSize] : kernelSize;
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
    const shape = this.outputShape(x.shape);
    const [N, , OH, OW] = shape;
    const [H, W] = [x.shape[2], x.shape[3]];
    const [kh, kw] = this.kernelSize;
    const { backend } = this.ctx;
    const columns = N * OH * OW;
    const cols = this.workspace.floats('cols', this.patch * columns);
    backend.im2col(cols, x.data, N, this.inChannels, H, W, kh, kw, this.stride, this.padding);
    const t = this.workspace.floats('t', this.outChannels * columns);
    backend.gemm(false, false, this.outChannels, columns, this.patch, 1, this.values.weight, cols, 0, t);
    const y = this.workspace.floats('y', t.length);
    backend.convBiasForward(y, t, this.values.bias, N, this.outChannels, OH * OW);
    this.saved = { x, N, H, W, OH, OW };
    return { data: y, shape };
  }

  backward(dy: Tensor, needDx: boolean): Tensor | undefined {
    if (!this.saved) throw new Error(`${this.describe()}: backward before forward`);
    const { x, N, H, W, OH, OW } = this.saved;
    const [kh, kw] = this.kernelSize;
    const { backend } = this.ctx;
    const columns = N * OH * OW;
    const dt = this.workspace.floats('t', this.outChannels * columns); // t is not needed after forward
    backend.convBiasBackward(dt, this.grads.bias, dy.data, N, this.outChannels, OH * OW);
    const cols = this.workspace.floats('cols', this.patch * columns);
    backend.gemm(false, true, this.outChannels, this.patch, columns, 1, dt, cols, 1, this.grads.weight);
    if (!needDx) return undefined;
    const dcols = this.workspace.floats('dcols', cols.length);
    backend.gemm(true, false, this.patch, columns, this.outChannels, 1, this.values.weight, dt, 0, dcols);
    const dx = this.workspace.floats('dx', x.data.length);
    backend.col2im(dx, dcols, N, this.inChannels, H, W, kh, kw, this.stride, this.padding);
    return { data: dx, shape: x.shape };
  }
}
