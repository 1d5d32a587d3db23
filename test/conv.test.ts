/**
 * The conv family (im2col, col2im, conv2dForward, conv2dBackwardInput, conv2dBackwardParams) on every backend
 * and CPU path against float64 references written from the definitions in src/kernels/kernels.ts (the
 * convolution as a direct sum over the window); native against TS; im2col's adjoint identity; native's
 * weight gradient the same bits on 1 and 2 threads; and bad input, from both backends and from the raw addon.
 *
 * Tolerance: im2col only copies, so it must be exact. col2im adds at most KH*KW float32 values per pixel: |a - r|
 * <= 1e-5 + 1e-4 |r|. The convolutions sum up to N*OH*OW float32 products of values in [-1, 1), so they are
 * compared normwise (against the largest reference value).
 */
import { describe, expect, it } from 'vitest';
import { configure, float64Backend, getBackend, nativeAvailable } from '../src/kernels/backend.js';
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
  { N: 2, C: 3, H: 6, W: 21, KH: 2, KW: 10, stride: 1, padding: 0 }, // rows over 16 wide, a kernel over 8 wide
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

/** The convolutions' shapes: the unfolding shapes (batches up to 8) with an output channel count, edge cases, the CNN's. */
interface ConvShape extends Shape { OC: number }
const CONV_SHAPES: ConvShape[] = [
  ...SHAPES.filter((s) => s.N > 0 && s.N <= 8).map((s, i) => ({ ...s, OC: [1, 3, 4, 2, 5, 7][i % 6] })),
  { N: 0, C: 2, H: 4, W: 4, KH: 3, KW: 3, stride: 1, padding: 0, OC: 3 }, // empty batch
  { N: 3, C: 0, H: 4, W: 4, KH: 3, KW: 3, stride: 1, padding: 0, OC: 2 }, // no input channels: y = bias
  { N: 20, C: 1, H: 28, W: 28, KH: 5, KW: 5, stride: 1, padding: 0, OC: 20 }, // the CNN's first layer, more images than chunks
  { N: 9, C: 20, H: 12, W: 12, KH: 3, KW: 3, stride: 1, padding: 0, OC: 50 }, // its second
  // The direct forward path (few taps, stride 1, no padding, OW a multiple of 8): blocks of 4, 3 and 1 output
  // channels, rows of 16 and of 32 (24 + 8) columns.
  { N: 3, C: 2, H: 10, W: 19, KH: 3, KW: 4, stride: 1, padding: 0, OC: 7 },
  { N: 2, C: 1, H: 6, W: 36, KH: 2, KW: 5, stride: 1, padding: 0, OC: 5 },
];

const convLabel = (s: ConvShape) => `${label(s)} OC=${s.OC}`;

/** Every (x index, weight index, y index) of the convolution's sum, straight from the definition. */
function forEachProduct(s: ConvShape, visit: (pixel: number, w: number, out: number) => void): void {
  const { OH, OW } = dims(s);
  for (let n = 0; n < s.N; n++) for (let oc = 0; oc < s.OC; oc++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
    for (let c = 0; c < s.C; c++) for (let kh = 0; kh < s.KH; kh++) for (let kw = 0; kw < s.KW; kw++) {
      const ih = oh * s.stride + kh - s.padding;
      const iw = ow * s.stride + kw - s.padding;
      if (ih < 0 || ih >= s.H || iw < 0 || iw >= s.W) continue;
      visit(((n * s.C + c) * s.H + ih) * s.W + iw, ((oc * s.C + c) * s.KH + kh) * s.KW + kw, ((n * s.OC + oc) * OH + oh) * OW + ow);
    }
  }
}

function convInputs(s: ConvShape, random: () => number) {
  const { OH, OW, xLength } = dims(s);
  const yLength = s.N * s.OC * OH * OW;
  const wLength = s.OC * s.C * s.KH * s.KW;
  return {
    x: randomFloat32(xLength, random), weight: randomFloat32(wLength, random), bias: randomFloat32(s.OC, random),
    dy: randomFloat32(yLength, random), dweight0: randomFloat32(wLength, random), dbias0: randomFloat32(s.OC, random), yLength,
  };
}

function convReference(s: ConvShape, v: ReturnType<typeof convInputs>) {
  const S = dims(s).OH * dims(s).OW;
  const y = new Float64Array(v.yLength);
  for (let i = 0; i < y.length; i++) y[i] = v.bias[Math.floor(i / S) % s.OC];
  const dx = new Float64Array(v.x.length);
  const dweight = Float64Array.from(v.dweight0);
  const dbias = Float64Array.from(v.dbias0);
  for (let i = 0; i < v.dy.length; i++) dbias[Math.floor(i / S) % s.OC] += v.dy[i];
  forEachProduct(s, (pixel, w, out) => {
    y[out] += v.x[pixel] * v.weight[w];
    dx[pixel] += v.dy[out] * v.weight[w];
    dweight[w] += v.dy[out] * v.x[pixel];
  });
  return { y, dx, dweight, dbias };
}

/** Runs the three conv2d kernels on one backend: y, dx (from NaN, so every entry must be written), dweight, dbias. */
function runConv(k: Kernels, s: ConvShape, v: ReturnType<typeof convInputs>): Float32Array[] {
  const y = new Float32Array(v.yLength).fill(NaN);
  const dx = new Float32Array(v.x.length).fill(NaN);
  const dweight = v.dweight0.slice();
  const dbias = v.dbias0.slice();
  const d = [s.N, s.C, s.H, s.W, s.OC, s.KH, s.KW, s.stride, s.padding] as const;
  k.conv2dForward(y, v.x, v.weight, v.bias, ...d);
  k.conv2dBackwardInput(dx, v.dy, v.weight, ...d);
  k.conv2dBackwardParams(dweight, dbias, v.dy, v.x, ...d);
  return [y, dx, dweight, dbias];
}

/** Normwise: every |a - r| <= tolerance * max |r| (at least 1). */
function normwise(actual: ArrayLike<number>, reference: ArrayLike<number>, tolerance: number, name: string): string {
  let scale = 1;
  for (let i = 0; i < reference.length; i++) scale = Math.max(scale, Math.abs(reference[i]));
  return mismatches(actual, reference, 0, tolerance * scale, name);
}

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

  // Every backend and CPU path adds a pixel's entries in one order, (kh, kw) ascending, from 0.
  it.each(SHAPES)('col2im gives the TS twin\'s bits: %o', (s) => {
    const cols = randomFloat32(dims(s).colsLength, random);
    const dx = new Float32Array(dims(s).xLength);
    const ts = new Float32Array(dims(s).xLength);
    backend().col2im(dx, cols, s.N, s.C, s.H, s.W, s.KH, s.KW, s.stride, s.padding);
    getBackend('ts').col2im(ts, cols, s.N, s.C, s.H, s.W, s.KH, s.KW, s.stride, s.padding);
    expect(mismatches(dx, ts, 0, 0, `col2im ${label(s)}`)).toBe('');
  });

  it.each(CONV_SHAPES)('conv2dForward, conv2dBackwardInput, conv2dBackwardParams: %o', (s) => {
    const v = convInputs(s, random);
    const [y, dx, dweight, dbias] = runConv(backend(), s, v);
    const ref = convReference(s, v);
    expect(normwise(y, ref.y, 1e-5, `y ${convLabel(s)}`)).toBe('');
    expect(normwise(dx, ref.dx, 1e-5, `dx ${convLabel(s)}`)).toBe('');
    expect(normwise(dweight, ref.dweight, 1e-5, `dweight ${convLabel(s)}`)).toBe('');
    expect(normwise(dbias, ref.dbias, 1e-5, `dbias ${convLabel(s)}`)).toBe('');
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

  it.each(CONV_SHAPES)('conv2d kernels: %o', (s) => {
    const v = convInputs(s, random);
    const [native, ts] = both((k) => runConv(k, s, v));
    for (const [i, name] of ['y', 'dx', 'dweight', 'dbias'].entries()) {
      expect(normwise(native[i], ts[i], 1e-5, `${name} ${convLabel(s)}`)).toBe('');
    }
  });

  it('conv2dBackwardParams gives the same bits on 1 and 2 threads', () => {
    const s = CONV_SHAPES.find((c) => c.N > 16 && c.C === 1)!; // the CNN's first layer: more images than chunks, and the direct path
    const v = convInputs(s, random);
    const k = getBackend('native');
    const run = (threads: number) => {
      configure({ threads });
      const dweight = v.dweight0.slice();
      const dbias = v.dbias0.slice();
      k.conv2dBackwardParams(dweight, dbias, v.dy, v.x, s.N, s.C, s.H, s.W, s.OC, s.KH, s.KW, s.stride, s.padding);
      return [dweight, dbias];
    };
    const threads = k.info().threads;
    try {
      const [one, two] = [run(1), run(2)];
      expect(mismatches(one[0], two[0], 0, 0, 'dweight')).toBe('');
      expect(mismatches(one[1], two[1], 0, 0, 'dbias')).toBe('');
    } finally {
      configure({ threads });
    }
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
  // A valid conv2d call: N=1, C=2, H=W=4, OC=3, 3x3, stride 1, padding 0 -> y 12, x 32, weight 54.
  ['conv2dForward', 'weight wrong length', [new Float32Array(12), new Float32Array(32), new Float32Array(53), new Float32Array(3), 1, 2, 4, 4, 3, 3, 3, 1, 0], RangeError, /^conv2dForward: weight must have length OC\*C\*KH\*KW = 54, got 53$/],
  ['conv2dForward', 'y wrong length', [new Float32Array(13), new Float32Array(32), new Float32Array(54), new Float32Array(3), 1, 2, 4, 4, 3, 3, 3, 1, 0], RangeError, /^conv2dForward: y must have length N\*OC\*OH\*OW = 12, got 13$/],
  ['conv2dForward', 'bias wrong length', [new Float32Array(12), new Float32Array(32), new Float32Array(54), new Float32Array(2), 1, 2, 4, 4, 3, 3, 3, 1, 0], RangeError, /^conv2dForward: bias must have length OC = 3, got 2$/],
  ['conv2dForward', 'OC fractional', [new Float32Array(12), new Float32Array(32), new Float32Array(54), new Float32Array(3), 1, 2, 4, 4, 2.5, 3, 3, 1, 0], RangeError, /^conv2dForward: OC must be an integer in \[0, 2\^31\), got 2.5$/],
  ['conv2dForward', 'window does not fit', [new Float32Array(12), new Float32Array(32), new Float32Array(54), new Float32Array(3), 1, 2, 4, 4, 3, 5, 3, 1, 0], RangeError, /^conv2dForward: the 5-wide window does not fit H = 4 with padding 0$/],
  ['conv2dForward', 'huge dims', [new Float32Array(12), new Float32Array(32), new Float32Array(54), new Float32Array(3), HUGE, HUGE, HUGE, HUGE, HUGE, 3, 3, 1, 0], RangeError, /^conv2dForward: y must have length N\*OC\*OH\*OW = /],
  ['conv2dForward', 'y overlaps x', [shared.subarray(0, 12), shared.subarray(10, 42), new Float32Array(54), new Float32Array(3), 1, 2, 4, 4, 3, 3, 3, 1, 0], RangeError, /^conv2dForward: y must not share memory with x$/],
  ['conv2dForward', 'too few arguments', [new Float32Array(12), new Float32Array(32), new Float32Array(54), new Float32Array(3), 1, 2, 4, 4, 3, 3, 3, 1], TypeError, /^conv2dForward: expected 13 arguments/],
  ['conv2dBackwardInput', 'dx a Float64Array', [new Float64Array(32), new Float32Array(12), new Float32Array(54), 1, 2, 4, 4, 3, 3, 3, 1, 0], TypeError, /^conv2dBackwardInput: dx must be a Float32Array$/],
  ['conv2dBackwardInput', 'dy wrong length', [new Float32Array(32), new Float32Array(11), new Float32Array(54), 1, 2, 4, 4, 3, 3, 3, 1, 0], RangeError, /^conv2dBackwardInput: dy must have length N\*OC\*OH\*OW = 12, got 11$/],
  ['conv2dBackwardInput', 'stride 0', [new Float32Array(32), new Float32Array(12), new Float32Array(54), 1, 2, 4, 4, 3, 3, 3, 0, 0], RangeError, /^conv2dBackwardInput: stride must be an integer in \[1, 2\^31\), got 0$/],
  ['conv2dBackwardInput', 'dx overlaps weight', [shared.subarray(0, 32), new Float32Array(12), shared.subarray(20, 74), 1, 2, 4, 4, 3, 3, 3, 1, 0], RangeError, /^conv2dBackwardInput: dx must not share memory with weight$/],
  ['conv2dBackwardParams', 'dbias wrong length', [new Float32Array(54), new Float32Array(4), new Float32Array(12), new Float32Array(32), 1, 2, 4, 4, 3, 3, 3, 1, 0], RangeError, /^conv2dBackwardParams: dbias must have length OC = 3, got 4$/],
  ['conv2dBackwardParams', 'x wrong length', [new Float32Array(54), new Float32Array(3), new Float32Array(12), new Float32Array(31), 1, 2, 4, 4, 3, 3, 3, 1, 0], RangeError, /^conv2dBackwardParams: x must have length N\*C\*H\*W = 32, got 31$/],
  ['conv2dBackwardParams', 'padding negative', [new Float32Array(54), new Float32Array(3), new Float32Array(12), new Float32Array(32), 1, 2, 4, 4, 3, 3, 3, 1, -1], RangeError, /^conv2dBackwardParams: padding must be an integer in \[0, 2\^31\), got -1$/],
  ['conv2dBackwardParams', 'dbias inside dy', [new Float32Array(54), shared.subarray(100, 103), shared.subarray(95, 107), new Float32Array(32), 1, 2, 4, 4, 3, 3, 3, 1, 0], RangeError, /^conv2dBackwardParams: dbias must not share memory with dy$/],
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
