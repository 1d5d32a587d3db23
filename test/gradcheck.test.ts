/** gradCheck: backprop against central differences in float64, for every layer and for whole networks. */
import { describe, expect, it } from 'vitest';
import {
  BatchNorm1d, BatchNorm2d, Conv2d, Dropout, Flatten, gradCheck, Linear, MaxPool2d, ReLU, Sequential, Sigmoid,
} from '../src/nn/index.js';
import type { Layer } from '../src/nn/layer.js';
import { randomFloat32, seededRandom } from './support/random.js';

const BOUND = 1e-6;

function batch(shape: number[], seed: number) {
  const random = seededRandom(seed);
  const data = randomFloat32(shape.reduce((a, b) => a * b, 1), random);
  const labels = Array.from({ length: shape[0] }, () => Math.floor(random() * 3));
  return { x: { data, shape }, labels };
}

function check(layers: Layer[], shape: number[], options: { weightDecay?: number; training?: boolean } = {}) {
  const model = new Sequential(layers, { backend: 'ts', seed: 7, weightDecay: options.weightDecay });
  if (options.training === false) model.eval();
  const { x, labels } = batch(shape, 3);
  const result = gradCheck(model, x, labels);
  const report = result.tensors.map((t) => `${t.name}: ${t.maxRelativeError.toExponential(2)} over ${t.checked}`).join('\n');
  expect(result.maxRelativeError, report).toBeLessThanOrEqual(BOUND);
  expect(result.tensors.map((t) => t.name)).toContain('input');
  return result;
}

describe('gradCheck, each layer (followed by a Linear to 3 classes where needed)', () => {
  it('Linear', () => check([new Linear(5, 3)], [4, 5]));
  it('Linear without bias', () => check([new Linear(5, 3, { bias: false })], [4, 5]));
  it('BatchNorm1d, training', () => check([new Linear(5, 4), new BatchNorm1d(4), new Linear(4, 3)], [6, 5]));
  it('BatchNorm1d in eval mode has no backward, and says so', () => {
    expect(() => check([new Linear(5, 4), new BatchNorm1d(4), new Linear(4, 3)], [6, 5], { training: false }))
      .toThrow('BatchNorm1d(4): backward needs a forward in training mode first');
  });
  it('Linear and ReLU in eval mode', () => check([new Linear(5, 8), new ReLU(), new Linear(8, 3)], [4, 5], { training: false }));
  it('BatchNorm1d without affine', () => check([new Linear(5, 4), new BatchNorm1d(4, { affine: false }), new Linear(4, 3)], [6, 5]));
  it('ReLU', () => check([new Linear(5, 8), new ReLU(), new Linear(8, 3)], [4, 5]));
  it('Sigmoid', () => check([new Linear(5, 8), new Sigmoid(), new Linear(8, 3)], [4, 5]));
  it('Dropout (masks replayed)', () => check([new Linear(5, 8), new Dropout(0.3), new Linear(8, 3)], [4, 5]));
  it('Conv2d', () => check([new Conv2d(2, 3, 3), new Flatten(), new Linear(3 * 3 * 3, 3)], [2, 2, 5, 5]));
  it('Conv2d with stride 2 and padding 1', () => check([new Conv2d(2, 3, 3, { stride: 2, padding: 1 }), new Flatten(), new Linear(3 * 3 * 3, 3)], [2, 2, 5, 5]));
  it('BatchNorm2d', () => check([new Conv2d(1, 2, 3), new BatchNorm2d(2), new Flatten(), new Linear(2 * 3 * 3, 3)], [3, 1, 5, 5]));
  it('MaxPool2d', () => check([new Conv2d(1, 2, 2), new MaxPool2d(2), new Flatten(), new Linear(2 * 2 * 2, 3)], [2, 1, 5, 5]));
  it('BatchNorm2d with the MaxPool2d after it fused', () => check([new Conv2d(1, 2, 2), new BatchNorm2d(2), new MaxPool2d(2), new Flatten(), new Linear(2 * 2 * 2, 3)], [3, 1, 5, 5]));
  it('Flatten', () => check([new Flatten(), new Linear(12, 3)], [2, 3, 2, 2]));
  it('weight decay', () => check([new Linear(5, 4), new ReLU(), new Linear(4, 3)], [4, 5], { weightDecay: 0.1 }));
});

describe('gradCheck, whole networks', () => {
  it('an MLP with BatchNorm1d (Dropout off)', () => {
    check([
      new Linear(20, 16, { init: 'he' }), new BatchNorm1d(16), new ReLU(),
      new Linear(16, 12, { init: 'he' }), new BatchNorm1d(12), new ReLU(),
      new Linear(12, 3),
    ], [8, 20], { weightDecay: 0.01 });
  });

  it('a CNN with BatchNorm2d', () => {
    check([
      new Conv2d(1, 3, 3), new BatchNorm2d(3), new ReLU(), new MaxPool2d(2),
      new Conv2d(3, 4, 2, { padding: 1 }), new BatchNorm2d(4), new ReLU(), new MaxPool2d(2),
      new Flatten(), new Linear(4 * 2 * 2, 3),
    ], [3, 1, 8, 8]);
  }, 120_000);

  it('finds a wrong gradient', () => {
    const layer = new Linear(4, 3);
    const model = new Sequential([layer], { backend: 'ts', seed: 1 });
    const { x, labels } = batch([2, 4], 5);
    const original = layer.clone.bind(layer);
    // A clone whose backward forgets the bias gradient: the check must see it.
    layer.clone = () => {
      const broken = original();
      const backward = broken.backward.bind(broken);
      broken.backward = (dy, needDx) => {
        const out = backward(dy, needDx);
        (broken as unknown as { biasGrad: Float64Array }).biasGrad.fill(0);
        return out;
      };
      return broken;
    };
    expect(gradCheck(model, x, labels).maxRelativeError).toBeGreaterThan(0.1);
  });
});
