/**
 * Dropout(p): in training, zeroes each value with probability p and scales the rest by 1/(1 - p) (inverted
 * dropout, as torch.nn.Dropout); in eval, the identity. Each forward draws the mask's seed from the model's
 * generator, so a seeded model drops the same units on every run.
 */
import type { FloatArray } from '../kernels/check.js';
import { Layer } from './layer.js';
import type { Tensor } from './tensor.js';
import { checkShape, checkTensor } from './validate.js';
import { show } from '../util/show.js';

export class Dropout extends Layer {
  private mask?: FloatArray;
  private shape?: readonly number[];

  constructor(readonly p = 0.5) {
    super();
    if (typeof p !== 'number' || !(p >= 0 && p < 1)) throw new RangeError(`Dropout: p must be in [0, 1), got ${show(p)}`);
  }

  describe(): string {
    return `Dropout(p=${this.p})`;
  }

  clone(): Dropout {
    return new Dropout(this.p);
  }


  outputShape(input: readonly number[]): number[] {
    checkShape(this, 'input', input);
    if (input.length < 1) throw this.shapeError('[N, ...]', input);
    return [...input];
  }

  forward(x: Tensor, training: boolean): Tensor {
    checkTensor(this, 'x', x);
    this.outputShape(x.shape);
    this.shape = x.shape;
    if (!training || this.p === 0) {
      this.mask = undefined;
      return x;
    }
    const y = this.workspace.floats('y', x.data.length);
    this.mask = this.workspace.floats('mask', x.data.length);
    this.ctx.backend.dropoutForward(y, this.mask, x.data, y.length, this.p, this.ctx.random.nextUint32());
    return { data: y, shape: x.shape };
  }

  backward(dy: Tensor, needDx: boolean): Tensor | undefined {
    checkTensor(this, 'dy', dy);
    if (!this.shape) throw new Error(`${this.describe()}: backward before forward`);
    if (!needDx) return undefined;
    if (!this.mask) return dy;
    const dx = this.workspace.floats('dx', dy.data.length);
    this.ctx.backend.dropoutBackward(dx, dy.data, this.mask, dx.length);
    return { data: dx, shape: this.shape };
  }
}
