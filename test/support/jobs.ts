/** What the job tests share: waiting for a condition, recording a Job's events, and child processes that never outlive the tests. */
import type { ChildProcess } from 'node:child_process';
import type { Job, JobProgress } from '../../dist/index.js';

const children = new Set<ChildProcess>();
// A test that times out is abandoned without running its finally blocks: its children die with the test process.
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/** `child`, killed (SIGKILL) when the test process exits if it still runs then. */
export function track<T extends ChildProcess>(child: T): T {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

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
