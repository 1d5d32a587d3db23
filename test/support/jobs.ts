/** What the job tests share: waiting for a condition, and recording a Job's events. */
import type { Job, JobProgress } from '../../dist/index.js';

/** Resolves once `predicate` holds, polling every 20 ms; rejects after `ms`. */
export async function until(predicate: () => boolean, ms = 60_000, what = 'a condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The statuses, progress events and epoch numbers a job emits from now on. */
export function recordEvents(job: Job): { statuses: string[]; progress: JobProgress[]; epochs: number[] } {
  const seen = { statuses: [] as string[], progress: [] as JobProgress[], epochs: [] as number[] };
  job.on('status', (s) => seen.statuses.push(s));
  job.on('progress', (p) => seen.progress.push(p));
  job.on('epoch', (r) => seen.epochs.push(r.epoch));
  return seen;
}
