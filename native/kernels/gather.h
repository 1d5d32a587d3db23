// gatherScale: out (N, D) float32 = rows of x (uint8 or float32) picked by `rows`, times scale; the TS twin and
// the rule for the rounding are in src/kernels/ts/gather.ts.
#pragma once

#include <cstdint>

namespace normnet {

void gather_scale(float* out, const uint8_t* x, const int32_t* rows, int64_t N, int64_t D, double scale);
void gather_scale(float* out, const float* x, const int32_t* rows, int64_t N, int64_t D, double scale);

}  // namespace normnet
