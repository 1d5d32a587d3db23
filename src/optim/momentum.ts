/**
 * Momentum: torch.optim.SGD with momentum (nesterov off). g = grad + weightDecay * param;
 * v = g at the first step, then v = momentum * v + (1 - dampening) * g; param -= lr * v.
 * Defaults: momentum 0.9 (torch's is 0, which is plain SGD), dampening 0; lr has no default, as in torch.
 * The seeds' form v = momentum * v - lr * dW; W += v is the same trajectory while lr is constant (their v is
 * -lr times torch's), but a changed lr acts at once here and only through v there.
 */
import type { FloatArray } from '../kernels/check.js';
import type { Parameter } from '../nn/sequential.js';
import { Optimizer, type Tensors, type OptimizerOptions, type ParameterSource } from './optimizer.js';

export interface MomentumOptions extends OptimizerOptions {
  /** Required. */
  lr: number;
  /** In [0, 1]; default 0.9. */
  momentum?: number;
  /** In [0, 1]; default 0. */
  dampening?: number;
}

type Resolved = { lr: number; momentum: number; dampening: number; weightDecay: number };

export class Momentum extends Optimizer<Resolved> {
  constructor(source: ParameterSource | readonly Parameter[], options: MomentumOptions) {
    super('Momentum', source, options, {
      lr: { rule: 'rate' },
      momentum: { rule: 'unit', default: 0.9 },
      dampening: { rule: 'unit', default: 0 },
      weightDecay: { rule: 'rate', default: 0 },
    }, ['velocity']);
  }

  protected update(p: Tensors, [velocity]: FloatArray[], step: number, o: Resolved): void {
    this.backend.momentumUpdate(p.value, velocity, p.grad, p.value.length, o.lr, o.momentum, o.dampening, o.weightDecay, step);
  }
}
