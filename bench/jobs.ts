/**
 * `npm run bench:jobs`: what running training as a job costs and buys. The CNN preset trains in a host process
 *   (a) with fit() (executeRun) on the host's own thread, and
 *   (b) as a job of an embedded JobQueue (its worker thread),
 * while the host measures its event loop's delay (perf_hooks.monitorEventLoopDelay, 1 ms resolution: p50,
 * p99, max), as an HTTP server in that process would feel it. Beside them `normnet train` trains the same
 * config, for the job's throughput against a plain run (samples/s of the training epochs, test evaluation
 * excluded; target ≥ 0.95×), and each job reports the time from submit() to its first batch.
 *
 * Each configuration is a process of its own (this file as `--child MODE`), run in rounds with the order
 * reversed every other round; each figure is the median over the rounds, the throughput ratio the median of
 * the rounds' ratios. Environment: BENCH_JOBS_ROUNDS (3), BENCH_JOBS_TRAIN_LIMIT (12800 images of
 * Fashion-MNIST, or MNIST where Debian's dataset-fashion-mnist is missing), BENCH_JOBS_EPOCHS (1).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { executeRun, JobQueue, resolveConfig, type EpochRecord } from '../dist/index.js';
import { median } from '../dist/bench/stats.js';
import { describeMachine, machineLine } from './support/machine.js';

type Mode = 'fit' | 'job' | 'train';

interface Sample {
  samplesPerSecond: number;
  /** Event-loop delay of the host, ms (fit and job). */
  p50?: number;
  p99?: number;
  max?: number;
  /** submit() to the first batch's progress event, ms (job). */
  firstBatchMs?: number;
}

const rounds = Number(process.env.BENCH_JOBS_ROUNDS ?? 3);
const fashion = existsSync('/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz');
const config = {
  model: 'cnn', dataset: fashion ? 'fashion-mnist' : 'mnist', trainLimit: Number(process.env.BENCH_JOBS_TRAIN_LIMIT ?? 12800),
  epochs: Number(process.env.BENCH_JOBS_EPOCHS ?? 1), batchSize: 256, optimizer: 'sgd', lr: 0.2, schedule: 'constant', backend: 'native',
};
const cli = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));

/** Training samples per second over the run's epochs (their own timing: no test evaluation, no start-up). */
const throughput = (epochs: readonly EpochRecord[]) => epochs.reduce((s, r) => s + r.samplesPerSecond * r.seconds, 0) / epochs.reduce((s, r) => s + r.seconds, 0);

async function child(mode: Mode, dir: string): Promise<Sample> {
  const delay = monitorEventLoopDelay({ resolution: 1 });
  const ms = (ns: number) => ns / 1e6;
  const loop = () => ({ p50: ms(delay.percentile(50)), p99: ms(delay.percentile(99)), max: ms(delay.max) });
  if (mode === 'fit') {
    delay.enable();
    const { history } = await executeRun(resolveConfig(config, 'bench'), dir);
    delay.disable();
    return { samplesPerSecond: throughput(history.epochs), ...loop() };
  }
  const queue = new JobQueue({ dir });
  try {
    delay.enable();
    const submitted = performance.now();
    const job = await queue.submit(config);
    let firstBatchMs = 0;
    job.once('progress', () => (firstBatchMs = performance.now() - submitted));
    const result = await job.finished();
    delay.disable();
    return { samplesPerSecond: throughput(result.history), firstBatchMs, ...loop() };
  } finally {
    await queue.close();
  }
}

function runChild(mode: Mode, work: string, round: number): Sample {
  const dir = join(work, `${mode}-${round}`);
  if (mode === 'train') {
    const file = join(work, 'config.json');
    writeFileSync(file, JSON.stringify(config));
    const run = spawnSync(process.execPath, [cli, 'train', '--config', file, '--out', dir, '--json'], { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`normnet train failed: ${run.stderr}`);
    return { samplesPerSecond: throughput(run.stdout.trim().split('\n').map((l) => JSON.parse(l) as EpochRecord)) };
  }
  const run = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', mode, dir], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`${mode} child failed: ${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').at(-1)!) as Sample;
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') {
    console.log(JSON.stringify(await child(process.argv[3] as Mode, process.argv[4])));
    return;
  }
  const machine = describeMachine();
  console.log(`bench:jobs — ${machineLine(machine)}`);
  console.log(`CNN preset on ${config.dataset} (first ${config.trainLimit} images), ${config.epochs} epoch(s), batch 256, native; ${rounds} rounds\n`);
  const work = mkdtempSync(join(tmpdir(), 'normnet-bench-jobs-'));
  const samples: Record<Mode, Sample[]> = { fit: [], job: [], train: [] };
  try {
    const modes: Mode[] = ['train', 'fit', 'job'];
    for (let round = 0; round < rounds; round++) {
      for (const mode of round % 2 === 0 ? modes : [...modes].reverse()) {
        const sample = runChild(mode, work, round);
        samples[mode].push(sample);
        console.log(`round ${round + 1} ${mode.padEnd(5)} ${JSON.stringify(sample, (_, v) => (typeof v === 'number' ? Number(v.toFixed(2)) : v))}`);
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const med = (mode: Mode, key: keyof Sample) => median(samples[mode].map((s) => s[key] as number));
  const ratio = median(samples.job.map((s, i) => s.samplesPerSecond / samples.train[i].samplesPerSecond));
  console.log(`
| host process | event-loop delay p50 | p99 | max | samples/s | vs normnet train | submit → first batch |
|---|---:|---:|---:|---:|---:|---:|
| fit() on the host's thread | ${med('fit', 'p50').toFixed(1)} ms | ${med('fit', 'p99').toFixed(1)} ms | ${med('fit', 'max').toFixed(1)} ms | ${Math.round(med('fit', 'samplesPerSecond'))} | — | — |
| JobQueue job (worker thread) | ${med('job', 'p50').toFixed(1)} ms | ${med('job', 'p99').toFixed(1)} ms | ${med('job', 'max').toFixed(1)} ms | ${Math.round(med('job', 'samplesPerSecond'))} | ${ratio.toFixed(3)}× ${ratio >= 0.95 ? '✓' : '✗'} (target ≥ 0.95×) | ${Math.round(med('job', 'firstBatchMs'))} ms |
| normnet train | — | — | — | ${Math.round(med('train', 'samplesPerSecond'))} | 1 | — |`);
}

await main();
