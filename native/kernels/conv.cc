// im2col / col2im and the convolution bias, NCHW: the same algorithms as src/kernels/ts/conv.ts (see there
// for the formulas and conventions).
//
//   im2col:  cols[(c*KH + kh)*KW + kw, (n*OH + oh)*OW + ow] = x[n, c, oh*stride + kh - padding, ow*stride + kw - padding]
//   col2im:  dx = 0; dx[n, c, ih, iw] += every cols entry read from there
//   x, dx (N, C, H, W); cols (C*KH*KW, N*OH*OW)
//
// Threads: both unfoldings split the N*C input planes; plane (n, c) owns the cols columns n*OH*OW.. of
// rows (c, kh, kw) and the dx plane (n, c), so tasks write disjoint memory and col2im's sums keep the
// TS twin's order. The bias kernels split planes (forward) or channels (backward, which owns dbias[c]).
#include "kernels/conv.h"

#include "runtime/thread_pool.h"

#include <algorithm>
#include <cstring>

namespace normnet {

namespace {

// Work per task, each about 50 us on one core (measured on Zen 3): cols entries unfolded or folded back
// (about 0.5 ns each), values moved by the bias kernels (0.15 to 0.35 ns each).
constexpr int64_t kUnfoldGrain = 1 << 17;
constexpr int64_t kBiasGrain = 1 << 18;

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

}  // namespace

void im2col(float* cols, const float* x, int64_t N, int64_t C, int64_t H, int64_t W, int64_t KH, int64_t KW,
            int64_t stride, int64_t padding) {
  const Unfold u = unfold(N, C, H, W, KH, KW, stride, padding);
  const int64_t S = u.OH * u.OW;
  parallel_ranges(N * C, items_per_task(kUnfoldGrain, KH * KW * S), [&](int64_t begin, int64_t end) {
    for_each_offset(u, begin, end, [&](int64_t plane, int64_t col, Inside rows, Inside cs, int64_t dh, int64_t dw) {
      float* out = cols + col;
      std::fill(out, out + rows.lo * u.OW, 0.0f);
      for (int64_t oh = rows.lo; oh < rows.hi; ++oh) {
        float* dst = out + oh * u.OW;
        const float* src = x + plane + (oh * stride + dh) * W + dw;
        std::fill(dst, dst + cs.lo, 0.0f);
        if (stride == 1) {
          std::memcpy(dst + cs.lo, src + cs.lo, static_cast<size_t>(cs.hi - cs.lo) * sizeof(float));
        } else {
          for (int64_t ow = cs.lo; ow < cs.hi; ++ow) dst[ow] = src[ow * stride];
        }
        std::fill(dst + cs.hi, dst + u.OW, 0.0f);
      }
      std::fill(out + rows.hi * u.OW, out + S, 0.0f);
    });
  });
}

void col2im(float* dx, const float* cols, int64_t N, int64_t C, int64_t H, int64_t W, int64_t KH, int64_t KW,
            int64_t stride, int64_t padding) {
  const Unfold u = unfold(N, C, H, W, KH, KW, stride, padding);
  const int64_t S = u.OH * u.OW;
  parallel_ranges(N * C, items_per_task(kUnfoldGrain, KH * KW * S + H * W), [&](int64_t begin, int64_t end) {
    std::fill(dx + begin * H * W, dx + end * H * W, 0.0f);
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
  });
}

void conv_bias_forward(float* y, const float* t, const float* bias, int64_t N, int64_t C, int64_t S) {
  parallel_ranges(N * C, items_per_task(kBiasGrain, S), [&](int64_t begin, int64_t end) {
    for (int64_t nc = begin; nc < end; ++nc) {
      const int64_t n = nc / C, c = nc % C;
      const float b = bias[c];
      const float* from = t + (c * N + n) * S;
      float* to = y + nc * S;
      for (int64_t s = 0; s < S; ++s) to[s] = from[s] + b;
    }
  });
}

void conv_bias_backward(float* dt, float* dbias, const float* dy, int64_t N, int64_t C, int64_t S) {
  parallel_ranges(C, items_per_task(kBiasGrain, N * S), [&](int64_t begin, int64_t end) {
    for (int64_t c = begin; c < end; ++c) {
      // Eight partial sums: independent lanes the compiler can vectorize without reassociating a single sum.
      double lanes[8] = {};
      for (int64_t n = 0; n < N; ++n) {
        const float* from = dy + (n * C + c) * S;
        float* to = dt + (c * N + n) * S;
        std::memcpy(to, from, static_cast<size_t>(S) * sizeof(float));
        int64_t s = 0;
        for (; s + 8 <= S; s += 8) {
          for (int j = 0; j < 8; ++j) lanes[j] += from[s + j];
        }
        for (; s < S; ++s) lanes[0] += from[s];
      }
      const double sum = ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
      dbias[c] = static_cast<float>(dbias[c] + sum);
    }
  });
}

}  // namespace normnet
