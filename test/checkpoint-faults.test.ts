/**
 * A checkpoint write that fails midway — the disk full (ENOSPC) or the permission gone (EACCES) at the nth write
 * — leaves the previous checkpoint intact, no partial file behind, and an error that says so. The failures are
 * injected into node:fs's writeSync (syncBuiltinESMExports carries the replacement to every module's import).
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
afterEach(() => {
  fs.writeSync = realWriteSync;
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
