// Batch Normalization, AVX2 + FMA path: the algorithm of batchnorm.cc (sums in double, two-pass variance),
// vectorized two ways.
//   S == 1 (BatchNorm1d, x is N rows of C): channels are contiguous, so the sums run down the rows with one
//          lane per channel, 16 channels at a time, and each block of channels is finished (normalized, or its
//          dx written) while its rows are still in L1. A strided walk per channel would touch every row once
//          per channel.
//   S > 1  (BatchNorm2d): each (n, c) plane is a contiguous run of S values, summed 8 lanes at a time.
// Float results differ from the generic path only in rounding (FMA, summation order). As in the GEMM's ISA
// files, everything here is in an anonymous namespace and no shared inline code is included, so the linker
// cannot pick an AVX2 copy of a common function for the whole library; the thread split is batchnorm.cc's.
#include <immintrin.h>

#include <cmath>
#include <type_traits>

#include "kernels/batchnorm.h"

namespace normnet::batchnorm_detail {

namespace {

constexpr int kBlock = 16;  // channels per block on the S == 1 path: 4 double vectors per sum

inline __m256d widen(const float* p) { return _mm256_cvtps_pd(_mm_loadu_ps(p)); }

// The normalized output before a fused ReLU, x * scale + shift, is one FMA in the vector and the scalar code
// alike, so that backward can recompute it with the forward's bits.
inline float affine1(float x, float scale, float shift) { return std::fma(x, scale, shift); }

// The fused ReLU (batchnorm.h): forward keeps reluForward's rule (v < 0 ? 0 : v, NaN propagates); backward takes
// dy where the forward's output was positive, recomputed from x (which backward reads anyway; reading the
// output as well would add a stream to a pass that memory bandwidth bounds), or dy itself without a fused ReLU.
inline __m256 relu8(__m256 v) { return _mm256_andnot_ps(_mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_LT_OQ), v); }
inline float relu1(float v) { return v < 0.0f ? 0.0f : v; }
inline __m256 grad8(const float* dy, const float* x, int64_t i, bool relu, __m256 scale, __m256 shift) {
  const __m256 g = _mm256_loadu_ps(dy + i);
  if (!relu) return g;
  const __m256 y = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), scale, shift);
  return _mm256_and_ps(g, _mm256_cmp_ps(y, _mm256_setzero_ps(), _CMP_GT_OQ));
}
inline __m256d widen_grad(const float* dy, const float* x, int64_t i, bool relu, __m128 scale, __m128 shift) {
  const __m128 g = _mm_loadu_ps(dy + i);
  if (!relu) return _mm256_cvtps_pd(g);
  const __m128 y = _mm_fmadd_ps(_mm_loadu_ps(x + i), scale, shift);
  return _mm256_cvtps_pd(_mm_and_ps(g, _mm_cmpgt_ps(y, _mm_setzero_ps())));
}
inline float grad1(const float* dy, const float* x, int64_t i, bool relu, float scale, float shift) {
  return !relu || affine1(x[i], scale, shift) > 0.0f ? dy[i] : 0.0f;
}

inline double hsum(__m256d v) {
  const __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
  return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}

// The per-channel statistics once the sums are known: saved mean and 1/std, running statistics.
inline void finish_stats(int64_t c, double mean, double variance, double count, double momentum, double eps,
                         float* save_mean, float* save_inv_std, float* running_mean, float* running_var) {
  save_mean[c] = static_cast<float>(mean);
  save_inv_std[c] = static_cast<float>(1 / std::sqrt(variance + eps));
  running_mean[c] = static_cast<float>((1 - momentum) * running_mean[c] + momentum * mean);
  running_var[c] = static_cast<float>((1 - momentum) * running_var[c] + momentum * variance * (count / (count - 1)));
}

// y = x * scale + shift over the channels [c, c + w) of N rows (w <= kBlock), from per-channel scale and shift;
// ReLU'd when relu.
void affine_rows(float* y, const float* x, const float* scale, const float* shift, int64_t N, int64_t C, int64_t c,
                 int w, bool relu) {
  const int full = w / 8 * 8;
  __m256 sc[2], sh[2];
  for (int v = 0; v < full / 8; ++v) sc[v] = _mm256_loadu_ps(scale + 8 * v), sh[v] = _mm256_loadu_ps(shift + 8 * v);
  for (int64_t n = 0; n < N; ++n) {
    const float* xr = x + n * C + c;
    float* yr = y + n * C + c;
    for (int v = 0; v < full / 8; ++v) {
      const __m256 t = _mm256_fmadd_ps(_mm256_loadu_ps(xr + 8 * v), sc[v], sh[v]);
      _mm256_storeu_ps(yr + 8 * v, relu ? relu8(t) : t);
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
  const double count = static_cast<double>(N);
  __m256d sum[V], sq[V];
#pragma GCC unroll 4
  for (int v = 0; v < V; ++v) sum[v] = sq[v] = _mm256_setzero_pd();
  for (int64_t n = 0; n < N; ++n) {
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) sum[v] = _mm256_add_pd(sum[v], widen(x + n * C + c + 4 * v));
  }
  __m256d m[V];
#pragma GCC unroll 4
  for (int v = 0; v < V; ++v) m[v] = _mm256_div_pd(sum[v], _mm256_set1_pd(count));
  for (int64_t n = 0; n < N; ++n) {
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) {
      const __m256d d = _mm256_sub_pd(widen(x + n * C + c + 4 * v), m[v]);
      sq[v] = _mm256_fmadd_pd(d, d, sq[v]);
    }
  }
#pragma GCC unroll 4
  for (int v = 0; v < V; ++v) {
    _mm256_storeu_pd(mean + 4 * v, m[v]);
    _mm256_storeu_pd(variance + 4 * v, _mm256_div_pd(sq[v], _mm256_set1_pd(count)));
  }
}

// Backward sums of channels [c, c + 4V) of N rows, S == 1: sum(g), sum(g * (x - mean)), g = grad(dy); scale and
// shift are the channels' (for a fused ReLU).
template <int V>
void row_gradient_sums(const float* dy, const float* x, const float* save_mean, bool relu, const float* scale,
                       const float* shift, int64_t N, int64_t C, int64_t c, double* sum_dy, double* sum_dy_xc) {
  __m256d a[V], b[V], m[V];
  __m128 sc[V], sh[V];
#pragma GCC unroll 4
  for (int v = 0; v < V; ++v) {
    a[v] = b[v] = _mm256_setzero_pd();
    m[v] = widen(save_mean + c + 4 * v);
    sc[v] = _mm_loadu_ps(scale + 4 * v), sh[v] = _mm_loadu_ps(shift + 4 * v);
  }
  for (int64_t n = 0; n < N; ++n) {
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) {
      const __m256d g = widen_grad(dy, x, n * C + c + 4 * v, relu, sc[v], sh[v]);
      a[v] = _mm256_add_pd(a[v], g);
      b[v] = _mm256_fmadd_pd(g, _mm256_sub_pd(widen(x + n * C + c + 4 * v), m[v]), b[v]);
    }
  }
#pragma GCC unroll 4
  for (int v = 0; v < V; ++v) {
    _mm256_storeu_pd(sum_dy + 4 * v, a[v]);
    _mm256_storeu_pd(sum_dy_xc + 4 * v, b[v]);
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

// Over one contiguous run of S values (S > 1 path).
inline double run_sum(const float* x, int64_t S) {
  __m256d a0 = _mm256_setzero_pd(), a1 = _mm256_setzero_pd();
  int64_t s = 0;
  for (; s + 8 <= S; s += 8) a0 = _mm256_add_pd(a0, widen(x + s)), a1 = _mm256_add_pd(a1, widen(x + s + 4));
  double t = hsum(_mm256_add_pd(a0, a1));
  for (; s < S; ++s) t += x[s];
  return t;
}

inline double run_squares(const float* x, int64_t S, double mean) {
  const __m256d m = _mm256_set1_pd(mean);
  __m256d a0 = _mm256_setzero_pd(), a1 = _mm256_setzero_pd();
  int64_t s = 0;
  for (; s + 8 <= S; s += 8) {
    const __m256d d0 = _mm256_sub_pd(widen(x + s), m), d1 = _mm256_sub_pd(widen(x + s + 4), m);
    a0 = _mm256_fmadd_pd(d0, d0, a0);
    a1 = _mm256_fmadd_pd(d1, d1, a1);
  }
  double t = hsum(_mm256_add_pd(a0, a1));
  for (; s < S; ++s) t += (x[s] - mean) * (x[s] - mean);
  return t;
}

inline void run_gradient_sums(const float* dy, const float* x, int64_t S, double mean, bool relu, float scale,
                              float shift, double& sum_dy, double& sum_dy_xc) {
  const __m256d m = _mm256_set1_pd(mean);
  const __m128 sc = _mm_set1_ps(scale), sh = _mm_set1_ps(shift);
  __m256d a = _mm256_setzero_pd(), b = _mm256_setzero_pd();
  int64_t s = 0;
  for (; s + 4 <= S; s += 4) {
    const __m256d g = widen_grad(dy, x, s, relu, sc, sh);
    a = _mm256_add_pd(a, g);
    b = _mm256_fmadd_pd(g, _mm256_sub_pd(widen(x + s), m), b);
  }
  double ta = hsum(a), tb = hsum(b);
  for (; s < S; ++s) {
    const float g = grad1(dy, x, s, relu, scale, shift);
    ta += g, tb = std::fma(static_cast<double>(g), x[s] - mean, tb);
  }
  sum_dy += ta;
  sum_dy_xc += tb;
}

inline void run_affine(float* y, const float* x, int64_t S, float scale, float shift, bool relu) {
  const __m256 sc = _mm256_set1_ps(scale), sh = _mm256_set1_ps(shift);
  int64_t s = 0;
  if (relu) {
    for (; s + 8 <= S; s += 8) _mm256_storeu_ps(y + s, relu8(_mm256_fmadd_ps(_mm256_loadu_ps(x + s), sc, sh)));
  } else {
    for (; s + 8 <= S; s += 8) _mm256_storeu_ps(y + s, _mm256_fmadd_ps(_mm256_loadu_ps(x + s), sc, sh));
  }
  for (; s < S; ++s) y[s] = relu ? relu1(affine1(x[s], scale, shift)) : affine1(x[s], scale, shift);
}

// dx = k * (g - mean_dy - xhat * mean_dy_xhat), g = grad(dy), xhat = (x - mean) * inv_std, over one run of
// S values. Here and in the backward sums every a * b + c is an FMA written out: this file is built with -mfma,
// and GCC would otherwise fuse or not as it compiles each copy of a loop (with and without the fused ReLU, say),
// so a fused backward would not give the same bits as a plain one on the masked dy (the sanitizer build showed it).
inline void run_dx(float* dx, const float* dy, const float* x, int64_t S, float k, float mean_dy, float mean_dy_xhat,
                   float mean, float inv_std, bool relu, float scale, float shift) {
  const __m256 vk = _mm256_set1_ps(k), vmdy = _mm256_set1_ps(mean_dy), vmdx = _mm256_set1_ps(mean_dy_xhat);
  const __m256 vm = _mm256_set1_ps(mean), vi = _mm256_set1_ps(inv_std);
  const __m256 sc = _mm256_set1_ps(scale), sh = _mm256_set1_ps(shift);
  int64_t s = 0;
  for (; s + 8 <= S; s += 8) {
    const __m256 xhat = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x + s), vm), vi);
    const __m256 t = _mm256_fnmadd_ps(xhat, vmdx, _mm256_sub_ps(grad8(dy, x, s, relu, sc, sh), vmdy));
    _mm256_storeu_ps(dx + s, _mm256_mul_ps(vk, t));
  }
  for (; s < S; ++s) {
    const float xhat = (x[s] - mean) * inv_std;
    dx[s] = k * std::fma(-xhat, mean_dy_xhat, grad1(dy, x, s, relu, scale, shift) - mean_dy);
  }
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

}  // namespace

void forward_train_avx2(float* y, float* save_mean, float* save_inv_std, float* running_mean, float* running_var,
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
  // Each pass walks the planes in memory order (n outer, channels inner), which the prefetchers follow; a walk
  // channel by channel jumps C*S floats after every plane. Per channel, the sums still run over n in order.
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

void forward_eval_avx2(float* y, const float* x, const float* gamma, const float* beta, const float* running_mean,
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

void backward_avx2(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x, const float* save_mean,
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
            b[0] = std::fma(static_cast<double>(g), x[n * C + c] - static_cast<double>(save_mean[c]), b[0]);
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
            for (; j + 8 <= w; j += 8) {
              const __m256 xhat = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x + at + j), _mm256_loadu_ps(m + j)),
                                                _mm256_loadu_ps(inv + j));
              const __m256 g = grad8(dy, x, at + j, relu, _mm256_loadu_ps(scale + j), _mm256_loadu_ps(shift + j));
              const __m256 t =
                  _mm256_fnmadd_ps(xhat, _mm256_loadu_ps(mdx + j), _mm256_sub_ps(g, _mm256_loadu_ps(mdy + j)));
              _mm256_storeu_ps(dx + at + j, _mm256_mul_ps(_mm256_loadu_ps(k + j), t));
            }
            for (; j < w; ++j) {
              const float xhat = (x[at + j] - m[j]) * inv[j];
              dx[at + j] = k[j] * std::fma(-xhat, mdx[j], grad1(dy, x, at + j, relu, scale[j], shift[j]) - mdy[j]);
            }
          }
        });
    return;
  }
  // Memory order, as in forward_train_avx2.
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
