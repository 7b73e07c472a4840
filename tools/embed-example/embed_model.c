/*===- embed_model.c - how an application embeds a compiled model ---------===
 *
 * A plain C program linked against libkiln_runtime only: it opens a .kiln
 * artifact, lists the model's inputs and outputs, fills every input with a
 * deterministic pattern (element j = (j % 7) * 0.25 - 0.5, f32 inputs),
 * runs one session on the CPU and prints every output.
 *
 *   kiln compile model.onnx -o model.kiln
 *   cc embed_model.c -I<kiln>/include -L<kiln>/build/lib -lkiln_runtime
 *   ./a.out model.kiln
 *
 * Every call returns KILN_OK or an error code; kiln_last_error() says why.
 *===----------------------------------------------------------------------===*/
#include "kiln/runtime.h"

#include <stdio.h>
#include <stdlib.h>

static size_t element_count(const kiln_tensor *t) {
  size_t n = 1;
  for (int32_t d = 0; d < t->rank; ++d)
    n *= (size_t)t->shape[d];
  return n;
}

static void print_shape(const kiln_tensor *t) {
  printf("[");
  for (int32_t d = 0; d < t->rank; ++d)
    printf(d ? ", %lld" : "%lld", (long long)t->shape[d]);
  printf("]");
}

static int fail(const char *what) {
  fprintf(stderr, "embed_model: %s: %s\n", what, kiln_last_error());
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s MODEL.kiln\n", argv[0]);
    return 2;
  }
  kiln_model *model = NULL;
  if (kiln_model_open(argv[1], &model) != KILN_OK)
    return fail("cannot open the model");

  size_t nin = kiln_model_num_inputs(model), nout = kiln_model_num_outputs(model);
  kiln_tensor *inputs = calloc(nin, sizeof(kiln_tensor));
  kiln_tensor *outputs = calloc(nout, sizeof(kiln_tensor));
  int status = 0;
  for (size_t i = 0; i < nin; ++i) {
    kiln_model_input(model, i, &inputs[i]); /* name, dtype, shape */
    if (inputs[i].dtype != KILN_F32) {
      fprintf(stderr, "embed_model: this example fills f32 inputs only\n");
      status = 1;
      goto done;
    }
    size_t n = element_count(&inputs[i]);
    float *data = malloc(n * sizeof(float) + 1);
    for (size_t j = 0; j < n; ++j)
      data[j] = (float)(j % 7) * 0.25f - 0.5f;
    inputs[i].data = data;
    printf("input %s ", inputs[i].name);
    print_shape(&inputs[i]);
    printf("\n");
  }
  for (size_t i = 0; i < nout; ++i) {
    kiln_model_output(model, i, &outputs[i]);
    outputs[i].data = malloc(element_count(&outputs[i]) * kiln_dtype_size(outputs[i].dtype) + 1);
  }

  kiln_session *session = NULL;
  if (kiln_session_create(model, "cpu", &session) != KILN_OK) {
    status = fail("cannot create a session");
    goto done;
  }
  if (kiln_session_run(session, inputs, nin, outputs, nout) != KILN_OK)
    status = fail("the run failed");
  kiln_session_destroy(session);

  for (size_t i = 0; i < nout && status == 0; ++i) {
    printf("output %s ", outputs[i].name);
    print_shape(&outputs[i]);
    printf("\n");
    if (outputs[i].dtype == KILN_F32) {
      const float *y = outputs[i].data;
      for (size_t j = 0, n = element_count(&outputs[i]); j < n; ++j)
        printf(j ? " %.6f" : "%.6f", y[j]);
      printf("\n");
    }
  }

done:
  for (size_t i = 0; i < nin; ++i)
    free(inputs[i].data);
  for (size_t i = 0; i < nout; ++i)
    free(outputs[i].data);
  free(inputs);
  free(outputs);
  kiln_model_close(model);
  return status;
}
