/**
 * Sequential.foldBatchNorm: the folded model's eval outputs equal the original's within float32 rounding
 * (max |a - r| <= 1e-5 * max |r|) on every backend and CPU path, for the presets, random BatchNorm statistics,
 * several BatchNorms, affine false, a BatchNorm with no layer before it (a ChannelAffine, with its fused ReLU),
 * Dropout between; and the folded model is smaller and eval only.
 */
import { describe, expect, it } from 'vitest';
import { BatchNorm, BatchNorm1d, BatchNorm2d } from '../src/nn/batchnorm.js';
import { ReLU, Sigmoid } from '../src/nn/activation.js';
import { ChannelAffine } from '../src/nn/channel-affine.js';
import { Conv2d } from '../src/nn/conv2d.js';
import { Dropout } from '../src/nn/dropout.js';
import { Flatten } from '../src/nn/flatten.js';
import type { Layer } from '../src/nn/layer.js';
import { Linear } from '../src/nn/linear.js';
import { MaxPool2d } from '../src/nn/maxpool2d.js';
import { Sequential } from '../src/nn/sequential.js';
import { cnnLayers, mlpLayers } from '../src/train/models.js';
import { Random } from '../src/util/random.js';
import { buildRandomModel, randomArchitecture, randomInput, randomizeBatchNorm, relativeError } from './support/architectures.js';
import { describeBackends } from './support/backends.js';

const TOLERANCE = 1e-5;

describeBackends('foldBatchNorm', (backend) => {
  /** The model with random BatchNorm statistics, its folded twin, and both outputs on a random batch. */
  function fold(layers: Layer[], sampleShape: number[], N = 9, seed = 1) {
    const model = new Sequential(layers, { backend: backend(), seed, inputShape: sampleShape });
    randomizeBatchNorm(model, new Random(seed));
    const x = randomInput(N * sampleShape.reduce((a, b) => a * b, 1), new Random(seed + 7));
    const folded = model.foldBatchNorm();
    const expected = model.predict(x, [N, ...sampleShape]).data;
    const actual = folded.predict(x, [N, ...sampleShape]).data;
    return { model, folded, expected, actual, error: relativeError(actual, expected) };
  }

  it('folds the MLP preset (five BatchNorm1d, each fused with its ReLU) into five Linears', () => {
    const { model, folded, error } = fold(mlpLayers(784, 10), [784], 16);
    expect(error).toBeLessThanOrEqual(TOLERANCE);
    expect(folded.layers.map((l) => l.constructor.name)).toEqual([...Array(5).fill(['Linear', 'ReLU']).flat(), 'Linear']);
    expect(folded.layers.length).toBe(11);
    expect(model.layers.length).toBe(16);
    expect(folded.values.length).toBeLessThan(model.values.length); // no BatchNorm parameters or statistics
    expect(folded.training).toBe(false);
  });

  it('folds the CNN preset (BatchNorm2d after each Conv2d)', () => {
    const { folded, error } = fold(cnnLayers(10), [1, 28, 28], 5);
    expect(error).toBeLessThanOrEqual(TOLERANCE);
    expect(folded.layers.some((l) => l instanceof BatchNorm)).toBe(false);
    expect(folded.layers.map((l) => l.constructor.name)).toEqual(['Conv2d', 'MaxPool2d', 'ReLU', 'Conv2d', 'MaxPool2d', 'ReLU', 'Flatten', 'Linear', 'ReLU', 'Linear']);
  });

  it('moves a ReLU after the MaxPool2d that follows it, with the same bits', () => {
    const model = new Sequential([new Conv2d(2, 3, 3, { padding: 1 }), new ReLU(), new Dropout(0.5), new MaxPool2d(2, { stride: 1 }), new Flatten(), new Linear(3 * 6 * 6, 2)], { backend: backend(), seed: 4 });
    const x = randomInput(5 * 2 * 7 * 7, new Random(4));
    const folded = model.foldBatchNorm();
    expect(folded.layers.map((l) => l.constructor.name)).toEqual(['Conv2d', 'MaxPool2d', 'ReLU', 'Flatten', 'Linear']);
    expect(Array.from(folded.predict(x, [5, 2, 7, 7]).data)).toEqual(Array.from(model.predict(x, [5, 2, 7, 7]).data));
  });

  it('keeps the ReLU a BatchNorm ran in its kernel: negative outputs are still cut to 0', () => {
    // gamma of either sign and means far from 0: without the ReLU many outputs of the folded Linear are negative.
    const { model, folded, error } = fold([new Linear(6, 8), new BatchNorm1d(8), new ReLU()], [6], 20);
    expect(error).toBeLessThanOrEqual(TOLERANCE);
    const out = folded.predict(randomInput(120, new Random(3)), [20, 6]).data;
    expect(out.some((v) => v === 0)).toBe(true);
    expect(Math.min(...out)).toBe(0);
    expect(model.foldBatchNorm().layers.map((l) => l.constructor.name)).toEqual(['Linear', 'ReLU']);
  });

  it('makes a BatchNorm with no Linear or Conv2d before it a ChannelAffine, fused with the ReLU after it', () => {
    const layers = [
      new BatchNorm2d(2), new Conv2d(2, 4, 3, { padding: 1, stride: 2 }), new ReLU(), new BatchNorm2d(4), new ReLU(), new MaxPool2d(2),
      new BatchNorm2d(4, { affine: false }), new Sigmoid(), new Flatten(), new BatchNorm1d(36), new ReLU(), new Linear(36, 3),
    ];
    const { folded, error } = fold(layers, [2, 11, 13], 6);
    expect(error).toBeLessThanOrEqual(TOLERANCE);
    expect(folded.layers.map((l) => l.constructor.name)).toEqual([
      'ChannelAffine', 'Conv2d', 'ReLU', 'ChannelAffine', 'MaxPool2d', 'ReLU', 'ChannelAffine', 'Sigmoid', 'Flatten', 'ChannelAffine', 'ReLU', 'Linear',
    ]);
    // The BatchNorm1d before the ReLU becomes a ChannelAffine that applies the ReLU in its kernel: the same bits
    // as running the two layers apart.
    const affine = folded.layers[9] as ChannelAffine;
    const apart = new Sequential(folded.layers.map((l) => l.clone()), { backend: backend(), fuse: false });
    apart.loadStateDict(folded.stateDict());
    const x = randomInput(6 * 2 * 11 * 13, new Random(5));
    expect(affine).toBeInstanceOf(ChannelAffine);
    expect(Array.from(apart.eval().predict(x, [6, 2, 11, 13]).data)).toEqual(Array.from(folded.predict(x, [6, 2, 11, 13]).data));
  });

  it('folds a BatchNorm1d over (N, C, L) and several BatchNorms in a row, affine or not', () => {
    const { error } = fold([new BatchNorm1d(3), new BatchNorm1d(3, { affine: false, eps: 1e-3 }), new Flatten(), new Linear(15, 4)], [3, 5], 7);
    expect(error).toBeLessThanOrEqual(TOLERANCE);
  });

  it('folds across Dropout (the identity in eval), into a Linear without bias, and leaves Dropout out', () => {
    const { folded, error } = fold([new Linear(10, 12, { bias: false }), new Dropout(0.5), new BatchNorm1d(12, { affine: false }), new ReLU(), new Dropout(0.2), new Linear(12, 3)], [10], 11);
    expect(error).toBeLessThanOrEqual(TOLERANCE);
    expect(folded.layers.map((l) => l.describe())).toEqual(['Linear(10, 12)', 'ReLU()', 'Linear(12, 3)']);
  });

  it('agrees on 30 random architectures (conv with padding and stride, sigmoid MLPs, several BatchNorms)', () => {
    const random = new Random(2024);
    for (let k = 0; k < 30; k++) {
      const architecture = randomArchitecture(random);
      const model = buildRandomModel(architecture, backend(), k);
      const N = 1 + random.below(6);
      const x = randomInput(N * architecture.inputShape.reduce((a, b) => a * b, 1), random);
      const expected = model.predict(x, [N, ...architecture.inputShape]).data;
      const folded = model.foldBatchNorm();
      const error = relativeError(folded.predict(x, [N, ...architecture.inputShape]).data, expected);
      expect(error, architecture.describe).toBeLessThanOrEqual(TOLERANCE);
      expect(folded.layers.some((l) => l instanceof BatchNorm || l instanceof Dropout), architecture.describe).toBe(false);
    }
  });

  it('is eval only where a ChannelAffine stands in for a BatchNorm, and leaves the original as it was', () => {
    const model = new Sequential([new BatchNorm1d(4), new Linear(4, 2)], { backend: backend(), seed: 3 });
    randomizeBatchNorm(model, new Random(1));
    const before = model.stateDict();
    const folded = model.foldBatchNorm();
    expect(() => folded.train().forward(new Float32Array(8), [2, 4])).toThrow(/layer 0: ChannelAffine\(4\): eval only/);
    expect(model.training).toBe(true);
    expect(model.stateDict()).toEqual(before);
  });
});

describe('foldBatchNorm arithmetic', () => {
  it('computes w·γ/√(var+eps) and (b−mean)·γ/√(var+eps)+β in float64, rounded once', () => {
    const model = new Sequential([new Linear(2, 1), new BatchNorm1d(1, { eps: 0.01 })], { backend: 'ts', seed: 1 });
    model.loadStateDict({
      '0.weight': { dtype: 'F32', shape: [1, 2], data: Float32Array.of(0.1, -3) },
      '0.bias': { dtype: 'F32', shape: [1], data: Float32Array.of(0.7) },
      '1.weight': { dtype: 'F32', shape: [1], data: Float32Array.of(1.3) },
      '1.bias': { dtype: 'F32', shape: [1], data: Float32Array.of(-0.2) },
      '1.running_mean': { dtype: 'F32', shape: [1], data: Float32Array.of(0.4) },
      '1.running_var': { dtype: 'F32', shape: [1], data: Float32Array.of(2.5) },
      '1.num_batches_tracked': { dtype: 'I64', shape: [], data: BigInt64Array.of(3n) },
    });
    const state = model.foldBatchNorm().stateDict();
    const f = (v: number) => Math.fround(v);
    const s = f(1.3) / Math.sqrt(f(2.5) + 0.01);
    expect(Array.from(state['0.weight'].data as Float32Array)).toEqual([f(f(0.1) * s), f(f(-3) * s)]);
    expect(Array.from(state['0.bias'].data as Float32Array)).toEqual([f((f(0.7) - f(0.4)) * s + f(-0.2))]);
    expect(Object.keys(state)).toEqual(['0.weight', '0.bias']);
  });
});
