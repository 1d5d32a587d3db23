/**
 * Models for the deployment tests: BatchNorm statistics made random (a fresh BatchNorm has mean 0, variance 1,
 * gamma 1, beta 0, which folds to the identity and would hide a wrong formula), a seeded generator of layer
 * lists (convolutions with padding and stride, sigmoid MLPs, several BatchNorms, affine false, Dropout), and the
 * comparison the issue states: max |a - r| <= 1e-5 * max |r|.
 */
import type { Backend } from '../../src/kernels/backend.js';
import type { LayerSpec } from '../../src/nn/layer-list.js';
import { layersFromList } from '../../src/nn/layer-list.js';
import { Sequential } from '../../src/nn/sequential.js';
import { Random } from '../../src/util/random.js';

/** Gives every BatchNorm random running statistics and affine parameters (gamma of either sign), every other value kept. */
export function randomizeBatchNorm(model: Sequential, random: Random): void {
  const state = model.stateDict();
  const bn = new Set(Object.keys(state).filter((key) => key.endsWith('.running_var')).map((key) => key.split('.')[0]));
  for (const [key, t] of Object.entries(state)) {
    const [layer, name] = key.split('.');
    if (!bn.has(layer) || t.dtype === 'I64') continue;
    for (let i = 0; i < t.data.length; i++) {
      const u = random.uniform();
      t.data[i] = name === 'running_var' ? 0.05 + 4 * u : name === 'running_mean' ? 2 * random.normal() : name === 'weight' ? (u < 0.2 ? -1 : 1) * (0.2 + 2 * random.uniform()) : random.normal();
    }
  }
  model.loadStateDict(state);
}

/** Values normal(0, 1), seeded. */
export function randomInput(length: number, random: Random): Float32Array {
  return Float32Array.from({ length }, () => random.normal());
}

/** max |actual - expected| / max |expected|: the measure of agreement "within 1e-5 of their scale". */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) throw new RangeError(`lengths differ: ${actual.length} and ${expected.length}`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return diff / scale;
}

export interface RandomArchitecture {
  inputShape: number[];
  layers: LayerSpec[];
  describe: string;
}

/**
 * A seeded layer list: half the time a CNN (1-3 conv blocks: kernel 1-3, stride 1-2, padding 0-1, optional bias
 * and BatchNorm2d, ReLU or Sigmoid, optional maxpool; then Flatten), otherwise an MLP on flat input; then 1-3
 * Linear blocks (optional BatchNorm1d, before or after the activation, affine or not; optional Dropout), and a
 * Linear to 2-6 classes. Some lists start with a BatchNorm, which nothing precedes.
 */
export function randomArchitecture(random: Random): RandomArchitecture {
  const pick = <T>(items: T[]): T => items[random.below(items.length)];
  const chance = (p: number) => random.uniform() < p;
  const layers: LayerSpec[] = [];
  const activation = () => ({ type: pick(['relu', 'sigmoid']) });
  const batchnorm = (type: string) => ({ type, affine: !chance(0.3), eps: pick([1e-5, 1e-3]) });
  let inputShape: number[];
  if (chance(0.5)) {
    inputShape = [1 + random.below(3), 8 + random.below(5), 8 + random.below(5)];
    if (chance(0.25)) layers.push(batchnorm('batchnorm2d'));
    let [h, w] = inputShape.slice(1);
    for (let blocks = 1 + random.below(3); blocks > 0 && Math.min(h, w) >= 3; blocks--) {
      const kernel = 1 + random.below(3);
      const padding = random.below(2);
      const stride = 1 + random.below(2);
      layers.push({ type: 'conv2d', out: 2 + random.below(6), kernel, stride, padding, bias: chance(0.7) });
      [h, w] = [h, w].map((d) => Math.floor((d + 2 * padding - kernel) / stride) + 1);
      if (chance(0.7)) layers.push(batchnorm('batchnorm2d'));
      layers.push(activation());
      if (chance(0.4) && Math.min(h, w) >= 4) {
        layers.push({ type: 'maxpool2d', kernel: 2 });
        [h, w] = [h, w].map((d) => Math.floor(d / 2));
      }
    }
    layers.push({ type: 'flatten' });
  } else {
    inputShape = [4 + random.below(30)];
    if (chance(0.25)) layers.push(batchnorm('batchnorm1d'));
  }
  for (let blocks = 1 + random.below(3); blocks > 0; blocks--) {
    layers.push({ type: 'linear', out: 3 + random.below(20), bias: chance(0.8) });
    const bn = chance(0.7);
    const after = chance(0.25); // a BatchNorm after the activation has no Linear right before it to fold into
    if (bn && !after) layers.push(batchnorm('batchnorm1d'));
    layers.push(activation());
    if (bn && after) layers.push(batchnorm('batchnorm1d'));
    if (chance(0.3)) layers.push({ type: 'dropout', p: 0.25 });
  }
  layers.push({ type: 'linear', out: 2 + random.below(5) });
  return { inputShape, layers, describe: JSON.stringify({ inputShape, layers }) };
}

/** The model of a layer list, seeded, with random BatchNorm statistics, in eval mode. */
export function buildRandomModel(architecture: RandomArchitecture, backend: Backend, seed: number): Sequential {
  const model = new Sequential(layersFromList(architecture.layers, architecture.inputShape), { backend, seed, inputShape: architecture.inputShape });
  randomizeBatchNorm(model, new Random(seed + 1));
  return model.eval();
}
