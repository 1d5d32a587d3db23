// NEON fold (col2im at stride 1, no padding): each dx row gathered 4 columns at a time in a register and written
// once, as conv_avx2.cc's fold does 8 at a time; the portable path zeroes the plane, then adds each cols row into
// it (10 floats at a time for the CNN's 20 -> 50 layer). NEON has no masked loads, so only the blocks whose 4
// columns every cols segment covers (from column KW - 1 to OW - 1) are gathered as vectors; the first KW - 1 and
// the last few columns of each row are summed pixel by pixel. Either way each pixel's entries are added from +0
// in col2im's order (kh, kw), so the bits are the portable path's. Contract in conv.h.
#include <arm_neon.h>

#include "kernels/conv.h"

namespace normnet::conv_detail {

namespace {

// dx[ih, iw] of one plane: the sum of its cols entries; rows is the plane's cols row (c, 0, 0), `plane` floats
// (N*S) between consecutive cols rows.
inline float pixel(const float* rows, int64_t plane, int64_t KW, int64_t OW, int64_t ih, int64_t iw, int64_t kh0,
                   int64_t kh1) {
  float acc = 0.0f;
  for (int64_t kh = kh0; kh <= kh1; ++kh) {
    const float* segments = rows + kh * KW * plane + (ih - kh) * OW;
    for (int64_t kw = 0; kw < KW; ++kw) {
      if (iw - kw >= 0 && iw - kw < OW) acc += segments[kw * plane + iw - kw];
    }
  }
  return acc;
}

}  // namespace

void fold_direct_neon(float* dx, const float* cols, int64_t N, int64_t C, int64_t H, int64_t W, int64_t KH, int64_t KW,
                      int64_t begin, int64_t end) {
  const int64_t OH = H - KH + 1, OW = W - KW + 1, S = OH * OW, plane = N * S;
  for (int64_t nc = begin; nc < end; ++nc) {
    const int64_t n = nc / C, c = nc % C;
    const float* rows = cols + c * KH * KW * plane + n * S;  // cols row (c, kh, kw) at rows + (kh*KW + kw)*plane
    for (int64_t ih = 0; ih < H; ++ih) {
      float* out = dx + nc * H * W + ih * W;
      const int64_t kh0 = ih - OH + 1 > 0 ? ih - OH + 1 : 0, kh1 = ih < KH - 1 ? ih : KH - 1;
      int64_t iw = 0;
      for (; iw < KW - 1 && iw < W; ++iw) out[iw] = pixel(rows, plane, KW, OW, ih, iw, kh0, kh1);
      // Columns iw..iw+3 read iw - kw .. iw + 3 - kw of every segment, inside [0, OW) for every kw.
      for (; iw + 4 <= OW; iw += 4) {
        float32x4_t acc = vdupq_n_f32(0.0f);
        for (int64_t kh = kh0; kh <= kh1; ++kh) {
          const float* segments = rows + kh * KW * plane + (ih - kh) * OW + iw;
          for (int64_t kw = 0; kw < KW; ++kw) acc = vaddq_f32(acc, vld1q_f32(segments + kw * plane - kw));
        }
        vst1q_f32(out + iw, acc);
      }
      for (; iw < W; ++iw) out[iw] = pixel(rows, plane, KW, OW, ih, iw, kh0, kh1);
    }
  }
}

}  // namespace normnet::conv_detail
