// Max pooling, NCHW, no padding: the same algorithm as src/kernels/ts/pool.ts (see there for the formulas
// and conventions).
//
//   y[n, c, oh, ow] = max over kh, kw of x[n, c, oh*stride + kh, ow*stride + kw]; argmax = (oh*stride + kh)*W + ...
//   dx = 0; dx[n, c, argmax[n, c, oh, ow]] += dy[n, c, oh, ow]
//   x, dx (N, C, H, W); y, dy, argmax (N, C, OH, OW)
//
// Threads: argmax indexes within a plane, so both passes split the N*C planes over the pool and tasks
// write disjoint memory; backward's sums keep the TS twin's order. The 2x2, stride 2 window has its own loops
// (on AVX2 CPUs pool_avx2.cc's vectors first), and backward writes its planes window by window when every argmax
// lies in its own window (each element then gets 0 or 0 + dy, the bits of zeroing and scattering).
#include "kernels/pool.h"

#include "runtime/cpu.h"
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

#if defined(__x86_64__)
// pool_avx2.cc's loops run on AVX2 and AVX-512 CPUs.
bool avx2_active() { return active_isa() >= Isa::avx2; }
#endif

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

// The common 2x2 window at stride 2, one plane, each row's windows from `from` on: the four values of each window
// in scan order, in one pass.
inline void windows_2x2(float* __restrict y, int32_t* __restrict argmax, const float* __restrict x, int64_t W,
                        int64_t OH, int64_t OW, int64_t from) {
  for (int64_t oh = 0; oh < OH; ++oh) {
    const float* r0 = x + 2 * oh * W;
    const float* r1 = r0 + W;
    const uint32_t top = static_cast<uint32_t>(2 * oh * W), below = static_cast<uint32_t>(W);
    for (int64_t ow = from; ow < OW; ++ow) {
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

// All of a plane's 2x2 windows: on AVX2 CPUs rows of 8 or more windows take pool_avx2.cc's vectors first (on
// shorter rows they measured slower), then windows_2x2 for the rest of each row.
void maxpool_plane_2x2(float* y, int32_t* argmax, const float* x, int64_t W, int64_t OH, int64_t OW) {
#if defined(__x86_64__)
  if (OW >= 8 && avx2_active()) {
    windows_2x2(y, argmax, x, W, OH, OW, pool_detail::maxpool_plane_2x2_avx2(y, argmax, x, W, OH, OW));
    return;
  }
#endif
  windows_2x2(y, argmax, x, W, OH, OW, 0);
}

// Backward's dx for one plane of 2x2 windows at stride 2 with H and W even, when every argmax lies in its own
// window: each element is then written once, 0 + dy at its window's argmax (as maxpool_backward's dx = 0,
// dx[argmax] += dy forms it) and 0 elsewhere, in place of zeroing the plane and scattering. False, with dx
// partly written, when an argmax does not.
bool spread_plane_2x2(float* __restrict dx, const float* __restrict dy, const int32_t* __restrict argmax, int64_t W,
                      int64_t OH, int64_t OW) {
  const int32_t below = static_cast<int32_t>(W);
  int64_t done = 0;
#if defined(__x86_64__)
  if (avx2_active() && (done = pool_detail::maxpool_spread_plane_2x2_avx2(dx, dy, argmax, W, OH, OW)) < 0) return false;
#endif
  for (int64_t oh = 0; oh < OH; ++oh) {
    float* d0 = dx + 2 * oh * W;
    float* d1 = d0 + W;
    const int32_t top = static_cast<int32_t>(2 * oh * W);
    const float* g = dy + oh * OW;
    const int32_t* at = argmax + oh * OW;
    // Masks, not branches (random argmax mispredicts them); the offsets are only compared, so a bad one is
    // caught after its row.
    uint32_t in_window = ~0u;
    for (int64_t ow = done; ow < OW; ++ow) {
      const int32_t offset = at[ow] - (top + 2 * static_cast<int32_t>(ow));
      const uint32_t v = bits_of(0.0f + g[ow]);
      const uint32_t m0 = 0u - (offset == 0), m1 = 0u - (offset == 1);
      const uint32_t m2 = 0u - (offset == below), m3 = 0u - (offset == below + 1);
      in_window &= m0 | m1 | m2 | m3;
      d0[2 * ow] = float_of(v & m0);
      d0[2 * ow + 1] = float_of(v & m1);
      d1[2 * ow] = float_of(v & m2);
      d1[2 * ow + 1] = float_of(v & m3);
    }
    if (!in_window) return false;
  }
  return true;
}

// dx of one plane from dy and argmax: zeroed, then dx[argmax] += dy; 2x2 windows at stride 2 with even H and W
// and rows of 8 or more written window by window instead (on shorter rows that measured slower).
void maxpool_plane_backward(float* dx, const float* dy, const int32_t* argmax, const PoolShape& p) {
  const bool by_window = p.KH == 2 && p.KW == 2 && p.stride == 2 && p.H % 2 == 0 && p.W % 2 == 0 && p.OW >= 8;
  if (by_window && spread_plane_2x2(dx, dy, argmax, p.W, p.OH, p.OW)) return;
  std::fill(dx, dx + p.H * p.W, 0.0f);
  for (int64_t o = 0; o < p.OH * p.OW; ++o) dx[argmax[o]] += dy[o];
}

}  // namespace

PoolShape pool_shape(int64_t H, int64_t W, int64_t KH, int64_t KW, int64_t stride) {
  return {H, W, KH, KW, stride, (H - KH) / stride + 1, (W - KW) / stride + 1};
}

void maxpool_plane_forward(float* y, int32_t* argmax, const float* x, const PoolShape& p) {
  if (p.KH == 2 && p.KW == 2 && p.stride == 2) {
    maxpool_plane_2x2(y, argmax, x, p.W, p.OH, p.OW);
  } else {
    maxpool_plane(y, argmax, x, p.W, p.KH, p.KW, p.stride, p.OH, p.OW);
  }
}

void maxpool_forward(float* y, int32_t* argmax, const float* x, int64_t N, int64_t C, int64_t H, int64_t W, int64_t KH,
                     int64_t KW, int64_t stride) {
  const PoolShape p = pool_shape(H, W, KH, KW, stride);
  const int64_t outputs = p.OH * p.OW;
  // The window's case chosen once a task, not a plane: per plane it measured 1.3x slower on 10 x 10 planes.
  parallel_ranges(N * C, items_per_task(kForwardGrain, outputs * KH * KW), [&](int64_t begin, int64_t end) {
    if (KH == 2 && KW == 2 && stride == 2) {
      for (int64_t plane = begin; plane < end; ++plane) {
        maxpool_plane_2x2(y + plane * outputs, argmax + plane * outputs, x + plane * H * W, W, p.OH, p.OW);
      }
    } else {
      for (int64_t plane = begin; plane < end; ++plane) {
        maxpool_plane(y + plane * outputs, argmax + plane * outputs, x + plane * H * W, W, KH, KW, stride, p.OH, p.OW);
      }
    }
  });
}

void maxpool_backward(float* dx, const float* dy, const int32_t* argmax, int64_t N, int64_t C, int64_t H, int64_t W,
                      int64_t KH, int64_t KW, int64_t stride) {
  const PoolShape p = pool_shape(H, W, KH, KW, stride);
  const int64_t outputs = p.OH * p.OW;
  parallel_ranges(N * C, items_per_task(kBackwardGrain, H * W + outputs), [&](int64_t begin, int64_t end) {
    for (int64_t plane = begin; plane < end; ++plane) {
      maxpool_plane_backward(dx + plane * H * W, dy + plane * outputs, argmax + plane * outputs, p);
    }
  });
}

}  // namespace normnet
