/** What a JobQueue needs of the store that keeps and runs its jobs: the embedded one (a directory) or BullMQ. */
import type { JobProgress } from './job-thread.js';
import type { JobRecord } from './store.js';

export interface EngineEvents {
  /** A newer record of a job (status, epochs, progress). */
  record(record: JobRecord): void;
  /** A batch's progress of a job this process follows, between records. */
  progress(id: string, progress: JobProgress): void;
}

export interface Engine {
  submit(record: JobRecord): Promise<void>;
  read(id: string): Promise<JobRecord | undefined>;
  readAll(): Promise<JobRecord[]>;
  cancel(id: string): Promise<void>;
  /** Jobs whose records the queue wants to hear of (its handles); an engine that polls reads these. */
  watch(id: string): void;
  /** Running jobs stop at a batch boundary with a checkpoint and go back to the queue; nothing new starts. */
  close(): Promise<void>;
  /** Where job `id`'s run directory is. */
  runDir(id: string): string;
}
