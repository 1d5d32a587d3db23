/**
 * ReLU and Sigmoid: elementwise over any shape. Both keep their output for backward (ReLU's gradient is
 * dy where y > 0, Sigmoid's dy * y * (1 - y)), as torch's autograd does.
 */
import type { Backend } from '../kernels/backend.js';
import type { FloatArray } from '../kernels/check.js';
import { Layer, type LayerContext } from './layer.js';
import type { Tensor } from './tensor.js';
import { Workspace } from './workspace.js';

type Pass = (backend: Backend<FloatArray>) => {
  forward(y: FloatArray, x: FloatArray, length: number): void;
  backward(dx: FloatArray, dy: FloatArray, y: FloatArray, length: number): void;
};

abstract class Activation extends Layer {
  private workspace!: Workspace;
  private y?: Tensor;

  protected abstract readonly pass: Pass;

  bind(values: Record<string, FloatArray>, grads: Record<string, FloatArray>, context: LayerContext): void {
    super.bind(values, grads, context);
    this.workspace = new Workspace(context.backend.dtype === 'float64' ? Float64Array : Float32Array);
  }

  outputShape(input: readonly number[]): number[] {
    if (input.length < 1) throw this.shapeError('[N, ...]', input);
    return [...input];
  }

  forward(x: Tensor): Tensor {
    this.outputShape(x.shape);
    const y = this.workspace.floats('y', x.data.length);
    this.pass(this.ctx.backend).forward(y, x.data, y.length);
    this.y = { data: y, shape: x.shape };
    return this.y;
  }

  backward(dy: Tensor, needDx: boolean): Tensor | undefined {
    if (!this.y) throw new Error(`${this.describe()}: backward before forward`);
    if (!needDx) return undefined;
    const dx = this.workspace.floats('dx', dy.data.length);
    this.pass(this.ctx.backend).backward(dx, dy.data, this.y.data, dx.length);
    return { data: dx, shape: this.y.shape };
  }
}

export class ReLU extends Activation {
  protected readonly pass: Pass = (b) => ({ forward: b.reluForward, backward: b.reluBackward });

  describe(): string {
    return 'ReLU()';
  }

  clone(): ReLU {
    return new ReLU();
  }
}

export class Sigmoid extends Activation {
  protected readonly pass: Pass = (b) => ({ forward: b.sigmoidForward, backward: b.sigmoidBackward });

  describe(): string {
    return 'Sigmoid()';
  }

  clone(): Sigmoid {
    return new Sigmoid();
  }
}
