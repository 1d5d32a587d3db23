/**
 * Runs fuzz children (test/fuzz/driver.mjs), one per target group, each under `ulimit -v` (so an allocation the
 * library should have refused fails instead of swapping) and a timeout; shared by test/fuzz.test.ts and
 * `npm run fuzz`. A child's result: its JSON summary, and how it ended — exit code, signal, timed out, seconds.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const GROUPS = ['regressions', 'kernels-native', 'kernels-ts', 'exports'];
const driver = new URL('./driver.mjs', import.meta.url).pathname;
/** Address space of a child: Node and the addon need well under 1 GB; a 3 GB allocation fails. */
const MEMORY_KB = 3_000_000;

/** One child: `args` for the driver; resolves when it ends or after `timeoutMs` (then killed). */
export function runChild(args, timeoutMs) {
  const scratch = mkdtempSync(join(tmpdir(), 'normnet-fuzz-run-'));
  const progress = join(scratch, 'progress');
  const quote = (a) => `'${String(a).replaceAll("'", "'\\''")}'`;
  const command = `ulimit -v ${MEMORY_KB} && exec ${quote(process.execPath)} ${quote(driver)} ${[...args, '--progress', progress].map(quote).join(' ')}`;
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', command], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      let summary;
      try {
        summary = JSON.parse(stdout.trim().split('\n').pop());
      } catch {
        summary = undefined;
      }
      let last = '';
      try {
        last = readFileSync(progress, 'utf8').trim();
      } catch {
        // no call made
      }
      rmSync(scratch, { recursive: true, force: true });
      resolve({ args, code, signal, timedOut, seconds: (performance.now() - started) / 1000, summary, stderr, lastCall: last });
    });
  });
}

/** What is wrong with a child's run, as lines (none: it passed). */
export function problems(result) {
  const out = [];
  const where = result.lastCall ? ` (in: ${result.lastCall.slice(0, 2000)})` : '';
  if (result.timedOut) out.push(`timed out after ${result.seconds.toFixed(0)} s${result.summary ? `; did not exit, open handles: ${result.summary.handles.join(', ')}` : where}`);
  else if (result.signal) out.push(`killed by ${result.signal}${where}\n${result.stderr.slice(-2000)}`);
  else if (result.code !== 0) out.push(`exit code ${result.code}${where}\n${result.stderr.slice(-2000)}`);
  if (!result.summary && !result.timedOut) out.push('no summary');
  for (const f of result.summary?.findings ?? []) out.push(`${f.target}: ${f.why}\n  counterexample: ${f.counterexample.slice(0, 2000)}\n  replay: node test/fuzz/driver.mjs ${f.replay}`);
  return out;
}
