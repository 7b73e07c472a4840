/* matmul_openblas.c - OpenBLAS sgemm C = A x B (row-major, square) GFLOP/s.
 *
 * The peer for bench/matmul.py. Threads: OPENBLAS_NUM_THREADS (the script
 * sets it to match KILN_NUM_THREADS). Prints one JSON line.
 *   cc -O2 matmul_openblas.c -lopenblas -o matmul_openblas && ./matmul_openblas 1024 10
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 1024, iters = argc > 2 ? atoi(argv[2]) : 10;
  if (n <= 0 || iters <= 0 || iters > 1000) {
    fprintf(stderr, "usage: matmul_openblas N ITERATIONS\n");
    return 1;
  }
  float *a = malloc(sizeof(float) * n * n), *b = malloc(sizeof(float) * n * n),
        *c = malloc(sizeof(float) * n * n);
  for (long i = 0; i < (long)n * n; ++i) {
    a[i] = (float)(i % 7) * 0.1f;
    b[i] = (float)(i % 5) * 0.1f;
  }
  double times[1000];
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
  for (int i = 0; i < iters; ++i) {
    double s = now();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
    times[i] = now() - s;
  }
  qsort(times, iters, sizeof(double), cmp);
  double median = times[iters / 2];
  printf("{\"n\": %d, \"median_ms\": %.3f, \"gflops\": %.1f}\n", n, median * 1e3,
         2.0 * n * n * (double)n / median / 1e9);
  free(a); free(b); free(c);
  return 0;
}
