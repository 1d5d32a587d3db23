// Max pooling over (N, C, H, W), KH x KW window, no padding. The formulas, PyTorch's conventions and what is
// saved for backward are in the TS twin, src/kernels/ts/pool.ts; these are the same algorithms.
//   OH = (H - KH) / stride + 1, OW likewise; y, dy, argmax (N, C, OH, OW).
// Preconditions (checked by the binding): KH, KW, stride >= 1, the window fits, every argmax in [0, H*W),
// outputs do not overlap inputs.
#pragma once

#include <cstdint>

namespace normnet {

// y = the window maximum (first in kh-outer, kw-inner order; a NaN wins); argmax = its index h*W + w in the plane.
void maxpool_forward(float* y, int32_t* argmax, const float* x, int64_t N, int64_t C, int64_t H, int64_t W, int64_t KH,
                     int64_t KW, int64_t stride);
// dx = 0, then dx[n, c, argmax] += dy for every output.
void maxpool_backward(float* dx, const float* dy, const int32_t* argmax, int64_t N, int64_t C, int64_t H, int64_t W,
                      int64_t KH, int64_t KW, int64_t stride);

// A plane's window geometry, formed once a call (its divisions cost as much as a small plane's pooling).
struct PoolShape {
  int64_t H, W, KH, KW, stride, OH, OW;
};
PoolShape pool_shape(int64_t H, int64_t W, int64_t KH, int64_t KW, int64_t stride);

// Forward on one (n, c) plane: x (H, W) -> y, argmax (OH, OW). batchnorm_pool.cc runs it on planes it normalizes
// into a buffer.
void maxpool_plane_forward(float* y, int32_t* argmax, const float* x, const PoolShape& shape);

#if defined(__x86_64__)
namespace pool_detail {
// pool_avx2.cc: the 2x2, stride 2 windows of one plane (x or dx (H, W), y, dy, argmax (OH, OW)), each output row's
// first windows in vectors of eight and four; each returns how many windows of a row it did (the same in every
// row, the caller does the rest). Spread: backward's dx from dy and argmax, every element 0 or 0 + dy; -1 (dx
// partly written) when an argmax is not in its own window.
int64_t maxpool_plane_2x2_avx2(float* y, int32_t* argmax, const float* x, int64_t W, int64_t OH, int64_t OW);
int64_t maxpool_spread_plane_2x2_avx2(float* dx, const float* dy, const int32_t* argmax, int64_t W, int64_t OH,
                                      int64_t OW);
}  // namespace pool_detail
#endif

}  // namespace normnet
