// gatherScale's uint8 samples on NEON: the float form of gather_avx2.cc, 16 pixels at a time as fma(v, hi, v * lo),
// hi + lo being the scale split into two floats, which gather.cc takes only after split_scale_exactly has found it
// gives float(double(v) * scale) for all 256 bytes. The exact rule's double form runs at two lanes a vector
// here, against four for the float one. Contract in gather.h.
#include <arm_neon.h>

#include "kernels/gather.h"

namespace normnet::gather_detail {

namespace {

// fma(v, hi, v * lo) on four pixels.
inline float32x4_t scaled(uint32x4_t v, float32x4_t hi, float32x4_t lo) {
  const float32x4_t f = vcvtq_f32_u32(v);
  return vfmaq_f32(vmulq_f32(f, lo), f, hi);
}

}  // namespace

bool split_scale_exactly(double scale, float* hi, float* lo) {
  *hi = static_cast<float>(scale);
  *lo = static_cast<float>(scale - static_cast<double>(*hi));
  const float32x4_t vhi = vdupq_n_f32(*hi), vlo = vdupq_n_f32(*lo);
  const float64x2_t vscale = vdupq_n_f64(scale);
  const uint32_t start[4] = {0, 1, 2, 3};
  uint32x4_t v = vld1q_u32(start);
  uint32x4_t same = vdupq_n_u32(~0u);
  for (int i = 0; i < 256; i += 4, v = vaddq_u32(v, vdupq_n_u32(4))) {
    const float32x4_t fast = scaled(v, vhi, vlo);
    const float32x2_t low = vcvt_f32_f64(vmulq_f64(vcvtq_f64_u64(vmovl_u32(vget_low_u32(v))), vscale));
    const float32x4_t exact = vcvt_high_f32_f64(low, vmulq_f64(vcvtq_f64_u64(vmovl_high_u32(v)), vscale));
    // Compared as bits: -0 against +0 and NaN against NaN must count as they are stored.
    same = vandq_u32(same, vceqq_u32(vreinterpretq_u32_f32(fast), vreinterpretq_u32_f32(exact)));
  }
  return vminvq_u32(same) == ~0u;
}

// Rows prefetched this far ahead of the one converting, as on AVX2 (not measured on an ARM CPU).
constexpr int64_t kAhead = 3;

void gather_bytes_neon(float* out, const uint8_t* x, const int32_t* rows, int64_t N, int64_t D, float hi, float lo) {
  const float32x4_t vhi = vdupq_n_f32(hi), vlo = vdupq_n_f32(lo);
  const int64_t D16 = D & ~int64_t{15};
  const auto prefetch = [&](int64_t n) {
    const uint8_t* row = x + static_cast<int64_t>(rows[n]) * D;
    for (int64_t b = 0; b < D; b += 64) __builtin_prefetch(row + b);
  };
  for (int64_t n = 1; n < kAhead && n < N; ++n) prefetch(n);
  for (int64_t n = 0; n < N; ++n) {
    if (n + kAhead < N) prefetch(n + kAhead);
    const uint8_t* from = x + static_cast<int64_t>(rows[n]) * D;
    float* to = out + n * D;
    for (int64_t d = 0; d < D16; d += 16) {
      // 16 bytes widened to 16-bit halves, then to 32-bit quarters.
      const uint8x16_t bytes = vld1q_u8(from + d);
      const uint16x8_t low = vmovl_u8(vget_low_u8(bytes)), high = vmovl_high_u8(bytes);
      vst1q_f32(to + d, scaled(vmovl_u16(vget_low_u16(low)), vhi, vlo));
      vst1q_f32(to + d + 4, scaled(vmovl_high_u16(low), vhi, vlo));
      vst1q_f32(to + d + 8, scaled(vmovl_u16(vget_low_u16(high)), vhi, vlo));
      vst1q_f32(to + d + 12, scaled(vmovl_high_u16(high), vhi, vlo));
    }
    for (int64_t d = D16; d < D; ++d) {
      const float f = static_cast<float>(from[d]);
      to[d] = __builtin_fmaf(f, hi, f * lo);
    }
  }
}

}  // namespace normnet::gather_detail
