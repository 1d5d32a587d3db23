// AVX-512 block kernel: 12 x 32 micro-kernel, 24 ZMM accumulators, 2 B loads and broadcast A operands per k
// (27 of 32 registers). Edge columns use masked loads and stores. Contract in microkernel.h.
#include "kernels/gemm/microkernel.h"

#include <immintrin.h>

namespace normnet::gemm_detail {

namespace {

constexpr int kMR = 12;
constexpr int kNR = 32;

// Mask of the first `count` of 16 lanes (count may be <= 0 or >= 16).
__mmask16 lane_mask(int64_t count) {
  return count <= 0 ? 0 : count >= 16 ? 0xffff : static_cast<__mmask16>((1u << count) - 1);
}

// C[MR x 32] (masked to n columns when kEdge) = alpha * A-panel * B-panel + beta * C.
// kStrided: A read in place with rows a_r apart. A compile-time a_r = 1 otherwise, because 12 runtime row
// offsets do not fit in the general registers next to the loop's pointers and would be reloaded every k.
template <int MR, bool kEdge, bool kStrided>
void micro(int64_t k, const float* a, int64_t a_k, int64_t a_r, const float* b, int64_t b_k, float* c, int64_t ldc,
           float alpha, float beta, __mmask16 mask0, __mmask16 mask1) {
  // The r loops are unrolled in full so the accumulator arrays live in registers (else GCC stores them to
  // the stack every k step).
  __m512 acc0[MR], acc1[MR];
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) acc0[r] = acc1[r] = _mm512_setzero_ps();
  // C is needed only after the k loop: start fetching it now (it is usually in L3, its rows ldc apart).
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) {
    _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc + 31), _MM_HINT_T0);
  }
  for (int64_t p = 0; p < k; ++p) {
    const __m512 b0 = kEdge ? _mm512_maskz_loadu_ps(mask0, b) : _mm512_loadu_ps(b);
    const __m512 b1 = kEdge ? _mm512_maskz_loadu_ps(mask1, b + 16) : _mm512_loadu_ps(b + 16);
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) {
      const __m512 ar = _mm512_set1_ps(a[r * (kStrided ? a_r : 1)]);
      acc0[r] = _mm512_fmadd_ps(ar, b0, acc0[r]);
      acc1[r] = _mm512_fmadd_ps(ar, b1, acc1[r]);
    }
    a += a_k;
    b += b_k;
  }
  const __m512 va = _mm512_set1_ps(alpha);
  const __m512 vb = _mm512_set1_ps(beta);
  const __mmask16 m0 = kEdge ? mask0 : 0xffff, m1 = kEdge ? mask1 : 0xffff;
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) {
    float* cr = c + r * ldc;
    __m512 v0 = _mm512_mul_ps(va, acc0[r]);
    __m512 v1 = _mm512_mul_ps(va, acc1[r]);
    if (beta != 0.0f) {
      v0 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m0, cr), v0);
      v1 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m1, cr + 16), v1);
    }
    _mm512_mask_storeu_ps(cr, m0, v0);
    _mm512_mask_storeu_ps(cr + 16, m1, v1);
  }
}

using Micro = void (*)(int64_t, const float*, int64_t, int64_t, const float*, int64_t, float*, int64_t, float, float,
                       __mmask16, __mmask16);

// Indexed by [rows - 1][edge][strided].
template <int... R>
struct Table {
  static constexpr Micro fns[sizeof...(R)][2][2] = {
      {{micro<R, false, false>, micro<R, false, true>}, {micro<R, true, false>, micro<R, true, true>}}...};
};
constexpr auto& kMicro = Table<1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12>::fns;

}  // namespace

void block_kernel_avx512(const BlockArgs& g) {
  for (int64_t j = 0; j < g.n; j += kNR) {
    const int64_t nr = g.n - j < kNR ? g.n - j : kNR;
    const bool edge = nr < kNR;
    const __mmask16 mask0 = lane_mask(nr), mask1 = lane_mask(nr - 16);
    const float* b = g.b + (j / kNR) * g.b_panel;
    for (int64_t i = 0; i < g.m; i += kMR) {
      const int64_t mr = g.m - i < kMR ? g.m - i : kMR;
      kMicro[mr - 1][edge][g.a_r != 1](g.k, g.a + (i / kMR) * g.a_panel, g.a_k, g.a_r, b, g.b_k, g.c + i * g.ldc + j, g.ldc,
                           g.alpha, g.beta, mask0, mask1);
    }
  }
}

}  // namespace normnet::gemm_detail
