/*===- run_model.c - run a .kiln artifact on a device, for benchmarks ------===
 *
 * Links libkiln_runtime only, so it runs where no LLVM is installed (a GPU
 * machine). Every f32 input i gets element j = sin(0.001 j + i); the model
 * runs `warmup` + `runs` times; prints {"min_ms", "median_ms"} of the runs
 * (each kiln_session_run: inputs copied in, outputs copied out) and writes
 * each output as raw bytes to OUTDIR/<name>.bin.
 *
 *   run_model MODEL.kiln DEVICE RUNS OUTDIR
 *===----------------------------------------------------------------------===*/
#include "kiln/runtime.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static size_t count(const kiln_tensor *t) {
  size_t n = 1;
  for (int32_t d = 0; d < t->rank; ++d)
    n *= (size_t)t->shape[d];
  return n;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: %s MODEL.kiln DEVICE RUNS OUTDIR\n", argv[0]);
    return 2;
  }
  int runs = atoi(argv[3]), warmup = 3;
  kiln_model *model;
  kiln_session *session;
  if (kiln_model_open(argv[1], &model) != KILN_OK ||
      kiln_session_create(model, argv[2], &session) != KILN_OK) {
    fprintf(stderr, "run_model: %s\n", kiln_last_error());
    return 1;
  }
  size_t nin = kiln_model_num_inputs(model), nout = kiln_model_num_outputs(model);
  kiln_tensor *in = calloc(nin, sizeof(kiln_tensor)), *out = calloc(nout, sizeof(kiln_tensor));
  for (size_t i = 0; i < nin; ++i) {
    kiln_model_input(model, i, &in[i]);
    if (in[i].dtype != KILN_F32) {
      fprintf(stderr, "run_model: input %zu is not f32\n", i);
      return 1;
    }
    float *data = malloc(count(&in[i]) * sizeof(float));
    for (size_t j = 0; j < count(&in[i]); ++j)
      data[j] = (float)sin(0.001 * (double)j + (double)i);
    in[i].data = data;
  }
  for (size_t i = 0; i < nout; ++i) {
    kiln_model_output(model, i, &out[i]);
    out[i].data = malloc(count(&out[i]) * kiln_dtype_size(out[i].dtype));
  }
  double *times = calloc((size_t)runs, sizeof(double));
  for (int r = 0; r < warmup + runs; ++r) {
    double start = now_ms();
    if (kiln_session_run(session, in, nin, out, nout) != KILN_OK) {
      fprintf(stderr, "run_model: %s\n", kiln_last_error());
      return 1;
    }
    if (r >= warmup)
      times[r - warmup] = now_ms() - start;
  }
  qsort(times, (size_t)runs, sizeof(double), by_value);
  printf("{\"min_ms\": %.4f, \"median_ms\": %.4f}\n", times[0], times[runs / 2]);
  for (size_t i = 0; i < nout; ++i) {
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s.bin", argv[4], out[i].name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(out[i].data, kiln_dtype_size(out[i].dtype), count(&out[i]), f) != count(&out[i])) {
      fprintf(stderr, "run_model: cannot write %s\n", path);
      return 1;
    }
    fclose(f);
  }
  kiln_session_destroy(session);
  kiln_model_close(model);
  return 0;
}
