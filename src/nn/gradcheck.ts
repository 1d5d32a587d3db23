/**
 * gradCheck(model, x, labels): backpropagation against central differences, for every parameter and for the
 * input, as the seeds' gradient_check does. The model is rebuilt on the float64 TypeScript kernels with the
 * same weights, mode and generator state, so the differences are tight (1e-6 relative is a real bar), and
 * every evaluation replays the same dropout masks.
 *
 * The loss is the softmax cross-entropy of the output plus the model's weight-decay term. An entry's error
 * is |backprop - numeric| / max(|backprop|, |numeric|, 1e-4): relative, except that gradients below 1e-4
 * are measured against 1e-4. A difference quotient carries round-off of about 1e-16 * |loss| / h ~ 1e-11,
 * which is no real error against a gradient that is zero in exact arithmetic (a bias feeding BatchNorm).
 */
import { float64Backend } from '../kernels/backend.js';
import type { FloatArray } from '../kernels/check.js';
import { SoftmaxCrossEntropy, type Labels } from './loss.js';
import { Sequential } from './sequential.js';
import type { Tensor } from './tensor.js';
import { show } from '../util/show.js';
import { checkTensor } from './validate.js';

export interface GradCheckOptions {
  /** The step h of (f(w + h) - f(w - h)) / 2h; default 1e-5. */
  epsilon?: number;
  /** Check at most this many entries per tensor, spread evenly; default all. */
  maxPerTensor?: number;
}

export interface GradCheckResult {
  /** The largest error over every entry checked. */
  maxRelativeError: number;
  /** Per tensor, under its state-dict key ('input' for the input). */
  tensors: { name: string; checked: number; maxRelativeError: number }[];
}

export function gradCheck(model: Sequential, x: Tensor, labels: Labels, options: GradCheckOptions = {}): GradCheckResult {
  if (!(model instanceof Sequential)) throw new TypeError(`gradCheck: model must be a Sequential, got ${show(model)}`);
  checkTensor('gradCheck', 'x', x);
  if (typeof options !== 'object' || options === null) throw new TypeError(`gradCheck: options must be an object, got ${show(options)}`);
  const h = options.epsilon ?? 1e-5;
  const maxPerTensor = options.maxPerTensor ?? Infinity;
  const copy = new Sequential(model.layers.map((layer) => layer.clone()), {
    backend: float64Backend, seed: model.seed, weightDecay: model.weightDecay,
  });
  copy.loadStateDict(model.stateDict());
  copy.training = model.training;
  const randomState = model.random.state();
  const input: Tensor<Float64Array> = { data: Float64Array.from(x.data), shape: x.shape };
  const loss = new SoftmaxCrossEntropy(float64Backend);

  const evaluate = (): number => {
    copy.random.setState(randomState);
    return loss.forward(copy.forward(input), labels) + copy.regularizationLoss();
  };

  evaluate();
  copy.zeroGrad();
  const dx = copy.backward(loss.backward(), { inputGrad: true })!;
  const tensors: { name: string; value: FloatArray; grad: FloatArray }[] = [
    ...copy.parameters().map((p) => ({ name: p.name, value: p.value, grad: p.grad.slice() })),
    { name: 'input', value: input.data, grad: dx.data.slice() },
  ];

  const result: GradCheckResult = { maxRelativeError: 0, tensors: [] };
  for (const { name, value, grad } of tensors) {
    const count = Math.min(value.length, maxPerTensor);
    let worst = 0;
    for (let k = 0; k < count; k++) {
      const i = count === value.length ? k : Math.floor((k * value.length) / count);
      const saved = value[i];
      value[i] = saved + h;
      const up = evaluate();
      value[i] = saved - h;
      const down = evaluate();
      value[i] = saved;
      const numeric = (up - down) / (2 * h);
      const error = Math.abs(grad[i] - numeric) / Math.max(Math.abs(grad[i]), Math.abs(numeric), 1e-4);
      worst = Math.max(worst, Number.isNaN(error) ? Infinity : error);
    }
    result.tensors.push({ name, checked: count, maxRelativeError: worst });
    result.maxRelativeError = Math.max(result.maxRelativeError, worst);
  }
  return result;
}
