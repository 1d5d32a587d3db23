/**
 * Weight initialisers. `init` is a number (the std of a zero-mean normal, as the seeds' weight_init_std), or
 * 'he' / 'relu' (std sqrt(2 / fan_in)), or 'xavier' / 'sigmoid' (std sqrt(1 / fan_in), the seeds' Xavier),
 * with biases zero; or 'default', PyTorch's: weight and bias uniform in ±1/sqrt(fan_in) (kaiming_uniform_ with
 * a = sqrt(5), as torch.nn.Linear and Conv2d reset_parameters do).
 */
import type { FloatArray } from '../kernels/check.js';
import type { Random } from '../util/random.js';

export type Init = number | 'default' | 'he' | 'relu' | 'xavier' | 'sigmoid';

export function checkInit(layer: string, init: unknown): Init {
  if (typeof init === 'number') {
    if (!(init >= 0 && Number.isFinite(init))) throw new RangeError(`${layer}: init std must be a finite number >= 0, got ${init}`);
    return init;
  }
  if (init === 'default' || init === 'he' || init === 'relu' || init === 'xavier' || init === 'sigmoid') return init;
  throw new RangeError(`${layer}: init must be a std (number), 'he', 'relu', 'xavier', 'sigmoid' or 'default', got ${JSON.stringify(init)}`);
}

export function initWeight(values: FloatArray, init: Init, fanIn: number, random: Random): void {
  if (init === 'default') {
    const bound = 1 / Math.sqrt(fanIn);
    for (let i = 0; i < values.length; i++) values[i] = (2 * random.uniform() - 1) * bound;
    return;
  }
  const std = typeof init === 'number' ? init : init === 'he' || init === 'relu' ? Math.sqrt(2 / fanIn) : Math.sqrt(1 / fanIn);
  for (let i = 0; i < values.length; i++) values[i] = std * random.normal();
}

export function initBias(values: FloatArray, init: Init, fanIn: number, random: Random): void {
  if (init === 'default') {
    const bound = 1 / Math.sqrt(fanIn);
    for (let i = 0; i < values.length; i++) values[i] = (2 * random.uniform() - 1) * bound;
  } else {
    values.fill(0);
  }
}
