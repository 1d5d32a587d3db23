// SGEMM driver (Goto/BLIS): C[M x N] = alpha * op(A)[M x K] * op(B)[K x N] + beta * C, row-major float32.
//
//   for jc over N by NC:
//     for pc over K by KC:                      beta applies to the first KC block only
//       B panel op(B)[pc.., jc..] (KC x NC): packed into NR-wide micro-panels, or read in place
//       for ic over M by MC:
//         A block op(A)[ic.., pc..] (MC x KC): packed into MR-high micro-panels, or read in place
//         block kernel: MR x NR register micro-kernels over the block (microkernel.h)
//
// Threads (products under kMinWarmParallelMacs stay on the calling thread, those under kMinParallelMacs do
// unless the pool is warm: ThreadPool::warm(), and every shape splits only while that has been the faster way
// for it lately: runtime/split_policy.h), either
//  - slices: C cut into row or column ranges (two a thread), each running the loop nest alone, or
//  - shared B: for each B panel the threads first pack disjoint ranges of its micro-panels into one buffer,
//    then take disjoint ranges of C rows (each packing its own A blocks), or of columns when M is tiny.
// Packing buffers are thread_local and only grow, so steady-state calls allocate nothing.
#include "kernels/gemm/gemm.h"

#include "kernels/gemm/microkernel.h"
#include "kernels/gemm/pack.h"
#include "runtime/cpu.h"
#include "runtime/split_policy.h"
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
  gemm_detail::PackFn pack_transposed, pack_copied;
};

const Config& config(Isa isa) {
  using namespace gemm_detail;
  static const Config generic{5, 8, 96, 384, 4096, block_kernel_generic, pack_transposed, pack_copied};
#if defined(__x86_64__)
  static const Config avx2{6, 16, 96, 384, 4080, block_kernel_avx2, pack_transposed_avx2, pack_copied_avx2};
  // KC = 800 puts K = 784 in one block (not 4 of 196): C is read and written once, and the B micro-panel
  // (100 KiB) streams from L2 as fast. Measured on Zen 5, one thread, against 256: 100x100x784 1.03x (X·Wᵀ) and
  // 1.05x, 256x128x1250 1.03x, 1000^3 1.03x, 512^3 1.01x; 400 gained half as much, 1200 no more than 800.
  static const Config avx512{12, 32, 192, 800, 4096, block_kernel_avx512, pack_transposed_avx2, pack_copied_avx2};
  switch (isa) {
    case Isa::avx512: return avx512;
    case Isa::avx2: return avx2;
    default: return generic;
  }
#elif defined(__aarch64__)
  // Not measured on ARM hardware: a 256 x 12 B micro-panel is 12 KiB of a 32-64 KiB L1d, a 128 x 256 A block
  // 128 KiB of a 512 KiB-1 MiB L2 (Cortex-A72, A76, Neoverse N1); NC a multiple of 12.
  static const Config neon{8, 12, 128, kNeonMaxK, 4080, block_kernel_neon, pack_transposed_neon, pack_copied};
  return isa == Isa::neon ? neon : generic;
#else
  (void)isa;
  return generic;
#endif
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

// C = beta * C, the whole product when K == 0 or alpha == 0; beta == 0 writes zeros without reading C.
void scale(int64_t M, int64_t N, float beta, float* C, int64_t ldc) {
  for (int64_t i = 0; i < M; ++i) {
    float* c = C + i * ldc;
    if (beta == 0.0f) {
      std::fill(c, c + N, 0.0f);
    } else {
      for (int64_t j = 0; j < N; ++j) c[j] *= beta;
    }
  }
}

// Block size for n cut into ceil(n / max_block) near-equal blocks, rounded up to a multiple of unit:
// K = 784 by 384 runs 2 blocks of 392, not 384 + 384 + 16, where the last would cost a pass over C for little work.
int64_t balanced_block(int64_t n, int64_t max_block, int64_t unit) {
  const int64_t blocks = (n + max_block - 1) / max_block;
  const int64_t block = (n + blocks - 1) / blocks;
  return (block + unit - 1) / unit * unit;
}

// Runs fn(u0, u1) over [0, units) cut into at most `parts` contiguous ranges, one pool task each.
template <class F>
void split(int parts, int64_t units, F&& fn) {
  const int64_t tasks = std::min<int64_t>(parts, units);
  if (tasks <= 1) {
    fn(int64_t{0}, units);
    return;
  }
  ThreadPool::global().parallel_for(static_cast<int>(tasks), [&](int t) {
    fn(units * t / tasks, units * (t + 1) / tasks);
  });
}

// From this many multiply-adds a product always splits over the pool.
constexpr int64_t kMinParallelMacs = int64_t{1} << 23;
// From this many it splits while the pool is warm (ThreadPool::warm(): its workers polling on cores of their
// own, none preempted mid-task lately). Measured in the MLP's training loop (products of 1M and 7.8M
// multiply-adds, paired 1T/2T chunks in one process): 1.31x a step on a quiet machine; with another process
// spinning on the second core, splitting them unconditionally made a step 0.57-0.66x as fast as one thread.
constexpr int64_t kMinWarmParallelMacs = int64_t{1} << 18;

// Reading an operand in place saves its packing, which matters for small products; packing pays when the
// packed panels are reused many times (measured on Zen 3: the thresholds are where the two cross).
// A, transposed or not, is read in place when few B micro-panels reuse it.
bool reads_a_in_place(int64_t N) { return N <= 256; }

// The loop nest above on `threads` threads sharing each packed B panel. edges_along_k: whether block kernels may
// sum narrow edge panels along k (BlockArgs).
void blocked(const Config& cfg, int threads, bool edges_along_k, bool transA, bool transB, int64_t M, int64_t N,
             int64_t K, float alpha, const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
             int64_t ldc) {
  using gemm_detail::kPackSlack;
  const int64_t kc_max = balanced_block(K, cfg.kc, 1);
  const bool direct_a = reads_a_in_place(N);
  // B not transposed has each micro-panel row contiguous: in place when the KC rows it spans, ldb apart, fit in
  // a quarter of L2 (128 KiB). Measured on the 20 -> 50 convolution's per-image product (B = 181 x 100 freshly
  // unfolded columns): 10% faster than packing. Counting N rather than ldb read a column slice of a wide B in
  // place, its micro-panel rows 2 KiB apart and so in a few L1 sets: the 2-thread 512^3 slices ran 1.3x slower.
  // Also when few A micro-panels reuse it (M <= 256, as reads_a_in_place does for A) and its rows spread over all
  // 64 L1 sets (ldb not a multiple of 32 floats). Measured on Zen 5, one thread: 100x784x100 1.08x (dY·W) and
  // 1.09x (dYᵀ·X), 128x1250x256 1.10x, 256x1250x128 1.03x, 784^3 0.98x (so not for large M), 256x2048x256 0.96x
  // without the ldb condition (rows 8 KiB apart, all in one set).
  const bool direct_b = !transB && (ldb * kc_max <= 32768 || (M <= 256 && ldb % 32 != 0));

  for (int64_t jc = 0; jc < N; jc += cfg.nc) {
    const int64_t nc = std::min(cfg.nc, N - jc);
    const int64_t n_panels = (nc + cfg.nr - 1) / cfg.nr;
    for (int64_t pc = 0; pc < K; pc += kc_max) {
      const int64_t kc = std::min(kc_max, K - pc);
      BlockArgs block{};
      block.k = kc;
      block.alpha = alpha;
      block.beta = pc == 0 ? beta : 1.0f;  // later K blocks add to the first one's result
      block.ldc = ldc;
      block.edges_along_k = edges_along_k;
      if (direct_b) {
        block.b = B + pc * ldb + jc;
        block.b_k = ldb;
        block.b_panel = cfg.nr;
      } else {
        // One packed B panel shared by all threads, each packing a range of its micro-panels. Ranges never
        // overlap: only the last micro-panel can be narrow, and its vector overrun goes to the slack.
        float* packed = b_buffer.get(n_panels * cfg.nr * kc + kPackSlack);
        split(threads, n_panels, [&](int64_t q0, int64_t q1) {
          const int64_t j0 = q0 * cfg.nr, count = std::min(q1 * cfg.nr, nc) - j0;
          if (transB) {
            cfg.pack_transposed(B + (jc + j0) * ldb + pc, ldb, count, kc, cfg.nr, packed + j0 * kc);
          } else {
            cfg.pack_copied(B + pc * ldb + jc + j0, ldb, count, kc, cfg.nr, packed + j0 * kc);
          }
        });
        block.b = packed;
        block.b_k = cfg.nr;
        block.b_panel = cfg.nr * kc;
      }
      // Threads take ranges of C rows (sharing the B panel), or of columns when M has too few micro-panels.
      const int64_t m_units = (M + cfg.mr - 1) / cfg.mr;
      const bool split_m = m_units >= 2 * threads || m_units >= n_panels;
      split(threads, split_m ? m_units : n_panels, [&](int64_t u0, int64_t u1) {
        const int64_t i0 = split_m ? u0 * cfg.mr : 0, i1 = split_m ? std::min(u1 * cfg.mr, M) : M;
        const int64_t j0 = split_m ? 0 : u0 * cfg.nr, j1 = split_m ? nc : std::min(u1 * cfg.nr, nc);
        const int64_t mc_max = balanced_block(i1 - i0, cfg.mc, cfg.mr);
        BlockArgs args = block;
        args.n = j1 - j0;
        args.b = block.b + (j0 / cfg.nr) * block.b_panel;
        for (int64_t ic = i0; ic < i1; ic += mc_max) {
          args.m = std::min(mc_max, i1 - ic);
          args.a_r = 1;
          if (direct_a && transA) {
            args.a = A + pc * lda + ic;
            args.a_k = lda;
            args.a_panel = cfg.mr;
          } else if (direct_a) {
            args.a = A + ic * lda + pc;
            args.a_k = 1;
            args.a_r = lda;
            args.a_panel = cfg.mr * lda;
          } else {
            float* packed = a_buffer.get(((args.m + cfg.mr - 1) / cfg.mr) * cfg.mr * kc + kPackSlack);
            if (transA) {
              cfg.pack_copied(A + pc * lda + ic, lda, args.m, kc, cfg.mr, packed);
            } else {
              cfg.pack_transposed(A + ic * lda + pc, lda, args.m, kc, cfg.mr, packed);
            }
            args.a = packed;
            args.a_k = cfg.mr;
            args.a_panel = cfg.mr * kc;
          }
          args.c = C + ic * ldc + jc + j0;
          cfg.block(args);
        }
      });
    }
  }
}

// The product on `threads` threads (see gemm()).
void product(const Config& cfg, int threads, bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha,
             const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  // Two ways to use threads. Independent slices of C, each packing what it reads into its own thread's cache:
  // cut the larger side, so the operand every slice packs in full is the smaller one. Or the blocked loop with
  // shared B panels: nothing packed twice, but a barrier per panel and reads from the other core's cache.
  // Measured on the training shapes: slices win once that duplicated packing is under 1/64 of a slice's work.
  // Two slices a thread: tasks are claimed dynamically, so a worker descheduled mid-call holds back a quarter of
  // the work rather than half (measured: no cost against one slice a thread).
  // A column slice of a product too wide to read A in place may itself be narrow enough to: its edge panel
  // must then be summed as the whole product's is, for the same bits on any number of threads.
  const bool edges_along_k = reads_a_in_place(N);
  const int slices = 2 * threads;
  const bool cut_n = N >= M;
  const int64_t duplicated = cut_n ? M * K : K * N;
  if (threads == 1 || duplicated * 64 >= M * N * K / slices) {
    blocked(cfg, threads, edges_along_k, transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  const int64_t unit = cut_n ? cfg.nr : cfg.mr;
  split(slices, ((cut_n ? N : M) + unit - 1) / unit, [&](int64_t u0, int64_t u1) {
    const int64_t lo = u0 * unit, len = std::min(u1 * unit, cut_n ? N : M) - lo;
    if (cut_n) {
      blocked(cfg, 1, edges_along_k, transA, transB, M, len, K, alpha, A, lda, transB ? B + lo * ldb : B + lo, ldb,
              beta, C + lo, ldc);
    } else {
      blocked(cfg, 1, edges_along_k, transA, transB, len, N, K, alpha, transA ? A + lo : A + lo * lda, lda, B, ldb,
              beta, C + lo * ldc, ldc);
    }
  });
}

}  // namespace

void gemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
          const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0 || alpha == 0.0f) {
    scale(M, N, beta, C, ldc);
    return;
  }
  const Config& cfg = config(active_isa());
  ThreadPool& pool = ThreadPool::global();
  const int64_t macs = M * N * K;
  if (pool.size() == 1 || macs < kMinWarmParallelMacs) {
    product(cfg, 1, transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  // Split or not as this shape's recent products ran faster (runtime/split_policy.h).
  static const char site = 0;
  run_adaptively(split_key(&site, M, N, K * 4 + transA * 2 + transB), [&](bool split) {
    split = split && (macs >= kMinParallelMacs || pool.warm());
    product(cfg, split ? pool.size() : 1, transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return split;
  });
}

}  // namespace normnet
