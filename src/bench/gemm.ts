/**
 * The GEMM benchmark: GFLOP/s of C = op(A)·op(B) (alpha 1, beta 0) on a big square and on the products a
 * training step of the seeds' MLP (784→100, batch 100) and CNN (its 1250→128 Linear, batch 256) computes:
 * forward X·Wᵀ, input gradient dY·W and weight gradient dYᵀ·X. Each shape is checked (each native path against
 * TS, on the same seeded operands) before it is timed.
 */
import { getBackend, type BackendName } from '../kernels/backend.js';
import { Random } from '../util/random.js';
import { BENCH_TOLERANCE, checkAgreement } from './check.js';
import { select, speedupOverTs, timed, TS, type Implementation } from './implementations.js';
import { timeInterleaved } from './stats.js';
import type { BenchSection, BenchSettings } from './types.js';

export interface GemmShape { name: string; transA: boolean; transB: boolean; M: number; N: number; K: number }

/** 512³, then the MLP's and the CNN's training products. */
export const GEMM_SHAPES: readonly GemmShape[] = [
  { name: '512³', transA: false, transB: false, M: 512, N: 512, K: 512 },
  { name: '784→100 b100 forward X·Wᵀ', transA: false, transB: true, M: 100, N: 100, K: 784 },
  { name: '784→100 b100 dX = dY·W', transA: false, transB: false, M: 100, N: 784, K: 100 },
  { name: '784→100 b100 dW = dYᵀ·X', transA: true, transB: false, M: 100, N: 784, K: 100 },
  { name: '1250→128 b256 forward X·Wᵀ', transA: false, transB: true, M: 256, N: 128, K: 1250 },
  { name: '1250→128 b256 dX = dY·W', transA: false, transB: false, M: 256, N: 1250, K: 128 },
  { name: '1250→128 b256 dW = dYᵀ·X', transA: true, transB: false, M: 128, N: 1250, K: 256 },
];

/** About 20 ms a sample: long enough for the timer, short enough for many samples. */
export const GEMM_SAMPLE_SECONDS = 0.02;

export const gemmFlops = (s: GemmShape) => 2 * s.M * s.N * s.K;

/** A and B of the shape, uniform in [-1, 1) from a seeded generator. */
export function gemmOperands(s: GemmShape): { A: Float32Array; B: Float32Array } {
  const random = new Random(1);
  const fill = (length: number) => Float32Array.from({ length }, () => random.uniform() * 2 - 1);
  return { A: fill(s.M * s.K), B: fill(s.K * s.N) };
}

/** C = op(A)·op(B) on the backend as it is configured now (a new C). */
export function gemmProduct(backend: BackendName, s: GemmShape, A: Float32Array, B: Float32Array): Float32Array {
  const C = new Float32Array(s.M * s.N);
  getBackend(backend).gemm(s.transA, s.transB, s.M, s.N, s.K, 1, A, B, 0, C);
  return C;
}

/** The normwise difference of native's C (on the CPU path configured now) from TS's; throws beyond BENCH_TOLERANCE. */
export function verifyGemm(s: GemmShape, A: Float32Array, B: Float32Array, ts = gemmProduct('ts', s, A, B)): number {
  return checkAgreement(s.name, [['products', gemmProduct('native', s, A, B), ts]]);
}

export function benchGemm(impls: Record<string, Implementation>, settings: BenchSettings, progress: (line: string) => void): BenchSection {
  const rows = GEMM_SHAPES.map((s) => {
    progress(`gemm ${s.name}`);
    const { A, B } = gemmOperands(s);
    const ts = gemmProduct('ts', s, A, B);
    const check: Record<string, number> = {};
    const entries = Object.fromEntries(Object.entries(impls).map(([name, impl]) => {
      const C = new Float32Array(s.M * s.N);
      const backend = getBackend(impl.backend);
      const call = () => backend.gemm(s.transA, s.transB, s.M, s.N, s.K, 1, A, B, 0, C);
      if (name !== TS) {
        select(impl);
        check[name] = verifyGemm(s, A, B, ts);
      }
      return [name, timed(impl, call, impl.backend === 'ts' ? settings.tsSamples : settings.samples)];
    }));
    const seconds = timeInterleaved(entries, GEMM_SAMPLE_SECONDS);
    const values = Object.fromEntries(Object.entries(seconds).map(([name, t]) => [name, gemmFlops(s) / t / 1e9]));
    return {
      label: s.name, values, speedup: speedupOverTs(values, true), check,
      detail: { M: s.M, N: s.N, K: s.K, transA: s.transA, transB: s.transB },
    };
  });
  return {
    name: 'gemm', title: 'GEMM', unit: 'GFLOP/s', higherIsBetter: true, tolerance: BENCH_TOLERANCE, rows,
    method: `C = op(A)·op(B), float32, row-major; medians of ${settings.samples} samples (TS ${settings.tsSamples}) ` +
      `of about ${GEMM_SAMPLE_SECONDS * 1000} ms each, interleaved across implementations.`,
  };
}
