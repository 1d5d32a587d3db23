/**
 * The job commands, over a JobQueue (embedded in --dir, default `runs`, or BullMQ with --redis URL):
 *   normnet submit CONFIG.json [--priority N] [--name NAME] [--wait]   queue a run config; prints the job id
 *   normnet jobs [--status S] [--json]                                  a table of the jobs
 *   normnet jobs cancel ID                                             cancel a queued or running job
 *   normnet worker [--concurrency N] [--threads N]                     run the queue's jobs until SIGINT/SIGTERM
 * Without a worker on an embedded queue, `submit --wait` runs the queue itself until its job ends.
 */
import { readFileSync } from 'node:fs';
import { Job, JobError } from '../jobs/job.js';
import { JobQueue, type JobQueueOptions } from '../jobs/queue.js';
import { JOB_STATUSES, type JobStatus } from '../jobs/store.js';
import { epochLine } from './progress.js';
import { integerFlag, parseFlags, UsageError } from './options.js';

const WHERE = `  --dir DIR          the queue's directory: job records and run directories (default runs)
  --redis URL        use the BullMQ queue on this Redis (redis://host:port) instead of the embedded one`;

export const SUBMIT_USAGE = `Usage: normnet submit CONFIG.json [options]

Queues a training run (the keys of normnet train --config) and prints its job id.

Options:
${WHERE}
  --priority N       0 (default) runs first, then 1, 2, ...
  --name NAME        a name to show in normnet jobs
  --wait             follow the job: a line per epoch, then its result (exit 1 if it fails or is cancelled)`;

export const JOBS_USAGE = `Usage: normnet jobs [options]
       normnet jobs cancel ID [options]

Lists the jobs (id, name, status, epoch, test accuracy, age), or cancels one.

Options:
${WHERE}
  --status S         only jobs in this state: ${JOB_STATUSES.join(', ')}
  --json             one JSON array of the jobs`;

export const WORKER_USAGE = `Usage: normnet worker [options]

Runs the queue's jobs, each in a worker thread, until SIGINT or SIGTERM (which checkpoint the running jobs and
put them back in the queue).

Options:
${WHERE}
  --concurrency N    jobs at once (default 1)
  --threads N        native threads per job (default: the cores shared among the jobs)`;

/** The queue flags every job command takes, turned into JobQueue options. */
function queueOptions(values: Record<string, string>): JobQueueOptions {
  const options: JobQueueOptions = { dir: values['--dir'] ?? 'runs' };
  if (values['--redis'] !== undefined) {
    if (!/^rediss?:\/\//.test(values['--redis'])) throw new UsageError(`--redis must be a URL such as redis://127.0.0.1:6379, got ${values['--redis']}`);
    options.redis = values['--redis'];
  }
  return options;
}

/** How long a command waits for the queue to answer: an unreachable Redis would otherwise be retried forever. */
const ANSWER_MS = 15_000;

/** `call`, or an Error once `ms` pass without an answer (the command then exits 1, see main.ts). */
async function answered<T>(call: Promise<T>, values: Record<string, string>, ms = ANSWER_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from the queue in ${ms / 1000} s${values['--redis'] ? ` (is Redis running at ${values['--redis']}?)` : ''}`)), ms);
  });
  try {
    return await Promise.race([call, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Closes a one-shot command's queue; a close that hangs on an unreachable Redis is given up after 2 s. */
async function closed(queue: JobQueue): Promise<void> {
  await answered(queue.close(), {}, 2000).catch(() => {});
}

export async function submitCommand(args: string[]): Promise<number> {
  const [file, ...rest] = args;
  if (file === undefined || file.startsWith('--')) throw new UsageError('submit needs a config file (normnet submit job.json)');
  const { values, switches } = parseFlags(rest, ['--wait'], ['--dir', '--redis', '--priority', '--name'], []);
  let config: unknown;
  try {
    config = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const wait = switches.has('--wait');
  const queue = new JobQueue({ ...queueOptions(values), work: wait && values['--redis'] === undefined });
  try {
    const job = await answered(queue.submit(config, { priority: integerFlag(values, '--priority', 0), name: values['--name'] }), values);
    console.log(job.id);
    if (!wait) return 0;
    return await follow(job);
  } finally {
    await closed(queue);
  }
}

/** Prints a job's epochs and its end; SIGINT/SIGTERM stop following (a job this process runs goes back to the queue). */
async function follow(job: Job): Promise<number> {
  const epochs = job.config.epochs;
  job.on('epoch', (record) => console.log(epochLine(record, epochs)));
  let stop = () => {};
  const interrupted = new Promise<undefined>((resolve) => {
    stop = () => resolve(undefined);
  });
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const result = await Promise.race([job.finished(), interrupted]);
    if (!result) {
      console.error(`normnet: stopped following job ${job.id}; it stays in the queue`);
      return 130;
    }
    console.log(`job ${job.id} completed: test accuracy ${(100 * (result.testAccuracy ?? 0)).toFixed(2)}% after ${result.history.length} epochs; output in ${result.dir}`);
    return 0;
  } catch (error) {
    if (!(error instanceof JobError)) throw error;
    console.error(`normnet: ${error.message}`);
    return 1;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

export async function jobsCommand(args: string[]): Promise<number> {
  if (args[0] === 'cancel') return cancelCommand(args.slice(1));
  const { values, switches } = parseFlags(args, ['--json'], ['--dir', '--redis', '--status'], []);
  const status = values['--status'];
  if (status !== undefined && !(JOB_STATUSES as readonly string[]).includes(status)) throw new UsageError(`--status must be one of ${JOB_STATUSES.join(', ')}, got ${status}`);
  const queue = new JobQueue({ ...queueOptions(values), work: false });
  try {
    const jobs = await answered(queue.list({ status: status as JobStatus | undefined }), values);
    if (switches.has('--json')) {
      console.log(JSON.stringify(jobs));
      return 0;
    }
    const rows = jobs.map((job) => {
      const last = job.history.at(-1);
      const epoch = job.status === 'running' && job.progress ? job.progress.epoch : job.history.length;
      // An experiment's configuration has no epochs of its own to count.
      return [job.id, job.name ?? '', job.status, job.experiment ? '-' : `${epoch}/${job.config.epochs}`, last?.testAccuracy === undefined ? '' : `${(100 * last.testAccuracy).toFixed(2)}%`, age(job.submittedAt)];
    });
    console.log(table(['id', 'name', 'status', 'epoch', 'accuracy', 'age'], rows));
    return 0;
  } finally {
    await closed(queue);
  }
}

async function cancelCommand(args: string[]): Promise<number> {
  const [id, ...rest] = args;
  if (id === undefined || id.startsWith('--')) throw new UsageError('jobs cancel needs a job id (normnet jobs cancel ID)');
  const { values } = parseFlags(rest, [], ['--dir', '--redis'], []);
  const queue = new JobQueue({ ...queueOptions(values), work: false });
  try {
    const job = await answered(queue.get(id), values);
    if (!job) throw new UsageError(`no job ${id} in ${values['--redis'] ?? values['--dir'] ?? 'runs'}`);
    if (job.status === 'completed' || job.status === 'failed' || job.status === 'cancelled') {
      console.log(`job ${id} is already ${job.status}`);
      return 0;
    }
    await answered(job.cancel(), values);
    console.log(`job ${id}: cancel requested (it was ${job.status}; a running job stops at its next batch with a checkpoint)`);
    return 0;
  } finally {
    await closed(queue);
  }
}

export async function workerCommand(args: string[]): Promise<number> {
  const { values } = parseFlags(args, [], ['--dir', '--redis', '--concurrency', '--threads'], []);
  const concurrency = integerFlag(values, '--concurrency', 1) ?? 1;
  const queue = new JobQueue({ ...queueOptions(values), work: true, concurrency, threads: integerFlag(values, '--threads', 1) });
  const where = values['--redis'] ? `BullMQ on ${values['--redis']}, run directories in ${queue.dir}` : queue.dir;
  console.log(`normnet worker: running jobs of ${where}, ${concurrency} at a time (pid ${process.pid})`);
  queue.on('status', (job: Job) => {
    const detail = job.status === 'failed' ? `: ${job.error}` : job.status === 'completed' ? `: test accuracy ${(100 * (job.history.at(-1)?.testAccuracy ?? 0)).toFixed(2)}%` : '';
    console.log(`${new Date().toISOString()} job ${job.id}${job.name ? ` (${job.name})` : ''} ${job.status}${detail}`);
  });
  // The queue's own timers do not hold the process open; this does, until a signal closes the queue.
  const alive = setInterval(() => {}, 1 << 30);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  console.log(`normnet worker: ${signal}: checkpointing running jobs and putting them back in the queue`);
  await queue.close();
  clearInterval(alive);
  return 0;
}

function age(since: number): string {
  const s = Math.max(0, (Date.now() - since) / 1000);
  return s < 90 ? `${Math.round(s)}s` : s < 5400 ? `${Math.round(s / 60)}m` : s < 172800 ? `${Math.round(s / 3600)}h` : `${Math.round(s / 86400)}d`;
}

function table(columns: string[], rows: string[][]): string {
  const widths = columns.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd();
  return [line(columns), ...rows.map(line)].join('\n');
}
