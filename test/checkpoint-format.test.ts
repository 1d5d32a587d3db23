/**
 * The checkpoint's format 2: the optimizer state in optimizer.safetensors (written from the optimizer's own
 * buffers), a small trainer.json, SHA256SUMS over the three; and format 1 (the optimizer state as base64 inside
 * trainer.json, what checkpoints held before) still resumes, bit for bit.
 */
import { readFileSync, rmSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { buildRun, executeRun, readCheckpoint, readSafetensors, resolveConfig, writeCheckpoint } from '../dist/index.js';

const work = mkdtempSync(join(tmpdir(), 'normnet-format-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const config = (epochs: number) => resolveConfig({ trainLimit: 300, hidden: [16], epochs, batchSize: 50, optimizer: 'adam', schedule: 'constant', backend: 'ts' }, 'test');
const weights = (dir: string) => readFileSync(join(dir, 'checkpoint', 'model.safetensors'));

it('keeps the optimizer state in optimizer.safetensors, and trainer.json small', async () => {
  const dir = join(work, 'two');
  await executeRun(config(2), dir);
  const trainer = JSON.parse(readFileSync(join(dir, 'checkpoint', 'trainer.json'), 'utf8'));
  expect(trainer.format).toBe('normnet-checkpoint-2');
  expect(trainer.trainer.optimizer).toBe('optimizer.safetensors');
  const { tensors, metadata } = readSafetensors(join(dir, 'checkpoint', 'optimizer.safetensors'));
  expect(Object.keys(tensors)).toEqual(['expAvg', 'expAvgSq']);
  expect(JSON.parse(metadata['normnet.optimizer'])).toMatchObject({ format: 'normnet.optimizer', type: 'Adam', step: 12 });
  expect(readFileSync(join(dir, 'checkpoint', 'SHA256SUMS'), 'utf8').trim().split('\n').map((l) => l.split('  ')[1])).toEqual(['model.safetensors', 'optimizer.safetensors', 'trainer.json']);
});

it('resumes a format-1 checkpoint (optimizer state as base64 in trainer.json) to the bits of an uninterrupted run', async () => {
  const straight = join(work, 'straight');
  await executeRun(config(3), straight);
  // A format-1 checkpoint after 2 epochs: the same state, the optimizer's stateDict() inline, no SHA256SUMS.
  const dir = join(work, 'old');
  await executeRun(config(2), dir);
  const checkpoint = readCheckpoint(dir);
  const run = buildRun(config(2));
  run.model.loadStateDict(checkpoint.model);
  run.optimizer.loadStateDict(checkpoint.trainer.optimizer as never);
  rmSync(join(dir, 'checkpoint'), { recursive: true });
  writeCheckpoint(dir, run.model, { ...checkpoint.trainer, optimizer: run.optimizer.stateDict() }, checkpoint.config);
  rmSync(join(dir, 'checkpoint', 'SHA256SUMS'));
  const file = join(dir, 'checkpoint', 'trainer.json');
  const text = readFileSync(file, 'utf8');
  expect(JSON.parse(text).trainer.optimizer.buffers.expAvg).toMatch(/^[A-Za-z0-9+/]+=*$/);
  writeFileSync(file, text.replace('"normnet-checkpoint-2"', '"normnet-checkpoint-1"'));
  const resumed = readCheckpoint(dir);
  await executeRun({ ...config(3), out: dir }, dir, { resume: resumed });
  expect(weights(dir).equals(weights(straight))).toBe(true);
});
