/**
 * `normnet experiment NAME [options]`: runs one of the Batch Normalization experiments, printing a line as
 * each configuration finishes, and writes data.json, data.csv, the charts (SVG and PNG) and report.html to
 * --out. Misuse (no or unknown name, unknown option, bad value) exits 2 with one line.
 */
import { join, resolve } from 'node:path';
import { JobQueue } from '../jobs/queue.js';
import { configure, getBackend, type BackendChoice } from '../kernels/backend.js';
import { EXPERIMENT_NAMES, EXPERIMENTS, runExperiment } from '../experiments/index.js';
import { trainOption, type OptionSpec } from '../train/config.js';
import { optionsHelp, parseFlags, UsageError } from './options.js';
import { ensureWritable } from './train.js';

/** Options every experiment takes. */
const COMMON_OPTIONS: readonly OptionSpec[] = [
  { key: 'jobs', flag: '--jobs', type: { kind: 'int', min: 1, max: 64 }, help: 'configurations run at once, on worker threads (results do not depend on it)' },
  trainOption('seed'),
  trainOption('backend'),
  trainOption('threads'),
  trainOption('dataDir'),
  trainOption('out', 'output directory (default runs/NAME-<time>)'),
];

export const EXPERIMENT_USAGE = `Usage: normnet experiment NAME [options]

Runs an experiment on the effect of Batch Normalization and writes data.json, data.csv, its charts (SVG and
PNG) and report.html to --out.

Experiments:
${EXPERIMENT_NAMES.map((name) => `  ${name.padEnd(14)} ${EXPERIMENTS[name].title}`).join('\n')}

Options of every experiment:
${optionsHelp(COMMON_OPTIONS, { jobs: 1, seed: 1, backend: 'auto' })}

Queue options (run the configurations as jobs, e.g. over several machines' normnet worker --redis):
  --redis URL        the BullMQ queue on this Redis (redis://host:port)
  --dir DIR          the queue's directory (default runs)

normnet experiment NAME --help lists the experiment's own options.`;

function experimentUsage(name: string): string {
  const e = EXPERIMENTS[name];
  return `Usage: normnet experiment ${name} [options]

${e.title}.
${e.description}

Options:
${optionsHelp(e.options, e.defaults)}
${optionsHelp(COMMON_OPTIONS.filter((o) => o.key !== 'seed' && o.key !== 'backend'), { jobs: 1 })}
${optionsHelp(COMMON_OPTIONS.filter((o) => o.key === 'seed' || o.key === 'backend'), e.defaults)}`;
}

export async function experimentCommand(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  if (name === '--help') {
    console.log(EXPERIMENT_USAGE);
    return 0;
  }
  if (name === undefined || name.startsWith('--')) {
    throw new UsageError(`experiment needs a name: one of ${EXPERIMENT_NAMES.join(', ')}`);
  }
  if (!(name in EXPERIMENTS)) {
    throw new UsageError(`unknown experiment: ${name} (one of ${EXPERIMENT_NAMES.join(', ')})`);
  }
  if (rest.includes('--help')) {
    console.log(experimentUsage(name));
    return 0;
  }
  const experiment = EXPERIMENTS[name];
  const { options, values } = parseFlags(rest, [], ['--redis', '--dir'], [...experiment.options, ...COMMON_OPTIONS]);
  const redis = values['--redis'];
  if (redis === undefined && values['--dir'] !== undefined) throw new UsageError('--dir goes with --redis (the queue whose workers run the configurations)');
  if (redis !== undefined && !/^rediss?:\/\//.test(redis)) throw new UsageError(`--redis must be a URL such as redis://127.0.0.1:6379, got ${redis}`);
  const { jobs = 1, threads, out, ...settings } = options as { jobs?: number; threads?: number; out?: string } & Record<string, unknown>;
  const outDir = resolve(out ?? join('runs', `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}`));
  ensureWritable(outDir);
  if (threads !== undefined && getBackend(settings.backend as BackendChoice | undefined).name === 'native') configure({ threads });
  console.log(`normnet: experiment ${name}, output in ${outDir}${redis ? `, configurations queued on ${redis}` : ''}`);
  const queue = redis === undefined ? undefined : new JobQueue({ redis, dir: values['--dir'] ?? 'runs' });
  let run;
  try {
    run = await runExperiment(name, settings, {
      jobs, queue, out: outDir, command: `normnet experiment ${args.join(' ')}`,
      onProgress: (done, total, line) => console.log(`[${done}/${total}] ${line}`),
    });
  } finally {
    await queue?.close();
  }
  console.log(`wrote ${run.report} with ${run.charts.map((c) => `${c.name}.svg/.png`).join(', ')}, data.json and data.csv (${run.seconds.toFixed(1)} s)`);
  return 0;
}
