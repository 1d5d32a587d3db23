// Batch Normalization, NEON path: batchnorm_simd.h's loops on 4-float / 2-double vectors (the layouts and the
// algorithm are described there; S == 1 takes blocks of 8 channels, 4 double vectors per sum). NEON has no masked
// loads or stores, so the partial vectors go through a zero-padded copy on the stack. The build has contraction
// off on AArch64 (-ffp-contract=off), so the only fused multiply-adds are the ones the loops write out; among them
// the output before a fused ReLU, x * scale + shift, in the vector and the scalar code alike, so that backward
// recomputes it bit for bit. As in the x86 files, the code is in an anonymous namespace apart from the entry
// points; the thread split is batchnorm.cc's.
#include <arm_neon.h>

#include "kernels/batchnorm_simd.h"

namespace normnet::batchnorm_detail {

namespace {

struct Neon {
  using F = float32x4_t;  // kF floats
  using H = float32x2_t;  // the kD floats that widen to one D
  using D = float64x2_t;  // kD doubles
  static constexpr int kF = 4, kD = 2;

  // Lanes [0, n) of a partial vector through a copy on the stack: the others are zero, and memory past p + n is
  // neither read nor written. The copies run over every lane with a test, so that they unroll to a few scalar
  // moves (over [0, n) GCC makes them calls to memcpy).
  static F load_f(const float* p) { return vld1q_f32(p); }
  static F load_f(const float* p, int n) {
    float t[kF] = {};
    for (int i = 0; i < kF; ++i) {
      if (i < n) t[i] = p[i];
    }
    return vld1q_f32(t);
  }
  static void store_f(float* p, F v) { vst1q_f32(p, v); }
  static void store_f(float* p, F v, int n) {
    float t[kF];
    vst1q_f32(t, v);
    for (int i = 0; i < kF; ++i) {
      if (i < n) p[i] = t[i];
    }
  }
  static F set1_f(float v) { return vdupq_n_f32(v); }
  static F fmadd(F a, F b, F c) { return vfmaq_f32(c, a, b); }
  static F fnmadd(F a, F b, F c) { return vfmsq_f32(c, a, b); }
  static F sub(F a, F b) { return vsubq_f32(a, b); }
  static F mul(F a, F b) { return vmulq_f32(a, b); }
  // reluForward's rule: v < 0 ? 0 : v (NaN propagates).
  static F relu(F v) { return vreinterpretq_f32_u32(vbicq_u32(vreinterpretq_u32_f32(v), vcltzq_f32(v))); }
  // g where y > 0, else 0.
  static F where_positive(F g, F y) {
    return vreinterpretq_f32_u32(vandq_u32(vreinterpretq_u32_f32(g), vcgtzq_f32(y)));
  }

  static H load_h(const float* p) { return vld1_f32(p); }
  static H load_h(const float* p, int n) {
    float t[kD] = {};
    for (int i = 0; i < kD; ++i) {
      if (i < n) t[i] = p[i];
    }
    return vld1_f32(t);
  }
  static H set1_h(float v) { return vdup_n_f32(v); }
  static H fmadd(H a, H b, H c) { return vfma_f32(c, a, b); }
  static H where_positive(H g, H y) { return vreinterpret_f32_u32(vand_u32(vreinterpret_u32_f32(g), vcgtz_f32(y))); }

  static D widen(H h) { return vcvt_f64_f32(h); }
  static D zero_d() { return vdupq_n_f64(0.0); }
  static D set1_d(double v) { return vdupq_n_f64(v); }
  static D add(D a, D b) { return vaddq_f64(a, b); }
  static D sub(D a, D b) { return vsubq_f64(a, b); }
  static D div(D a, D b) { return vdivq_f64(a, b); }
  static D fmadd(D a, D b, D c) { return vfmaq_f64(c, a, b); }
  static void store_d(double* p, D v) { vst1q_f64(p, v); }
  static double hsum(D v) { return vaddvq_f64(v); }
};

}  // namespace

PlaneOps plane_ops_neon() { return Batchnorm<Neon>::plane_ops(); }

void forward_train_neon(float* y, float* save_mean, float* save_inv_std, float* running_mean, float* running_var,
                        const float* x, const float* gamma, const float* beta, int64_t N, int64_t C,
                        double momentum, double eps, bool relu, int64_t c0, int64_t c1) {
  Batchnorm<Neon>::forward_train(y, save_mean, save_inv_std, running_mean, running_var, x, gamma, beta, N, C,
                                 momentum, eps, relu, c0, c1);
}

void forward_eval_neon(float* y, const float* x, const float* gamma, const float* beta, const float* running_mean,
                       const float* running_var, int64_t N, int64_t C, double eps, bool relu, int64_t c0,
                       int64_t c1) {
  Batchnorm<Neon>::forward_eval(y, x, gamma, beta, running_mean, running_var, N, C, eps, relu, c0, c1);
}

void backward_neon(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x, const float* save_mean,
                   const float* save_inv_std, const float* gamma, const float* beta, int64_t N, int64_t C,
                   ChannelScratch scratch, int64_t c0, int64_t c1) {
  Batchnorm<Neon>::backward(dx, dgamma, dbeta, dy, x, save_mean, save_inv_std, gamma, beta, N, C, scratch, c0, c1);
}

}  // namespace normnet::batchnorm_detail
