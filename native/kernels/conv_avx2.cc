// Direct convolution forward, AVX2 + FMA, for the first layers that im2col + GEMM serves badly: stride 1, no
// padding, output rows a multiple of 8 wide, few taps (K = C*KH*KW; the CNN's 5x5 first layer has 25). There
// the unfolded copy costs about what the GEMM does, and each GEMM tile does only K multiply-adds per load and
// store of its outputs. Here a block of 4 output channels x up to 24 columns of one output row lives in 12
// accumulators; each tap loads up to 3 input vectors (unaligned, straight from the image) and 4 broadcast
// weights for 12 FMAs, and the outputs are written once, NCHW, bias first.
// As in the GEMM's ISA files, everything is in an anonymous namespace apart from the entry point, and no shared
// inline code is included (contract in conv.h).
#include <immintrin.h>

#include "kernels/conv.h"

namespace normnet::conv_detail {

namespace {

// y[oc + o, oh, ow + 8v + lane] for o < O, v < V, from the taps of channels [0, C).
template <int O, int V>
void block(float* y, const float* x, const float* weight, const float* bias, int64_t C, int64_t H, int64_t W, int64_t KH,
           int64_t KW, int64_t OW, int64_t S, int64_t oc, int64_t oh, int64_t ow) {
  const int64_t taps = C * KH * KW;
  __m256 acc[O][V];
#pragma GCC unroll 4
  for (int o = 0; o < O; ++o) {
    const __m256 b = _mm256_set1_ps(bias[oc + o]);
#pragma GCC unroll 3
    for (int v = 0; v < V; ++v) acc[o][v] = b;
  }
  for (int64_t c = 0; c < C; ++c) {
    for (int64_t kh = 0; kh < KH; ++kh) {
      const float* row = x + (c * H + oh + kh) * W + ow;
      const float* w = weight + oc * taps + (c * KH + kh) * KW;
      for (int64_t kw = 0; kw < KW; ++kw) {
        __m256 in[V];
#pragma GCC unroll 3
        for (int v = 0; v < V; ++v) in[v] = _mm256_loadu_ps(row + kw + 8 * v);
#pragma GCC unroll 4
        for (int o = 0; o < O; ++o) {
          const __m256 wv = _mm256_broadcast_ss(w + o * taps + kw);
#pragma GCC unroll 3
          for (int v = 0; v < V; ++v) acc[o][v] = _mm256_fmadd_ps(wv, in[v], acc[o][v]);
        }
      }
    }
  }
#pragma GCC unroll 4
  for (int o = 0; o < O; ++o) {
#pragma GCC unroll 3
    for (int v = 0; v < V; ++v) _mm256_storeu_ps(y + (oc + o) * S + oh * OW + ow + 8 * v, acc[o][v]);
  }
}

using Block = void (*)(float*, const float*, const float*, const float*, int64_t, int64_t, int64_t, int64_t, int64_t,
                       int64_t, int64_t, int64_t, int64_t, int64_t);

// Indexed by [channels - 1][vectors - 1].
constexpr Block kBlocks[4][3] = {
    {block<1, 1>, block<1, 2>, block<1, 3>},
    {block<2, 1>, block<2, 2>, block<2, 3>},
    {block<3, 1>, block<3, 2>, block<3, 3>},
    {block<4, 1>, block<4, 2>, block<4, 3>},
};

}  // namespace

void forward_direct_avx2(float* y, const float* x, const float* weight, const float* bias, int64_t C, int64_t H,
                         int64_t W, int64_t OC, int64_t KH, int64_t KW) {
  const int64_t OH = H - KH + 1, OW = W - KW + 1, S = OH * OW;
  for (int64_t oc = 0; oc < OC; oc += 4) {
    const int64_t channels = OC - oc < 4 ? OC - oc : 4;
    for (int64_t oh = 0; oh < OH; ++oh) {
      for (int64_t ow = 0; ow < OW; ow += 24) {
        const int64_t vectors = (OW - ow) / 8 < 3 ? (OW - ow) / 8 : 3;
        kBlocks[channels - 1][vectors - 1](y, x, weight, bias, C, H, W, KH, KW, OW, S, oc, oh, ow);
      }
    }
  }
}

}  // namespace normnet::conv_detail
