/**
 * runExperiment(name, options): runs one of the Batch Normalization experiments (weight-scale, activations,
 * depth, optimizers) and returns its results and summary; with `out` it also writes there data.json,
 * data.csv, each chart as SVG and PNG, and report.html.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JobQueue } from '../jobs/queue.js';
import { machineInfo } from '../report/machine.js';
import { writeReport } from '../report/report.js';
import { writeChart, type ChartFiles } from '../plot/render.js';
import { checkPath, type PathLike } from '../util/path.js';
import { show } from '../util/show.js';
import type { CsvValue, ExperimentSummary } from './experiment.js';
import { EXPERIMENT_NAMES, EXPERIMENTS } from './registry.js';
import { runJobs } from './runner.js';

export { EXPERIMENTS, EXPERIMENT_NAMES } from './registry.js';
export type { Experiment, ExperimentSummary, CommonOptions } from './experiment.js';

export interface RunExperimentOptions {
  /** Worker threads to run configurations on (default 1: all in this thread). Results do not depend on it. */
  jobs?: number;
  /** Run the configurations as jobs of this queue instead (with Redis: over every machine's workers); same results. */
  queue?: JobQueue;
  /** A directory for data.json, data.csv, the charts and report.html; nothing is written without it. */
  out?: PathLike;
  /** Called as each configuration finishes, with a one-line description. */
  onProgress?: (done: number, total: number, line: string) => void;
  /** The command line that ran it, for the report. */
  command?: string;
}

export interface ExperimentRun {
  name: string;
  options: Record<string, unknown>;
  results: unknown[];
  summary: ExperimentSummary;
  seconds: number;
  /** The charts and report written (with `out`). */
  charts: ChartFiles[];
  report?: string;
}

export async function runExperiment(name: string, options: Record<string, unknown> = {}, run: RunExperimentOptions = {}): Promise<ExperimentRun> {
  const experiment = typeof name === 'string' && Object.hasOwn(EXPERIMENTS, name) ? EXPERIMENTS[name] : undefined;
  if (!experiment) throw new RangeError(`unknown experiment: ${show(name)} (one of ${EXPERIMENT_NAMES.join(', ')})`);
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new TypeError(`runExperiment: options must be an object, got ${show(options)}`);
  if (typeof run !== 'object' || run === null) throw new TypeError(`runExperiment: run must be an object, got ${show(run)}`);
  const jobs = run.jobs ?? 1;
  if (!Number.isInteger(jobs) || jobs < 1) throw new RangeError(`jobs must be an integer >= 1, got ${show(jobs)}`);
  if (run.onProgress !== undefined && typeof run.onProgress !== 'function') throw new TypeError(`runExperiment: onProgress must be a function, got ${show(run.onProgress)}`);
  if (run.command !== undefined && typeof run.command !== 'string') throw new TypeError(`runExperiment: command must be a string, got ${show(run.command)}`);
  // Checked before the configurations run, not after minutes of training.
  const dir = run.out === undefined ? undefined : checkPath(run.out, 'runExperiment: out');
  const unknown = Object.keys(options).filter((key) => !(key in experiment.defaults) && key !== 'dataDir');
  if (unknown.length) throw new RangeError(`${name}: unknown option ${unknown[0]} (options: ${Object.keys(experiment.defaults).join(', ')}, dataDir)`);
  const settings = { ...experiment.defaults, ...options };
  const started = performance.now();
  const list = experiment.jobs(settings);
  let done = 0;
  const results = await runJobs(name, list, {
    workers: jobs, queue: run.queue,
    onDone: (index, result) => run.onProgress?.(++done, list.length, experiment.describeJob(list[index], result)),
  });
  const summary = experiment.summarize(settings, results);
  const seconds = (performance.now() - started) / 1000;
  const outcome: ExperimentRun = { name, options: settings, results, summary, seconds, charts: [] };
  if (dir !== undefined) {
    mkdirSync(dir, { recursive: true });
    const machine = machineInfo(settings.backend);
    writeFileSync(join(dir, 'data.json'), `${JSON.stringify({ experiment: name, options: settings, machine, seconds, results: summary.data }, null, 1)}\n`);
    writeFileSync(join(dir, 'data.csv'), toCsv(summary.csv.columns, summary.csv.rows));
    for (const chart of summary.charts) outcome.charts.push(await writeChart(dir, chart.name, chart.spec));
    outcome.report = writeReport(dir, {
      title: experiment.title, description: experiment.description, command: run.command,
      config: { experiment: name, ...settings, jobs }, tables: summary.tables, charts: outcome.charts, machine,
      files: ['data.json', 'data.csv'], seconds,
    });
  }
  return outcome;
}

function toCsv(columns: string[], rows: CsvValue[][]): string {
  const field = (v: CsvValue) => (v === null ? '' : typeof v === 'string' && /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : String(v));
  return [columns, ...rows].map((row) => row.map(field).join(',')).join('\n') + '\n';
}
