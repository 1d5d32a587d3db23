/**
 * Batch Normalization kernels against a float64 reference written channel by channel from the definitions,
 * on every backend and CPU path; native against TS; and a finite-difference check of backward.
 */
import { describe, expect, it } from 'vitest';
import { configure, float64Backend, getBackend, nativeAvailable } from '../src/kernels/backend.js';
import { loadNative } from '../src/kernels/native.js';
import { describeBackends } from './support/backends.js';
import { mismatches } from './support/compare.js';
import { randomFloat32, seededRandom } from './support/random.js';

const SHAPES: [number, number, number][] = [[2, 3, 1], [1, 4, 5], [100, 100, 1], [37, 45, 1], [7, 5, 13], [3, 1, 2], [16, 20, 144], [0, 3, 4], [2, 3, 0]];
const EPS = 1e-5;
const RTOL = 1e-4;
const ATOL = 1e-5;

interface Inputs { x: Float32Array; gamma: Float32Array; beta: Float32Array; runningMean: Float32Array; runningVar: Float32Array; dy: Float32Array }

function inputs(N: number, C: number, S: number, seed: number): Inputs {
  const random = seededRandom(seed);
  const x = randomFloat32(N * C * S, random).map((v, i) => 3 * v + (i % 7)); // offsets: catch E[x^2]-E[x]^2
  return {
    x,
    gamma: randomFloat32(C, random).map((v) => v + 1.5),
    beta: randomFloat32(C, random),
    runningMean: randomFloat32(C, random),
    runningVar: randomFloat32(C, random).map((v) => v + 1.5),
    dy: randomFloat32(N * C * S, random),
  };
}

/** The definitions, in float64, channel by channel. */
/** relu: a fused ReLU, y = max(0, y) in both modes, and dy counted where that output is positive. */
function reference(N: number, C: number, S: number, input: Inputs, momentum: number, relu = false) {
  const { x, gamma, beta } = input;
  const at = (n: number, c: number, s: number) => (n * C + c) * S + s;
  const count = N * S;
  const y = new Float64Array(N * C * S), dx = new Float64Array(N * C * S), yEval = new Float64Array(N * C * S);
  const runningMean = Float64Array.from(input.runningMean), runningVar = Float64Array.from(input.runningVar);
  const dgamma = new Float64Array(C), dbeta = new Float64Array(C);
  const dy = new Float64Array(N * C * S); // the gradient reaching the normalization: input.dy, masked by a fused ReLU
  for (let c = 0; c < C; c++) {
    let mean = 0, variance = 0;
    for (let n = 0; n < N; n++) for (let s = 0; s < S; s++) mean += x[at(n, c, s)] / count;
    for (let n = 0; n < N; n++) for (let s = 0; s < S; s++) variance += (x[at(n, c, s)] - mean) ** 2 / count;
    const invStd = 1 / Math.sqrt(variance + EPS);
    const act = (v: number) => (relu ? Math.max(0, v) : v);
    let sumDy = 0, sumDyXhat = 0;
    for (let n = 0; n < N; n++) for (let s = 0; s < S; s++) {
      const i = at(n, c, s);
      const xhat = (x[i] - mean) * invStd;
      y[i] = act(gamma[c] * xhat + beta[c]);
      yEval[i] = act(gamma[c] * (x[i] - input.runningMean[c]) / Math.sqrt(input.runningVar[c] + EPS) + beta[c]);
      dy[i] = !relu || y[i] > 0 ? input.dy[i] : 0;
      sumDy += dy[i];
      sumDyXhat += dy[i] * xhat;
    }
    for (let n = 0; n < N; n++) for (let s = 0; s < S; s++) {
      const i = at(n, c, s);
      const xhat = (x[i] - mean) * invStd;
      dx[i] = (gamma[c] * invStd / count) * (count * dy[i] - sumDy - xhat * sumDyXhat);
    }
    dgamma[c] = sumDyXhat;
    dbeta[c] = sumDy;
    runningMean[c] = (1 - momentum) * runningMean[c] + momentum * mean;
    runningVar[c] = (1 - momentum) * runningVar[c] + momentum * variance * count / (count - 1);
  }
  return { y, dx, dgamma, dbeta, runningMean, runningVar, yEval };
}

describeBackends('batchnorm', (backend) => {
  it.each(SHAPES.flatMap((shape) => [[...shape, false], [...shape, true]] as [number, number, number, boolean][]))(
    'N=%i C=%i S=%i relu %s: forward-train, running statistics, eval, backward', (N, C, S, relu) => {
    const input = inputs(N, C, S, N * 131 + C * 7 + S);
    const ref = reference(N, C, S, input, 0.1, relu);
    const b = backend();
    const y = new Float32Array(N * C * S), dx = new Float32Array(N * C * S), yEval = new Float32Array(N * C * S);
    const saveMean = new Float32Array(C), saveInvStd = new Float32Array(C);
    const runningMean = input.runningMean.slice(), runningVar = input.runningVar.slice();
    b.batchnormForwardEval(yEval, input.x, input.gamma, input.beta, runningMean, runningVar, N, C, S, EPS, relu);
    expect(mismatches(yEval, ref.yEval, RTOL, ATOL, 'yEval')).toBe('');
    if (N * S <= 1) return;
    b.batchnormForwardTrain(y, saveMean, saveInvStd, runningMean, runningVar, input.x, input.gamma, input.beta, N, C, S, 0.1, EPS, relu);
    expect(mismatches(y, ref.y, RTOL, ATOL, 'y')).toBe('');
    expect(mismatches(runningMean, ref.runningMean, RTOL, ATOL, 'runningMean')).toBe('');
    expect(mismatches(runningVar, ref.runningVar, RTOL, ATOL, 'runningVar')).toBe('');
    const dgamma = new Float32Array(C).fill(0.5), dbeta = new Float32Array(C).fill(-0.25); // backward adds
    b.batchnormBackward(dx, dgamma, dbeta, input.dy, input.x, saveMean, saveInvStd, input.gamma, N, C, S, relu ? input.beta : null);
    expect(mismatches(dx, ref.dx, RTOL, ATOL, 'dx')).toBe('');
    expect(mismatches(dgamma, ref.dgamma.map((v) => v + 0.5), RTOL, ATOL * Math.sqrt(N * S), 'dgamma')).toBe('');
    expect(mismatches(dbeta, ref.dbeta.map((v) => v - 0.25), RTOL, ATOL * Math.sqrt(N * S), 'dbeta')).toBe('');
  });

  it.each([[6, 21, 1], [4, 5, 13], [2, 3, 576]] as [number, number, number][])(
    'N=%i C=%i S=%i: a fused backward counts dy exactly where the forward\'s output is positive', (N, C, S) => {
    // The kernel recomputes that output from x; here many values sit exactly on 0 or just off it, where a
    // different rounding would flip the mask: each channel's values come in pairs ±v (so its mean is exactly 0),
    // a third of them 0 and a third ±1e-30, and odd channels have beta 0.
    const input = inputs(N, C, S, 3);
    const x = new Float32Array(N * C * S);
    for (let c = 0; c < C; c++) {
      for (let k = 0; k < N * S; k++) {
        const pair = k >> 1, v = input.x[c * N * S + pair] - 3;
        const magnitude = pair % 3 === 0 ? 0 : pair % 3 === 1 ? 1e-30 : v;
        x[(Math.floor(k / S) * C + c) * S + (k % S)] = k % 2 ? -magnitude : magnitude;
      }
    }
    const beta = input.beta.map((v, c) => (c % 2 ? 0 : v));
    const b = backend();
    const y = new Float32Array(N * C * S), m = new Float32Array(C), v = new Float32Array(C);
    b.batchnormForwardTrain(y, m, v, new Float32Array(C), new Float32Array(C).fill(1), x, input.gamma, beta, N, C, S, 0.1, EPS, true);
    const backward = (dy: Float32Array, fused: boolean) => {
      const dx = new Float32Array(N * C * S), dg = new Float32Array(C), db = new Float32Array(C);
      b.batchnormBackward(dx, dg, db, dy, x, m, v, input.gamma, N, C, S, fused ? beta : null);
      return [dx, dg, db];
    };
    const fused = backward(input.dy, true);
    const masked = backward(input.dy.map((g, i) => (y[i] > 0 ? g : 0)), false);
    expect(y.some((value) => value === 0) && y.some((value) => value > 0)).toBe(true);
    fused.forEach((values, k) => expect(values).toEqual(masked[k]));
  });

  it.each([[0, 3, 4], [2, 3, 0], [0, 3, 1]] as [number, number, number][])('backward of an empty batch (N=%i C=%i S=%i) writes nothing and adds nothing', (N, C, S) => {
    // The fuzzer found S = 0 reaching the S == 1 vector paths (which read N*C values) and N = 0 dividing by zero.
    const dgamma = new Float32Array(C).fill(0.5), dbeta = new Float32Array(C).fill(-0.25);
    const f = (n: number) => new Float32Array(n);
    backend().batchnormBackward(f(0), dgamma, dbeta, f(0), f(0), f(C).fill(0.1), f(C).fill(2), f(C).fill(1), N, C, S, f(C));
    expect(Array.from(dgamma)).toEqual([0.5, 0.5, 0.5]);
    expect(Array.from(dbeta)).toEqual([-0.25, -0.25, -0.25]);
  });

  it('momentum 1 puts the batch statistics in the running ones; momentum 0 leaves them', () => {
    const [N, C, S] = [4, 2, 3];
    const input = inputs(N, C, S, 5);
    const ref = reference(N, C, S, input, 1);
    const b = backend();
    const y = new Float32Array(N * C * S), m = new Float32Array(C), v = new Float32Array(C);
    const rm = input.runningMean.slice(), rv = input.runningVar.slice();
    b.batchnormForwardTrain(y, m, v, rm, rv, input.x, input.gamma, input.beta, N, C, S, 1, EPS, false);
    expect(mismatches(rm, ref.runningMean, RTOL, ATOL)).toBe('');
    expect(mismatches(rv, ref.runningVar, RTOL, ATOL)).toBe('');
    const rm0 = input.runningMean.slice(), rv0 = input.runningVar.slice();
    b.batchnormForwardTrain(y, m, v, rm0, rv0, input.x, input.gamma, input.beta, N, C, S, 0, EPS, false);
    expect(rm0).toEqual(input.runningMean);
    expect(rv0).toEqual(input.runningVar);
  });

  it.each([
    ['one value per channel', [1, 3, 1], RangeError, /batchnormForwardTrain: training needs more than one value per channel, got N\*S = 1/],
    ['momentum above 1', [2, 3, 1, 1.5], RangeError, /batchnormForwardTrain: momentum must be in \[0, 1\], got 1.5/],
    ['negative eps', [2, 3, 1, 0.1, -1], RangeError, /batchnormForwardTrain: eps must be in \[0, Infinity\), got -1/],
  ] as const)('rejects %s', (_name, [N, C, S, momentum = 0.1, eps = EPS], type, message) => {
    const f = (n: number) => new Float32Array(n);
    const call = () => backend().batchnormForwardTrain(f(N * C * S), f(C), f(C), f(C), f(C), f(N * C * S), f(C), f(C), N, C, S, momentum, eps, false);
    expect(call).toThrow(type);
    expect(call).toThrow(message);
  });

  it('rejects wrong lengths and shared outputs', () => {
    const f = (n: number) => new Float32Array(n);
    const b = backend();
    expect(() => b.batchnormForwardEval(f(6), f(6), f(2), f(3), f(3), f(3), 2, 3, 1, EPS, false))
      .toThrow(/batchnormForwardEval: gamma must have length C = 3, got 2/);
    const shared = f(12);
    expect(() => b.batchnormBackward(shared.subarray(0, 6), f(3), f(3), shared.subarray(6, 12), shared.subarray(3, 9), f(3), f(3), f(3), 2, 3, 1, null))
      .toThrow(/batchnormBackward: dx must not share memory with x/);
    expect(() => b.batchnormForwardTrain(f(6), f(3), f(3), f(3), f(3), new Float64Array(6) as never, f(3), f(3), 2, 3, 1, 0.1, EPS, false))
      .toThrow(TypeError);
    expect(() => b.batchnormForwardTrain(f(6), f(3), f(3), f(3), f(3), f(6), f(3), f(3), 2, 3, 1, 0.1, EPS, 1 as never))
      .toThrow(/batchnormForwardTrain: relu must be a boolean/);
    expect(() => b.batchnormBackward(f(6), f(3), f(3), f(6), f(6), f(3), f(3), f(3), 2, 3, 1, f(6)))
      .toThrow(/batchnormBackward: beta must have length C = 3, got 6/);
    expect(() => b.batchnormBackward(f(6), f(3), f(3), f(6), f(6), f(3), f(3), f(3), 2, 3, 1, undefined as never))
      .toThrow(TypeError);
  });
});

describe.skipIf(!nativeAvailable())('batchnorm: native against TS on random inputs', () => {
  const shapes: [number, number, number][] = [[100, 100, 1], [37, 45, 1], [500, 130, 1], [256, 20, 576], [64, 50, 100], [3, 7, 11]];
  it.each(shapes.flatMap((shape) => [[...shape, false], [...shape, true]] as [number, number, number, boolean][]))(
    'N=%i C=%i S=%i relu %s', (N, C, S, relu) => {
    const input = inputs(N, C, S, 99);
    const run = (name: 'native' | 'ts') => {
      const b = getBackend(name);
      const y = new Float32Array(N * C * S), dx = new Float32Array(N * C * S);
      const m = new Float32Array(C), v = new Float32Array(C), dg = new Float32Array(C), db = new Float32Array(C);
      const rm = input.runningMean.slice(), rv = input.runningVar.slice();
      b.batchnormForwardTrain(y, m, v, rm, rv, input.x, input.gamma, input.beta, N, C, S, 0.1, EPS, relu);
      b.batchnormBackward(dx, dg, db, input.dy, input.x, m, v, input.gamma, N, C, S, relu ? input.beta : null);
      const yEval = new Float32Array(N * C * S);
      b.batchnormForwardEval(yEval, input.x, input.gamma, input.beta, rm, rv, N, C, S, EPS, relu);
      return { y, dx, m, v, rm, rv, dg, db, yEval };
    };
    const native = run('native');
    const ts = run('ts');
    for (const key of Object.keys(ts) as (keyof typeof ts)[]) {
      expect(mismatches(native[key], ts[key], 1e-4, 1e-5 * Math.sqrt(N * S), key)).toBe('');
    }
  });
});

describe.skipIf(!nativeAvailable())('batchnorm: the same bits on 1 and 2 threads', () => {
  // S > 1 sums each of a fixed number of ranges of images apart and adds them in order; the split policy is made to
  // split every call, so the second thread does take ranges. (The sums are in double: a different order seldom
  // shows in float results, so this mostly guards against ranges that overlap, skip or race.)
  it.each([[64, 20, 144], [9, 5, 13]] as [number, number, number][])('N=%i C=%i S=%i, forward-train and fused backward', (N, C, S) => {
    const input = inputs(N, C, S, 21);
    const b = getBackend('native');
    const load = loadNative();
    const run = (threads: number) => {
      configure({ threads });
      const y = new Float32Array(N * C * S), dx = new Float32Array(N * C * S);
      const m = new Float32Array(C), v = new Float32Array(C), dg = new Float32Array(C), db = new Float32Array(C);
      const rm = input.runningMean.slice(), rv = input.runningVar.slice();
      b.batchnormForwardTrain(y, m, v, rm, rv, input.x, input.gamma, input.beta, N, C, S, 0.1, EPS, true);
      b.batchnormBackward(dx, dg, db, input.dy, input.x, m, v, input.gamma, N, C, S, input.beta);
      return { y, dx, m, v, rm, rv, dg, db };
    };
    const threads = b.info().threads;
    try {
      if (load.ok) load.addon.setSplitPolicy('always');
      const [one, two] = [run(1), run(2)];
      for (const key of Object.keys(one) as (keyof typeof one)[]) expect(mismatches(two[key], one[key], 0, 0, key)).toBe('');
    } finally {
      if (load.ok) load.addon.setSplitPolicy('adaptive');
      configure({ threads });
    }
  });
});

describe('batchnorm backward against finite differences (float64, TS)', () => {
  it('matches d(sum(y * r))/dx, dgamma and dbeta to 1e-7', () => {
    const [N, C, S] = [3, 2, 4];
    const random = seededRandom(11);
    const rand = (n: number) => Float64Array.from({ length: n }, () => random() * 2 - 1);
    const x = rand(N * C * S), gamma = rand(C), beta = rand(C), r = rand(N * C * S);
    const b = float64Backend;
    const loss = () => {
      const y = new Float64Array(N * C * S);
      b.batchnormForwardTrain(y, new Float64Array(C), new Float64Array(C), new Float64Array(C), new Float64Array(C).fill(1), x, gamma, beta, N, C, S, 0.1, EPS, false);
      return y.reduce((acc, v, i) => acc + v * r[i], 0);
    };
    const m = new Float64Array(C), v = new Float64Array(C);
    b.batchnormForwardTrain(new Float64Array(N * C * S), m, v, new Float64Array(C), new Float64Array(C).fill(1), x, gamma, beta, N, C, S, 0.1, EPS, false);
    const dx = new Float64Array(N * C * S), dgamma = new Float64Array(C), dbeta = new Float64Array(C);
    b.batchnormBackward(dx, dgamma, dbeta, r, x, m, v, gamma, N, C, S, null);
    const h = 1e-6;
    const numeric = (values: Float64Array, i: number) => {
      const old = values[i];
      values[i] = old + h;
      const up = loss();
      values[i] = old - h;
      const down = loss();
      values[i] = old;
      return (up - down) / (2 * h);
    };
    expect(mismatches(dx, dx.map((_, i) => numeric(x, i)), 1e-6, 1e-8, 'dx')).toBe('');
    expect(mismatches(dgamma, dgamma.map((_, i) => numeric(gamma, i)), 1e-6, 1e-8, 'dgamma')).toBe('');
    expect(mismatches(dbeta, dbeta.map((_, i) => numeric(beta, i)), 1e-6, 1e-8, 'dbeta')).toBe('');
  });
});
