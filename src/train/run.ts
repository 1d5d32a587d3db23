/**
 * A training run from its configuration: the dataset, the model (a preset or a layer list), the optimizer.
 * Shared by `normnet train`, `normnet eval` and the experiments, so they build the same thing from the same
 * configuration. DEFAULT_CONFIG is what `normnet train` does with no flags: an MLP with BatchNorm on MNIST.
 */
import type { Dataset } from '../data/dataset.js';
import type { Backend } from '../kernels/backend.js';
import type { FloatArray } from '../kernels/check.js';
import { loadFashionMnist } from '../data/fashion.js';
import { loadMnist } from '../data/mnist.js';
import type { Init } from '../nn/init.js';
import type { Schedule } from './schedule.js';
import { Sequential } from '../nn/sequential.js';
import { Adam, AdaGrad, Momentum, Nesterov, RMSprop, SGD } from '../optim/index.js';
import { cnnLayers, layersFromList, mlpLayers } from './models.js';
import type { StepOptimizer, TrainingData } from './trainer.js';

export interface RunConfig {
  model: 'mlp' | 'cnn';
  layers?: unknown[];
  hidden: number[];
  activation: 'relu' | 'sigmoid';
  init?: Init;
  batchnorm: boolean;
  dropout: number;
  dataset: 'mnist' | 'fashion-mnist';
  dataDir?: string;
  trainLimit?: number;
  epochs: number;
  batchSize: number;
  optimizer: 'sgd' | 'momentum' | 'nesterov' | 'adagrad' | 'rmsprop' | 'adam';
  lr?: number;
  schedule: Schedule;
  momentum?: number;
  beta1?: number;
  beta2?: number;
  alpha?: number;
  eps?: number;
  weightDecay: number;
  seed: number;
  backend: 'native' | 'ts';
  threads?: number;
  out?: string;
}

export const DEFAULT_CONFIG: RunConfig = {
  model: 'mlp',
  hidden: [512, 256],
  activation: 'relu',
  batchnorm: true,
  dropout: 0,
  dataset: 'mnist',
  epochs: 8,
  batchSize: 100,
  optimizer: 'momentum',
  lr: 0.05,
  schedule: 'cosine',
  weightDecay: 0,
  seed: 1,
  backend: 'native',
};

export interface Run {
  model: Sequential;
  optimizer: StepOptimizer;
  train: TrainingData;
  test: TrainingData;
  /** One line: the model and optimizer, for logs. */
  describe: string;
}

/** The dataset's train and test sets. Errors (missing Fashion-MNIST) say how to get the data. */
export function loadData(config: Pick<RunConfig, 'dataset' | 'dataDir' | 'trainLimit'>): { train: Dataset; test: Dataset } {
  const options = config.dataDir !== undefined ? { dir: config.dataDir } : {};
  const data = config.dataset === 'mnist' ? loadMnist(options) : loadFashionMnist(options);
  const train = config.trainLimit !== undefined && config.trainLimit < data.train.length
    ? data.train.subset(Int32Array.from({ length: config.trainLimit }, (_, i) => i), `${data.train.name} (first ${config.trainLimit})`)
    : data.train;
  return { train, test: data.test };
}

/** A dataset as training reads it, batches laid out for the model's first layer (gathered by `backend`'s kernel). */
export function trainingData(dataset: Dataset, layout: 'flat' | 'nchw', backend?: Backend<FloatArray>): TrainingData {
  return {
    length: dataset.length,
    classes: dataset.classes,
    batch: (indices) => dataset.batch(indices, { layout, backend }) as { x: { data: Float32Array; shape: readonly number[] }; labels: Int32Array },
  };
}

export function buildModel(config: RunConfig, sampleShape: readonly number[], classes: number): { model: Sequential; layout: 'flat' | 'nchw' } {
  const flat = sampleShape.reduce((a, b) => a * b, 1);
  let layers;
  let layout: 'flat' | 'nchw';
  if (config.layers) {
    layout = (config.layers[0] as { type?: string })?.type === 'conv2d' ? 'nchw' : 'flat';
    layers = layersFromList(config.layers, layout === 'nchw' ? sampleShape : [flat], config.init ?? 'default');
  } else if (config.model === 'cnn') {
    layout = 'nchw';
    layers = cnnLayers(classes, { init: config.init, batchnorm: config.batchnorm, dropout: config.dropout });
  } else {
    layout = 'flat';
    layers = mlpLayers(flat, classes, { hidden: config.hidden, activation: config.activation, init: config.init, batchnorm: config.batchnorm, dropout: config.dropout });
  }
  return { model: new Sequential(layers, { backend: config.backend, seed: config.seed }), layout };
}

export function buildOptimizer(config: RunConfig, model: Sequential): StepOptimizer {
  const common = { weightDecay: config.weightDecay, ...(config.lr !== undefined ? { lr: config.lr } : {}) };
  const defined = <T extends object>(o: T) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
  switch (config.optimizer) {
    case 'sgd':
      return new SGD(model, { lr: 0.01, ...common });
    case 'momentum':
      return new Momentum(model, { lr: 0.01, ...common, ...defined({ momentum: config.momentum }) });
    case 'nesterov':
      return new Nesterov(model, { lr: 0.01, ...common, ...defined({ momentum: config.momentum }) });
    case 'adagrad':
      return new AdaGrad(model, { ...common, ...defined({ eps: config.eps }) });
    case 'rmsprop':
      return new RMSprop(model, { ...common, ...defined({ alpha: config.alpha, eps: config.eps }) });
    case 'adam':
      return new Adam(model, { ...common, ...defined({ beta1: config.beta1, beta2: config.beta2, eps: config.eps }) });
  }
}

export function buildRun(config: RunConfig): Run {
  const { train, test } = loadData(config);
  const { model, layout } = buildModel(config, train.sampleShape, train.classes);
  const optimizer = buildOptimizer(config, model);
  const name = config.layers ? 'custom model' : config.model === 'cnn' ? 'CNN' : `MLP ${[...config.hidden].join('-')}`;
  return {
    model, optimizer,
    train: trainingData(train, layout, model.backend),
    test: trainingData(test, layout, model.backend),
    describe: `${name}${config.batchnorm && !config.layers ? ' with BatchNorm' : ''}, ${config.optimizer}`,
  };
}
