// Batch Normalization, AVX-512 path (F, BW, DQ, VL): batchnorm_simd.h's loops on 16-float / 8-double vectors, the
// partial ones loaded and stored under masks (the layouts and the algorithm are described there). As in the
// GEMM's ISA files, the code is in an anonymous namespace apart from the entry points, so the linker cannot pick
// an AVX-512 copy of a common function for the whole library; the thread split is batchnorm.cc's.
#include <immintrin.h>

#include "kernels/batchnorm_simd.h"

namespace normnet::batchnorm_detail {

namespace {

struct Avx512 {
  using F = __m512;   // kF floats
  using H = __m256;   // the kD floats that widen to one D
  using D = __m512d;  // kD doubles
  static constexpr int kF = 16, kD = 8;

  static F load_f(const float* p) { return _mm512_loadu_ps(p); }
  static F load_f(const float* p, int n) { return _mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << n) - 1), p); }
  static void store_f(float* p, F v) { _mm512_storeu_ps(p, v); }
  static void store_f(float* p, F v, int n) { _mm512_mask_storeu_ps(p, static_cast<__mmask16>((1u << n) - 1), v); }
  static F set1_f(float v) { return _mm512_set1_ps(v); }
  static F fmadd(F a, F b, F c) { return _mm512_fmadd_ps(a, b, c); }
  static F fnmadd(F a, F b, F c) { return _mm512_fnmadd_ps(a, b, c); }
  static F sub(F a, F b) { return _mm512_sub_ps(a, b); }
  static F mul(F a, F b) { return _mm512_mul_ps(a, b); }
  // reluForward's rule: v < 0 ? 0 : v (NaN propagates), i.e. v kept where !(v < 0).
  static F relu(F v) { return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_NLT_UQ), v); }
  // g where y > 0, else 0.
  static F where_positive(F g, F y) {
    return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(y, _mm512_setzero_ps(), _CMP_GT_OQ), g);
  }

  static H load_h(const float* p) { return _mm256_loadu_ps(p); }
  static H load_h(const float* p, int n) { return _mm256_maskz_loadu_ps(static_cast<__mmask8>((1u << n) - 1), p); }
  static H set1_h(float v) { return _mm256_set1_ps(v); }
  static H fmadd(H a, H b, H c) { return _mm256_fmadd_ps(a, b, c); }
  static H where_positive(H g, H y) { return _mm256_and_ps(g, _mm256_cmp_ps(y, _mm256_setzero_ps(), _CMP_GT_OQ)); }

  // The maskz forms with every lane set are the plain instructions; the plain intrinsics' undefined passthrough
  // draws GCC 12's -Wmaybe-uninitialized.
  static D widen(H h) { return _mm512_maskz_cvtps_pd(0xff, h); }
  static D zero_d() { return _mm512_setzero_pd(); }
  static D set1_d(double v) { return _mm512_set1_pd(v); }
  static D add(D a, D b) { return _mm512_add_pd(a, b); }
  static D sub(D a, D b) { return _mm512_sub_pd(a, b); }
  static D div(D a, D b) { return _mm512_div_pd(a, b); }
  static D fmadd(D a, D b, D c) { return _mm512_fmadd_pd(a, b, c); }
  static void store_d(double* p, D v) { _mm512_storeu_pd(p, v); }
  static double hsum(D v) {
    const __m256d q = _mm256_add_pd(_mm512_maskz_extractf64x4_pd(0xf, v, 0), _mm512_maskz_extractf64x4_pd(0xf, v, 1));
    const __m128d s = _mm_add_pd(_mm256_castpd256_pd128(q), _mm256_extractf128_pd(q, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
  }
};

}  // namespace

void forward_train_avx512(float* y, float* save_mean, float* save_inv_std, float* running_mean, float* running_var,
                          const float* x, const float* gamma, const float* beta, int64_t N, int64_t C,
                          double momentum, double eps, bool relu, int64_t c0, int64_t c1) {
  Batchnorm<Avx512>::forward_train(y, save_mean, save_inv_std, running_mean, running_var, x, gamma, beta, N, C,
                                   momentum, eps, relu, c0, c1);
}

void forward_eval_avx512(float* y, const float* x, const float* gamma, const float* beta, const float* running_mean,
                         const float* running_var, int64_t N, int64_t C, double eps, bool relu, int64_t c0,
                         int64_t c1) {
  Batchnorm<Avx512>::forward_eval(y, x, gamma, beta, running_mean, running_var, N, C, eps, relu, c0, c1);
}

void backward_avx512(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x, const float* save_mean,
                     const float* save_inv_std, const float* gamma, const float* beta, int64_t N, int64_t C,
                     ChannelScratch scratch, int64_t c0, int64_t c1) {
  Batchnorm<Avx512>::backward(dx, dgamma, dbeta, dy, x, save_mean, save_inv_std, gamma, beta, N, C, scratch, c0, c1);
}

}  // namespace normnet::batchnorm_detail
