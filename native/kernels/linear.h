// A Linear layer's forward and backward, one call each; the TS twin is src/kernels/ts/linear.ts.
//   forward:  y (N, out) = x (N, in) * weight^T + bias        weight (out, in); bias may be null
//   backward: dweight += dy^T * x, dbias += column sums of dy (if dbias), dx = dy * weight (if dx)
#pragma once

#include <cstdint>

namespace normnet {

void linear_forward(float* y, const float* x, const float* weight, const float* bias, int64_t N, int64_t in_features,
                    int64_t out_features);
void linear_backward(float* dx, float* dweight, float* dbias, const float* dy, const float* x, const float* weight,
                     int64_t N, int64_t in_features, int64_t out_features);

}  // namespace normnet
