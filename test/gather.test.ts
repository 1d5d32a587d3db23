/**
 * gatherScale on every backend and CPU path against a float64 reference rounded once to float32 (so exact), for
 * uint8 and float32 samples; bad input from both backends; and Dataset batches gathered natively equal the TS ones.
 */
import { describe, expect, it } from 'vitest';
import { getBackend, nativeAvailable } from '../src/kernels/backend.js';
import { Dataset } from '../src/data/dataset.js';
import { describeBackends } from './support/backends.js';
import { randomFloat32, seededRandom } from './support/random.js';

const CASES: [number, number, number][] = [[0, 5, 3], [1, 1, 1], [100, 784, 600], [7, 13, 9], [256, 784, 300]];

function reference(x: ArrayLike<number>, rows: Int32Array, N: number, D: number, scale: number): Float32Array {
  const out = new Float32Array(N * D);
  for (let n = 0; n < N; n++) for (let d = 0; d < D; d++) out[n * D + d] = Math.fround(x[rows[n] * D + d] * scale);
  return out;
}

describeBackends('gatherScale', (backend) => {
  // 0.00023768374341584384 puts 63 * scale next to a float32 rounding midpoint, where the native AVX2 path's float
  // form would round the other way (it then takes the double form).
  it.each(CASES)('N=%i D=%i from %i stored rows, uint8 and float32, scales 1/255, 1, 0.37 and a near-tie', (N, D, stored) => {
    const random = seededRandom(N * 31 + D);
    const bytes = Uint8Array.from({ length: stored * D }, () => Math.floor(random() * 256));
    const floats = randomFloat32(stored * D, random);
    const rows = Int32Array.from({ length: N }, () => Math.floor(random() * stored));
    for (const x of [bytes, floats]) {
      for (const scale of [1 / 255, 1, 0.37, 0.00023768374341584384]) {
        const out = new Float32Array(N * D).fill(NaN);
        backend().gatherScale(out, x, rows, N, D, scale);
        expect(out).toEqual(reference(x, rows, N, D, scale));
      }
    }
  });

  it('rejects rows outside x, wrong types and an output sharing memory with x', () => {
    const b = backend();
    const x = new Uint8Array(12);
    expect(() => b.gatherScale(new Float32Array(8), x, Int32Array.of(0, 3), 2, 4, 1))
      .toThrow(/gatherScale: rows\[1\] = 3 is not a row of x in \[0, x.length\/D = 3\)/);
    expect(() => b.gatherScale(new Float32Array(8), x, Int32Array.of(-1, 0), 2, 4, 1)).toThrow(RangeError);
    expect(() => b.gatherScale(new Float32Array(8), new Int16Array(12) as never, Int32Array.of(0, 1), 2, 4, 1))
      .toThrow(/gatherScale: x must be a Uint8Array or a Float32Array/);
    expect(() => b.gatherScale(new Float64Array(8) as never, x, Int32Array.of(0, 1), 2, 4, 1)).toThrow(/gatherScale: out must be a Float32Array/);
    expect(() => b.gatherScale(new Float32Array(7), x, Int32Array.of(0, 1), 2, 4, 1)).toThrow(/out must have length N\*D = 8, got 7/);
    const shared = new Float32Array(16);
    expect(() => b.gatherScale(shared.subarray(0, 8), shared, Int32Array.of(0, 1), 2, 4, 1))
      .toThrow(/gatherScale: out must not share memory with x/);
  });
});

describe.skipIf(!nativeAvailable())('Dataset batches through the native gatherScale', () => {
  it('equal the TS ones bit for bit, subsets included', () => {
    const random = seededRandom(5);
    const x = Uint8Array.from({ length: 50 * 12 }, () => Math.floor(random() * 256));
    const ds = new Dataset({ x, labels: new Uint8Array(50), shape: [50, 3, 4], classes: 1 }).subset([40, 2, 7, 7, 19, 0]);
    const order = Int32Array.of(5, 1, 3, 0);
    const ts = ds.batch(order, { layout: 'nchw' }).x.data.slice();
    const native = ds.batch(order, { layout: 'nchw', backend: getBackend('native') }).x.data;
    expect(native).toEqual(ts);
    expect(() => ds.batch(order, { backend: {} as never })).toThrow(/Dataset.batch: backend must be a backend/);
  });
});

describeBackends('Dataset batches on a backend', (backend) => {
  it('gather a partial last batch after full ones (the index buffers are cut to the batch)', () => {
    const random = seededRandom(9);
    const x = Uint8Array.from({ length: 10 * 4 }, () => Math.floor(random() * 256));
    const labels = Uint8Array.from({ length: 10 }, (_, i) => i % 3);
    const whole = new Dataset({ x, labels, shape: [10, 4], classes: 3 });
    // The subset stores its samples in reverse, so its sample i is stored row 9 - i.
    for (const [ds, stored] of [[whole, [8, 9]], [whole.subset([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]), [1, 0]]] as const) {
      const batches = [...ds.batches(4, { backend: backend() })].map((b) => ({ x: b.x.data.slice(), labels: Array.from(b.labels) }));
      expect(batches.map((b) => b.labels.length)).toEqual([4, 4, 2]);
      expect(batches[2].x).toEqual(reference(x, Int32Array.from(stored), 2, 4, 1 / 255));
      expect(batches[2].labels).toEqual(stored.map((r) => labels[r]));
    }
  });
});

describeBackends('prefetchRows', (backend) => {
  it('changes no value, and checks its arguments as gatherScale does', () => {
    const b = backend();
    const random = seededRandom(3);
    // Rows of 784 bytes and 13 floats: neither starts on a cache line, and the last row ends the buffer.
    for (const [x, D] of [[Uint8Array.from({ length: 5 * 784 }, () => Math.floor(random() * 256)), 784], [randomFloat32(7 * 13, random), 13]] as const) {
      const before = x.slice();
      const stored = x.length / D;
      b.prefetchRows(x, Int32Array.of(stored - 1, 0, 1, stored - 1), 4, D);
      b.prefetchRows(x, new Int32Array(0), 0, D);
      expect(x).toEqual(before);
    }
    const x = new Uint8Array(12);
    expect(() => b.prefetchRows(x, Int32Array.of(0, 3), 2, 4)).toThrow(/prefetchRows: rows\[1\] = 3 is not a row of x in \[0, x.length\/D = 3\)/);
    expect(() => b.prefetchRows(x, Int32Array.of(-1, 0), 2, 4)).toThrow(RangeError);
    expect(() => b.prefetchRows(new Int16Array(12) as never, Int32Array.of(0, 1), 2, 4)).toThrow(/prefetchRows: x must be a Uint8Array or a Float32Array/);
    expect(() => b.prefetchRows(x, Int32Array.of(0), 2, 4)).toThrow(/prefetchRows: rows must have length N = 2, got 1/);
    expect(() => b.prefetchRows(x, Int32Array.of(0, 1), 2, -4)).toThrow(RangeError);
  });
});

describe('Dataset.prefetch', () => {
  it('maps a subset\'s samples to its stored rows, checks the indices, and leaves the batches as they were', () => {
    const random = seededRandom(11);
    const x = Uint8Array.from({ length: 20 * 6 }, () => Math.floor(random() * 256));
    const ds = new Dataset({ x, labels: new Uint8Array(20), shape: [20, 6], classes: 1 }).subset([19, 3, 5, 0]);
    const seen: Int32Array[] = [];
    const spy = { ...getBackend('ts'), prefetchRows: (_x: Uint8Array | Float32Array, rows: Int32Array) => { seen.push(rows.slice()); } };
    const before = ds.batch([3, 0]).x.data.slice();
    ds.prefetch(Int32Array.of(0, 3, 2), { backend: spy as never });
    expect(seen).toEqual([Int32Array.of(19, 0, 5)]);
    for (const backend of [getBackend('ts'), ...(nativeAvailable() ? [getBackend('native')] : [])]) {
      ds.prefetch([1, 2], { backend });
      expect(ds.batch([3, 0], { backend }).x.data).toEqual(before);
    }
    expect(() => ds.prefetch([0, 4])).toThrow(new RangeError('Dataset.prefetch: indices[1] = 4 is not a sample index in [0, 4)'));
    expect(() => ds.prefetch([0], { backend: {} as never })).toThrow(/Dataset.prefetch: backend must be a backend/);
    expect(() => ds.prefetch('0' as never)).toThrow(TypeError);
  });
});
