/**
 * The kernel list: every computation normnet runs, each with a native (C++) and a TypeScript implementation
 * behind this one signature. `withChecks` puts the shared argument checks in front of an implementation.
 */
import { expectArgCount, expectBoolean, expectDim, expectFloat32, expectNoOverlap, expectNumber } from './check.js';

export interface Kernels {
  /** C = alpha * op(A) * op(B) + beta * C; row-major float32; op(A) is M x K, op(B) is K x N, C is M x N. */
  gemm(transA: boolean, transB: boolean, M: number, N: number, K: number,
    alpha: number, A: Float32Array, B: Float32Array, beta: number, C: Float32Array): void;
}

export type KernelName = keyof Kernels;

/** Every kernel's name; a test holds both backends (and the addon's exports) to this list. */
export const KERNEL_NAMES: readonly KernelName[] = ['gemm'];

const checks: { [K in KernelName]: (...args: unknown[]) => void } = {
  gemm(...args) {
    expectArgCount('gemm', args, 10, 'transA, transB, M, N, K, alpha, A, B, beta, C');
    const [transA, transB, M, N, K, alpha, A, B, beta, C] = args;
    expectBoolean('gemm', 'transA', transA);
    expectBoolean('gemm', 'transB', transB);
    expectDim('gemm', 'M', M);
    expectDim('gemm', 'N', N);
    expectDim('gemm', 'K', K);
    expectNumber('gemm', 'alpha', alpha);
    expectFloat32('gemm', 'A', A, M * K, transA ? 'K*M' : 'M*K');
    expectFloat32('gemm', 'B', B, K * N, transB ? 'N*K' : 'K*N');
    expectNumber('gemm', 'beta', beta);
    expectFloat32('gemm', 'C', C, M * N, 'M*N');
    expectNoOverlap('gemm', 'C', C, 'A', A);
    expectNoOverlap('gemm', 'C', C, 'B', B);
  },
};

export function withChecks(impl: Kernels): Kernels {
  const checked = {} as Record<KernelName, (...args: unknown[]) => void>;
  for (const name of KERNEL_NAMES) {
    const kernel = impl[name] as (...args: unknown[]) => void;
    const check = checks[name];
    checked[name] = (...args: unknown[]) => {
      check(...args);
      kernel(...args);
    };
  }
  return checked as unknown as Kernels;
}
