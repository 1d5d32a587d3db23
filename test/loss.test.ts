/**
 * Softmax cross-entropy on every backend and CPU path against a float64 log-sum-exp reference; native against
 * TS; bad input (labels out of range or of the wrong type) from both backends and from the raw addon.
 *
 * Tolerance: the kernels work in double and round probs and dlogits once, so probs and dlogits hold to
 * |a - r| <= 1e-8 + 1e-6 |r| and the loss (a double, never rounded to float32) to 1e-12 relative.
 */
import { describe, expect, it } from 'vitest';
import { getBackend, nativeAvailable } from '../src/kernels/backend.js';
import type { Kernels } from '../src/kernels/kernels.js';
import { loadNative } from '../src/kernels/native.js';
import { describeBackends } from './support/backends.js';
import { mismatches } from './support/compare.js';
import { randomFloat32, seededRandom } from './support/random.js';

/** (N, C, logit scale). */
const CASES: [number, number, number][] = [[1, 1, 1], [1, 10, 1], [7, 3, 5], [32, 10, 3], [256, 10, 1], [5, 1000, 20], [3, 17, 1e4], [0, 4, 1]];

function reference(logits: Float32Array, labels: Int32Array, N: number, C: number) {
  const probs = new Float64Array(N * C);
  let total = 0;
  for (let n = 0; n < N; n++) {
    const row = Array.from(logits.subarray(n * C, (n + 1) * C));
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((s, l) => s + Math.exp(l - m), 0));
    row.forEach((l, c) => { probs[n * C + c] = Math.exp(l - lse); });
    total += lse - row[labels[n]];
  }
  return { probs, loss: N === 0 ? 0 : total / N };
}

function inputs(N: number, C: number, scale: number, random: () => number) {
  return {
    logits: randomFloat32(N * C, random).map((v) => v * scale),
    labels: Int32Array.from({ length: N }, () => Math.floor(random() * C)),
  };
}

describeBackends('softmaxCrossEntropy', (backend) => {
  const random = seededRandom(41);

  it.each(CASES)('forward N=%i C=%i scale=%f: probs and the mean loss', (N, C, scale) => {
    const { logits, labels } = inputs(N, C, scale, random);
    const probs = new Float32Array(N * C).fill(NaN);
    const loss = backend().softmaxCrossEntropyForward(probs, logits, labels, N, C);
    const ref = reference(logits, labels, N, C);
    expect(mismatches(probs, ref.probs, 1e-6, 1e-8, 'probs')).toBe('');
    expect(typeof loss).toBe('number');
    expect(Math.abs(loss - ref.loss)).toBeLessThanOrEqual(1e-12 * Math.abs(ref.loss) + 1e-12);
  });

  it.each(CASES)('backward N=%i C=%i: dlogits = scale * (probs - onehot)', (N, C, scale) => {
    const { logits, labels } = inputs(N, C, scale, random);
    const probs = new Float32Array(N * C);
    backend().softmaxCrossEntropyForward(probs, logits, labels, N, C);
    const dlogits = new Float32Array(N * C).fill(NaN);
    const s = N === 0 ? 1 : 1 / N;
    backend().softmaxCrossEntropyBackward(dlogits, probs, labels, N, C, s);
    const expected = Array.from(probs, (p, i) => s * (p - (i % C === labels[Math.floor(i / C)] ? 1 : 0)));
    expect(mismatches(dlogits, expected, 1e-6, 1e-8, 'dlogits')).toBe('');
  });

  it('stays finite for logits of +-1e4 (log-sum-exp), and matches the exact loss', () => {
    const logits = new Float32Array([1e4, -1e4, 0, -1e4, -1e4, 1e4]);
    const labels = new Int32Array([1, 2]);
    const probs = new Float32Array(6);
    const loss = backend().softmaxCrossEntropyForward(probs, logits, labels, 2, 3);
    expect(Array.from(probs)).toEqual([1, 0, 0, 0, 0, 1]);
    expect(loss).toBe(1e4); // row 0: 1e4 - (-1e4) = 2e4; row 1: 0; mean 1e4
    const dlogits = new Float32Array(6);
    backend().softmaxCrossEntropyBackward(dlogits, probs, labels, 2, 3, 0.5);
    expect(Array.from(dlogits)).toEqual([0.5, -0.5, 0, 0, 0, 0]);
  });

  it('gives the loss log(C) for equal logits, and 0 for an empty batch', () => {
    const probs = new Float32Array(40);
    expect(backend().softmaxCrossEntropyForward(probs, new Float32Array(40).fill(3), new Int32Array(4).fill(9), 4, 10))
      .toBeCloseTo(Math.log(10), 12);
    expect(probs.every((p) => p === Math.fround(0.1))).toBe(true);
    expect(backend().softmaxCrossEntropyForward(new Float32Array(0), new Float32Array(0), new Int32Array(0), 0, 10)).toBe(0);
  });
});

describe.skipIf(!nativeAvailable())('softmaxCrossEntropy: native against TS on the same inputs', () => {
  const random = seededRandom(43);
  it.each(CASES)('N=%i C=%i scale=%f', (N, C, scale) => {
    const { logits, labels } = inputs(N, C, scale, random);
    const [native, ts] = [getBackend('native'), getBackend('ts')].map((k: Kernels) => {
      const probs = new Float32Array(N * C);
      const dlogits = new Float32Array(N * C);
      const loss = k.softmaxCrossEntropyForward(probs, logits, labels, N, C);
      k.softmaxCrossEntropyBackward(dlogits, probs, labels, N, C, 0.25);
      return { probs, dlogits, loss };
    });
    expect(mismatches(native.probs, ts.probs, 1e-4, 1e-8, 'probs')).toBe('');
    expect(mismatches(native.dlogits, ts.dlogits, 1e-4, 1e-8, 'dlogits')).toBe('');
    expect(Math.abs(native.loss - ts.loss)).toBeLessThanOrEqual(1e-12 * Math.abs(ts.loss) + 1e-12);
  });
});

// Bad input. Valid calls: N=2, C=10.
const buffer = new Float32Array(64);
const f32 = (n: number) => new Float32Array(n);
const labels = (...values: number[]) => Int32Array.from(values);
const forward = (probs: unknown, logits: unknown, l: unknown, N: unknown = 2, C: unknown = 10) => [probs, logits, l, N, C];
const backward = (dlogits: unknown, probs: unknown, l: unknown, scale: unknown = 0.5) => [dlogits, probs, l, 2, 10, scale];

type Bad = [string, string, unknown[], ErrorConstructor, RegExp];
const BAD: Bad[] = [
  ['softmaxCrossEntropyForward', 'a label equal to C', forward(f32(20), f32(20), labels(3, 10)), RangeError, /^softmaxCrossEntropyForward: labels\[1\] = 10 is not a class index in \[0, 10\)$/],
  ['softmaxCrossEntropyForward', 'a negative label', forward(f32(20), f32(20), labels(-1, 0)), RangeError, /^softmaxCrossEntropyForward: labels\[0\] = -1 is not a class index in \[0, 10\)$/],
  ['softmaxCrossEntropyForward', 'a huge label', forward(f32(20), f32(20), labels(0, 2 ** 31 - 1)), RangeError, /^softmaxCrossEntropyForward: labels\[1\] = 2147483647 is not a class index in \[0, 10\)$/],
  ['softmaxCrossEntropyForward', 'labels a Float32Array', forward(f32(20), f32(20), new Float32Array([1, 2])), TypeError, /^softmaxCrossEntropyForward: labels must be a Int32Array$/],
  ['softmaxCrossEntropyForward', 'labels a plain array', forward(f32(20), f32(20), [1, 2]), TypeError, /^softmaxCrossEntropyForward: labels must be a Int32Array$/],
  ['softmaxCrossEntropyForward', 'labels wrong length', forward(f32(20), f32(20), labels(1, 2, 3)), RangeError, /^softmaxCrossEntropyForward: labels must have length N = 2, got 3$/],
  ['softmaxCrossEntropyForward', 'probs wrong length', forward(f32(21), f32(20), labels(1, 2)), RangeError, /^softmaxCrossEntropyForward: probs must have length N\*C = 20, got 21$/],
  ['softmaxCrossEntropyForward', 'logits a Float64Array', forward(f32(20), new Float64Array(20), labels(1, 2)), TypeError, /^softmaxCrossEntropyForward: logits must be a Float32Array$/],
  ['softmaxCrossEntropyForward', 'C = 0', forward(f32(0), f32(0), labels(0, 0), 2, 0), RangeError, /^softmaxCrossEntropyForward: C must be an integer in \[1, 2\^31\), got 0$/],
  ['softmaxCrossEntropyForward', 'N fractional', forward(f32(20), f32(20), labels(1, 2), 1.5), RangeError, /^softmaxCrossEntropyForward: N must be an integer in \[0, 2\^31\), got 1.5$/],
  ['softmaxCrossEntropyForward', 'probs overlaps logits', forward(buffer.subarray(0, 20), buffer.subarray(10, 30), labels(1, 2)), RangeError, /^softmaxCrossEntropyForward: probs must not share memory with logits$/],
  ['softmaxCrossEntropyForward', 'probs shares memory with labels', forward(buffer.subarray(40, 60), f32(20), new Int32Array(buffer.buffer, 4 * 58, 2)), RangeError, /^softmaxCrossEntropyForward: probs must not share memory with labels$/],
  ['softmaxCrossEntropyForward', 'too few arguments', forward(f32(20), f32(20), labels(1, 2)).slice(0, 4), TypeError, /^softmaxCrossEntropyForward: expected 5 arguments \(probs, logits, labels, N, C\), got 4$/],
  ['softmaxCrossEntropyBackward', 'a label equal to C', backward(f32(20), f32(20), labels(10, 0)), RangeError, /^softmaxCrossEntropyBackward: labels\[0\] = 10 is not a class index in \[0, 10\)$/],
  ['softmaxCrossEntropyBackward', 'labels a Float32Array', backward(f32(20), f32(20), new Float32Array(2)), TypeError, /^softmaxCrossEntropyBackward: labels must be a Int32Array$/],
  ['softmaxCrossEntropyBackward', 'scale a string', backward(f32(20), f32(20), labels(1, 2), '0.5'), TypeError, /^softmaxCrossEntropyBackward: scale must be a number$/],
  ['softmaxCrossEntropyBackward', 'dlogits wrong length', backward(f32(19), f32(20), labels(1, 2)), RangeError, /^softmaxCrossEntropyBackward: dlogits must have length N\*C = 20, got 19$/],
  ['softmaxCrossEntropyBackward', 'dlogits is probs', backward(buffer.subarray(0, 20), buffer.subarray(0, 20), labels(1, 2)), RangeError, /^softmaxCrossEntropyBackward: dlogits must not share memory with probs$/],
];

function expectThrows(fn: (...a: unknown[]) => unknown, args: unknown[], type: ErrorConstructor, message: RegExp): void {
  expect(() => fn(...args)).toThrow(type);
  expect(() => fn(...args)).toThrow(message);
}

describeBackends('softmaxCrossEntropy bad input', (backend) => {
  it.each(BAD)('%s: %s', (kernel, _name, args, type, message) => {
    expectThrows(backend()[kernel as keyof Kernels] as (...a: unknown[]) => unknown, args, type, message);
  });
});

describe('softmaxCrossEntropy bad input at the native boundary (the addon without the TS checks)', () => {
  const load = loadNative();
  it.skipIf(!load.ok).each(BAD)('%s: %s', (kernel, _name, args, type, message) => {
    if (!load.ok) return;
    expectThrows(load.addon[kernel as keyof Kernels] as (...a: unknown[]) => unknown, args, type, message);
  });
});
