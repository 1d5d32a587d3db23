/**
 * RMSprop: torch.optim.RMSprop (no momentum, not centered). g = grad + weightDecay * param;
 * squareAvg = alpha * squareAvg + (1 - alpha) * g * g; param -= lr * g / (sqrt(squareAvg) + eps).
 * Defaults are torch's: lr 0.01, alpha 0.99, eps 1e-8. The seeds' RMSprop is this rule with eps 1e-7.
 */
import type { FloatArray } from '../kernels/check.js';
import type { Parameter } from '../nn/sequential.js';
import { Optimizer, type Tensors, type OptimizerOptions, type ParameterSource } from './optimizer.js';

export interface RMSpropOptions extends OptimizerOptions {
  /** Default 0.01. */
  lr?: number;
  /** Decay of the squared-gradient average, in [0, 1]; default 0.99. */
  alpha?: number;
  /** Added to sqrt(squareAvg); default 1e-8. */
  eps?: number;
}

type Resolved = { lr: number; alpha: number; eps: number; weightDecay: number };

export class RMSprop extends Optimizer<Resolved> {
  constructor(source: ParameterSource | readonly Parameter[], options: RMSpropOptions = {}) {
    super('RMSprop', source, options, {
      lr: { rule: 'rate', default: 0.01 },
      alpha: { rule: 'unit', default: 0.99 },
      eps: { rule: 'rate', default: 1e-8 },
      weightDecay: { rule: 'rate', default: 0 },
    }, ['squareAvg']);
  }

  protected update(p: Tensors, [squareAvg]: FloatArray[], _step: number, o: Resolved): void {
    this.backend.rmspropUpdate(p.value, squareAvg, p.grad, p.value.length, o.lr, o.alpha, o.eps, o.weightDecay);
  }
}
