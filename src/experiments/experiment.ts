/**
 * What an experiment is: a list of independent configurations ("jobs", plain data so they cross to a worker
 * thread), a function that trains one of them and returns plain data, and a summary of all the results as
 * data, CSV, report tables and charts. Each job carries its own seed and backend, so its result does not
 * depend on where or beside what it runs: --jobs changes the time an experiment takes, not its numbers.
 *
 * Also here: the helpers the experiments share (data loaded once per thread, a RunConfig from a few
 * settings, training for a number of steps rather than epochs).
 */
import type { OptionSpec } from '../train/config.js';
import type { Dataset } from '../data/dataset.js';
import type { BackendChoice } from '../kernels/backend.js';
import type { ChartSpec } from '../plot/render.js';
import type { ReportTable } from '../report/report.js';
import { DEFAULT_CONFIG, loadData, type RunConfig } from '../train/run.js';
import type { Sequential } from '../nn/sequential.js';
import { fit, type StepOptimizer, type TrainingData } from '../train/trainer.js';

export interface CommonOptions {
  seed: number;
  backend: BackendChoice;
  dataDir?: string;
}

export type CsvValue = string | number | boolean | null;

export interface ExperimentSummary {
  /** Everything measured, as JSON. */
  data: unknown;
  /** The same in one long table. */
  csv: { columns: string[]; rows: CsvValue[][] };
  tables: ReportTable[];
  charts: { name: string; spec: ChartSpec }[];
}

export interface Experiment<O extends CommonOptions, J, R> {
  name: string;
  title: string;
  /** One paragraph: what it runs and what to look for. */
  description: string;
  /** Its own command-line options (the common ones are added by the CLI). */
  options: readonly OptionSpec[];
  defaults: O;
  jobs(options: O): J[];
  run(job: J): Promise<R>;
  /** One line for the progress log when a job is done. */
  describeJob(job: J, result: R): string;
  summarize(options: O, results: R[]): ExperimentSummary;
}

/** The registry holds experiments of different option, job and result types. */
export type AnyExperiment = Experiment<any, any, any>;

export const COMMON_DEFAULTS: CommonOptions = { seed: 1, backend: 'auto' };

const datasets = new Map<string, { train: Dataset; test: Dataset }>();

/** MNIST (the first `trainLimit` training images), loaded once per thread and kept for the next jobs. */
export function mnist(dataDir: string | undefined, trainLimit?: number): { train: Dataset; test: Dataset } {
  const key = `${dataDir ?? ''}|${trainLimit ?? ''}`;
  let data = datasets.get(key);
  if (!data) {
    data = loadData({ dataset: 'mnist', dataDir, trainLimit });
    datasets.set(key, data);
  }
  return data;
}

/** A run configuration: normnet train's defaults with the given settings. */
export function runConfig(settings: Partial<RunConfig>): RunConfig {
  return { ...DEFAULT_CONFIG, ...settings };
}

/**
 * Trains for exactly `steps` mini-batches (epochs as many as that takes, reshuffled each epoch), calling
 * `onStep` after each step with the number of steps done.
 */
export async function trainSteps(model: Sequential, data: TrainingData, optimizer: StepOptimizer, options: {
  steps: number; batchSize: number; seed: number; onStep?: (step: number, loss: number) => void;
}): Promise<void> {
  const controller = new AbortController();
  let step = 0;
  await fit(model, data, {
    epochs: Math.ceil(options.steps / Math.ceil(data.length / options.batchSize)),
    batchSize: options.batchSize,
    optimizer,
    seed: options.seed,
    signal: controller.signal,
    yieldMs: Infinity, // a job owns its thread
    onBatch: (info) => {
      step++;
      options.onStep?.(step, info.loss);
      if (step >= options.steps) controller.abort();
    },
  });
}

/** How the figures and tables name the two networks every experiment compares. */
export const network = (batchnorm: boolean): string => (batchnorm ? 'BatchNorm' : 'no BatchNorm');

/** `count` values from `from` to `to`, evenly spaced on a log scale (numpy's logspace). */
export function logSpace(from: number, to: number, count: number): number[] {
  if (count === 1) return [from];
  const a = Math.log10(from);
  const b = Math.log10(to);
  return Array.from({ length: count }, (_, i) => 10 ** (a + ((b - a) * i) / (count - 1)));
}

/** A number short enough for a title or a table: 2 significant digits. */
export function short(value: number): string {
  return String(Number(value.toPrecision(2)));
}

export const percent = (value: number | null | undefined, digits = 1): string =>
  value === null || value === undefined || !Number.isFinite(value) ? '–' : `${(100 * value).toFixed(digits)}%`;
