// Packing of GEMM operands into micro-panels (layout in microkernel.h).
//   pack_transposed: panel element (p, r) = src[(panel row r) * ld + p]   -- A not transposed, or B transposed
//   pack_copied:     panel element (p, r) = src[p * ld + (panel col r)]   -- A transposed, or B not transposed
// `count` rows (or columns) of length k are cut into panels of `width`; panel i starts at out + i*width*k.
// The last panel keeps the stride `width` but only its valid entries are written: kernels never read the rest.
#pragma once

#include <cstdint>

namespace normnet::gemm_detail {

void pack_transposed(const float* src, int64_t ld, int64_t count, int64_t k, int width, float* out);
void pack_copied(const float* src, int64_t ld, int64_t count, int64_t k, int width, float* out);

}  // namespace normnet::gemm_detail
