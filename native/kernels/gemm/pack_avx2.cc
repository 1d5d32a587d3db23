// AVX2 packing (layout in pack.h), used by the AVX2 and AVX-512 paths.
// pack_transposed moves 8 x 8 tiles through registers (8 loads, 24 shuffles, 8 stores) instead of gathering
// one float at a time. Both functions store whole 8-lane vectors even where a panel is narrower: the extra
// lanes land in entries written afterwards (the next k row, or the next panel), or in the kPackSlack floats
// the caller leaves at the end of the buffer; pack_copied, which writes its panels a block of rows at a time,
// stores a panel's last row masked instead.
#include "kernels/gemm/pack.h"

#include <immintrin.h>

namespace normnet::gemm_detail {

namespace {

// In-place transpose of 8 rows of 8 floats.
void transpose8(__m256 r[8]) {
  __m256 t[8];
  for (int i = 0; i < 4; ++i) {
    t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  __m256 u[8];
  for (int i = 0; i < 2; ++i) {
    u[4 * i + 0] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(1, 0, 1, 0));
    u[4 * i + 1] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(3, 2, 3, 2));
    u[4 * i + 2] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(1, 0, 1, 0));
    u[4 * i + 3] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int i = 0; i < 4; ++i) {
    r[i] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x20);
    r[i + 4] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x31);
  }
}

}  // namespace

void pack_transposed_avx2(const float* src, int64_t ld, int64_t count, int64_t k, int width, float* out) {
  const int64_t k8 = k & ~int64_t{7};
  for (int64_t i = 0; i < count; i += width, out += width * k) {
    const int64_t w = count - i < width ? count - i : width;
    // At most 4: panels are at most 32 wide. Counted from w, not width: a narrow last panel (N = 100 leaves 4 of
    // 32 columns) would otherwise transpose 3 tiles of zeros for each one of data (measured on Zen 5, one
    // thread: 100x100x784 X·Wᵀ 1.01-1.03x, 100^3 X·Wᵀ 1.01x).
    const int groups = static_cast<int>((w + 7) / 8);
    const float* s = src + i * ld;
    for (int64_t p = 0; p < k8; p += 8) {
      // One 8 x 8 tile at a time (eight registers; holding all groups at once spilled them to the stack), the
      // groups last to first and each one's rows in order: the lanes a narrow group spills past a row's end
      // land on the next row's first entries, which that row's store or an earlier group's then overwrites.
      for (int g = groups - 1; g >= 0; --g) {
        __m256 tile[8];
        for (int r = 0; r < 8; ++r) {
          const int64_t row = 8 * g + r;
          tile[r] = row < w ? _mm256_loadu_ps(s + row * ld + p) : _mm256_setzero_ps();
        }
        transpose8(tile);
        for (int q = 0; q < 8; ++q) _mm256_storeu_ps(out + (p + q) * width + 8 * g, tile[q]);
      }
    }
    for (int64_t p = k8; p < k; ++p) {
      for (int64_t r = 0; r < w; ++r) out[p * width + r] = s[r * ld + p];
    }
  }
}

void pack_copied_avx2(const float* src, int64_t ld, int64_t count, int64_t k, int width, float* out) {
  const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  // Blocks of 8 rows, each across all panels, with the next block prefetched (a prefetch past the matrix is
  // harmless: it never faults). Panel by panel, the reads were ld apart, too few to a page for the hardware
  // prefetcher, and the source often comes from DRAM: packing B took 10% of a 512^3 product, now 3%.
  for (int64_t p0 = 0; p0 < k; p0 += 8) {
    const int64_t p1 = p0 + 8 < k ? p0 + 8 : k;
    for (int64_t i = 0; i < count; i += width) {
      const int64_t w = count - i < width ? count - i : width;
      const float* s = src + i;
      float* o = out + i * k;
      const __m256i tail = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(w % 8)), lanes);
      for (int64_t p = p0; p < p1; ++p) {
        _mm_prefetch(reinterpret_cast<const char*>(s + (p + 8) * ld), _MM_HINT_T0);
        for (int64_t r = 0; r < w; r += 8) {
          if (w - r >= 8) {
            _mm256_storeu_ps(o + p * width + r, _mm256_loadu_ps(s + p * ld + r));
            continue;
          }
          // A short last vector is loaded masked (never past the matrix) and stored whole (see above), except
          // in the last row, where the extra lanes would land in the next panel's first row, written already.
          const __m256 v = _mm256_maskload_ps(s + p * ld + r, tail);
          if (p < k - 1) {
            _mm256_storeu_ps(o + p * width + r, v);
          } else {
            _mm256_maskstore_ps(o + p * width + r, tail, v);
          }
        }
      }
    }
  }
}

}  // namespace normnet::gemm_detail
