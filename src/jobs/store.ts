/**
 * The embedded queue's state on disk: one directory per job under the queue's `dir`, which is also the job's
 * run directory (metrics.jsonl, checkpoint/, report.html), holding `job.json`, the job's record, replaced
 * atomically (temporary file, fsync, rename) at every change, so a crash leaves the old record or the new one.
 * A `cancel` file beside it is a cancel request from any process; the queue that runs jobs acts on it.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/safetensors.js';
import type { RunConfig } from '../train/config.js';
import type { EpochRecord } from '../train/trainer.js';
import type { JobProgress } from './job-thread.js';

export const JOB_STATUSES = ['queued', 'running', 'completed', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export interface JobRecord {
  id: string;
  name?: string;
  /** As BullMQ's: 0 (the default) first, then 1, 2, ... (lower runs sooner); ties in submission order. */
  priority: number;
  /** The run config it trains (an experiment job: the experiment's defaults, for display only). */
  config: RunConfig;
  /** Set for one configuration of an experiment (what `normnet experiment --redis` queues) instead of a train run. */
  experiment?: ExperimentTask;
  /** An experiment job's result. */
  result?: unknown;
  status: JobStatus;
  /** ms since the epoch. */
  submittedAt: number;
  startedAt?: number;
  finishedAt?: number;
  /** How many times a queue started it (more than 1 after a restart or crash: it resumed from its checkpoint). */
  attempts: number;
  /** Epochs finished, and their records. */
  history: EpochRecord[];
  progress?: JobProgress;
  error?: string;
}

/** One configuration of a registered experiment: `EXPERIMENTS[name].run(job)`, run in the job's thread. */
export interface ExperimentTask {
  name: string;
  job: unknown;
}

export const isTerminal = (status: JobStatus) => status === 'completed' || status === 'failed' || status === 'cancelled';

const recordPath = (dir: string, id: string) => join(dir, id, 'job.json');

export function writeRecord(dir: string, record: JobRecord): void {
  mkdirSync(join(dir, record.id), { recursive: true });
  writeFileAtomic(recordPath(dir, record.id), `${JSON.stringify(record)}\n`);
}

/** The record of job `id`, or undefined when there is none (or it cannot be read: a foreign directory). */
export function readRecord(dir: string, id: string): JobRecord | undefined {
  try {
    const record = JSON.parse(readFileSync(recordPath(dir, id), 'utf8')) as JobRecord;
    return record.id === id && (JOB_STATUSES as readonly string[]).includes(record.status) ? record : undefined;
  } catch {
    return undefined;
  }
}

/** The ids of the jobs under `dir` (directories holding a job.json). */
export function jobIds(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.filter((e) => e.isDirectory() && existsSync(recordPath(dir, e.name))).map((e) => e.name);
}

export function requestCancel(dir: string, id: string): void {
  writeFileSync(join(dir, id, 'cancel'), '');
}

export function cancelRequested(dir: string, id: string): boolean {
  return existsSync(join(dir, id, 'cancel'));
}

/** The order jobs start in: priority (lower first), then submission time, then id. */
export function startOrder(a: JobRecord, b: JobRecord): number {
  return a.priority - b.priority || a.submittedAt - b.submittedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** A new job id: sortable by time, unique across processes (`20261207-142501-3f9a1c`). */
export function newJobId(): string {
  const time = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${time}-${Math.floor(Math.random() * 0x1000000).toString(16).padStart(6, '0')}`;
}
