// Portable block kernel: 5 x 8 micro-kernel on 4-wide vectors (GCC/Clang vector extensions, so SSE2 at the
// x86-64 baseline and NEON elsewhere): 10 accumulators, 2 B loads, 1 A broadcast and 1 product temporary per k.
// SSE2 has no FMA and its two-operand multiply needs that copy, so 6 rows would spill (measured 5% slower).
// Contract in microkernel.h.
#include "kernels/gemm/microkernel.h"

#include <cstring>

namespace normnet::gemm_detail {

namespace {

constexpr int kMR = 5;
constexpr int kNR = 8;

typedef float Vec __attribute__((vector_size(16)));

Vec load(const float* p) {
  Vec v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

void store(float* p, Vec v) { std::memcpy(p, &v, sizeof v); }

// C[MR x 8] = alpha * A-panel * B-panel + beta * C. Edge panels (nc < 8 columns) go through a zero-padded copy
// of each B row and a partial store, so nothing past column nc is read or written.
template <int MR, bool kEdge>
void micro(int64_t k, const float* a, int64_t a_k, int64_t a_r, const float* b, int64_t b_k, float* c, int64_t ldc,
           float alpha, float beta, int64_t nc) {
  Vec acc0[MR], acc1[MR];
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) acc0[r] = acc1[r] = Vec{};
  float row[kNR] = {};
  for (int64_t p = 0; p < k; ++p) {
    const float* bp = b;
    if (kEdge) {
      std::memcpy(row, b, nc * sizeof(float));
      bp = row;
    }
    const Vec b0 = load(bp), b1 = load(bp + 4);
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      const float av = a[r * a_r];
      const Vec ar = {av, av, av, av};
      acc0[r] += ar * b0;
      acc1[r] += ar * b1;
    }
    a += a_k;
    b += b_k;
  }
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) {
    float* cr = c + r * ldc;
    float out[kNR];
    store(out, acc0[r] * alpha);
    store(out + 4, acc1[r] * alpha);
    const int64_t n = kEdge ? nc : kNR;
    if (beta != 0.0f) {
      for (int64_t j = 0; j < n; ++j) cr[j] = out[j] + beta * cr[j];
    } else {
      for (int64_t j = 0; j < n; ++j) cr[j] = out[j];
    }
  }
}

using Micro = void (*)(int64_t, const float*, int64_t, int64_t, const float*, int64_t, float*, int64_t, float, float,
                       int64_t);

// Indexed by [rows - 1][edge].
template <int... R>
struct Table {
  static constexpr Micro fns[sizeof...(R)][2] = {{micro<R, false>, micro<R, true>}...};
};
constexpr auto& kMicro = Table<1, 2, 3, 4, 5>::fns;

}  // namespace

void block_kernel_generic(const BlockArgs& g) {
  for (int64_t j = 0; j < g.n; j += kNR) {
    const int64_t nr = g.n - j < kNR ? g.n - j : kNR;
    const float* b = g.b + (j / kNR) * g.b_panel;
    for (int64_t i = 0; i < g.m; i += kMR) {
      const int64_t mr = g.m - i < kMR ? g.m - i : kMR;
      kMicro[mr - 1][nr < kNR](g.k, g.a + (i / kMR) * g.a_panel, g.a_k, g.a_r, b, g.b_k, g.c + i * g.ldc + j, g.ldc,
                               g.alpha, g.beta, nr);
    }
  }
}

}  // namespace normnet::gemm_detail
