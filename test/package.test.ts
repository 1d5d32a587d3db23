/**
 * The package as a user gets it: `npm pack` ships the prebuilt addon, and a project that installs the tarball
 * with no compiler or cmake on its PATH loads that prebuild (nothing is compiled, nothing downloaded).
 * Needs `npm run build:ts` and `npm run prebuild` first (.ci/run does both).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
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

/** A PATH holding only node and sh: no cmake, no c++, no make. */
function bareEnv(): NodeJS.ProcessEnv {
  const bin = join(work, 'bin');
  mkdirSync(bin, { recursive: true });
  symlinkSync(process.execPath, join(bin, 'node'));
  symlinkSync('/bin/sh', join(bin, 'sh'));
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
    expect(files).toContain('prebuilds/linux-x64/normnet.node');
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
});
