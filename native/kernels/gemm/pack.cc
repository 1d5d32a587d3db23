// Packing of GEMM operands into micro-panels; see pack.h.
#include "kernels/gemm/pack.h"

#include <algorithm>

namespace normnet::gemm_detail {

void pack_transposed(const float* src, int64_t ld, int64_t count, int64_t k, int width, float* out) {
  for (int64_t i = 0; i < count; i += width, out += width * k) {
    const int64_t w = std::min<int64_t>(width, count - i);
    const float* s = src + i * ld;
    // Column p of the panel reads w rows in step: each row is streamed in order.
    for (int64_t p = 0; p < k; ++p) {
      for (int64_t r = 0; r < w; ++r) out[p * width + r] = s[r * ld + p];
    }
  }
}

void pack_copied(const float* src, int64_t ld, int64_t count, int64_t k, int width, float* out) {
  for (int64_t i = 0; i < count; i += width, out += width * k) {
    const int64_t w = std::min<int64_t>(width, count - i);
    for (int64_t p = 0; p < k; ++p) std::copy(src + p * ld + i, src + p * ld + i + w, out + p * width);
  }
}

}  // namespace normnet::gemm_detail
