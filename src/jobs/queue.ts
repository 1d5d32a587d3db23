/**
 * JobQueue: training runs as jobs, off the event loop. `new JobQueue({ dir: 'runs' })` is the embedded queue:
 * no server, jobs kept in `dir` and trained in worker threads of this process; `new JobQueue({ redis, dir })`
 * submits to and reads from a BullMQ queue on Redis, whose workers (`normnet worker`, or a JobQueue with
 * `work: true`) may run on any machine that sees `dir`. Either way a job is a run config (validated as
 * `normnet train --config` validates it, at submit) and a run directory `dir/<id>` that holds what
 * `normnet train` writes; a job resumed after a crash ends with the same weights, bit for bit.
 */
import { EventEmitter } from 'node:events';
import { availableParallelism } from 'node:os';
import { resolveConfig, type RunConfig } from '../train/config.js';
import { checkPath, type PathLike } from '../util/path.js';
import { json, show } from '../util/show.js';
import type { Engine } from './engine.js';
import { EmbeddedEngine } from './embedded.js';
import { RedisEngine } from './redis.js';
import { Job } from './job.js';
import { newJobId, JOB_STATUSES, type ExperimentTask, type JobRecord, type JobStatus } from './store.js';

export interface JobQueueOptions {
  /** Where jobs and their run directories live (default 'runs'). */
  dir?: PathLike;
  /** Jobs run at once by this process (default 1). */
  concurrency?: number;
  /** Native threads per job (default: the cores shared among `concurrency` jobs, at least 1). */
  threads?: number;
  /** A Redis URL (redis://host:port): use the BullMQ queue there instead of the embedded one. */
  redis?: string;
  /** The BullMQ queue's name (default 'normnet'). */
  queueName?: string;
  /** Run jobs in this process (default: true for the embedded queue, false with `redis`). */
  work?: boolean;
  /** How often the embedded queue looks at its directory, in ms (default 250). */
  pollMs?: number;
  /** Also checkpoint mid-epoch after this many seconds of training (default 60), so a crash loses at most that. */
  checkpointSeconds?: number;
  /**
   * BullMQ: how long a worker's lock on a running job lasts, in ms (default 30000, renewed every half of it); a
   * killed worker's job moves to another after about this plus `stalledInterval`.
   */
  lockDuration?: number;
  /** BullMQ: how often workers look for jobs whose lock expired, in ms (default 15000). */
  stalledInterval?: number;
}

export interface SubmitOptions {
  /** 0 (the default) runs first, then 1, 2, ...: lower sooner, as in BullMQ; ties in submission order. */
  priority?: number;
  name?: string;
}

/** Emits 'status' (job) whenever a job this queue follows or runs changes state. */
export class JobQueue extends EventEmitter {
  readonly dir: string;
  private readonly engine: Engine;
  private readonly jobs = new Map<string, Job>();
  private closed = false;

  constructor(options: JobQueueOptions = {}) {
    super();
    if (typeof options !== 'object' || options === null) throw new TypeError('JobQueue: options must be an object');
    const { concurrency = 1, pollMs = 250, checkpointSeconds = 60 } = options;
    const dir = checkPath(options.dir === undefined ? 'runs' : options.dir, 'JobQueue: dir');
    positiveInteger('concurrency', concurrency);
    positiveInteger('pollMs', pollMs);
    if (options.threads !== undefined) positiveInteger('threads', options.threads);
    if (typeof checkpointSeconds !== 'number' || !(checkpointSeconds > 0)) throw new RangeError(`JobQueue: checkpointSeconds must be > 0, got ${show(checkpointSeconds)}`);
    if (options.work !== undefined && typeof options.work !== 'boolean') throw new TypeError(`JobQueue: work must be true or false, got ${show(options.work)}`);
    for (const name of ['redis', 'queueName'] as const) {
      if (options[name] !== undefined && (typeof options[name] !== 'string' || options[name] === '')) throw new TypeError(`JobQueue: ${name} must be a non-empty string, got ${show(options[name])}`);
    }
    if (options.lockDuration !== undefined) positiveInteger('lockDuration', options.lockDuration);
    if (options.stalledInterval !== undefined) positiveInteger('stalledInterval', options.stalledInterval);
    this.dir = dir;
    const threads = options.threads ?? Math.max(1, Math.floor(availableParallelism() / concurrency));
    const events = {
      record: (record: JobRecord) => {
        const known = this.jobs.get(record.id);
        if (known) known.update(record);
        // A job submitted elsewhere that this queue now runs: a handle for it, already in its state.
        else this.emit('status', this.handle(record));
      },
      progress: (id: string, progress: Parameters<Job['setProgress']>[0]) => this.jobs.get(id)?.setProgress(progress),
    };
    if (options.redis !== undefined) {
      const { redis, queueName = 'normnet', lockDuration, stalledInterval } = options;
      this.engine = new RedisEngine({ redis, queueName, dir, concurrency, threads, work: options.work ?? false, checkpointSeconds, lockDuration, stalledInterval }, events);
      return;
    }
    this.engine = new EmbeddedEngine({ dir, concurrency, threads, work: options.work ?? true, pollMs, checkpointSeconds }, events);
  }

  /**
   * Queues a run config (the keys of `normnet train --config`). A bad key or value is a ConfigError here,
   * before anything is queued.
   */
  async submit(config: unknown, options: SubmitOptions = {}): Promise<Job> {
    this.checkOpen();
    const resolved = resolveConfig(config, 'config');
    return this.enqueue(resolved, undefined, options);
  }

  /**
   * Queues one configuration of a registered experiment (`EXPERIMENTS[name].run(job)` in a job thread); the
   * result is the Job's `result`. runExperiment's `queue` option submits its configurations this way.
   */
  async submitExperimentJob(name: string, job: unknown, options: SubmitOptions = {}): Promise<Job> {
    this.checkOpen();
    if (typeof name !== 'string' || name === '') throw new TypeError(`submitExperimentJob: name must be an experiment's name, got ${JSON.stringify(name)}`);
    return this.enqueue(resolveConfig({}, 'config'), { name, job }, options);
  }

  private async enqueue(config: RunConfig, experiment: ExperimentTask | undefined, options: SubmitOptions): Promise<Job> {
    const { priority = 0, name } = options;
    if (!Number.isInteger(priority) || priority < 0 || priority > 2 ** 21) throw new RangeError(`submit: priority must be an integer in [0, 2^21], got ${priority}`);
    if (name !== undefined && typeof name !== 'string') throw new TypeError(`submit: name must be a string, got ${typeof name}`);
    const id = newJobId();
    const record: JobRecord = {
      id, name, priority, config: { ...config, out: this.engine.runDir(id) }, ...(experiment ? { experiment } : {}),
      status: 'queued', submittedAt: Date.now(), attempts: 0, history: [],
    };
    const job = this.handle(record);
    await this.engine.submit(record);
    return job;
  }

  /** The job with this id, or undefined. */
  async get(id: string): Promise<Job | undefined> {
    if (typeof id !== 'string' || id === '') throw new TypeError(`get: id must be a non-empty string, got ${JSON.stringify(id)}`);
    const known = this.jobs.get(id);
    if (known) return known;
    const record = await this.engine.read(id);
    return record && this.handle(record);
  }

  /** Every job, oldest first; `status` keeps those in that state. */
  async list(filter: { status?: JobStatus } = {}): Promise<Job[]> {
    if (filter.status !== undefined && !JOB_STATUSES.includes(filter.status)) throw new RangeError(`list: status must be one of ${JOB_STATUSES.join(', ')}, got ${JSON.stringify(filter.status)}`);
    const records = (await this.engine.readAll()).sort((a, b) => a.submittedAt - b.submittedAt || (a.id < b.id ? -1 : 1));
    return records.filter((r) => filter.status === undefined || r.status === filter.status).map((r) => this.jobs.get(r.id) ?? this.handle(r));
  }

  /** Running jobs checkpoint and stop (they resume when a queue opens this directory again); nothing new starts. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.engine.close();
  }

  private handle(record: JobRecord): Job {
    const job = new Job(record, this.engine.runDir(record.id), { cancel: (id) => this.engine.cancel(id) });
    job.on('status', () => this.emit('status', job));
    this.jobs.set(record.id, job);
    this.engine.watch(record.id);
    return job;
  }

  private checkOpen(): void {
    if (this.closed) throw new Error('JobQueue: the queue is closed');
  }
}

function positiveInteger(name: string, value: unknown): void {
  if (!Number.isInteger(value) || (value as number) < 1) throw new RangeError(`JobQueue: ${name} must be an integer >= 1, got ${json(value)}`);
}
