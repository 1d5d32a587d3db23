// BatchNorm2d's training forward with the max-pool after it fused in (and the ReLU between them when relu): the
// algorithm of src/kernels/ts/batchnorm-pool.ts. Each (n, c) plane is normalized into a buffer the size of one
// plane and pooled from there, so the full-size normalized activation never passes through memory (one write and
// one read of it fewer). Plane by plane the loops are batchnorm.h's and pool.h's, on the same CPU path, so the
// results are bit for bit those of batchnorm_forward_train + maxpool_forward. (Backward stays the two kernels:
// fused, it measured no faster when BatchNorm's passes split channels; since they walk memory in order, a trial
// build measured 1.20-1.26x on 24 x 24 planes and 0.93-0.99x on 10 x 10: not built yet.)
//   x (N, C, H, W); y, argmax (N, C, OH, OW), OH = (H - KH) / stride + 1, OW likewise.
// Preconditions (checked by the binding): those of both kernels.
#pragma once

#include <cstdint>

namespace normnet {

// y = maxpool(relu?(batchnorm(x))), argmax its window maxima's plane indices; the statistics as
// batchnorm_forward_train saves and moves them.
void batchnorm_pool_forward_train(float* y, int32_t* argmax, float* save_mean, float* save_inv_std, float* running_mean,
                                  float* running_var, const float* x, const float* gamma, const float* beta, int64_t N,
                                  int64_t C, int64_t H, int64_t W, int64_t KH, int64_t KW, int64_t stride,
                                  double momentum, double eps, bool relu);
}  // namespace normnet
