// CPU detection and the active instruction-set path.
// Kernels with several implementations (see kernels/gemm/microkernel.h) dispatch on active_isa() at each call,
// so set_isa() takes effect at once; it never selects a path the CPU or the OS cannot run.
// The paths of a build are its architecture's: generic, avx2, avx512 on x86-64; generic, neon on AArch64 (where
// Advanced SIMD is mandatory, so neon is always detected); generic elsewhere.
#pragma once

namespace normnet {

// x86-64 paths are ordered (avx512 runs wherever detected, avx2 too); neon stands apart from them.
enum class Isa { generic = 0, avx2 = 1, avx512 = 2, neon = 3 };

// Best path that the CPU and the OS (saved register state) support. Computed once.
Isa detected_isa();
// The path kernels use now; initially detected_isa().
Isa active_isa();
// Selects a path; returns false, changing nothing, if the CPU cannot run it (it is neither generic nor
// detected_isa() nor, below AVX-512, AVX2).
bool set_isa(Isa isa);
// "generic" | "avx2" | "avx512" | "neon".
const char* isa_name(Isa isa);
// Accepts the names isa_name returns for this build's paths.
bool parse_isa(const char* name, Isa* out);
// This build's path names for messages: "'avx512', 'avx2' or 'generic'" on x86-64.
const char* isa_choices();

}  // namespace normnet
