// Batch Normalization, NEON path: the algorithm of batchnorm.cc (sums in double, two-pass variance), laid out as
// batchnorm_avx2.cc is (the why of each layout is there), on 128-bit vectors:
//   S == 1 (BatchNorm1d, x is N rows of C): the sums run down the rows with one lane per channel, 8 channels at a
//          time (4 double vectors per sum), and each block of channels is finished while its rows are in L1.
//   S > 1  (BatchNorm2d): each (n, c) plane is a contiguous run of S values, summed 4 lanes at a time.
// The output before a fused ReLU, x * scale + shift, is one fused multiply-add in the vector and the scalar code
// alike (the build has contraction off: the fusing is written out), so that backward recomputes it bit for bit.
// The thread split is batchnorm.cc's.
#include <arm_neon.h>

#include <cmath>
#include <type_traits>

#include "kernels/batchnorm.h"

namespace normnet::batchnorm_detail {

namespace {

constexpr int kBlock = 8;  // channels per block on the S == 1 path: 4 double vectors per sum

inline float64x2_t low(float32x4_t v) { return vcvt_f64_f32(vget_low_f32(v)); }
inline float64x2_t high(float32x4_t v) { return vcvt_high_f64_f32(v); }

inline float affine1(float x, float scale, float shift) { return __builtin_fmaf(x, scale, shift); }
inline float32x4_t affine4(float32x4_t x, float32x4_t scale, float32x4_t shift) { return vfmaq_f32(shift, x, scale); }

// The fused ReLU (batchnorm.h): forward keeps reluForward's rule (v < 0 ? 0 : v, NaN propagates); backward takes
// dy where the forward's output was positive, recomputed from x, or dy itself without a fused ReLU.
inline float32x4_t relu4(float32x4_t v) {
  return vreinterpretq_f32_u32(vbicq_u32(vreinterpretq_u32_f32(v), vcltzq_f32(v)));
}
inline float relu1(float v) { return v < 0.0f ? 0.0f : v; }
inline float32x4_t grad4(const float* dy, const float* x, int64_t i, bool relu, float32x4_t scale, float32x4_t shift) {
  const float32x4_t g = vld1q_f32(dy + i);
  if (!relu) return g;
  const uint32x4_t positive = vcgtzq_f32(affine4(vld1q_f32(x + i), scale, shift));
  return vreinterpretq_f32_u32(vandq_u32(vreinterpretq_u32_f32(g), positive));
}
inline float grad1(const float* dy, const float* x, int64_t i, bool relu, float scale, float shift) {
  return !relu || affine1(x[i], scale, shift) > 0.0f ? dy[i] : 0.0f;
}

// The per-channel statistics once the sums are known: saved mean and 1/std, running statistics.
inline void finish_stats(int64_t c, double mean, double variance, double count, double momentum, double eps,
                         float* save_mean, float* save_inv_std, float* running_mean, float* running_var) {
  save_mean[c] = static_cast<float>(mean);
  save_inv_std[c] = static_cast<float>(1 / std::sqrt(variance + eps));
  running_mean[c] = static_cast<float>((1 - momentum) * running_mean[c] + momentum * mean);
  running_var[c] = static_cast<float>((1 - momentum) * running_var[c] + momentum * variance * (count / (count - 1)));
}

// scale = gamma * inv_std and shift = beta - mean * scale, as the generic path forms them (in double, then float).
inline void scale_shift(float gamma, float beta, float mean, float inv_std, float& fscale, float& shift) {
  const double scale = static_cast<double>(gamma) * inv_std;
  fscale = static_cast<float>(scale);
  shift = static_cast<float>(beta - mean * scale);
}

// The backward per-channel constants from the sums; also adds into dgamma and dbeta.
struct DxConstants {
  float k, mean_dy, mean_dy_xhat;
};
inline DxConstants finish_gradients(int64_t c, double sum_dy, double sum_dy_xc, double count, const float* save_inv_std,
                                    const float* gamma, float* dgamma, float* dbeta) {
  const double inv_std = save_inv_std[c];
  const double sum_dy_xhat = sum_dy_xc * inv_std;
  dbeta[c] += static_cast<float>(sum_dy);
  dgamma[c] += static_cast<float>(sum_dy_xhat);
  return {static_cast<float>(gamma[c] * inv_std), static_cast<float>(sum_dy / count),
          static_cast<float>(sum_dy_xhat / count)};
}

// y = x * scale + shift over the channels [c, c + w) of N rows (w <= kBlock), from per-channel scale and shift;
// ReLU'd when relu.
void affine_rows(float* y, const float* x, const float* scale, const float* shift, int64_t N, int64_t C, int64_t c,
                 int w, bool relu) {
  const int full = w / 4 * 4;
  float32x4_t sc[kBlock / 4], sh[kBlock / 4];
  for (int v = 0; v < full / 4; ++v) sc[v] = vld1q_f32(scale + 4 * v), sh[v] = vld1q_f32(shift + 4 * v);
  for (int64_t n = 0; n < N; ++n) {
    const float* xr = x + n * C + c;
    float* yr = y + n * C + c;
    for (int v = 0; v < full / 4; ++v) {
      const float32x4_t t = affine4(vld1q_f32(xr + 4 * v), sc[v], sh[v]);
      vst1q_f32(yr + 4 * v, relu ? relu4(t) : t);
    }
    for (int j = full; j < w; ++j) {
      const float t = affine1(xr[j], scale[j], shift[j]);
      yr[j] = relu ? relu1(t) : t;
    }
  }
}

// Forward-train statistics of channels [c, c + 4V) of N rows, S == 1.
template <int V>
void row_moments(const float* x, int64_t N, int64_t C, int64_t c, double* mean, double* variance) {
  const float64x2_t count = vdupq_n_f64(static_cast<double>(N));
  float64x2_t sum[2 * V], sq[2 * V], m[2 * V];
#pragma GCC unroll 4
  for (int v = 0; v < 2 * V; ++v) sum[v] = sq[v] = vdupq_n_f64(0.0);
  for (int64_t n = 0; n < N; ++n) {
#pragma GCC unroll 2
    for (int v = 0; v < V; ++v) {
      const float32x4_t xv = vld1q_f32(x + n * C + c + 4 * v);
      sum[2 * v] = vaddq_f64(sum[2 * v], low(xv));
      sum[2 * v + 1] = vaddq_f64(sum[2 * v + 1], high(xv));
    }
  }
#pragma GCC unroll 4
  for (int v = 0; v < 2 * V; ++v) m[v] = vdivq_f64(sum[v], count);
  for (int64_t n = 0; n < N; ++n) {
#pragma GCC unroll 2
    for (int v = 0; v < V; ++v) {
      const float32x4_t xv = vld1q_f32(x + n * C + c + 4 * v);
      const float64x2_t d0 = vsubq_f64(low(xv), m[2 * v]), d1 = vsubq_f64(high(xv), m[2 * v + 1]);
      sq[2 * v] = vfmaq_f64(sq[2 * v], d0, d0);
      sq[2 * v + 1] = vfmaq_f64(sq[2 * v + 1], d1, d1);
    }
  }
#pragma GCC unroll 4
  for (int v = 0; v < 2 * V; ++v) {
    vst1q_f64(mean + 2 * v, m[v]);
    vst1q_f64(variance + 2 * v, vdivq_f64(sq[v], count));
  }
}

// Backward sums of channels [c, c + 4V) of N rows, S == 1: sum(g), sum(g * (x - mean)), g = grad(dy); scale and
// shift are the channels' (for a fused ReLU).
template <int V>
void row_gradient_sums(const float* dy, const float* x, const float* save_mean, bool relu, const float* scale,
                       const float* shift, int64_t N, int64_t C, int64_t c, double* sum_dy, double* sum_dy_xc) {
  float64x2_t a[2 * V], b[2 * V], m[2 * V];
  float32x4_t sc[V], sh[V];
#pragma GCC unroll 2
  for (int v = 0; v < V; ++v) {
    const float32x4_t mv = vld1q_f32(save_mean + c + 4 * v);
    m[2 * v] = low(mv), m[2 * v + 1] = high(mv);
    a[2 * v] = a[2 * v + 1] = b[2 * v] = b[2 * v + 1] = vdupq_n_f64(0.0);
    sc[v] = vld1q_f32(scale + 4 * v), sh[v] = vld1q_f32(shift + 4 * v);
  }
  for (int64_t n = 0; n < N; ++n) {
#pragma GCC unroll 2
    for (int v = 0; v < V; ++v) {
      const int64_t at = n * C + c + 4 * v;
      const float32x4_t g = grad4(dy, x, at, relu, sc[v], sh[v]);
      const float32x4_t xv = vld1q_f32(x + at);
      a[2 * v] = vaddq_f64(a[2 * v], low(g));
      a[2 * v + 1] = vaddq_f64(a[2 * v + 1], high(g));
      b[2 * v] = vfmaq_f64(b[2 * v], low(g), vsubq_f64(low(xv), m[2 * v]));
      b[2 * v + 1] = vfmaq_f64(b[2 * v + 1], high(g), vsubq_f64(high(xv), m[2 * v + 1]));
    }
  }
#pragma GCC unroll 4
  for (int v = 0; v < 2 * V; ++v) {
    vst1q_f64(sum_dy + 2 * v, a[v]);
    vst1q_f64(sum_dy_xc + 2 * v, b[v]);
  }
}

// Runs block(c, w) over channels [c0, c1) in blocks of kBlock, then of 4, then single channels; block fills
// per-channel double results for its w channels through `sums4` (4V-wide) or `sums1` (one channel).
template <class Sums4, class Sums1, class Finish>
void by_blocks(int64_t c0, int64_t c1, Sums4&& sums4, Sums1&& sums1, Finish&& finish) {
  double p[kBlock], q[kBlock];
  int64_t c = c0;
  for (; c + kBlock <= c1; c += kBlock) {
    sums4(std::integral_constant<int, kBlock / 4>{}, c, p, q);
    finish(c, kBlock, p, q);
  }
  for (; c + 4 <= c1; c += 4) {
    sums4(std::integral_constant<int, 1>{}, c, p, q);
    finish(c, 4, p, q);
  }
  for (; c < c1; ++c) {
    sums1(c, p, q);
    finish(c, 1, p, q);
  }
}

// Over one contiguous run of S values (S > 1 path): four double accumulators, 8 values a step.
inline double run_sum(const float* x, int64_t S) {
  float64x2_t a[4] = {vdupq_n_f64(0.0), vdupq_n_f64(0.0), vdupq_n_f64(0.0), vdupq_n_f64(0.0)};
  int64_t s = 0;
  for (; s + 8 <= S; s += 8) {
    const float32x4_t v0 = vld1q_f32(x + s), v1 = vld1q_f32(x + s + 4);
    a[0] = vaddq_f64(a[0], low(v0)), a[1] = vaddq_f64(a[1], high(v0));
    a[2] = vaddq_f64(a[2], low(v1)), a[3] = vaddq_f64(a[3], high(v1));
  }
  double t = vaddvq_f64(vaddq_f64(vaddq_f64(a[0], a[1]), vaddq_f64(a[2], a[3])));
  for (; s < S; ++s) t += x[s];
  return t;
}

inline double run_squares(const float* x, int64_t S, double mean) {
  const float64x2_t m = vdupq_n_f64(mean);
  float64x2_t a[4] = {vdupq_n_f64(0.0), vdupq_n_f64(0.0), vdupq_n_f64(0.0), vdupq_n_f64(0.0)};
  int64_t s = 0;
  for (; s + 8 <= S; s += 8) {
    const float32x4_t v0 = vld1q_f32(x + s), v1 = vld1q_f32(x + s + 4);
    const float64x2_t d[4] = {vsubq_f64(low(v0), m), vsubq_f64(high(v0), m), vsubq_f64(low(v1), m),
                              vsubq_f64(high(v1), m)};
#pragma GCC unroll 4
    for (int j = 0; j < 4; ++j) a[j] = vfmaq_f64(a[j], d[j], d[j]);
  }
  double t = vaddvq_f64(vaddq_f64(vaddq_f64(a[0], a[1]), vaddq_f64(a[2], a[3])));
  for (; s < S; ++s) t += (x[s] - mean) * (x[s] - mean);
  return t;
}

inline void run_gradient_sums(const float* dy, const float* x, int64_t S, double mean, bool relu, float scale,
                              float shift, double& sum_dy, double& sum_dy_xc) {
  const float64x2_t m = vdupq_n_f64(mean);
  const float32x4_t sc = vdupq_n_f32(scale), sh = vdupq_n_f32(shift);
  float64x2_t a0 = vdupq_n_f64(0.0), a1 = a0, b0 = a0, b1 = a0;
  int64_t s = 0;
  for (; s + 4 <= S; s += 4) {
    const float32x4_t g = grad4(dy, x, s, relu, sc, sh);
    const float32x4_t xv = vld1q_f32(x + s);
    a0 = vaddq_f64(a0, low(g)), a1 = vaddq_f64(a1, high(g));
    b0 = vfmaq_f64(b0, low(g), vsubq_f64(low(xv), m));
    b1 = vfmaq_f64(b1, high(g), vsubq_f64(high(xv), m));
  }
  double ta = vaddvq_f64(vaddq_f64(a0, a1)), tb = vaddvq_f64(vaddq_f64(b0, b1));
  for (; s < S; ++s) {
    const float g = grad1(dy, x, s, relu, scale, shift);
    ta += g, tb += static_cast<double>(g) * (x[s] - mean);
  }
  sum_dy += ta;
  sum_dy_xc += tb;
}

inline void run_affine(float* y, const float* x, int64_t S, float scale, float shift, bool relu) {
  const float32x4_t sc = vdupq_n_f32(scale), sh = vdupq_n_f32(shift);
  int64_t s = 0;
  if (relu) {
    for (; s + 4 <= S; s += 4) vst1q_f32(y + s, relu4(affine4(vld1q_f32(x + s), sc, sh)));
  } else {
    for (; s + 4 <= S; s += 4) vst1q_f32(y + s, affine4(vld1q_f32(x + s), sc, sh));
  }
  for (; s < S; ++s) y[s] = relu ? relu1(affine1(x[s], scale, shift)) : affine1(x[s], scale, shift);
}

// dx = k * (g - mean_dy - xhat * mean_dy_xhat), g = grad(dy), xhat = (x - mean) * inv_std, over 4 values at i.
inline float32x4_t dx4(const float* dy, const float* x, int64_t i, bool relu, float32x4_t scale, float32x4_t shift,
                       float32x4_t k, float32x4_t mean_dy, float32x4_t mean_dy_xhat, float32x4_t mean,
                       float32x4_t inv_std) {
  const float32x4_t xhat = vmulq_f32(vsubq_f32(vld1q_f32(x + i), mean), inv_std);
  const float32x4_t t = vsubq_f32(vsubq_f32(grad4(dy, x, i, relu, scale, shift), mean_dy), vmulq_f32(xhat, mean_dy_xhat));
  return vmulq_f32(k, t);
}
inline float dx1(const float* dy, const float* x, int64_t i, bool relu, float scale, float shift, float k,
                 float mean_dy, float mean_dy_xhat, float mean, float inv_std) {
  const float xhat = (x[i] - mean) * inv_std;
  return k * (grad1(dy, x, i, relu, scale, shift) - mean_dy - xhat * mean_dy_xhat);
}

// dx over one run of S values.
inline void run_dx(float* dx, const float* dy, const float* x, int64_t S, float k, float mean_dy, float mean_dy_xhat,
                   float mean, float inv_std, bool relu, float scale, float shift) {
  const float32x4_t vk = vdupq_n_f32(k), vmdy = vdupq_n_f32(mean_dy), vmdx = vdupq_n_f32(mean_dy_xhat);
  const float32x4_t vm = vdupq_n_f32(mean), vi = vdupq_n_f32(inv_std);
  const float32x4_t sc = vdupq_n_f32(scale), sh = vdupq_n_f32(shift);
  int64_t s = 0;
  for (; s + 4 <= S; s += 4) vst1q_f32(dx + s, dx4(dy, x, s, relu, sc, sh, vk, vmdy, vmdx, vm, vi));
  for (; s < S; ++s) dx[s] = dx1(dy, x, s, relu, scale, shift, k, mean_dy, mean_dy_xhat, mean, inv_std);
}

}  // namespace

void forward_train_neon(float* y, float* save_mean, float* save_inv_std, float* running_mean, float* running_var,
                        const float* x, const float* gamma, const float* beta, int64_t N, int64_t C, int64_t S,
                        double momentum, double eps, bool relu, ChannelScratch scratch, int64_t c0, int64_t c1) {
  const double count = static_cast<double>(N * S);
  if (S == 1) {
    by_blocks(
        c0, c1, [&](auto V, int64_t c, double* mean, double* var) { row_moments<V()>(x, N, C, c, mean, var); },
        [&](int64_t c, double* mean, double* var) {
          double sum = 0, sq = 0;
          for (int64_t n = 0; n < N; ++n) sum += x[n * C + c];
          mean[0] = sum / count;
          for (int64_t n = 0; n < N; ++n) sq += (x[n * C + c] - mean[0]) * (x[n * C + c] - mean[0]);
          var[0] = sq / count;
        },
        [&](int64_t c, int w, const double* mean, const double* var) {
          float scale[kBlock], shift[kBlock];
          for (int j = 0; j < w; ++j) {
            finish_stats(c + j, mean[j], var[j], count, momentum, eps, save_mean, save_inv_std, running_mean, running_var);
            scale_shift(gamma[c + j], beta[c + j], save_mean[c + j], save_inv_std[c + j], scale[j], shift[j]);
          }
          affine_rows(y, x, scale, shift, N, C, c, w, relu);
        });
    return;
  }
  // Each pass walks the planes in memory order (n outer, channels inner); per channel the sums run over n in order.
  double* sum = scratch.sums;
  double* sq = scratch.sums + (c1 - c0);
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t c = c0; c < c1; ++c) sum[c - c0] += run_sum(x + (n * C + c) * S, S);
  }
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t c = c0; c < c1; ++c) sq[c - c0] += run_squares(x + (n * C + c) * S, S, sum[c - c0] / count);
  }
  float* scale = scratch.values;
  float* shift = scratch.values + (c1 - c0);
  for (int64_t c = c0; c < c1; ++c) {
    finish_stats(c, sum[c - c0] / count, sq[c - c0] / count, count, momentum, eps, save_mean, save_inv_std, running_mean,
                 running_var);
    scale_shift(gamma[c], beta[c], save_mean[c], save_inv_std[c], scale[c - c0], shift[c - c0]);
  }
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t c = c0; c < c1; ++c) {
      run_affine(y + (n * C + c) * S, x + (n * C + c) * S, S, scale[c - c0], shift[c - c0], relu);
    }
  }
}

void forward_eval_neon(float* y, const float* x, const float* gamma, const float* beta, const float* running_mean,
                       const float* running_var, int64_t N, int64_t C, int64_t S, double eps, bool relu, int64_t c0,
                       int64_t c1) {
  for (int64_t c = c0; c < c1; c += kBlock) {
    const int w = static_cast<int>(c1 - c < kBlock ? c1 - c : kBlock);
    float scale[kBlock], shift[kBlock];
    for (int j = 0; j < w; ++j) {
      const double s = gamma[c + j] / std::sqrt(static_cast<double>(running_var[c + j]) + eps);
      scale[j] = static_cast<float>(s);
      shift[j] = static_cast<float>(beta[c + j] - running_mean[c + j] * s);
    }
    if (S == 1) {
      affine_rows(y, x, scale, shift, N, C, c, w, relu);
    } else {
      for (int64_t n = 0; n < N; ++n) {
        for (int j = 0; j < w; ++j) {
          run_affine(y + (n * C + c + j) * S, x + (n * C + c + j) * S, S, scale[j], shift[j], relu);
        }
      }
    }
  }
}

void backward_neon(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x, const float* save_mean,
                   const float* save_inv_std, const float* gamma, const float* beta, int64_t N, int64_t C, int64_t S,
                   ChannelScratch scratch, int64_t c0, int64_t c1) {
  const double count = static_cast<double>(N * S);
  const bool relu = beta != nullptr;
  // The fused ReLU's scale and shift of each channel, as the forward formed them, once (zero without one);
  // indexed from c0.
  float* scales = scratch.values + 3 * (c1 - c0);
  float* shifts = scales + (c1 - c0);
  for (int64_t c = c0; c < c1; ++c) {
    scales[c - c0] = shifts[c - c0] = 0;
    if (relu) scale_shift(gamma[c], beta[c], save_mean[c], save_inv_std[c], scales[c - c0], shifts[c - c0]);
  }
  if (S == 1) {
    by_blocks(
        c0, c1,
        [&](auto V, int64_t c, double* a, double* b) {
          row_gradient_sums<V()>(dy, x, save_mean, relu, scales + (c - c0), shifts + (c - c0), N, C, c, a, b);
        },
        [&](int64_t c, double* a, double* b) {
          a[0] = b[0] = 0;
          for (int64_t n = 0; n < N; ++n) {
            const float g = grad1(dy, x, n * C + c, relu, scales[c - c0], shifts[c - c0]);
            a[0] += g;
            b[0] += static_cast<double>(g) * (x[n * C + c] - static_cast<double>(save_mean[c]));
          }
        },
        [&](int64_t c, int w, const double* a, const double* b) {
          float k[kBlock], mdy[kBlock], mdx[kBlock];
          for (int j = 0; j < w; ++j) {
            const DxConstants d = finish_gradients(c + j, a[j], b[j], count, save_inv_std, gamma, dgamma, dbeta);
            k[j] = d.k, mdy[j] = d.mean_dy, mdx[j] = d.mean_dy_xhat;
          }
          const float* scale = scales + (c - c0);
          const float* shift = shifts + (c - c0);
          const float* m = save_mean + c;
          const float* inv = save_inv_std + c;
          for (int64_t n = 0; n < N; ++n) {
            const int64_t at = n * C + c;
            int j = 0;
            for (; j + 4 <= w; j += 4) {
              vst1q_f32(dx + at + j, dx4(dy, x, at + j, relu, vld1q_f32(scale + j), vld1q_f32(shift + j),
                                         vld1q_f32(k + j), vld1q_f32(mdy + j), vld1q_f32(mdx + j), vld1q_f32(m + j),
                                         vld1q_f32(inv + j)));
            }
            for (; j < w; ++j) dx[at + j] = dx1(dy, x, at + j, relu, scale[j], shift[j], k[j], mdy[j], mdx[j], m[j], inv[j]);
          }
        });
    return;
  }
  // Memory order, as in forward_train_neon.
  double* sum_dy = scratch.sums;
  double* sum_dy_xc = scratch.sums + (c1 - c0);
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t c = c0; c < c1; ++c) {
      const int64_t at = (n * C + c) * S;
      run_gradient_sums(dy + at, x + at, S, save_mean[c], relu, scales[c - c0], shifts[c - c0], sum_dy[c - c0],
                        sum_dy_xc[c - c0]);
    }
  }
  float* k = scratch.values;
  float* mean_dy = k + (c1 - c0);
  float* mean_dy_xhat = mean_dy + (c1 - c0);
  for (int64_t c = c0; c < c1; ++c) {
    const DxConstants d = finish_gradients(c, sum_dy[c - c0], sum_dy_xc[c - c0], count, save_inv_std, gamma, dgamma, dbeta);
    k[c - c0] = d.k, mean_dy[c - c0] = d.mean_dy, mean_dy_xhat[c - c0] = d.mean_dy_xhat;
  }
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t c = c0; c < c1; ++c) {
      const int64_t at = (n * C + c) * S, j = c - c0;
      run_dx(dx + at, dy + at, x + at, S, k[j], mean_dy[j], mean_dy_xhat[j], save_mean[c], save_inv_std[c], relu,
             scales[j], shifts[j]);
    }
  }
}

}  // namespace normnet::batchnorm_detail
