/** Training jobs: the JobQueue (embedded or BullMQ), its Job handles and records. */
export { JobQueue, type JobQueueOptions, type SubmitOptions } from './queue.js';
export { Job, JobError, type JobResult } from './job.js';
export { JOB_STATUSES, type JobStatus, type JobRecord } from './store.js';
export type { JobProgress } from './job-thread.js';
