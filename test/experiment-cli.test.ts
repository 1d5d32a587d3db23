/**
 * `normnet experiment` and `normnet train --plot` as a user runs them (the built CLI in a child process):
 * the files they write, and one clear line for every misuse.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nativeAvailable } from '../src/kernels/backend.js';

const cli = new URL('../dist/cli/main.js', import.meta.url).pathname;
const backend = process.env.REQUIRE_NATIVE === '1' || nativeAvailable() ? 'native' : 'ts';
const work = mkdtempSync(join(tmpdir(), 'normnet-experiment-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function normnet(args: string[]) {
  const run = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 120_000, cwd: work });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('normnet experiment', () => {
  it('runs an experiment over worker threads, printing a line per configuration, and writes its files', () => {
    const out = join(work, 'optimizers');
    const run = normnet(['experiment', 'optimizers', '--steps', '5', '--hidden', '10', '--jobs', '2', '--backend', backend, '--out', out]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout.match(/^\[\d\/6\] (SGD|Momentum|Nesterov|AdaGrad|RMSprop|Adam) \(lr [\d.]+\): final loss \d+\.\d+, test accuracy \d+\.\d+%, [\d.]+ s$/gm)).toHaveLength(6);
    expect(run.stdout).toMatch(/^wrote .*report\.html with optimizers\.svg\/\.png, data\.json and data\.csv \([\d.]+ s\)$/m);
    expect(readdirSync(out).sort()).toEqual(['data.csv', 'data.json', 'optimizers.png', 'optimizers.svg', 'report.html']);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('normnet experiment optimizers --steps 5');
  });

  it('lists the experiments, and each one\'s options with their defaults', () => {
    const list = normnet(['experiment', '--help']);
    expect(list.status).toBe(0);
    for (const name of ['weight-scale', 'activations', 'depth', 'optimizers']) expect(list.stdout).toMatch(new RegExp(`^  ${name} +\\S`, 'm'));
    const one = normnet(['experiment', 'weight-scale', '--help']);
    expect(one.status).toBe(0);
    expect(one.stdout).toMatch(/^  --scales V +how many initial weight stds, log-spaced from 1 to 1e-4 \(default 16\)$/m);
    expect(one.stdout).toMatch(/^  --jobs V +.*\(default 1\)$/m);
  });

  it.each([
    [['experiment'], 'normnet: experiment needs a name: one of weight-scale, activations, depth, optimizers (see normnet --help)'],
    [['experiment', 'frobnicate'], 'normnet: unknown experiment: frobnicate (one of weight-scale, activations, depth, optimizers) (see normnet --help)'],
    [['experiment', 'depth', '--jobs', '0'], 'normnet: --jobs: must be >= 1 and <= 64, got "0" (see normnet --help)'],
    [['experiment', 'depth', '--jobs', 'many'], 'normnet: --jobs: must be a number, got "many" (see normnet --help)'],
    [['experiment', 'depth', '--jobs'], 'normnet: --jobs needs a value (see normnet --help)'],
    [['experiment', 'depth', '--steps', '10'], 'normnet: unknown option: --steps (see normnet --help)'],
    [['experiment', 'activations', '--init', 'he'], 'normnet: --init: must be a number, got "he" (see normnet --help)'],
  ])('misuse %j exits 2 with one line', (args, line) => {
    const run = normnet(args);
    expect(run.status).toBe(2);
    expect(run.stderr).toBe(`${line}\n`);
    expect(run.stdout).toBe('');
  });
});

describe('normnet train --plot', () => {
  it('writes loss and accuracy charts as SVG and PNG, and a report with them', () => {
    const out = join(work, 'train-plot');
    const run = normnet(['train', '--train-limit', '500', '--hidden', '16', '--epochs', '2', '--backend', backend, '--plot', '--out', out]);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^report: .*report\.html$/m);
    for (const file of ['loss.svg', 'loss.png', 'accuracy.svg', 'accuracy.png', 'report.html']) expect(existsSync(join(out, file))).toBe(true);
    const loss = readFileSync(join(out, 'loss.svg'), 'utf8');
    for (const text of ['Loss', 'cross-entropy loss', 'epoch', 'train', 'test']) expect(loss).toContain(`>${text}<`);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html.match(/<img src="data:image\/svg\+xml;base64,/g)).toHaveLength(2);
    expect(html).toContain('<th>test accuracy</th>');
  });

  it('writes the report without charts when --plot is not given', () => {
    const out = join(work, 'train-no-plot');
    const run = normnet(['train', '--train-limit', '300', '--hidden', '8', '--epochs', '1', '--backend', backend, '--out', out]);
    expect(run.status).toBe(0);
    expect(existsSync(join(out, 'report.html'))).toBe(true);
    expect(existsSync(join(out, 'loss.svg'))).toBe(false);
  });
});
