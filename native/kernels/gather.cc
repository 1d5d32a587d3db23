// gatherScale, native twin of src/kernels/ts/gather.ts: the product in double, rounded to float32 once, so the
// values are the TS kernel's bit for bit. The loops are plain enough for GCC to vectorize the widening.
#include "kernels/gather.h"

#include <algorithm>

namespace normnet {

namespace {

template <class T>
void gather(float* __restrict out, const T* __restrict x, const int32_t* rows, int64_t N, int64_t D, double scale) {
  for (int64_t n = 0; n < N; ++n) {
    const T* from = x + static_cast<int64_t>(rows[n]) * D;
    float* to = out + n * D;
    if (scale == 1.0) {
      std::copy(from, from + D, to);
    } else {
      for (int64_t d = 0; d < D; ++d) to[d] = static_cast<float>(static_cast<double>(from[d]) * scale);
    }
  }
}

}  // namespace

void gather_scale(float* out, const uint8_t* x, const int32_t* rows, int64_t N, int64_t D, double scale) {
  gather(out, x, rows, N, D, scale);
}

void gather_scale(float* out, const float* x, const int32_t* rows, int64_t N, int64_t D, double scale) {
  gather(out, x, rows, N, D, scale);
}

}  // namespace normnet
