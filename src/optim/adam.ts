/**
 * Adam: torch.optim.Adam (amsgrad off; weight decay is L2 into the gradient, not AdamW's).
 * g = grad + weightDecay * param; m = beta1 * m + (1 - beta1) * g; v = beta2 * v + (1 - beta2) * g * g;
 * param -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps), t the step from 1.
 * Defaults are torch's: lr 0.001, beta1 0.9, beta2 0.999, eps 1e-8. The seeds' Adam folds both corrections into
 * lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t) and adds eps 1e-7 to the uncorrected sqrt(v): that is this rule
 * with eps = 1e-7 / sqrt(1 - beta2^t), a larger eps in the first steps.
 */
import type { FloatArray } from '../kernels/check.js';
import type { Parameter } from '../nn/sequential.js';
import { Optimizer, type Tensors, type OptimizerOptions, type ParameterSource } from './optimizer.js';

export interface AdamOptions extends OptimizerOptions {
  /** Default 0.001. */
  lr?: number;
  /** In [0, 1); default 0.9. */
  beta1?: number;
  /** In [0, 1); default 0.999. */
  beta2?: number;
  /** Default 1e-8. */
  eps?: number;
}

type Resolved = { lr: number; beta1: number; beta2: number; eps: number; weightDecay: number };

export class Adam extends Optimizer<Resolved> {
  constructor(source: ParameterSource | readonly Parameter[], options: AdamOptions = {}) {
    super('Adam', source, options, {
      lr: { rule: 'rate', default: 0.001 },
      beta1: { rule: 'beta', default: 0.9 },
      beta2: { rule: 'beta', default: 0.999 },
      eps: { rule: 'rate', default: 1e-8 },
      weightDecay: { rule: 'rate', default: 0 },
    }, ['expAvg', 'expAvgSq']);
  }

  protected update(p: Tensors, [expAvg, expAvgSq]: FloatArray[], step: number, o: Resolved): void {
    this.backend.adamUpdate(p.value, expAvg, expAvgSq, p.grad, p.value.length, o.lr, o.beta1, o.beta2, o.eps, o.weightDecay, step);
  }
}
