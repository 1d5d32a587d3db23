// SGEMM driver (Goto/BLIS): C[M x N] = alpha * op(A)[M x K] * op(B)[K x N] + beta * C, row-major float32.
//
//   for jc over N by NC:
//     for pc over K by KC:                      beta applies to the first KC block only
//       B panel op(B)[pc.., jc..] (KC x NC): packed into NR-wide micro-panels, or read in place
//       for ic over M by MC:
//         A block op(A)[ic.., pc..] (MC x KC): packed into MR-high micro-panels, or read in place
//         block kernel: MR x NR register micro-kernels over the block (microkernel.h)
//
// Packing buffers are thread_local and only grow, so steady-state calls allocate nothing.
// Threads split C into column (or row) ranges; each runs the loop nest above on its range.
#include "kernels/gemm/gemm.h"

#include "kernels/gemm/microkernel.h"
#include "kernels/gemm/pack.h"
#include "runtime/cpu.h"
#include "runtime/thread_pool.h"

#include <algorithm>
#include <cstdlib>

namespace normnet {

namespace {

using gemm_detail::BlockArgs;

struct Config {
  int mr, nr;
  int64_t mc, kc, nc;  // A block MC x KC sized for L2, B micro-panel KC x NR for L1
  void (*block)(const BlockArgs&);
};

const Config& config(Isa isa) {
  static const Config generic{4, 8, 128, 256, 4096, gemm_detail::block_kernel_generic};
  static const Config avx2{6, 16, 144, 256, 4080, gemm_detail::block_kernel_avx2};
  static const Config avx512{12, 32, 192, 256, 4096, gemm_detail::block_kernel_avx512};
  switch (isa) {
    case Isa::avx512: return avx512;
    case Isa::avx2: return avx2;
    default: return generic;
  }
}

// A packing buffer that only grows; 64-byte aligned for full-line vector loads.
class Buffer {
 public:
  ~Buffer() { std::free(data_); }
  float* get(int64_t floats) {
    const size_t bytes = (static_cast<size_t>(floats) * sizeof(float) + 63) & ~size_t{63};
    if (bytes > capacity_) {
      std::free(data_);
      data_ = static_cast<float*>(std::aligned_alloc(64, bytes));
      capacity_ = bytes;
    }
    return data_;
  }

 private:
  float* data_ = nullptr;
  size_t capacity_ = 0;
};

thread_local Buffer a_buffer, b_buffer;

struct Problem {
  bool trans_a, trans_b;
  int64_t M, N, K;
  float alpha;
  const float* A;
  int64_t lda;
  const float* B;
  int64_t ldb;
  float beta;
  float* C;
  int64_t ldc;
};

// The sub-problem for rows [i0, i0+m) and columns [j0, j0+n) of C.
Problem slice(const Problem& p, int64_t i0, int64_t m, int64_t j0, int64_t n) {
  Problem s = p;
  s.M = m;
  s.N = n;
  s.A = p.trans_a ? p.A + i0 : p.A + i0 * p.lda;
  s.B = p.trans_b ? p.B + j0 * p.ldb : p.B + j0;
  s.C = p.C + i0 * p.ldc + j0;
  return s;
}

void scale(const Problem& p) {
  for (int64_t i = 0; i < p.M; ++i) {
    float* c = p.C + i * p.ldc;
    if (p.beta == 0.0f) {
      std::fill(c, c + p.N, 0.0f);
    } else {
      for (int64_t j = 0; j < p.N; ++j) c[j] *= p.beta;
    }
  }
}

void gemm_serial(const Config& cfg, const Problem& p) {
  // A transposed already has each micro-panel column (MR values at one k) contiguous: read it in place.
  const bool direct_a = p.trans_a;
  // B not transposed has each micro-panel row contiguous; reading it in place saves packing when few
  // A panels reuse it.
  const bool direct_b = !p.trans_b && p.M <= cfg.mc;
  for (int64_t jc = 0; jc < p.N; jc += cfg.nc) {
    const int64_t nc = std::min(cfg.nc, p.N - jc);
    for (int64_t pc = 0; pc < p.K; pc += cfg.kc) {
      const int64_t kc = std::min(cfg.kc, p.K - pc);
      BlockArgs args{};
      args.n = nc;
      args.k = kc;
      args.alpha = p.alpha;
      args.beta = pc == 0 ? p.beta : 1.0f;
      if (direct_b) {
        args.b = p.B + pc * p.ldb + jc;
        args.b_k = p.ldb;
        args.b_panel = cfg.nr;
      } else {
        float* packed = b_buffer.get(((nc + cfg.nr - 1) / cfg.nr) * cfg.nr * kc);
        if (p.trans_b) {
          gemm_detail::pack_transposed(p.B + jc * p.ldb + pc, p.ldb, nc, kc, cfg.nr, packed);
        } else {
          gemm_detail::pack_copied(p.B + pc * p.ldb + jc, p.ldb, nc, kc, cfg.nr, packed);
        }
        args.b = packed;
        args.b_k = cfg.nr;
        args.b_panel = cfg.nr * kc;
      }
      for (int64_t ic = 0; ic < p.M; ic += cfg.mc) {
        args.m = std::min(cfg.mc, p.M - ic);
        if (direct_a) {
          args.a = p.A + pc * p.lda + ic;
          args.a_k = p.lda;
          args.a_panel = cfg.mr;
        } else {
          float* packed = a_buffer.get(((args.m + cfg.mr - 1) / cfg.mr) * cfg.mr * kc);
          gemm_detail::pack_transposed(p.A + ic * p.lda + pc, p.lda, args.m, kc, cfg.mr, packed);
          args.a = packed;
          args.a_k = cfg.mr;
          args.a_panel = cfg.mr * kc;
        }
        args.c = p.C + ic * p.ldc + jc;
        args.ldc = p.ldc;
        cfg.block(args);
      }
    }
  }
}

// Below this many multiply-adds a second thread costs more than it saves.
constexpr int64_t kMinParallelMacs = int64_t{1} << 18;

}  // namespace

void gemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
          const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  const Problem p{transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc};
  if (K <= 0 || alpha == 0.0f) {
    scale(p);
    return;
  }
  const Config& cfg = config(active_isa());
  ThreadPool& pool = ThreadPool::global();
  int threads = pool.size();
  if (M * N * K < kMinParallelMacs) threads = 1;
  // Split the larger side of C: each thread packs all of the other operand, so duplicate the smaller.
  const bool split_n = N >= M;
  const int64_t unit = split_n ? cfg.nr : cfg.mr;
  const int64_t units = ((split_n ? N : M) + unit - 1) / unit;
  const int64_t tasks = std::min<int64_t>(threads, units);
  if (tasks <= 1) {
    gemm_serial(cfg, p);
    return;
  }
  pool.parallel_for(static_cast<int>(tasks), [&](int t) {
    const int64_t u0 = units * t / tasks, u1 = units * (t + 1) / tasks;
    const int64_t extent = split_n ? N : M;
    const int64_t lo = u0 * unit, len = std::min(u1 * unit, extent) - lo;
    gemm_serial(cfg, split_n ? slice(p, 0, M, lo, len) : slice(p, lo, len, 0, N));
  });
}

}  // namespace normnet
