/**
 * weight-scale: the seeds' sweep (batch_norm_test.py). An MLP with five hidden layers of 100 ReLUs is trained
 * with and without BatchNorm from initial weights of std w, for w log-spaced from 1 to 1e-4, on the first 1000
 * MNIST training images (20 epochs, batch 100, SGD lr 0.01). After every epoch (and before the first) its
 * accuracy on those 1000 images is measured in eval mode, as the seeds do. A run whose loss turns NaN or
 * infinite stops there; its remaining epochs are null.
 */
import { trainOption } from '../train/config.js';
import { PALETTE } from '../plot/charts.js';
import { buildModel, buildOptimizer, trainingData } from '../train/run.js';
import { evaluate, fit, TrainingError } from '../train/trainer.js';
import { COMMON_DEFAULTS, logSpace, mnist, network, percent, runConfig, short, type CommonOptions, type Experiment } from './experiment.js';

export interface WeightScaleOptions extends CommonOptions {
  scales: number;
  hidden: number[];
  epochs: number;
  trainLimit: number;
  batchSize: number;
  lr: number;
}

export interface WeightScaleJob extends WeightScaleOptions {
  scale: number;
  batchnorm: boolean;
}

export interface WeightScaleResult {
  scale: number;
  batchnorm: boolean;
  /** Eval-mode accuracy on the training images before training (index 0) and after each epoch. */
  trainAccuracy: (number | null)[];
  /** Mean training loss of each epoch (index 0: null). */
  trainLoss: (number | null)[];
  /** The epoch whose loss turned NaN or infinite, if one did. */
  divergedAt: number | null;
  seconds: number;
}

export const weightScale: Experiment<WeightScaleOptions, WeightScaleJob, WeightScaleResult> = {
  name: 'weight-scale',
  title: 'Batch Normalization and the initial weight scale',
  description: 'An MLP with five hidden layers of 100 ReLUs, trained with and without BatchNorm from Gaussian initial weights of each std w, ' +
    'on the first MNIST training images with plain SGD; the curves are the accuracy on those images after each epoch (eval mode). ' +
    'Without BatchNorm only a narrow band of scales trains; with it, almost every scale does.',
  options: [
    { key: 'scales', flag: '--scales', type: { kind: 'int', min: 1, max: 64 }, help: 'how many initial weight stds, log-spaced from 1 to 1e-4' },
    trainOption('hidden'),
    trainOption('epochs'),
    trainOption('trainLimit'),
    trainOption('batchSize'),
    trainOption('lr'),
  ],
  defaults: { ...COMMON_DEFAULTS, scales: 16, hidden: [100, 100, 100, 100, 100], epochs: 20, trainLimit: 1000, batchSize: 100, lr: 0.01 },

  jobs(options) {
    return logSpace(1, 1e-4, options.scales).flatMap((scale) => [true, false].map((batchnorm) => ({ ...options, scale, batchnorm })));
  },

  async run(job) {
    const started = performance.now();
    const config = runConfig({
      hidden: job.hidden, activation: 'relu', init: job.scale, batchnorm: job.batchnorm, optimizer: 'sgd', lr: job.lr,
      seed: job.seed, backend: job.backend,
    });
    const { train } = mnist(job.dataDir, job.trainLimit);
    const { model, layout } = buildModel(config, train.sampleShape, train.classes);
    const data = trainingData(train, layout);
    const trainAccuracy: (number | null)[] = [(await evaluate(model, data)).accuracy];
    const trainLoss: (number | null)[] = [null];
    let divergedAt: number | null = null;
    try {
      await fit(model, data, {
        epochs: job.epochs, batchSize: job.batchSize, optimizer: buildOptimizer(config, model), seed: job.seed, yieldMs: Infinity,
        onEpoch: async (record) => {
          trainLoss.push(record.trainLoss);
          trainAccuracy.push((await evaluate(model, data)).accuracy);
        },
      });
    } catch (error) {
      if (!(error instanceof TrainingError)) throw error;
      divergedAt = trainAccuracy.length;
      while (trainAccuracy.length <= job.epochs) {
        trainAccuracy.push(null);
        trainLoss.push(null);
      }
    }
    return { scale: job.scale, batchnorm: job.batchnorm, trainAccuracy, trainLoss, divergedAt, seconds: (performance.now() - started) / 1000 };
  },

  describeJob(job, result) {
    const last = result.trainAccuracy[result.trainAccuracy.length - 1];
    return `w std ${short(job.scale)}, ${network(job.batchnorm)}: train accuracy ${percent(last)}${result.divergedAt !== null ? ` (diverged at epoch ${result.divergedAt})` : ''}, ${result.seconds.toFixed(1)} s`;
  },

  summarize(options, results) {
    const scales = [...new Set(results.map((r) => r.scale))];
    const title = (scale: number) => `w std ${short(scale)}`;
    const find = (scale: number, batchnorm: boolean) => results.find((r) => r.scale === scale && r.batchnorm === batchnorm)!;
    const final = (r: WeightScaleResult) => r.trainAccuracy[r.trainAccuracy.length - 1];
    const values = [
      ...results.flatMap((r) => r.trainAccuracy.map((accuracy, epoch) => ({ panel: title(r.scale), epoch, accuracy, network: network(r.batchnorm) }))),
      // A diverged run has no curve after its last epoch: say so in its panel.
      ...results.filter((r) => r.divergedAt !== null).map((r) => ({
        panel: title(r.scale), epoch: options.epochs / 2, accuracy: r.batchnorm ? 0.92 : 0.8, note: `${network(r.batchnorm)} diverged\nin epoch ${r.divergedAt}`,
      })),
    ];
    const networks = [network(true), network(false)];
    const spec = {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      title: {
        text: 'Training accuracy with and without BatchNorm, by initial weight std',
        subtitle: `MLP ${options.hidden.join('-')} ReLU, first ${options.trainLimit} MNIST training images, SGD lr ${options.lr}, batch ${options.batchSize}`,
        subtitleFontSize: 11, subtitleColor: '#555',
      },
      data: { values },
      columns: 4,
      facet: { field: 'panel', type: 'nominal', sort: scales.map(title), header: { title: null, labelFontSize: 12, labelPadding: 4 } },
      spec: {
        width: 170, height: 110,
        encoding: {
          x: { field: 'epoch', type: 'quantitative', title: 'epoch', scale: { domain: [0, options.epochs], nice: false }, axis: { tickCount: 5 } },
          y: { field: 'accuracy', type: 'quantitative', title: 'accuracy', scale: { domain: [0, 1] }, axis: { format: '.0%', tickCount: 3 } },
        },
        layer: [
          {
            transform: [{ filter: 'datum.network != null' }],
            mark: { type: 'line', clip: true, strokeWidth: 1.8 },
            encoding: {
              color: { field: 'network', type: 'nominal', sort: networks, scale: { domain: networks, range: PALETTE.slice(0, 2) }, legend: { title: null, orient: 'top' } },
              strokeDash: { field: 'network', type: 'nominal', sort: networks, scale: { domain: networks, range: [[1, 0], [6, 4]] }, legend: { title: null, orient: 'top' } },
            },
          },
          {
            transform: [{ filter: 'datum.note != null' }],
            mark: { type: 'text', fontSize: 10, color: '#555', lineBreak: '\n' },
            encoding: { text: { field: 'note' } },
          },
        ],
      },
    };
    return {
      data: results,
      csv: {
        columns: ['weight_std', 'batchnorm', 'epoch', 'train_accuracy', 'train_loss'],
        rows: results.flatMap((r) => r.trainAccuracy.map((accuracy, epoch) => [r.scale, r.batchnorm, epoch, accuracy, r.trainLoss[epoch]])),
      },
      tables: [{
        caption: `Training accuracy after ${options.epochs} epochs`,
        columns: ['initial weight std', 'BatchNorm', 'no BatchNorm', 'difference'],
        rows: scales.map((scale) => {
          const bn = final(find(scale, true));
          const plain = final(find(scale, false));
          return [
            short(scale),
            { text: percent(bn), heat: bn ?? 0 },
            { text: percent(plain), heat: plain ?? 0 },
            bn !== null && plain !== null ? `${(100 * (bn - plain)).toFixed(1)} points` : null,
          ];
        }),
      }],
      charts: [{ name: 'weight-scale', spec }],
    };
  },
};
