/**
 * Max pooling on every backend and CPU path against a float64 reference written from the definition in
 * src/kernels/kernels.ts (first maximum in kh-outer, kw-inner order; the first NaN of a window wins); native
 * against TS; bad input from both backends and from the raw addon.
 *
 * Tolerance: forward only selects, so y and argmax must be exact; backward adds float32 values where windows
 * overlap: |a - r| <= 1e-5 + 1e-4 |r|.
 */
import { describe, expect, it } from 'vitest';
import { getBackend, nativeAvailable } from '../src/kernels/backend.js';
import type { Kernels } from '../src/kernels/kernels.js';
import { loadNative } from '../src/kernels/native.js';
import { describeBackends } from './support/backends.js';
import { mismatches } from './support/compare.js';
import { randomFloat32, seededRandom } from './support/random.js';

const RTOL = 1e-4;
const ATOL = 1e-5;

interface Shape { N: number; C: number; H: number; W: number; KH: number; KW: number; stride: number }

const SHAPES: Shape[] = [
  { N: 1, C: 1, H: 1, W: 1, KH: 1, KW: 1, stride: 1 }, // tiny
  { N: 1, C: 1, H: 5, W: 7, KH: 2, KW: 2, stride: 2 }, // 2x2 stride 2 on odd H and W: the last row and column drop
  { N: 2, C: 3, H: 7, W: 9, KH: 3, KW: 3, stride: 2 }, // overlapping windows
  { N: 2, C: 3, H: 6, W: 5, KH: 3, KW: 2, stride: 1 },
  { N: 1, C: 2, H: 4, W: 4, KH: 4, KW: 4, stride: 1 }, // one window per plane
  { N: 4, C: 8, H: 11, W: 11, KH: 3, KW: 3, stride: 3 },
  { N: 32, C: 20, H: 24, W: 24, KH: 2, KW: 2, stride: 2 }, // after MNIST's first convolution
  { N: 1, C: 20, H: 12, W: 12, KH: 2, KW: 2, stride: 2 }, // batch 1
  { N: 2, C: 3, H: 8, W: 34, KH: 2, KW: 2, stride: 2 }, // rows of 17 windows: the AVX2 path's 8 + 8, then one
  { N: 3, C: 2, H: 10, W: 10, KH: 2, KW: 2, stride: 2 }, // rows of 5 (after the CNN's second convolution): 4 + 1
  { N: 0, C: 3, H: 4, W: 4, KH: 2, KW: 2, stride: 2 }, // empty batch
];

const dims = (s: Shape) => {
  const OH = Math.floor((s.H - s.KH) / s.stride) + 1;
  const OW = Math.floor((s.W - s.KW) / s.stride) + 1;
  return { OH, OW, xLength: s.N * s.C * s.H * s.W, yLength: s.N * s.C * OH * OW };
};

function forwardReference(s: Shape, x: Float32Array) {
  const { OH, OW, yLength } = dims(s);
  const y = new Float64Array(yLength);
  const argmax = new Int32Array(yLength);
  for (let plane = 0; plane < s.N * s.C; plane++) {
    for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
      let best = -1;
      for (let kh = 0; kh < s.KH; kh++) for (let kw = 0; kw < s.KW; kw++) {
        const index = (oh * s.stride + kh) * s.W + ow * s.stride + kw;
        const v = x[plane * s.H * s.W + index];
        const current = best < 0 ? NaN : x[plane * s.H * s.W + best];
        const better = best < 0 || (Number.isNaN(v) ? !Number.isNaN(current) : v > current);
        if (better) best = index;
      }
      y[(plane * OH + oh) * OW + ow] = x[plane * s.H * s.W + best];
      argmax[(plane * OH + oh) * OW + ow] = best;
    }
  }
  return { y, argmax };
}

function backwardReference(s: Shape, dy: Float32Array, argmax: Int32Array): Float64Array {
  const { OH, OW, xLength } = dims(s);
  const dx = new Float64Array(xLength);
  for (let plane = 0; plane < s.N * s.C; plane++) {
    for (let o = 0; o < OH * OW; o++) dx[plane * s.H * s.W + argmax[plane * OH * OW + o]] += dy[plane * OH * OW + o];
  }
  return dx;
}

/** Random values, or values from {-1, 0, 1} so that most windows hold ties. */
function input(length: number, random: () => number, ties: boolean): Float32Array {
  const x = randomFloat32(length, random);
  return ties ? x.map((v) => Math.round(v)) : x;
}

describeBackends('maxpool', (backend) => {
  const random = seededRandom(17);

  describe.each([false, true])('ties %s', (ties) => {
    it.each(SHAPES)('forward takes the first maximum: %o', (s) => {
      const x = input(dims(s).xLength, random, ties);
      const y = new Float32Array(dims(s).yLength).fill(NaN);
      const argmax = new Int32Array(dims(s).yLength).fill(-1);
      backend().maxpoolForward(y, argmax, x, s.N, s.C, s.H, s.W, s.KH, s.KW, s.stride);
      const ref = forwardReference(s, x);
      expect(mismatches(y, ref.y, 0, 0, 'y')).toBe('');
      expect(mismatches(argmax, ref.argmax, 0, 0, 'argmax')).toBe('');
    });

    it.each(SHAPES)('backward scatters dy to the argmax, adding where windows overlap: %o', (s) => {
      const x = input(dims(s).xLength, random, ties);
      const dy = randomFloat32(dims(s).yLength, random);
      const { argmax } = forwardReference(s, x);
      const dx = new Float32Array(dims(s).xLength).fill(NaN);
      backend().maxpoolBackward(dx, dy, argmax, s.N, s.C, s.H, s.W, s.KH, s.KW, s.stride);
      expect(mismatches(dx, backwardReference(s, dy, argmax), RTOL, ATOL, 'dx')).toBe('');
    });
  });

  it('backward takes any in-plane argmax, including every output on one pixel', () => {
    const s = SHAPES[2];
    const dy = randomFloat32(dims(s).yLength, random);
    const argmax = Int32Array.from({ length: dims(s).yLength }, (_, i) => (i % 3 === 0 ? 0 : Math.floor(random() * s.H * s.W)));
    const dx = new Float32Array(dims(s).xLength);
    backend().maxpoolBackward(dx, dy, argmax, s.N, s.C, s.H, s.W, s.KH, s.KW, s.stride);
    expect(mismatches(dx, backwardReference(s, dy, argmax), RTOL, ATOL, 'dx')).toBe('');
  });

  it('backward on 2x2 windows takes an argmax outside its own window as any other, and 0 + -0 as +0', () => {
    // The 2x2 path writes each window's four values in place of zeroing and scattering, and falls back to that
    // when an argmax lies outside its window: one per plane here, in the vector part of a row or in its tail.
    const s: Shape = { N: 2, C: 3, H: 8, W: 26, KH: 2, KW: 2, stride: 2 };
    const { OW, yLength } = dims(s);
    const dy = randomFloat32(yLength, random).map((v, i) => (i % 5 === 0 ? -0 : v));
    const { argmax } = forwardReference(s, randomFloat32(dims(s).xLength, random));
    const outside = Int32Array.from(argmax);
    for (let plane = 0; plane < s.N * s.C; plane++) outside[plane * yLength / (s.N * s.C) + (plane % 2 ? OW - 1 : 3)] = plane;
    for (const a of [argmax, outside]) {
      const dx = new Float32Array(dims(s).xLength).fill(NaN);
      backend().maxpoolBackward(dx, dy, a, s.N, s.C, s.H, s.W, s.KH, s.KW, s.stride);
      expect(mismatches(dx, backwardReference(s, dy, a), RTOL, ATOL, 'dx')).toBe('');
      expect(dx.every((v) => !Object.is(v, -0))).toBe(true);
    }
  });

  it('lets a NaN win its window (the first NaN), and keeps -Infinity windows', () => {
    // One 4x4 plane, 2x2 windows, stride 2: [NaN after a larger value], [two NaNs], [all -Infinity], [plain].
    const x = new Float32Array([
      5, NaN, 1, 2,
      0, 1, NaN, NaN,
      -Infinity, -Infinity, 3, 4,
      -Infinity, -Infinity, 4, 1,
    ]);
    const y = new Float32Array(4);
    const argmax = new Int32Array(4);
    backend().maxpoolForward(y, argmax, x, 1, 1, 4, 4, 2, 2, 2);
    expect(Array.from(y)).toEqual([NaN, NaN, -Infinity, 4]);
    expect(Array.from(argmax)).toEqual([1, 6, 8, 11]);
  });
});

describe.skipIf(!nativeAvailable())('maxpool: native against TS on the same inputs', () => {
  const random = seededRandom(29);
  it.each(SHAPES)('%o', (s) => {
    const x = input(dims(s).xLength, random, s.N % 2 === 0);
    const dy = randomFloat32(dims(s).yLength, random);
    const [native, ts] = [getBackend('native'), getBackend('ts')].map((k: Kernels) => {
      const y = new Float32Array(dims(s).yLength);
      const argmax = new Int32Array(dims(s).yLength);
      const dx = new Float32Array(dims(s).xLength);
      k.maxpoolForward(y, argmax, x, s.N, s.C, s.H, s.W, s.KH, s.KW, s.stride);
      k.maxpoolBackward(dx, dy, argmax, s.N, s.C, s.H, s.W, s.KH, s.KW, s.stride);
      return { y, argmax, dx };
    });
    expect(mismatches(native.y, ts.y, 0, 0, 'y')).toBe('');
    expect(mismatches(native.argmax, ts.argmax, 0, 0, 'argmax')).toBe('');
    expect(mismatches(native.dx, ts.dx, 1e-4, 1e-6, 'dx')).toBe('');
  });
});

// Bad input. A valid call: N=1, C=2, H=W=4, 2x2, stride 2 -> OH=OW=2: y and argmax 8, x and dx 32.
const buffer = new ArrayBuffer(1024);
const forward = (y: unknown, argmax: unknown, x: unknown, ...dims: unknown[]) => [y, argmax, x, ...(dims.length > 0 ? dims : [1, 2, 4, 4, 2, 2, 2])];
const backward = (dx: unknown, dy: unknown, argmax: unknown, ...dims: unknown[]) => [dx, dy, argmax, ...(dims.length > 0 ? dims : [1, 2, 4, 4, 2, 2, 2])];
const f32 = (n: number) => new Float32Array(n);
const i32 = (n: number, fill = 0) => new Int32Array(n).fill(fill);
const withValue = (a: Int32Array, index: number, value: number) => { a[index] = value; return a; };

type Bad = [string, string, unknown[], ErrorConstructor, RegExp];
const BAD: Bad[] = [
  ['maxpoolForward', 'y too short', forward(f32(7), i32(8), f32(32)), RangeError, /^maxpoolForward: y must have length N\*C\*OH\*OW = 8, got 7$/],
  ['maxpoolForward', 'argmax a Float32Array', forward(f32(8), f32(8), f32(32)), TypeError, /^maxpoolForward: argmax must be a Int32Array$/],
  ['maxpoolForward', 'argmax wrong length', forward(f32(8), i32(9), f32(32)), RangeError, /^maxpoolForward: argmax must have length N\*C\*OH\*OW = 8, got 9$/],
  ['maxpoolForward', 'x wrong length', forward(f32(8), i32(8), f32(31)), RangeError, /^maxpoolForward: x must have length N\*C\*H\*W = 32, got 31$/],
  ['maxpoolForward', 'x a Float64Array', forward(f32(8), i32(8), new Float64Array(32)), TypeError, /^maxpoolForward: x must be a Float32Array$/],
  ['maxpoolForward', 'stride 0', forward(f32(8), i32(8), f32(32), 1, 2, 4, 4, 2, 2, 0), RangeError, /^maxpoolForward: stride must be an integer in \[1, 2\^31\), got 0$/],
  ['maxpoolForward', 'KH 0', forward(f32(8), i32(8), f32(32), 1, 2, 4, 4, 0, 2, 2), RangeError, /^maxpoolForward: KH must be an integer in \[1, 2\^31\), got 0$/],
  ['maxpoolForward', 'window does not fit W', forward(f32(8), i32(8), f32(32), 1, 2, 4, 4, 2, 5, 2), RangeError, /^maxpoolForward: the 5-wide window does not fit W = 4 with padding 0$/],
  ['maxpoolForward', 'C NaN', forward(f32(8), i32(8), f32(32), 1, NaN, 4, 4, 2, 2, 2), RangeError, /^maxpoolForward: C must be an integer in \[0, 2\^31\), got NaN$/],
  ['maxpoolForward', 'huge dims', forward(f32(8), i32(8), f32(32), 2 ** 31 - 1, 2 ** 31 - 1, 2 ** 31 - 1, 2 ** 31 - 1, 2, 2, 2), RangeError, /^maxpoolForward: y must have length N\*C\*OH\*OW = /],
  ['maxpoolForward', 'argmax shares memory with x', forward(f32(8), new Int32Array(buffer, 0, 8), new Float32Array(buffer, 16, 32)), RangeError, /^maxpoolForward: argmax must not share memory with x$/],
  ['maxpoolForward', 'y overlaps x', forward(new Float32Array(buffer, 256, 8), i32(8), new Float32Array(buffer, 240, 32)), RangeError, /^maxpoolForward: y must not share memory with x$/],
  ['maxpoolForward', 'too many arguments', [...forward(f32(8), i32(8), f32(32)), 0], TypeError, /^maxpoolForward: expected 10 arguments \(y, argmax, x, N, C, H, W, KH, KW, stride\), got 11$/],
  ['maxpoolBackward', 'dx wrong length', backward(f32(33), f32(8), i32(8)), RangeError, /^maxpoolBackward: dx must have length N\*C\*H\*W = 32, got 33$/],
  ['maxpoolBackward', 'dy wrong length', backward(f32(32), f32(4), i32(8)), RangeError, /^maxpoolBackward: dy must have length N\*C\*OH\*OW = 8, got 4$/],
  ['maxpoolBackward', 'argmax a Float32Array', backward(f32(32), f32(8), f32(8)), TypeError, /^maxpoolBackward: argmax must be a Int32Array$/],
  ['maxpoolBackward', 'argmax negative', backward(f32(32), f32(8), withValue(i32(8), 3, -1)), RangeError, /^maxpoolBackward: argmax\[3\] = -1 is not an index in \[0, H\*W = 16\)$/],
  ['maxpoolBackward', 'argmax past the plane', backward(f32(32), f32(8), withValue(i32(8), 7, 16)), RangeError, /^maxpoolBackward: argmax\[7\] = 16 is not an index in \[0, H\*W = 16\)$/],
  ['maxpoolBackward', 'argmax far out', backward(f32(32), f32(8), withValue(i32(8), 0, 2 ** 31 - 1)), RangeError, /^maxpoolBackward: argmax\[0\] = 2147483647 is not an index in \[0, H\*W = 16\)$/],
  ['maxpoolBackward', 'stride 0', backward(f32(32), f32(8), i32(8), 1, 2, 4, 4, 2, 2, 0), RangeError, /^maxpoolBackward: stride must be an integer in \[1, 2\^31\), got 0$/],
  ['maxpoolBackward', 'window does not fit H', backward(f32(32), f32(8), i32(8), 1, 2, 1, 4, 2, 2, 2), RangeError, /^maxpoolBackward: the 2-wide window does not fit H = 1 with padding 0$/],
  ['maxpoolBackward', 'dx shares memory with argmax', backward(new Float32Array(buffer, 512, 32), f32(8), new Int32Array(buffer, 600, 8)), RangeError, /^maxpoolBackward: dx must not share memory with argmax$/],
];

function expectThrows(fn: (...a: unknown[]) => unknown, args: unknown[], type: ErrorConstructor, message: RegExp): void {
  expect(() => fn(...args)).toThrow(type);
  expect(() => fn(...args)).toThrow(message);
}

describeBackends('maxpool bad input', (backend) => {
  it.each(BAD)('%s: %s', (kernel, _name, args, type, message) => {
    expectThrows(backend()[kernel as keyof Kernels] as (...a: unknown[]) => unknown, args, type, message);
  });
});

describe('maxpool bad input at the native boundary (the addon without the TS checks)', () => {
  const load = loadNative();
  it.skipIf(!load.ok).each(BAD)('%s: %s', (kernel, _name, args, type, message) => {
    if (!load.ok) return;
    expectThrows(load.addon[kernel as keyof Kernels] as (...a: unknown[]) => unknown, args, type, message);
  });
});
