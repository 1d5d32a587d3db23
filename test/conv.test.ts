/**
 * The conv family (im2col, col2im, convBiasForward, convBiasBackward) on every backend and CPU path against
 * float64 references written from the definitions in src/kernels/kernels.ts; native against TS; im2col's
 * adjoint identity; and bad input, from both backends and from the raw addon.
 *
 * Tolerance: im2col only copies, so it must be exact. col2im adds at most KH*KW float32 values per pixel and
 * the bias kernels one float32 addition (their sums run in double): |a - r| <= 1e-5 + 1e-4 |r|.
 */
import { describe, expect, it } from 'vitest';
import { float64Backend, getBackend, nativeAvailable } from '../src/kernels/backend.js';
import type { Kernels } from '../src/kernels/kernels.js';
import { loadNative } from '../src/kernels/native.js';
import { describeBackends } from './support/backends.js';
import { mismatches } from './support/compare.js';
import { randomFloat32, seededRandom } from './support/random.js';

const RTOL = 1e-4;
const ATOL = 1e-5;

interface Shape { N: number; C: number; H: number; W: number; KH: number; KW: number; stride: number; padding: number }

const SHAPES: Shape[] = [
  { N: 1, C: 1, H: 1, W: 1, KH: 1, KW: 1, stride: 1, padding: 0 }, // tiny
  { N: 1, C: 1, H: 3, W: 3, KH: 3, KW: 3, stride: 1, padding: 1 },
  { N: 2, C: 3, H: 7, W: 5, KH: 3, KW: 2, stride: 2, padding: 1 }, // odd sizes, stride 2, padding 1
  { N: 3, C: 2, H: 5, W: 6, KH: 2, KW: 3, stride: 3, padding: 2 }, // rows and columns wholly in the padding
  { N: 1, C: 2, H: 2, W: 2, KH: 4, KW: 4, stride: 1, padding: 1 }, // the window larger than the image
  { N: 1, C: 16, H: 14, W: 14, KH: 3, KW: 3, stride: 1, padding: 1 }, // batch 1
  { N: 32, C: 1, H: 28, W: 28, KH: 5, KW: 5, stride: 1, padding: 0 }, // MNIST's first convolution
  { N: 8, C: 20, H: 12, W: 12, KH: 3, KW: 3, stride: 1, padding: 1 }, // 20x12x12, 3x3
  { N: 4, C: 20, H: 12, W: 12, KH: 3, KW: 3, stride: 2, padding: 1 },
  { N: 0, C: 2, H: 4, W: 4, KH: 3, KW: 3, stride: 1, padding: 0 }, // empty batch
];

const outSize = (size: number, k: number, s: number, p: number) => Math.floor((size + 2 * p - k) / s) + 1;

function dims(s: Shape) {
  const OH = outSize(s.H, s.KH, s.stride, s.padding);
  const OW = outSize(s.W, s.KW, s.stride, s.padding);
  return { OH, OW, xLength: s.N * s.C * s.H * s.W, colsLength: s.C * s.KH * s.KW * s.N * OH * OW };
}

const label = (s: Shape) => `N=${s.N} C=${s.C} H=${s.H} W=${s.W} KH=${s.KH} KW=${s.KW} stride=${s.stride} padding=${s.padding}`;

/** Visits every (cols index, x index or -1 for padding) pair, straight from the definition. */
function forEachEntry(s: Shape, visit: (col: number, pixel: number) => void): void {
  const { OH, OW } = dims(s);
  for (let c = 0; c < s.C; c++) for (let kh = 0; kh < s.KH; kh++) for (let kw = 0; kw < s.KW; kw++) {
    for (let n = 0; n < s.N; n++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
      const row = (c * s.KH + kh) * s.KW + kw;
      const column = (n * OH + oh) * OW + ow;
      const ih = oh * s.stride + kh - s.padding;
      const iw = ow * s.stride + kw - s.padding;
      const inside = ih >= 0 && ih < s.H && iw >= 0 && iw < s.W;
      visit(row * s.N * OH * OW + column, inside ? ((n * s.C + c) * s.H + ih) * s.W + iw : -1);
    }
  }
}

function im2colReference(s: Shape, x: ArrayLike<number>): Float64Array {
  const cols = new Float64Array(dims(s).colsLength);
  forEachEntry(s, (col, pixel) => { cols[col] = pixel < 0 ? 0 : x[pixel]; });
  return cols;
}

function col2imReference(s: Shape, cols: ArrayLike<number>): Float64Array {
  const dx = new Float64Array(dims(s).xLength);
  forEachEntry(s, (col, pixel) => { if (pixel >= 0) dx[pixel] += cols[col]; });
  return dx;
}

function biasForwardReference(t: Float32Array, bias: Float32Array, N: number, C: number, S: number): Float64Array {
  const y = new Float64Array(N * C * S);
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let s = 0; s < S; s++) {
    y[(n * C + c) * S + s] = t[(c * N + n) * S + s] + bias[c];
  }
  return y;
}

function biasBackwardReference(dy: Float32Array, dbias0: Float32Array, N: number, C: number, S: number) {
  const dt = new Float64Array(N * C * S);
  const dbias = Float64Array.from(dbias0);
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let s = 0; s < S; s++) {
    dt[(c * N + n) * S + s] = dy[(n * C + c) * S + s];
    dbias[c] += dy[(n * C + c) * S + s];
  }
  return { dt, dbias };
}

/** (N, C, S) for the bias kernels: the conv shapes' outputs, plus a few of their own. */
const BIAS_SHAPES: [number, number, number][] = [[1, 1, 1], [2, 3, 5], [1, 16, 196], [32, 20, 576], [8, 20, 144], [5, 7, 13], [0, 4, 9], [3, 0, 4]];

describeBackends('conv', (backend) => {
  const random = seededRandom(11);

  it.each(SHAPES)('im2col copies exactly: %o', (s) => {
    const x = randomFloat32(dims(s).xLength, random);
    const cols = new Float32Array(dims(s).colsLength).fill(NaN); // every entry must be written
    backend().im2col(cols, x, s.N, s.C, s.H, s.W, s.KH, s.KW, s.stride, s.padding);
    expect(mismatches(cols, im2colReference(s, x), 0, 0, `im2col ${label(s)}`)).toBe('');
  });

  it.each(SHAPES)('col2im sums into each pixel: %o', (s) => {
    const cols = randomFloat32(dims(s).colsLength, random);
    const dx = new Float32Array(dims(s).xLength).fill(NaN); // overwritten, not accumulated into
    backend().col2im(dx, cols, s.N, s.C, s.H, s.W, s.KH, s.KW, s.stride, s.padding);
    expect(mismatches(dx, col2imReference(s, cols), RTOL, ATOL, `col2im ${label(s)}`)).toBe('');
  });

  it.each(BIAS_SHAPES)('convBiasForward N=%i C=%i S=%i', (N, C, S) => {
    const t = randomFloat32(N * C * S, random);
    const bias = randomFloat32(C, random);
    const y = new Float32Array(N * C * S).fill(NaN);
    backend().convBiasForward(y, t, bias, N, C, S);
    expect(mismatches(y, biasForwardReference(t, bias, N, C, S), RTOL, ATOL, 'y')).toBe('');
  });

  it.each(BIAS_SHAPES)('convBiasBackward N=%i C=%i S=%i: dt transposes, dbias accumulates', (N, C, S) => {
    const dy = randomFloat32(N * C * S, random).map((v) => v + 0.5); // a nonzero mean per channel
    const dbias0 = randomFloat32(C, random);
    const dt = new Float32Array(N * C * S).fill(NaN);
    const dbias = dbias0.slice();
    backend().convBiasBackward(dt, dbias, dy, N, C, S);
    const ref = biasBackwardReference(dy, dbias0, N, C, S);
    expect(mismatches(dt, ref.dt, 0, 0, 'dt')).toBe('');
    expect(mismatches(dbias, ref.dbias, RTOL, ATOL, 'dbias')).toBe('');
  });

  it('works on views into one buffer', () => {
    const s = SHAPES[2];
    const { xLength, colsLength } = dims(s);
    const buffer = randomFloat32(xLength + colsLength + 10, random);
    const x = buffer.subarray(3, 3 + xLength);
    const cols = buffer.subarray(5 + xLength, 5 + xLength + colsLength);
    backend().im2col(cols, x, s.N, s.C, s.H, s.W, s.KH, s.KW, s.stride, s.padding);
    expect(mismatches(cols, im2colReference(s, x), 0, 0, 'cols')).toBe('');
  });
});

describe('conv: col2im is the adjoint of im2col (float64, TS)', () => {
  it.each(SHAPES)('<im2col(x), c> = <x, col2im(c)>: %o', (s) => {
    const random = seededRandom(5);
    const { xLength, colsLength } = dims(s);
    const x = Float64Array.from({ length: xLength }, () => random() * 2 - 1);
    const c = Float64Array.from({ length: colsLength }, () => random() * 2 - 1);
    const cols = new Float64Array(colsLength);
    const dx = new Float64Array(xLength);
    float64Backend.im2col(cols, x, s.N, s.C, s.H, s.W, s.KH, s.KW, s.stride, s.padding);
    float64Backend.col2im(dx, c, s.N, s.C, s.H, s.W, s.KH, s.KW, s.stride, s.padding);
    let left = 0;
    let right = 0;
    let scale = 0;
    for (let i = 0; i < colsLength; i++) { left += cols[i] * c[i]; scale += Math.abs(cols[i] * c[i]); }
    for (let i = 0; i < xLength; i++) right += x[i] * dx[i];
    expect(Math.abs(left - right)).toBeLessThanOrEqual(1e-12 * (scale + 1));
  });
});

describe.skipIf(!nativeAvailable())('conv: native against TS on the same inputs', () => {
  const random = seededRandom(23);
  const both = (run: (k: Kernels) => Float32Array[]) => [run(getBackend('native')), run(getBackend('ts'))];

  it.each(SHAPES)('im2col and col2im: %o', (s) => {
    const x = randomFloat32(dims(s).xLength, random);
    const c = randomFloat32(dims(s).colsLength, random);
    const [native, ts] = both((k) => {
      const cols = new Float32Array(c.length);
      const dx = new Float32Array(x.length);
      k.im2col(cols, x, s.N, s.C, s.H, s.W, s.KH, s.KW, s.stride, s.padding);
      k.col2im(dx, c, s.N, s.C, s.H, s.W, s.KH, s.KW, s.stride, s.padding);
      return [cols, dx];
    });
    expect(mismatches(native[0], ts[0], 0, 0, 'cols')).toBe('');
    expect(mismatches(native[1], ts[1], 1e-4, 1e-6, 'dx')).toBe('');
  });

  it.each(BIAS_SHAPES)('convBiasForward and convBiasBackward N=%i C=%i S=%i', (N, C, S) => {
    const t = randomFloat32(N * C * S, random);
    const bias = randomFloat32(C, random);
    const dy = randomFloat32(N * C * S, random);
    const [native, ts] = both((k) => {
      const y = new Float32Array(N * C * S);
      const dt = new Float32Array(N * C * S);
      const dbias = bias.slice();
      k.convBiasForward(y, t, bias, N, C, S);
      k.convBiasBackward(dt, dbias, dy, N, C, S);
      return [y, dt, dbias];
    });
    expect(mismatches(native[0], ts[0], 0, 0, 'y')).toBe('');
    expect(mismatches(native[1], ts[1], 0, 0, 'dt')).toBe('');
    expect(mismatches(native[2], ts[2], 1e-4, 1e-6, 'dbias')).toBe('');
  });
});

// Bad input. A valid im2col / col2im call: N=1, C=2, H=W=4, 3x3, stride 1, padding 0 -> OH=OW=2, cols 72, x 32.
const unfoldArgs = (first: Float32Array, second: Float32Array, ...dims: unknown[]) =>
  [first, second, ...(dims.length > 0 ? dims : [1, 2, 4, 4, 3, 3, 1, 0])];
const shared = new Float32Array(200);
const HUGE = 2 ** 31 - 1;

type Bad = [string, string, unknown[], ErrorConstructor, RegExp];
const BAD: Bad[] = [
  ['im2col', 'cols too short', unfoldArgs(new Float32Array(71), new Float32Array(32)), RangeError, /^im2col: cols must have length C\*KH\*KW\*N\*OH\*OW = 72, got 71$/],
  ['im2col', 'x too long', unfoldArgs(new Float32Array(72), new Float32Array(33)), RangeError, /^im2col: x must have length N\*C\*H\*W = 32, got 33$/],
  ['im2col', 'x a Float64Array', unfoldArgs(new Float32Array(72), new Float64Array(32) as never), TypeError, /^im2col: x must be a Float32Array$/],
  ['im2col', 'cols a plain array', unfoldArgs(new Array(72).fill(0) as never, new Float32Array(32)), TypeError, /^im2col: cols must be a Float32Array$/],
  ['im2col', 'stride 0', unfoldArgs(new Float32Array(72), new Float32Array(32), 1, 2, 4, 4, 3, 3, 0, 0), RangeError, /^im2col: stride must be an integer in \[1, 2\^31\), got 0$/],
  ['im2col', 'KW 0', unfoldArgs(new Float32Array(72), new Float32Array(32), 1, 2, 4, 4, 3, 0, 1, 0), RangeError, /^im2col: KW must be an integer in \[1, 2\^31\), got 0$/],
  ['im2col', 'padding negative', unfoldArgs(new Float32Array(72), new Float32Array(32), 1, 2, 4, 4, 3, 3, 1, -1), RangeError, /^im2col: padding must be an integer in \[0, 2\^31\), got -1$/],
  ['im2col', 'H fractional', unfoldArgs(new Float32Array(72), new Float32Array(32), 1, 2, 4.5, 4, 3, 3, 1, 0), RangeError, /^im2col: H must be an integer in \[0, 2\^31\), got 4.5$/],
  ['im2col', 'N a string', unfoldArgs(new Float32Array(72), new Float32Array(32), '1', 2, 4, 4, 3, 3, 1, 0), TypeError, /^im2col: N must be a number$/],
  ['im2col', 'window does not fit H', unfoldArgs(new Float32Array(72), new Float32Array(32), 1, 2, 4, 4, 5, 3, 1, 0), RangeError, /^im2col: the 5-wide window does not fit H = 4 with padding 0$/],
  ['im2col', 'window does not fit W', unfoldArgs(new Float32Array(72), new Float32Array(32), 1, 2, 4, 1, 3, 4, 1, 1), RangeError, /^im2col: the 4-wide window does not fit W = 1 with padding 1$/],
  ['im2col', 'dims whose product overflows', unfoldArgs(new Float32Array(72), new Float32Array(32), HUGE, HUGE, HUGE, HUGE, 3, 3, 1, 0), RangeError, /^im2col: cols must have length C\*KH\*KW\*N\*OH\*OW = /],
  ['im2col', 'too few arguments', unfoldArgs(new Float32Array(72), new Float32Array(32)).slice(0, 9), TypeError, /^im2col: expected 10 arguments \(cols, x, N, C, H, W, KH, KW, stride, padding\), got 9$/],
  ['im2col', 'cols overlaps x', unfoldArgs(shared.subarray(0, 72), shared.subarray(60, 92)), RangeError, /^im2col: cols must not share memory with x$/],
  ['col2im', 'dx wrong length', unfoldArgs(new Float32Array(31), new Float32Array(72)), RangeError, /^col2im: dx must have length N\*C\*H\*W = 32, got 31$/],
  ['col2im', 'cols wrong length', unfoldArgs(new Float32Array(32), new Float32Array(70)), RangeError, /^col2im: cols must have length C\*KH\*KW\*N\*OH\*OW = 72, got 70$/],
  ['col2im', 'cols an Int32Array', unfoldArgs(new Float32Array(32), new Int32Array(72) as never), TypeError, /^col2im: cols must be a Float32Array$/],
  ['col2im', 'stride 0', unfoldArgs(new Float32Array(32), new Float32Array(72), 1, 2, 4, 4, 3, 3, 0, 0), RangeError, /^col2im: stride must be an integer in \[1, 2\^31\), got 0$/],
  ['col2im', 'dx is cols', unfoldArgs(shared.subarray(0, 32), shared.subarray(0, 72)), RangeError, /^col2im: dx must not share memory with cols$/],
  ['convBiasForward', 'bias wrong length', [new Float32Array(24), new Float32Array(24), new Float32Array(4), 2, 3, 4], RangeError, /^convBiasForward: bias must have length C = 3, got 4$/],
  ['convBiasForward', 't wrong length', [new Float32Array(24), new Float32Array(23), new Float32Array(3), 2, 3, 4], RangeError, /^convBiasForward: t must have length N\*C\*S = 24, got 23$/],
  ['convBiasForward', 'S negative', [new Float32Array(24), new Float32Array(24), new Float32Array(3), 2, 3, -4], RangeError, /^convBiasForward: S must be an integer in \[0, 2\^31\), got -4$/],
  ['convBiasForward', 'huge dims', [new Float32Array(24), new Float32Array(24), new Float32Array(3), HUGE, HUGE, HUGE], RangeError, /^convBiasForward: y must have length N\*C\*S = /],
  ['convBiasForward', 'y overlaps t', [shared.subarray(0, 24), shared.subarray(23, 47), new Float32Array(3), 2, 3, 4], RangeError, /^convBiasForward: y must not share memory with t$/],
  ['convBiasBackward', 'dt a Float64Array', [new Float64Array(24), new Float32Array(3), new Float32Array(24), 2, 3, 4], TypeError, /^convBiasBackward: dt must be a Float32Array$/],
  ['convBiasBackward', 'dbias wrong length', [new Float32Array(24), new Float32Array(2), new Float32Array(24), 2, 3, 4], RangeError, /^convBiasBackward: dbias must have length C = 3, got 2$/],
  ['convBiasBackward', 'dbias inside dy', [new Float32Array(24), shared.subarray(100, 103), shared.subarray(90, 114), 2, 3, 4], RangeError, /^convBiasBackward: dbias must not share memory with dy$/],
  ['convBiasBackward', 'an extra argument', [new Float32Array(24), new Float32Array(3), new Float32Array(24), 2, 3, 4, 1], TypeError, /^convBiasBackward: expected 6 arguments/],
];

function expectThrows(fn: (...a: unknown[]) => unknown, args: unknown[], type: ErrorConstructor, message: RegExp): void {
  expect(() => fn(...args)).toThrow(type);
  expect(() => fn(...args)).toThrow(message);
}

describeBackends('conv bad input', (backend) => {
  it.each(BAD)('%s: %s', (kernel, _name, args, type, message) => {
    expectThrows(backend()[kernel as keyof Kernels] as (...a: unknown[]) => unknown, args, type, message);
  });
});

describe('conv bad input at the native boundary (the addon without the TS checks)', () => {
  const load = loadNative();
  it.skipIf(!load.ok).each(BAD)('%s: %s', (kernel, _name, args, type, message) => {
    if (!load.ok) return;
    expectThrows(load.addon[kernel as keyof Kernels] as (...a: unknown[]) => unknown, args, type, message);
  });
});
