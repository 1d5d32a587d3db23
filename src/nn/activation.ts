/**
 * ReLU and Sigmoid: elementwise over any shape. Both keep their output for backward (ReLU's gradient is
 * dy where y > 0, Sigmoid's dy * y * (1 - y)), as torch's autograd does.
 */
import { Layer } from './layer.js';
import type { Tensor } from './tensor.js';
import { checkShape, checkTensor } from './validate.js';

abstract class Activation extends Layer {
  private y?: Tensor;

  /** The kernels of this activation: forward(y, x) and backward(dx, dy, y). */
  protected abstract readonly kernels: { forward: 'reluForward' | 'sigmoidForward'; backward: 'reluBackward' | 'sigmoidBackward' };

  outputShape(input: readonly number[]): number[] {
    checkShape(this, 'input', input);
    if (input.length < 1) throw this.shapeError('[N, ...]', input);
    return [...input];
  }

  forward(x: Tensor): Tensor {
    checkTensor(this, 'x', x);
    this.outputShape(x.shape);
    const y = this.workspace.floats('y', x.data.length);
    this.ctx.backend[this.kernels.forward](y, x.data, y.length);
    this.y = { data: y, shape: x.shape };
    return this.y;
  }

  backward(dy: Tensor, needDx: boolean): Tensor | undefined {
    checkTensor(this, 'dy', dy);
    if (!this.y) throw new Error(`${this.describe()}: backward before forward`);
    if (!needDx) return undefined;
    const dx = this.workspace.floats('dx', dy.data.length);
    this.ctx.backend[this.kernels.backward](dx, dy.data, this.y.data, dx.length);
    return { data: dx, shape: this.y.shape };
  }
}

export class ReLU extends Activation {
  protected readonly kernels = { forward: 'reluForward', backward: 'reluBackward' } as const;

  describe(): string {
    return 'ReLU()';
  }

  clone(): ReLU {
    return new ReLU();
  }
}

export class Sigmoid extends Activation {
  protected readonly kernels = { forward: 'sigmoidForward', backward: 'sigmoidBackward' } as const;

  describe(): string {
    return 'Sigmoid()';
  }

  clone(): Sigmoid {
    return new Sigmoid();
  }
}
