/**
 * optimizers: the six optimizers on one network with BatchNorm (the seeds' optimizer_compare_mnist.py, with
 * BatchNorm added): four hidden layers of 100 ReLUs, He initialisation, MNIST, batch 128, each optimizer
 * with its usual learning rate (the seeds': SGD, momentum, Nesterov, AdaGrad and RMSprop 0.01, Adam 0.001).
 * The training loss of every step is kept; the chart shows it smoothed by an exponential moving average.
 */
import { trainOption } from '../train/config.js';
import { lineChart } from '../plot/charts.js';
import { buildModel, buildOptimizer, trainingData, type RunConfig } from '../train/run.js';
import { evaluate } from '../train/trainer.js';
import { COMMON_DEFAULTS, mnist, percent, runConfig, trainSteps, type CommonOptions, type Experiment } from './experiment.js';

type OptimizerName = RunConfig['optimizer'];

export interface OptimizersOptions extends CommonOptions {
  steps: number;
  hidden: number[];
  batchSize: number;
  /** Span of the moving average drawn, in steps. */
  smooth: number;
}

export interface OptimizersJob extends OptimizersOptions {
  optimizer: OptimizerName;
}

export interface OptimizersResult {
  optimizer: OptimizerName;
  lr: number;
  /** Training loss of each step. */
  loss: number[];
  testAccuracy: number;
  seconds: number;
}

const OPTIMIZERS: { name: OptimizerName; label: string; lr: number }[] = [
  { name: 'sgd', label: 'SGD', lr: 0.01 },
  { name: 'momentum', label: 'Momentum', lr: 0.01 },
  { name: 'nesterov', label: 'Nesterov', lr: 0.01 },
  { name: 'adagrad', label: 'AdaGrad', lr: 0.01 },
  { name: 'rmsprop', label: 'RMSprop', lr: 0.01 },
  { name: 'adam', label: 'Adam', lr: 0.001 },
];
const label = (name: OptimizerName) => OPTIMIZERS.find((o) => o.name === name)!.label;

/**
 * Exponential moving average with span `span` (weight 2/(span+1) on each new value), bias-corrected so the
 * first values are not pulled towards 0 (TensorBoard's smoothing).
 */
export function smoothed(values: readonly number[], span: number): number[] {
  const beta = 1 - 2 / (span + 1);
  let m = 0;
  let weight = 1;
  return values.map((v) => {
    m = beta * m + (1 - beta) * v;
    weight *= beta;
    return m / (1 - weight);
  });
}

const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;

export const optimizers: Experiment<OptimizersOptions, OptimizersJob, OptimizersResult> = {
  name: 'optimizers',
  title: 'Six optimizers on one network with BatchNorm',
  description: 'An MLP with four hidden layers of 100 ReLUs and BatchNorm, He initialisation, trained on MNIST in batches of 128 by each optimizer ' +
    'at its usual learning rate, from the same initial weights and the same batches. The curves are the training loss of each step, smoothed by an exponential moving average.',
  options: [
    { key: 'steps', flag: '--steps', type: { kind: 'int', min: 1 }, help: 'training steps per optimizer' },
    trainOption('hidden'),
    trainOption('batchSize'),
    { key: 'smooth', flag: '--smooth', type: { kind: 'int', min: 1 }, help: 'span in steps of the moving average drawn' },
  ],
  defaults: { ...COMMON_DEFAULTS, steps: 2000, hidden: [100, 100, 100, 100], batchSize: 128, smooth: 50 },

  jobs(options) {
    return OPTIMIZERS.map(({ name }) => ({ ...options, optimizer: name }));
  },

  async run(job) {
    const started = performance.now();
    const lr = OPTIMIZERS.find((o) => o.name === job.optimizer)!.lr;
    const config = runConfig({
      hidden: job.hidden, activation: 'relu', init: 'he', batchnorm: true, optimizer: job.optimizer, lr, seed: job.seed, backend: job.backend,
    });
    const { train, test } = mnist(job.dataDir);
    const { model, layout } = buildModel(config, train.sampleShape, train.classes);
    const loss: number[] = [];
    await trainSteps(model, trainingData(train, layout), buildOptimizer(config, model), {
      steps: job.steps, batchSize: job.batchSize, seed: job.seed, onStep: (_, value) => loss.push(value),
    });
    const { accuracy } = await evaluate(model, trainingData(test, layout));
    return { optimizer: job.optimizer, lr, loss, testAccuracy: accuracy, seconds: (performance.now() - started) / 1000 };
  },

  describeJob(job, result) {
    return `${label(job.optimizer)} (lr ${result.lr}): final loss ${mean(result.loss.slice(-job.smooth)).toFixed(4)}, test accuracy ${percent(result.testAccuracy, 2)}, ${result.seconds.toFixed(1)} s`;
  },

  summarize(options, results) {
    const steps = Array.from({ length: options.steps }, (_, i) => i + 1);
    const spec = lineChart({
      title: 'Training loss of six optimizers on a network with BatchNorm',
      subtitle: `MLP ${options.hidden.join('-')} ReLU + BatchNorm, He init, MNIST, batch ${options.batchSize}; exponential moving average, span ${options.smooth} steps`,
      x: 'training steps', y: 'training loss (log scale)', yLog: true, width: 520, height: 320,
      series: results.map((r) => ({ name: `${label(r.optimizer)} (lr ${r.lr})`, x: steps, y: smoothed(r.loss, options.smooth) })),
    });
    return {
      data: results,
      csv: {
        columns: ['optimizer', 'lr', 'step', 'loss'],
        rows: results.flatMap((r) => r.loss.map((value, i) => [r.optimizer, r.lr, i + 1, value])),
      },
      tables: [{
        caption: `After ${options.steps} steps`,
        columns: ['optimizer', 'learning rate', `training loss (mean of the last ${Math.min(options.smooth, options.steps)} steps)`, 'test accuracy'],
        rows: results.map((r) => [label(r.optimizer), r.lr, Number(mean(r.loss.slice(-options.smooth)).toFixed(4)), percent(r.testAccuracy, 2)]),
      }],
      charts: [{ name: 'optimizers', spec }],
    };
  },
};
