// Max pooling, NCHW, no padding: the same algorithm as src/kernels/ts/pool.ts (see there for the formulas
// and conventions).
//
//   y[n, c, oh, ow] = max over kh, kw of x[n, c, oh*stride + kh, ow*stride + kw]; argmax = (oh*stride + kh)*W + ...
//   dx = 0; dx[n, c, argmax[n, c, oh, ow]] += dy[n, c, oh, ow]
//   x, dx (N, C, H, W); y, dy, argmax (N, C, OH, OW)
//
// Threads: argmax indexes within a plane, so both passes split the N*C planes over the pool and tasks
// write disjoint memory; backward's sums keep the TS twin's order.
#include "kernels/pool.h"

#include "runtime/thread_pool.h"

#include <algorithm>
#include <cstring>

namespace normnet {

namespace {

// Work per task, about 50 us on one core (measured on Zen 3; the 2x2 path is faster): window elements compared
// in forward (about 1 ns each), values zeroed or scattered in backward (about 0.35 ns each).
constexpr int64_t kForwardGrain = 1 << 16;
constexpr int64_t kBackwardGrain = 1 << 17;

uint32_t bits_of(float v) {
  uint32_t u;
  std::memcpy(&u, &v, sizeof u);
  return u;
}

float float_of(uint32_t u) {
  float v;
  std::memcpy(&v, &u, sizeof v);
  return v;
}

// All ones when v replaces the running maximum max, else 0: v > max keeps the first of equal maxima; a NaN
// (v <= max false) replaces any number but not an earlier NaN (max == max false). The kernels merge with this
// mask rather than a select, which the compiler turns into a branch that random data mispredicts.
uint32_t replaces(float v, float max) { return 0u - static_cast<uint32_t>(!(v <= max) & (max == max)); }

// One (n, c) plane: x (H, W) -> y, argmax (OH, OW). The scan runs along an output row at a time: y's and
// argmax's row hold each window's running maximum, and every kernel offset (kh, kw), in the TS twin's order,
// updates the whole row, so each window still sees its elements kh outer, kw inner. The update is a masked
// merge over a row, which vectorizes when stride == 1.
void maxpool_plane(float* __restrict y, int32_t* __restrict argmax, const float* __restrict x, int64_t W, int64_t KH,
                   int64_t KW, int64_t stride, int64_t OH, int64_t OW) {
  for (int64_t oh = 0; oh < OH; ++oh) {
    float* ymax = y + oh * OW;
    int32_t* best = argmax + oh * OW;
    const int32_t top = static_cast<int32_t>(oh * stride * W);
    for (int64_t ow = 0; ow < OW; ++ow) {
      ymax[ow] = x[top + ow * stride];
      best[ow] = static_cast<int32_t>(top + ow * stride);
    }
    for (int64_t kh = 0; kh < KH; ++kh) {
      for (int64_t kw = 0; kw < KW; ++kw) {
        const int32_t offset = static_cast<int32_t>(top + kh * W + kw);
        const float* row = x + offset;
        for (int64_t ow = 0; ow < OW; ++ow) {
          const float v = row[ow * stride];
          const uint32_t m = replaces(v, ymax[ow]);
          ymax[ow] = float_of((bits_of(v) & m) | (bits_of(ymax[ow]) & ~m));
          const uint32_t index = static_cast<uint32_t>(offset + ow * stride);
          best[ow] = static_cast<int32_t>((index & m) | (static_cast<uint32_t>(best[ow]) & ~m));
        }
      }
    }
  }
}

// The common 2x2 window at stride 2, one plane: the four values of each window in scan order, in one pass.
void maxpool_plane_2x2(float* __restrict y, int32_t* __restrict argmax, const float* __restrict x, int64_t W,
                       int64_t OH, int64_t OW) {
  for (int64_t oh = 0; oh < OH; ++oh) {
    const float* r0 = x + 2 * oh * W;
    const float* r1 = r0 + W;
    const uint32_t top = static_cast<uint32_t>(2 * oh * W), below = static_cast<uint32_t>(W);
    for (int64_t ow = 0; ow < OW; ++ow) {
      const uint32_t corner = top + static_cast<uint32_t>(2 * ow);
      float max = r0[2 * ow];
      uint32_t best = corner;
      const float candidates[3] = {r0[2 * ow + 1], r1[2 * ow], r1[2 * ow + 1]};
      const uint32_t offsets[3] = {1, below, below + 1};
      for (int j = 0; j < 3; ++j) {
        const uint32_t m = replaces(candidates[j], max);
        max = float_of((bits_of(candidates[j]) & m) | (bits_of(max) & ~m));
        best = ((corner + offsets[j]) & m) | (best & ~m);
      }
      y[oh * OW + ow] = max;
      argmax[oh * OW + ow] = static_cast<int32_t>(best);
    }
  }
}

}  // namespace

void maxpool_forward(float* y, int32_t* argmax, const float* x, int64_t N, int64_t C, int64_t H, int64_t W, int64_t KH,
                     int64_t KW, int64_t stride) {
  const int64_t OH = (H - KH) / stride + 1, OW = (W - KW) / stride + 1;
  const bool two_by_two = KH == 2 && KW == 2 && stride == 2;
  parallel_ranges(N * C, items_per_task(kForwardGrain, OH * OW * KH * KW), [&](int64_t begin, int64_t end) {
    for (int64_t plane = begin; plane < end; ++plane) {
      float* yp = y + plane * OH * OW;
      int32_t* ap = argmax + plane * OH * OW;
      if (two_by_two) {
        maxpool_plane_2x2(yp, ap, x + plane * H * W, W, OH, OW);
      } else {
        maxpool_plane(yp, ap, x + plane * H * W, W, KH, KW, stride, OH, OW);
      }
    }
  });
}

void maxpool_backward(float* dx, const float* dy, const int32_t* argmax, int64_t N, int64_t C, int64_t H, int64_t W,
                      int64_t KH, int64_t KW, int64_t stride) {
  const int64_t outputs = ((H - KH) / stride + 1) * ((W - KW) / stride + 1);
  parallel_ranges(N * C, items_per_task(kBackwardGrain, H * W + outputs), [&](int64_t begin, int64_t end) {
    std::fill(dx + begin * H * W, dx + end * H * W, 0.0f);
    for (int64_t plane = begin; plane < end; ++plane) {
      float* dxp = dx + plane * H * W;
      const float* dyp = dy + plane * outputs;
      const int32_t* ap = argmax + plane * outputs;
      for (int64_t o = 0; o < outputs; ++o) dxp[ap[o]] += dyp[o];
    }
  });
}

}  // namespace normnet
