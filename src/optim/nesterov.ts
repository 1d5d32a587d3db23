/**
 * Nesterov: torch.optim.SGD with nesterov=True (dampening 0). g = grad + weightDecay * param;
 * v = g at the first step, then v = momentum * v + g; param -= lr * (g + momentum * v).
 * Defaults: momentum 0.9 (must be > 0, as torch requires); lr has no default, as in torch.
 * This is Sutskever et al.'s rule as torch has it: with u = -lr * v (constant lr) it is u' = momentum * u - lr * g;
 * W += momentum^2 * u - (1 + momentum) * lr * g, u the velocity before the step. The seeds' form (v *= momentum;
 * v -= lr * dW; W += momentum^2 * v; W -= (1 + momentum) * lr * dW) applies momentum^2 to the velocity after the
 * step instead, a different rule: W moves by momentum^3 * u - (1 + momentum + momentum^2) * lr * g.
 */
import type { FloatArray } from '../kernels/check.js';
import type { Parameter } from '../nn/sequential.js';
import { Optimizer, type Tensors, type OptimizerOptions, type ParameterSource } from './optimizer.js';

export interface NesterovOptions extends OptimizerOptions {
  /** Required. */
  lr: number;
  /** In (0, 1]; default 0.9. */
  momentum?: number;
}

type Resolved = { lr: number; momentum: number; weightDecay: number };

export class Nesterov extends Optimizer<Resolved> {
  constructor(source: ParameterSource | readonly Parameter[], options: NesterovOptions) {
    super('Nesterov', source, options, {
      lr: { rule: 'rate' },
      momentum: { rule: 'positiveUnit', default: 0.9 },
      weightDecay: { rule: 'rate', default: 0 },
    }, ['velocity']);
  }

  protected update(p: Tensors, [velocity]: FloatArray[], step: number, o: Resolved): void {
    this.backend.nesterovUpdate(p.value, velocity, p.grad, p.value.length, o.lr, o.momentum, o.weightDecay, step);
  }
}
