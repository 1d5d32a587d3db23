/**
 * The linux-arm64 prebuild, run on this x86-64 machine under qemu-user with Debian's arm64 Node 18 (the sysroot
 * scripts/arm64-sysroot.sh unpacks; ARM64_SYSROOT overrides where it is):
 *   (a) test/arm64/crosscheck.ts: every kernel, native against TS, on seeded random shapes, on both CPU paths
 *       (neon, generic);
 *   (b) `normnet train` for one epoch of a 32-unit MLP on 2000 MNIST images with the native backend: it must
 *       train as this machine's TS backend does on the same seed (same accuracy, losses within 1e-5).
 * prebuilds/linux-arm64/normnet.node is rebuilt first (`npm run prebuild:arm64`) when it is missing or older
 * than the native sources. PREBUILDS_ONLY=1 makes node-gyp-build skip build/Release, this machine's x86-64 build.
 * Skipped when qemu-aarch64-static, the sysroot or the cross compiler is missing, unless REQUIRE_ARM64=1 (CI),
 * which fails instead. Needs dist/ (npm run build:ts).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = new URL('..', import.meta.url).pathname;
const sysroot = process.env.ARM64_SYSROOT || join(root, 'node_modules', '.cache', 'arm64-sysroot');
const prebuild = join(root, 'prebuilds', 'linux-arm64', 'normnet.node');
const onPath = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const missing = [
  onPath('qemu-aarch64-static') ? '' : 'qemu-aarch64-static (apt-get install qemu-user-static)',
  existsSync(join(sysroot, '.complete')) ? '' : `the arm64 sysroot ${sysroot} (scripts/arm64-sysroot.sh)`,
  onPath('aarch64-linux-gnu-g++') ? '' : 'aarch64-linux-gnu-g++ (apt-get install g++-aarch64-linux-gnu)',
].filter(Boolean);
const required = process.env.REQUIRE_ARM64 === '1';
const work = mkdtempSync(join(tmpdir(), 'normnet-arm64-'));

afterAll(() => rmSync(work, { recursive: true, force: true }));

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 600_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, output: `${result.stdout}\n${result.stderr}` };
}

/** Node 18 for arm64 under qemu, loading only prebuilds (not the x86-64 build/Release). */
const arm64Node = (args: string[]) =>
  run('qemu-aarch64-static', ['-L', sysroot, join(sysroot, 'usr/bin/node'), ...args], { PREBUILDS_ONLY: '1' });

/** The newest modification time under the paths the addon is built from. */
function newestSource(paths: string[]): number {
  return Math.max(...paths.map((path) => {
    const stat = statSync(join(root, path));
    if (!stat.isDirectory()) return stat.mtimeMs;
    return newestSource(readdirSync(join(root, path)).map((name) => join(path, name)));
  }));
}

function train(node: (args: string[]) => ReturnType<typeof run>, backend: string, out: string) {
  const result = node(['dist/cli/main.js', 'train', '--epochs', '1', '--train-limit', '2000', '--hidden', '32',
    '--seed', '7', '--backend', backend, '--out', join(work, out), '--json']);
  expect(result.status, result.output).toBe(0);
  return JSON.parse(result.stdout.trim().split('\n').at(-1)!) as { trainLoss: number; testLoss: number; testAccuracy: number };
}

describe.skipIf(missing.length > 0 && !required)('the linux-arm64 prebuild under qemu', () => {
  beforeAll(() => {
    expect(missing, 'REQUIRE_ARM64=1: missing').toEqual([]);
    if (!existsSync(prebuild) || statSync(prebuild).mtimeMs < newestSource(['native', 'CMakeLists.txt', 'cmake'])) {
      const build = run('npm', ['run', 'prebuild:arm64']);
      expect(build.status, build.output).toBe(0);
    }
    const tsc = run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.arm64.json']);
    expect(tsc.status, tsc.output).toBe(0);
  }, 600_000);

  it('every kernel agrees with its TS twin on the neon and generic paths', () => {
    const result = arm64Node(['dist-arm64/arm64/crosscheck.js']);
    const summary = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as
      { arch: string; addonPath: string; isas: string[]; checks: number; failures: { isa: string; check: string; message: string }[] };
    expect(summary.failures.map((f) => `[${f.isa}] ${f.check}\n${f.message}`).join('\n')).toBe('');
    expect(summary).toMatchObject({ arch: 'arm64', addonPath: prebuild, isas: ['neon', 'generic'] });
    expect(summary.checks).toBeGreaterThan(200);
    expect(result.status, result.output).toBe(0);
  }, 300_000);

  it('trains an MLP for one epoch as the TS backend does', () => {
    const arm64 = train(arm64Node, 'native', 'arm64');
    const ts = train((args) => run(process.execPath, args), 'ts', 'ts');
    expect(arm64.testAccuracy).toBeGreaterThan(0.6); // chance is 0.1
    expect(arm64.testAccuracy).toBeCloseTo(ts.testAccuracy, 2);
    expect(Math.abs(arm64.trainLoss - ts.trainLoss)).toBeLessThan(1e-5 * ts.trainLoss);
    expect(Math.abs(arm64.testLoss - ts.testLoss)).toBeLessThan(1e-5 * ts.testLoss);
  }, 300_000);
});
