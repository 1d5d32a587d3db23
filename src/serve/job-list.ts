/**
 * The queue's jobs as the API lists them. `queue.list()` reads every job's record (files of the embedded
 * queue's directory, or Redis), which a dashboard polling it, or a monitor, would make the server do over and
 * over; its answer is kept for `ttlMs` instead, the embedded queue's own polling period, so it is never staler
 * than what the queue itself knows of jobs run elsewhere. The Job handles in it are live (their status and
 * progress follow the queue's events), and a submission here starts a fresh list at once.
 */
import type { Job } from '../jobs/job.js';
import type { JobQueue } from '../jobs/queue.js';
import type { JobStatus } from '../jobs/store.js';

export class JobList {
  private cache?: { at: number; jobs: Promise<Job[]> };

  constructor(private readonly queue: JobQueue, private readonly ttlMs = 250) {}

  /** Every job, oldest first; `status` keeps those in that state now. */
  async list(status?: JobStatus): Promise<Job[]> {
    const now = performance.now();
    if (!this.cache || now - this.cache.at >= this.ttlMs) {
      // One read shared by the requests that arrive while it runs.
      const jobs = this.queue.list();
      this.cache = { at: now, jobs };
      jobs.catch(() => {
        if (this.cache?.jobs === jobs) this.cache = undefined;
      });
    }
    const jobs = await this.cache.jobs;
    return status === undefined ? jobs : jobs.filter((job) => job.status === status);
  }

  /** The queue changed here (a job submitted): the next list reads it afresh. */
  changed(): void {
    this.cache = undefined;
  }
}
