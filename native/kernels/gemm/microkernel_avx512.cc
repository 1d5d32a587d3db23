// AVX-512 block kernel: 12 x 32 micro-kernel, 24 ZMM accumulators, 2 B loads and broadcast A operands per k
// (27 of 32 registers); a 12 x 16 one-vector kernel for edges of at most 16 columns, and edge panels of at most
// 8 columns summed along k where the driver allows it (edge_klanes) or else, with A's rows contiguous, with
// vectors along rows (edge_rows). Contract in microkernel.h.
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

// C[MR x 16*NV] (masked to n columns when kEdge) = alpha * A-panel * B-panel + beta * C. NV = 1 serves edge
// panels of at most 16 columns at half the FMAs of a masked full-width tile.
// kStrided: A read in place with rows a_r apart. A compile-time a_r = 1 otherwise, because 12 runtime row
// offsets do not fit in the general registers next to the loop's pointers and would be reloaded every k.
template <int MR, int NV, bool kEdge, bool kStrided>
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
    _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc + 16 * NV - 1), _MM_HINT_T0);
  }
  for (int64_t p = 0; p < k; ++p) {
    const __m512 b0 = kEdge ? _mm512_maskz_loadu_ps(mask0, b) : _mm512_loadu_ps(b);
    const __m512 b1 = NV == 1 ? b0 : kEdge ? _mm512_maskz_loadu_ps(mask1, b + 16) : _mm512_loadu_ps(b + 16);
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) {
      const __m512 ar = _mm512_set1_ps(a[r * (kStrided ? a_r : 1)]);
      acc0[r] = _mm512_fmadd_ps(ar, b0, acc0[r]);
      if (NV == 2) acc1[r] = _mm512_fmadd_ps(ar, b1, acc1[r]);
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
      if (NV == 2) v1 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m1, cr + 16), v1);
    }
    _mm512_mask_storeu_ps(cr, m0, v0);
    if (NV == 2) _mm512_mask_storeu_ps(cr + 16, m1, v1);
  }
}

// Edge panels of at most 8 columns with each A micro-panel's rows contiguous (a_r = 1: A packed, or read in
// place from a transposed A, as in dW = dYᵀ·X, where N = 100 leaves 4 columns). There the one-vector kernel
// fills W of its 16 lanes; here the lanes run along rows instead, 12 of them (one micro-panel, masked) per
// vector, and each B entry is broadcast: R = 3 panels x 8 accumulators + 3 A vectors + 1 B broadcast fit the 32
// registers. Each output is summed as in micro (one FMA a k step, in order), so the bits are the same. Measured
// on Zen 5, one thread, against the one-vector kernel: 100x100x100 dYᵀ·X 1.10-1.13x, 128x1250x256 1.01-1.02x.
// rows <= 12 R: C rows of the R micro-panels from a, a_panel apart.
template <int R, int W>
void edge_rows(int64_t k, int64_t rows, const float* a, int64_t a_panel, int64_t a_k, const float* b, int64_t b_k,
               float* c, int64_t ldc, float alpha, float beta) {
  __m512 acc[R][W];
  __mmask16 mask[R];
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) {
    mask[r] = lane_mask(rows - kMR * r) & 0x0fff;
#pragma GCC unroll 8
    for (int j = 0; j < W; ++j) acc[r][j] = _mm512_setzero_ps();
  }
  for (int64_t p = 0; p < k; ++p) {
    __m512 ar[R];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) ar[r] = _mm512_maskz_loadu_ps(mask[r], a + r * a_panel + p * a_k);
#pragma GCC unroll 8
    for (int j = 0; j < W; ++j) {
      const __m512 bj = _mm512_set1_ps(b[p * b_k + j]);
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) acc[r][j] = _mm512_fmadd_ps(ar[r], bj, acc[r][j]);
    }
  }
  // Columns to rows through the stack; alpha and beta as micro applies them.
  alignas(64) float t[W][R * 16];
  const __m512 va = _mm512_set1_ps(alpha);
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
    for (int j = 0; j < W; ++j) _mm512_store_ps(t[j] + 16 * r, _mm512_mul_ps(va, acc[r][j]));
  }
  for (int64_t i = 0; i < rows; ++i) {
    float* cr = c + i * ldc;
    const int64_t lane = (i / kMR) * 16 + i % kMR;
#pragma GCC unroll 8
    for (int j = 0; j < W; ++j) cr[j] = beta != 0.0f ? __builtin_fmaf(beta, cr[j], t[j][lane]) : t[j][lane];
  }
}

// Edge panels of at most 8 columns with A read in place row by row (kStrided: X·Wᵀ and dY·W, where N = 100
// leaves 4 columns). There the kernels above spend a broadcast of A on every FMA and fill W of its 16 lanes.
// Here the lanes run along k instead: each output's 16 lanes hold the partial sums of its k steps mod 16 (A rows
// loaded straight, B's columns from bt, a transposed copy), added at the end, so every FMA does 16 useful
// products. R = 3 rows: 3 x 8 accumulators + 3 A rows + 1 B vector fit the 32 registers. Measured on Zen 5, one
// thread: 100 x 4 x 784 (the edge alone) 3.1-3.8x as fast as the masked 12 x 32 tile, 100 x 8 x 784 1.6-2.2x
// as fast as the 12 x 16 one-vector kernel.
// bt: the panel's W (<= 8) columns as rows of kp = k rounded up to 16 floats, zero beyond k.
template <int R, int W>
void edge_klanes(int64_t k, const float* a, int64_t a_r, const float* bt, int64_t kp, float* c, int64_t ldc,
                 float alpha, float beta) {
  __m512 acc[R][W];
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
    for (int j = 0; j < W; ++j) acc[r][j] = _mm512_setzero_ps();
  }
  const int64_t k16 = k & ~int64_t{15};
  const __mmask16 tail = lane_mask(k - k16);
  for (int64_t p = 0; p < kp; p += 16) {
    __m512 ar[R];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      ar[r] = p < k16 ? _mm512_loadu_ps(a + r * a_r + p) : _mm512_maskz_loadu_ps(tail, a + r * a_r + p);
    }
#pragma GCC unroll 8
    for (int j = 0; j < W; ++j) {
      __m512 b = _mm512_load_ps(bt + j * kp + p);
      // Keeps b in a register: GCC otherwise folds its load into each of the R FMAs, and 3 + 3 W loads a step
      // (2 a cycle) then bound the loop rather than its 3 W FMAs (measured: the edge alone 1.2x as fast).
      __asm__("" : "+v"(b));
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) acc[r][j] = _mm512_fmadd_ps(ar[r], b, acc[r][j]);
    }
  }
  // Each output's lanes as (i + (i+8)) for i < 8, then ((0+1)+(2+3)) + ((4+5)+(6+7)) of those, whatever R and
  // W (the missing columns are zeros).
  const __mmask8 mask = static_cast<__mmask8>(lane_mask(W));
  const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) {
    __m256 h[8];
#pragma GCC unroll 8
    for (int j = 0; j < 8; ++j) {
      // Not _mm512_castps512_ps256: GCC 12 warns about the undefined upper half its header passes through.
      h[j] = j < W ? _mm256_add_ps(_mm512_extractf32x8_ps(acc[r][j < W ? j : 0], 0),
                                   _mm512_extractf32x8_ps(acc[r][j < W ? j : 0], 1))
                   : _mm256_setzero_ps();
    }
    const __m256 h0123 = _mm256_hadd_ps(_mm256_hadd_ps(h[0], h[1]), _mm256_hadd_ps(h[2], h[3]));
    const __m256 h4567 = _mm256_hadd_ps(_mm256_hadd_ps(h[4], h[5]), _mm256_hadd_ps(h[6], h[7]));
    // Lanes 0-3: columns 0-3 (low halves + high halves), lanes 4-7: columns 4-7.
    const __m256 s = _mm256_add_ps(_mm256_permute2f128_ps(h0123, h4567, 0x20),
                                   _mm256_permute2f128_ps(h0123, h4567, 0x31));
    __m256 v = _mm256_mul_ps(va, s);
    float* cr = c + r * ldc;
    if (beta != 0.0f) v = _mm256_fmadd_ps(vb, _mm256_maskz_loadu_ps(mask, cr), v);
    _mm256_mask_storeu_ps(cr, mask, v);
  }
}

// bt (8 rows of kp) = the first `count` (<= 8) columns of the k rows of b, ld apart, by 4 x 4 tiles: 4-column
// groups up to count, zeros beyond k and in a group's rows past count (the later rows are never read). Loads are
// masked to the columns: an in-place B ends at the matrix's edge.
void transpose_edge(const float* b, int64_t ld, int64_t count, int64_t k, int64_t kp, float* bt) {
  for (int64_t g = 0; g < count; g += 4) {
    const __mmask8 mask = static_cast<__mmask8>(lane_mask(count - g > 4 ? 4 : count - g));
    const float* bg = b + g;
    float* out = bt + g * kp;
    for (int64_t p = 0; p < kp; p += 4) {
      const __m128 z = _mm_setzero_ps();
      __m128 r0 = p < k ? _mm_maskz_loadu_ps(mask, bg + p * ld) : z;
      __m128 r1 = p + 1 < k ? _mm_maskz_loadu_ps(mask, bg + (p + 1) * ld) : z;
      __m128 r2 = p + 2 < k ? _mm_maskz_loadu_ps(mask, bg + (p + 2) * ld) : z;
      __m128 r3 = p + 3 < k ? _mm_maskz_loadu_ps(mask, bg + (p + 3) * ld) : z;
      _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
      _mm_store_ps(out + p, r0);
      _mm_store_ps(out + kp + p, r1);
      _mm_store_ps(out + 2 * kp + p, r2);
      _mm_store_ps(out + 3 * kp + p, r3);
    }
  }
}

using Edge = void (*)(int64_t, const float*, int64_t, const float*, int64_t, float*, int64_t, float, float);

// Indexed by [rows - 1][columns - 1].
template <int... R>
struct EdgeTable {
  static constexpr Edge fns[sizeof...(R)][8] = {{edge_klanes<R, 1>, edge_klanes<R, 2>, edge_klanes<R, 3>,
                                                  edge_klanes<R, 4>, edge_klanes<R, 5>, edge_klanes<R, 6>,
                                                  edge_klanes<R, 7>, edge_klanes<R, 8>}...};
};
constexpr auto& kEdge = EdgeTable<1, 2, 3>::fns;
// Longest k of a panel bt holds: the driver's K block (gemm.cc: 800 on AVX-512; bt is then 25 KiB of stack).
constexpr int64_t kEdgeMaxK = 800;

using EdgeRows = void (*)(int64_t, int64_t, const float*, int64_t, int64_t, const float*, int64_t, float*, int64_t,
                          float, float);

// Indexed by [micro-panels - 1][columns - 1].
template <int... R>
struct EdgeRowsTable {
  static constexpr EdgeRows fns[sizeof...(R)][8] = {{edge_rows<R, 1>, edge_rows<R, 2>, edge_rows<R, 3>,
                                                      edge_rows<R, 4>, edge_rows<R, 5>, edge_rows<R, 6>,
                                                      edge_rows<R, 7>, edge_rows<R, 8>}...};
};
constexpr auto& kEdgeRows = EdgeRowsTable<1, 2, 3>::fns;

using Micro = void (*)(int64_t, const float*, int64_t, int64_t, const float*, int64_t, float*, int64_t, float, float,
                       __mmask16, __mmask16);

// Indexed by [rows - 1][columns: 32, 17..31 (masked), 1..16 (masked, one vector)][strided].
template <int... R>
struct Table {
  static constexpr Micro fns[sizeof...(R)][3][2] = {
      {{micro<R, 2, false, false>, micro<R, 2, false, true>},
       {micro<R, 2, true, false>, micro<R, 2, true, true>},
       {micro<R, 1, true, false>, micro<R, 1, true, true>}}...};
};
constexpr auto& kMicro = Table<1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12>::fns;

}  // namespace

void block_kernel_avx512(const BlockArgs& g) {
  const bool strided = g.a_r != 1;
  for (int64_t j = 0; j < g.n; j += kNR) {
    const int64_t nr = g.n - j < kNR ? g.n - j : kNR;
    const float* b = g.b + (j / kNR) * g.b_panel;
    if (g.edges_along_k && strided && nr <= 8 && g.k <= kEdgeMaxK) {
      const int64_t kp = (g.k + 15) & ~int64_t{15};
      alignas(64) float bt[8 * kEdgeMaxK];
      transpose_edge(b, g.b_k, nr, g.k, kp, bt);
      for (int64_t i = 0; i < g.m; i += 3) {
        const int64_t rows = g.m - i < 3 ? g.m - i : 3;
        kEdge[rows - 1][nr - 1](g.k, g.a + (i / kMR) * g.a_panel + (i % kMR) * g.a_r, g.a_r, bt, kp,
                                g.c + i * g.ldc + j, g.ldc, g.alpha, g.beta);
      }
      continue;
    }
    if (!strided && nr <= 8) {
      for (int64_t i = 0; i < g.m; i += 3 * kMR) {
        const int64_t rows = g.m - i < 3 * kMR ? g.m - i : 3 * kMR;
        kEdgeRows[(rows + kMR - 1) / kMR - 1][nr - 1](g.k, rows, g.a + (i / kMR) * g.a_panel, g.a_panel, g.a_k, b,
                                                      g.b_k, g.c + i * g.ldc + j, g.ldc, g.alpha, g.beta);
      }
      continue;
    }
    const int cols = nr == kNR ? 0 : nr > 16 ? 1 : 2;
    const __mmask16 mask0 = lane_mask(nr), mask1 = lane_mask(nr - 16);
    for (int64_t i = 0; i < g.m; i += kMR) {
      const int64_t mr = g.m - i < kMR ? g.m - i : kMR;
      kMicro[mr - 1][cols][strided](g.k, g.a + (i / kMR) * g.a_panel, g.a_k, g.a_r, b, g.b_k, g.c + i * g.ldc + j,
                                    g.ldc, g.alpha, g.beta, mask0, mask1);
    }
  }
}

}  // namespace normnet::gemm_detail
