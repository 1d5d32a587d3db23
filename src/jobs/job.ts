/**
 * A Job: a handle on one queued training run, the same for the embedded and the BullMQ queue. Its fields are
 * the queue's record as last seen; it emits
 *   'progress' (JobProgress: epoch, batch, batches, loss, samples/s, ETA), 'epoch' (EpochRecord),
 *   'status' (the new status), and at the end 'completed' (JobResult), 'failed' (message) or 'cancelled'.
 * `finished()` resolves with the result, or rejects with a JobError when the job failed or was cancelled.
 */
import { EventEmitter } from 'node:events';
import type { RunConfig } from '../train/config.js';
import type { EpochRecord } from '../train/trainer.js';
import type { JobProgress } from './job-thread.js';
import { show } from '../util/show.js';
import { isTerminal, JOB_STATUSES, type ExperimentTask, type JobRecord, type JobStatus } from './store.js';

export interface JobResult {
  id: string;
  history: EpochRecord[];
  /** The last epoch's test accuracy. */
  testAccuracy?: number;
  /** The run directory: metrics.jsonl, checkpoint/, report.html. */
  dir: string;
  /** An experiment job's result. */
  result?: unknown;
}

export class JobError extends Error {
  override name = 'JobError';
  constructor(message: string, readonly id: string, readonly status: JobStatus) {
    super(message);
  }
}

export interface JobControl {
  cancel(id: string): Promise<void>;
}

export class Job extends EventEmitter {
  readonly id: string;
  readonly name?: string;
  readonly priority: number;
  readonly config: RunConfig;
  readonly experiment?: ExperimentTask;
  readonly submittedAt: number;
  result?: unknown;
  status: JobStatus;
  history: EpochRecord[] = [];
  progress?: JobProgress;
  startedAt?: number;
  finishedAt?: number;
  attempts = 0;
  error?: string;

  constructor(record: JobRecord, readonly dir: string, private readonly control: JobControl) {
    super();
    if (typeof record !== 'object' || record === null || typeof record.id !== 'string' || !Array.isArray(record.history) || !JOB_STATUSES.includes(record.status)) {
      throw new TypeError(`Job: record must be a job record { id, status, history, ... } (from a queue), got ${show(record)}`);
    }
    if (typeof dir !== 'string') throw new TypeError(`Job: dir must be a string, got ${show(dir)}`);
    if (typeof control?.cancel !== 'function') throw new TypeError(`Job: control must be { cancel(id) } (the queue), got ${show(control)}`);
    this.id = record.id;
    this.name = record.name;
    this.priority = record.priority;
    this.config = record.config;
    this.experiment = record.experiment;
    this.submittedAt = record.submittedAt;
    this.status = record.status;
    this.update(record);
  }

  /** Takes a newer view of the job's record, emitting what changed since the last one. */
  update(record: JobRecord): void {
    for (const epoch of record.history.slice(this.history.length)) {
      this.history.push(epoch);
      this.emit('epoch', epoch);
    }
    if (record.progress && !sameProgress(record.progress, this.progress)) this.setProgress(record.progress);
    Object.assign(this, { startedAt: record.startedAt, finishedAt: record.finishedAt, attempts: record.attempts, error: record.error, result: record.result });
    if (record.status !== this.status) {
      this.status = record.status;
      this.emit('status', this.status);
      if (this.status === 'completed') this.emit('completed', this.outcome());
      else if (this.status === 'failed') this.emit('failed', this.error ?? 'failed');
      else if (this.status === 'cancelled') this.emit('cancelled');
    }
  }

  /** Progress straight from the training thread, more often than records are written. */
  setProgress(progress: JobProgress): void {
    this.progress = progress;
    this.emit('progress', progress);
  }

  /** Resolves when the job has completed; rejects with a JobError when it failed or was cancelled. */
  finished(): Promise<JobResult> {
    return new Promise((resolve, reject) => {
      const settle = () => {
        if (!isTerminal(this.status)) return false;
        this.off('status', settle);
        if (this.status === 'completed') resolve(this.outcome());
        else reject(new JobError(`job ${this.id} ${this.status}${this.error ? `: ${this.error}` : ''}`, this.id, this.status));
        return true;
      };
      if (!settle()) this.on('status', settle);
    });
  }

  /**
   * Cancels the job: a queued one never starts; a running one stops at its next batch boundary and writes a
   * checkpoint. Resolves once the request is recorded; the status follows ('cancelled', or 'completed' if it
   * finished first).
   */
  cancel(): Promise<void> {
    return this.control.cancel(this.id);
  }

  private outcome(): JobResult {
    return { id: this.id, history: [...this.history], testAccuracy: this.history.at(-1)?.testAccuracy, dir: this.dir, result: this.result };
  }

  toJSON() {
    const { id, name, priority, config, experiment, status, history, progress, submittedAt, startedAt, finishedAt, attempts, error, result, dir } = this;
    return { id, name, priority, config, experiment, status, history, progress, submittedAt, startedAt, finishedAt, attempts, error, result, dir };
  }
}

const sameProgress = (a: JobProgress, b?: JobProgress) => b !== undefined && a.epoch === b.epoch && a.batch === b.batch;
