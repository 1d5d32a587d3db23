/**
 * `kill -9` at 20 moments of a training run, drawn from a seed, each followed by `normnet train --resume` (or a
 * fresh start while no checkpoint exists yet): the run still ends byte-identical to an uninterrupted one. The
 * kills land anywhere — loading data, mid-epoch, inside a checkpoint's renames — which is what the atomic
 * checkpoint (checkpoint.tmp, then checkpoint.old, then the swap) and the resume that rewrites metrics.jsonl
 * must survive.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { nativeAvailable, Random } from '../dist/index.js';
import { track } from './support/jobs.js';

const cli = new URL('../dist/cli/main.js', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'normnet-kill-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const backend = nativeAvailable() || process.env.REQUIRE_NATIVE === '1' ? 'native' : 'ts';
// Sixty short epochs (~0.1 s each native, test evaluation included) after ~0.35 s of start-up: kills up to 0.9 s in
// land in every phase of a run (loading, mid-epoch, a checkpoint's writes and renames), and twenty do not finish it.
const EPOCHS = 60;
const ARGS = ['--train-limit', '8000', '--hidden', '128', '--batch-size', '50', '--epochs', String(EPOCHS), '--schedule', 'constant', '--backend', backend, '--json'];
const KILLS = 20;

const weights = (dir: string) => readFileSync(join(dir, 'checkpoint', 'model.safetensors'));
const hasCheckpoint = (dir: string) => ['checkpoint', 'checkpoint.old'].some((d) => existsSync(join(dir, d, 'trainer.json')));

it(`ends byte-identical to an uninterrupted run after kill -9 at ${KILLS} seeded moments, each resumed`, async () => {
  const reference = join(work, 'reference');
  // How long start-up takes on this machine now (to the first checkpoint): the kill moments before a checkpoint
  // exists span it and more, so on a loaded machine too they land in every phase, and most attempts resume.
  const started = performance.now();
  const whole = track(spawn(process.execPath, [cli, 'train', ...ARGS, '--out', reference], { stdio: 'ignore' }));
  const wholeExit = new Promise<number | null>((resolve) => whole.once('exit', (code) => resolve(code)));
  let firstCheckpointMs = 0;
  while (!hasCheckpoint(reference) && (await Promise.race([wholeExit, new Promise((r) => setTimeout(() => r('poll'), 5))])) === 'poll');
  firstCheckpointMs = performance.now() - started;
  expect(await wholeExit).toBe(0);

  const dir = join(work, 'killed');
  const random = new Random(2026);
  const args = () => (hasCheckpoint(dir) ? ['train', '--resume', dir, '--json'] : ['train', ...ARGS, '--out', dir]);
  let resumed = 0;
  for (let kill = 0; kill < KILLS; kill++) {
    if (hasCheckpoint(dir)) resumed++;
    const child = track(spawn(process.execPath, [cli, ...args()], { stdio: 'ignore' }));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    // Before the first checkpoint, up to 550 ms past its moment in the reference run (so a loaded machine gets
    // there too); after it, up to 900 ms from the start, as resumed runs start faster than the moment measured
    // under load would allow for: ~0.2 s of training an attempt, so twenty attempts do not finish the epochs.
    const window = hasCheckpoint(dir) ? 900 : Math.round(Math.max(firstCheckpointMs, 350)) + 550;
    const delay = random.below(window);
    const timer = setTimeout(() => child.kill('SIGKILL'), delay);
    const code = await exited;
    clearTimeout(timer);
    // Killed, not finished: a run that ends before its kill moment would leave the remaining kills untested.
    expect(code, `attempt ${kill + 1} at ${delay} ms finished the run`).toBe(null);
  }
  console.log(`kill -9 resume: first checkpoint after ${firstCheckpointMs.toFixed(0)} ms; ${resumed} of ${KILLS} attempts resumed a checkpoint`);
  expect(resumed).toBeGreaterThan(0);
  const last = spawnSync(process.execPath, [cli, ...args()], { encoding: 'utf8' });
  expect(last.status, last.stderr).toBe(0);
  expect(weights(dir).equals(weights(reference))).toBe(true);
  const epochs = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).epoch);
  expect(epochs).toEqual(Array.from({ length: EPOCHS }, (_, i) => i + 1));
}, 180_000);
