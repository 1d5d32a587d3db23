// NEON packing of transposed operands (layout in pack.h): 4 x 4 tiles through registers (4 loads, 8 permutes,
// 4 stores) instead of gathering one float at a time, ld apart. Packing copied operands is the portable
// pack_copied, whose row copies GCC vectorizes.
#include "kernels/gemm/pack.h"

#include <arm_neon.h>

namespace normnet::gemm_detail {

namespace {

// In-place transpose of 4 rows of 4 floats.
void transpose4(float32x4_t r[4]) {
  const float64x2_t t0 = vreinterpretq_f64_f32(vtrn1q_f32(r[0], r[1]));  // r0[0] r1[0] r0[2] r1[2]
  const float64x2_t t1 = vreinterpretq_f64_f32(vtrn2q_f32(r[0], r[1]));  // r0[1] r1[1] r0[3] r1[3]
  const float64x2_t t2 = vreinterpretq_f64_f32(vtrn1q_f32(r[2], r[3]));
  const float64x2_t t3 = vreinterpretq_f64_f32(vtrn2q_f32(r[2], r[3]));
  r[0] = vreinterpretq_f32_f64(vtrn1q_f64(t0, t2));
  r[1] = vreinterpretq_f32_f64(vtrn1q_f64(t1, t3));
  r[2] = vreinterpretq_f32_f64(vtrn2q_f64(t0, t2));
  r[3] = vreinterpretq_f32_f64(vtrn2q_f64(t1, t3));
}

}  // namespace

void pack_transposed_neon(const float* src, int64_t ld, int64_t count, int64_t k, int width, float* out) {
  const int64_t k4 = k & ~int64_t{3};
  for (int64_t i = 0; i < count; i += width, out += width * k) {
    const int64_t w = count - i < width ? count - i : width;
    const float* s = src + i * ld;
    for (int64_t p = 0; p < k4; p += 4) {
      // Groups of 4 panel rows past w are loaded as zeros: every store is a whole, defined vector.
      for (int g = 0; g < width; g += 4) {
        float32x4_t tile[4];
        for (int r = 0; r < 4; ++r) tile[r] = g + r < w ? vld1q_f32(s + (g + r) * ld + p) : vdupq_n_f32(0.0f);
        transpose4(tile);
        for (int q = 0; q < 4; ++q) vst1q_f32(out + (p + q) * width + g, tile[q]);
      }
    }
    for (int64_t p = k4; p < k; ++p) {
      for (int64_t r = 0; r < w; ++r) out[p * width + r] = s[r * ld + p];
    }
  }
}

}  // namespace normnet::gemm_detail
