// Linear forward and backward, native twin of src/kernels/ts/linear.ts: the GEMMs of the layer and its bias in
// one call from JS, the bias entering as the GEMM's initial C (beta 1) rather than as a K = 1 product.
#include "kernels/linear.h"

#include <algorithm>

#include "kernels/gemm/gemm.h"

namespace normnet {

void linear_forward(float* y, const float* x, const float* weight, const float* bias, int64_t N, int64_t in_features,
                    int64_t out_features) {
  if (bias != nullptr) {
    for (int64_t n = 0; n < N; ++n) std::copy(bias, bias + out_features, y + n * out_features);
  }
  gemm(false, true, N, out_features, in_features, 1.0f, x, in_features, weight, in_features, bias != nullptr ? 1.0f : 0.0f,
       y, out_features);
}

void linear_backward(float* dx, float* dweight, float* dbias, const float* dy, const float* x, const float* weight,
                     int64_t N, int64_t in_features, int64_t out_features) {
  gemm(true, false, out_features, in_features, N, 1.0f, dy, out_features, x, in_features, 1.0f, dweight, in_features);
  if (dbias != nullptr) {
    // Column sums in double, a block of columns at a time so the accumulators stay in registers or L1.
    constexpr int64_t kColumns = 64;
    for (int64_t j0 = 0; j0 < out_features; j0 += kColumns) {
      const int64_t w = std::min(kColumns, out_features - j0);
      double sum[kColumns] = {};
      for (int64_t n = 0; n < N; ++n) {
        const float* row = dy + n * out_features + j0;
        for (int64_t j = 0; j < w; ++j) sum[j] += row[j];
      }
      for (int64_t j = 0; j < w; ++j) dbias[j0 + j] += static_cast<float>(sum[j]);
    }
  }
  if (dx != nullptr) {
    gemm(false, false, N, in_features, out_features, 1.0f, dy, out_features, weight, in_features, 0.0f, dx, in_features);
  }
}

}  // namespace normnet
