/**
 * The package as a user gets it: `npm pack` ships the prebuilt addon, and a project that installs the tarball
 * with no compiler or cmake on its PATH loads that prebuild (nothing is compiled, nothing downloaded); the same
 * tarball without its prebuilds (any platform we ship none for) still trains, on the TypeScript backend.
 * Needs `npm run build:ts` and `npm run prebuild` first (.ci/run does both).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = new URL('..', import.meta.url).pathname;
const prebuild = join(root, 'prebuilds', `${process.platform}-${process.arch}`, 'normnet.node');
const haveInputs = existsSync(prebuild) && existsSync(join(root, 'dist', 'index.js'));
const work = mkdtempSync(join(tmpdir(), 'normnet-pack-'));

afterAll(() => rmSync(work, { recursive: true, force: true }));

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env) {
  const result = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: 240_000 });
  if (result.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

/** ELF e_machine of each platform we ship a prebuild for: EM_X86_64 and EM_AARCH64. */
const ELF_MACHINES: Record<string, number> = { 'linux-x64': 62, 'linux-arm64': 183 };

/** The e_machine of a 64-bit little-endian ELF shared object; throws if the file is not one. */
function elfMachine(path: string): number {
  const header = readFileSync(path).subarray(0, 20);
  const isElf = header.readUInt32BE(0) === 0x7f454c46 && header[4] === 2 && header[5] === 1 && header.readUInt16LE(16) === 3;
  if (!isElf) throw new Error(`${path} is not a 64-bit little-endian ELF shared object`);
  return header.readUInt16LE(18);
}

/** A PATH holding only node and sh: no cmake, no c++, no make. */
function bareEnv(): NodeJS.ProcessEnv {
  const bin = join(work, 'bin');
  mkdirSync(bin, { recursive: true });
  if (!existsSync(join(bin, 'node'))) {
    symlinkSync(process.execPath, join(bin, 'node'));
    symlinkSync('/bin/sh', join(bin, 'sh'));
  }
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: bin };
  for (const key of Object.keys(env)) if (key.startsWith('npm_') || key === 'NORMNET_BACKEND') delete env[key];
  return env;
}

describe.skipIf(!haveInputs && process.env.REQUIRE_NATIVE !== '1')('npm package', () => {
  it('installs from its tarball with no compiler on the PATH and loads the prebuilt addon', () => {
    expect(existsSync(prebuild), `${prebuild} (run npm run prebuild)`).toBe(true);
    const packed = JSON.parse(run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], root)) as
      { filename: string; files: { path: string }[] }[];
    const files = packed[0].files.map((f) => f.path);
    // Every prebuild we ship is there and is a shared object for its machine (better-sqlite3's rule): a missing
    // or mis-built one would leave its users on the TypeScript fallback without anyone noticing. npm run prebuild
    // also cross-compiles linux-arm64 (tested under qemu in test/arm64-qemu.test.ts); CI requires it.
    const shipped = Object.entries(ELF_MACHINES).filter(([platform]) => platform === 'linux-x64' || process.env.REQUIRE_ARM64 === '1' || files.includes(`prebuilds/${platform}/normnet.node`));
    for (const [platform, machine] of shipped) {
      expect(files).toContain(`prebuilds/${platform}/normnet.node`);
      expect(elfMachine(join(root, 'prebuilds', platform, 'normnet.node')), platform).toBe(machine);
    }
    expect(files).toContain('dist/index.js');
    expect(files.some((f) => f.startsWith('build/') || f.startsWith('test/'))).toBe(false);

    const app = join(work, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    const env = bareEnv();
    const npmCli = realpathSync(run('sh', ['-c', 'command -v npm'], root).trim());
    run(process.execPath, [npmCli, 'install', '--prefer-offline', '--no-audit', '--no-fund', join(work, packed[0].filename)], app, env);

    const installed = join(app, 'node_modules', 'normnet');
    expect(existsSync(join(installed, 'build')), 'nothing was compiled').toBe(false);
    const script = "import('normnet').then((m) => console.log(JSON.stringify(m.getBackend().info())))";
    const info = JSON.parse(run(process.execPath, ['-e', script], app, env)) as { backend: string; addonPath: string };
    expect(info.backend).toBe('native');
    expect(info.addonPath).toBe(join(installed, 'prebuilds', 'linux-x64', 'normnet.node'));
    expect(run(process.execPath, [join(app, 'node_modules', '.bin', 'normnet'), '--version'], app, env).trim())
      .toMatch(/^\d+\.\d+\.\d+$/);
  }, 300_000);

  it('without prebuilds and with no compiler: installs, trains on TypeScript with one warning, and says how to build the addon', () => {
    mkdirSync(join(work, 'bare'));
    const packed = JSON.parse(run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', join(work, 'bare')], root)) as { filename: string }[];
    // The tarball as for a platform with no prebuild: unpacked, prebuilds/ dropped, packed again.
    const unpacked = join(work, 'bare');
    run('tar', ['-xzf', packed[0].filename], unpacked);
    rmSync(join(unpacked, 'package', 'prebuilds'), { recursive: true, force: true });
    run('tar', ['-czf', 'normnet-bare.tgz', 'package'], unpacked);

    const app = join(work, 'bare-app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'bare-app', private: true, type: 'module' }));
    const env = bareEnv();
    const npmCli = realpathSync(run('sh', ['-c', 'command -v npm'], root).trim());
    run(process.execPath, [npmCli, 'install', '--prefer-offline', '--no-audit', '--no-fund', join(unpacked, 'normnet-bare.tgz')], app, env);
    const installed = join(app, 'node_modules', 'normnet');
    expect(existsSync(join(installed, 'prebuilds'))).toBe(false);
    expect(existsSync(join(installed, 'build', 'Release', 'normnet.node')), 'no compiler, so nothing was built').toBe(false);

    const normnet = join(app, 'node_modules', '.bin', 'normnet');
    const train = spawnSync(process.execPath, [normnet, 'train', '--epochs', '1', '--train-limit', '2000', '--json', '--out', join(app, 'run')], { cwd: app, env, encoding: 'utf8', timeout: 240_000 });
    expect(train.status, train.stderr).toBe(0);
    expect(JSON.parse(train.stdout.trim()).testAccuracy).toBeGreaterThan(0.7);
    const warnings = train.stderr.split('\n').filter((line) => line.includes('the native addon is not available'));
    expect(warnings).toHaveLength(1);
    expect(JSON.parse(readFileSync(join(app, 'run', 'checkpoint', 'trainer.json'), 'utf8')).config.backend).toBe('auto');

    // Insisting on native fails with the diagnosis, whose advice this machine's npm accepts.
    const insist = spawnSync(process.execPath, [normnet, 'train', '--backend', 'native', '--epochs', '1'], { cwd: app, env, encoding: 'utf8' });
    expect(insist.status).toBe(1);
    expect(insist.stderr).toMatch(/the native addon is not available.*npm install-scripts approve normnet && npm rebuild normnet/);
    run(process.execPath, [npmCli, 'install-scripts', 'approve', 'normnet', '--dry-run'], app, env);
  }, 300_000);
});
