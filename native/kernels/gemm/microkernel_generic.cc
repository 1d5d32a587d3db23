// Portable block kernel: 4 x 8 micro-kernel in plain C++. At the x86-64 baseline the compiler keeps the
// accumulators in 8 SSE registers and vectorises the column loop. Contract in microkernel.h.
#include "kernels/gemm/microkernel.h"

namespace normnet::gemm_detail {

namespace {

constexpr int kMR = 4;
constexpr int kNR = 8;

// C[MR x NC] = alpha * A-panel * B-panel + beta * C; NC = kNR for full panels, else the edge width nc.
template <int MR, bool kEdge>
void micro(int64_t k, const float* a, int64_t a_k, const float* b, int64_t b_k, float* c, int64_t ldc,
           float alpha, float beta, int64_t nc) {
  const int64_t n = kEdge ? nc : kNR;
  float acc[MR][kNR] = {};
  float bp[kNR] = {};
  for (int64_t p = 0; p < k; ++p) {
    // Copy so the edge never reads past column n and the full case is a fixed-width loop.
    for (int64_t j = 0; j < n; ++j) bp[j] = b[j];
    for (int r = 0; r < MR; ++r) {
      const float ar = a[r];
      for (int j = 0; j < kNR; ++j) acc[r][j] += ar * bp[j];
    }
    a += a_k;
    b += b_k;
  }
  for (int r = 0; r < MR; ++r) {
    float* cr = c + r * ldc;
    if (beta != 0.0f) {
      for (int64_t j = 0; j < n; ++j) cr[j] = alpha * acc[r][j] + beta * cr[j];
    } else {
      for (int64_t j = 0; j < n; ++j) cr[j] = alpha * acc[r][j];
    }
  }
}

using Micro = void (*)(int64_t, const float*, int64_t, const float*, int64_t, float*, int64_t, float, float,
                       int64_t);

// Indexed by [rows - 1][edge].
template <int... R>
struct Table {
  static constexpr Micro fns[sizeof...(R)][2] = {{micro<R, false>, micro<R, true>}...};
};
constexpr auto& kMicro = Table<1, 2, 3, 4>::fns;

}  // namespace

void block_kernel_generic(const BlockArgs& g) {
  for (int64_t j = 0; j < g.n; j += kNR) {
    const int64_t nr = g.n - j < kNR ? g.n - j : kNR;
    const float* b = g.b + (j / kNR) * g.b_panel;
    for (int64_t i = 0; i < g.m; i += kMR) {
      const int64_t mr = g.m - i < kMR ? g.m - i : kMR;
      kMicro[mr - 1][nr < kNR](g.k, g.a + (i / kMR) * g.a_panel, g.a_k, b, g.b_k, g.c + i * g.ldc + j, g.ldc,
                               g.alpha, g.beta, nr);
    }
  }
}

}  // namespace normnet::gemm_detail
