// CPU detection and the active instruction-set path.
// Kernels with several implementations (see kernels/gemm/microkernel.h) dispatch on active_isa() at each call,
// so set_isa() takes effect at once; it never selects a path the CPU or the OS cannot run.
#pragma once

namespace normnet {

enum class Isa { generic = 0, avx2 = 1, avx512 = 2 };

// Best path that the CPU and the OS (saved register state) support. Computed once.
Isa detected_isa();
// The path kernels use now; initially detected_isa().
Isa active_isa();
// Selects a path; returns false, changing nothing, if isa > detected_isa().
bool set_isa(Isa isa);
// "generic" | "avx2" | "avx512".
const char* isa_name(Isa isa);
// Accepts exactly the names isa_name returns.
bool parse_isa(const char* name, Isa* out);

}  // namespace normnet
