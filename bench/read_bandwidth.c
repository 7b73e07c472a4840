/* read_bandwidth.c - the machine's measured memory read rate (GB/s): what
 * a decode step's weight reads are held against.
 *
 * Each thread sums its share of a buffer far larger than the caches (default
 * 1 GiB, touched first) with 8 independent vector accumulators; the best of
 * several passes counts. Prints one JSON line per thread count tried.
 *   cc -O3 -march=native -pthread read_bandwidth.c -o read_bandwidth
 *   ./read_bandwidth [threads] [MiB]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef float v8 __attribute__((vector_size(32)));

struct job {
  const v8 *data;
  size_t count; /* vectors */
  float sum;
};

static void *reader(void *arg) {
  struct job *j = arg;
  v8 acc[8] = {{0}};
  size_t i = 0;
  for (; i + 8 <= j->count; i += 8)
    for (int k = 0; k < 8; ++k)
      acc[k] += j->data[i + k];
  float s = 0;
  for (int k = 0; k < 8; ++k)
    for (int l = 0; l < 8; ++l)
      s += acc[k][l];
  j->sum = s;
  return NULL;
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static double measure(const v8 *data, size_t vectors, int threads) {
  pthread_t tid[256];
  struct job jobs[256];
  double best = 0;
  for (int pass = 0; pass < 7; ++pass) {
    double t0 = now();
    for (int t = 0; t < threads; ++t) {
      size_t from = vectors * t / threads, to = vectors * (t + 1) / threads;
      jobs[t] = (struct job){data + from, to - from, 0};
      pthread_create(&tid[t], NULL, reader, &jobs[t]);
    }
    float sink = 0;
    for (int t = 0; t < threads; ++t) {
      pthread_join(tid[t], NULL);
      sink += jobs[t].sum;
    }
    double s = now() - t0;
    double gbs = vectors * sizeof(v8) / s / 1e9;
    if (gbs > best && sink == sink) /* sink keeps the sums alive */
      best = gbs;
  }
  return best;
}

int main(int argc, char **argv) {
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  int maxThreads = argc > 1 ? atoi(argv[1]) : (int)cpus;
  size_t mib = argc > 2 ? (size_t)atol(argv[2]) : 1024;
  if (maxThreads < 1 || maxThreads > 256 || mib < 64) {
    fprintf(stderr, "usage: read_bandwidth [threads 1-256] [MiB >= 64]\n");
    return 1;
  }
  size_t bytes = mib << 20, vectors = bytes / sizeof(v8);
  v8 *data = aligned_alloc(64, bytes);
  if (!data) {
    fprintf(stderr, "read_bandwidth: cannot allocate %zu MiB\n", mib);
    return 1;
  }
  memset(data, 0, bytes);
  for (int t = 1; t <= maxThreads; t = t < maxThreads && t * 2 > maxThreads ? maxThreads : t * 2)
    printf("{\"threads\": %d, \"read_gb_s\": %.2f, \"buffer_mib\": %zu}\n", t,
           measure(data, vectors, t), mib);
  free(data);
  return 0;
}
