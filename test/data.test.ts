/** Datasets as a model meets them: batch contents and layouts, one-hot labels, reused buffers, shuffling, user arrays and splits. */
import { describe, expect, it } from 'vitest';
import { BatchBuffers, Dataset } from '../src/data/dataset.js';
import { gatherScale } from '../src/data/gather.js';
import { permutation } from '../src/data/shuffle.js';
import { fromArrays, split } from '../src/data/user.js';
import { Random } from '../src/util/random.js';

/** N images of C×H×W uint8 with values that differ per sample and position, labels n % classes. */
function images(N: number, C = 1, H = 3, W = 4, classes = 10): Dataset {
  const D = C * H * W;
  const x = Uint8Array.from({ length: N * D }, (_, i) => (i * 7 + Math.floor(i / D) * 13) % 256);
  const labels = Uint8Array.from({ length: N }, (_, n) => n % classes);
  return new Dataset({ x, labels, shape: [N, C, H, W], classes, name: 'test images' });
}

/** What a batch of these samples must hold, computed the plain way: value / 255 in float32. */
function expected(ds: Dataset, indices: number[]): Float32Array {
  const D = ds.sampleSize;
  const out = new Float32Array(indices.length * D);
  indices.forEach((index, n) => {
    for (let d = 0; d < D; d++) out[n * D + d] = ds.x[index * D + d] / 255;
  });
  return out;
}

const isPermutation = (order: Int32Array) => Array.from(order).sort((a, b) => a - b).every((v, i) => v === i);

describe('Dataset.batch', () => {
  it('gives value/255 in float32, flat [n, D] by default and [n, C, H, W] with nchw', () => {
    const ds = images(10, 2, 3, 4);
    const flat = ds.batch([3, 1, 7]);
    expect(flat.x.shape).toEqual([3, 24]);
    expect(flat.x.data).toBeInstanceOf(Float32Array);
    expect(flat.x.data).toEqual(expected(ds, [3, 1, 7]));
    expect(Array.from(flat.labels)).toEqual([3, 1, 7]);
    expect(flat.labels).toBeInstanceOf(Int32Array);
    const nchw = ds.batch(Int32Array.of(3, 1, 7), { layout: 'nchw', out: new BatchBuffers() });
    expect(nchw.x.shape).toEqual([3, 2, 3, 4]);
    expect(nchw.x.data).toEqual(expected(ds, [3, 1, 7]));
  });

  it('takes start and count as a contiguous range', () => {
    const ds = images(10);
    const b = ds.batch(4, 5);
    expect(b.x.data).toEqual(expected(ds, [4, 5, 6, 7, 8]));
    expect(Array.from(b.labels)).toEqual([4, 5, 6, 7, 8]);
    expect(ds.batch(10, 0).x.shape).toEqual([0, 12]);
  });

  it('scales every uint8 value to exactly value/255 in float32', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    const out = new Float32Array(256);
    gatherScale(out, all, Int32Array.of(0), 1, 256, 1 / 255);
    expect(out).toEqual(Float32Array.from(all, (v) => v / 255));
    expect(out[0]).toBe(0);
    expect(out[255]).toBe(1);
  });

  it('gives one-hot rows with a single 1 at the label', () => {
    const ds = images(6, 1, 2, 2, 4);
    const b = ds.batch([5, 0, 2], { oneHot: true });
    expect(b.labels).toBeInstanceOf(Float32Array);
    expect(Array.from(b.labels)).toEqual([0, 1, 0, 0, /**/ 1, 0, 0, 0, /**/ 0, 0, 1, 0]);
    // a later batch of the same size clears the previous 1s
    expect(Array.from(ds.batch([3, 3, 1], { oneHot: true }).labels)).toEqual([0, 0, 0, 1, /**/ 0, 0, 0, 1, /**/ 0, 1, 0, 0]);
  });

  it('reuses its buffers: the same objects for batches of the same size, and again after a smaller one', () => {
    const ds = images(20);
    const out = new BatchBuffers();
    const a = ds.batch(0, 8, { out });
    const aData = a.x.data;
    const aLabels = a.labels;
    const b = ds.batch(8, 8, { out });
    expect(b).toBe(a);
    expect(b.x.data).toBe(aData);
    expect(b.labels).toBe(aLabels);
    expect(b.x.data).toEqual(expected(ds, [8, 9, 10, 11, 12, 13, 14, 15])); // overwritten in place
    const last = ds.batch(16, 4, { out });
    expect(last.x.shape).toEqual([4, 12]);
    expect(last.x.data.buffer).toBe(aData.buffer); // a view of the same memory, not a new allocation
    expect(ds.batch(0, 8, { out })).toBe(a);
    expect(ds.batch(0, 4, { out })).toBe(last);
    // the one-hot and nchw forms are cached alongside
    const hot = ds.batch(0, 8, { out, oneHot: true, layout: 'nchw' });
    expect(ds.batch(8, 8, { out, oneHot: true, layout: 'nchw' })).toBe(hot);
    expect(hot.x.data.buffer).toBe(aData.buffer);
  });

  it('iterates batches in an order, the last one smaller unless dropLast', () => {
    const ds = images(10);
    const order = ds.epochOrder(new Random(3));
    const seen: number[] = [];
    const sizes: number[] = [];
    for (const b of ds.batches(4, { order })) {
      seen.push(...b.labels);
      sizes.push(b.x.shape[0]);
    }
    expect(sizes).toEqual([4, 4, 2]);
    expect(seen).toEqual(Array.from(order, (i) => i % 10));
    expect([...ds.batches(4, { dropLast: true })].length).toBe(2);
    expect([...ds.batches(5)].map((b) => b.x.shape[0])).toEqual([5, 5]);
  });

  it('rejects bad indices, ranges and options, naming them', () => {
    const ds = images(10, 1, 2, 2);
    expect(() => ds.batch([0, 10])).toThrow(new RangeError('Dataset.batch: indices[1] = 10 is not a sample index in [0, 10)'));
    expect(() => ds.batch([0, 1.5])).toThrow(/indices\[1\] = 1.5/);
    expect(() => ds.batch(Int32Array.of(-1))).toThrow(/indices\[0\] = -1/);
    expect(() => ds.batch(8, 3)).toThrow(RangeError);
    expect(() => ds.batch(-1, 3)).toThrow(/start must be/);
    expect(() => ds.batch(0 as never)).toThrow(new TypeError('Dataset.batch: count must be a number after start'));
    expect(() => ds.batch('0' as never)).toThrow(TypeError);
    expect(() => ds.batch([0], { layout: 'nhwc' as never })).toThrow(/layout must be 'flat' or 'nchw'/);
    expect(() => ds.batch([0], { out: {} as never })).toThrow(/out must be a BatchBuffers/);
    const vectors = fromArrays({ x: new Float32Array(8), shape: [2, 4], labels: [0, 1] });
    expect(() => vectors.batch([0], { layout: 'nchw' })).toThrow(/layout 'nchw' needs samples of shape \[C, H, W\] or \[H, W\], this dataset's are \[4\]/);
    expect(() => ds.batches(0).next()).toThrow(/batchSize must be an integer >= 1/);
  });
});

describe('shuffling', () => {
  it('gives a permutation, the same for the same seed and another for another seed', () => {
    const a = permutation(1000, new Random(7));
    expect(isPermutation(a)).toBe(true);
    expect(a).toEqual(permutation(1000, new Random(7)));
    expect(a).not.toEqual(permutation(1000, new Random(8)));
    expect(Array.from(a.subarray(0, 1000)).some((v, i) => v !== i)).toBe(true);
  });

  it('fills a reused buffer from the identity each epoch, so each order depends on the generator alone', () => {
    const ds = images(50);
    const random = new Random(11);
    const buffer = new Int32Array(50);
    const first = Array.from(ds.epochOrder(random, buffer));
    const second = ds.epochOrder(random, buffer);
    expect(second).toBe(buffer);
    expect(isPermutation(second)).toBe(true);
    expect(Array.from(second)).not.toEqual(first);
    // replay: the same generator state gives the same two epochs
    const replay = new Random(11);
    expect(Array.from(permutation(50, replay))).toEqual(first);
    expect(permutation(50, replay)).toEqual(second);
  });

  it('is uniform enough: each element visits each position about equally often', () => {
    const random = new Random(1);
    const counts = new Float64Array(5 * 5);
    const trials = 20000;
    for (let t = 0; t < trials; t++) permutation(5, random).forEach((v, position) => counts[v * 5 + position]++);
    for (const c of counts) expect(Math.abs(c / trials - 0.2)).toBeLessThan(0.015);
  });

  it('checks its arguments', () => {
    expect(() => permutation(-1, new Random(1))).toThrow(RangeError);
    expect(() => permutation(3, new Random(1), new Int32Array(4))).toThrow(/out must be an Int32Array of length N = 3/);
  });
});

describe('fromArrays', () => {
  const x = Float32Array.from({ length: 12 }, (_, i) => i - 5.5);

  it('keeps float data unscaled, with the same batch API, and infers classes', () => {
    const ds = fromArrays({ x, shape: [3, 4], labels: [2, 0, 1] });
    expect(ds.classes).toBe(3);
    expect(ds.scale).toBe(1);
    expect(ds.x).toBe(x);
    const b = ds.batch([2, 0], { oneHot: true });
    expect(Array.from(b.x.data)).toEqual([2.5, 3.5, 4.5, 5.5, -5.5, -4.5, -3.5, -2.5]);
    expect(Array.from(b.labels)).toEqual([0, 1, 0, /**/ 0, 0, 1]); // labels[2] = 1, labels[0] = 2
    const images2d = fromArrays({ x, shape: [3, 2, 2], labels: Int32Array.of(0, 1, 0), classes: 4 });
    expect(images2d.classes).toBe(4);
    expect(images2d.batch(0, 3, { layout: 'nchw' }).x.shape).toEqual([3, 1, 2, 2]);
  });

  it('rejects bad arguments with a TypeError or RangeError naming them', () => {
    expect(() => fromArrays({ x: Array.from(x) as never, shape: [3, 4], labels: [0, 1, 2] })).toThrow(new TypeError('fromArrays: x must be a Float32Array, got Array'));
    expect(() => fromArrays({ x: new Float64Array(12) as never, shape: [3, 4], labels: [0, 1, 2] })).toThrow(/x must be a Float32Array, got Float64Array/);
    expect(() => fromArrays({ x, shape: [12], labels: [0] })).toThrow(/shape must be an array \[N, ...sampleShape\]/);
    expect(() => fromArrays({ x, shape: [3, 0], labels: [0, 1, 2] })).toThrow(new RangeError('fromArrays: shape[1] must be an integer >= 1, got 0'));
    expect(() => fromArrays({ x, shape: [3, 5], labels: [0, 1, 2] })).toThrow(new RangeError('fromArrays: shape [3, 5] holds 15 values, x has 12'));
    expect(() => fromArrays({ x, shape: [3, 4], labels: [0, 1] })).toThrow(new RangeError('fromArrays: 3 samples (shape[0]) but 2 labels'));
    expect(() => fromArrays({ x, shape: [3, 4], labels: new Uint8Array(3) as never })).toThrow(/labels must be an Int32Array or array of class indices, got Uint8Array/);
    expect(() => fromArrays({ x, shape: [3, 4], labels: [0, -1, 2] })).toThrow(/labels\[1\] = -1 is not a class index/);
    expect(() => fromArrays({ x, shape: [3, 4], labels: [0, 1.5, 2] })).toThrow(/labels\[1\] = 1.5/);
    expect(() => fromArrays({ x, shape: [3, 4], labels: [0, 1, 3], classes: 3 })).toThrow(new RangeError('fromArrays: labels[2] = 3 is not a class index in [0, 3)'));
    expect(() => fromArrays({ x, shape: [3, 4], labels: [0, 1, 2], classes: 0 })).toThrow(/classes must be an integer >= 1, got 0/);
    expect(() => fromArrays({ x, shape: [3, 4], labels: [0, 1, 2], classNames: ['a'] })).toThrow(/classNames must name each of the 3 classes/);
    const nan = x.slice();
    nan[5] = NaN;
    expect(() => fromArrays({ x: nan, shape: [3, 4], labels: [0, 1, 2] })).toThrow(new RangeError('fromArrays: x[5] is NaN; values must be finite'));
  });
});

describe('split', () => {
  const N = 100;
  const data = fromArrays({ x: Float32Array.from({ length: N * 2 }, (_, i) => Math.floor(i / 2)), shape: [N, 2], labels: Array.from({ length: N }, (_, i) => i % 3) });
  const ids = (ds: Dataset) => Array.from(ds.batch(0, ds.length).x.data.filter((_, i) => i % 2 === 0));

  it('splits into parts of the asked sizes that together hold every sample once, labels following', () => {
    const { train, validation } = split(data, { validation: 0.2, seed: 1 });
    expect([train.length, validation.length]).toEqual([80, 20]);
    expect(train.shape).toEqual([80, 2]);
    const all = [...ids(train), ...ids(validation)].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: N }, (_, i) => i));
    ids(validation).forEach((id, i) => expect(validation.labels[i]).toBe(id % 3));
    expect(train.x).toBe(data.x); // shared, not copied
    expect(split(data, { validation: 7 }).validation.length).toBe(7);
    expect(split(data).validation.length).toBe(10);
  });

  it('is the same for the same seed and different for another, shuffled, and nests', () => {
    const a = split(data, { validation: 0.2, seed: 1 });
    const b = split(data, { validation: 0.2, seed: 1 });
    const c = split(data, { validation: 0.2, seed: 2 });
    expect(ids(a.validation)).toEqual(ids(b.validation));
    expect(ids(a.train)).toEqual(ids(b.train));
    expect(ids(a.validation)).not.toEqual(ids(c.validation));
    expect(ids(a.train)).not.toEqual(ids(a.train).slice().sort((p, q) => p - q));
    const inner = split(a.train, { validation: 0.5, seed: 3 });
    expect(inner.train.length + inner.validation.length).toBe(80);
    const innerIds = [...ids(inner.train), ...ids(inner.validation)].sort((p, q) => p - q);
    expect(innerIds).toEqual(ids(a.train).sort((p, q) => p - q));
  });

  it('keeps uint8 images uint8 and scaled in a split', () => {
    const ds = images(30);
    const { train } = split(ds, { validation: 0.1, seed: 4 });
    expect(train.x).toBe(ds.x);
    expect(train.labels).toBeInstanceOf(Uint8Array);
    const original = Array.from(train.rows!.subarray(0, 5));
    expect(train.batch(0, 5).x.data).toEqual(expected(ds, original));
  });

  it('rejects bad options, naming them', () => {
    expect(() => split({} as never)).toThrow(new TypeError('split: dataset must be a Dataset'));
    expect(() => split(data, { validation: 0 })).toThrow(/validation must be a fraction in \(0, 1\) or a whole count >= 1, got 0/);
    expect(() => split(data, { validation: 1.5 })).toThrow(/validation must be/);
    expect(() => split(data, { validation: 100 })).toThrow(/both parts must hold at least one sample/);
    expect(() => split(data, { validation: 0.001 })).toThrow(/gives 0 for validation/);
    expect(() => split(data, { seed: -1 })).toThrow(new RangeError('split: seed must be an integer in [0, 2^32), got -1'));
  });
});

describe('Dataset', () => {
  it('checks what it is built from', () => {
    const x = new Uint8Array(8);
    expect(() => new Dataset({ x, labels: new Uint8Array(2), shape: [2, 5], classes: 2 })).toThrow(/shape \[2, 5\] holds 10 values, x has 8/);
    expect(() => new Dataset({ x, labels: new Uint8Array(3), shape: [2, 4], classes: 2 })).toThrow(/2 samples but 3 labels/);
    expect(() => new Dataset({ x, labels: Uint8Array.of(0, 2), shape: [2, 4], classes: 2 })).toThrow(/labels\[1\] = 2 is not a class index in \[0, 2\)/);
    expect(() => new Dataset({ x, labels: new Uint8Array(1), shape: [1, 4], classes: 2, rows: Int32Array.of(2) })).toThrow(/rows\[0\] = 2 is not a stored row in \[0, 2\)/);
    expect(String(images(4))).toBe('Dataset(test images: 4 × [1, 3, 4] uint8, 10 classes)');
  });
});
