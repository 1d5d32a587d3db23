// Elementwise activations and inverted dropout over `length` float32 values. The formulas, PyTorch's
// conventions and what is saved for backward are in the TS twin, src/kernels/ts/elementwise.ts; these are
// the same algorithms. Outputs must not overlap inputs (checked by the binding).
#pragma once

#include <cstdint>

namespace normnet {

// y = x < 0 ? 0 : x (NaN propagates).
void relu_forward(float* y, const float* x, int64_t length);
// dx = y > 0 ? dy : 0.
void relu_backward(float* dx, const float* dy, const float* y, int64_t length);
// y = 1 / (1 + exp(-x)).
void sigmoid_forward(float* y, const float* x, int64_t length);
// dx = dy * y * (1 - y).
void sigmoid_backward(float* dx, const float* dy, const float* y, int64_t length);
// mask[i] = keep(seed, i) ? float(1 / (1 - p)) : 0; y = x * mask. p in [0, 1). Bit for bit the TS mask.
void dropout_forward(float* y, float* mask, const float* x, int64_t length, double p, uint32_t seed);
// dx = dy * mask.
void dropout_backward(float* dx, const float* dy, const float* mask, int64_t length);

}  // namespace normnet
