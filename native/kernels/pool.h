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

}  // namespace normnet
