// Batch Normalization, AVX2 + FMA path: batchnorm_simd.h's loops on 8-float / 4-double vectors (the layouts and
// the algorithm are described there). As in the GEMM's ISA files, the code is in an anonymous namespace apart
// from the entry points, so the linker cannot pick an AVX2 copy of a common function for the whole library; the
// thread split is batchnorm.cc's.
#include <immintrin.h>

#include "kernels/batchnorm_simd.h"

namespace normnet::batchnorm_detail {

namespace {

struct Avx2 {
  using F = __m256;   // kF floats
  using H = __m128;   // the kD floats that widen to one D
  using D = __m256d;  // kD doubles
  static constexpr int kF = 8, kD = 4;

  // Lanes [0, n) of a vector: all ones.
  static __m256i lanes8(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static __m128i lanes4(int n) { return _mm_cmpgt_epi32(_mm_set1_epi32(n), _mm_setr_epi32(0, 1, 2, 3)); }

  static F load_f(const float* p) { return _mm256_loadu_ps(p); }
  static F load_f(const float* p, int n) { return _mm256_maskload_ps(p, lanes8(n)); }
  static void store_f(float* p, F v) { _mm256_storeu_ps(p, v); }
  static void store_f(float* p, F v, int n) { _mm256_maskstore_ps(p, lanes8(n), v); }
  static F set1_f(float v) { return _mm256_set1_ps(v); }
  static F fmadd(F a, F b, F c) { return _mm256_fmadd_ps(a, b, c); }
  static F fnmadd(F a, F b, F c) { return _mm256_fnmadd_ps(a, b, c); }
  static F sub(F a, F b) { return _mm256_sub_ps(a, b); }
  static F mul(F a, F b) { return _mm256_mul_ps(a, b); }
  // reluForward's rule: v < 0 ? 0 : v (NaN propagates).
  static F relu(F v) { return _mm256_andnot_ps(_mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_LT_OQ), v); }
  // g where y > 0, else 0.
  static F where_positive(F g, F y) { return _mm256_and_ps(g, _mm256_cmp_ps(y, _mm256_setzero_ps(), _CMP_GT_OQ)); }

  static H load_h(const float* p) { return _mm_loadu_ps(p); }
  static H load_h(const float* p, int n) { return _mm_maskload_ps(p, lanes4(n)); }
  static H set1_h(float v) { return _mm_set1_ps(v); }
  static H fmadd(H a, H b, H c) { return _mm_fmadd_ps(a, b, c); }
  static H where_positive(H g, H y) { return _mm_and_ps(g, _mm_cmpgt_ps(y, _mm_setzero_ps())); }

  static D widen(H h) { return _mm256_cvtps_pd(h); }
  static D zero_d() { return _mm256_setzero_pd(); }
  static D set1_d(double v) { return _mm256_set1_pd(v); }
  static D add(D a, D b) { return _mm256_add_pd(a, b); }
  static D sub(D a, D b) { return _mm256_sub_pd(a, b); }
  static D div(D a, D b) { return _mm256_div_pd(a, b); }
  static D fmadd(D a, D b, D c) { return _mm256_fmadd_pd(a, b, c); }
  static void store_d(double* p, D v) { _mm256_storeu_pd(p, v); }
  static double hsum(D v) {
    const __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
  }
};

}  // namespace

PlaneOps plane_ops_avx2() { return Batchnorm<Avx2>::plane_ops(); }

void forward_train_avx2(float* y, float* save_mean, float* save_inv_std, float* running_mean, float* running_var,
                        const float* x, const float* gamma, const float* beta, int64_t N, int64_t C,
                        double momentum, double eps, bool relu, int64_t c0, int64_t c1) {
  Batchnorm<Avx2>::forward_train(y, save_mean, save_inv_std, running_mean, running_var, x, gamma, beta, N, C,
                                 momentum, eps, relu, c0, c1);
}

void forward_eval_avx2(float* y, const float* x, const float* gamma, const float* beta, const float* running_mean,
                       const float* running_var, int64_t N, int64_t C, double eps, bool relu, int64_t c0,
                       int64_t c1) {
  Batchnorm<Avx2>::forward_eval(y, x, gamma, beta, running_mean, running_var, N, C, eps, relu, c0, c1);
}

void backward_avx2(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x, const float* save_mean,
                   const float* save_inv_std, const float* gamma, const float* beta, int64_t N, int64_t C,
                   ChannelScratch scratch, int64_t c0, int64_t c1) {
  Batchnorm<Avx2>::backward(dx, dgamma, dbeta, dy, x, save_mean, save_inv_std, gamma, beta, N, C, scratch, c0, c1);
}

}  // namespace normnet::batchnorm_detail
