/**
 * linearForward / linearBackward on every backend and CPU path against a float64 reference written from the
 * definitions (with and without bias, with and without dx), and bad input from both backends.
 */
import { expect, it } from 'vitest';
import { describeBackends } from './support/backends.js';
import { mismatches } from './support/compare.js';
import { randomFloat32, seededRandom } from './support/random.js';

const SHAPES: [number, number, number][] = [[0, 3, 4], [1, 1, 1], [7, 13, 5], [100, 784, 100], [100, 100, 10], [256, 1250, 128]];

function reference(x: Float32Array, w: Float32Array, b: Float32Array, dy: Float32Array, N: number, I: number, O: number) {
  const y = new Float64Array(N * O), dx = new Float64Array(N * I), dw = new Float64Array(O * I), db = new Float64Array(O);
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < O; o++) {
      let s = b[o];
      for (let i = 0; i < I; i++) s += x[n * I + i] * w[o * I + i];
      y[n * O + o] = s;
      db[o] += dy[n * O + o];
      for (let i = 0; i < I; i++) {
        dw[o * I + i] += dy[n * O + o] * x[n * I + i];
        dx[n * I + i] += dy[n * O + o] * w[o * I + i];
      }
    }
  }
  return { y, dx, dw, db };
}

describeBackends('linear', (backend) => {
  it.each(SHAPES)('N=%i in=%i out=%i: forward, backward adding into dweight and dbias', (N, I, O) => {
    const random = seededRandom(N * 7 + I * 3 + O);
    const [x, w, b, dy] = [randomFloat32(N * I, random), randomFloat32(O * I, random), randomFloat32(O, random), randomFloat32(N * O, random)];
    const ref = reference(x, w, b, dy, N, I, O);
    const tol = (k: number) => 1e-5 * Math.sqrt(k + 1);
    const bk = backend();
    const y = new Float32Array(N * O).fill(NaN);
    bk.linearForward(y, x, w, b, N, I, O);
    expect(mismatches(y, ref.y, 1e-4, tol(I), 'y')).toBe('');
    const dx = new Float32Array(N * I).fill(NaN);
    const dw = new Float32Array(O * I).fill(0.5), db = new Float32Array(O).fill(0.5);
    bk.linearBackward(dx, dw, db, dy, x, w, N, I, O);
    expect(mismatches(dx, ref.dx, 1e-4, tol(O), 'dx')).toBe('');
    expect(mismatches(dw, ref.dw.map((v) => v + 0.5), 1e-4, tol(N), 'dweight')).toBe('');
    expect(mismatches(db, ref.db.map((v) => v + 0.5), 1e-4, tol(N), 'dbias')).toBe('');
    // Without bias, and without dx: y has no bias term, dx is not touched.
    const y0 = new Float32Array(N * O).fill(NaN);
    bk.linearForward(y0, x, w, null, N, I, O);
    expect(mismatches(y0, ref.y.map((v, k) => v - b[k % O]), 1e-4, tol(I) + 1e-6, 'y without bias')).toBe('');
    const dw0 = new Float32Array(O * I);
    bk.linearBackward(null, dw0, null, dy, x, w, N, I, O);
    expect(mismatches(dw0, ref.dw, 1e-4, tol(N), 'dweight without dx')).toBe('');
  });

  it('rejects wrong lengths, wrong types and shared outputs, naming the argument', () => {
    const bk = backend();
    const f = (n: number) => new Float32Array(n);
    expect(() => bk.linearForward(f(6), f(8), f(12), f(3), 2, 4, 3)).not.toThrow();
    expect(() => bk.linearForward(f(5), f(8), f(12), f(3), 2, 4, 3)).toThrow(/linearForward: y must have length N\*outFeatures = 6, got 5/);
    expect(() => bk.linearForward(f(6), f(8), f(12), f(2), 2, 4, 3)).toThrow(/linearForward: bias must have length outFeatures = 3, got 2/);
    expect(() => bk.linearForward(f(6), f(8), f(12), undefined as never, 2, 4, 3)).toThrow(/linearForward: bias must be a Float32Array or null/);
    expect(() => bk.linearBackward(null, null as never, null, f(6), f(8), f(12), 2, 4, 3)).toThrow(/linearBackward: dweight must be a Float32Array/);
    expect(() => bk.linearBackward(f(8), f(12), f(3), f(6), f(8), f(12), 2, 4, 2.5)).toThrow(/linearBackward: outFeatures must be an integer/);
    const shared = f(20);
    expect(() => bk.linearBackward(shared.subarray(0, 8), f(12), null, f(6), shared.subarray(4, 12), f(12), 2, 4, 3))
      .toThrow(/linearBackward: dx must not share memory with x/);
  });
});
