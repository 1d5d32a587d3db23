/**
 * MaxPool2d(kernel, { stride }) over NCHW, no padding, stride defaulting to the kernel size, output size
 * rounded down, as torch.nn.MaxPool2d. Forward keeps each window's argmax; backward routes dy to it.
 */
import { windowOutput } from '../kernels/check.js';
import { Layer } from './layer.js';
import type { Tensor } from './tensor.js';
import { checkPositiveInt, checkShape, checkTensor } from './validate.js';
import { show } from '../util/show.js';

export interface MaxPool2dOptions {
  stride?: number;
}

export class MaxPool2d extends Layer {
  readonly kernelSize: [number, number];
  readonly stride: number;
  private saved?: { x: Tensor; argmax: Int32Array };

  constructor(kernelSize: number | [number, number], options: MaxPool2dOptions = {}) {
    super();
    if (typeof kernelSize !== 'number' && !(Array.isArray(kernelSize) && kernelSize.length === 2)) {
      throw new TypeError(`MaxPool2d: kernelSize must be a number or [kh, kw], got ${show(kernelSize)}`);
    }
    const [kh, kw] = typeof kernelSize === 'number' ? [kernelSize, kernelSize] : kernelSize;
    if (typeof options !== 'object' || options === null) throw new TypeError(`MaxPool2d: options must be an object, got ${show(options)}`);
    this.kernelSize = [checkPositiveInt('MaxPool2d', 'kernelSize', kh), checkPositiveInt('MaxPool2d', 'kernelSize', kw)];
    this.stride = checkPositiveInt('MaxPool2d', 'stride', options.stride ?? kh);
  }

  describe(): string {
    const [kh, kw] = this.kernelSize;
    return `MaxPool2d(kernel_size=${kh === kw ? kh : `(${kh}, ${kw})`}, stride=${this.stride})`;
  }

  clone(): MaxPool2d {
    return new MaxPool2d([...this.kernelSize], { stride: this.stride });
  }


  outputShape(input: readonly number[]): number[] {
    checkShape(this, 'input', input);
    const [kh, kw] = this.kernelSize;
    if (input.length !== 4 || input[2] < kh || input[3] < kw) throw this.shapeError(`[N, C, H, W] with H >= ${kh} and W >= ${kw}`, input);
    const [N, C, H, W] = input;
    return [N, C, windowOutput(this.describe(), 'H', H, kh, this.stride, 0), windowOutput(this.describe(), 'W', W, kw, this.stride, 0)];
  }

  forward(x: Tensor): Tensor {
    checkTensor(this, 'x', x);
    const shape = this.outputShape(x.shape);
    const [N, C, H, W] = x.shape;
    const [kh, kw] = this.kernelSize;
    const length = shape[0] * shape[1] * shape[2] * shape[3];
    const y = this.workspace.floats('y', length);
    const argmax = this.workspace.int32s('argmax', length);
    this.ctx.backend.maxpoolForward(y, argmax, x.data, N, C, H, W, kh, kw, this.stride);
    this.saved = { x, argmax };
    return { data: y, shape };
  }

  backward(dy: Tensor, needDx: boolean): Tensor | undefined {
    checkTensor(this, 'dy', dy);
    if (!this.saved) throw new Error(`${this.describe()}: backward before forward`);
    if (!needDx) return undefined;
    const { x, argmax } = this.saved;
    const [N, C, H, W] = x.shape;
    const [kh, kw] = this.kernelSize;
    const dx = this.workspace.floats('dx', x.data.length);
    this.ctx.backend.maxpoolBackward(dx, dy.data, argmax, N, C, H, W, kh, kw, this.stride);
    return { data: dx, shape: x.shape };
  }
}
