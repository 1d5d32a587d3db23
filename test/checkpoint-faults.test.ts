/**
 * A checkpoint write that fails midway — the disk full (ENOSPC) or the permission gone (EACCES) at the nth write
 * — leaves the previous checkpoint intact, no partial file behind, and an error that says so. The run's output
 * directory removed while a checkpoint is written (at each write and each rename) is an error that says so, and
 * the directory is not made again. The failures are injected into node:fs's writeSync and renameSync
 * (syncBuiltinESMExports carries the replacement to every module's import).
 */
import fs, { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, expect, it } from 'vitest';
import { executeRun, readCheckpoint, resolveConfig, writeCheckpoint, type RunResult } from '../dist/index.js';

const work = mkdtempSync(join(tmpdir(), 'normnet-faults-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const realWriteSync = fs.writeSync;
const realRenameSync = fs.renameSync;
afterEach(() => {
  fs.writeSync = realWriteSync;
  fs.renameSync = realRenameSync;
  syncBuiltinESMExports();
});

/** Makes the `nth` writeSync from now on (1-based) fail with `code`. */
function failWrite(nth: number, code: string): void {
  let calls = 0;
  fs.writeSync = ((...args: Parameters<typeof realWriteSync>) => {
    if (++calls === nth) throw Object.assign(new Error(`${code}: injected, write`), { code });
    return realWriteSync(...args);
  }) as typeof realWriteSync;
  syncBuiltinESMExports();
}

let trained: RunResult | undefined;
const dir = join(work, 'run');
async function run(): Promise<RunResult> {
  trained ??= await executeRun(resolveConfig({ trainLimit: 500, hidden: [16], epochs: 1, batchSize: 50, backend: 'ts' }, 'test'), dir);
  return trained;
}

it.each([[1, 'ENOSPC'], [2, 'EACCES']] as const)('write %i failing with %s: the previous checkpoint stays, whole, and the error says so', async (nth, code) => {
  const { run: built, config } = await run();
  const before = ['model.safetensors', 'trainer.json'].map((f) => readFileSync(join(dir, 'checkpoint', f)));
  // Another step so the new checkpoint would differ from the old one.
  built.model.values[0] += 1;
  failWrite(nth, code);
  expect(() => writeCheckpoint(dir, built.model, readCheckpoint(dir).trainer, { ...config })).toThrow(
    new RegExp(`could not write a checkpoint \\(${code}\\); the previous one, if any, is intact in .*checkpoint$`));
  fs.writeSync = realWriteSync;
  syncBuiltinESMExports();
  const after = ['model.safetensors', 'trainer.json'].map((f) => readFileSync(join(dir, 'checkpoint', f)));
  expect(after.map((b, i) => b.equals(before[i]))).toEqual([true, true]);
  expect(readdirSync(dir).sort()).toEqual(['checkpoint', 'metrics.jsonl']);
  expect(existsSync(join(dir, 'checkpoint.tmp'))).toBe(false);
  built.model.values[0] -= 1;
});

// A checkpoint writes four files (model.safetensors, optimizer.safetensors, trainer.json, SHA256SUMS), each in
// parts to a temporary name renamed into checkpoint.tmp/, then renames checkpoint/ to checkpoint.old/ and
// checkpoint.tmp/ to checkpoint/: the directory is removed just before some of those writes and renames.
it.each([
  ['write', 1], ['write', 2], ['write', 3], ['rename', 1], ['rename', 3], ['rename', 4], ['rename', 5],
] as const)('the output directory removed at %s %i: an error that says so, and the directory not made again', async (call, nth) => {
  const { run: built, config } = await run();
  const trainer = readCheckpoint(dir).trainer;
  const gone = join(work, `gone-${call}-${nth}`);
  writeCheckpoint(gone, built.model, trainer, { ...config }); // a previous checkpoint, as in a run
  let calls = 0;
  const removeAt = <F extends (...args: never[]) => unknown>(real: F) => ((...args: Parameters<F>) => {
    if (++calls === nth) rmSync(gone, { recursive: true, force: true });
    return real(...args);
  }) as F;
  if (call === 'write') fs.writeSync = removeAt(realWriteSync);
  else fs.renameSync = removeAt(realRenameSync);
  syncBuiltinESMExports();
  expect(() => writeCheckpoint(gone, built.model, trainer, { ...config })).toThrow(
    new RegExp(`${gone}: could not write a checkpoint \\(ENOENT\\): the directory was removed while the checkpoint was written$`));
  expect(calls).toBeGreaterThanOrEqual(nth);
  expect(existsSync(gone)).toBe(false);
});

it('the output directory removed between epochs: executeRun stops with an error that says so', async () => {
  const gone = join(work, 'gone-between');
  const config = resolveConfig({ trainLimit: 200, hidden: [8], epochs: 3, batchSize: 50, backend: 'ts' }, 'test');
  await expect(executeRun(config, gone, { onEpoch: (record) => record.epoch === 1 && rmSync(gone, { recursive: true, force: true }) }))
    .rejects.toThrow(`${gone}: the run's output directory was removed while it trained`);
  expect(existsSync(gone)).toBe(false);
});
