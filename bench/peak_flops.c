/* Peak-FLOPs probe: one core's float32 FMA throughput, the ceiling GEMM is measured against.
 * Runs 12 independent chains of vector FMAs (enough to hide FMA latency on two pipes) with the widest vectors
 * the CPU has, and prints GFLOP/s and the vector width used. Built only for the benchmark. */
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

#define ITERS 30000000L

/* Twelve accumulators written out: the compiler keeps them in registers and, without -ffast-math, may not
 * merge or reorder the chains. */
#define PROBE(name, attr, vec, set1, fma, add, lanes)                                     \
  __attribute__((target(attr))) static double name(void) {                               \
    vec a0 = set1(1.00f), a1 = set1(1.01f), a2 = set1(1.02f), a3 = set1(1.03f);           \
    vec a4 = set1(1.04f), a5 = set1(1.05f), a6 = set1(1.06f), a7 = set1(1.07f);           \
    vec a8 = set1(1.08f), a9 = set1(1.09f), a10 = set1(1.10f), a11 = set1(1.11f);         \
    const vec m = set1(0.9999999f), c = set1(1e-7f);                                      \
    double t0 = now();                                                                    \
    for (long i = 0; i < ITERS; i++) {                                                    \
      a0 = fma(a0, m, c); a1 = fma(a1, m, c); a2 = fma(a2, m, c); a3 = fma(a3, m, c);     \
      a4 = fma(a4, m, c); a5 = fma(a5, m, c); a6 = fma(a6, m, c); a7 = fma(a7, m, c);     \
      a8 = fma(a8, m, c); a9 = fma(a9, m, c); a10 = fma(a10, m, c); a11 = fma(a11, m, c); \
    }                                                                                     \
    double seconds = now() - t0;                                                          \
    vec sum = add(add(add(a0, a1), add(a2, a3)), add(add(a4, a5), add(a6, a7)));          \
    sum = add(sum, add(add(a8, a9), add(a10, a11)));                                      \
    float out[lanes];                                                                     \
    __builtin_memcpy(out, &sum, sizeof out);                                              \
    if (out[0] == 12345.0f) printf("!");                                                  \
    return 2.0 * lanes * 12 * ITERS / seconds / 1e9;                                      \
  }

PROBE(probe_avx512, "avx512f", __m512, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps, 16)
PROBE(probe_avx2, "avx2,fma", __m256, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_add_ps, 8)

/* The best of several runs: a peak is what the core does when nothing else runs on it. */
static double best_of(double (*probe)(void), int runs) {
  double best = 0;
  for (int run = 0; run < runs; run++) {
    double gflops = probe();
    if (gflops > best) best = gflops;
  }
  return best;
}

/* peak_flops [RUNS]: RUNS runs (default 7, the machine's peak); 1 gives the core's throughput right now, which a
 * benchmark pairs with its own samples. */
int main(int argc, char** argv) {
  const int runs = argc > 1 && atoi(argv[1]) > 0 ? atoi(argv[1]) : 7;
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) {
    printf("%.1f avx512\n", best_of(probe_avx512, runs));
  } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    printf("%.1f avx2\n", best_of(probe_avx2, runs));
  } else {
    printf("0 none\n");
  }
  return 0;
}
