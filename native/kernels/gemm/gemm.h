// SGEMM: C = alpha * op(A) * op(B) + beta * C, row-major float32.
#pragma once

#include <cstdint>

namespace normnet {

// op(A) is M x K: A is M x K (lda >= K) if !transA, else K x M (lda >= M).
// op(B) is K x N: B is K x N (ldb >= N) if !transB, else N x K (ldb >= K). C is M x N (ldc >= N).
// Any M, N, K >= 0. When beta == 0, C is never read (NaN in C does not propagate).
// When K == 0 or alpha == 0, C = beta * C. C must not overlap A or B.
// Runs on ThreadPool::global() and the instruction set of active_isa().
void gemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
          const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

}  // namespace normnet
