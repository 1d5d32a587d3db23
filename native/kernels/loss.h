// Softmax cross-entropy over logits (N, C) and labels (N). The formulas, PyTorch's conventions and what is
// saved for backward are in the TS twin, src/kernels/ts/loss.ts; these are the same algorithms.
// Preconditions (checked by the binding): C >= 1, every label in [0, C), outputs do not overlap inputs.
#pragma once

#include <cstdint>

namespace normnet {

// probs = softmax(logits) per row; returns the mean over rows of lse - logits[n, labels[n]] (0 when N = 0).
double softmax_cross_entropy_forward(float* probs, const float* logits, const int32_t* labels, int64_t N, int64_t C);
// dlogits = scale * (probs - onehot(labels)).
void softmax_cross_entropy_backward(float* dlogits, const float* probs, const int32_t* labels, int64_t N, int64_t C,
                                    double scale);

}  // namespace normnet
