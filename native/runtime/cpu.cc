// CPU detection. x86-64: CPUID feature bits for the instructions, XCR0 (xgetbv) for the OS saving the registers.
// AArch64: nothing to ask, Advanced SIMD (NEON) is part of ARMv8-A. Other architectures: the generic path only.
#include "runtime/cpu.h"

#include <atomic>
#include <cstdint>
#include <cstring>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace normnet {

namespace {

#if defined(__x86_64__)

// The paths of this build, best first.
constexpr Isa kPaths[] = {Isa::avx512, Isa::avx2, Isa::generic};

// xgetbv via inline asm: this file is compiled for the x86-64 baseline, without -mxsave.
uint64_t read_xcr0() {
  uint32_t lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

Isa detect() {
  unsigned eax, ebx, ecx, edx;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return Isa::generic;
  const bool osxsave = ecx & (1u << 27);
  const bool avx = ecx & (1u << 28);
  const bool fma = ecx & (1u << 12);
  if (!osxsave || !avx) return Isa::generic;
  const uint64_t xcr0 = read_xcr0();
  const bool ymm_state = (xcr0 & 0x6) == 0x6;             // SSE and AVX state
  const bool zmm_state = (xcr0 & 0xe6) == 0xe6;           // plus opmask, ZMM_Hi256, Hi16_ZMM
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return Isa::generic;
  const bool avx2 = ebx & (1u << 5);
  const bool avx512 = (ebx & (1u << 16)) && (ebx & (1u << 17)) &&  // F, DQ
                      (ebx & (1u << 30)) && (ebx & (1u << 31));    // BW, VL
  if (avx512 && avx2 && fma && zmm_state) return Isa::avx512;
  if (avx2 && fma && ymm_state) return Isa::avx2;
  return Isa::generic;
}

#elif defined(__aarch64__)

constexpr Isa kPaths[] = {Isa::neon, Isa::generic};

Isa detect() { return Isa::neon; }

#else

constexpr Isa kPaths[] = {Isa::generic};

Isa detect() { return Isa::generic; }

#endif

std::atomic<int>& active() {
  static std::atomic<int> isa{static_cast<int>(detected_isa())};
  return isa;
}

}  // namespace

Isa detected_isa() {
  static const Isa isa = detect();
  return isa;
}

Isa active_isa() { return static_cast<Isa>(active().load(std::memory_order_relaxed)); }

bool set_isa(Isa isa) {
  const Isa best = detected_isa();
  if (isa != Isa::generic && isa != best && !(isa == Isa::avx2 && best == Isa::avx512)) return false;
  active().store(static_cast<int>(isa), std::memory_order_relaxed);
  return true;
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::avx512: return "avx512";
    case Isa::avx2: return "avx2";
    case Isa::neon: return "neon";
    default: return "generic";
  }
}

bool parse_isa(const char* name, Isa* out) {
  for (Isa isa : kPaths) {
    if (std::strcmp(name, isa_name(isa)) == 0) {
      *out = isa;
      return true;
    }
  }
  return false;
}

const char* isa_choices() {
#if defined(__x86_64__)
  return "'avx512', 'avx2' or 'generic'";
#elif defined(__aarch64__)
  return "'neon' or 'generic'";
#else
  return "'generic'";
#endif
}

}  // namespace normnet
