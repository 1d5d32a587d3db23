/**
 * Memory flat over epochs: the peak RSS of `normnet train` (the default MLP, 6000 images, one thread, a checkpoint
 * each epoch) after 30 epochs is within 5% of its peak after 3. A checkpoint once left ~10 MB of copies and
 * strings behind each epoch (the model's state dict, the optimizer state as base64 inside trainer.json), and
 * V8's heap grew with them: 146 MiB at 3 epochs, 191 at 30, 253 at 120.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { nativeAvailable } from '../dist/index.js';

const cli = new URL('../dist/cli/main.js', import.meta.url).pathname;
const preload = new URL('./support/report-rss.cjs', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'normnet-rss-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const backend = nativeAvailable() || process.env.REQUIRE_NATIVE === '1' ? 'native' : 'ts';

/** Peak RSS in MiB of a `normnet train` of `epochs` epochs. */
function peakRss(epochs: number): number {
  const args = ['-r', preload, cli, 'train', '--train-limit', '6000', '--epochs', String(epochs), '--threads', '1', '--backend', backend, '--out', join(work, `e${epochs}`)];
  const run = spawnSync(process.execPath, args, { encoding: 'utf8' });
  expect(run.status, run.stderr).toBe(0);
  const kib = Number(/normnet-test maxRSS (\d+)/.exec(run.stderr)?.[1]);
  expect(kib).toBeGreaterThan(0);
  return kib / 1024;
}

it.skipIf(backend === 'ts')('keeps the peak RSS of 30 epochs within 5% of 3 epochs\' (a checkpoint each epoch)', () => {
  const three = peakRss(3);
  const thirty = peakRss(30);
  console.log(`peak RSS of normnet train --train-limit 6000: ${three.toFixed(1)} MiB after 3 epochs, ${thirty.toFixed(1)} MiB after 30`);
  expect(thirty / three).toBeLessThanOrEqual(1.05);
}, 120_000);
