// NEON block kernel: 8 x 12 micro-kernel, 24 accumulators (8 rows x 3 vectors of 4 columns). Each k step loads
// 3 B vectors and A's 8 values as 2 vectors, rows 0-3 and 4-7, and multiplies by lane (vfmaq_laneq_f32): 29 of
// AArch64's 32 vector registers, the shape of OpenBLAS' and ARM Compute Library's sgemm kernels for Cortex-A and
// Neoverse cores. A's column is 2 plain loads when it is contiguous (packed, or read in place from a transposed
// A) and 8 rows high; else (A read in place row by row, and row edges) a broadcast and 3 lane inserts a vector,
// which keeps it in 2 registers (from 8 scalar loads, GCC 12's code spilled an accumulator every k step).
// Contract in microkernel.h; k <= kNeonMaxK.
//
// NEON has no masked loads. Edge panels of fewer than 12 columns take only ceil(n / 4) vectors; their B columns
// are first copied, zero-padded, into a 12-wide buffer (a panel read in place may end the matrix; k x 12 floats
// copied once for the MC / 8 micro-tiles that read them), and each row of C goes through a 12-float copy, so
// nothing past column n is read or written. Rows past m are never read (their lanes are never loaded).
#include "kernels/gemm/microkernel.h"

#include <arm_neon.h>

#include <utility>

namespace normnet::gemm_detail {

namespace {

constexpr int kMR = 8;
constexpr int kNR = 12;

// Row R's value a[R * a_r] into lane R % 4 of a0 (rows 0-3) or a1 (rows 4-7). Lane 0 broadcasts, so that each
// k step's column depends on no earlier step's registers.
template <std::size_t R>
inline void load_row(const float* a, int64_t a_r, float32x4_t& a0, float32x4_t& a1) {
  float32x4_t& half = R < 4 ? a0 : a1;
  half = R % 4 == 0 ? vld1q_dup_f32(a + R * a_r) : vld1q_lane_f32(a + R * a_r, half, R % 4);
}

template <std::size_t... R>
inline void load_rows(const float* a, int64_t a_r, float32x4_t& a0, float32x4_t& a1, std::index_sequence<R...>) {
  (load_row<R>(a, a_r, a0, a1), ...);
}

template <int MR, int NV, std::size_t... R>
inline void fma_rows(float32x4_t (&acc)[MR][NV], const float32x4_t (&b)[NV], float32x4_t a0, float32x4_t a1,
                     std::index_sequence<R...>) {
#pragma GCC unroll 3
  for (int v = 0; v < NV; ++v) ((acc[R][v] = vfmaq_laneq_f32(acc[R][v], b[v], R < 4 ? a0 : a1, R % 4)), ...);
}

// C[MR x 4*NV] (through a copy of each row when n < 4*NV) = alpha * A-panel * B-panel + beta * C.
// kStrided: A read in place with rows a_r apart. A compile-time a_r = 1 otherwise.
template <int MR, int NV, bool kStrided>
void micro(int64_t k, const float* a, int64_t a_k, int64_t a_r, const float* b, int64_t b_k, float* c, int64_t ldc,
           float alpha, float beta, int64_t n) {
  // The r loops are unrolled in full so the accumulator arrays live in registers.
  float32x4_t acc[MR][NV];
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 3
    for (int v = 0; v < NV; ++v) acc[r][v] = vdupq_n_f32(0.0f);
  }
  // C is needed only after the k loop: start fetching it now.
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) {
    __builtin_prefetch(c + r * ldc, 1);
    __builtin_prefetch(c + r * ldc + 4 * NV - 1, 1);
  }
  for (int64_t p = 0; p < k; ++p) {
    float32x4_t bv[NV];
#pragma GCC unroll 3
    for (int v = 0; v < NV; ++v) bv[v] = vld1q_f32(b + 4 * v);
    float32x4_t a0 = vdupq_n_f32(0.0f), a1 = a0;
    if constexpr (MR == kMR && !kStrided) {
      a0 = vld1q_f32(a), a1 = vld1q_f32(a + 4);
    } else {
      load_rows(a, kStrided ? a_r : 1, a0, a1, std::make_index_sequence<MR>{});
    }
    fma_rows(acc, bv, a0, a1, std::make_index_sequence<MR>{});
    a += a_k;
    b += b_k;
  }
  const bool edge = n < 4 * NV;
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) {
    float* cr = c + r * ldc;
    float row[kNR] = {};
    float* out = edge ? row : cr;
    if (edge && beta != 0.0f) {
      for (int64_t j = 0; j < n; ++j) row[j] = cr[j];
    }
#pragma GCC unroll 3
    for (int v = 0; v < NV; ++v) {
      float32x4_t t = vmulq_n_f32(acc[r][v], alpha);
      if (beta != 0.0f) t = vfmaq_n_f32(t, vld1q_f32(out + 4 * v), beta);
      vst1q_f32(out + 4 * v, t);
    }
    if (edge) {
      for (int64_t j = 0; j < n; ++j) cr[j] = row[j];
    }
  }
}

using Micro = void (*)(int64_t, const float*, int64_t, int64_t, const float*, int64_t, float*, int64_t, float, float,
                       int64_t);

// Indexed by [rows - 1][vectors - 1][strided].
template <int... R>
struct Table {
  static constexpr Micro fns[sizeof...(R)][3][2] = {{{micro<R, 1, false>, micro<R, 1, true>},
                                                     {micro<R, 2, false>, micro<R, 2, true>},
                                                     {micro<R, 3, false>, micro<R, 3, true>}}...};
};
constexpr auto& kMicro = Table<1, 2, 3, 4, 5, 6, 7, 8>::fns;

}  // namespace

void block_kernel_neon(const BlockArgs& g) {
  const bool strided = g.a_r != 1;
  for (int64_t j = 0; j < g.n; j += kNR) {
    const int64_t nr = g.n - j < kNR ? g.n - j : kNR;
    const float* b = g.b + (j / kNR) * g.b_panel;
    int64_t b_k = g.b_k;
    float copy[kNeonMaxK * kNR];
    if (nr < kNR) {
      for (int64_t p = 0; p < g.k; ++p) {
        for (int64_t q = 0; q < kNR; ++q) copy[p * kNR + q] = q < nr ? b[p * g.b_k + q] : 0.0f;
      }
      b = copy;
      b_k = kNR;
    }
    const int64_t vectors = (nr + 3) / 4;
    for (int64_t i = 0; i < g.m; i += kMR) {
      const int64_t mr = g.m - i < kMR ? g.m - i : kMR;
      kMicro[mr - 1][vectors - 1][strided](g.k, g.a + (i / kMR) * g.a_panel, g.a_k, g.a_r, b, b_k, g.c + i * g.ldc + j,
                                           g.ldc, g.alpha, g.beta, nr);
    }
  }
}

}  // namespace normnet::gemm_detail
