// gatherScale, native twin of src/kernels/ts/gather.ts: the product in double, rounded to float32 once, so the
// values are the TS kernel's bit for bit. The loops are plain enough for GCC to vectorize the widening; on AVX2
// and NEON, uint8 samples take gather_avx2.cc's / gather_neon.cc's float form wherever it gives the same bits (on
// AVX2 the double one bounded the MNIST batch, 26 us of 100 x 784 pixels, more than its rows' trips to memory).
// Rows are picked at random from a dataset far larger than the caches: the next row is prefetched whole while
// this one converts.
#include "kernels/gather.h"

#include "runtime/cpu.h"

#include <algorithm>

namespace normnet {

namespace {

template <class T>
void gather(float* __restrict out, const T* __restrict x, const int32_t* rows, int64_t N, int64_t D, double scale) {
  for (int64_t n = 0; n < N; ++n) {
    if (n + 1 < N) {
      const char* next = reinterpret_cast<const char*>(x + static_cast<int64_t>(rows[n + 1]) * D);
      for (int64_t b = 0; b < D * static_cast<int64_t>(sizeof(T)); b += 64) __builtin_prefetch(next + b);
    }
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
#if defined(__x86_64__)
  float hi, lo;
  if (scale != 1.0 && active_isa() >= Isa::avx2 && gather_detail::split_scale_exactly(scale, &hi, &lo)) {
    gather_detail::gather_bytes_avx2(out, x, rows, N, D, hi, lo);
    return;
  }
#elif defined(__aarch64__)
  float hi, lo;
  if (scale != 1.0 && active_isa() == Isa::neon && gather_detail::split_scale_exactly(scale, &hi, &lo)) {
    gather_detail::gather_bytes_neon(out, x, rows, N, D, hi, lo);
    return;
  }
#endif
  gather(out, x, rows, N, D, scale);
}

void gather_scale(float* out, const float* x, const int32_t* rows, int64_t N, int64_t D, double scale) {
  gather(out, x, rows, N, D, scale);
}

// Locality 2 (prefetcht1 on x86-64, PRFM PLDL2KEEP on AArch64): the rows are read a training step later, after
// the step's GEMMs have cycled their operands through L1, so L2 is where they should wait (AMD fills L1 on every
// prefetch hint too; the GEMMs then push them down to L2 and L3, still far nearer than memory). Every line a row
// touches, its last included (rows need not start on a line). At most kPrefetchBytes of rows: a batch of big
// samples (64 images of 1024 x 1024 float32 are 256 MB) would only evict the step's own operands for data no
// cache can hold.
constexpr int64_t kPrefetchBytes = int64_t{2} << 20;

void prefetch_rows(const void* x, int64_t row_bytes, const int32_t* rows, int64_t N) {
  for (int64_t n = 0; n < N && row_bytes > 0 && (n + 1) * row_bytes <= kPrefetchBytes; ++n) {
    const char* row = static_cast<const char*>(x) + static_cast<int64_t>(rows[n]) * row_bytes;
    for (int64_t b = 0; b < row_bytes; b += 64) __builtin_prefetch(row + b, 0, 2);
    __builtin_prefetch(row + row_bytes - 1, 0, 2);
  }
}

}  // namespace normnet
