/**
 * Runs an experiment's jobs: in this thread one after another (`workers` 1), over `workers` worker threads,
 * each of which loads normnet (and so the backend) itself and takes the next job when it is free, or as jobs
 * of a JobQueue (`queue`: with Redis, on the workers of every machine). Results come back in job order
 * whatever finished first. The first failing job stops the others and its error is thrown.
 */
import { Worker } from 'node:worker_threads';
import type { JobQueue } from '../jobs/queue.js';
import { EXPERIMENTS } from './registry.js';

export interface JobsOptions {
  workers: number;
  /** Run the jobs on this queue's workers instead (`workers` is then not used). */
  queue?: JobQueue;
  /** Called as each job finishes, in finishing order. */
  onDone?: (index: number, result: unknown) => void;
}

export async function runJobs(experiment: string, jobs: readonly unknown[], options: JobsOptions): Promise<unknown[]> {
  if (options.queue) return runOnQueue(options.queue, experiment, jobs, options.onDone);
  const workers = Math.min(options.workers, jobs.length);
  const results: unknown[] = new Array(jobs.length);
  if (workers <= 1) {
    for (let i = 0; i < jobs.length; i++) {
      results[i] = await EXPERIMENTS[experiment].run(jobs[i]);
      options.onDone?.(i, results[i]);
    }
    return results;
  }
  const pool: Worker[] = [];
  try {
    let next = 0;
    await new Promise<void>((resolve, reject) => {
      let finished = 0;
      const feed = (worker: Worker) => {
        if (next < jobs.length) {
          worker.postMessage({ index: next, job: jobs[next] });
          next++;
        }
      };
      for (let w = 0; w < workers; w++) {
        const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: { experiment } });
        pool.push(worker);
        worker.on('message', (message: { index: number; result?: unknown; error?: string }) => {
          if (message.error !== undefined) {
            reject(new Error(message.error));
            return;
          }
          results[message.index] = message.result;
          options.onDone?.(message.index, message.result);
          if (++finished === jobs.length) resolve();
          else feed(worker);
        });
        worker.on('error', reject);
        worker.on('exit', (code) => {
          if (finished < jobs.length) reject(new Error(`an experiment worker exited with code ${code} before the jobs were done`));
        });
        feed(worker);
      }
    });
  } finally {
    await Promise.all(pool.map((worker) => worker.terminate()));
  }
  return results;
}

async function runOnQueue(queue: JobQueue, experiment: string, jobs: readonly unknown[], onDone: JobsOptions['onDone']): Promise<unknown[]> {
  const queued = [];
  for (const [index, job] of jobs.entries()) queued.push(await queue.submitExperimentJob(experiment, job, { name: `${experiment} ${index + 1}/${jobs.length}` }));
  try {
    return await Promise.all(queued.map(async (job, index) => {
      const { result } = await job.finished();
      onDone?.(index, result);
      return result;
    }));
  } catch (error) {
    await Promise.all(queued.map((job) => job.cancel()));
    throw error;
  }
}
