// AVX2 + FMA block kernel: 6 x 16 micro-kernel, 12 YMM accumulators, 2 B loads and 1 A broadcast per k
// (the BLIS Haswell/Zen shape: 15 of 16 registers), and edge panels of at most 4 columns summed along k where
// the driver allows it (edge_klanes). Contract in microkernel.h.
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

// Edge panels of at most 4 columns with A read in place row by row (kStrided: X·Wᵀ and dY·W, where N = 100
// leaves 4 columns). There the kernel above is bound by its one broadcast per FMA, each FMA a half-empty vector:
// 4 cycles a k step for 6 x 4 outputs, two thirds of a full 6 x 16 tile. Here the lanes run along k instead:
// each output's 8 lanes hold the partial sums of its k steps mod 8 (A rows loaded straight, B's columns from
// bt, a transposed copy), and are added at the end, so every FMA does 8 useful products.
// bt: the panel's W (<= 4) columns as rows of kp = k rounded up to 8 floats, zero beyond k.
template <int R, int W>
void edge_klanes(int64_t k, const float* a, int64_t a_r, const float* bt, int64_t kp, float* c, int64_t ldc,
                 float alpha, float beta) {
  __m256 acc[R][W];
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
    for (int j = 0; j < W; ++j) acc[r][j] = _mm256_setzero_ps();
  }
  const int64_t k8 = k & ~int64_t{7};
  const __m256i tail = lane_mask(k - k8);
  for (int64_t p = 0; p < kp; p += 8) {
    __m256 ar[R];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      ar[r] = p < k8 ? _mm256_loadu_ps(a + r * a_r + p) : _mm256_maskload_ps(a + r * a_r + p, tail);
    }
#pragma GCC unroll 4
    for (int j = 0; j < W; ++j) {
      const __m256 b = _mm256_load_ps(bt + j * kp + p);
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) acc[r][j] = _mm256_fmadd_ps(ar[r], b, acc[r][j]);
    }
  }
  // Each output's lanes as ((0+1)+(2+3)) + ((4+5)+(6+7)), whatever R and W (the missing columns are zeros).
  const __m128i mask = _mm256_castsi256_si128(lane_mask(W));
  const __m128 va = _mm_set1_ps(alpha), vb = _mm_set1_ps(beta);
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) {
    const __m256 z = _mm256_setzero_ps();
    const __m256 h01 = _mm256_hadd_ps(acc[r][0], W > 1 ? acc[r][1] : z);
    const __m256 h23 = _mm256_hadd_ps(W > 2 ? acc[r][2] : z, W > 3 ? acc[r][3] : z);
    const __m256 h = _mm256_hadd_ps(h01, h23);
    __m128 v = _mm_mul_ps(va, _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1)));
    float* cr = c + r * ldc;
    if (beta != 0.0f) v = _mm_fmadd_ps(vb, _mm_maskload_ps(cr, mask), v);
    _mm_maskstore_ps(cr, mask, v);
  }
}

// bt (4 rows of kp) = the first `count` (<= 4) columns of the k rows of b, ld apart, by 4 x 4 tiles; zeros
// beyond k and in the rows past count. Loads are masked to the columns: an in-place B ends at the matrix's edge.
void transpose_edge(const float* b, int64_t ld, int64_t count, int64_t k, int64_t kp, float* bt) {
  const __m128i mask = _mm256_castsi256_si128(lane_mask(count));
  const int64_t k4 = k & ~int64_t{3};
  for (int64_t p = 0; p < kp; p += 4) {
    __m128 r0 = _mm_setzero_ps(), r1 = _mm_setzero_ps(), r2 = _mm_setzero_ps(), r3 = _mm_setzero_ps();
    if (p < k4) {
      r0 = _mm_maskload_ps(b + p * ld, mask);
      r1 = _mm_maskload_ps(b + (p + 1) * ld, mask);
      r2 = _mm_maskload_ps(b + (p + 2) * ld, mask);
      r3 = _mm_maskload_ps(b + (p + 3) * ld, mask);
    } else {
      if (p < k) r0 = _mm_maskload_ps(b + p * ld, mask);
      if (p + 1 < k) r1 = _mm_maskload_ps(b + (p + 1) * ld, mask);
      if (p + 2 < k) r2 = _mm_maskload_ps(b + (p + 2) * ld, mask);
    }
    _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
    _mm_store_ps(bt + p, r0);
    _mm_store_ps(bt + kp + p, r1);
    _mm_store_ps(bt + 2 * kp + p, r2);
    _mm_store_ps(bt + 3 * kp + p, r3);
  }
}

using Edge = void (*)(int64_t, const float*, int64_t, const float*, int64_t, float*, int64_t, float, float);

// Indexed by [rows - 1][columns - 1].
template <int... R>
struct EdgeTable {
  static constexpr Edge fns[sizeof...(R)][4] = {
      {edge_klanes<R, 1>, edge_klanes<R, 2>, edge_klanes<R, 3>, edge_klanes<R, 4>}...};
};
constexpr auto& kEdge = EdgeTable<1, 2, 3>::fns;
// Longest k of a panel bt holds: the driver's K block (gemm.cc: 384 on AVX2).
constexpr int64_t kEdgeMaxK = 384;

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
    if (g.edges_along_k && layout == kStrided && nr <= 4 && g.k <= kEdgeMaxK) {
      const int64_t kp = (g.k + 7) & ~int64_t{7};
      alignas(32) float bt[4 * kEdgeMaxK];
      transpose_edge(g.b + (j / kNR) * g.b_panel, g.b_k, nr, g.k, kp, bt);
      for (int64_t i = 0; i < g.m; i += 3) {
        const int64_t rows = g.m - i < 3 ? g.m - i : 3;
        kEdge[rows - 1][nr - 1](g.k, g.a + (i / kMR) * g.a_panel + (i % kMR) * g.a_r, g.a_r, bt, kp,
                                g.c + i * g.ldc + j, g.ldc, g.alpha, g.beta);
      }
      continue;
    }
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
