/** The `normnet` command, run as a user runs it: the built dist/cli/main.js in a child process. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { nativeAvailable } from '../src/kernels/backend.js';

const cli = new URL('../dist/cli/main.js', import.meta.url).pathname;
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

function normnet(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('normnet CLI', () => {
  it('prints its version', () => {
    expect(normnet(['--version'])).toMatchObject({ status: 0, stdout: `${version}\n` });
  });

  it('prints help', () => {
    const run = normnet(['--help']);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/Usage: normnet <command>/);
  });

  it('rejects an unknown command with one line and exit code 2', () => {
    const run = normnet(['frobnicate']);
    expect(run.status).toBe(2);
    expect(run.stderr).toBe('normnet: unknown command: frobnicate (see normnet --help)\n');
  });

  it('reports the TS backend when asked for it', () => {
    const run = normnet(['info', '--json'], { NORMNET_BACKEND: 'ts' });
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ version, backend: 'ts', isa: 'ts', threads: 1 });
  });

  it.skipIf(process.env.REQUIRE_NATIVE !== '1' && !nativeAvailable())('reports the native backend, its CPU path and threads', () => {
    const run = normnet(['info']);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^backend: +native \(.*normnet\.node\)$/m);
    expect(run.stdout).toMatch(/^cpu path: (avx512|avx2|generic) \(best on this CPU: (avx512|avx2|generic)\)$/m);
    expect(run.stdout).toMatch(/^threads: +\d+$/m);
  });

  it.skipIf(process.env.REQUIRE_NATIVE !== '1' && !nativeAvailable())('honours NORMNET_ISA and NORMNET_NUM_THREADS', () => {
    for (const isa of ['avx2', 'generic']) {
      const run = normnet(['info', '--json'], { NORMNET_ISA: isa, NORMNET_NUM_THREADS: '3' });
      expect(run.status).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({ backend: 'native', isa, threads: 3 });
    }
  });

  it('rejects a bad NORMNET_ISA or NORMNET_NUM_THREADS with one line', () => {
    if (!nativeAvailable()) return;
    const isa = normnet(['info'], { NORMNET_ISA: 'sse4' });
    expect(isa.status).toBe(1);
    expect(isa.stderr).toMatch(/^normnet: NORMNET_ISA: isa must be 'avx512', 'avx2' or 'generic', got 'sse4'\n$/);
    const threads = normnet(['info'], { NORMNET_NUM_THREADS: 'many' });
    expect(threads.stderr).toBe("normnet: NORMNET_NUM_THREADS must be an integer in [1, 1024], got 'many'\n");
  });
});
