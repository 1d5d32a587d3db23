/**
 * The BullMQ queue: jobs kept in a BullMQ queue on Redis, so any number of processes on any machines submit,
 * follow and cancel them, and the processes that work (`work: true`) run them, `concurrency` at a time each,
 * in priority order. A BullMQ job's data is the JobRecord as submitted; its progress value carries the epochs
 * finished and the last batch's progress (`{ history, progress }`), its return value `{ history, result }`
 * (`result`: an experiment job's); BullMQ's own fields give the status and the times. Run directories live
 * under `dir`, which every worker must see (a shared file system): a job that moves to another worker resumes
 * there from its checkpoint.
 *
 * Training runs in a worker thread (job-thread.ts), never on the BullMQ worker's event loop: a CPU-bound
 * processor would starve the renewal of the job's lock, and BullMQ would hand the job to a second worker.
 * Delivery is at least once, and checkpoints make a run safe to start again:
 *   - a worker killed mid-job stops renewing its lock; after `lockDuration` another worker's stalled check
 *     (every `stalledInterval`) puts the job back in the queue, and whoever takes it resumes from the last
 *     checkpoint, ending with the same weights bit for bit (up to MAX_STALLED times; errors are not retried:
 *     training is deterministic, it would fail again);
 *   - close() stops running jobs at a batch boundary with a checkpoint and puts them back at the head of the queue;
 *   - Redis going away: the ioredis clients reconnect and queue their commands meanwhile; a job keeps training.
 * A cancel is a Redis key (`<prefix>:<queue>:cancel:<id>`) any process may set: a queued job with it counts as
 * cancelled at once, a worker fails it as soon as it takes it, and a running job's worker, which looks for the
 * key every CANCEL_POLL_MS, stops it at a batch boundary and fails it as cancelled.
 */
import { join, resolve } from 'node:path';
import type { Job as BullJob, Queue, QueueEvents, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { EpochRecord } from '../train/trainer.js';
import type { Engine, EngineEvents } from './engine.js';
import { startJobThread, type JobProgress, type JobThread } from './job-thread.js';
import { isTerminal, type JobRecord, type JobStatus } from './store.js';

export interface RedisEngineOptions {
  /** redis://host:port (rediss:// for TLS; a password as redis://:password@host:port). */
  redis: string;
  /** The BullMQ queue's name. */
  queueName: string;
  /** Where run directories are: `<dir>/<id>`, on a file system every worker sees. */
  dir: string;
  /** Jobs this process runs at once (with `work`). */
  concurrency: number;
  /** Native threads per job. */
  threads: number;
  /** Run jobs in this process (else only submit, read and cancel). */
  work: boolean;
  checkpointSeconds?: number;
  /**
   * How long a worker's lock on a running job lasts, in ms (default 30000; renewed every half of it). A killed
   * worker's job goes to another after about this long plus `stalledInterval`.
   */
  lockDuration?: number;
  /** How often a worker looks for jobs whose lock expired, in ms (default 15000). */
  stalledInterval?: number;
}

/** A BullMQ job's data, progress value and return value. */
interface JobData {
  record: JobRecord;
}
interface ProgressValue {
  history: EpochRecord[];
  progress?: JobProgress;
}
interface ReturnValue {
  history: EpochRecord[];
  /** An experiment job's result. */
  result?: unknown;
}
type TrainJob = BullJob<JobData, ReturnValue, 'train'>;

interface Clients {
  bullmq: typeof import('bullmq');
  queue: Queue<JobData, ReturnValue, 'train'>;
  queueEvents: QueueEvents;
  /** For the cancel keys. */
  redis: Redis;
  worker?: Worker<JobData, ReturnValue, 'train'>;
}

interface Running {
  thread: JobThread;
  /** Why it is being stopped: a cancel fails it, a close puts it back in the queue, a lost lock leaves it to its new owner. */
  stopping?: 'cancel' | 'close' | 'lost';
}

/** The failedReason of a cancelled job (a training error reads `Name: message`). */
const CANCELLED = 'cancelled';
/** Cancel keys outlive any job that waits in a queue. */
const CANCEL_TTL_SECONDS = 30 * 24 * 3600;
const CANCEL_POLL_MS = 500;
/** A running job's progress goes to Redis (and to the processes that follow it) about this often. */
const PROGRESS_MS = 500;
/** Followed jobs are also read this often: events missed (a restart of Redis, a cancel of a queued job elsewhere) still arrive. */
const REFRESH_MS = 1000;
/** A job whose worker died more often than this fails; more than any crash loop of a sound job. */
const MAX_STALLED = 10;

/** The BullMQ states a job's status stands for, read in this order: a job moving on between two reads is seen in the later state. */
const STATES: [JobStatus, ('waiting' | 'prioritized' | 'delayed' | 'waiting-children' | 'active' | 'completed' | 'failed')[]][] = [
  ['queued', ['waiting', 'prioritized', 'delayed', 'waiting-children']],
  ['running', ['active']],
  ['completed', ['completed']],
  ['failed', ['failed']],
];

export class RedisEngine implements Engine {
  private readonly dir: string;
  private readonly clients: Promise<Clients>;
  private readonly running = new Map<string, Running>();
  private readonly watched = new Set<string>();
  /** Followed jobs seen in a final state: never read again. */
  private readonly settled = new Set<string>();
  /** The epochs in the last record passed on of each job: a progress event with other epochs calls for a read. */
  private readonly epochs = new Map<string, number>();
  /** Reads of followed jobs under way; `again` when an event came during one. */
  private readonly refreshing = new Map<string, { again: boolean }>();
  private readonly timer: NodeJS.Timeout;
  /** A connection error was reported and Redis has not been reachable since: the next ones are not. */
  private unreachable = false;
  private closed = false;

  constructor(private readonly options: RedisEngineOptions, private readonly events: EngineEvents) {
    const { redis: url, queueName, lockDuration = 30_000, stalledInterval = 15_000 } = options;
    if (typeof url !== 'string' || !/^rediss?:\/\//.test(url)) throw new TypeError(`JobQueue: redis must be a URL such as redis://127.0.0.1:6379, got ${JSON.stringify(url)}`);
    if (typeof queueName !== 'string' || queueName === '' || queueName.includes(':')) throw new TypeError(`JobQueue: queueName must be a non-empty string without ':', got ${JSON.stringify(queueName)}`);
    for (const [name, value] of [['lockDuration', lockDuration], ['stalledInterval', stalledInterval]] as const) {
      if (!Number.isInteger(value) || value < 100) throw new RangeError(`JobQueue: ${name} must be an integer >= 100 (ms), got ${JSON.stringify(value)}`);
    }
    this.dir = resolve(options.dir);
    this.clients = this.connect(lockDuration, stalledInterval);
    // A failure to load BullMQ surfaces in the calls that need it, not as an unhandled rejection.
    this.clients.catch(() => {});
    // Unreferenced: an idle queue does not keep the process alive; running jobs' threads do.
    this.timer = setInterval(() => {
      for (const id of this.watched) this.refresh(id);
    }, REFRESH_MS).unref();
  }

  /** BullMQ and ioredis load on first use (they take ~0.2 s): a process without a Redis queue never pays for them. */
  private async connect(lockDuration: number, stalledInterval: number): Promise<Clients> {
    const [bullmq, { Redis }] = await Promise.all([import('bullmq'), import('ioredis')]);
    const { redis: url, queueName } = this.options;
    // Each BullMQ object opens its own connections from these options (the worker's and the events' with
    // maxRetriesPerRequest null: their commands wait for Redis to come back instead of failing).
    const connection = { url };
    const clients: Clients = {
      bullmq,
      queue: new bullmq.Queue(queueName, { connection }),
      queueEvents: new bullmq.QueueEvents(queueName, { connection }),
      redis: new Redis(url, { maxRetriesPerRequest: null }),
    };
    const { queue, queueEvents, redis } = clients;
    // Without a listener an 'error' event throws, and a Redis restart would end the process.
    queue.on('error', this.onError);
    queueEvents.on('error', this.onError);
    redis.on('error', this.onError);
    redis.on('ready', () => {
      this.unreachable = false;
    });
    queueEvents.on('active', ({ jobId }) => this.refresh(jobId));
    queueEvents.on('waiting', ({ jobId }) => this.refresh(jobId));
    queueEvents.on('completed', ({ jobId }) => this.refresh(jobId));
    queueEvents.on('failed', ({ jobId }) => this.refresh(jobId));
    queueEvents.on('progress', ({ jobId, data }) => this.onProgressEvent(jobId, data as ProgressValue));
    if (this.options.work) {
      const worker = new bullmq.Worker<JobData, ReturnValue, 'train'>(queueName, (job, token) => this.process(clients, job, token), {
        connection, concurrency: this.options.concurrency, lockDuration, stalledInterval, maxStalledCount: MAX_STALLED,
      });
      worker.on('error', this.onError);
      // The final records of the jobs run here, once BullMQ has stored them.
      worker.on('completed', (job) => this.emit(this.toRecord(job, 'completed', false)));
      worker.on('failed', (job) => job?.data?.record && this.emit(this.toRecord(job, 'failed', false)));
      // Redis still holds the job but the lock is gone (Redis was away longer than lockDuration): another
      // worker may take the job now, so this one stops writing its run directory.
      worker.on('lockRenewalFailed', (ids) => {
        for (const id of ids) this.stop(id, 'lost');
      });
      clients.worker = worker;
    }
    return clients;
  }

  runDir(id: string): string {
    return join(this.dir, id);
  }

  async submit(record: JobRecord): Promise<void> {
    const { queue, queueEvents } = await this.clients;
    // Events are read from the moment the stream reader is up: this job's must not come before.
    await queueEvents.waitUntilReady();
    await queue.add('train', { record }, {
      jobId: record.id,
      // BullMQ's priorities: none (0) first, then 1, 2, ...; ties in the order added.
      priority: record.priority || undefined,
      attempts: 1,
      removeOnComplete: false,
      removeOnFail: false,
    });
  }

  async read(id: string): Promise<JobRecord | undefined> {
    const { queue, redis } = await this.clients;
    // The state before the data: data read after it is as new or newer (a job seen completed has its return value).
    const state = await queue.getJobState(id);
    const status = STATES.find(([, states]) => (states as string[]).includes(state))?.[0];
    const job = status && (await queue.getJob(id));
    if (!status || !job?.data?.record) return undefined;
    return this.toRecord(job, status, status === 'queued' && (await redis.exists(cancelKey(queue, id))) === 1);
  }

  async readAll(): Promise<JobRecord[]> {
    const { queue, redis } = await this.clients;
    const byId = new Map<string, JobRecord>();
    for (const [status, states] of STATES) {
      const jobs = (await queue.getJobs(states)).filter((job) => job?.data?.record);
      const cancels = status === 'queued' && jobs.length > 0 ? await redis.mget(jobs.map((job) => cancelKey(queue, job.id!))) : [];
      jobs.forEach((job, i) => byId.set(job.id!, this.toRecord(job, status, cancels[i] != null)));
    }
    return [...byId.values()];
  }

  watch(id: string): void {
    this.watched.add(id);
  }

  async cancel(id: string): Promise<void> {
    const record = await this.read(id);
    if (!record || isTerminal(record.status)) return;
    const { queue, redis } = await this.clients;
    await redis.set(cancelKey(queue, id), '1', 'EX', CANCEL_TTL_SECONDS);
    this.stop(id, 'cancel');
    this.refresh(id);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    // Processors that start from now on put their job straight back (process() checks `closed`).
    for (const id of this.running.keys()) this.stop(id, 'close');
    let clients: Clients;
    try {
      clients = await this.clients;
    } catch {
      return; // nothing was opened
    }
    const { worker, queueEvents, queue, redis } = clients;
    await worker?.close();
    await Promise.allSettled([queueEvents.close(), queue.close(), redis.quit()]);
  }

  /** The worker's processor: trains the job in a thread, reporting to Redis, until it ends, is cancelled or the engine closes. */
  private async process(clients: Clients, job: TrainJob, token: string | undefined): Promise<ReturnValue> {
    const { bullmq, queue, redis } = clients;
    const id = job.id!;
    if (!job.data?.record) throw new bullmq.UnrecoverableError('not a normnet job: its data has no record');
    if ((await redis.exists(cancelKey(queue, id))) === 1) throw new bullmq.UnrecoverableError(CANCELLED);
    if (this.closed) return this.putBack(clients, job, token);
    const dir = this.runDir(id);
    let history: EpochRecord[] = [];
    let last: JobProgress | undefined;
    const report = () => {
      // A failed update (the job removed meanwhile) only loses a progress report; the outcome still counts.
      job.updateProgress({ history, progress: last }).catch(() => {});
    };
    const running: Running = {
      thread: startJobThread({
        config: { ...job.data.record.config, out: dir }, experiment: job.data.record.experiment, dir, threads: this.options.threads,
        checkpointSeconds: this.options.checkpointSeconds, progressMs: PROGRESS_MS,
      }, {
        resumed: (resumed) => {
          history = resumed;
          report();
          this.emit(this.toRecord(job, 'running', false, history));
        },
        progress: (progress) => {
          last = progress;
          this.events.progress(id, progress);
          // An epoch's last batch is reported with the epoch, whose message follows.
          if (progress.batch !== progress.batches) report();
        },
        epoch: (epoch) => {
          history = [...history, epoch];
          report();
          this.emit(this.toRecord(job, 'running', false, history, last));
        },
      }),
    };
    this.running.set(id, running);
    this.emit(this.toRecord(job, 'running', false));
    void this.pollCancel(clients, id, running);
    const outcome = await running.thread.done;
    this.running.delete(id);
    if (outcome.type === 'completed') return { history: outcome.history, result: outcome.result };
    if (outcome.type === 'failed') throw new Error(outcome.error);
    if (running.stopping === 'cancel') throw new bullmq.UnrecoverableError(CANCELLED);
    // BullMQ cannot store anything for a job whose lock is gone; its new owner runs it.
    if (running.stopping === 'lost') throw new Error(`lost the lock on job ${id}`);
    return this.putBack(clients, job, token);
  }

  /** Puts a job this worker holds back at the head of the queue, for any worker (this one takes no more: it is closing). */
  private async putBack({ bullmq }: Clients, job: TrainJob, token: string | undefined): Promise<never> {
    try {
      await job.moveToWait(token);
      this.emit(this.toRecord(job, 'queued', false));
    } catch {
      // Redis refused it: the lock, no longer renewed, expires and the stalled check puts the job back.
    }
    // Tells the BullMQ worker that the job left the active state by the processor's doing.
    throw new bullmq.WaitingError();
  }

  /** Looks for a cancel request of a running job every CANCEL_POLL_MS until its thread ends or is being stopped. */
  private async pollCancel({ queue, redis }: Clients, id: string, running: Running): Promise<void> {
    for (;;) {
      await new Promise((wake) => setTimeout(wake, CANCEL_POLL_MS));
      if (running.stopping || this.running.get(id) !== running) return;
      // Redis away: the command waits for it (maxRetriesPerRequest null) while training goes on.
      if ((await redis.exists(cancelKey(queue, id)).catch(() => 0)) === 1) this.stop(id, 'cancel');
    }
  }

  private stop(id: string, why: NonNullable<Running['stopping']>): void {
    const running = this.running.get(id);
    if (!running || running.stopping) return;
    running.stopping = why;
    running.thread.stop();
  }

  private onProgressEvent(id: string, value: ProgressValue): void {
    // The jobs this process runs report their progress straight from their threads.
    if (!this.watched.has(id) || this.running.has(id)) return;
    if (value?.progress) this.events.progress(id, value.progress);
    // Epochs (and the rest of the record) come with a read.
    if (value?.history?.length !== this.epochs.get(id)) this.refresh(id);
  }

  /** Reads a followed job and passes its record on; one read at a time per job, the last event's always made. */
  private refresh(id: string): void {
    if (!this.watched.has(id) || this.settled.has(id) || this.running.has(id) || this.closed) return;
    const pending = this.refreshing.get(id);
    if (pending) {
      pending.again = true;
      return;
    }
    const state = { again: false };
    this.refreshing.set(id, state);
    void (async () => {
      do {
        state.again = false;
        try {
          const record = await this.read(id);
          // Not once closing: a job put back meanwhile would seem to run again.
          if (record && !this.running.has(id) && !this.closed) this.emit(record);
        } catch {
          // Redis unreachable: the next event or REFRESH_MS reads the job again.
        }
      } while (state.again && !this.settled.has(id) && !this.closed);
      this.refreshing.delete(id);
    })();
  }

  private emit(record: JobRecord): void {
    if (isTerminal(record.status)) this.settled.add(record.id);
    this.epochs.set(record.id, record.history.length);
    this.events.record(record);
  }

  /** A BullMQ job as a JobRecord; a live history and progress (of a job running here) replace the stored ones. */
  private toRecord(job: TrainJob, status: JobStatus, cancelRequested: boolean, history?: EpochRecord[], progress?: JobProgress): JobRecord {
    const stored = typeof job.progress === 'object' && job.progress !== null ? (job.progress as ProgressValue) : undefined;
    if ((status === 'failed' && job.failedReason === CANCELLED) || (status === 'queued' && cancelRequested)) status = 'cancelled';
    const { id, name, priority, config, experiment } = job.data.record;
    return {
      id, name, priority, config, ...(experiment ? { experiment } : {}), status,
      submittedAt: job.timestamp,
      startedAt: job.processedOn || undefined,
      finishedAt: isTerminal(status) ? job.finishedOn || undefined : undefined,
      // Every start counts, a resume after a crash or a close too (attemptsMade counts only ends).
      attempts: job.attemptsStarted,
      history: history ?? (status === 'completed' ? job.returnvalue?.history : undefined) ?? stored?.history ?? [],
      progress: status === 'running' ? progress ?? stored?.progress : undefined,
      error: status === 'failed' ? job.failedReason : undefined,
      result: status === 'completed' ? job.returnvalue?.result : undefined,
    };
  }

  /**
   * Errors of the Redis clients are reported, never thrown (an unhandled 'error' event ends the process): ioredis
   * reconnects by itself. While Redis stays unreachable only the first connection error is reported.
   */
  private readonly onError = (error: Error): void => {
    if (isConnectionError(error)) {
      if (this.unreachable) return;
      this.unreachable = true;
    }
    process.emitWarning(`normnet: Redis ${this.options.redis} (queue ${this.options.queueName}): ${error.message}`);
  };
}

/** `<prefix>:<queue>:cancel:<id>`, beside the queue's own keys. */
const cancelKey = (queue: Queue, id: string) => `${queue.toKey('cancel')}:${id}`;

/** As BullMQ tells them apart (isNotConnectionError, which needs BullMQ loaded): Redis refused or closed the connection. */
const isConnectionError = (error: Error & { code?: string }) => error.code === 'ECONNREFUSED' || /ECONNREFUSED|Connection is closed/.test(error.message);
