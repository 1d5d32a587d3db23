/** Flatten(): (N, d1, d2, ...) to (N, d1*d2*...), sharing the data, as torch.nn.Flatten. */
import { Layer } from './layer.js';
import type { Tensor } from './tensor.js';
import { checkShape, checkTensor } from './validate.js';

export class Flatten extends Layer {
  private inputShape?: readonly number[];

  describe(): string {
    return 'Flatten()';
  }

  clone(): Flatten {
    return new Flatten();
  }

  outputShape(input: readonly number[]): number[] {
    checkShape(this, 'input', input);
    if (input.length < 2) throw this.shapeError('[N, ...]', input);
    return [input[0], input.slice(1).reduce((a, b) => a * b, 1)];
  }

  forward(x: Tensor): Tensor {
    checkTensor(this, 'x', x);
    this.inputShape = x.shape;
    return { data: x.data, shape: this.outputShape(x.shape) };
  }

  backward(dy: Tensor, needDx: boolean): Tensor | undefined {
    checkTensor(this, 'dy', dy);
    if (!this.inputShape) throw new Error('Flatten(): backward before forward');
    return needDx ? { data: dy.data, shape: this.inputShape } : undefined;
  }
}
