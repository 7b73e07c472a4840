/* peak_flops.c - the machine's measured f32 FMA peak (GFLOP/s).
 *
 * Each thread runs 12 independent FMA chains on the widest vectors the CPU
 * has (AVX-512, else AVX2+FMA), enough to cover FMA latency x ports on
 * current x86 cores. Prints one JSON line per thread count tried.
 *   cc -O2 -pthread peak_flops.c -o peak_flops && ./peak_flops [threads]
 */
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define CHAINS 12
static long iterations = 50 * 1000 * 1000;

__attribute__((target("avx512f"))) static float fma512(long n) {
  __m512 acc[CHAINS], m = _mm512_set1_ps(0.999999f), a = _mm512_set1_ps(1e-7f);
  for (int i = 0; i < CHAINS; ++i) acc[i] = _mm512_set1_ps((float)i);
  for (long k = 0; k < n; ++k)
    for (int i = 0; i < CHAINS; ++i) acc[i] = _mm512_fmadd_ps(acc[i], m, a);
  float s = 0;
  for (int i = 0; i < CHAINS; ++i) s += _mm512_reduce_add_ps(acc[i]);
  return s;
}

__attribute__((target("avx2,fma"))) static float fma256(long n) {
  __m256 acc[CHAINS], m = _mm256_set1_ps(0.999999f), a = _mm256_set1_ps(1e-7f);
  for (int i = 0; i < CHAINS; ++i) acc[i] = _mm256_set1_ps((float)i);
  for (long k = 0; k < n; ++k)
    for (int i = 0; i < CHAINS; ++i) acc[i] = _mm256_fmadd_ps(acc[i], m, a);
  float t[8], s = 0;
  for (int i = 0; i < CHAINS; ++i) {
    _mm256_storeu_ps(t, acc[i]);
    for (int j = 0; j < 8; ++j) s += t[j];
  }
  return s;
}

static int width; /* floats per vector */
static volatile float sink;

static void *worker(void *arg) {
  (void)arg;
  sink = width == 16 ? fma512(iterations) : fma256(iterations);
  return NULL;
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

int main(int argc, char **argv) {
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  int maxThreads = argc > 1 ? atoi(argv[1]) : (int)cores;
  __builtin_cpu_init();
  width = __builtin_cpu_supports("avx512f") ? 16 : __builtin_cpu_supports("fma") ? 8 : 0;
  if (!width) {
    fprintf(stderr, "peak_flops: this CPU has no FMA vectors\n");
    return 1;
  }
  pthread_t threads[256];
  worker(NULL); /* warm up clocks */
  for (int t = 1; t <= maxThreads && t <= 256; t = t < maxThreads && 2 * t > maxThreads ? maxThreads : 2 * t) {
    double start = now();
    for (int i = 0; i < t; ++i) pthread_create(&threads[i], NULL, worker, NULL);
    for (int i = 0; i < t; ++i) pthread_join(threads[i], NULL);
    double s = now() - start;
    double flops = 2.0 * width * CHAINS * (double)iterations * t;
    printf("{\"threads\": %d, \"vector_floats\": %d, \"gflops\": %.1f}\n", t, width, flops / s / 1e9);
  }
  return 0;
}
