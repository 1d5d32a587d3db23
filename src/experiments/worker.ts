/** An experiment worker thread (see runner.ts): runs the jobs it is sent, one at a time, and posts back each result. */
import { parentPort, workerData } from 'node:worker_threads';
import { EXPERIMENTS } from './registry.js';

const experiment = EXPERIMENTS[(workerData as { experiment: string }).experiment];
parentPort!.on('message', ({ index, job }: { index: number; job: unknown }) => {
  experiment.run(job).then(
    (result) => parentPort!.postMessage({ index, result }),
    (error: unknown) => parentPort!.postMessage({ index, error: error instanceof Error ? error.message : String(error) }),
  );
});
