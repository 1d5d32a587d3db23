/**
 * The experiments in tiny configurations, through the built package (worker threads load dist/ JS): the
 * effect each one is about shows even this small, results do not depend on --jobs, and the data, CSV,
 * charts and report they write have the shapes they should.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nativeAvailable, runExperiment } from '../dist/index.js';
import { percentile } from '../src/experiments/activations.js';
import { logSpace } from '../src/experiments/experiment.js';
import { smoothed } from '../src/experiments/optimizers.js';

const backend = process.env.REQUIRE_NATIVE === '1' || nativeAvailable() ? 'native' : 'ts';
const work = mkdtempSync(join(tmpdir(), 'normnet-experiments-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Results without their timings, which are the only thing allowed to differ between runs. */
const withoutSeconds = (results: unknown[]) => results.map((r) => ({ ...(r as object), seconds: 0 }));
const csvLines = (dir: string) => readFileSync(join(dir, 'data.csv'), 'utf8').trim().split('\n');
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

describe('weight-scale', () => {
  const options = { scales: 3, trainLimit: 500, epochs: 8, batchSize: 50, hidden: [50, 50, 50], backend };

  it('trains at a tiny weight scale only with BatchNorm, and gives the same numbers with 1 and 2 jobs', async () => {
    const one = await runExperiment('weight-scale', options, { jobs: 1 });
    const two = await runExperiment('weight-scale', options, { jobs: 2 });
    expect(withoutSeconds(two.results)).toEqual(withoutSeconds(one.results));
    const results = one.results as { scale: number; batchnorm: boolean; trainAccuracy: (number | null)[] }[];
    expect(results.map((r) => [Number(r.scale.toPrecision(3)), r.batchnorm])).toEqual([[1, true], [1, false], [0.01, true], [0.01, false], [0.0001, true], [0.0001, false]]);
    for (const r of results) expect(r.trainAccuracy).toHaveLength(options.epochs + 1);
    const final = (scale: number, batchnorm: boolean) => results.find((r) => Math.abs(r.scale - scale) < 1e-9 && r.batchnorm === batchnorm)!.trainAccuracy[options.epochs]!;
    expect(final(0.01, true)).toBeGreaterThan(0.6);
    expect(final(0.01, false)).toBeLessThan(0.3); // std 0.01 through four layers: the signal vanishes without BatchNorm
  });

  it('writes data.json, data.csv, the figure as SVG and PNG, and report.html', async () => {
    const out = join(work, 'weight-scale');
    const run = await runExperiment('weight-scale', { ...options, epochs: 2 }, { jobs: 2, out });
    const data = JSON.parse(readFileSync(join(out, 'data.json'), 'utf8'));
    expect(data).toMatchObject({ experiment: 'weight-scale', options: { scales: 3, epochs: 2 }, machine: { backend } });
    expect(data.results).toHaveLength(6);
    const lines = csvLines(out);
    expect(lines[0]).toBe('weight_std,batchnorm,epoch,train_accuracy,train_loss');
    expect(lines).toHaveLength(1 + 6 * 3);
    expect(lines[1]).toMatch(/^1,true,0,0\.\d+,$/);
    const svg = readFileSync(join(out, 'weight-scale.svg'), 'utf8');
    for (const text of ['Training accuracy with and without BatchNorm', 'w std 1', 'w std 0.01', 'w std 0.0001', 'no BatchNorm', 'epoch']) expect(svg).toContain(text);
    expect(readFileSync(join(out, 'weight-scale.png')).subarray(0, 8)).toEqual(PNG_SIGNATURE);
    expect(run.report).toBe(join(out, 'report.html'));
    const html = readFileSync(run.report!, 'utf8');
    expect(html).toContain('<img src="data:image/svg+xml;base64,');
    expect(html).not.toMatch(/(src|href)="https?:/);
  });
});

describe('activations', () => {
  it('measures accuracy and the percentiles of a sigmoid input at step 0 and every evalEvery steps', async () => {
    const out = join(work, 'activations');
    const run = await runExperiment('activations', { steps: 50, evalEvery: 20, hidden: [30, 30, 30], unit: 3, backend }, { jobs: 2, out });
    const results = run.results as { batchnorm: boolean; steps: number[]; testAccuracy: number[]; p15: number[]; p50: number[]; p85: number[] }[];
    expect(results.map((r) => r.batchnorm)).toEqual([true, false]);
    for (const r of results) {
      expect(r.steps).toEqual([0, 20, 40, 50]);
      r.steps.forEach((_, i) => {
        expect(r.p15[i]).toBeLessThanOrEqual(r.p50[i]);
        expect(r.p50[i]).toBeLessThanOrEqual(r.p85[i]);
      });
    }
    // Before training both networks have the same weights: the same sigmoid inputs (BatchNorm's running
    // statistics start at mean 0, variance 1, so in eval mode it is the identity up to eps).
    expect(results[0].p50[0]).toBeCloseTo(results[1].p50[0], 4);
    expect(results[0].testAccuracy[3]).toBeGreaterThan(results[1].testAccuracy[3]); // 50 steps: BatchNorm is already ahead
    expect(csvLines(out)[0]).toBe('batchnorm,step,test_accuracy,p15,p50,p85');
    expect(csvLines(out)).toHaveLength(1 + 2 * 4);
    const svg = readFileSync(join(out, 'activations.svg'), 'utf8');
    for (const text of ['Test accuracy', 'Sigmoid input, BatchNorm', 'Sigmoid input, no BatchNorm', '85th', '15th', 'sigmoid 3 of hidden layer 3']) expect(svg).toContain(text);
  });

  it('rejects a unit outside the last hidden layer', async () => {
    await expect(runExperiment('activations', { hidden: [10, 10], unit: 10, backend })).rejects.toThrow(/unit 10 is not in the last hidden layer of 10/);
  });
});

describe('depth', () => {
  it('runs every activation, initialisation, depth and BatchNorm setting and draws a heat map', async () => {
    const out = join(work, 'depth');
    const run = await runExperiment('depth', { depths: [2, 3], epochs: 1, trainLimit: 300, width: 20, backend }, { jobs: 2, out });
    const results = run.results as { activation: string; init: string; depth: number; batchnorm: boolean; testAccuracy: number | null }[];
    expect(results).toHaveLength(2 * 3 * 2 * 2);
    expect(new Set(results.map((r) => `${r.activation} ${r.init} ${r.depth} ${r.batchnorm}`)).size).toBe(24);
    for (const r of results) expect(r.testAccuracy === null || (r.testAccuracy >= 0 && r.testAccuracy <= 1)).toBe(true);
    expect(run.summary.tables.map((t) => t.rows.length)).toEqual([6, 6]);
    expect(run.summary.tables[0].columns).toEqual(['activation, init', '2 hidden', '3 hidden']);
    const svg = readFileSync(join(out, 'depth.svg'), 'utf8');
    for (const text of ['Final test accuracy', 'sigmoid, Xavier', 'ReLU, std 0.01', 'hidden layers', 'no BatchNorm']) expect(svg).toContain(text);
  });
});

describe('optimizers', () => {
  it('keeps the loss of every step for each of the six optimizers, from the same start', async () => {
    const out = join(work, 'optimizers');
    const run = await runExperiment('optimizers', { steps: 15, hidden: [20, 20], smooth: 5, backend }, { jobs: 2, out });
    const results = run.results as { optimizer: string; lr: number; loss: number[]; testAccuracy: number }[];
    expect(results.map((r) => r.optimizer)).toEqual(['sgd', 'momentum', 'nesterov', 'adagrad', 'rmsprop', 'adam']);
    for (const r of results) expect(r.loss).toHaveLength(15);
    // Same weights and the same first batch: the first loss is the same for all.
    for (const r of results) expect(r.loss[0]).toBe(results[0].loss[0]);
    expect(csvLines(out)).toHaveLength(1 + 6 * 15);
    const svg = readFileSync(join(out, 'optimizers.svg'), 'utf8');
    for (const text of ['SGD (lr 0.01)', 'Momentum', 'Nesterov', 'AdaGrad', 'RMSprop', 'Adam (lr 0.001)', 'training loss']) expect(svg).toContain(text);
    expect(existsSync(join(out, 'optimizers.png'))).toBe(true);
  });
});

describe('runExperiment misuse', () => {
  it('rejects an unknown experiment, a bad jobs count and an unknown option', async () => {
    await expect(runExperiment('frobnicate')).rejects.toThrow(/^unknown experiment: frobnicate \(one of weight-scale, activations, depth, optimizers\)$/);
    await expect(runExperiment('depth', {}, { jobs: 0 })).rejects.toThrow(RangeError);
    await expect(runExperiment('depth', { epoch: 3 })).rejects.toThrow(/depth: unknown option epoch/);
  });

  it('reports a job that fails in a worker thread as the error', async () => {
    await expect(runExperiment('optimizers', { steps: 2, dataDir: join(work, 'nowhere'), backend }, { jobs: 2 })).rejects.toThrow(/MNIST: .* not found in .*nowhere/);
  });
});

describe('experiment helpers', () => {
  it('logSpace matches numpy.logspace(0, -4, 16) at its ends and middle', () => {
    const scales = logSpace(1, 1e-4, 16);
    expect(scales).toHaveLength(16);
    expect(scales[0]).toBe(1);
    expect(scales[15]).toBeCloseTo(1e-4, 12);
    expect(scales[5]).toBeCloseTo(10 ** (-4 / 3), 12);
  });

  it('percentile interpolates between ranks as numpy does', () => {
    const sorted = Float32Array.from([1, 2, 3, 4, 5]);
    expect(percentile(sorted, 50)).toBe(3);
    expect(percentile(sorted, 15)).toBeCloseTo(1.6, 6);
    expect(percentile(sorted, 85)).toBeCloseTo(4.4, 6);
  });

  it('smoothed is a bias-corrected exponential moving average', () => {
    expect(smoothed([2, 2, 2], 10)).toEqual([2, 2, 2].map(() => expect.closeTo(2, 12)));
    const s = smoothed([0, 1], 3); // beta 0.5
    expect(s[0]).toBe(0);
    expect(s[1]).toBeCloseTo(0.5 / 0.75, 12);
  });
});
