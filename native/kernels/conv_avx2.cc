// AVX2 + FMA convolution kernels. Direct forward and weight gradient for the first layers that im2col + GEMM
// serves badly: stride 1, no padding, output rows a multiple of 8 wide, few taps (K = C*KH*KW; the CNN's 5x5
// first layer has 25). There the unfolded copy costs about what the GEMM does, and each GEMM tile does only K
// multiply-adds per load and store of its outputs.
//   forward: a block of 4 output channels x up to 24 columns of one output row lives in 12 accumulators; each
//            tap loads up to 3 input vectors (unaligned, straight from the image) and 4 broadcast weights for 12
//            FMAs, and the outputs are written once, NCHW, bias first.
//   weight gradient: for 2 output channels and up to 6 horizontal taps (one input channel and kernel row),
//            12 vector accumulators run over the image; each 8 outputs load 2 dy vectors and one shifted input
//            vector per tap for 12 FMAs. Each accumulator's lanes are added at the end.
//   fold (col2im at stride 1, no padding, any layer): each dx row gathered 8 columns at a time in a register,
//            one masked load per contributing cols row, written once; the scalar scatter (zero the plane, then
//            add each cols row into it, 10 floats at a time for the CNN's 20 -> 50 layer) made that layer's
//            input gradient 1.13x slower.
// As in the GEMM's ISA files, everything is in an anonymous namespace apart from the entry points, and no shared
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

// dweight[oc + o, c, kh, kw0 + k] += sum over (oh, ow) of dy[oc + o, oh, ow] * x[c, oh + kh, ow + kw0 + k],
// o < O, k < KB.
template <int O, int KB>
void taps(float* dweight, const float* dy, const float* x, int64_t C, int64_t H, int64_t W, int64_t KH, int64_t KW,
          int64_t OH, int64_t OW, int64_t oc, int64_t c, int64_t kh, int64_t kw0) {
  const int64_t S = OH * OW;
  __m256 acc[O][KB];
#pragma GCC unroll 2
  for (int o = 0; o < O; ++o) {
#pragma GCC unroll 6
    for (int k = 0; k < KB; ++k) acc[o][k] = _mm256_setzero_ps();
  }
  for (int64_t oh = 0; oh < OH; ++oh) {
    const float* row = x + (c * H + oh + kh) * W + kw0;
    for (int64_t ow = 0; ow < OW; ow += 8) {
      __m256 g[O];
#pragma GCC unroll 2
      for (int o = 0; o < O; ++o) g[o] = _mm256_loadu_ps(dy + (oc + o) * S + oh * OW + ow);
#pragma GCC unroll 6
      for (int k = 0; k < KB; ++k) {
        __m256 in = _mm256_loadu_ps(row + ow + k);
        // Keep the vector in a register: folded into each FMA as a memory operand, it was loaded O times.
        __asm__("" : "+x"(in));
#pragma GCC unroll 2
        for (int o = 0; o < O; ++o) acc[o][k] = _mm256_fmadd_ps(g[o], in, acc[o][k]);
      }
    }
  }
#pragma GCC unroll 2
  for (int o = 0; o < O; ++o) {
#pragma GCC unroll 6
    for (int k = 0; k < KB; ++k) {
      const __m128 half = _mm_add_ps(_mm256_castps256_ps128(acc[o][k]), _mm256_extractf128_ps(acc[o][k], 1));
      const __m128 pair = _mm_add_ps(half, _mm_movehl_ps(half, half));
      dweight[((oc + o) * C + c) * KH * KW + kh * KW + kw0 + k] += _mm_cvtss_f32(_mm_add_ss(pair, _mm_movehdup_ps(pair)));
    }
  }
}

using Taps = void (*)(float*, const float*, const float*, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t,
                      int64_t, int64_t, int64_t, int64_t);

// Indexed by [channels - 1][taps - 1].
constexpr Taps kTaps[2][6] = {
    {taps<1, 1>, taps<1, 2>, taps<1, 3>, taps<1, 4>, taps<1, 5>, taps<1, 6>},
    {taps<2, 1>, taps<2, 2>, taps<2, 3>, taps<2, 4>, taps<2, 5>, taps<2, 6>},
};

}  // namespace

void fold_direct_avx2(float* dx, const float* cols, int64_t N, int64_t C, int64_t H, int64_t W, int64_t KH, int64_t KW,
                      int64_t begin, int64_t end) {
  const int64_t OH = H - KH + 1, OW = W - KW + 1, S = OH * OW;
  const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  __m256i mask[kMaxFoldKW];
  for (int64_t nc = begin; nc < end; ++nc) {
    const int64_t n = nc / C, c = nc % C;
    const float* rows = cols + c * KH * KW * N * S + n * S;  // cols row (c, kh, kw) at rows + (kh*KW + kw)*N*S
    float* plane = dx + nc * H * W;
    for (int64_t j = 0; j < W; j += 8) {
      // Lanes of columns j.. that cols row (c, kh, kw)'s output row covers: j + lane - kw in [0, OW).
      for (int64_t kw = 0; kw < KW; ++kw) {
        const __m256i lo = _mm256_set1_epi32(static_cast<int>(kw - j - 1));
        const __m256i hi = _mm256_set1_epi32(static_cast<int>(OW + kw - j));
        mask[kw] = _mm256_and_si256(_mm256_cmpgt_epi32(lanes, lo), _mm256_cmpgt_epi32(hi, lanes));
      }
      const __m256i store_mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(W - j)), lanes);
      for (int64_t ih = 0; ih < H; ++ih) {
        __m256 acc = _mm256_setzero_ps();
        const int64_t kh0 = ih - OH + 1 > 0 ? ih - OH + 1 : 0, kh1 = ih < KH - 1 ? ih : KH - 1;
        for (int64_t kh = kh0; kh <= kh1; ++kh) {
          const float* segments = rows + kh * KW * N * S + (ih - kh) * OW + j;
          for (int64_t kw = 0; kw < KW; ++kw) {
            acc = _mm256_add_ps(acc, _mm256_maskload_ps(segments + kw * N * S - kw, mask[kw]));
          }
        }
        if (j + 8 <= W) {
          _mm256_storeu_ps(plane + ih * W + j, acc);
        } else {
          _mm256_maskstore_ps(plane + ih * W + j, store_mask, acc);
        }
      }
    }
  }
}

void backward_params_direct_avx2(float* dweight, const float* dy, const float* x, int64_t C, int64_t H, int64_t W,
                                 int64_t OC, int64_t KH, int64_t KW) {
  const int64_t OH = H - KH + 1, OW = W - KW + 1;
  for (int64_t oc = 0; oc < OC; oc += 2) {
    const int64_t channels = OC - oc < 2 ? OC - oc : 2;
    for (int64_t c = 0; c < C; ++c) {
      for (int64_t kh = 0; kh < KH; ++kh) {
        for (int64_t kw = 0; kw < KW; kw += 6) {
          const int64_t count = KW - kw < 6 ? KW - kw : 6;
          kTaps[channels - 1][count - 1](dweight, dy, x, C, H, W, KH, KW, OH, OW, oc, c, kh, kw);
        }
      }
    }
  }
}

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
