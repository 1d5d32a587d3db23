/** fit / evaluate from code: history, NaN stop, abort, event loop, determinism, user data. */
import { describe, expect, it } from 'vitest';
import { fromArrays } from '../src/data/user.js';
import { BatchNorm1d, Linear, ReLU, Sequential } from '../src/nn/index.js';
import { SGD } from '../src/optim/index.js';
import { trainingData } from '../src/train/run.js';
import { scheduleFactor } from '../src/train/schedule.js';
import { evaluate, fit, Trainer, TrainingError } from '../src/train/trainer.js';
import { seededRandom } from './support/random.js';

/** Two Gaussian blobs per class in 8 dimensions: learnable in a few epochs. */
function blobs(N: number, seed: number) {
  const random = seededRandom(seed);
  const x = new Float32Array(N * 8);
  const labels = new Int32Array(N);
  for (let n = 0; n < N; n++) {
    labels[n] = n % 3;
    for (let d = 0; d < 8; d++) x[n * 8 + d] = (d % 3 === labels[n] ? 2 : 0) + (random() - 0.5);
  }
  return trainingData(fromArrays({ x, shape: [N, 8], labels, classes: 3 }), 'flat');
}

const model = (seed = 1) => new Sequential([new Linear(8, 16), new BatchNorm1d(16), new ReLU(), new Linear(16, 3)], { backend: 'ts', seed });

describe('fit', () => {
  it('learns, and returns a history per epoch', async () => {
    const m = model();
    const history = await fit(m, blobs(300, 1), { epochs: 3, batchSize: 30, optimizer: new SGD(m, { lr: 0.1 }), testData: blobs(90, 2) });
    expect(history.stopped).toBe(false);
    expect(history.epochs.map((e) => e.epoch)).toEqual([1, 2, 3]);
    const last = history.epochs[2];
    expect(last.testAccuracy).toBeGreaterThan(0.9);
    expect(last.trainLoss).toBeLessThan(history.epochs[0].trainLoss);
    expect(last.samplesPerSecond).toBeGreaterThan(0);
    const result = await evaluate(m, blobs(90, 2));
    expect(result.accuracy).toBe(last.testAccuracy);
    expect(Array.from(result.confusion).reduce((a, b) => a + b, 0)).toBe(90);
    expect(m.training).toBe(true);
  });

  it('gives the same weights for the same seeds', async () => {
    const run = async () => {
      const m = model(3);
      await fit(m, blobs(200, 1), { epochs: 2, batchSize: 25, optimizer: new SGD(m, { lr: 0.1 }), seed: 5 });
      return m.values.slice();
    };
    expect(await run()).toEqual(await run());
  });

  it('asks the data to prefetch each next batch of the epoch, and the weights do not depend on it', async () => {
    const run = async (withPrefetch: boolean) => {
      const data = blobs(95, 1);
      const calls: string[] = [];
      const spied = {
        length: data.length, classes: data.classes,
        batch: (indices: Int32Array) => { calls.push(`batch ${indices.join(',')}`); return data.batch(indices); },
        ...(withPrefetch ? { prefetch: (indices: Int32Array) => { calls.push(`prefetch ${indices.join(',')}`); data.prefetch!(indices); } } : {}),
      };
      const m = model(3);
      await fit(m, spied, { epochs: 2, batchSize: 30, optimizer: new SGD(m, { lr: 0.1 }), seed: 5 });
      return { calls, weights: m.values.slice() };
    };
    const [on, off] = [await run(true), await run(false)];
    expect(on.weights).toEqual(off.weights);
    const batches = on.calls.filter((c) => c.startsWith('batch'));
    expect(batches).toEqual(off.calls);
    // Per epoch of 4 batches (30, 30, 30, 5): batch, prefetch of the next (its indices), ..., the last without one.
    const expected = batches.flatMap((b, i) => (i % 4 === 3 ? [b] : [b, `prefetch ${batches[i + 1].slice('batch '.length)}`]));
    expect(on.calls).toEqual(expected);
    const m = model();
    expect(() => new Trainer(m, { ...blobs(10, 1), prefetch: 1 } as never, { epochs: 1, batchSize: 10, optimizer: new SGD(m, { lr: 0.1 }) }))
      .toThrow('fit: data: prefetch must be a method prefetch(indices) or absent, got 1');
  });

  it('names what is wrong with the data it is given', () => {
    const m = model();
    const fitOn = (data: unknown) => new Trainer(m, data as never, { epochs: 1, batchSize: 10, optimizer: new SGD(m, { lr: 0.1 }) });
    const data = blobs(10, 1);
    expect(() => fitOn(null)).toThrow('fit: data must be a dataset { length, classes, batch }, got null');
    expect(() => fitOn({ length: 0, classes: 2, batch: data.batch })).toThrow('fit: data must be a non-empty dataset, its length is 0');
    expect(() => fitOn({ length: 10, classes: 0, batch: data.batch })).toThrow('fit: data must be a dataset, its classes is 0');
    expect(() => fitOn({ length: 10, classes: 2 })).toThrow('fit: data must be a dataset, it has no batch(indices) method');
  });

  it('stops on a NaN loss naming the epoch and batch, without applying that step', async () => {
    const m = model();
    const data = blobs(100, 1);
    const batch = data.batch.bind(data);
    // One poisoned sample: its batch gives a NaN loss.
    data.batch = (indices) => {
      const b = batch(indices);
      if (Array.from(indices).includes(55)) b.x.data[0] = NaN;
      return b;
    };
    let weights: Float32Array[] = [];
    const error = await fit(m, data, {
      epochs: 1, batchSize: 10, optimizer: new SGD(m, { lr: 0.1 }),
      onBatch: () => {
        weights = m.parameters().map((p) => p.value.slice() as Float32Array);
      },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TrainingError);
    expect(String(error)).toMatch(/the loss is NaN at epoch 1, batch \d+ of 10: training stopped before applying that step/);
    expect(m.parameters().map((p) => p.value)).toEqual(weights); // as after the last good step
  });

  it('stops at a batch boundary when its AbortSignal fires, and the state resumes it', async () => {
    const m = model();
    const controller = new AbortController();
    let batches = 0;
    const optimizer = new SGD(m, { lr: 0.1 });
    const trainer = new Trainer(m, blobs(300, 1), {
      epochs: 2, batchSize: 30, optimizer, signal: controller.signal,
      onBatch: () => {
        if (++batches === 13) controller.abort();
      },
    });
    const history = await trainer.run();
    expect(history.stopped).toBe(true);
    expect(trainer.state()).toMatchObject({ epoch: 1, batch: 3 });
    const resumed = await new Trainer(m, blobs(300, 1), { epochs: 2, batchSize: 30, optimizer, resume: trainer.state() }).run();
    expect(resumed.epochs.map((e) => e.epoch)).toEqual([1, 2]);
    const straight = model();
    await fit(straight, blobs(300, 1), { epochs: 2, batchSize: 30, optimizer: new SGD(straight, { lr: 0.1 }) });
    expect(m.values).toEqual(straight.values);
  });

  it('lets the event loop run while it trains', async () => {
    const m = model();
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    await fit(m, blobs(3000, 1), { epochs: 2, batchSize: 10, optimizer: new SGD(m, { lr: 0.1 }), yieldMs: 5 });
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(3);
  });

  it('rejects bad options with errors naming them', async () => {
    const m = model();
    const data = blobs(10, 1);
    expect(() => new Trainer(m, data, { epochs: 0, batchSize: 10, optimizer: new SGD(m, { lr: 0.1 }) })).toThrow('fit: epochs must be a positive integer, got 0');
    expect(() => new Trainer(m, data, { epochs: 1, batchSize: 2.5, optimizer: new SGD(m, { lr: 0.1 }) })).toThrow(RangeError);
    expect(() => new Trainer(m, data, { epochs: 1, batchSize: 10, optimizer: {} as never })).toThrow(/fit: optimizer must be an optimizer/);
  });
});

describe('schedule', () => {
  it('anneals the rate by cosine over the run, and a resumed run follows the same rates', async () => {
    expect(scheduleFactor('cosine', 0, 10)).toBe(1);
    expect(scheduleFactor('cosine', 5, 10)).toBeCloseTo(0.5, 15);
    expect(scheduleFactor('constant', 7, 10)).toBe(1);
    const rates: number[] = [];
    const m = model();
    const controller = new AbortController();
    const optimizer = new SGD(m, { lr: 0.1 });
    const trainer = new Trainer(m, blobs(300, 1), {
      epochs: 2, batchSize: 30, optimizer, schedule: 'cosine', signal: controller.signal,
      onBatch: () => {
        rates.push(optimizer.lr);
        if (rates.length === 13) controller.abort();
      },
    });
    await trainer.run();
    // The same optimizer object carries the annealed rate on: the base rate comes from the trainer state.
    const resumed = new Trainer(m, blobs(300, 1), {
      epochs: 2, batchSize: 30, optimizer, schedule: 'cosine', resume: JSON.parse(JSON.stringify(trainer.state())),
      onBatch: () => rates.push(optimizer.lr),
    });
    await resumed.run();
    expect(rates).toEqual(Array.from({ length: 20 }, (_, t) => 0.1 * (1 + Math.cos((Math.PI * t) / 20)) / 2));
    const straight = model();
    await fit(straight, blobs(300, 1), { epochs: 2, batchSize: 30, optimizer: new SGD(straight, { lr: 0.1 }), schedule: 'cosine' });
    expect(m.values).toEqual(straight.values);
  });

  it('rejects an unknown schedule', () => {
    const m = model();
    expect(() => new Trainer(m, blobs(10, 1), { epochs: 1, batchSize: 10, optimizer: new SGD(m, { lr: 0.1 }), schedule: 'step' as never }))
      .toThrow("fit: schedule must be one of constant, cosine, got \"step\"");
  });
});
