/**
 * activations: the MNIST experiment of the Batch Normalization paper (Ioffe & Szegedy 2015, section 4.1 and
 * Figure 1). Three hidden layers of 100 sigmoids, small Gaussian initial weights, batch 60, SGD, with and
 * without BatchNorm. Every `evalEvery` steps (and at step 0) the network runs in eval mode over the test set:
 * its accuracy, and the 15th, 50th and 85th percentiles of the input to one sigmoid of the last hidden layer
 * (the Linear output without BatchNorm, the BatchNorm output with it). The paper ran 50000 steps, and so does
 * the default (about two minutes with --jobs 2 on two cores). The paper gives no learning rate or init std:
 * lr 0.02 and std 0.1 are this experiment's choice.
 */
import { trainOption } from '../train/config.js';
import { Sigmoid } from '../nn/activation.js';
import type { Sequential } from '../nn/sequential.js';
import type { Tensor } from '../nn/tensor.js';
import { lineChart, PALETTE, type Series } from '../plot/charts.js';
import { countCorrect } from '../train/metrics.js';
import { buildModel, buildOptimizer, trainingData } from '../train/run.js';
import type { TrainingData } from '../train/trainer.js';
import { COMMON_DEFAULTS, mnist, network, percent, runConfig, trainSteps, type CommonOptions, type Experiment } from './experiment.js';

export interface ActivationsOptions extends CommonOptions {
  steps: number;
  evalEvery: number;
  hidden: number[];
  batchSize: number;
  lr: number;
  init: number;
  /** Which sigmoid of the last hidden layer to follow. */
  unit: number;
}

export interface ActivationsJob extends ActivationsOptions {
  batchnorm: boolean;
}

export interface ActivationsResult {
  batchnorm: boolean;
  steps: number[];
  testAccuracy: number[];
  /** Percentiles over the test set of the followed sigmoid's input, at each of `steps`. */
  p15: number[];
  p50: number[];
  p85: number[];
  seconds: number;
}

const PERCENTILES = [15, 50, 85] as const;

/** The q-th percentile of sorted values, interpolating linearly between ranks (numpy's default). */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  const at = ((sorted.length - 1) * q) / 100;
  const lo = Math.floor(at);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (at - lo);
}

/**
 * Eval-mode pass over `data`: accuracy, and the input of unit `unit` of the last Sigmoid layer for every
 * sample. Layers run one by one so that input can be read on the way.
 */
function probe(model: Sequential, data: TrainingData, unit: number): { accuracy: number; inputs: Float32Array } {
  let last = model.layers.length - 1;
  while (last >= 0 && !(model.layers[last] instanceof Sigmoid)) last--;
  const inputs = new Float32Array(data.length);
  let correct = 0;
  const batchSize = 1000;
  for (let start = 0; start < data.length; start += batchSize) {
    const n = Math.min(batchSize, data.length - start);
    const { x, labels } = data.batch(Int32Array.from({ length: n }, (_, i) => start + i));
    let t: Tensor = x;
    model.layers.forEach((layer, i) => {
      if (i === last) {
        const width = t.shape[1];
        for (let s = 0; s < n; s++) inputs[start + s] = t.data[s * width + unit];
      }
      if (!model.isFused(i)) t = layer.forward(t, false);
    });
    correct += countCorrect(t.data, labels, n, t.shape[1]);
  }
  return { accuracy: correct / data.length, inputs };
}

export const activations: Experiment<ActivationsOptions, ActivationsJob, ActivationsResult> = {
  name: 'activations',
  title: 'Batch Normalization on MNIST: accuracy and the input to a sigmoid (Ioffe & Szegedy 2015, Figure 1)',
  description: 'Three hidden layers of 100 sigmoids from small Gaussian weights, trained with SGD on batches of 60, with and without BatchNorm. ' +
    'Left: test accuracy against training steps. Right: the 15th, 50th and 85th percentiles over the test set of the input to one sigmoid of the ' +
    'last hidden layer as training goes on. With BatchNorm the network learns faster and that distribution stays put; without it, it drifts.',
  options: [
    { key: 'steps', flag: '--steps', type: { kind: 'int', min: 1 }, help: 'training steps' },
    { key: 'evalEvery', flag: '--eval-every', type: { kind: 'int', min: 1 }, help: 'steps between measurements on the test set' },
    trainOption('hidden'),
    trainOption('batchSize'),
    trainOption('lr'),
    { key: 'init', flag: '--init', type: { kind: 'number', min: 0, exclusiveMin: true }, help: 'std of the Gaussian initial weights' },
    { key: 'unit', flag: '--unit', type: { kind: 'int', min: 0 }, help: 'which sigmoid of the last hidden layer to follow' },
  ],
  defaults: { ...COMMON_DEFAULTS, steps: 50000, evalEvery: 1000, hidden: [100, 100, 100], batchSize: 60, lr: 0.02, init: 0.1, unit: 0 },

  jobs(options) {
    if (options.unit >= options.hidden[options.hidden.length - 1]) {
      throw new RangeError(`activations: unit ${options.unit} is not in the last hidden layer of ${options.hidden[options.hidden.length - 1]}`);
    }
    return [true, false].map((batchnorm) => ({ ...options, batchnorm }));
  },

  async run(job) {
    const started = performance.now();
    const config = runConfig({
      hidden: job.hidden, activation: 'sigmoid', init: job.init, batchnorm: job.batchnorm, optimizer: 'sgd', lr: job.lr,
      seed: job.seed, backend: job.backend,
    });
    const { train, test } = mnist(job.dataDir);
    const { model, layout } = buildModel(config, train.sampleShape, train.classes);
    const testData = trainingData(test, layout);
    const result: ActivationsResult = { batchnorm: job.batchnorm, steps: [], testAccuracy: [], p15: [], p50: [], p85: [], seconds: 0 };
    const measure = (step: number) => {
      const { accuracy, inputs } = probe(model, testData, job.unit);
      inputs.sort();
      result.steps.push(step);
      result.testAccuracy.push(accuracy);
      const [p15, p50, p85] = PERCENTILES.map((q) => percentile(inputs, q));
      result.p15.push(p15);
      result.p50.push(p50);
      result.p85.push(p85);
    };
    measure(0);
    await trainSteps(model, trainingData(train, layout), buildOptimizer(config, model), {
      steps: job.steps, batchSize: job.batchSize, seed: job.seed,
      onStep: (step) => {
        if (step % job.evalEvery === 0 || step === job.steps) measure(step);
      },
    });
    result.seconds = (performance.now() - started) / 1000;
    return result;
  },

  describeJob(job, result) {
    return `${network(job.batchnorm)}: test accuracy ${percent(result.testAccuracy[result.testAccuracy.length - 1], 2)} after ${job.steps} steps, ${result.seconds.toFixed(1)} s`;
  },

  summarize(options, results) {
    const bn = results.find((r) => r.batchnorm)!;
    const plain = results.find((r) => !r.batchnorm)!;
    const subtitle = `MLP ${options.hidden.join('-')} sigmoid, init std ${options.init}, SGD lr ${options.lr}, batch ${options.batchSize}, MNIST; ` +
      `the input to sigmoid ${options.unit} of hidden layer ${options.hidden.length}, over the test set`;
    const accuracy = lineChart({
      title: 'Test accuracy', x: 'training steps', y: 'test accuracy', yFormat: '.0%', yDomain: [0, 1], width: 320, height: 220, legendOrient: 'bottom',
      series: [
        { name: network(true), x: bn.steps, y: bn.testAccuracy },
        { name: network(false), x: plain.steps, y: plain.testAccuracy, dashed: true },
      ],
    });
    const low = Math.min(...bn.p15, ...plain.p15);
    const high = Math.max(...bn.p85, ...plain.p85);
    const pad = 0.05 * (high - low || 1);
    const bands = (r: ActivationsResult): Series[] => [
      { name: '85th', x: r.steps, y: r.p85, color: PALETTE[3] },
      { name: '50th', x: r.steps, y: r.p50, color: PALETTE[2] },
      { name: '15th', x: r.steps, y: r.p15, color: PALETTE[4] },
    ];
    const percentiles = (r: ActivationsResult) => lineChart({
      title: `Sigmoid input, ${network(r.batchnorm)}`,
      x: 'training steps', y: 'sigmoid input', series: bands(r), yDomain: [low - pad, high + pad], width: 320, height: 220, legendOrient: 'bottom', legend: 'percentile',
    });
    const spec = {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      title: { text: 'Batch Normalization on MNIST (Ioffe & Szegedy 2015, Figure 1)', subtitle, subtitleFontSize: 11, subtitleColor: '#555' },
      hconcat: [accuracy, percentiles(plain), percentiles(bn)].map(({ $schema: _, ...chart }) => chart),
      resolve: { scale: { color: 'independent', strokeDash: 'independent' }, legend: { color: 'independent', strokeDash: 'independent' } },
      spacing: 40,
    };
    const final = (r: ActivationsResult) => r.testAccuracy[r.testAccuracy.length - 1];
    const firstReaching = (r: ActivationsResult, target: number) => r.steps.find((_, i) => r.testAccuracy[i] >= target) ?? null;
    return {
      data: results,
      csv: {
        columns: ['batchnorm', 'step', 'test_accuracy', 'p15', 'p50', 'p85'],
        rows: results.flatMap((r) => r.steps.map((step, i) => [r.batchnorm, step, r.testAccuracy[i], r.p15[i], r.p50[i], r.p85[i]])),
      },
      tables: [{
        caption: `After ${options.steps} steps (percentiles of the sigmoid input: at the start → at the end)`,
        columns: ['network', 'test accuracy', 'steps to 90%', 'steps to 95%', '15th percentile', '50th percentile', '85th percentile'],
        rows: [bn, plain].map((r) => [
          network(r.batchnorm), percent(final(r), 2), firstReaching(r, 0.9), firstReaching(r, 0.95),
          ...(['p15', 'p50', 'p85'] as const).map((p) => `${r[p][0].toFixed(2)} → ${r[p][r[p].length - 1].toFixed(2)}`),
        ]),
      }],
      charts: [{ name: 'activations', spec }],
    };
  },
};
