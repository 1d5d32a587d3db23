// Convolution, NCHW: the same algorithms as src/kernels/ts/conv.ts (see there for the formulas and conventions).
//
//   im2col:  cols[(c*KH + kh)*KW + kw, (n*OH + oh)*OW + ow] = x[n, c, oh*stride + kh - padding, ow*stride + kw - padding]
//   col2im:  dx = 0; dx[n, c, ih, iw] += every cols entry read from there
//   conv2d:  image by image, K = C*KH*KW, S = OH*OW, cols_n = im2col(x_n) (K, S):
//            forward         y_n (OC, S) = weight (OC, K) x cols_n + bias
//            backward input  dx_n = col2im(weight^T x dy_n)
//            backward params dweight += dy_n x cols_n^T, dbias += sums of dy_n
//   x, dx (N, C, H, W); cols (C*KH*KW, N*OH*OW); y, dy (N, OC, OH, OW)
//
// Why image by image: one image's cols (K*S floats, 72 KB for the CNN's 20->50 3x3 layer) stays in L2 between
// the unfolding and its GEMM, and the GEMM writes NCHW directly (y_n is OC rows of S), so nothing of batch
// size is unfolded, transposed or kept for backward; backward unfolds again instead.
//
// Small first layers (few taps, stride 1, no padding, rows a multiple of 8 wide) run forward and the weight
// gradient directly on AVX2 CPUs instead (conv_avx2.cc): there the unfolding costs as much as the product.
// Folding back at stride 1 without padding gathers each dx row in registers on AVX2 CPUs (conv_avx2.cc) and on
// AArch64 (conv_neon.cc). Unfolding is row copies, which GCC emits as vector loads and stores on either.
//
// Threads: im2col / col2im split the N*C input planes; plane (n, c) owns the cols columns n*OH*OW.. of rows
// (c, kh, kw) and the dx plane (n, c), so tasks write disjoint memory and col2im's sums keep the TS twin's
// order. conv2d forward and backward input split the batch (each image's GEMM then runs on its task's
// thread); backward params sums a fixed number of chunks of images, each into its own partial.
#include "kernels/conv.h"

#include "kernels/gemm/gemm.h"
#include "runtime/cpu.h"
#include "runtime/thread_pool.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace normnet {

namespace {

// Work per task of im2col / col2im, about 50 us on one core (measured on Zen 3): cols entries unfolded or
// folded back, about 0.5 ns each.
constexpr int64_t kUnfoldGrain = 1 << 17;
// The convolutions split the batch: about 2^21 multiply-adds per task (some 80 us), images whole.
constexpr int64_t kConvGrain = 1 << 21;
// Weight gradients are summed per chunk of images, a fixed number of chunks whatever the thread count.
constexpr int64_t kParamChunks = 16;
// Up to this many taps (C*KH*KW) a convolution that fits the direct path (conv.h) runs it: measured on the CNN's
// 1 -> 20, 5x5 layer (25 taps), where im2col + GEMM is starved.
constexpr int64_t kDirectMaxTaps = 32;

// A per-thread buffer of at least n floats that only grows: one image's unfolded columns.
float* scratch(int64_t n) {
  thread_local std::vector<float> buffer;
  if (buffer.size() < static_cast<size_t>(n)) buffer.resize(static_cast<size_t>(n));
  return buffer.data();
}

// sum of v[0..n) in double, in eight independent lanes the compiler can vectorize.
double sum_in_double(const float* v, int64_t n) {
  double lanes[8] = {};
  int64_t s = 0;
  for (; s + 8 <= n; s += 8) {
    for (int j = 0; j < 8; ++j) lanes[j] += v[s + j];
  }
  for (; s < n; ++s) lanes[0] += v[s];
  return ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
}

// Output positions o in [lo, hi) whose input position o*stride + k - padding lies in [0, size).
struct Inside {
  int64_t lo, hi;
};

int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

Inside inside_range(int64_t k, int64_t size, int64_t out, int64_t stride, int64_t padding) {
  const int64_t lo = std::min(out, std::max<int64_t>(0, -floor_div(k - padding, stride)));
  const int64_t hi = std::max(lo, std::min(out, floor_div(size - 1 + padding - k, stride) + 1));
  return {lo, hi};
}

struct Unfold {
  int64_t N, C, H, W, KH, KW, stride, padding, OH, OW;
};

Unfold unfold(int64_t N, int64_t C, int64_t H, int64_t W, int64_t KH, int64_t KW, int64_t stride, int64_t padding) {
  return {N, C, H, W, KH, KW, stride, padding, (H + 2 * padding - KH) / stride + 1, (W + 2 * padding - KW) / stride + 1};
}

// Calls visit(plane, col, rows, cols, dh, dw) for every input plane (n, c) in [begin, end) and kernel
// offset (kh, kw): plane is the offset of x's (n, c) plane, col the offset of its OH*OW columns in cols row
// (c, kh, kw); output rows [rows.lo, rows.hi) and columns [cols.lo, cols.hi) read inside the image, at
// input row oh*stride + dh and column ow*stride + dw (dh = kh - padding, dw = kw - padding).
template <class Visit>
void for_each_offset(const Unfold& u, int64_t begin, int64_t end, const Visit& visit) {
  const int64_t S = u.OH * u.OW;
  for (int64_t nc = begin; nc < end; ++nc) {
    const int64_t n = nc / u.C, c = nc % u.C;
    for (int64_t kh = 0; kh < u.KH; ++kh) {
      const Inside rows = inside_range(kh, u.H, u.OH, u.stride, u.padding);
      for (int64_t kw = 0; kw < u.KW; ++kw) {
        const Inside cols = inside_range(kw, u.W, u.OW, u.stride, u.padding);
        visit(nc * u.H * u.W, ((c * u.KH + kh) * u.KW + kw) * u.N * S + n * S, rows, cols, kh - u.padding,
              kw - u.padding);
      }
    }
  }
}

// dst[0..n) = src[0..n). Rows here are short (10 to 24 floats for the CNN). From 8 to 16 floats: two 8-float
// blocks, overlapping when n < 16, which the compiler inlines as two vector loads and stores. A loop of blocks
// (which GCC turns back into a memcpy call) and a scalar tail made the 20 -> 50 layer's forward 1.11x and its
// weight gradient 1.085x slower (paired, 1 thread).
void copy_row(float* __restrict dst, const float* __restrict src, int64_t n) {
  if (n >= 8 && n <= 16) {
    std::memcpy(dst, src, 8 * sizeof(float));
    std::memcpy(dst + n - 8, src + n - 8, 8 * sizeof(float));
  } else {
    std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
  }
}

// Whether a convolution with K taps takes the direct AVX2 paths (conv.h); there are none off x86-64.
bool direct(const Unfold& u, int64_t K) {
#if defined(__x86_64__)
  return active_isa() >= Isa::avx2 && u.stride == 1 && u.padding == 0 && u.OW % 8 == 0 && K <= kDirectMaxTaps;
#else
  (void)u, (void)K;
  return false;
#endif
}

// Unfolds input planes [begin, end) of x into cols (see im2col).
void unfold_planes(float* cols, const float* x, const Unfold& u, int64_t begin, int64_t end) {
  const int64_t S = u.OH * u.OW, W = u.W, stride = u.stride;
  if (stride == 1 && u.padding == 0) {
    // Every window lies inside the image: rows of OW straight copies, without the clipping arithmetic (integer
    // divisions per kernel offset) and the zero fills, which cost more than the copies at these sizes.
    for (int64_t nc = begin; nc < end; ++nc) {
      const int64_t n = nc / u.C, c = nc % u.C;
      const float* plane = x + nc * u.H * W;
      for (int64_t kh = 0; kh < u.KH; ++kh) {
        for (int64_t kw = 0; kw < u.KW; ++kw) {
          float* out = cols + ((c * u.KH + kh) * u.KW + kw) * u.N * S + n * S;
          const float* src = plane + kh * W + kw;
          for (int64_t oh = 0; oh < u.OH; ++oh) copy_row(out + oh * u.OW, src + oh * W, u.OW);
        }
      }
    }
    return;
  }
  for_each_offset(u, begin, end, [&](int64_t plane, int64_t col, Inside rows, Inside cs, int64_t dh, int64_t dw) {
    float* out = cols + col;
    std::fill(out, out + rows.lo * u.OW, 0.0f);
    for (int64_t oh = rows.lo; oh < rows.hi; ++oh) {
      float* dst = out + oh * u.OW;
      const float* src = x + plane + (oh * stride + dh) * W + dw;
      std::fill(dst, dst + cs.lo, 0.0f);
      if (stride == 1) {
        copy_row(dst + cs.lo, src + cs.lo, cs.hi - cs.lo);
      } else {
        for (int64_t ow = cs.lo; ow < cs.hi; ++ow) dst[ow] = src[ow * stride];
      }
      std::fill(dst + cs.hi, dst + u.OW, 0.0f);
    }
    std::fill(out + rows.hi * u.OW, out + S, 0.0f);
  });
}

// Folds cols back into input planes [begin, end) of dx, which it zeroes first (see col2im).
void fold_planes(float* dx, const float* cols, const Unfold& u, int64_t begin, int64_t end) {
  const int64_t W = u.W, stride = u.stride;
#if defined(__x86_64__)
  if (stride == 1 && u.padding == 0 && active_isa() >= Isa::avx2 && u.KW <= conv_detail::kMaxFoldKW) {
    conv_detail::fold_direct_avx2(dx, cols, u.N, u.C, u.H, W, u.KH, u.KW, begin, end);
    return;
  }
#elif defined(__aarch64__)
  if (stride == 1 && u.padding == 0 && active_isa() == Isa::neon) {
    conv_detail::fold_direct_neon(dx, cols, u.N, u.C, u.H, W, u.KH, u.KW, begin, end);
    return;
  }
#endif
  std::fill(dx + begin * u.H * W, dx + end * u.H * W, 0.0f);
  if (stride == 1 && u.padding == 0) {
    // As in unfold_planes: no clipping; the adds keep the general path's order (kh, kw, oh, ow).
    const int64_t S = u.OH * u.OW;
    for (int64_t nc = begin; nc < end; ++nc) {
      const int64_t n = nc / u.C, c = nc % u.C;
      float* plane = dx + nc * u.H * W;
      for (int64_t kh = 0; kh < u.KH; ++kh) {
        for (int64_t kw = 0; kw < u.KW; ++kw) {
          const float* src = cols + ((c * u.KH + kh) * u.KW + kw) * u.N * S + n * S;
          float* dst = plane + kh * W + kw;
          for (int64_t oh = 0; oh < u.OH; ++oh) {
            for (int64_t ow = 0; ow < u.OW; ++ow) dst[oh * W + ow] += src[oh * u.OW + ow];
          }
        }
      }
    }
    return;
  }
  for_each_offset(u, begin, end, [&](int64_t plane, int64_t col, Inside rows, Inside cs, int64_t dh, int64_t dw) {
    for (int64_t oh = rows.lo; oh < rows.hi; ++oh) {
      const float* src = cols + col + oh * u.OW;
      float* dst = dx + plane + (oh * stride + dh) * W + dw;
      if (stride == 1) {
        for (int64_t ow = cs.lo; ow < cs.hi; ++ow) dst[ow] += src[ow];
      } else {
        for (int64_t ow = cs.lo; ow < cs.hi; ++ow) dst[ow * stride] += src[ow];
      }
    }
  });
}

}  // namespace

void im2col(float* cols, const float* x, int64_t N, int64_t C, int64_t H, int64_t W, int64_t KH, int64_t KW,
            int64_t stride, int64_t padding) {
  const Unfold u = unfold(N, C, H, W, KH, KW, stride, padding);
  parallel_ranges(N * C, items_per_task(kUnfoldGrain, KH * KW * u.OH * u.OW),
                  [&](int64_t begin, int64_t end) { unfold_planes(cols, x, u, begin, end); });
}

void col2im(float* dx, const float* cols, int64_t N, int64_t C, int64_t H, int64_t W, int64_t KH, int64_t KW,
            int64_t stride, int64_t padding) {
  const Unfold u = unfold(N, C, H, W, KH, KW, stride, padding);
  parallel_ranges(N * C, items_per_task(kUnfoldGrain, KH * KW * u.OH * u.OW + H * W),
                  [&](int64_t begin, int64_t end) { fold_planes(dx, cols, u, begin, end); });
}

void conv2d_forward(float* y, const float* x, const float* weight, const float* bias, int64_t N, int64_t C, int64_t H,
                    int64_t W, int64_t OC, int64_t KH, int64_t KW, int64_t stride, int64_t padding) {
  const Unfold u = unfold(1, C, H, W, KH, KW, stride, padding);
  const int64_t K = C * KH * KW, S = u.OH * u.OW;
#if defined(__x86_64__)
  if (direct(u, K)) {
    parallel_ranges(N, items_per_task(kConvGrain, OC * K * S), [&](int64_t begin, int64_t end) {
      for (int64_t n = begin; n < end; ++n) {
        conv_detail::forward_direct_avx2(y + n * OC * S, x + n * C * H * W, weight, bias, C, H, W, OC, KH, KW);
      }
    });
    return;
  }
#endif
  // The bias rides in the GEMM: weight gains a column holding it and each image's cols a row of ones, so the
  // GEMM's output is y_n as it stands and no pass over y adds the bias.
  thread_local std::vector<float> weight_bias;
  weight_bias.resize(static_cast<size_t>(OC * (K + 1)));
  float* wb = weight_bias.data();
  for (int64_t oc = 0; oc < OC; ++oc) {
    std::copy(weight + oc * K, weight + (oc + 1) * K, wb + oc * (K + 1));
    wb[oc * (K + 1) + K] = bias[oc];
  }
  parallel_ranges(N, items_per_task(kConvGrain, OC * K * S), [&](int64_t begin, int64_t end) {
    float* cols = scratch((K + 1) * S);
    std::fill(cols + K * S, cols + (K + 1) * S, 1.0f);
    for (int64_t n = begin; n < end; ++n) {
      unfold_planes(cols, x + n * C * H * W, u, 0, C);
      gemm(false, false, OC, S, K + 1, 1.0f, wb, K + 1, cols, S, 0.0f, y + n * OC * S, S);
    }
  });
}

void conv2d_backward_input(float* dx, const float* dy, const float* weight, int64_t N, int64_t C, int64_t H, int64_t W,
                           int64_t OC, int64_t KH, int64_t KW, int64_t stride, int64_t padding) {
  const Unfold u = unfold(1, C, H, W, KH, KW, stride, padding);
  const int64_t K = C * KH * KW, S = u.OH * u.OW;
  parallel_ranges(N, items_per_task(kConvGrain, OC * K * S + C * H * W), [&](int64_t begin, int64_t end) {
    float* dcols = scratch(K * S);
    for (int64_t n = begin; n < end; ++n) {
      gemm(true, false, K, S, OC, 1.0f, weight, K, dy + n * OC * S, S, 0.0f, dcols, S);
      fold_planes(dx + n * C * H * W, dcols, u, 0, C);
    }
  });
}

void conv2d_backward_params(float* dweight, float* dbias, const float* dy, const float* x, int64_t N, int64_t C,
                            int64_t H, int64_t W, int64_t OC, int64_t KH, int64_t KW, int64_t stride, int64_t padding) {
  const Unfold u = unfold(1, C, H, W, KH, KW, stride, padding);
  const int64_t K = C * KH * KW, S = u.OH * u.OW;
  const int64_t chunks = std::min(N, kParamChunks);
  if (chunks == 0) return;
  // One partial dweight and dbias per chunk, summed in chunk order below: the same bits for any thread count.
  thread_local std::vector<float> partial_weight;
  thread_local std::vector<double> partial_bias;
  partial_weight.resize(std::max<size_t>(partial_weight.size(), static_cast<size_t>(chunks * OC * K)));
  partial_bias.resize(std::max<size_t>(partial_bias.size(), static_cast<size_t>(chunks * OC)));
  float* pw_all = partial_weight.data();
  double* pb_all = partial_bias.data();
  const bool use_direct = direct(u, K);
  ThreadPool::global().parallel_for(static_cast<int>(chunks), [&](int chunk) {
    float* pw = pw_all + chunk * OC * K;
    double* pb = pb_all + chunk * OC;
    std::fill(pb, pb + OC, 0.0);
    const int64_t begin = N * chunk / chunks, end = N * (chunk + 1) / chunks;
    float* cols = use_direct ? nullptr : scratch(K * S);
    if (use_direct) std::fill(pw, pw + OC * K, 0.0f);
    for (int64_t n = begin; n < end; ++n) {
      const float* dyn = dy + n * OC * S;
      if (use_direct) {
#if defined(__x86_64__)
        conv_detail::backward_params_direct_avx2(pw, dyn, x + n * C * H * W, C, H, W, OC, KH, KW);
#endif
      } else {
        unfold_planes(cols, x + n * C * H * W, u, 0, C);
        // dweight (OC, K) += dy_n (OC, S) x cols^T (S, K); the first image of a chunk overwrites.
        gemm(false, true, OC, K, S, 1.0f, dyn, S, cols, S, n == begin ? 0.0f : 1.0f, pw, K);
      }
      for (int64_t oc = 0; oc < OC; ++oc) pb[oc] += sum_in_double(dyn + oc * S, S);
    }
  });
  for (int64_t i = 0; i < OC * K; ++i) {
    float sum = 0.0f;
    for (int64_t chunk = 0; chunk < chunks; ++chunk) sum += pw_all[chunk * OC * K + i];
    dweight[i] += sum;
  }
  for (int64_t oc = 0; oc < OC; ++oc) {
    double sum = 0.0;
    for (int64_t chunk = 0; chunk < chunks; ++chunk) sum += pb_all[chunk * OC + oc];
    dbias[oc] = static_cast<float>(dbias[oc] + sum);
  }
}

}  // namespace normnet
