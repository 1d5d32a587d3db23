// Batch Normalization, native twin of src/kernels/ts/batchnorm.ts (formulas there).
// This is the portable path: per-channel sums are formed in double with eight independent accumulators, so the
// adds pipeline and vectorize without -ffast-math. CPUs with AVX-512 take batchnorm_avx512.cc instead, AVX2 ones
// batchnorm_avx2.cc and AArch64 ones batchnorm_neon.cc (all three batchnorm_simd.h's loops), chosen at each call.
// S == 1 splits channel ranges over the thread pool when the work is large; S > 1 runs its passes plane by plane
// in memory order from the path's PlaneOps (forward_train_planes, forward_eval_planes, backward_planes below).
#include "kernels/batchnorm.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "runtime/cpu.h"
#include "runtime/thread_pool.h"

namespace normnet {

namespace {

constexpr int64_t kGrain = 1 << 15;  // values per task: below this a pool dispatch costs more than it saves

// Runs fn(c_begin, c_end) over channel ranges of about kGrain values each, on the pool when there are several.
template <class F>
void for_channel_ranges(int64_t N, int64_t C, int64_t S, F&& fn) {
  parallel_ranges(C, items_per_task(kGrain, N * S), fn);
}

// This thread's batchnorm_detail::ChannelScratch for `channels` channels; grows only.
batchnorm_detail::ChannelScratch channel_scratch(int64_t channels) {
  thread_local std::vector<float> values;
  values.resize(static_cast<size_t>(2 * channels));
  return {values.data()};
}

struct Sums {
  double first, second;
};

// {sum(x), sum((x - center)^2)} over one run of S values.
inline Sums moments(const float* x, int64_t S, double center) {
  double a[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  double b[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t s = 0;
  for (; s + 8 <= S; s += 8) {
    for (int k = 0; k < 8; ++k) {
      const double d = x[s + k] - center;
      a[k] += x[s + k];
      b[k] += d * d;
    }
  }
  for (; s < S; ++s) {
    const double d = x[s] - center;
    a[0] += x[s];
    b[0] += d * d;
  }
  return {((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7])),
          ((b[0] + b[1]) + (b[2] + b[3])) + ((b[4] + b[5]) + (b[6] + b[7]))};
}

// One channel's scale = gamma * inv_std and shift = beta - mean * scale: formed in double, used in float.
struct Affine {
  float scale, shift;
};
inline Affine affine_of(float gamma, float beta, float mean, float inv_std) {
  const double scale = static_cast<double>(gamma) * inv_std;
  return {static_cast<float>(scale), static_cast<float>(beta - mean * scale)};
}

// Eval's scale = gamma / sqrt(running_var + eps) and shift = beta - running_mean * scale, in double, used in float.
inline Affine eval_affine(float gamma, float beta, float running_mean, float running_var, double eps) {
  const double scale = gamma / std::sqrt(static_cast<double>(running_var) + eps);
  return {static_cast<float>(scale), static_cast<float>(beta - running_mean * scale)};
}

// Channel c's statistics once its mean and biased variance over count values are known: saved mean and 1/std,
// running statistics (running_var takes the unbiased variance).
inline void save_stats(int64_t c, double mean, double variance, double count, double momentum, double eps,
                       float* save_mean, float* save_inv_std, float* running_mean, float* running_var) {
  save_mean[c] = static_cast<float>(mean);
  save_inv_std[c] = static_cast<float>(1 / std::sqrt(variance + eps));
  running_mean[c] = static_cast<float>((1 - momentum) * running_mean[c] + momentum * mean);
  running_var[c] = static_cast<float>((1 - momentum) * running_var[c] + momentum * variance * (count / (count - 1)));
}

// Backward's constants of channel c from sum(g) and sum(g * (x - mean)) over count values, dx = k * (g - mean_dy -
// xhat * mean_dy_xhat); adds into dgamma and dbeta.
struct DxConstants {
  float k, mean_dy, mean_dy_xhat;
};
inline DxConstants dx_constants(int64_t c, double sum_dy, double sum_dy_xc, double count, const float* save_inv_std,
                                const float* gamma, float* dgamma, float* dbeta) {
  const double inv_std = save_inv_std[c];
  const double sum_dy_xhat = sum_dy_xc * inv_std;
  dbeta[c] += static_cast<float>(sum_dy);
  dgamma[c] += static_cast<float>(sum_dy_xhat);
  return {static_cast<float>(gamma[c] * inv_std), static_cast<float>(sum_dy / count),
          static_cast<float>(sum_dy_xhat / count)};
}

// The gradient reaching the normalization: dy, or with a fused ReLU dy where the forward's output was positive,
// recomputed from x with normalize's expression (backward reads x anyway; reading the output too would add a
// stream to passes that memory bandwidth bounds).
inline float masked(const float* dy, const float* x, int64_t i, bool relu, Affine a) {
  return !relu || x[i] * a.scale + a.shift > 0.0f ? dy[i] : 0.0f;
}

// {sum(g), sum(g * (x - mean))} over one run of S values, g = masked(dy, ...).
inline Sums gradient_sums(const float* dy, const float* x, int64_t S, double mean, bool relu, Affine affine) {
  double a[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  double b[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t s = 0;
  for (; s + 8 <= S; s += 8) {
    for (int k = 0; k < 8; ++k) {
      const float g = masked(dy, x, s + k, relu, affine);
      a[k] += g;
      b[k] += static_cast<double>(g) * (x[s + k] - mean);
    }
  }
  for (; s < S; ++s) {
    const float g = masked(dy, x, s, relu, affine);
    a[0] += g;
    b[0] += static_cast<double>(g) * (x[s] - mean);
  }
  return {((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7])),
          ((b[0] + b[1]) + (b[2] + b[3])) + ((b[4] + b[5]) + (b[6] + b[7]))};
}

// y = x * scale + shift over one run of S values, then max(0, y) when relu.
void affine_run(float* y, const float* x, int64_t S, float scale, float shift, bool relu) {
  for (int64_t s = 0; s < S; ++s) y[s] = x[s] * scale + shift;
  if (relu) {
    for (int64_t s = 0; s < S; ++s) y[s] = y[s] < 0.0f ? 0.0f : y[s];  // reluForward's rule: NaN propagates
  }
}

// dx = k * (g - mean_dy - xhat * mean_dy_xhat) over one run of S values, g = masked(dy, ...).
void dx_run(float* dx, const float* dy, const float* x, int64_t S, float k, float mean_dy, float mean_dy_xhat,
            float mean, float inv_std, bool relu, float scale, float shift) {
  for (int64_t s = 0; s < S; ++s) {
    const float xhat = (x[s] - mean) * inv_std;
    dx[s] = k * (masked(dy, x, s, relu, {scale, shift}) - mean_dy - xhat * mean_dy_xhat);
  }
}

// y = x * scale_c + shift_c over channels [c0, c1), then max(0, y) when relu.
void normalize(float* y, const float* x, const float* gamma, const float* beta, const float* mean, const float* inv_std,
               int64_t N, int64_t C, int64_t S, bool relu, int64_t c0, int64_t c1) {
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t c = c0; c < c1; ++c) {
      const Affine a = affine_of(gamma[c], beta[c], mean[c], inv_std[c]);
      affine_run(y + (n * C + c) * S, x + (n * C + c) * S, S, a.scale, a.shift, relu);
    }
  }
}

}  // namespace

batchnorm_detail::PlaneOps batchnorm_plane_ops() {
#if defined(__x86_64__)
  if (active_isa() >= Isa::avx2) return batchnorm_detail::plane_ops_avx2();  // AVX-512 too: batchnorm_simd.h
#elif defined(__aarch64__)
  if (active_isa() == Isa::neon) return batchnorm_detail::plane_ops_neon();
#endif
  return {[](float gamma, float beta, float mean, float inv_std, float& scale, float& shift) {
            const Affine a = affine_of(gamma, beta, mean, inv_std);
            scale = a.scale, shift = a.shift;
          },
          &affine_run,
          [](const float* x, int64_t S) { return moments(x, S, 0).first; },
          [](const float* x, int64_t S, double mean) { return moments(x, S, mean).second; },
          [](const float* dy, const float* x, int64_t S, double mean, bool relu, float scale, float shift,
             double& sum_dy, double& sum_dy_xc) {
            const Sums sums = gradient_sums(dy, x, S, mean, relu, {scale, shift});
            sum_dy += sums.first;
            sum_dy_xc += sums.second;
          },
          &dx_run};
}

namespace {

// S > 1 (BatchNorm2d): every pass walks the batch in memory order, image by image, all channels of an image in
// turn, in kChunks fixed ranges of images spread over the pool; the sums of each range are kept apart and added
// in range order, so their bits do not depend on the thread count. Split by channels, a pass read one plane
// (2.3 KB for the CNN's 24 x 24) and jumped C planes ahead, which the prefetchers do not follow: on 256 x 20 x
// 24 x 24 the backward was 2.2x slower with one thread and 1.9x with two, the forward 1.6x.
constexpr int64_t kChunks = 8;

// visit(chunk, plane, c) over the planes of each chunk of the batch (N images of C planes); `work` values a plane.
template <class Visit>
void over_chunks(int64_t N, int64_t C, int64_t chunks, int64_t work, const Visit& visit) {
  if (chunks == 0) return;  // an empty batch (chunks = min(N, kChunks))
  parallel_ranges(chunks, items_per_task(kGrain, N / chunks * C * work), [&](int64_t begin, int64_t end) {
    for (int64_t chunk = begin; chunk < end; ++chunk) {
      for (int64_t p = N * chunk / chunks * C; p < N * (chunk + 1) / chunks * C; ++p) visit(chunk, p, p % C);
    }
  });
}

// visit(plane, c) over all N*C planes, split in ranges over the pool (no sums: any split gives the same bits).
template <class Visit>
void over_planes(int64_t N, int64_t C, int64_t S, const Visit& visit) {
  parallel_ranges(N * C, items_per_task(kGrain, S), [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p) visit(p, p % C);
  });
}

// Per channel, the chunks' partial sums (chunk-major) added in chunk order.
double chunk_total(const double* partial, int64_t chunks, int64_t C, int64_t c) {
  double total = 0;
  for (int64_t chunk = 0; chunk < chunks; ++chunk) total += partial[chunk * C + c];
  return total;
}

void forward_train_planes(const batchnorm_detail::PlaneOps& ops, float* y, float* save_mean, float* save_inv_std,
                          float* running_mean, float* running_var, const float* x, const float* gamma,
                          const float* beta, int64_t N, int64_t C, int64_t S, double momentum, double eps, bool relu) {
  const double count = static_cast<double>(N * S);
  const int64_t chunks = std::min(N, kChunks);
  // This thread's buffers, reached from the pool's threads through pointers (a thread_local named in a task is
  // the running thread's own).
  thread_local std::vector<double> partial, means;
  partial.assign(static_cast<size_t>(chunks * C), 0.0);
  means.resize(static_cast<size_t>(C));
  double* part = partial.data();
  double* mean = means.data();
  over_chunks(N, C, chunks, S,
              [&](int64_t chunk, int64_t p, int64_t c) { part[chunk * C + c] += ops.sum(x + p * S, S); });
  for (int64_t c = 0; c < C; ++c) mean[c] = chunk_total(part, chunks, C, c) / count;
  std::fill(part, part + chunks * C, 0.0);
  over_chunks(N, C, chunks, S,
              [&](int64_t chunk, int64_t p, int64_t c) { part[chunk * C + c] += ops.squares(x + p * S, S, mean[c]); });
  thread_local std::vector<float> scales;
  scales.resize(static_cast<size_t>(2 * C));
  float* scale = scales.data();
  float* shift = scale + C;
  for (int64_t c = 0; c < C; ++c) {
    save_stats(c, mean[c], chunk_total(part, chunks, C, c) / count, count, momentum, eps, save_mean, save_inv_std,
               running_mean, running_var);
    ops.scale_shift(gamma[c], beta[c], save_mean[c], save_inv_std[c], scale[c], shift[c]);
  }
  if (y == nullptr) return;  // the statistics only
  over_planes(N, C, S, [&](int64_t p, int64_t c) { ops.affine(y + p * S, x + p * S, S, scale[c], shift[c], relu); });
}

void backward_planes(const batchnorm_detail::PlaneOps& ops, float* dx, float* dgamma, float* dbeta, const float* dy,
                     const float* x, const float* save_mean, const float* save_inv_std, const float* gamma,
                     const float* beta, int64_t N, int64_t C, int64_t S) {
  const double count = static_cast<double>(N * S);
  const int64_t chunks = std::min(N, kChunks);
  const bool relu = beta != nullptr;
  // This thread's buffers, reached from the pool's threads through pointers (as in forward_train_planes): per
  // channel the fused ReLU's scale and shift as the forward formed them (zero without one), then dx's constants.
  thread_local std::vector<float> values;
  values.assign(static_cast<size_t>(5 * C), 0.0f);
  float* scale = values.data();
  float* shift = scale + C;
  float* k = shift + C;
  float* mean_dy = k + C;
  float* mean_dy_xhat = mean_dy + C;
  for (int64_t c = 0; c < C && relu; ++c) {
    ops.scale_shift(gamma[c], beta[c], save_mean[c], save_inv_std[c], scale[c], shift[c]);
  }
  thread_local std::vector<double> partial;
  partial.assign(static_cast<size_t>(2 * chunks * C), 0.0);
  double* sum_dy = partial.data();
  double* sum_dy_xc = sum_dy + chunks * C;
  over_chunks(N, C, chunks, S, [&](int64_t chunk, int64_t p, int64_t c) {
    ops.gradient_sums(dy + p * S, x + p * S, S, save_mean[c], relu, scale[c], shift[c], sum_dy[chunk * C + c],
                      sum_dy_xc[chunk * C + c]);
  });
  for (int64_t c = 0; c < C; ++c) {
    const DxConstants d = dx_constants(c, chunk_total(sum_dy, chunks, C, c), chunk_total(sum_dy_xc, chunks, C, c),
                                       count, save_inv_std, gamma, dgamma, dbeta);
    k[c] = d.k, mean_dy[c] = d.mean_dy, mean_dy_xhat[c] = d.mean_dy_xhat;
  }
  over_planes(N, C, S, [&](int64_t p, int64_t c) {
    ops.dx(dx + p * S, dy + p * S, x + p * S, S, k[c], mean_dy[c], mean_dy_xhat[c], save_mean[c], save_inv_std[c], relu,
           scale[c], shift[c]);
  });
}

void forward_eval_planes(const batchnorm_detail::PlaneOps& ops, float* y, const float* x, const float* gamma,
                         const float* beta, const float* running_mean, const float* running_var, int64_t N, int64_t C,
                         int64_t S, double eps, bool relu) {
  thread_local std::vector<float> values;  // reached through pointers, as in forward_train_planes
  values.resize(static_cast<size_t>(2 * C));
  float* scale = values.data();
  float* shift = scale + C;
  for (int64_t c = 0; c < C; ++c) {
    const Affine a = eval_affine(gamma[c], beta[c], running_mean[c], running_var[c], eps);
    scale[c] = a.scale, shift[c] = a.shift;
  }
  over_planes(N, C, S, [&](int64_t p, int64_t c) { ops.affine(y + p * S, x + p * S, S, scale[c], shift[c], relu); });
}

}  // namespace

void batchnorm_forward_train(float* y, float* save_mean, float* save_inv_std, float* running_mean, float* running_var,
                             const float* x, const float* gamma, const float* beta, int64_t N, int64_t C, int64_t S,
                             double momentum, double eps, bool relu) {
  if (S != 1) {  // the ISA paths below take S == 1 only
    forward_train_planes(batchnorm_plane_ops(), y, save_mean, save_inv_std, running_mean, running_var, x, gamma, beta, N,
                         C, S, momentum, eps, relu);
    return;
  }
  const double count = static_cast<double>(N * S);
#if defined(__x86_64__)
  const bool avx512 = active_isa() == Isa::avx512;
  const bool avx2 = active_isa() >= Isa::avx2;
#elif defined(__aarch64__)
  const bool neon = active_isa() == Isa::neon;
#endif
  for_channel_ranges(N, C, S, [&](int64_t c0, int64_t c1) {
#if defined(__x86_64__)
    if (avx512) {
      batchnorm_detail::forward_train_avx512(y, save_mean, save_inv_std, running_mean, running_var, x, gamma, beta, N,
                                             C, momentum, eps, relu, c0, c1);
      return;
    }
    if (avx2) {
      batchnorm_detail::forward_train_avx2(y, save_mean, save_inv_std, running_mean, running_var, x, gamma, beta, N, C,
                                           momentum, eps, relu, c0, c1);
      return;
    }
#elif defined(__aarch64__)
    if (neon) {
      batchnorm_detail::forward_train_neon(y, save_mean, save_inv_std, running_mean, running_var, x, gamma, beta, N, C,
                                           momentum, eps, relu, c0, c1);
      return;
    }
#endif
    for (int64_t c = c0; c < c1; ++c) {
      double sum = 0;
      for (int64_t n = 0; n < N; ++n) sum += moments(x + (n * C + c) * S, S, 0).first;
      const double mean = sum / count;
      double squares = 0;
      for (int64_t n = 0; n < N; ++n) squares += moments(x + (n * C + c) * S, S, mean).second;
      save_stats(c, mean, squares / count, count, momentum, eps, save_mean, save_inv_std, running_mean, running_var);
    }
    if (y != nullptr) normalize(y, x, gamma, beta, save_mean, save_inv_std, N, C, S, relu, c0, c1);
  });
}

void batchnorm_forward_eval(float* y, const float* x, const float* gamma, const float* beta, const float* running_mean,
                            const float* running_var, int64_t N, int64_t C, int64_t S, double eps, bool relu) {
  if (S != 1) {  // the ISA paths below take S == 1 only
    forward_eval_planes(batchnorm_plane_ops(), y, x, gamma, beta, running_mean, running_var, N, C, S, eps, relu);
    return;
  }
#if defined(__x86_64__)
  const bool avx512 = active_isa() == Isa::avx512;
  const bool avx2 = active_isa() >= Isa::avx2;
#elif defined(__aarch64__)
  const bool neon = active_isa() == Isa::neon;
#endif
  for_channel_ranges(N, C, S, [&](int64_t c0, int64_t c1) {
#if defined(__x86_64__)
    if (avx512) {
      batchnorm_detail::forward_eval_avx512(y, x, gamma, beta, running_mean, running_var, N, C, eps, relu, c0, c1);
      return;
    }
    if (avx2) {
      batchnorm_detail::forward_eval_avx2(y, x, gamma, beta, running_mean, running_var, N, C, eps, relu, c0, c1);
      return;
    }
#elif defined(__aarch64__)
    if (neon) {
      batchnorm_detail::forward_eval_neon(y, x, gamma, beta, running_mean, running_var, N, C, eps, relu, c0, c1);
      return;
    }
#endif
    for (int64_t n = 0; n < N; ++n) {
      for (int64_t c = c0; c < c1; ++c) {
        const Affine a = eval_affine(gamma[c], beta[c], running_mean[c], running_var[c], eps);
        affine_run(y + (n * C + c) * S, x + (n * C + c) * S, S, a.scale, a.shift, relu);
      }
    }
  });
}

void batchnorm_backward(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x, const float* save_mean,
                        const float* save_inv_std, const float* gamma, const float* beta, int64_t N, int64_t C,
                        int64_t S) {
  if (S != 1) {  // the ISA paths below take S == 1 only
    backward_planes(batchnorm_plane_ops(), dx, dgamma, dbeta, dy, x, save_mean, save_inv_std, gamma, beta, N, C, S);
    return;
  }
  const double count = static_cast<double>(N * S);
#if defined(__x86_64__)
  const bool avx512 = active_isa() == Isa::avx512;
  const bool avx2 = active_isa() >= Isa::avx2;
#elif defined(__aarch64__)
  const bool neon = active_isa() == Isa::neon;
#endif
  const bool relu = beta != nullptr;
  for_channel_ranges(N, C, S, [&](int64_t c0, int64_t c1) {
#if defined(__x86_64__)
    if (avx512) {
      batchnorm_detail::backward_avx512(dx, dgamma, dbeta, dy, x, save_mean, save_inv_std, gamma, beta, N, C,
                                        channel_scratch(c1 - c0), c0, c1);
      return;
    }
    if (avx2) {
      batchnorm_detail::backward_avx2(dx, dgamma, dbeta, dy, x, save_mean, save_inv_std, gamma, beta, N, C,
                                      channel_scratch(c1 - c0), c0, c1);
      return;
    }
#elif defined(__aarch64__)
    if (neon) {
      batchnorm_detail::backward_neon(dx, dgamma, dbeta, dy, x, save_mean, save_inv_std, gamma, beta, N, C,
                                      channel_scratch(c1 - c0), c0, c1);
      return;
    }
#endif
    for (int64_t c = c0; c < c1; ++c) {
      const double mean = save_mean[c];
      const Affine affine = relu ? affine_of(gamma[c], beta[c], save_mean[c], save_inv_std[c]) : Affine{};
      double sum_dy = 0, sum_dy_xc = 0;  // sum(dy), sum(dy * (x - mean))
      for (int64_t n = 0; n < N; ++n) {
        const int64_t at = (n * C + c) * S;
        const Sums sums = gradient_sums(dy + at, x + at, S, mean, relu, affine);
        sum_dy += sums.first;
        sum_dy_xc += sums.second;
      }
      const DxConstants d = dx_constants(c, sum_dy, sum_dy_xc, count, save_inv_std, gamma, dgamma, dbeta);
      for (int64_t n = 0; n < N; ++n) {
        const int64_t at = (n * C + c) * S;
        dx_run(dx + at, dy + at, x + at, S, d.k, d.mean_dy, d.mean_dy_xhat, save_mean[c], save_inv_std[c], relu,
               affine.scale, affine.shift);
      }
    }
  });
}

}  // namespace normnet
