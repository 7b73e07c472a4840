/*===- kiln/runtime.h - the Kiln runtime C API ------------------------------===
 *
 * Load a compiled model (.kiln), create a session on a device, run it.
 * Every function returns KILN_OK or an error code; kiln_last_error() then
 * describes the failure (thread-local, valid until the next call).
 *
 *   kiln_model *m;  kiln_session *s;
 *   if (kiln_model_open("model.kiln", &m) != KILN_OK) puts(kiln_last_error());
 *   kiln_session_create(m, "cpu", &s);
 *   kiln_tensor in = {"x", KILN_F32, 2, shape, data};  kiln_tensor out = {...};
 *   kiln_session_run(s, &in, 1, &out, 1);
 *
 * Threads: a kiln_model is shareable: any number of threads may create
 * sessions from one model at once (they share its weights and kernels). A
 * kiln_session is not: it owns the arena its runs write. Use one session
 * per thread (or serialize runs yourself); a kiln_session_run on a session
 * another thread is running returns KILN_ERROR_BUSY at once and touches
 * nothing. Destroy a session only when no run on it is in progress.
 *
 * Depends on libc, libdl and pthreads only.
 *===----------------------------------------------------------------------===*/

#ifndef KILN_RUNTIME_H
#define KILN_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum kiln_status {
  KILN_OK = 0,
  KILN_ERROR_IO = 1,          /* cannot read the artifact */
  KILN_ERROR_BAD_ARTIFACT = 2,/* corrupt, truncated or wrong version */
  KILN_ERROR_DEVICE = 3,      /* no such device, or it cannot load the kernels */
  KILN_ERROR_BAD_ARGUMENT = 4,/* wrong input count, name, dtype or shape */
  KILN_ERROR_BUSY = 5         /* the session is running on another thread */
} kiln_status;

/* Element types (same order as the artifact manifest); kiln_dtype_size
 * gives the bytes of one element (a pointer for KILN_STRING). */
typedef enum kiln_dtype {
  KILN_F32, KILN_F16, KILN_BF16, KILN_F64, KILN_I8, KILN_I16, KILN_I32, KILN_I64,
  KILN_U8, KILN_U16, KILN_U32, KILN_U64, KILN_BOOL,
  /* UTF-8 strings: `data` is an array of `const char *` (NUL-terminated),
   * one per element. For an output the caller provides the array and the
   * run fills it with strings the session owns, valid until the session's
   * next run or its destruction. */
  KILN_STRING
} kiln_dtype;

typedef struct kiln_tensor {
  const char *name;      /* may be NULL to bind by position */
  kiln_dtype dtype;
  int32_t rank;
  const int64_t *shape;
  void *data;            /* dense, row-major */
} kiln_tensor;

typedef struct kiln_model kiln_model;
typedef struct kiln_session kiln_session;

const char *kiln_last_error(void);
size_t kiln_dtype_size(kiln_dtype dtype);
/* The element type's name as error messages and `kiln inspect` spell it:
 * "f32", "bf16", "u16", "bool", "string", ...; "unknown" for a value that
 * is no kiln_dtype. */
const char *kiln_dtype_name(kiln_dtype dtype);

kiln_status kiln_model_open(const char *path, kiln_model **model);
void kiln_model_close(kiln_model *model);
size_t kiln_model_num_inputs(const kiln_model *model);
size_t kiln_model_num_outputs(const kiln_model *model);
/* 2 x multiply-adds of one run (matmuls, convolutions); 0 when unknown. */
uint64_t kiln_model_flops(const kiln_model *model);
/* Describes input/output `index`; the returned pointers live as long as the model. */
kiln_status kiln_model_input(const kiln_model *model, size_t index, kiln_tensor *info);
kiln_status kiln_model_output(const kiln_model *model, size_t index, kiln_tensor *info);
/* The name of dim `dim` of input `index` when the model leaves it dynamic
 * and names it (ONNX dim_param: "batch", "seq"); "" otherwise (or for an
 * index out of range). */
const char *kiln_model_input_dim_name(const kiln_model *model, size_t index, size_t dim);

/* device: "cpu" (threads: KILN_NUM_THREADS, default = the CPUs this process may use) or "cuda"
 * (GPU 0 through the CUDA driver, loaded here with dlopen; the artifact must
 * hold kernels compiled with --target=cuda:sm_XX). */
kiln_status kiln_session_create(kiln_model *model, const char *device, kiln_session **session);
void kiln_session_destroy(kiln_session *session);
/* Inputs by name (or position when name is NULL); outputs must have the
 * model's dtypes and shapes and point at caller-owned memory. A model
 * compiled with dynamic dims (kiln_model_input/output report them as -1)
 * takes any size there: inputs sharing a named dim (ONNX dim_param) must
 * agree on it, and the outputs' shapes follow from the inputs'
 * (kiln_session_output_shapes). */
kiln_status kiln_session_run(kiln_session *session, const kiln_tensor *inputs,
                             size_t num_inputs, kiln_tensor *outputs, size_t num_outputs);
/* The output shapes `inputs` give (their data is not read): fills each
 * outputs[i]'s name, dtype, rank and shape; the shapes point into the
 * session, valid until its next call. For a model with static shapes they
 * are the declared ones. */
kiln_status kiln_session_output_shapes(kiln_session *session, const kiln_tensor *inputs,
                                       size_t num_inputs, kiln_tensor *outputs,
                                       size_t num_outputs);
/* After a kiln_session_run: the shape output `index` got (its rank is the
 * model's). It differs from kiln_session_output_shapes' only where the
 * data decides a size (a NonZero count): there that call gives the bound
 * the caller's buffer must hold, and the run writes this shape's elements,
 * dense, at the buffer's start. Points into the session, valid until its
 * next call. */
kiln_status kiln_session_last_output_shape(kiln_session *session, size_t index,
                                           const int64_t **shape);

/* Session state: a model compiled with --max-context N keeps its KV caches
 * (outputs Concat(past input, new)) in each session instead of taking them
 * as inputs and returning them. Those inputs and outputs are not the
 * model's (kiln_model_num_inputs/outputs leave them out): a run takes the
 * new tokens only, appends their entries to every cache in place and
 * attends over what the caches hold. Up to N entries; a run past that is
 * refused before it starts. */
size_t kiln_model_num_states(const kiln_model *model);
/* Describes cache `index`: name (the past input's), dtype, rank and shape,
 * with N at the dim entries grow along (-1 where the inputs decide). */
kiln_status kiln_model_state(const kiln_model *model, size_t index, kiln_tensor *info);
/* Entries every cache of the session holds (0 when created). Not while a
 * run of the session is in progress on another thread. */
int64_t kiln_session_state_length(const kiln_session *session);
/* Keeps only the first `length` entries (0: a new prompt; fewer: drop
 * rejected speculative tokens); the next run appends after them. */
kiln_status kiln_session_rewind(kiln_session *session, int64_t length);
/* Copies cache `index`'s entries into out->data; `out` must have its dtype
 * and shape (the cache's, with the length held at the growing dim). Before
 * the session's first run the cache has no shape yet: an error. */
kiln_status kiln_session_read_state(kiln_session *session, size_t index, kiln_tensor *out);

#ifdef __cplusplus
}
#endif

#endif /* KILN_RUNTIME_H */
