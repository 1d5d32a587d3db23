// gatherScale: out (N, D) float32 = rows of x (uint8 or float32) picked by `rows`, times scale; the TS twin and
// the rule for the rounding are in src/kernels/ts/gather.ts.
#pragma once

#include <cstdint>

namespace normnet {

void gather_scale(float* out, const uint8_t* x, const int32_t* rows, int64_t N, int64_t D, double scale);
void gather_scale(float* out, const float* x, const int32_t* rows, int64_t N, int64_t D, double scale);

// prefetchRows: asks the caches for the rows of x (each row_bytes long) that `rows` picks, and returns without
// waiting for them: a hint, with no effect on any value.
void prefetch_rows(const void* x, int64_t row_bytes, const int32_t* rows, int64_t N);

// The vector paths for uint8 samples, gather_avx2.cc (AVX2 + FMA) and gather_neon.cc; gather_scale dispatches to
// them.
namespace gather_detail {

// Splits scale into floats hi + lo; true if fma(v, hi, v * lo) is float(double(v) * scale), bit for bit, for
// every byte v. Defined by the architecture's vector file.
bool split_scale_exactly(double scale, float* hi, float* lo);
#if defined(__x86_64__)
void gather_bytes_avx2(float* out, const uint8_t* x, const int32_t* rows, int64_t N, int64_t D, float hi, float lo);
#elif defined(__aarch64__)
void gather_bytes_neon(float* out, const uint8_t* x, const int32_t* rows, int64_t N, int64_t D, float hi, float lo);
#endif

}  // namespace gather_detail

}  // namespace normnet
