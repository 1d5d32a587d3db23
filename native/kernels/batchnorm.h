// Batch Normalization over an (N, C, S) view: x[(n*C + c)*S + s]. The formulas, PyTorch's conventions and
// what is saved for backward are in the TS twin, src/kernels/ts/batchnorm.ts; this is the same algorithm.
// relu: the forward writes max(0, y). beta (backward, nullable): the forward's beta when it fused a ReLU; dy then
// counts where the forward's output was positive, recomputed from x, gamma, beta and the saved statistics
// bit for bit (on the same CPU path as the forward).
// batchnorm_pool.h fuses a max-pool after the forward, plane by plane, with batchnorm_plane_ops().
#pragma once

#include <cstdint>

namespace normnet {

// y nullptr: the statistics only (saved and running), no output.
void batchnorm_forward_train(float* y, float* save_mean, float* save_inv_std, float* running_mean, float* running_var,
                             const float* x, const float* gamma, const float* beta, int64_t N, int64_t C, int64_t S,
                             double momentum, double eps, bool relu);
void batchnorm_forward_eval(float* y, const float* x, const float* gamma, const float* beta, const float* running_mean,
                            const float* running_var, int64_t N, int64_t C, int64_t S, double eps, bool relu);
// dx = ..., dgamma += sum(dy * xhat), dbeta += sum(dy).
void batchnorm_backward(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x, const float* save_mean,
                        const float* save_inv_std, const float* gamma, const float* beta, int64_t N, int64_t C,
                        int64_t S);

// The vector paths over channels [c0, c1), AVX-512 (batchnorm_avx512.cc), AVX2 + FMA (batchnorm_avx2.cc) and NEON
// (batchnorm_neon.cc), all three batchnorm_simd.h's loops; the functions above dispatch to them. They take N rows of
// C channels (S == 1, BatchNorm1d): any other S runs plane by plane from the path's PlaneOps.
namespace batchnorm_detail {

// Per-channel working memory for channels [c0, c1), w = c1 - c0: 2w floats. The caller owns it, so the ISA file
// instantiates no std:: templates (which the linker could share across ISAs).
struct ChannelScratch {
  float* values;
};

// One CPU path's loops over one contiguous run of S values of a channel: an (n, c) plane, when S > 1. batchnorm.cc
// runs the S > 1 kernels from them (the passes walk the batch in memory order), and batchnorm_pool.cc its fused
// forward, so both get the path's bits.
struct PlaneOps {
  // The channel's scale = gamma * inv_std and shift = beta - mean * scale, as the path forms them.
  void (*scale_shift)(float gamma, float beta, float mean, float inv_std, float& scale, float& shift);
  // y = x * scale + shift, then max(0, y) when relu.
  void (*affine)(float* y, const float* x, int64_t S, float scale, float shift, bool relu);
  // sum(x), in double.
  double (*sum)(const float* x, int64_t S);
  // sum((x - mean)^2), in double.
  double (*squares)(const float* x, int64_t S, double mean);
  // sum_dy += sum(g), sum_dy_xc += sum(g * (x - mean)), g = dy, or with a fused ReLU dy where affine's output > 0.
  void (*gradient_sums)(const float* dy, const float* x, int64_t S, double mean, bool relu, float scale, float shift,
                        double& sum_dy, double& sum_dy_xc);
  // dx = k * (g - mean_dy - (x - mean) * inv_std * mean_dy_xhat).
  void (*dx)(float* dx, const float* dy, const float* x, int64_t S, float k, float mean_dy, float mean_dy_xhat,
             float mean, float inv_std, bool relu, float scale, float shift);
};

#if defined(__x86_64__)
void forward_train_avx512(float* y, float* save_mean, float* save_inv_std, float* running_mean, float* running_var,
                          const float* x, const float* gamma, const float* beta, int64_t N, int64_t C,
                          double momentum, double eps, bool relu, int64_t c0, int64_t c1);
void forward_eval_avx512(float* y, const float* x, const float* gamma, const float* beta, const float* running_mean,
                         const float* running_var, int64_t N, int64_t C, double eps, bool relu, int64_t c0,
                         int64_t c1);
void backward_avx512(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x, const float* save_mean,
                     const float* save_inv_std, const float* gamma, const float* beta, int64_t N, int64_t C,
                     ChannelScratch scratch, int64_t c0, int64_t c1);
PlaneOps plane_ops_avx2();  // AVX-512 CPUs use it too (batchnorm_simd.h)
void forward_train_avx2(float* y, float* save_mean, float* save_inv_std, float* running_mean, float* running_var,
                        const float* x, const float* gamma, const float* beta, int64_t N, int64_t C,
                        double momentum, double eps, bool relu, int64_t c0, int64_t c1);
void forward_eval_avx2(float* y, const float* x, const float* gamma, const float* beta, const float* running_mean,
                       const float* running_var, int64_t N, int64_t C, double eps, bool relu, int64_t c0,
                       int64_t c1);
void backward_avx2(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x, const float* save_mean,
                   const float* save_inv_std, const float* gamma, const float* beta, int64_t N, int64_t C,
                   ChannelScratch scratch, int64_t c0, int64_t c1);
#elif defined(__aarch64__)
PlaneOps plane_ops_neon();
void forward_train_neon(float* y, float* save_mean, float* save_inv_std, float* running_mean, float* running_var,
                        const float* x, const float* gamma, const float* beta, int64_t N, int64_t C,
                        double momentum, double eps, bool relu, int64_t c0, int64_t c1);
void forward_eval_neon(float* y, const float* x, const float* gamma, const float* beta, const float* running_mean,
                       const float* running_var, int64_t N, int64_t C, double eps, bool relu, int64_t c0,
                       int64_t c1);
void backward_neon(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x, const float* save_mean,
                   const float* save_inv_std, const float* gamma, const float* beta, int64_t N, int64_t C,
                   ChannelScratch scratch, int64_t c0, int64_t c1);
#endif

}  // namespace batchnorm_detail

// The active CPU path's PlaneOps.
batchnorm_detail::PlaneOps batchnorm_plane_ops();

}  // namespace normnet
