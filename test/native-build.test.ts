/**
 * The build's CPU dispatch is safe on a CPU without AVX-512 or AVX2: translation units compiled with ISA
 * flags (*_avx512.cc, *_avx2.cc) must define no weak or unique symbols. An inline or template function
 * instantiated there (std::min, a shared header's helper) is a weak symbol the linker may pick for the whole
 * addon, and code outside the ISA path would then run AVX-512 instructions and crash an older CPU.
 * Reads the object files cmake-js left in build/ (skipped when there are none).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const objects = new URL('../build/CMakeFiles/normnet.dir/native/', import.meta.url).pathname;

function isaObjects(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /_(avx2|avx512)\.cc\.o$/.test(e.name))
    .map((e) => join(e.parentPath ?? (e as unknown as { path: string }).path, e.name));
}

const found = isaObjects(objects);

describe.skipIf(found.length === 0)('ISA translation units', () => {
  it.each(found.map((f) => [f.slice(objects.length), f]))('%s defines no weak or unique symbols', (_name, file) => {
    const nm = spawnSync('nm', ['-C', '--defined-only', file], { encoding: 'utf8' });
    expect(nm.status).toBe(0);
    const shared = nm.stdout.split('\n').filter((line) => /^\S+ [WVu] /.test(line));
    expect(shared).toEqual([]);
  });
});
