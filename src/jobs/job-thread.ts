/**
 * Starts a job's training in a worker thread (thread.ts) and follows it: the host's event loop only receives
 * a few messages a second, whatever the job computes. Both queues (embedded and BullMQ) run jobs through it.
 */
import { Worker } from 'node:worker_threads';
import type { RunConfig } from '../train/config.js';
import type { EpochRecord } from '../train/trainer.js';
import type { ExperimentTask } from './store.js';

/** A batch's progress, as a job reports it. */
export interface JobProgress {
  epoch: number;
  epochs: number;
  batch: number;
  batches: number;
  loss: number;
  samplesPerSecond: number;
  /** Seconds left in this epoch at the current speed. */
  eta: number;
}

export interface JobThreadData {
  config: RunConfig;
  /** Runs this experiment configuration instead of training `config`. */
  experiment?: ExperimentTask;
  /** The run directory: metrics.jsonl, checkpoint/, report.html. */
  dir: string;
  /** The native pool's size, unless the config sets `threads`. */
  threads: number;
  /** Checkpoint mid-epoch after this many seconds (a crash loses at most that much work). */
  checkpointSeconds?: number;
  /** At most one progress message per this many ms (and one at each epoch's last batch). */
  progressMs: number;
}

export type JobThreadMessage =
  | { type: 'resumed'; history: EpochRecord[] }
  | { type: 'progress'; progress: JobProgress }
  | { type: 'epoch'; record: EpochRecord }
  | { type: 'completed'; history: EpochRecord[]; result?: unknown }
  | { type: 'stopped' }
  | { type: 'failed'; error: string };

export type JobOutcome =
  | { type: 'completed'; history: EpochRecord[]; result?: unknown }
  | { type: 'stopped' }
  | { type: 'failed'; error: string };

export interface JobThread {
  /** Ends training at the next batch boundary with a checkpoint; `done` then resolves with `stopped`. */
  stop(): void;
  /** Settles once the thread has exited; never rejects. */
  readonly done: Promise<JobOutcome>;
}

export interface JobThreadHandlers {
  /** The run continues from a checkpoint that holds these epochs. */
  resumed(history: EpochRecord[]): void;
  progress(progress: JobProgress): void;
  epoch(record: EpochRecord): void;
}

export function startJobThread(data: JobThreadData, handlers: JobThreadHandlers): JobThread {
  // The host's flags pass on to the thread, except --input-type (a host run with `node -e` would fail it).
  const execArgv = process.execArgv.filter((arg) => !arg.startsWith('--input-type'));
  const worker = new Worker(new URL('./thread.js', import.meta.url), { workerData: data, execArgv });
  let outcome: JobOutcome | undefined;
  const done = new Promise<JobOutcome>((resolve) => {
    worker.on('message', (message: JobThreadMessage) => {
      if (message.type === 'resumed') handlers.resumed(message.history);
      else if (message.type === 'progress') handlers.progress(message.progress);
      else if (message.type === 'epoch') handlers.epoch(message.record);
      else outcome = message;
    });
    worker.on('error', (error) => {
      outcome ??= { type: 'failed', error: `${error.name}: ${error.message}` };
    });
    worker.on('exit', (code) => resolve(outcome ?? { type: 'failed', error: `the job's worker thread exited with code ${code} before it finished` }));
  });
  return { stop: () => worker.postMessage({ type: 'stop' }), done };
}
