// gatherScale's uint8 samples on AVX2 + FMA: 8 pixels at a time as fma(v, hi, v * lo) in float, hi + lo being
// the scale split into two floats. The exact rule, float(double(v) * scale), converts through double at half the
// vector width and took 0.8 cycles a pixel, more than the rows' loads from memory (an MNIST batch of 100 random
// rows: 26 us that way, 14 us in float, in a C harness). The float form gives the rule's bits for every byte at
// most scales (1/255 among them) but not all, so gather.cc takes this path only after split_scale_exactly has
// compared the two on all 256 bytes.
// As in the GEMM's ISA files, no shared inline code is included (contract in gather.h).
#include <immintrin.h>

#include "kernels/gather.h"

namespace normnet::gather_detail {

bool split_scale_exactly(double scale, float* hi, float* lo) {
  *hi = static_cast<float>(scale);
  *lo = static_cast<float>(scale - static_cast<double>(*hi));
  const __m256 vhi = _mm256_set1_ps(*hi), vlo = _mm256_set1_ps(*lo);
  const __m256d vscale = _mm256_set1_pd(scale);
  __m256i v = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  __m256i same = _mm256_set1_epi32(-1);
  for (int i = 0; i < 256; i += 8, v = _mm256_add_epi32(v, _mm256_set1_epi32(8))) {
    const __m256 f = _mm256_cvtepi32_ps(v);
    const __m256 fast = _mm256_fmadd_ps(f, vhi, _mm256_mul_ps(f, vlo));
    const __m128 low = _mm256_cvtpd_ps(_mm256_mul_pd(_mm256_cvtepi32_pd(_mm256_castsi256_si128(v)), vscale));
    const __m128 high = _mm256_cvtpd_ps(_mm256_mul_pd(_mm256_cvtepi32_pd(_mm256_extracti128_si256(v, 1)), vscale));
    // Compared as bits: -0 against +0 and NaN against NaN must count as they are stored.
    same = _mm256_and_si256(same, _mm256_cmpeq_epi32(_mm256_castps_si256(fast),
                                                     _mm256_castps_si256(_mm256_set_m128(high, low))));
  }
  return _mm256_movemask_epi8(same) == -1;
}

// Rows prefetched this far ahead of the one converting (measured on MNIST-sized random rows: 1 ahead 18.9 us a
// batch, 3 ahead 15.7).
constexpr int64_t kAhead = 3;

void gather_bytes_avx2(float* out, const uint8_t* x, const int32_t* rows, int64_t N, int64_t D, float hi, float lo) {
  const __m256 vhi = _mm256_set1_ps(hi), vlo = _mm256_set1_ps(lo);
  const int64_t D8 = D & ~int64_t{7};
  const auto prefetch = [&](int64_t n) {
    const char* row = reinterpret_cast<const char*>(x + static_cast<int64_t>(rows[n]) * D);
    for (int64_t b = 0; b < D; b += 64) _mm_prefetch(row + b, _MM_HINT_T0);
  };
  for (int64_t n = 1; n < kAhead && n < N; ++n) prefetch(n);
  for (int64_t n = 0; n < N; ++n) {
    if (n + kAhead < N) prefetch(n + kAhead);
    const uint8_t* from = x + static_cast<int64_t>(rows[n]) * D;
    float* to = out + n * D;
    for (int64_t d = 0; d < D8; d += 8) {
      const __m128i bytes = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(from + d));
      const __m256 f = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(bytes));
      _mm256_storeu_ps(to + d, _mm256_fmadd_ps(f, vhi, _mm256_mul_ps(f, vlo)));
    }
    for (int64_t d = D8; d < D; ++d) {
      const float f = static_cast<float>(from[d]);
      to[d] = _mm_cvtss_f32(_mm_fmadd_ss(_mm_set_ss(f), _mm_set_ss(hi), _mm_set_ss(f * lo)));
    }
  }
}

}  // namespace normnet::gather_detail
