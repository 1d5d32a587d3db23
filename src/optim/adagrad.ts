/**
 * AdaGrad: torch.optim.Adagrad. g = grad + weightDecay * param; sum += g * g;
 * param -= lr / (1 + (step - 1) * lrDecay) * g / (sqrt(sum) + eps).
 * Defaults are torch's: lr 0.01, lrDecay 0, eps 1e-10, initialAccumulatorValue 0 (sum's starting value).
 * The seeds' AdaGrad (h += dW^2; W -= lr * dW / (sqrt(h) + 1e-7)) is this rule with eps 1e-7.
 */
import type { FloatArray } from '../kernels/check.js';
import type { Parameter } from '../nn/sequential.js';
import { Optimizer, type Tensors, type OptimizerOptions, type ParameterSource } from './optimizer.js';

export interface AdaGradOptions extends OptimizerOptions {
  /** Default 0.01. */
  lr?: number;
  /** Default 0. */
  lrDecay?: number;
  /** Added to sqrt(sum); default 1e-10. */
  eps?: number;
  /** Every sum value at the start; default 0. */
  initialAccumulatorValue?: number;
}

type Resolved = { lr: number; lrDecay: number; eps: number; weightDecay: number; initialAccumulatorValue: number };

export class AdaGrad extends Optimizer<Resolved> {
  constructor(source: ParameterSource | readonly Parameter[], options: AdaGradOptions = {}) {
    super('AdaGrad', source, options, {
      lr: { rule: 'rate', default: 0.01 },
      lrDecay: { rule: 'rate', default: 0 },
      eps: { rule: 'rate', default: 1e-10 },
      weightDecay: { rule: 'rate', default: 0 },
      initialAccumulatorValue: { rule: 'rate', default: 0 },
    }, ['sum']);
    this.state.fill(this.options.initialAccumulatorValue);
  }

  protected update(p: Tensors, [sum]: FloatArray[], step: number, o: Resolved): void {
    this.backend.adagradUpdate(p.value, sum, p.grad, p.value.length, o.lr, o.lrDecay, o.eps, o.weightDecay, step);
  }
}
