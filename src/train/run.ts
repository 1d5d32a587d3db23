/**
 * A training run from its configuration (src/train/config.ts): the dataset, the model (a preset or a layer
 * list), the optimizer; and `executeRun`, which trains it into an output directory (metrics.jsonl, a
 * checkpoint every epoch, resumable bit for bit). `normnet train`, `normnet eval`, the experiments, the job
 * queue and its workers all start runs here, so they build and train the same thing from the same config.
 */
import { appendFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Dataset } from '../data/dataset.js';
import { loadDataFiles } from '../data/data-files.js';
import type { ScalingStats } from '../data/scaling.js';
import { writeFileAtomic } from '../io/safetensors.js';
import type { Backend } from '../kernels/backend.js';
import type { FloatArray } from '../kernels/check.js';
import { loadFashionMnist } from '../data/fashion.js';
import { loadMnist } from '../data/mnist.js';
import { Sequential } from '../nn/sequential.js';
import { DEFAULT_CONFIG, validateConfig, type RunConfig } from './config.js';
import { Adam, AdaGrad, Momentum, Nesterov, RMSprop, SGD } from '../optim/index.js';
import { cnnLayers, layersFromList, mlpLayers } from './models.js';
import { checkPath, type PathLike } from '../util/path.js';
import { show } from '../util/show.js';
import { checkPositiveInt, checkShape } from '../nn/validate.js';
import { readCheckpoint, writeCheckpoint, type Checkpoint } from './checkpoint.js';
import { Trainer, type BatchInfo, type EpochRecord, type History, type StepOptimizer, type TrainingData } from './trainer.js';

export { DEFAULT_CONFIG, type RunConfig };

export interface Run {
  model: Sequential;
  optimizer: StepOptimizer;
  train: TrainingData;
  test?: TrainingData;
  /** The user data's feature scaling, kept in the checkpoint so a resumed run and `normnet eval` scale alike. */
  scaling: ScalingStats | null;
  /** One line: the model and optimizer, for logs. */
  describe: string;
}

/**
 * A run config at the API (resolveConfig's, or part of one): an object whose values validateConfig accepts, as
 * from a file (undefined values aside: they leave an option at its default); a bad value is a ConfigError naming it.
 */
function checkConfig(where: string, config: unknown): void {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new TypeError(`${where} must be a run config object (see resolveConfig), got ${show(config)}`);
  }
  validateConfig(Object.fromEntries(Object.entries(config).filter(([, v]) => v !== undefined)), where);
}

/** The dataset's train and test sets. Errors (missing Fashion-MNIST) say how to get the data. */
export function loadData(config: Pick<RunConfig, 'dataset' | 'dataDir' | 'trainLimit'>): { train: Dataset; test: Dataset } {
  checkConfig('loadData: config', config);
  const options = config.dataDir !== undefined ? { dir: config.dataDir } : {};
  const data = config.dataset === 'mnist' ? loadMnist(options) : loadFashionMnist(options);
  return { train: firstN(data.train, config.trainLimit), test: data.test };
}

/** The first `limit` samples of `dataset` (all of them without a limit). */
function firstN(dataset: Dataset, limit: number | undefined): Dataset {
  if (limit === undefined || limit >= dataset.length) return dataset;
  return dataset.subset(Int32Array.from({ length: limit }, (_, i) => i), `${dataset.name} (first ${limit})`);
}

/** A dataset as training reads it, batches laid out for the model's first layer (gathered by `backend`'s kernel). */
export function trainingData(dataset: Dataset, layout: 'flat' | 'nchw', backend?: Backend<FloatArray>): TrainingData {
  if (!(dataset instanceof Dataset)) throw new TypeError(`trainingData: dataset must be a Dataset, got ${show(dataset)}`);
  if (layout !== 'flat' && layout !== 'nchw') throw new RangeError(`trainingData: layout must be 'flat' or 'nchw', got ${show(layout)}`);
  if (backend !== undefined && typeof backend?.gatherScale !== 'function') throw new TypeError(`trainingData: backend must be a backend (getBackend()), got ${show(backend)}`);
  return {
    length: dataset.length,
    classes: dataset.classes,
    batch: (indices) => dataset.batch(indices, { layout, backend }) as { x: { data: Float32Array; shape: readonly number[] }; labels: Int32Array },
    prefetch: (indices) => dataset.prefetch(indices, { backend }),
  };
}

export function buildModel(config: RunConfig, sampleShape: readonly number[], classes: number): { model: Sequential; layout: 'flat' | 'nchw' } {
  checkConfig('buildModel: config', config);
  checkShape('buildModel', 'sampleShape', sampleShape);
  checkPositiveInt('buildModel', 'classes', classes);
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
  checkConfig('buildOptimizer: config', config);
  if (!(model instanceof Sequential)) throw new TypeError(`buildOptimizer: model must be a Sequential, got ${show(model)}`);
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

export interface RunData {
  train: Dataset;
  /** Absent when the user's data comes without test data. */
  test?: Dataset;
  /** The feature scaling of the user's data (fitted on its training set), or null. */
  scaling: ScalingStats | null;
}

/**
 * A run's data: the user's files when `data` is set (scaled by `scaling` when given, e.g. from a checkpoint,
 * else by statistics fitted on the training file), otherwise the built-in dataset; then the `trainLimit` cut.
 */
export function loadRunData(config: Pick<RunConfig, 'dataset' | 'dataDir' | 'trainLimit' | 'data' | 'testData' | 'label' | 'scale'>, scaling?: ScalingStats | null): RunData {
  if (config.data === undefined) return { ...loadData(config), scaling: null };
  const files = loadDataFiles({ data: config.data, testData: config.testData, label: config.label, scale: config.scale, scaling });
  return { train: firstN(files.train, config.trainLimit), test: files.test, scaling: files.scaling };
}

/**
 * The run a config describes, its data loaded; `scaling` (from a checkpoint) scales the user's data as the run
 * being continued did.
 */
export function buildRun(config: RunConfig, scaling?: ScalingStats | null): Run {
  checkConfig('buildRun: config', config);
  const data = loadRunData(config, scaling);
  const { model, layout } = buildModel(config, data.train.sampleShape, data.train.classes);
  const optimizer = buildOptimizer(config, model);
  const name = config.layers ? 'custom model' : config.model === 'cnn' ? 'CNN' : `MLP ${[...config.hidden].join('-')}`;
  return {
    model, optimizer,
    train: trainingData(data.train, layout, model.backend),
    test: data.test && trainingData(data.test, layout, model.backend),
    scaling: data.scaling,
    describe: `${name}${config.batchnorm && !config.layers ? ' with BatchNorm' : ''}, ${config.optimizer}`,
  };
}

export interface ExecuteOptions {
  /** Continue from this checkpoint of the same output directory (read with readCheckpoint). */
  resume?: Checkpoint;
  /** Stops at the next batch boundary, after which a checkpoint is written and the result has `stopped: true`. */
  signal?: AbortSignal;
  onStart?: (run: Run) => void;
  onBatch?: (info: BatchInfo) => void;
  onEpoch?: (record: EpochRecord, epochs: number) => void;
  /** Also checkpoint mid-epoch when this many seconds have passed since the last one (default: at epoch ends only). */
  checkpointSeconds?: number;
}

export interface RunResult {
  history: History;
  run: Run;
  /** The configuration as saved in the checkpoint (with `out` set to the directory). */
  config: RunConfig;
}

/**
 * Trains `config` into `outDir`: metrics.jsonl gets a line per epoch and `checkpoint/` the whole state after
 * each epoch (and when stopped). A resumed run first rewrites metrics.jsonl from the checkpoint's history, so
 * running the same epochs again (a job delivered twice, a crash between the two writes) never duplicates a line.
 */
export async function executeRun(config: RunConfig, dir: PathLike, options: ExecuteOptions = {}): Promise<RunResult> {
  const outDir = checkPath(dir, 'executeRun: outDir');
  checkConfig('executeRun: config', config);
  if (typeof options !== 'object' || options === null) throw new TypeError(`executeRun: options must be an object, got ${show(options)}`);
  for (const name of ['onStart', 'onBatch', 'onEpoch'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function') throw new TypeError(`executeRun: options.${name} must be a function, got ${show(options[name])}`);
  }
  if (options.checkpointSeconds !== undefined && (typeof options.checkpointSeconds !== 'number' || !(options.checkpointSeconds >= 0))) {
    throw new RangeError(`executeRun: options.checkpointSeconds must be a number >= 0, got ${show(options.checkpointSeconds)}`);
  }
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) throw new TypeError(`executeRun: options.signal must be an AbortSignal, got ${show(options.signal)}`);
  if (options.resume !== undefined && (typeof options.resume !== 'object' || options.resume === null)) {
    throw new TypeError(`executeRun: options.resume must be a checkpoint (readCheckpoint), got ${show(options.resume)}`);
  }
  const { resume } = options;
  const run = buildRun(config, resume?.scaling);
  mkdirSync(outDir, { recursive: true });
  if (resume) run.model.loadStateDict(resume.model as never);
  const saved = { ...config, out: outDir };
  const metrics = join(outDir, 'metrics.jsonl');
  if (resume) writeFileAtomic(metrics, resume.trainer.history.map((r) => `${JSON.stringify(r)}\n`).join(''));
  options.onStart?.(run);
  let lastCheckpoint = performance.now();
  // writeCheckpoint would create the directory afresh, holding a checkpoint and no metrics: say what happened.
  const stillThere = () => {
    if (!existsSync(outDir)) throw new Error(`${outDir}: the run's output directory was removed while it trained`);
  };
  const checkpoint = () => {
    stillThere();
    // The optimizer's buffers as views, written out at once (no copy, no base64: checkpoint.ts).
    writeCheckpoint(outDir, run.model, trainer.state({ views: true }), saved, run.scaling);
    lastCheckpoint = performance.now();
  };
  const every = options.checkpointSeconds;
  const trainer: Trainer = new Trainer(run.model, run.train, {
    epochs: config.epochs, batchSize: config.batchSize, optimizer: run.optimizer, testData: run.test, seed: config.seed,
    schedule: config.schedule, signal: options.signal, resume: resume?.trainer,
    onBatch: (info) => {
      options.onBatch?.(info);
      if (every !== undefined && info.batch < info.batches && performance.now() - lastCheckpoint >= every * 1000) checkpoint();
    },
    onEpoch: (record) => {
      stillThere();
      appendFileSync(metrics, `${JSON.stringify(record)}\n`);
      checkpoint();
      options.onEpoch?.(record, config.epochs);
    },
  });
  const history = await trainer.run();
  if (history.stopped) checkpoint();
  return { history, run, config: saved };
}

/** The checkpoint of `outDir` when it has one (a run to continue), else undefined; a corrupt one throws. */
export function existingCheckpoint(outDir: string): Checkpoint | undefined {
  const any = ['checkpoint', 'checkpoint.old'].some((d) => existsSync(join(outDir, d, 'trainer.json')));
  return any ? readCheckpoint(outDir) : undefined;
}
