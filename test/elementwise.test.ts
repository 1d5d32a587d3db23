/**
 * ReLU, Sigmoid and dropout on every backend and CPU path against float64 references written from the
 * definitions in src/kernels/kernels.ts; native against TS; dropout's mask against an independent BigInt
 * rendering of its hash; bad input from both backends and from the raw addon.
 *
 * Tolerance: relu and dropout only select or multiply once, so they must be exact (float32 rounding of the
 * product); sigmoid: |a - r| <= 1e-7 + 1e-5 |r| (a float32 exp), its backward two products: 1e-5 + 1e-4 |r|.
 * Lengths run up to 2^19 + 5, so the native kernels split their work over threads.
 */
import { describe, expect, it } from 'vitest';
import { getBackend, nativeAvailable } from '../src/kernels/backend.js';
import type { Kernels } from '../src/kernels/kernels.js';
import { loadNative } from '../src/kernels/native.js';
import { describeBackends } from './support/backends.js';
import { mismatches } from './support/compare.js';
import { randomFloat32, seededRandom } from './support/random.js';

const LENGTHS = [0, 1, 7, 1000, 100003, (1 << 19) + 5];

/** Uniform in [-8, 8): both tails of the sigmoid and plenty of negatives for the relu. */
const input = (length: number, random: () => number) => randomFloat32(length, random).map((v) => 8 * v);

/** The dropout hash written with BigInt arithmetic mod 2^32, independently of the kernels' Math.imul. */
function keepReference(seed: number, i: number, p: number): boolean {
  const M = 0xffffffffn;
  let h = (BigInt(seed) ^ (BigInt(i) * 0x9e3779b9n)) & M;
  h ^= h >> 16n;
  h = (h * 0x85ebca6bn) & M;
  h ^= h >> 13n;
  h = (h * 0xc2b2ae35n) & M;
  h ^= h >> 16n;
  return Number(h) >= Math.floor(p * 2 ** 32);
}

describeBackends('elementwise', (backend) => {
  const random = seededRandom(31);

  it.each(LENGTHS)('reluForward and reluBackward, length %i', (length) => {
    const x = input(length, random);
    const dy = randomFloat32(length, random);
    const y = new Float32Array(length).fill(NaN);
    const dx = new Float32Array(length).fill(NaN);
    backend().reluForward(y, x, length);
    backend().reluBackward(dx, dy, y, length);
    expect(mismatches(y, Array.from(x, (v) => Math.max(v, 0)), 0, 0, 'y')).toBe('');
    expect(mismatches(dx, Array.from(x, (v, i) => (v > 0 ? dy[i] : 0)), 0, 0, 'dx')).toBe('');
  });

  it('relu propagates NaN forward and passes no gradient through it', () => {
    const y = new Float32Array(3);
    const dx = new Float32Array(3);
    backend().reluForward(y, new Float32Array([NaN, -1, 2]), 3);
    backend().reluBackward(dx, new Float32Array([5, 5, 5]), y, 3);
    expect(Array.from(y)).toEqual([NaN, 0, 2]);
    expect(Array.from(dx)).toEqual([0, 0, 5]);
  });

  it.each(LENGTHS)('sigmoidForward and sigmoidBackward, length %i', (length) => {
    const x = input(length, random);
    const dy = randomFloat32(length, random);
    const y = new Float32Array(length).fill(NaN);
    const dx = new Float32Array(length).fill(NaN);
    backend().sigmoidForward(y, x, length);
    backend().sigmoidBackward(dx, dy, y, length);
    expect(mismatches(y, Array.from(x, (v) => 1 / (1 + Math.exp(-v))), 1e-5, 1e-7, 'y')).toBe('');
    expect(mismatches(dx, Array.from(y, (s, i) => dy[i] * s * (1 - s)), 1e-4, 1e-5, 'dx')).toBe('');
  });

  it('sigmoid saturates to exactly 0 and 1 without NaN', () => {
    const y = new Float32Array(4);
    backend().sigmoidForward(y, new Float32Array([-1e4, -200, 200, 1e4]), 4);
    expect(Array.from(y)).toEqual([0, 0, 1, 1]);
  });

  it.each([[0.5, 7], [0.1, 123456789], [0.9, 0xffffffff], [0.3, 0]])('dropout p=%f seed=%i: the mask, y and dx, exactly', (p, seed) => {
    const length = 20011;
    const x = input(length, random);
    const dy = randomFloat32(length, random);
    const y = new Float32Array(length).fill(NaN);
    const mask = new Float32Array(length).fill(NaN);
    const dx = new Float32Array(length).fill(NaN);
    backend().dropoutForward(y, mask, x, length, p, seed);
    backend().dropoutBackward(dx, dy, mask, length);
    const scale = Math.fround(1 / (1 - p));
    const expectedMask = Array.from({ length }, (_, i) => (keepReference(seed, i, p) ? scale : 0));
    expect(mismatches(mask, expectedMask, 0, 0, 'mask')).toBe('');
    expect(mismatches(y, Array.from(x, (v, i) => Math.fround(v * expectedMask[i])), 0, 0, 'y')).toBe('');
    expect(mismatches(dx, Array.from(dy, (v, i) => Math.fround(v * expectedMask[i])), 0, 0, 'dx')).toBe('');
  });

  it.each([0.1, 0.5, 0.9])('dropout p=%f keeps a fraction 1 - p of the values, within 5 sigma', (p) => {
    const length = (1 << 19) + 5;
    const mask = new Float32Array(length);
    backend().dropoutForward(new Float32Array(length), mask, new Float32Array(length).fill(1), length, p, 2024);
    const kept = mask.reduce((count, m) => count + (m !== 0 ? 1 : 0), 0);
    expect(Math.abs(kept / length - (1 - p))).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / length));
  });

  it('dropout with p = 0 keeps everything and y = x; another seed gives another mask', () => {
    const length = 4099;
    const x = input(length, random);
    const y = new Float32Array(length);
    const mask = new Float32Array(length);
    backend().dropoutForward(y, mask, x, length, 0, 99);
    expect(mask.every((m) => m === 1)).toBe(true);
    expect(mismatches(y, x, 0, 0, 'y')).toBe('');
    const a = new Float32Array(length);
    const b = new Float32Array(length);
    backend().dropoutForward(new Float32Array(length), a, x, length, 0.5, 1);
    backend().dropoutForward(new Float32Array(length), b, x, length, 0.5, 2);
    expect(mismatches(a, b, 0, 0)).not.toBe('');
  });
});

describe.skipIf(!nativeAvailable())('elementwise: native against TS on the same inputs', () => {
  const random = seededRandom(37);
  const both = (run: (k: Kernels) => Float32Array[]) => [run(getBackend('native')), run(getBackend('ts'))];

  it.each(LENGTHS)('relu, sigmoid and dropout, length %i (dropout bit for bit)', (length) => {
    const x = input(length, random);
    const dy = randomFloat32(length, random);
    const [native, ts] = both((k) => {
      const out = Array.from({ length: 7 }, () => new Float32Array(length));
      k.reluForward(out[0], x, length);
      k.reluBackward(out[1], dy, out[0], length);
      k.sigmoidForward(out[2], x, length);
      k.sigmoidBackward(out[3], dy, out[2], length);
      k.dropoutForward(out[4], out[5], x, length, 0.37, 0xdeadbeef);
      k.dropoutBackward(out[6], dy, out[5], length);
      return out;
    });
    const tolerances = [0, 0, 1e-4, 1e-4, 0, 0, 0];
    native.forEach((a, i) => expect(mismatches(a, ts[i], tolerances[i], tolerances[i] * 1e-2, `output ${i}`)).toBe(''));
  });
});

// Bad input. Valid calls have length 4.
const buffer = new Float32Array(64);
const f32 = (n: number) => new Float32Array(n);
const dropout = (p: unknown, seed: unknown, y = f32(4), mask = f32(4), x = f32(4)) => [y, mask, x, 4, p, seed];

type Bad = [string, string, unknown[], ErrorConstructor, RegExp];
const BAD: Bad[] = [
  ['reluForward', 'y too short', [f32(3), f32(4), 4], RangeError, /^reluForward: y must have length length = 4, got 3$/],
  ['reluForward', 'x a Float64Array', [f32(4), new Float64Array(4), 4], TypeError, /^reluForward: x must be a Float32Array$/],
  ['reluForward', 'length negative', [f32(4), f32(4), -4], RangeError, /^reluForward: length must be an integer in \[0, 2\^31\), got -4$/],
  ['reluForward', 'in place (y is x)', [buffer.subarray(0, 4), buffer.subarray(0, 4), 4], RangeError, /^reluForward: y must not share memory with x$/],
  ['reluForward', 'too few arguments', [f32(4), f32(4)], TypeError, /^reluForward: expected 3 arguments \(y, x, length\), got 2$/],
  ['reluBackward', 'y wrong length', [f32(4), f32(4), f32(5), 4], RangeError, /^reluBackward: y must have length length = 4, got 5$/],
  ['reluBackward', 'dx overlaps dy', [buffer.subarray(0, 4), buffer.subarray(2, 6), f32(4), 4], RangeError, /^reluBackward: dx must not share memory with dy$/],
  ['sigmoidForward', 'y an Int32Array', [new Int32Array(4), f32(4), 4], TypeError, /^sigmoidForward: y must be a Float32Array$/],
  ['sigmoidForward', 'length a string', [f32(4), f32(4), '4'], TypeError, /^sigmoidForward: length must be a number$/],
  ['sigmoidBackward', 'dx overlaps y', [buffer.subarray(8, 12), f32(4), buffer.subarray(11, 15), 4], RangeError, /^sigmoidBackward: dx must not share memory with y$/],
  ['sigmoidBackward', 'dy missing', [f32(4), undefined, f32(4), 4], TypeError, /^sigmoidBackward: dy must be a Float32Array$/],
  ['dropoutForward', 'p = 1', dropout(1, 0), RangeError, /^dropoutForward: p must be in \[0, 1\), got 1$/],
  ['dropoutForward', 'p negative', dropout(-0.1, 0), RangeError, /^dropoutForward: p must be in \[0, 1\), got -0.1$/],
  ['dropoutForward', 'p NaN', dropout(NaN, 0), RangeError, /^dropoutForward: p must be in \[0, 1\), got NaN$/],
  ['dropoutForward', 'p a string', dropout('0.5', 0), TypeError, /^dropoutForward: p must be a number$/],
  ['dropoutForward', 'seed negative', dropout(0.5, -1), RangeError, /^dropoutForward: seed must be an integer in \[0, 2\^32\), got -1$/],
  ['dropoutForward', 'seed 2^32', dropout(0.5, 2 ** 32), RangeError, /^dropoutForward: seed must be an integer in \[0, 2\^32\), got 4294967296$/],
  ['dropoutForward', 'seed fractional', dropout(0.5, 1.5), RangeError, /^dropoutForward: seed must be an integer in \[0, 2\^32\), got 1.5$/],
  ['dropoutForward', 'mask wrong length', dropout(0.5, 1, f32(4), f32(8)), RangeError, /^dropoutForward: mask must have length length = 4, got 8$/],
  ['dropoutForward', 'y overlaps mask', dropout(0.5, 1, buffer.subarray(16, 20), buffer.subarray(19, 23)), RangeError, /^dropoutForward: y must not share memory with mask$/],
  ['dropoutForward', 'mask overlaps x', dropout(0.5, 1, f32(4), buffer.subarray(24, 28), buffer.subarray(26, 30)), RangeError, /^dropoutForward: mask must not share memory with x$/],
  ['dropoutBackward', 'mask a Float64Array', [f32(4), f32(4), new Float64Array(4), 4], TypeError, /^dropoutBackward: mask must be a Float32Array$/],
  ['dropoutBackward', 'dx is mask', [buffer.subarray(32, 36), f32(4), buffer.subarray(32, 36), 4], RangeError, /^dropoutBackward: dx must not share memory with mask$/],
];

function expectThrows(fn: (...a: unknown[]) => unknown, args: unknown[], type: ErrorConstructor, message: RegExp): void {
  expect(() => fn(...args)).toThrow(type);
  expect(() => fn(...args)).toThrow(message);
}

describeBackends('elementwise bad input', (backend) => {
  it.each(BAD)('%s: %s', (kernel, _name, args, type, message) => {
    expectThrows(backend()[kernel as keyof Kernels] as (...a: unknown[]) => unknown, args, type, message);
  });
});

describe('elementwise bad input at the native boundary (the addon without the TS checks)', () => {
  const load = loadNative();
  it.skipIf(!load.ok).each(BAD)('%s: %s', (kernel, _name, args, type, message) => {
    if (!load.ok) return;
    expectThrows(load.addon[kernel as keyof Kernels] as (...a: unknown[]) => unknown, args, type, message);
  });
});
