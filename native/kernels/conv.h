// Convolution as GEMMs over the unfolded input, NCHW. The formulas, PyTorch's conventions and what is saved
// for backward are in the TS twin, src/kernels/ts/conv.ts; these are the same algorithms.
//   OH = (H + 2*padding - KH) / stride + 1, OW likewise; cols is (C*KH*KW, N*OH*OW).
// Preconditions (checked by the binding): KH, KW, stride >= 1, the window fits, outputs do not overlap inputs.
#pragma once

#include <cstdint>

namespace normnet {

// cols[(c*KH + kh)*KW + kw, (n*OH + oh)*OW + ow] = x[n, c, oh*stride + kh - padding, ow*stride + kw - padding], 0 outside.
void im2col(float* cols, const float* x, int64_t N, int64_t C, int64_t H, int64_t W, int64_t KH, int64_t KW,
            int64_t stride, int64_t padding);
// The adjoint of im2col: dx = 0, then every cols entry is added to the pixel im2col read it from.
void col2im(float* dx, const float* cols, int64_t N, int64_t C, int64_t H, int64_t W, int64_t KH, int64_t KW,
            int64_t stride, int64_t padding);
// y (N, OC, OH, OW) = the cross-correlation of x (N, C, H, W) with weight (OC, C, KH, KW), + bias (OC).
void conv2d_forward(float* y, const float* x, const float* weight, const float* bias, int64_t N, int64_t C, int64_t H,
                    int64_t W, int64_t OC, int64_t KH, int64_t KW, int64_t stride, int64_t padding);
// dx (N, C, H, W) = the gradient of conv2d_forward's y with respect to x, given dy (N, OC, OH, OW).
void conv2d_backward_input(float* dx, const float* dy, const float* weight, int64_t N, int64_t C, int64_t H, int64_t W,
                           int64_t OC, int64_t KH, int64_t KW, int64_t stride, int64_t padding);
// dweight (OC, C, KH, KW) += the gradient with respect to weight; dbias (OC) += sums of dy (in double).
// The same bits for any thread count.
void conv2d_backward_params(float* dweight, float* dbias, const float* dy, const float* x, int64_t N, int64_t C,
                            int64_t H, int64_t W, int64_t OC, int64_t KH, int64_t KW, int64_t stride, int64_t padding);

// The AVX2 + FMA direct paths (conv_avx2.cc) conv2d_forward and conv2d_backward_params take for small first
// layers, one image at a time: stride 1, no padding, OW = W - KW + 1 a multiple of 8; and the folds (col2im at
// stride 1 without padding) of AVX2 and NEON (conv_neon.cc).
namespace conv_detail {

#if defined(__x86_64__)
// y (OC, OH, OW) = the convolution of x (C, H, W) with weight + bias.
void forward_direct_avx2(float* y, const float* x, const float* weight, const float* bias, int64_t C, int64_t H,
                         int64_t W, int64_t OC, int64_t KH, int64_t KW);
// dweight (OC, C, KH, KW) += the weight gradient of that convolution for dy (OC, OH, OW).
void backward_params_direct_avx2(float* dweight, const float* dy, const float* x, int64_t C, int64_t H, int64_t W,
                                 int64_t OC, int64_t KH, int64_t KW);

// The widest kernel fold_direct_avx2 takes.
constexpr int64_t kMaxFoldKW = 16;
// col2im (conv.h) of planes [begin, end) of dx (N, C, H, W) from cols, stride 1, no padding, KW <= kMaxFoldKW:
// each dx row gathered 8 columns at a time in a register, its cols entries added in col2im's order.
void fold_direct_avx2(float* dx, const float* cols, int64_t N, int64_t C, int64_t H, int64_t W, int64_t KH, int64_t KW,
                      int64_t begin, int64_t end);
#elif defined(__aarch64__)
// col2im (conv.h) of planes [begin, end) of dx (N, C, H, W) from cols, stride 1, no padding: each dx row gathered
// 4 columns at a time in a register, its cols entries added in col2im's order.
void fold_direct_neon(float* dx, const float* cols, int64_t N, int64_t C, int64_t H, int64_t W, int64_t KH, int64_t KW,
                      int64_t begin, int64_t end);
#endif

}  // namespace conv_detail

}  // namespace normnet
