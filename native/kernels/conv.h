// Convolution as a GEMM over the unfolded input, NCHW. The formulas, PyTorch's conventions and what is saved
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
// y[n, c, s] = t[c, n, s] + bias[c].
void conv_bias_forward(float* y, const float* t, const float* bias, int64_t N, int64_t C, int64_t S);
// dt[c, n, s] = dy[n, c, s]; dbias[c] += sum over n, s of dy[n, c, s] (summed in double).
void conv_bias_backward(float* dt, float* dbias, const float* dy, int64_t N, int64_t C, int64_t S);

}  // namespace normnet
