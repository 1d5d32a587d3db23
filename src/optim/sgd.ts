/**
 * SGD: torch.optim.SGD without momentum. g = grad + weightDecay * param; param -= lr * g.
 * lr has no default, as in torch. The seeds' SGD is W -= lr * dW: the same rule without weight decay.
 */
import type { FloatArray } from '../kernels/check.js';
import type { Parameter } from '../nn/sequential.js';
import { Optimizer, type Tensors, type OptimizerOptions, type ParameterSource } from './optimizer.js';

export interface SGDOptions extends OptimizerOptions {
  /** Required. */
  lr: number;
}

type Resolved = { lr: number; weightDecay: number };

export class SGD extends Optimizer<Resolved> {
  constructor(source: ParameterSource | readonly Parameter[], options: SGDOptions) {
    super('SGD', source, options, { lr: { rule: 'rate' }, weightDecay: { rule: 'rate', default: 0 } }, []);
  }

  protected update(p: Tensors, _state: FloatArray[], _step: number, o: Resolved): void {
    this.backend.sgdUpdate(p.value, p.grad, p.value.length, o.lr, o.weightDecay);
  }
}
