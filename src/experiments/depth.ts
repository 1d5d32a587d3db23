/**
 * depth: which networks train, with and without BatchNorm. Every combination of activation (sigmoid, ReLU),
 * initialisation (Xavier, He, std 0.01) and depth (2 to 6 hidden layers of 100) is trained the same way and
 * its final test accuracy shown as a heat map. A run whose loss turns NaN or infinite counts as diverged.
 */
import { trainOption } from '../train/config.js';
import type { Init } from '../nn/init.js';
import { buildModel, buildOptimizer, trainingData } from '../train/run.js';
import { evaluate, fit, TrainingError } from '../train/trainer.js';
import { COMMON_DEFAULTS, mnist, network, percent, runConfig, type CommonOptions, type CsvValue, type Experiment } from './experiment.js';

export interface DepthOptions extends CommonOptions {
  depths: number[];
  width: number;
  epochs: number;
  trainLimit: number;
  batchSize: number;
  lr: number;
}

export interface DepthJob extends DepthOptions {
  activation: 'sigmoid' | 'relu';
  init: Init;
  depth: number;
  batchnorm: boolean;
}

export interface DepthResult {
  activation: 'sigmoid' | 'relu';
  init: string;
  depth: number;
  batchnorm: boolean;
  /** null when training diverged. */
  testAccuracy: number | null;
  trainAccuracy: number | null;
  seconds: number;
}

const ACTIVATIONS = ['sigmoid', 'relu'] as const;
const INITS: { init: Init; label: string }[] = [{ init: 'xavier', label: 'Xavier' }, { init: 'he', label: 'He' }, { init: 0.01, label: 'std 0.01' }];
const initLabel = (init: Init) => INITS.find((i) => i.init === init)?.label ?? String(init);
const rowLabel = (r: { activation: string; init: Init }) => `${r.activation === 'relu' ? 'ReLU' : 'sigmoid'}, ${initLabel(r.init)}`;

export const depth: Experiment<DepthOptions, DepthJob, DepthResult> = {
  name: 'depth',
  title: 'Batch Normalization across activations, initialisations and depths',
  description: 'MLPs of 2 to 6 hidden layers of 100 sigmoids or ReLUs, from Xavier, He or std 0.01 initial weights, trained the same way with and ' +
    'without BatchNorm; each cell is the final test accuracy. Without BatchNorm, depth and a poor initialisation stall training (sigmoid ' +
    'networks first); with it, every combination trains.',
  options: [
    { key: 'depths', flag: '--depths', type: { kind: 'ints' }, help: 'numbers of hidden layers to try, e.g. 2,3,4,5,6' },
    { key: 'width', flag: '--width', type: { kind: 'int', min: 1 }, help: 'units per hidden layer' },
    trainOption('epochs'),
    trainOption('trainLimit'),
    trainOption('batchSize'),
    trainOption('lr', 'SGD learning rate'),
  ],
  defaults: { ...COMMON_DEFAULTS, depths: [2, 3, 4, 5, 6], width: 100, epochs: 5, trainLimit: 5000, batchSize: 100, lr: 0.05 },

  jobs(options) {
    return ACTIVATIONS.flatMap((activation) => INITS.flatMap(({ init }) => options.depths.flatMap((d) => [true, false].map((batchnorm) => ({
      ...options, activation, init, depth: d, batchnorm,
    })))));
  },

  async run(job) {
    const started = performance.now();
    const config = runConfig({
      hidden: Array.from({ length: job.depth }, () => job.width), activation: job.activation, init: job.init, batchnorm: job.batchnorm,
      optimizer: 'sgd', lr: job.lr, seed: job.seed, backend: job.backend,
    });
    const { train, test } = mnist(job.dataDir, job.trainLimit);
    const { model, layout } = buildModel(config, train.sampleShape, train.classes);
    let trainAccuracy: number | null = null;
    let testAccuracy: number | null = null;
    try {
      const history = await fit(model, trainingData(train, layout), {
        epochs: job.epochs, batchSize: job.batchSize, optimizer: buildOptimizer(config, model), seed: job.seed, yieldMs: Infinity,
      });
      trainAccuracy = history.epochs[history.epochs.length - 1].trainAccuracy;
      testAccuracy = (await evaluate(model, trainingData(test, layout))).accuracy;
    } catch (error) {
      if (!(error instanceof TrainingError)) throw error;
    }
    return {
      activation: job.activation, init: initLabel(job.init), depth: job.depth, batchnorm: job.batchnorm, testAccuracy, trainAccuracy,
      seconds: (performance.now() - started) / 1000,
    };
  },

  describeJob(job, result) {
    return `${rowLabel(job)}, ${job.depth} hidden layers, ${network(job.batchnorm)}: ${result.testAccuracy === null ? 'diverged' : `test accuracy ${percent(result.testAccuracy)}`}, ${result.seconds.toFixed(1)} s`;
  },

  summarize(options, results) {
    const rows = ACTIVATIONS.flatMap((activation) => INITS.map(({ init }) => rowLabel({ activation, init })));
    const label = (r: DepthResult) => `${r.activation === 'relu' ? 'ReLU' : 'sigmoid'}, ${r.init}`;
    const values = results.map((r) => ({
      row: label(r), depth: r.depth, network: network(r.batchnorm),
      accuracy: r.testAccuracy, text: r.testAccuracy === null ? 'NaN' : (100 * r.testAccuracy).toFixed(1),
    }));
    const spec = {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      title: {
        text: 'Final test accuracy (%) by depth, activation and initialisation',
        subtitle: `${options.width} units per hidden layer, first ${options.trainLimit} MNIST training images, ${options.epochs} epochs, SGD lr ${options.lr}, batch ${options.batchSize}`,
        subtitleFontSize: 11, subtitleColor: '#555',
      },
      data: { values },
      facet: { column: { field: 'network', type: 'nominal', sort: [network(true), network(false)], header: { title: null, labelFontSize: 13 } } },
      spec: {
        width: { step: 52 }, height: { step: 30 },
        encoding: {
          x: { field: 'depth', type: 'ordinal', title: 'hidden layers', axis: { labelAngle: 0, grid: false } },
          y: { field: 'row', type: 'nominal', title: null, sort: rows, axis: { grid: false } },
        },
        layer: [
          {
            mark: 'rect',
            encoding: {
              color: {
                field: 'accuracy', type: 'quantitative', title: 'test accuracy',
                scale: { domain: [0, 1], scheme: 'blues' }, legend: { format: '.0%', gradientLength: 150 },
              },
            },
          },
          {
            mark: { type: 'text', fontSize: 11 },
            encoding: {
              text: { field: 'text' },
              color: { condition: { test: 'datum.accuracy > 0.6', value: 'white' }, value: 'black' },
            },
          },
        ],
      },
    };
    const heatTable = (batchnorm: boolean) => ({
      caption: `Final test accuracy, ${network(batchnorm)}`,
      columns: ['activation, init', ...options.depths.map((d) => `${d} hidden`)],
      rows: rows.map((row) => [row, ...options.depths.map((d) => {
        const r = results.find((x) => label(x) === row && x.depth === d && x.batchnorm === batchnorm)!;
        return r.testAccuracy === null ? { text: 'diverged', heat: 0 } : { text: percent(r.testAccuracy), heat: r.testAccuracy };
      })]),
    });
    return {
      data: results,
      csv: {
        columns: ['activation', 'init', 'depth', 'batchnorm', 'test_accuracy', 'train_accuracy'],
        rows: results.map((r): CsvValue[] => [r.activation, r.init, r.depth, r.batchnorm, r.testAccuracy, r.trainAccuracy]),
      },
      tables: [heatTable(true), heatTable(false)],
      charts: [{ name: 'depth', spec }],
    };
  },
};
