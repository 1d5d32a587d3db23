/** The backend interface: both implementations of every kernel, the loader, runtime settings. */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { configure, getBackend, nativeAvailable } from '../src/kernels/backend.js';
import { KERNEL_NAMES } from '../src/kernels/kernels.js';
import { loadNative, nativeDiagnosis, rebuildAdvice } from '../src/kernels/native.js';
import { tsKernels } from '../src/kernels/ts/index.js';

const requireNative = process.env.REQUIRE_NATIVE === '1';

describe('kernel list', () => {
  it('has a TypeScript implementation of every kernel, and nothing else', () => {
    expect(Object.keys(tsKernels).sort()).toEqual([...KERNEL_NAMES].sort());
  });

  it.skipIf(!requireNative && !nativeAvailable())('has a native implementation of every kernel in the addon', () => {
    const load = loadNative();
    expect(load.ok).toBe(true);
    if (!load.ok) return;
    for (const name of KERNEL_NAMES) expect(typeof load.addon[name], name).toBe('function');
  });

  it('gives both backends every kernel', () => {
    for (const name of KERNEL_NAMES) expect(typeof getBackend('ts')[name]).toBe('function');
    if (nativeAvailable()) for (const name of KERNEL_NAMES) expect(typeof getBackend('native')[name]).toBe('function');
  });
});

describe('getBackend', () => {
  it('rejects an unknown backend name', () => {
    expect(() => getBackend('gpu' as never)).toThrow(RangeError);
  });

  it('gives the native backend by default (auto) when the addon loads; NORMNET_BACKEND says what auto means', () => {
    if (!nativeAvailable()) return;
    expect(getBackend().name).toBe('native');
    expect(getBackend('auto').name).toBe('native');
    const saved = process.env.NORMNET_BACKEND;
    try {
      process.env.NORMNET_BACKEND = 'ts';
      expect(getBackend('auto').name).toBe('ts');
      expect(getBackend('native').name).toBe('native');
      process.env.NORMNET_BACKEND = 'auto';
      expect(getBackend().name).toBe('native');
      process.env.NORMNET_BACKEND = 'gpu';
      expect(() => getBackend()).toThrow("NORMNET_BACKEND must be 'auto', 'native' or 'ts', got 'gpu'");
    } finally {
      if (saved === undefined) delete process.env.NORMNET_BACKEND;
      else process.env.NORMNET_BACKEND = saved;
    }
  });

  it("gives the fix that works with the user's npm", () => {
    expect(rebuildAdvice('npm/11.19.1 node/v20.20.2 linux x64 workspaces/false')).toMatch(/^`npm install-scripts approve normnet && npm rebuild normnet`/);
    expect(rebuildAdvice('npm/10.8.2 node/v18.20.4 linux arm64')).toBe('`npm rebuild normnet`');
    expect(rebuildAdvice(undefined)).toMatch(/approve normnet.*or with npm 10 and earlier `npm rebuild normnet`/);
  });

  it('describes the TS backend', () => {
    expect(getBackend('ts').info()).toEqual({ backend: 'ts', isa: 'ts', detectedIsa: 'ts', threads: 1 });
  });

  it('says why the addon did not load and how to fix it', () => {
    const text = nativeDiagnosis('no native build for linux-x64');
    expect(text).toMatch(/Why: no native build for linux-x64/);
    expect(text).toMatch(/npm rebuild normnet/);
    expect(text).toMatch(/NORMNET_BACKEND=ts/);
  });
});

describe.skipIf(!requireNative && !nativeAvailable())('native runtime', () => {
  it('reports the CPU path, the best detected one, and the threads', () => {
    const info = getBackend('native').info();
    expect(['avx512', 'avx2', 'generic']).toContain(info.isa);
    expect(['avx512', 'avx2', 'generic']).toContain(info.detectedIsa);
    expect(info.threads).toBeGreaterThanOrEqual(1);
    expect(info.addonPath).toMatch(/normnet\.node$/);
  });

  it('sets threads and CPU path, and restores them', () => {
    const before = getBackend('native').info();
    configure({ threads: 1, isa: 'generic' });
    expect(getBackend('native').info()).toMatchObject({ threads: 1, isa: 'generic' });
    configure({ threads: before.threads, isa: before.detectedIsa as 'avx512' });
    expect(getBackend('native').info()).toMatchObject({ threads: before.threads, isa: before.detectedIsa });
  });

  it('loads the build NORMNET_ADDON names, and refuses a relative path', () => {
    // A child process each: the loader runs once per process.
    const loaded = (addon: string) => spawnSync(process.execPath, ['--input-type=module', '-e', `
      const { loadNative } = await import('${new URL('../dist/kernels/native.js', import.meta.url).href}');
      try { const load = loadNative(); console.log(load.ok ? load.path : load.reason); } catch (error) { console.log(String(error)); }`],
    { env: { ...process.env, NORMNET_ADDON: addon }, encoding: 'utf8' }).stdout.trim();
    const path = getBackend('native').info().addonPath!;
    expect(loaded(path)).toBe(path);
    expect(loaded('build/Release/normnet.node')).toBe("RangeError: NORMNET_ADDON must be an absolute path to a normnet.node, got 'build/Release/normnet.node'");
  });

  it('rejects bad settings with errors that name them', () => {
    expect(() => configure({ threads: 0 })).toThrow(/configure: threads must be an integer in \[1, 1024\], got 0/);
    expect(() => configure({ threads: 1.5 })).toThrow(RangeError);
    expect(() => configure({ isa: 'sse' as never })).toThrow(/configure: isa must be one of avx512, avx2, generic/);
    expect(() => configure(null as never)).toThrow(TypeError);
  });
});
