/**
 * describeBackends(title, fn) runs one suite on every backend: the TS kernels, and the native kernels on each
 * CPU path this machine has (avx512, avx2, generic on x86-64; neon, generic on arm64). With REQUIRE_NATIVE=1 (CI)
 * a missing addon fails the suite instead of skipping it.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { configure, getBackend, nativeAvailable, type Backend } from '../../src/kernels/backend.js';
import { ISAS } from '../../src/kernels/native.js';

export function describeBackends(title: string, fn: (backend: () => Backend) => void): void {
  describe(`${title} [ts]`, () => fn(() => getBackend('ts')));
  if (!nativeAvailable()) {
    if (process.env.REQUIRE_NATIVE === '1') {
      describe(`${title} [native]`, () => {
        it('has the native addon (REQUIRE_NATIVE=1)', () => {
          getBackend('native'); // throws the loader's diagnosis
        });
      });
    } else {
      describe.skip(`${title} [native: addon not built]`, () => fn(() => getBackend('native')));
    }
    return;
  }
  const best = getBackend('native').info().detectedIsa;
  for (const isa of ISAS.slice(ISAS.indexOf(best as (typeof ISAS)[number]))) {
    describe(`${title} [native ${isa}]`, () => {
      beforeAll(() => configure({ isa }));
      afterAll(() => configure({ isa: best as (typeof ISAS)[number] }));
      fn(() => getBackend('native'));
    });
  }
}
