/**
 * GEMM on every backend and CPU path against a float64 reference.
 *
 * Error bound (Higham, "Accuracy and Stability of Numerical Algorithms", 2nd ed., §3.5): any order of
 * float32 multiply-adds gives |C - Cref| <= gamma_{K+2} * (|alpha| |op(A)| |op(B)| + |beta| |C0|) elementwise,
 * gamma_n = n u / (1 - n u), u = 2^-24. The test holds every element to that bound, so it cannot flake
 * whatever the blocking order, while a wrong index or a dropped term errs by O(1) times the magnitude.
 */
import { describe, expect, it } from 'vitest';
import { configure, getBackend, nativeAvailable } from '../src/kernels/backend.js';
import { loadNative } from '../src/kernels/native.js';
import { describeBackends } from './support/backends.js';
import { randomFloat32, seededRandom } from './support/random.js';

const U = 2 ** -24;

interface Case { transA: boolean; transB: boolean; M: number; N: number; K: number; alpha: number; beta: number }

function reference(c: Case, A: Float32Array, B: Float32Array, C0: Float32Array): { value: Float64Array; bound: Float64Array } {
  const { transA, transB, M, N, K, alpha, beta } = c;
  const value = new Float64Array(M * N);
  const bound = new Float64Array(M * N);
  const gamma = ((K + 2) * U) / (1 - (K + 2) * U);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let sum = 0;
      let abs = 0;
      for (let k = 0; k < K; k++) {
        const p = (transA ? A[k * M + i] : A[i * K + k]) * (transB ? B[j * K + k] : B[k * N + j]);
        sum += p;
        abs += Math.abs(p);
      }
      const c0 = beta === 0 ? 0 : beta * C0[i * N + j];
      value[i * N + j] = alpha * sum + c0;
      bound[i * N + j] = gamma * (Math.abs(alpha) * abs + Math.abs(c0)) + 1e-30;
    }
  }
  return { value, bound };
}

function describeMismatches(C: Float32Array, ref: { value: Float64Array; bound: Float64Array }, N: number): string {
  const lines: string[] = [];
  let worst = 0;
  for (let idx = 0; idx < C.length; idx++) {
    const err = Math.abs(C[idx] - ref.value[idx]);
    worst = Math.max(worst, err / ref.bound[idx]);
    if (!(err <= ref.bound[idx]) && lines.length < 5) {
      lines.push(`C[${Math.floor(idx / N)}, ${idx % N}] = ${C[idx]}, expected ${ref.value[idx]} ± ${ref.bound[idx]}`);
    }
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\nmax error / bound = ${worst}`;
}

// Edges of every width the AVX2 kernels treat apart: N % 16 = 1, 2, 3, 4 (summed along k) and 7 (one vector);
// on AVX-512, N % 32 = 1, 2, 4, 7 (summed along k, or one vector), 16 (one vector), 17 and 19 (two vectors).
const SIZES = [0, 1, 2, 7, 17, 19, 100, 257, 784];
const TRANSPOSES: [boolean, boolean][] = [[false, false], [false, true], [true, false], [true, true]];
const SCALARS: [number, number][] = [[1, 0], [1, 1], [-0.5, 0.3], [0, 0.3], [2, -1]];

/** Every size in every position at least once, under a work budget that keeps the float64 reference quick. */
function cases(): Case[] {
  const random = seededRandom(7);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)];
  const out: Case[] = [];
  for (const [transA, transB] of TRANSPOSES) {
    for (const M of SIZES) for (const N of SIZES) {
      let K = pick(SIZES);
      while (M * N * K > 3e6) K = pick(SIZES.slice(0, 4));
      const [alpha, beta] = pick(SCALARS);
      out.push({ transA, transB, M, N, K, alpha, beta });
    }
    // The shapes of training: a 784 -> 100 layer with batch 100, and a 1250 -> 128 one with batch 64.
    out.push({ transA, transB, M: 100, N: 100, K: 784, alpha: 1, beta: 0 });
    out.push({ transA, transB, M: 100, N: 784, K: 100, alpha: 1, beta: 1 });
    out.push({ transA, transB, M: 64, N: 128, K: 1250, alpha: 1, beta: 0 });
    // AVX-512 edges after 32-wide panels: 1 and 8 columns (summed along k where A is read in place), 16 (one
    // vector); M = 100 a last panel of 4 rows and row groups of 1 and 3. K = 1601 runs 3 K blocks on AVX-512
    // (KC = 800) with the 4-column edge summed along k or along rows.
    for (const N of [97, 104, 112]) out.push({ transA, transB, M: 100, N, K: 784, alpha: 1, beta: 1 });
    out.push({ transA, transB, M: 100, N: 100, K: 1601, alpha: 1, beta: 1 });
  }
  // The MLP's forward at batch 1000 (X·Wᵀ): 84 panels of 12 rows, then 4 rows.
  out.push({ transA: false, transB: true, M: 1000, N: 100, K: 784, alpha: 1, beta: 0 });
  return out;
}

describeBackends('gemm', (backend) => {
  const random = seededRandom(42);
  it.each(cases())('transA=$transA transB=$transB M=$M N=$N K=$K alpha=$alpha beta=$beta', (c) => {
    const A = randomFloat32(c.M * c.K, random);
    const B = randomFloat32(c.K * c.N, random);
    const C0 = randomFloat32(c.M * c.N, random);
    const C = C0.slice();
    backend().gemm(c.transA, c.transB, c.M, c.N, c.K, c.alpha, A, B, c.beta, C);
    expect(describeMismatches(C, reference(c, A, B, C0), c.N)).toBe('');
  });

  it('never reads C when beta is 0 (NaN in C does not survive)', () => {
    const A = randomFloat32(17 * 33, random);
    const B = randomFloat32(33 * 19, random);
    const C = new Float32Array(17 * 19).fill(NaN);
    backend().gemm(false, false, 17, 19, 33, 1, A, B, 0, C);
    expect(C.every(Number.isFinite)).toBe(true);
    const empty = new Float32Array(17 * 19).fill(NaN);
    backend().gemm(false, false, 17, 19, 0, 1, new Float32Array(0), new Float32Array(0), 0, empty);
    expect(empty.every((x) => x === 0)).toBe(true);
  });

  it('propagates NaN and Inf from A and B as IEEE arithmetic does', () => {
    const A = new Float32Array([NaN, 1, 1, 1]);
    const B = new Float32Array([1, 0, 0, Infinity]);
    const C = new Float32Array(4);
    backend().gemm(false, false, 2, 2, 2, 1, A, B, 0, C);
    expect(Number.isNaN(C[0]) && Number.isNaN(C[1])).toBe(true);
    expect(C[2]).toBe(1);
    expect(C[3]).toBe(Infinity);
  });

  it('works on views into a larger buffer', () => {
    const buffer = randomFloat32(4000, random);
    const A = buffer.subarray(3, 3 + 20 * 30);
    const B = buffer.subarray(1001, 1001 + 30 * 25);
    const C = buffer.subarray(2003, 2003 + 20 * 25);
    const C0 = C.slice();
    const c: Case = { transA: false, transB: true, M: 20, N: 25, K: 30, alpha: 1, beta: 1 };
    const ref = reference(c, A, B, C0);
    backend().gemm(false, true, 20, 25, 30, 1, A, B, 1, C);
    expect(describeMismatches(C, ref, 25)).toBe('');
  });
});

// Products from 2^18 to 2^23 multiply-adds split over the pool only while its workers are warm (polling on
// cores of their own), larger ones always, and both only while splitting has been the faster way for their
// shape (the split policy): calls in a row take either path; each element is computed the same way on both.
// The split policy is set to 'always' here, and the calls go on until 50 of them split (info().pool.split counts
// those), or 5 seconds have passed: then the test is skipped, for the second core was never free.
describe.skipIf(!nativeAvailable())('gemm on two threads', () => {
  const setSplitPolicy = (policy: 'adaptive' | 'always') => {
    const load = loadNative();
    if (load.ok) load.addon.setSplitPolicy(policy);
  };
  it.for([
    { transA: false, transB: false, M: 100, N: 100, K: 100 },
    { transA: false, transB: true, M: 100, N: 100, K: 784 },
    { transA: true, transB: false, M: 100, N: 784, K: 100 },
    { transA: false, transB: false, M: 256, N: 10, K: 128 },
    // Cut into column slices of at most 256 by two threads, though the whole is wider: the last slice reads A in
    // place, the whole does not, and its 4 edge columns must still be summed as the whole product's are.
    { transA: false, transB: false, M: 48, N: 260, K: 96 },
    // AVX-512 edges of 8 columns (summed along k) and 16 (one vector), and the MLP's forward at batch 1000.
    { transA: false, transB: true, M: 100, N: 104, K: 784 },
    { transA: false, transB: true, M: 100, N: 112, K: 784 },
    { transA: false, transB: true, M: 1000, N: 100, K: 784 },
  ])('gives one thread\'s bits whether it splits or not: %o', (c, { skip }) => {
    const random = seededRandom(5);
    const A = randomFloat32(c.M * c.K, random);
    const B = randomFloat32(c.K * c.N, random);
    const native = getBackend('native');
    const threads = native.info().threads;
    const one = new Float32Array(c.M * c.N);
    // Ten calls at a time, back to back (the workers poll for 200 us after a job), checked after when one of them
    // split: a check between every ten calls would leave the worker gaps to fall asleep in, and wake-ups to be
    // late for (a poke that finds no work makes the next one wait longer).
    const C = Array.from({ length: 10 }, () => new Float32Array(c.M * c.N));
    const splits = () => native.info().pool!.split;
    let split = 0;
    let differing = 0;
    try {
      configure({ threads: 1 });
      native.gemm(c.transA, c.transB, c.M, c.N, c.K, 1, A, B, 0, one);
      configure({ threads: 2 });
      setSplitPolicy('always');
      const start = performance.now();
      while (split < 50 && performance.now() - start < 5000) {
        const before = splits();
        for (const out of C) native.gemm(c.transA, c.transB, c.M, c.N, c.K, 1, A, B, 0, out);
        if (splits() === before) continue;
        split += splits() - before;
        differing += C.filter((out) => !out.every((v, i) => Object.is(v, one[i]))).length;
      }
    } finally {
      setSplitPolicy('adaptive');
      configure({ threads });
    }
    expect(differing).toBe(0);
    if (split < 50) skip(`${split} of the calls split in 5 s: the second core was busy`);
  });

  // The adaptive policy (runtime/split_policy.h) learns a new shape from its first calls: three split (the first
  // untimed), then three on one thread; after that each call goes the faster way, or the slower one in an
  // exploring window, and every call is counted one way or the other. 256 x 256 x 129 is over 2^23
  // multiply-adds, so a call the policy splits does split whether or not the workers are warm.
  it('learns a new shape from three split calls and three on one thread, and counts every call', () => {
    const native = getBackend('native');
    const threads = native.info().threads;
    const [M, N, K] = [256, 256, 129];
    const random = seededRandom(9);
    const A = randomFloat32(M * K, random), B = randomFloat32(K * N, random);
    const one = new Float32Array(M * N), C = new Float32Array(M * N);
    const counts = () => ({ split: native.info().pool!.split, single: native.info().pool!.single });
    try {
      configure({ threads: 1 });
      native.gemm(false, false, M, N, K, 1, A, B, 0, one);
      configure({ threads: 2 });
      const before = counts();
      const deltas: string[] = [];
      for (let call = 0; call < 6; call++) {
        const was = counts();
        native.gemm(false, false, M, N, K, 1, A, B, 0, C);
        deltas.push(counts().split > was.split ? 'split' : 'single');
        expect(C).toEqual(one);
      }
      expect(deltas).toEqual(['split', 'split', 'split', 'single', 'single', 'single']);
      for (let call = 0; call < 20; call++) native.gemm(false, false, M, N, K, 1, A, B, 0, C);
      const after = counts();
      expect(after.split - before.split + after.single - before.single).toBe(26);
    } finally {
      configure({ threads });
    }
  });

  // Kinds whose hashes meet share no record: forty shapes, called in turn, each go through their own warm-up. Had
  // two kept one slot (the policy before open addressing; forty kinds in 256 slots meet with odds of ~96%), each
  // call of one would have reset the other's, and both would have split at every call. Three hundred shapes
  // called once before fill the thread's slots: the forty must take those, not each other's.
  it('keeps forty shapes apart, each learning from its own calls', () => {
    const native = getBackend('native');
    const threads = native.info().threads;
    const [M, N] = [256, 256];
    const shapes = Array.from({ length: 40 }, (_, i) => 130 + i);
    const random = seededRandom(10);
    const A = randomFloat32(M * 169, random), B = randomFloat32(169 * N, random), C = new Float32Array(M * N);
    const splits = () => native.info().pool!.split;
    try {
      configure({ threads: 2 });
      for (let K = 64; K < 364; K++) {
        native.gemm(false, false, 64, 64, K, 1, A.subarray(0, 64 * K), B.subarray(0, K * 64), 0, C.subarray(0, 64 * 64));
      }
      const ways = shapes.map(() => [] as string[]);
      for (let round = 0; round < 6; round++) {
        shapes.forEach((K, i) => {
          const was = splits();
          native.gemm(false, false, M, N, K, 1, A.subarray(0, M * K), B.subarray(0, K * N), 0, C);
          ways[i].push(splits() > was ? 'split' : 'single');
        });
      }
      for (const way of ways) expect(way).toEqual(['split', 'split', 'split', 'single', 'single', 'single']);
    } finally {
      configure({ threads });
    }
  });

  // A small product that would split, finding the worker asleep, wakes it to poll (a poke) and runs on one thread.
  // A poke after which the worker sleeps again without work makes the next one wait twice as long, up to 1 s:
  // calls 2 ms apart, each finding the worker asleep again, poked every 10 ms before (~120 times here).
  it('wakes a sleeping worker for small products less often while those wake-ups go unused', () => {
    const native = getBackend('native');
    const threads = native.info().threads;
    const [M, N, K] = [64, 64, 64]; // 2^18 multiply-adds: split only over a warm pool
    const random = seededRandom(11);
    const A = randomFloat32(M * K, random), B = randomFloat32(K * N, random), C = new Float32Array(M * N);
    const pause = new Int32Array(new SharedArrayBuffer(4));
    try {
      configure({ threads: 2 });
      setSplitPolicy('always');
      const before = native.info().pool!.pokes;
      const start = performance.now();
      while (performance.now() - start < 1200) {
        native.gemm(false, false, M, N, K, 1, A, B, 0, C);
        Atomics.wait(pause, 0, 0, 2);
      }
      const pokes = native.info().pool!.pokes - before;
      expect(pokes).toBeGreaterThan(0);
      expect(pokes).toBeLessThan(20);
    } finally {
      setSplitPolicy('adaptive');
      configure({ threads });
    }
  });
});

describe('gemm cases', () => {
  it('cover each size in each of M, N and K', () => {
    const all = cases();
    for (const key of ['M', 'N', 'K'] as const) {
      for (const size of SIZES) expect(all.some((c) => c[key] === size), `${key}=${size}`).toBe(true);
    }
  });
});
