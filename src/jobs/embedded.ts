/**
 * The embedded queue: jobs kept in a directory (store.ts), run by the one JobQueue that holds the directory's
 * lock (lock.ts), each in a worker thread of its own (job-thread.ts), `concurrency` at a time, in priority
 * order. Every queue on the directory polls it (`pollMs`): the running one for new jobs and cancel requests,
 * the others for the records of the jobs they follow, and for the lock, which they take over when its holder
 * died, resuming its running jobs from their checkpoints. A queue started on a directory after a crash or a
 * `kill -9` of the process that ran it resumes what was queued or running.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { EpochRecord } from '../train/trainer.js';
import type { Engine, EngineEvents } from './engine.js';
import { startJobThread, type JobProgress, type JobThread } from './job-thread.js';
import { DirLock } from './lock.js';
import { cancelRequested, isTerminal, jobIds, readRecord, requestCancel, startOrder, writeRecord, type JobRecord } from './store.js';

export interface EmbeddedOptions {
  dir: string;
  concurrency: number;
  /** Native threads per job. */
  threads: number;
  /** Run jobs in this process (else only submit, read and cancel). */
  work: boolean;
  pollMs: number;
  checkpointSeconds?: number;
}

interface Running {
  record: JobRecord;
  thread: JobThread;
  /** Why it is being stopped: a cancel ends it, a close puts it back in the queue. */
  stopping?: 'cancel' | 'close';
  lastWrite: number;
}

/** Records with progress are rewritten at most this often (progress events come from the thread, not the file). */
const PROGRESS_WRITE_MS = 1000;

export class EmbeddedEngine implements Engine {
  private readonly dir: string;
  private readonly lock: DirLock;
  private readonly running = new Map<string, Running>();
  private readonly watched = new Set<string>();
  /** Records this queue has seen in a final state: never read again. */
  private readonly settled = new Set<string>();
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly options: EmbeddedOptions, private readonly events: EngineEvents) {
    this.dir = resolve(options.dir);
    mkdirSync(this.dir, { recursive: true });
    this.lock = new DirLock(this.dir);
    // Unreferenced: an idle queue does not keep the process alive; running jobs' threads do.
    this.timer = setInterval(() => this.tick(), options.pollMs).unref();
    setImmediate(() => this.tick());
  }

  runDir(id: string): string {
    return join(this.dir, id);
  }

  async submit(record: JobRecord): Promise<void> {
    writeRecord(this.dir, record);
    // Started on the next turn, so the submitter can attach listeners to the job before it runs.
    setImmediate(() => this.tick());
  }

  async read(id: string): Promise<JobRecord | undefined> {
    return this.view(id);
  }

  async readAll(): Promise<JobRecord[]> {
    return jobIds(this.dir).map((id) => this.view(id)).filter((r): r is JobRecord => r !== undefined);
  }

  watch(id: string): void {
    this.watched.add(id);
  }

  async cancel(id: string): Promise<void> {
    const record = this.view(id);
    if (!record || isTerminal(record.status)) return;
    requestCancel(this.dir, id);
    this.tick();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    for (const job of this.running.values()) {
      job.stopping ??= 'close';
      job.thread.stop();
    }
    await Promise.all([...this.running.values()].map((job) => job.thread.done));
    this.lock.release();
  }

  /**
   * A job's record as any queue should see it: a queued job with a cancel request counts as cancelled even
   * before the running queue records it (or when none runs).
   */
  private view(id: string): JobRecord | undefined {
    const live = this.running.get(id);
    if (live) return live.record;
    const record = readRecord(this.dir, id);
    if (record?.status === 'queued' && cancelRequested(this.dir, id)) return { ...record, status: 'cancelled' };
    return record;
  }

  private tick(): void {
    if (this.closed) return;
    if (this.options.work && this.lock.tryAcquire()) this.schedule();
    for (const id of this.watched) {
      if (this.running.has(id) || this.settled.has(id)) continue;
      const record = this.view(id);
      if (!record) continue;
      if (isTerminal(record.status)) this.settled.add(id);
      this.events.record(record);
    }
  }

  /** As the lock's holder: acts on cancel requests and starts queued jobs while there is room. */
  private schedule(): void {
    for (const [id, job] of this.running) {
      if (!job.stopping && cancelRequested(this.dir, id)) {
        job.stopping = 'cancel';
        job.thread.stop();
      }
    }
    const waiting: JobRecord[] = [];
    for (const id of jobIds(this.dir)) {
      if (this.running.has(id) || this.settled.has(id)) continue;
      const record = readRecord(this.dir, id);
      if (!record) continue;
      if (isTerminal(record.status)) {
        this.settled.add(id);
        continue;
      }
      // 'running' without a thread here: its queue died; it resumes from its checkpoint like a queued job.
      if (cancelRequested(this.dir, id)) this.finish({ ...record, status: 'cancelled', finishedAt: Date.now() });
      else waiting.push(record);
    }
    waiting.sort(startOrder);
    for (const record of waiting.slice(0, Math.max(0, this.options.concurrency - this.running.size))) this.start(record);
  }

  private start(queued: JobRecord): void {
    const record: JobRecord = { ...queued, status: 'running', startedAt: Date.now(), attempts: queued.attempts + 1 };
    writeRecord(this.dir, record);
    this.events.record(record);
    const job: Running = {
      record, lastWrite: performance.now(),
      thread: startJobThread({
        config: record.config, experiment: record.experiment, dir: this.runDir(record.id), threads: this.options.threads,
        checkpointSeconds: this.options.checkpointSeconds, progressMs: 200,
      }, {
        resumed: (history) => {
          job.record = { ...job.record, history };
          this.write(job);
        },
        progress: (progress) => this.onProgress(job, progress),
        epoch: (epoch) => this.onEpoch(job, epoch),
      }),
    };
    this.running.set(record.id, job);
    void job.thread.done.then((outcome) => {
      this.running.delete(record.id);
      const base = { ...job.record, progress: undefined, finishedAt: Date.now() };
      if (outcome.type === 'completed') this.finish({ ...base, status: 'completed', history: outcome.history, result: outcome.result });
      else if (outcome.type === 'failed') this.finish({ ...base, status: 'failed', error: outcome.error });
      else if (job.stopping === 'cancel') this.finish({ ...base, status: 'cancelled' });
      else this.finish({ ...job.record, status: 'queued' });
      this.tick();
    });
  }

  private onProgress(job: Running, progress: JobProgress): void {
    job.record = { ...job.record, progress };
    this.events.progress(job.record.id, progress);
    if (performance.now() - job.lastWrite >= PROGRESS_WRITE_MS) this.write(job);
  }

  private onEpoch(job: Running, epoch: EpochRecord): void {
    job.record = { ...job.record, history: [...job.record.history, epoch] };
    this.write(job);
    this.events.record(job.record);
  }

  private write(job: Running): void {
    writeRecord(this.dir, job.record);
    job.lastWrite = performance.now();
  }

  private finish(record: JobRecord): void {
    writeRecord(this.dir, record);
    if (isTerminal(record.status)) this.settled.add(record.id);
    this.events.record(record);
  }
}
