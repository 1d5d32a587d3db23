/** Bad input to gemm: a TypeError or RangeError naming the argument, from both backends and from the raw addon. */
import { describe, expect, it } from 'vitest';
import { loadNative } from '../src/kernels/native.js';
import type { Kernels } from '../src/kernels/kernels.js';
import { describeBackends } from './support/backends.js';

type GemmArgs = Parameters<Kernels['gemm']>;

/** A valid call: M=2, N=3, K=4. */
function valid(): GemmArgs {
  return [false, false, 2, 3, 4, 1, new Float32Array(8), new Float32Array(12), 0, new Float32Array(6)];
}

function withArg(index: number, value: unknown): unknown[] {
  const args: unknown[] = valid();
  args[index] = value;
  return args;
}

const shared = new Float32Array(100);
const BAD: [string, unknown[], ErrorConstructor, RegExp][] = [
  ['A too short', withArg(6, new Float32Array(7)), RangeError, /gemm: A must have length M\*K = 8, got 7/],
  ['A too long', withArg(6, new Float32Array(9)), RangeError, /gemm: A must have length M\*K = 8, got 9/],
  ['B wrong length', withArg(7, new Float32Array(11)), RangeError, /gemm: B must have length K\*N = 12, got 11/],
  ['C wrong length', withArg(9, new Float32Array(5)), RangeError, /gemm: C must have length M\*N = 6, got 5/],
  ['A a Float64Array', withArg(6, new Float64Array(8)), TypeError, /gemm: A must be a Float32Array/],
  ['B a plain array', withArg(7, new Array(12).fill(0)), TypeError, /gemm: B must be a Float32Array/],
  ['C null', withArg(9, null), TypeError, /gemm: C must be a Float32Array/],
  ['M negative', withArg(2, -1), RangeError, /gemm: M must be an integer in \[0, 2\^31\), got -1/],
  ['N fractional', withArg(3, 2.5), RangeError, /gemm: N must be an integer/],
  ['K NaN', withArg(4, NaN), RangeError, /gemm: K must be an integer/],
  ['K huge', withArg(4, 2 ** 40), RangeError, /gemm: K must be an integer/],
  ['M a string', withArg(2, '2'), TypeError, /gemm: M must be a number/],
  ['transA a number', withArg(0, 0), TypeError, /gemm: transA must be a boolean/],
  ['alpha a string', withArg(5, '1'), TypeError, /gemm: alpha must be a number/],
  ['beta undefined', withArg(8, undefined), TypeError, /gemm: beta must be a number/],
  ['too few arguments', valid().slice(0, 9), TypeError, /gemm: expected 10 arguments/],
  ['C is A', (() => { const a = valid(); a[9] = a[6].subarray(0, 6); return a; })(), RangeError, /gemm: C must not share memory with A/],
  ['C overlaps B', [false, false, 2, 3, 4, 1, new Float32Array(8), shared.subarray(10, 22), 0, shared.subarray(20, 26)], RangeError, /gemm: C must not share memory with B/],
];

describeBackends('gemm bad input', (backend) => {
  it.each(BAD)('%s', (_name, args, type, message) => {
    const gemm = backend().gemm as (...a: unknown[]) => void;
    expect(() => gemm(...args)).toThrow(type);
    expect(() => gemm(...args)).toThrow(message);
  });

  it('accepts views of one buffer that do not overlap', () => {
    const buffer = new Float32Array(26);
    backend().gemm(false, false, 2, 3, 4, 1, buffer.subarray(0, 8), buffer.subarray(8, 20), 0, buffer.subarray(20, 26));
  });
});

describe('gemm bad input at the native boundary (the addon without the TS checks)', () => {
  const load = loadNative();
  it.skipIf(!load.ok).each(BAD)('%s', (_name, args, type, message) => {
    if (!load.ok) return;
    const gemm = load.addon.gemm as (...a: unknown[]) => void;
    expect(() => gemm(...args)).toThrow(type);
    expect(() => gemm(...args)).toThrow(message);
  });
});
