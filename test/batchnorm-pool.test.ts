/**
 * BatchNorm2d's training forward with the max-pool fused (batchnormPoolForwardTrain): on every backend and CPU path
 * bit for bit the two kernels it replaces (batchnormForwardTrain, then maxpoolForward), whose own tests hold them to
 * the definitions; native against TS on random inputs; its argument checks.
 */
import { describe, expect, it } from 'vitest';
import { getBackend, nativeAvailable, type Backend } from '../src/kernels/backend.js';
import { loadNative } from '../src/kernels/native.js';
import { describeBackends } from './support/backends.js';
import { mismatches } from './support/compare.js';
import { randomFloat32, seededRandom } from './support/random.js';

interface Case { N: number; C: number; H: number; W: number; K: number; stride: number }

const CASES: Case[] = [
  { N: 8, C: 20, H: 24, W: 24, K: 2, stride: 2 }, // the CNN's first block
  { N: 8, C: 50, H: 10, W: 10, K: 2, stride: 2 }, // its second
  { N: 3, C: 4, H: 7, W: 9, K: 2, stride: 2 }, // odd H and W: the last row and column are normalized, not pooled
  { N: 2, C: 3, H: 7, W: 9, K: 3, stride: 2 }, // overlapping windows
  { N: 2, C: 5, H: 6, W: 6, K: 3, stride: 3 },
  { N: 1, C: 2, H: 2, W: 1, K: 1, stride: 1 }, // two values a channel
];

const out = (size: number, k: number, stride: number) => Math.floor((size - k) / stride) + 1;

function inputs(c: Case, seed: number) {
  const random = seededRandom(seed);
  return {
    x: randomFloat32(c.N * c.C * c.H * c.W, random).map((v, i) => 3 * v + (i % 7)),
    gamma: randomFloat32(c.C, random).map((v, i) => (i % 3 === 2 ? -v - 0.5 : v + 1.5)), // some negative: the max flips
    beta: randomFloat32(c.C, random),
  };
}

/** Outputs and statistics of one forward, fused or as the two kernels. */
function run(k: Backend, c: Case, input: ReturnType<typeof inputs>, relu: boolean, fused: boolean) {
  const pooled = c.N * c.C * out(c.H, c.K, c.stride) * out(c.W, c.K, c.stride);
  const o = {
    y: new Float32Array(pooled), argmax: new Int32Array(pooled), mean: new Float32Array(c.C), invStd: new Float32Array(c.C),
    runningMean: new Float32Array(c.C).fill(0.25), runningVar: new Float32Array(c.C).fill(2),
  };
  const { x, gamma, beta } = input;
  if (fused) {
    k.batchnormPoolForwardTrain(o.y, o.argmax, o.mean, o.invStd, o.runningMean, o.runningVar, x, gamma, beta,
      c.N, c.C, c.H, c.W, c.K, c.K, c.stride, 0.1, 1e-5, relu);
  } else {
    const full = new Float32Array(x.length);
    k.batchnormForwardTrain(full, o.mean, o.invStd, o.runningMean, o.runningVar, x, gamma, beta, c.N, c.C, c.H * c.W, 0.1, 1e-5, relu);
    k.maxpoolForward(o.y, o.argmax, full, c.N, c.C, c.H, c.W, c.K, c.K, c.stride);
  }
  return o;
}

describeBackends('batchnormPoolForwardTrain', (backend) => {
  it.each(CASES.flatMap((c) => [[c, false], [c, true]] as [Case, boolean][]))('%o relu %s: the two kernels\' bits', (c, relu) => {
    const input = inputs(c, c.N * 31 + c.C);
    const fused = run(backend(), c, input, relu, true);
    const two = run(backend(), c, input, relu, false);
    for (const key of Object.keys(two) as (keyof typeof two)[]) expect(fused[key], key).toEqual(two[key]);
  });

  it('propagates a NaN in x to its channel, as the two kernels do', () => {
    const c: Case = { N: 2, C: 3, H: 4, W: 4, K: 2, stride: 2 };
    const input = inputs(c, 5);
    input.x[c.H * c.W + 5] = NaN; // channel 1 of image 0
    const fused = run(backend(), c, input, true, true);
    const two = run(backend(), c, input, true, false);
    expect(fused.y).toEqual(two.y);
    expect(fused.argmax).toEqual(two.argmax);
    expect(Number.isNaN(fused.mean[1]) && !Number.isNaN(fused.mean[0])).toBe(true);
  });
});

describe.skipIf(!nativeAvailable())('batchnormPoolForwardTrain: native against TS on random inputs', () => {
  const cases: Case[] = [{ N: 256, C: 20, H: 24, W: 24, K: 2, stride: 2 }, { N: 64, C: 50, H: 10, W: 10, K: 2, stride: 2 }, CASES[3]];
  it.each(cases.flatMap((c) => [[c, false], [c, true]] as [Case, boolean][]))('%o relu %s', (c, relu) => {
    const input = inputs(c, 77);
    const native = run(getBackend('native'), c, input, relu, true);
    const ts = run(getBackend('ts'), c, input, relu, true);
    // Not argmax: a window's near-tie may round either way; y holds the maxima themselves.
    for (const key of ['y', 'mean', 'invStd', 'runningMean', 'runningVar'] as const) {
      expect(mismatches(native[key], ts[key], 1e-4, 1e-5, key)).toBe('');
    }
  });
});

// Bad input. A valid call: N=1, C=2, H=W=4, 2x2, stride 2: y and argmax 8, x 32, per-channel arrays 2.
const f32 = (n: number) => new Float32Array(n);
const call = (over: Record<number, unknown> = {}, extra: unknown[] = []) => {
  const args: unknown[] = [f32(8), new Int32Array(8), f32(2), f32(2), f32(2), f32(2), f32(32), f32(2), f32(2), 1, 2, 4, 4, 2, 2, 2, 0.1, 1e-5, true];
  for (const [i, v] of Object.entries(over)) args[Number(i)] = v;
  return [...args, ...extra];
};
const shared = new ArrayBuffer(256);
const BAD: [string, unknown[], ErrorConstructor, RegExp][] = [
  ['y too short', call({ 0: f32(7) }), RangeError, /^batchnormPoolForwardTrain: y must have length N\*C\*OH\*OW = 8, got 7$/],
  ['argmax a Float32Array', call({ 1: f32(8) }), TypeError, /^batchnormPoolForwardTrain: argmax must be a Int32Array$/],
  ['gamma wrong length', call({ 7: f32(3) }), RangeError, /^batchnormPoolForwardTrain: gamma must have length C = 2, got 3$/],
  ['x wrong length', call({ 6: f32(31) }), RangeError, /^batchnormPoolForwardTrain: x must have length N\*C\*H\*W = 32, got 31$/],
  ['window does not fit W', call({ 14: 5 }), RangeError, /^batchnormPoolForwardTrain: the 5-wide window does not fit W = 4 with padding 0$/],
  ['stride 0', call({ 15: 0 }), RangeError, /^batchnormPoolForwardTrain: stride must be an integer in \[1, 2\^31\), got 0$/],
  ['momentum above 1', call({ 16: 1.5 }), RangeError, /^batchnormPoolForwardTrain: momentum must be in \[0, 1\], got 1.5$/],
  ['relu not a boolean', call({ 18: 1 }), TypeError, /^batchnormPoolForwardTrain: relu must be a boolean/],
  ['one value per channel', call({ 0: f32(2), 1: new Int32Array(2), 6: f32(2), 11: 1, 12: 1, 13: 1, 14: 1, 15: 1 }), RangeError,
    /^batchnormPoolForwardTrain: training needs more than one value per channel, got N\*H\*W = 1$/],
  ['y shares memory with x', call({ 0: new Float32Array(shared, 0, 8), 6: new Float32Array(shared, 16, 32) }), RangeError,
    /^batchnormPoolForwardTrain: y must not share memory with x$/],
  ['too many arguments', call({}, [0]), TypeError, /^batchnormPoolForwardTrain: expected 19 arguments/],
];

describeBackends('batchnormPoolForwardTrain bad input', (backend) => {
  it.each(BAD)('%s', (_name, args, type, message) => {
    const fn = () => (backend().batchnormPoolForwardTrain as (...a: unknown[]) => void)(...args);
    expect(fn).toThrow(type);
    expect(fn).toThrow(message);
  });
});

describe('batchnormPoolForwardTrain bad input at the native boundary (the addon without the TS checks)', () => {
  const load = loadNative();
  it.skipIf(!load.ok).each(BAD)('%s', (_name, args, type, message) => {
    if (!load.ok) return;
    const fn = () => (load.addon.batchnormPoolForwardTrain as (...a: unknown[]) => void)(...args);
    expect(fn).toThrow(type);
    expect(fn).toThrow(message);
  });
});
