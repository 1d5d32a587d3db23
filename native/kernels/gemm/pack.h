// Packing of GEMM operands into micro-panels (layout in microkernel.h).
//   pack_transposed: panel element (p, r) = src[(panel row r) * ld + p]   -- A not transposed, or B transposed
//   pack_copied:     panel element (p, r) = src[p * ld + (panel col r)]   -- A transposed, or B not transposed
// `count` rows (or columns) of length k are cut into panels of `width`; panel i starts at out + i*width*k.
// Entries of the last panel past `count` are left undefined: kernels never read them.
// The output buffer needs kPackSlack floats beyond the panels (the vector versions store whole vectors).
#pragma once

#include <cstdint>

namespace normnet::gemm_detail {

constexpr int64_t kPackSlack = 16;

using PackFn = void (*)(const float* src, int64_t ld, int64_t count, int64_t k, int width, float* out);

// Portable.
void pack_transposed(const float* src, int64_t ld, int64_t count, int64_t k, int width, float* out);
void pack_copied(const float* src, int64_t ld, int64_t count, int64_t k, int width, float* out);
#if defined(__x86_64__)
// AVX2 (pack_avx2.cc); width <= 32.
void pack_transposed_avx2(const float* src, int64_t ld, int64_t count, int64_t k, int width, float* out);
void pack_copied_avx2(const float* src, int64_t ld, int64_t count, int64_t k, int width, float* out);
#elif defined(__aarch64__)
// NEON (pack_neon.cc); width a multiple of 4.
void pack_transposed_neon(const float* src, int64_t ld, int64_t count, int64_t k, int width, float* out);
#endif

}  // namespace normnet::gemm_detail
