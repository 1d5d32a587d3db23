// BatchNorm2d + (ReLU) + max-pool, plane by plane (batchnorm_pool.h). Threads: the statistics as
// batchnorm_forward_train splits them, then the planes.
#include "kernels/batchnorm_pool.h"

#include <vector>

#include "kernels/batchnorm.h"
#include "kernels/pool.h"
#include "runtime/thread_pool.h"

namespace normnet {

namespace {

constexpr int64_t kGrain = 1 << 15;  // values per task, as batchnorm.cc's

// This thread's buffer of one plane's values; grows only.
float* plane_buffer(int64_t S) {
  thread_local std::vector<float> plane;
  if (plane.size() < static_cast<size_t>(S)) plane.resize(static_cast<size_t>(S));
  return plane.data();
}

}  // namespace

void batchnorm_pool_forward_train(float* y, int32_t* argmax, float* save_mean, float* save_inv_std, float* running_mean,
                                  float* running_var, const float* x, const float* gamma, const float* beta, int64_t N,
                                  int64_t C, int64_t H, int64_t W, int64_t KH, int64_t KW, int64_t stride,
                                  double momentum, double eps, bool relu) {
  const PoolShape shape = pool_shape(H, W, KH, KW, stride);
  const int64_t S = H * W, outputs = shape.OH * shape.OW;
  batchnorm_forward_train(nullptr, save_mean, save_inv_std, running_mean, running_var, x, gamma, beta, N, C, S,
                          momentum, eps, relu);
  const batchnorm_detail::PlaneOps ops = batchnorm_plane_ops();
  // Each channel's scale and shift as the forward forms them, once; the tasks read them through the pointers (a
  // thread_local named in a task is the running thread's own).
  thread_local std::vector<float> scales;
  scales.resize(static_cast<size_t>(2 * C));
  float* scale = scales.data();
  float* shift = scale + C;
  for (int64_t c = 0; c < C; ++c) ops.scale_shift(gamma[c], beta[c], save_mean[c], save_inv_std[c], scale[c], shift[c]);
  parallel_ranges(N * C, items_per_task(kGrain, S), [&](int64_t begin, int64_t end) {
    float* normalized = plane_buffer(S);
    for (int64_t p = begin; p < end; ++p) {
      ops.affine(normalized, x + p * S, S, scale[p % C], shift[p % C], relu);
      maxpool_plane_forward(y + p * outputs, argmax + p * outputs, normalized, shape);
    }
  });
}

}  // namespace normnet
