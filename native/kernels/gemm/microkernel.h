// Per-ISA GEMM block kernels, one extern function each (microkernel_<isa>.cc).
//
// A block kernel computes C[m x n] = alpha * A[m x k] * B[k x n] + beta * C over operands laid out as
// micro-panels, by running an MR x NR register micro-kernel over them (BLIS' macro-kernel):
//   A: panel i (rows i*MR ..) starts at a + i*a_panel; its element (r, p) is a[p*a_k + r*a_r].
//      Packed: a_k = MR, a_r = 1, a_panel = MR*k. Read in place: from a transposed A, a_k = lda, a_r = 1,
//      a_panel = MR; from A itself, a_k = 1, a_r = lda, a_panel = MR*lda.
//   B: panel j (cols j*NR ..) starts at b + j*b_panel; its element (p, c) is b[p*b_k + c].
//      Packed: b_k = NR, b_panel = NR*k. Read in place from a non-transposed B: b_k = ldb, b_panel = NR.
// Rows past m and columns past n are never read (edge panels use masked loads or MR-specialised kernels),
// so packing needs no zero padding and in-place operands are safe at the matrix edges.
// beta == 0: C is written without being read.
//
// The ISA files keep all their code in an anonymous namespace and include no shared inline code (so each
// repeats the short loop over micro-tiles), so the linker cannot pick an AVX-512 copy of a common function
// for the whole library.
#pragma once

#include <cstdint>

namespace normnet::gemm_detail {

struct BlockArgs {
  int64_t m, n, k;
  const float* a;
  int64_t a_panel, a_k, a_r;
  const float* b;
  int64_t b_panel, b_k;
  float* c;
  int64_t ldc;
  float alpha, beta;
  // May a narrow edge panel (at most 4 columns on AVX2, 8 on AVX-512), with A read in place row by row, be summed
  // along k (the fast edge)?
  // Its bits then differ from the column-vector kernels', so the driver allows it only where every way of cutting
  // the product reads A that way.
  bool edges_along_k;
};

#if defined(__x86_64__)
// MR x NR = 12 x 32.
void block_kernel_avx512(const BlockArgs& args);
// MR x NR = 6 x 16.
void block_kernel_avx2(const BlockArgs& args);
#elif defined(__aarch64__)
// The longest k block_kernel_neon takes: the driver's K block on NEON (its edge panels are copied on the stack).
constexpr int64_t kNeonMaxK = 256;
// MR x NR = 8 x 12; k <= kNeonMaxK.
void block_kernel_neon(const BlockArgs& args);
#endif
// MR x NR = 5 x 8, portable vector extensions (SSE2 at the x86-64 baseline, NEON on AArch64).
void block_kernel_generic(const BlockArgs& args);

}  // namespace normnet::gemm_detail
