/**
 * A job's worker thread: trains one run config into its run directory through executeRun (resuming from the
 * checkpoint there when there is one), or runs one configuration of an experiment, and reports to the thread that started it (job-thread.ts) by
 * messages: progress (throttled), each epoch, and the outcome. A `stop` message ends training at the next
 * batch boundary, with a checkpoint. The thread loads normnet and its addon itself and frees them when it exits.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { configure, getBackend } from '../kernels/backend.js';
import { writeRunReport } from '../report/run-report.js';
import { executeRun, existingCheckpoint } from '../train/run.js';
import type { JobThreadData, JobThreadMessage } from './job-thread.js';

const { config, experiment, dir, threads, checkpointSeconds, progressMs } = workerData as JobThreadData;
const post = (message: JobThreadMessage) => parentPort!.postMessage(message);
const controller = new AbortController();
const onMessage = (message: { type: string }) => {
  if (message.type === 'stop') controller.abort();
};
parentPort!.on('message', onMessage);

async function main(): Promise<void> {
  if (getBackend(config.backend).name === 'native') configure({ threads: config.threads ?? threads });
  if (experiment) {
    // The one place jobs reach up to the experiments: a registered job kind, imported only where it runs.
    const { EXPERIMENTS } = await import('../experiments/registry.js');
    const kind = EXPERIMENTS[experiment.name];
    if (!kind) throw new RangeError(`unknown experiment ${JSON.stringify(experiment.name)}`);
    post({ type: 'completed', history: [], result: await kind.run(experiment.job) });
    return;
  }
  const resume = existingCheckpoint(dir);
  if (resume) post({ type: 'resumed', history: resume.trainer.history });
  let lastProgress = 0;
  const { history, run, config: saved } = await executeRun(config, dir, {
    resume, signal: controller.signal, checkpointSeconds,
    onBatch: (info) => {
      const now = performance.now();
      if (now - lastProgress < progressMs && info.batch !== info.batches) return;
      lastProgress = now;
      const eta = (info.seconds / info.batch) * (info.batches - info.batch);
      post({ type: 'progress', progress: { epoch: info.epoch, epochs: config.epochs, batch: info.batch, batches: info.batches, loss: info.loss, samplesPerSecond: info.samplesPerSecond, eta } });
    },
    onEpoch: (record) => post({ type: 'epoch', record }),
  });
  if (history.stopped) {
    post({ type: 'stopped' });
    return;
  }
  await writeRunReport(dir, { config: saved, describe: run.describe, epochs: history.epochs, command: 'normnet job' });
  post({ type: 'completed', history: history.epochs });
}

main()
  .catch((error: unknown) => post({ type: 'failed', error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) }))
  // With no listener the port no longer holds the thread open, so it exits and frees the addon's state.
  .finally(() => parentPort!.off('message', onMessage));
