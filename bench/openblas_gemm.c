/* The OpenBLAS peer of `npm run bench:gemm` (built only for the benchmark, linked against Debian's libopenblas).
 * Usage: openblas_gemm TRANSA TRANSB M N K SAMPLES CALLS  (TRANS is N or T)
 * Prints the seconds per call of CALLS back-to-back calls of cblas_sgemm (row-major, alpha 1, beta 0), one
 * figure a sample, in the order taken, after warm-up.
 * Threads and kernels come from OPENBLAS_NUM_THREADS and OPENBLAS_CORETYPE. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char** argv) {
  if (argc != 8) {
    fprintf(stderr, "usage: %s TRANSA TRANSB M N K SAMPLES CALLS\n", argv[0]);
    return 2;
  }
  int ta = argv[1][0] == 'T', tb = argv[2][0] == 'T';
  int M = atoi(argv[3]), N = atoi(argv[4]), K = atoi(argv[5]), reps = atoi(argv[6]), calls = atoi(argv[7]);
  float* A = malloc(sizeof(float) * M * K);
  float* B = malloc(sizeof(float) * K * N);
  float* C = malloc(sizeof(float) * M * N);
  for (long i = 0; i < (long)M * K; i++) A[i] = (float)((i * 7919) % 1000) / 1000.0f - 0.5f;
  for (long i = 0; i < (long)K * N; i++) B[i] = (float)((i * 104729) % 1000) / 1000.0f - 0.5f;
  double* times = malloc(sizeof(double) * reps);
  for (int r = -2; r < reps; r++) {
    double t0 = now();
    for (int c = 0; c < calls; c++) {
      cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K, 1.0f, A,
                  ta ? M : K, B, tb ? K : N, 0.0f, C, N);
    }
    if (r >= 0) times[r] = (now() - t0) / calls;
  }
  for (int r = 0; r < reps; r++) printf(r + 1 < reps ? "%.9f " : "%.9f\n", times[r]);
  free(A);
  free(B);
  free(C);
  free(times);
  return 0;
}
