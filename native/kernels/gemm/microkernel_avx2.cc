// AVX2 + FMA block kernel: 6 x 16 micro-kernel, 12 YMM accumulators, 2 B loads and 1 A broadcast per k
// (the BLIS Haswell/Zen shape: 15 of 16 registers). Contract in microkernel.h.
#include "kernels/gemm/microkernel.h"

#include <immintrin.h>

namespace normnet::gemm_detail {

namespace {

constexpr int kMR = 6;
constexpr int kNR = 16;

// Lane mask for the first `count` of 8 lanes (count may be <= 0 or >= 8).
__m256i lane_mask(int64_t count) {
  const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(count < 0 ? 0 : count > 8 ? 8 : count)), lanes);
}

// C[MR x 8*NV] (masked to n columns when kEdge) = alpha * A-panel * B-panel + beta * C. NV = 1 serves edge
// panels of at most 8 columns at half the cost of a masked full-width tile.
// Layout: kPacked, both operands packed: a_k = MR and b_k = NR at compile time, so the unrolled loop addresses
// four k steps by immediate offsets and advances each pointer once (runtime strides cost an add per operand per
// step: 4% of the kernel in L1). kStrided: A read in place with rows a_r apart. kInPlace otherwise, with a
// compile-time a_r = 1, so the broadcasts take immediate offsets rather than 5 row-offset registers, which the
// unrolled loop has no room for.
enum Layout { kInPlace, kStrided, kPacked };

template <int MR, int NV, bool kEdge, Layout L>
void micro(int64_t k, const float* a, int64_t a_k, int64_t a_r, const float* b, int64_t b_k, float* c, int64_t ldc,
           float alpha, float beta, __m256i mask0, __m256i mask1) {
  if (L == kPacked) a_k = kMR, b_k = kNR;
  // The r loops are unrolled in full so the accumulator arrays live in registers (else GCC stores them to
  // the stack every k step).
  __m256 acc0[MR], acc1[MR];
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) acc0[r] = acc1[r] = _mm256_setzero_ps();
  // C is needed only after the k loop: start fetching it now (it is usually in L3, its rows ldc apart).
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) {
    _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc + 8 * NV - 1), _MM_HINT_T0);
  }
  // Unrolled by 4: the loop's pointer and counter updates otherwise take issue slots from the FMAs.
#pragma GCC unroll 4
  for (int64_t p = 0; p < k; ++p) {
    const __m256 b0 = kEdge ? _mm256_maskload_ps(b, mask0) : _mm256_loadu_ps(b);
    const __m256 b1 = NV == 1 ? b0 : kEdge ? _mm256_maskload_ps(b + 8, mask1) : _mm256_loadu_ps(b + 8);
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) {
      const __m256 ar = _mm256_broadcast_ss(a + r * (L == kStrided ? a_r : 1));
      acc0[r] = _mm256_fmadd_ps(ar, b0, acc0[r]);
      if (NV == 2) acc1[r] = _mm256_fmadd_ps(ar, b1, acc1[r]);
    }
    a += a_k;
    b += b_k;
  }
  const __m256 va = _mm256_set1_ps(alpha);
  const __m256 vb = _mm256_set1_ps(beta);
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) {
    float* cr = c + r * ldc;
    __m256 v0 = _mm256_mul_ps(va, acc0[r]);
    __m256 v1 = _mm256_mul_ps(va, acc1[r]);
    if (kEdge) {
      if (beta != 0.0f) {
        v0 = _mm256_fmadd_ps(vb, _mm256_maskload_ps(cr, mask0), v0);
        if (NV == 2) v1 = _mm256_fmadd_ps(vb, _mm256_maskload_ps(cr + 8, mask1), v1);
      }
      _mm256_maskstore_ps(cr, mask0, v0);
      if (NV == 2) _mm256_maskstore_ps(cr + 8, mask1, v1);
    } else {
      if (beta != 0.0f) {
        v0 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(cr), v0);
        if (NV == 2) v1 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(cr + 8), v1);
      }
      _mm256_storeu_ps(cr, v0);
      if (NV == 2) _mm256_storeu_ps(cr + 8, v1);
    }
  }
}

using Micro = void (*)(int64_t, const float*, int64_t, int64_t, const float*, int64_t, float*, int64_t, float, float,
                       __m256i, __m256i);

// Indexed by [rows - 1][columns: 16, 9..15 (masked), 1..8 (masked, one vector)][layout].
template <int... R>
struct Table {
  static constexpr Micro fns[sizeof...(R)][3][3] = {
      {{micro<R, 2, false, kInPlace>, micro<R, 2, false, kStrided>, micro<R, 2, false, kPacked>},
       {micro<R, 2, true, kInPlace>, micro<R, 2, true, kStrided>, micro<R, 2, true, kPacked>},
       {micro<R, 1, true, kInPlace>, micro<R, 1, true, kStrided>, micro<R, 1, true, kPacked>}}...};
};
constexpr auto& kMicro = Table<1, 2, 3, 4, 5, 6>::fns;

}  // namespace

void block_kernel_avx2(const BlockArgs& g) {
  const Layout layout = g.a_r != 1 ? kStrided : g.a_k == kMR && g.b_k == kNR ? kPacked : kInPlace;
  for (int64_t j = 0; j < g.n; j += kNR) {
    const int64_t nr = g.n - j < kNR ? g.n - j : kNR;
    const int cols = nr == kNR ? 0 : nr > 8 ? 1 : 2;
    const __m256i mask0 = lane_mask(nr), mask1 = lane_mask(nr - 8);
    const float* b = g.b + (j / kNR) * g.b_panel;
    for (int64_t i = 0; i < g.m; i += kMR) {
      const int64_t mr = g.m - i < kMR ? g.m - i : kMR;
      kMicro[mr - 1][cols][layout](g.k, g.a + (i / kMR) * g.a_panel, g.a_k, g.a_r, b, g.b_k,
                                      g.c + i * g.ldc + j, g.ldc, g.alpha, g.beta, mask0, mask1);
    }
  }
}

}  // namespace normnet::gemm_detail
