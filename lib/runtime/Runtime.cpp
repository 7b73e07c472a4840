//===- Runtime.cpp - the C API over artifacts and devices -----------------===//
//
// A model is a mapped, verified artifact. A session binds it to a device
// (CpuDevice.cpp) and runs the host steps (HostSteps.cpp: strings), then
// the plan: each dispatch gets its pointer table (inputs, weights inside
// the mapped file, outputs). Inputs are checked against the manifest with
// messages that name the input.
//
//===----------------------------------------------------------------------===//

#include "kiln/runtime.h"
#include "lib/artifact/ArtifactFormat.h"
#include "lib/runtime/Device.h"
#include "lib/runtime/HostSteps.h"
#include "lib/runtime/ThreadPool.h"
#include "lib/support/ArenaPlacement.h"
#include "lib/support/CheckedSize.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

using namespace kiln;
namespace fb = kiln::artifact::fb;

static thread_local std::string lastError;

static kiln_status fail(kiln_status status, std::string message) {
  lastError = std::move(message);
  return status;
}

struct kiln_model {
  std::unique_ptr<artifact::Artifact> artifact;
  std::vector<std::vector<int64_t>> inShapes, outShapes;
  std::vector<std::string> inNames, outNames;
  // Dynamic dims: each dim's dims-vector entry (-1: static) and name.
  std::vector<std::vector<int64_t>> inDims, outDims;
  std::vector<std::vector<std::string>> inDimNames;
  std::vector<std::vector<int64_t>> inMax; // --max-shape bounds (-1: none)
  // What callers see: the manifest's inputs/outputs but for the session
  // caches' (manifest State), in order; indices into the lists above.
  std::vector<size_t> pubIn, pubOut;
};

/// A KV cache the session keeps (manifest State): its buffer, the entries
/// it holds, and the two tensors the plan binds for it.
struct SessionCache {
  const fb::State *state;
  std::vector<int64_t> shape, lengthShape; // the cache's; past's (length at axis)
  void *buffer = nullptr;
  uint64_t bytes = 0;
  int64_t length = 0, newLength = 0;
  kiln_tensor cacheTensor{}, lengthTensor{};
  ~SessionCache() { std::free(buffer); }
};

struct kiln_session {
  kiln_model *model;
  std::vector<std::unique_ptr<runtime::LoadedKernel>> kernels;
  std::vector<runtime::DispatchFn> entries; // one per plan step
  std::unique_ptr<runtime::GpuSession> gpu;  // device "cuda": the GPU kernel's launches
  std::unique_ptr<runtime::ThreadPool> pool;
  std::vector<runtime::WorkEstimate> estimates; // per dispatch of the plan
  void *arena = nullptr;
  uint64_t arenaCapacity = 0;
  // Dynamic dims: the dims vector of the last run, the shape function that
  // completes it, the output shapes and arena offsets it gave.
  void (*shapes)(int64_t *) = nullptr;
  std::vector<int64_t> dims, lastSymbols;
  bool dimsValid = false; // dims, outShapes and slotOffsets are for lastSymbols
  std::vector<std::vector<int64_t>> outShapes;
  std::vector<uint64_t> slotOffsets;
  // Sizes only the data decides (manifest data_dims): the shape function
  // ran first with their bounds, which the slots were placed for
  // (slotBytes); it runs again after each dispatch storing one.
  size_t firstComputed = 0;
  std::vector<uint64_t> slotBytes;
  // Strings the host steps made: intermediate values, and the outputs'
  // (the caller's output arrays point into these until the next run).
  std::vector<runtime::Strings> hostValues, outputStrings;
  // Session state: the caches (manifest order), all holding one length.
  std::vector<std::unique_ptr<SessionCache>> caches;
  // KILN_PROFILE=1: time per dispatch, printed to stderr when destroyed.
  bool profile = false;
  std::vector<double> seconds;
  std::vector<uint64_t> lastWorkgroups; // (profile: the last run's, per dispatch)
  // Set for the length of a run: a second thread's run is refused (BUSY).
  std::atomic<bool> running{false};
  ~kiln_session();
};

extern "C" {

const char *kiln_last_error(void) { return lastError.c_str(); }

// A C caller can pass any int as a kiln_dtype; in C++ even loading an enum
// that holds no enumerator's value is undefined: read its bytes as an int.
static int dtypeValue(const kiln_dtype &t) {
  int v;
  static_assert(sizeof(v) == sizeof(t), "kiln_dtype is an int");
  std::memcpy(&v, &t, sizeof v);
  return v;
}

size_t kiln_dtype_size(kiln_dtype t) {
  switch (dtypeValue(t)) {
  case KILN_F64: case KILN_I64: case KILN_U64: return 8;
  case KILN_F32: case KILN_I32: case KILN_U32: return 4;
  case KILN_F16: case KILN_BF16: case KILN_I16: case KILN_U16: return 2;
  case KILN_I8: case KILN_U8: case KILN_BOOL: return 1;
  case KILN_STRING: return sizeof(const char *);
  }
  return 0;
}

const char *kiln_dtype_name(kiln_dtype t) {
  switch (dtypeValue(t)) {
  case KILN_F32: return "f32";
  case KILN_F16: return "f16";
  case KILN_BF16: return "bf16";
  case KILN_F64: return "f64";
  case KILN_I8: return "i8";
  case KILN_I16: return "i16";
  case KILN_I32: return "i32";
  case KILN_I64: return "i64";
  case KILN_U8: return "u8";
  case KILN_U16: return "u16";
  case KILN_U32: return "u32";
  case KILN_U64: return "u64";
  case KILN_BOOL: return "bool";
  case KILN_STRING: return "string";
  }
  return "unknown";
}

kiln_status kiln_model_open(const char *path, kiln_model **out) {
  if (!path || !out)
    return fail(KILN_ERROR_BAD_ARGUMENT, "kiln_model_open: null argument");
  std::string error;
  auto a = artifact::Artifact::open(path, error);
  if (!a)
    return fail(error.rfind("cannot open", 0) == 0 ? KILN_ERROR_IO
                                                   : KILN_ERROR_BAD_ARTIFACT,
                error);
  auto *m = new kiln_model();
  auto collect = [&](const flatbuffers::Vector<flatbuffers::Offset<fb::TensorInfo>> *v,
                     std::vector<std::vector<int64_t>> &shapes, std::vector<std::string> &names,
                     std::vector<std::vector<int64_t>> &dims,
                     std::vector<std::vector<std::string>> *dimNames) {
    for (const fb::TensorInfo *t : *v) {
      names.push_back(t->name() ? t->name()->str() : "");
      shapes.emplace_back();
      dims.emplace_back();
      if (t->shape())
        shapes.back().assign(t->shape()->begin(), t->shape()->end());
      if (t->dims()) {
        dims.back().assign(t->dims()->begin(), t->dims()->end());
      } else {
        dims.back().assign(shapes.back().size(), -1);
      }
      if (dimNames) {
        dimNames->emplace_back(shapes.back().size());
        if (t->dim_names())
          for (size_t i = 0; i < t->dim_names()->size() && i < shapes.back().size(); ++i)
            dimNames->back()[i] = t->dim_names()->Get(i)->str();
      }
    }
  };
  collect(a->manifest().inputs(), m->inShapes, m->inNames, m->inDims, &m->inDimNames);
  for (const fb::TensorInfo *t : *a->manifest().inputs())
    m->inMax.emplace_back(t->max_shape() ? std::vector<int64_t>(t->max_shape()->begin(),
                                                                t->max_shape()->end())
                                         : std::vector<int64_t>());
  collect(a->manifest().outputs(), m->outShapes, m->outNames, m->outDims, nullptr);
  std::vector<bool> hiddenIn(m->inNames.size(), false), hiddenOut(m->outNames.size(), false);
  if (a->manifest().states())
    for (const fb::State *st : *a->manifest().states()) {
      hiddenIn[st->cache()] = hiddenIn[st->length_input()] = true;
      hiddenOut[st->length_output()] = true;
    }
  for (size_t i = 0; i < hiddenIn.size(); ++i)
    if (!hiddenIn[i])
      m->pubIn.push_back(i);
  for (size_t i = 0; i < hiddenOut.size(); ++i)
    if (!hiddenOut[i])
      m->pubOut.push_back(i);
  m->artifact = std::move(a);
  *out = m;
  return KILN_OK;
}

void kiln_model_close(kiln_model *model) { delete model; }

size_t kiln_model_num_inputs(const kiln_model *m) { return m ? m->pubIn.size() : 0; }
size_t kiln_model_num_outputs(const kiln_model *m) { return m ? m->pubOut.size() : 0; }

uint64_t kiln_model_flops(const kiln_model *m) {
  return m ? m->artifact->manifest().flops() : 0;
}

/// Describes the manifest's input/output `i` (hidden ones included).
static void describeAt(const kiln_model *m, bool input, size_t i, kiln_tensor *info) {
  auto *v = input ? m->artifact->manifest().inputs() : m->artifact->manifest().outputs();
  const auto &names = input ? m->inNames : m->outNames;
  const auto &shapes = input ? m->inShapes : m->outShapes;
  info->name = names[i].c_str();
  info->dtype = (kiln_dtype)v->Get(i)->dtype();
  info->rank = (int32_t)shapes[i].size();
  info->shape = shapes[i].data();
  info->data = nullptr;
}

/// Describes the caller's input/output `i`.
static kiln_status describe(const kiln_model *m, bool input, size_t i, kiln_tensor *info) {
  if (!m || !info)
    return fail(KILN_ERROR_BAD_ARGUMENT, "null argument");
  const std::vector<size_t> &pub = input ? m->pubIn : m->pubOut;
  if (i >= pub.size())
    return fail(KILN_ERROR_BAD_ARGUMENT, std::string(input ? "input" : "output") +
                                             " index " + std::to_string(i) +
                                             " out of range");
  describeAt(m, input, pub[i], info);
  return KILN_OK;
}

kiln_status kiln_model_input(const kiln_model *m, size_t i, kiln_tensor *info) {
  return describe(m, true, i, info);
}
kiln_status kiln_model_output(const kiln_model *m, size_t i, kiln_tensor *info) {
  return describe(m, false, i, info);
}
const char *kiln_model_input_dim_name(const kiln_model *m, size_t i, size_t d) {
  if (!m || i >= m->pubIn.size() || d >= m->inDimNames[m->pubIn[i]].size())
    return "";
  return m->inDimNames[m->pubIn[i]][d].c_str();
}

size_t kiln_model_num_states(const kiln_model *m) {
  return m && m->artifact->manifest().states() ? m->artifact->manifest().states()->size() : 0;
}

kiln_status kiln_model_state(const kiln_model *m, size_t i, kiln_tensor *info) {
  if (!m || !info)
    return fail(KILN_ERROR_BAD_ARGUMENT, "null argument");
  if (i >= kiln_model_num_states(m))
    return fail(KILN_ERROR_BAD_ARGUMENT, "state index " + std::to_string(i) + " out of range");
  describeAt(m, true, m->artifact->manifest().states()->Get(i)->cache(), info);
  return KILN_OK;
}

kiln_status kiln_session_create(kiln_model *model, const char *device,
                                kiln_session **out) {
  if (!model || !out)
    return fail(KILN_ERROR_BAD_ARGUMENT, "kiln_session_create: null argument");
  std::string dev = device ? device : "cpu";
  if (dev != "cpu" && dev != "cuda")
    return fail(KILN_ERROR_DEVICE, "device '" + dev + "' is not available (this "
                                   "runtime has: cpu, cuda)");
  auto s = std::make_unique<kiln_session>();
  s->model = model;
  const fb::Manifest &m = model->artifact->manifest();
  const char *profile = std::getenv("KILN_PROFILE");
  s->profile = profile && *profile && std::strcmp(profile, "0") != 0;
  s->hostValues.resize(m.host_values());
  s->outputStrings.resize(m.outputs()->size());
  if (dev == "cuda" && m.shape_entry())
    return fail(KILN_ERROR_DEVICE, "the artifact has dynamic dims, which device 'cuda' does not "
                                   "run (compile with the dims pinned: --input-shape or --dim)");
  if (dev == "cuda") {
    // The GPU kernel (PTX with its launches) of a --target=cuda:sm_XX build.
    std::string targets;
    for (const fb::Kernel *k : *m.kernels()) {
      targets += (targets.empty() ? "" : ", ") + k->target()->str();
      if (!s->gpu && k->format()->str() == "ptx" && k->launches() && k->launches()->size()) {
        std::string error;
        s->gpu = runtime::createCudaSession(*model->artifact, *k, s->profile, error);
        if (!s->gpu)
          return fail(KILN_ERROR_DEVICE, error);
      }
    }
    if (!s->gpu && m.kernels()->size())
      return fail(KILN_ERROR_DEVICE, "the artifact has no kernels for device 'cuda' (compiled "
                                     "for: " + targets + "; compile with --target=cuda:sm_XX)");
    *out = s.release();
    return KILN_OK;
  }
  // Load the kernels the plan uses; a fat artifact may carry others.
  s->kernels.resize(m.kernels()->size());
  // A model of host steps only (strings) has no kernels at all.
  if (m.plan()->size() == 0 && m.kernels()->size() != 0) {
    std::string targets;
    for (const fb::Kernel *k : *m.kernels())
      targets += (targets.empty() ? "" : ", ") + k->target()->str();
    return fail(KILN_ERROR_DEVICE, "the artifact has no plan for device 'cpu' (compiled for: " +
                                       targets + ")");
  }
  for (const fb::Dispatch *d : *m.plan()) {
    auto &kernel = s->kernels[d->kernel()];
    if (!kernel) {
      const fb::Kernel *k = m.kernels()->Get(d->kernel());
      std::string error;
      kernel = runtime::loadCpuKernel(*k, model->artifact->bytes(*k->data()), error);
      if (!kernel)
        return fail(KILN_ERROR_DEVICE, error);
    }
    runtime::DispatchFn fn = kernel->lookup(d->entry()->str());
    if (!fn)
      return fail(KILN_ERROR_DEVICE, "the cpu kernel has no entry '" + d->entry()->str() + "'");
    s->entries.push_back(fn);
  }
  if (m.shape_entry()) {
    // The shape function lives in the plan's kernel.
    if (!m.plan()->size() || !s->kernels[m.plan()->Get(0)->kernel()])
      return fail(KILN_ERROR_BAD_ARTIFACT, "the artifact has dynamic dims but no plan");
    // dlsym gives every symbol one function type; this one takes the dims.
    runtime::DispatchFn symbol =
        s->kernels[m.plan()->Get(0)->kernel()]->lookup(m.shape_entry()->str());
    std::memcpy(&s->shapes, &symbol, sizeof symbol);
    if (!s->shapes)
      return fail(KILN_ERROR_DEVICE,
                  "the cpu kernel has no shape function '" + m.shape_entry()->str() + "'");
    s->dims.assign((size_t)m.dims_length(), -1);
    s->outShapes = model->outShapes;
  }
  if (m.states())
    for (const fb::State *st : *m.states()) {
      s->caches.push_back(std::make_unique<SessionCache>());
      s->caches.back()->state = st;
    }
  std::string error;
  unsigned threads = runtime::threadCountFromEnvironment(error);
  if (!threads)
    return fail(KILN_ERROR_BAD_ARGUMENT, error);
  s->pool = std::make_unique<runtime::ThreadPool>(threads);
  s->seconds.assign(m.plan()->size(), 0.0);
  s->estimates.assign(m.plan()->size(), runtime::WorkEstimate());
  if (uint64_t bytes = m.arena_bytes()) {
    if (bytes > kiln::physicalMemoryBytes())
      return fail(KILN_ERROR_DEVICE, "the artifact's arena needs " + std::to_string(bytes) +
                                         " bytes, more than this machine's memory (" +
                                         std::to_string(kiln::physicalMemoryBytes()) +
                                         " bytes)");
    s->arena = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (!s->arena)
      return fail(KILN_ERROR_DEVICE, "cannot allocate the " + std::to_string(bytes) +
                                         "-byte arena");
    s->arenaCapacity = bytes;
  }
  *out = s.release();
  return KILN_OK;
}

kiln_session::~kiln_session() {
  if (profile && !gpu) {
    const fb::Manifest &m = model->artifact->manifest();
    double total = 0;
    for (double t : seconds)
      total += t;
    std::fprintf(stderr, "kiln: profile (total %.3f ms)\n", total * 1e3);
    for (size_t i = 0; i < seconds.size(); ++i)
      std::fprintf(stderr, "  %6.2f%% %10.3f ms  %s (%llu workgroups%s)\n",
                   total > 0 ? 100 * seconds[i] / total : 0.0, seconds[i] * 1e3,
                   m.plan()->Get(i)->entry()->c_str(),
                   (unsigned long long)(i < lastWorkgroups.size()
                                            ? lastWorkgroups[i]
                                            : m.plan()->Get(i)->workgroups()),
                   m.plan()->Get(i)->workgroups_entry() >= 0 ? " in the last run" : "");
  }
  std::free(arena);
}

void kiln_session_destroy(kiln_session *s) { delete s; }

static std::string shapeString(const int64_t *shape, int32_t rank) {
  std::string s = "[";
  for (int32_t i = 0; i < rank; ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

static int64_t elementCount(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

/// Checks `given` against manifest entry `index` of `list`, whose shape
/// is `wantShape` (-1: any size, a dynamic input dim).
static kiln_status check(const kiln_model *m, bool input, size_t index,
                         const kiln_tensor &given, const std::vector<int64_t> &wantShape) {
  kiln_tensor want;
  describeAt(m, input, index, &want);
  want.shape = wantShape.data();
  std::string what = std::string(input ? "input" : "output") + " '" + want.name + "'";
  if (given.dtype != want.dtype)
    return fail(KILN_ERROR_BAD_ARGUMENT,
                what + " has dtype " +
                    (kiln_dtype_size(given.dtype)
                         ? std::string(kiln_dtype_name(given.dtype))
                         : std::to_string((int)given.dtype) + " (not a kiln_dtype)") +
                    ", the model expects " + kiln_dtype_name(want.dtype));
  bool differs = given.rank != want.rank || (given.rank && !given.shape);
  for (int32_t d = 0; !differs && d < given.rank; ++d)
    differs = want.shape[d] >= 0 ? given.shape[d] != want.shape[d]
                                 : given.shape[d] < 0 || given.shape[d] > (int64_t)kMaxTensorBytes;
  if (differs) {
    // Name the first dim that differs: static dims are compiled for one size.
    std::string detail;
    if (given.rank == want.rank && given.shape)
      for (int32_t d = 0; d < given.rank && detail.empty(); ++d) {
        if (want.shape[d] >= 0 && given.shape[d] != want.shape[d])
          detail = " (dim " + std::to_string(d) + " is " + std::to_string(given.shape[d]) +
                   ", compiled for " + std::to_string(want.shape[d]) + ")";
        else if (want.shape[d] < 0 && given.shape[d] < 0)
          detail = " (dim " + std::to_string(d) + " is negative)";
      }
    bool printable = given.rank >= 0 && given.rank <= 64 && (given.shape || !given.rank);
    return fail(KILN_ERROR_BAD_ARGUMENT,
                what + " has " +
                    (printable ? "shape " + shapeString(given.shape, given.rank)
                               : "rank " + std::to_string(given.rank) +
                                     (given.shape ? "" : " and no shape")) +
                    ", the model expects " + shapeString(want.shape, want.rank) + detail);
  }
  // Declared bounds (--max-shape).
  if (input && index < m->inMax.size())
    for (size_t d = 0; d < m->inMax[index].size() && d < (size_t)given.rank; ++d)
      if (m->inMax[index][d] >= 0 && given.shape[d] > m->inMax[index][d]) {
        const std::string &dimName = m->inDimNames[index][d];
        return fail(KILN_ERROR_BAD_ARGUMENT,
                    what + " dim " + std::to_string(d) +
                        (dimName.empty() ? "" : " ('" + dimName + "')") + " is " +
                        std::to_string(given.shape[d]) + ", more than the " +
                        std::to_string(m->inMax[index][d]) +
                        " the model was compiled for (--max-shape)");
      }
  // (A dynamic dim is bounded alone above; the whole tensor here.)
  std::optional<uint64_t> bytes = kiln::checkedTensorBytes(
      std::vector<int64_t>(given.shape, given.shape + given.rank), kiln_dtype_size(given.dtype));
  if (!bytes)
    return fail(KILN_ERROR_BAD_ARGUMENT, what + " is larger than kiln accepts (2^48 bytes)");
  if (!given.data && *bytes > 0)
    return fail(KILN_ERROR_BAD_ARGUMENT, what + " has no data");
  return KILN_OK;
}

/// A failed shape check's message with the sizes it compared, each input
/// dim among them named.
static std::string checkMessage(const kiln_model &m, const fb::ShapeCheck &c,
                                const std::vector<int64_t> &dims) {
  auto size = [&](int64_t e) -> std::string {
    if (e < 0)
      return "?";
    std::string s = std::to_string(dims[e]);
    for (size_t i = 0; i < m.inDims.size(); ++i)
      for (size_t d = 0; d < m.inDims[i].size(); ++d)
        if (m.inDims[i][d] == e) {
          const std::string &name = m.inDimNames[i][d];
          return s + " (input '" + m.inNames[i] + "' dim " + std::to_string(d) +
                 (name.empty() ? "" : " '" + name + "'") + ")";
        }
    return s;
  };
  std::string text = c.message()->str(), out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text.compare(i, 3, "{0}") == 0 || text.compare(i, 3, "{1}") == 0) {
      out += size(text[i + 1] == '0' ? c.lhs() : c.rhs());
      i += 2;
      continue;
    }
    out += text[i];
  }
  return out;
}

/// Element `k` of integer data of `dtype`, widened to i64.
static int64_t integerAt(const void *data, kiln_dtype dtype, size_t k) {
  switch (dtype) {
  case KILN_I8: return static_cast<const int8_t *>(data)[k];
  case KILN_I16: return static_cast<const int16_t *>(data)[k];
  case KILN_I32: return static_cast<const int32_t *>(data)[k];
  case KILN_I64: return static_cast<const int64_t *>(data)[k];
  case KILN_U8: return static_cast<const uint8_t *>(data)[k];
  case KILN_U16: return static_cast<const uint16_t *>(data)[k];
  case KILN_U32: return static_cast<const uint32_t *>(data)[k];
  case KILN_U64: return (int64_t) static_cast<const uint64_t *>(data)[k];
  // Floats as their bits (zero-extended): the shape function reinterprets.
  case KILN_F16:
  case KILN_BF16: return static_cast<const uint16_t *>(data)[k];
  case KILN_F32: return static_cast<const uint32_t *>(data)[k];
  case KILN_F64: {
    int64_t bits;
    std::memcpy(&bits, static_cast<const double *>(data) + k, sizeof bits);
    return bits;
  }
  default: return 0;
  }
}

/// Whether dims-vector entry `e` is a data dim not stored yet (-1 until
/// its dispatch runs).
static bool unsetDataDim(const kiln_session *s, size_t e) {
  const fb::Manifest &man = s->model->artifact->manifest();
  if (!man.data_dims() || s->dims[e] != -1)
    return false;
  for (const fb::DataDim *d : *man.data_dims())
    if ((size_t)d->entry() == e)
      return true;
  return false;
}

/// The entries the shape function computed are sizes in range (an
/// overflowing product comes back as -1); unset data dims aside.
static kiln_status checkComputedDims(kiln_session *s) {
  for (size_t e = s->firstComputed; e < s->dims.size(); ++e)
    if ((s->dims[e] < 0 || s->dims[e] > (int64_t)kMaxTensorBytes) && !unsetDataDim(s, e))
      return fail(KILN_ERROR_BAD_ARGUMENT,
                  "these input shapes give the model a size of " + std::to_string(s->dims[e]) +
                      " (dims-vector entry " + std::to_string(e) + "), out of range");
  return KILN_OK;
}

/// After dispatch `step` stored data dims: the shape function again, with
/// the sizes the data decided; they must fit the slots placed for their
/// bounds. The outputs' shapes become the ones the run writes.
static kiln_status refreshDataDims(kiln_session *s, uint32_t step) {
  const kiln_model *m = s->model;
  const fb::Manifest &man = m->artifact->manifest();
  for (const fb::DataDim *d : *man.data_dims())
    if (d->dispatch() <= step && s->dims[d->entry()] < 0)
      return fail(KILN_ERROR_BAD_ARTIFACT, "dispatch " + std::to_string(d->dispatch()) +
                                               " did not store its data-dependent size (a "
                                               "damaged artifact)");
  s->shapes(s->dims.data());
  auto stored = [&](const fb::ShapeCheck *c) {
    if (c->data_entries())
      for (int64_t e : *c->data_entries())
        if (s->dims[e] < 0)
          return false;
    return true;
  };
  if (man.shape_checks())
    for (const fb::ShapeCheck *c : *man.shape_checks())
      if (s->dims[c->ok()] == 0 && stored(c))
        return fail(KILN_ERROR_BAD_ARGUMENT, "the sizes these inputs' data decided do not fit "
                                             "the model: " + checkMessage(*m, *c, s->dims));
  if (kiln_status st = checkComputedDims(s))
    return st;
  if (man.slots())
    for (size_t i = 0; i < man.slots()->size(); ++i)
      if ((uint64_t)s->dims[man.slots()->Get(i)->bytes_entry()] > s->slotBytes[i])
        return fail(KILN_ERROR_BAD_ARGUMENT, "a size the count this run's data gave decides "
                                            "outgrew what the arena was planned for (a size "
                                            "that grows as the count falls: not supported yet)");
  // (An output only shrinks from the bound its buffer holds.)
  for (size_t o = 0; o < s->outShapes.size(); ++o)
    for (size_t d = 0; d < s->outShapes[o].size(); ++d)
      if (int64_t e = m->outDims[o][d]; e >= 0) {
        if (s->dims[e] > s->outShapes[o][d])
          return fail(KILN_ERROR_BAD_ARTIFACT, "output '" + m->outNames[o] +
                                                   "' outgrew its bound (a damaged artifact)");
        s->outShapes[o][d] = s->dims[e];
      }
  return KILN_OK;
}

/// Dynamic dims: fills the session's dims vector from the inputs (bound
/// in model order), runs the shape function, and from it sizes the outputs
/// and places the arena. Inputs sharing a dim name must agree on it.
static kiln_status resolveDims(kiln_session *s, const std::vector<const kiln_tensor *> &given) {
  const kiln_model *m = s->model;
  const fb::Manifest &man = m->artifact->manifest();
  size_t symbols = (size_t)man.symbols();
  std::vector<int64_t> sym(symbols, -1);
  std::vector<std::pair<size_t, size_t>> from(symbols);
  for (size_t i = 0; i < given.size(); ++i)
    for (size_t d = 0; d < m->inDims[i].size(); ++d) {
      int64_t e = m->inDims[i][d], v = given[i]->shape[d];
      if (e < 0)
        continue;
      if (sym[e] < 0) {
        sym[e] = v;
        from[e] = {i, d};
        continue;
      }
      if (sym[e] == v)
        continue;
      auto [j, dj] = from[e];
      const std::string &name = m->inDimNames[i][d];
      return fail(KILN_ERROR_BAD_ARGUMENT,
                  "input '" + m->inNames[i] + "' dim " + std::to_string(d) +
                      (name.empty() ? "" : " ('" + name + "')") + " is " + std::to_string(v) +
                      ", but input '" + m->inNames[j] + "' dim " + std::to_string(dj) +
                      " gave it " + std::to_string(sym[e]) + " (the model declares them one "
                      "size)");
    }
  for (size_t e = 0; e < symbols; ++e)
    if (sym[e] < 0)
      return fail(KILN_ERROR_BAD_ARTIFACT, "dims-vector entry " + std::to_string(e) +
                                               " is no input's dim");
  // Then the values of the inputs that decide sizes (a Reshape's target,
  // TopK's k, a Range's float bounds), as i64 (the verifier checked each
  // is a whole static integer or float input).
  if (man.input_values())
    for (const fb::InputValues *v : *man.input_values()) {
      const kiln_tensor *t = given[v->input()];
      if (!t->data)
        return fail(KILN_ERROR_BAD_ARGUMENT, "input '" + m->inNames[v->input()] +
                                                 "' has no data: its values decide the "
                                                 "model's sizes");
      for (uint32_t k = 0; k < v->count(); ++k)
        sym.push_back(integerAt(t->data, t->dtype, k));
    }
  size_t firstComputed = sym.size();
  // (With data dims the last run's vector holds its data's sizes: redo.)
  bool dataDims = man.data_dims() && man.data_dims()->size();
  if (s->dimsValid && sym == s->lastSymbols && !dataDims)
    return KILN_OK;
  s->firstComputed = firstComputed;
  s->dimsValid = false;
  s->lastSymbols.clear();
  std::fill(s->dims.begin(), s->dims.end(), -1);
  std::copy(sym.begin(), sym.end(), s->dims.begin());
  s->shapes(s->dims.data());
  // The checks first: where one fails, the sizes after it mean nothing.
  // (Those on data dims wait until the run stores them.)
  if (man.shape_checks())
    for (const fb::ShapeCheck *c : *man.shape_checks())
      if (s->dims[c->ok()] == 0 && !(c->data_entries() && c->data_entries()->size()))
        return fail(KILN_ERROR_BAD_ARGUMENT, "these input shapes do not fit the model: " +
                                                 checkMessage(*m, *c, s->dims));
  if (kiln_status st = checkComputedDims(s))
    return st;
  for (size_t o = 0; o < s->outShapes.size(); ++o) {
    for (size_t d = 0; d < s->outShapes[o].size(); ++d)
      if (int64_t e = m->outDims[o][d]; e >= 0)
        s->outShapes[o][d] = s->dims[e];
    const fb::TensorInfo *t = man.outputs()->Get(o);
    if (!kiln::checkedTensorBytes(s->outShapes[o], kiln_dtype_size((kiln_dtype)t->dtype())))
      return fail(KILN_ERROR_BAD_ARGUMENT, "output '" + m->outNames[o] +
                                               "' would be larger than kiln accepts (2^48 "
                                               "bytes) for these inputs");
  }
  std::vector<kiln::ArenaSlot> slots;
  s->slotBytes.clear();
  if (man.slots())
    for (const fb::ArenaSlot *slot : *man.slots()) {
      slots.push_back({(uint64_t)s->dims[slot->bytes_entry()], 0, slot->first(), slot->last()});
      s->slotBytes.push_back(slots.back().bytes);
    }
  uint64_t bytes = kiln::placeArenaSlots(slots);
  if (bytes > kiln::physicalMemoryBytes() || bytes > kMaxTensorBytes)
    return fail(KILN_ERROR_DEVICE, "these input shapes need a " + std::to_string(bytes) +
                                       "-byte arena, more than this machine's memory");
  if (bytes > s->arenaCapacity) {
    std::free(s->arena);
    s->arenaCapacity = 0;
    s->arena = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (!s->arena)
      return fail(KILN_ERROR_DEVICE, "cannot allocate the " + std::to_string(bytes) +
                                         "-byte arena");
    s->arenaCapacity = bytes;
  }
  s->slotOffsets.clear();
  for (const kiln::ArenaSlot &slot : slots)
    s->slotOffsets.push_back(slot.offset);
  s->lastSymbols = sym;
  s->dimsValid = true;
  return KILN_OK;
}

/// Runs the manifest's host steps on bound inputs `in` and outputs `out`.
static kiln_status runHostSteps(kiln_session *s, const std::vector<void *> &in,
                                const std::vector<void *> &out) {
  const kiln_model *m = s->model;
  const fb::Manifest &man = m->artifact->manifest();
  if (!man.host_steps())
    return KILN_OK;
  for (const fb::HostStep *step : *man.host_steps()) {
    std::string where =
        step->name() && step->name()->size() ? " '" + step->name()->str() + "'" : "";
    auto bad = [&](const std::string &what) {
      return fail(KILN_ERROR_BAD_ARTIFACT, "host step" + where + " " + what);
    };
    if (step->inputs()->size() != 1 || step->outputs()->size() != 1)
      return bad("must have one input and one output");
    const fb::HostRef *from = step->inputs()->Get(0), *to = step->outputs()->Get(0);
    // The strings `from` names (inputs: the caller's pointers).
    auto strings = [&](std::vector<std::string_view> &v) -> kiln_status {
      if (from->kind() == fb::HostValueKind::Input) {
        if (man.inputs()->Get(from->index())->dtype() != fb::DType::String)
          return bad("reads a number where it expects strings");
        auto *p = static_cast<const char *const *>(in[from->index()]);
        int64_t n = elementCount(m->inShapes[from->index()]);
        for (int64_t i = 0; i < n; ++i) {
          if (!p[i])
            return fail(KILN_ERROR_BAD_ARGUMENT, "input '" + m->inNames[from->index()] +
                                                     "' has a null string at element " +
                                                     std::to_string(i));
          v.emplace_back(p[i]);
        }
        return KILN_OK;
      }
      const runtime::Strings &h = from->kind() == fb::HostValueKind::Value
                                      ? s->hostValues[from->index()]
                                      : s->outputStrings[from->index()];
      v.assign(h.begin(), h.end());
      return KILN_OK;
    };
    // The model fixed an output's shape at compile time; a length that
    // depends on the data must come out as declared.
    auto checkCount = [&](uint32_t o, size_t produced) -> kiln_status {
      int64_t want = elementCount(m->outShapes[o]);
      if ((int64_t)produced == want)
        return KILN_OK;
      return fail(KILN_ERROR_BAD_ARGUMENT,
                  "output '" + m->outNames[o] + "': host step" + where + " produced " +
                      std::to_string(produced) + " strings for these inputs; the model "
                      "declares shape " +
                      shapeString(m->outShapes[o].data(), (int32_t)m->outShapes[o].size()));
    };
    auto store = [&](runtime::Strings result) -> kiln_status {
      if (to->kind() == fb::HostValueKind::Value) {
        s->hostValues[to->index()] = std::move(result);
        return KILN_OK;
      }
      if (to->kind() != fb::HostValueKind::Output)
        return bad("writes an input");
      uint32_t o = to->index();
      if (man.outputs()->Get(o)->dtype() != fb::DType::String)
        return bad("writes strings to a number output");
      if (kiln_status st = checkCount(o, result.size()))
        return st;
      s->outputStrings[o] = std::move(result);
      auto **p = static_cast<const char **>(out[o]);
      for (size_t i = 0; i < s->outputStrings[o].size(); ++i)
        p[i] = s->outputStrings[o][i].c_str();
      return KILN_OK;
    };
    std::vector<std::string_view> args;
    switch (step->op_type()) {
    case fb::HostOp::StringNormalize:
      if (kiln_status st = strings(args))
        return st;
      if (kiln_status st = store(runtime::stringNormalize(*step->op_as_StringNormalize(), args)))
        return st;
      break;
    case fb::HostOp::StringCast: {
      fb::DType target = step->op_as_StringCast()->to();
      if (target == fb::DType::String) {
        // Numbers (a model input) to strings.
        if (from->kind() != fb::HostValueKind::Input)
          return bad("casts a number that is not a model input");
        fb::DType source = man.inputs()->Get(from->index())->dtype();
        size_t n = (size_t)elementCount(m->inShapes[from->index()]);
        runtime::Strings result(n);
        for (size_t i = 0; i < n; ++i)
          if (!runtime::formatNumber(source, in[from->index()], i, result[i]))
            return bad("cannot write " + std::string(fb::EnumNameDType(source)) +
                       " as strings");
        if (kiln_status st = store(std::move(result)))
          return st;
        break;
      }
      // Strings to numbers (a model output).
      if (to->kind() != fb::HostValueKind::Output ||
          man.outputs()->Get(to->index())->dtype() != target)
        return bad("writes numbers that are not a model output of that type");
      if (kiln_status st = strings(args))
        return st;
      uint32_t o = to->index();
      if ((int64_t)args.size() != elementCount(m->outShapes[o]))
        return bad("reads " + std::to_string(args.size()) + " strings for output '" +
                   m->outNames[o] + "'");
      for (size_t i = 0; i < args.size(); ++i)
        if (!runtime::parseNumber(std::string(args[i]), target, out[o], i))
          return fail(KILN_ERROR_BAD_ARGUMENT,
                      "host step" + where + ": string " + std::to_string(i) + " ('" +
                          std::string(args[i]) + "') is not a " + fb::EnumNameDType(target) +
                          " value");
      break;
    }
    default:
      return bad("has an unknown op");
    }
  }
  return KILN_OK;
}

static kiln_status runSession(kiln_session *s, const kiln_tensor *inputs, size_t nin,
                              kiln_tensor *outputs, size_t nout);
static kiln_status runPlan(kiln_session *s, const std::vector<void *> &in,
                           const std::vector<void *> &out);

kiln_status kiln_session_run(kiln_session *s, const kiln_tensor *inputs, size_t nin,
                             kiln_tensor *outputs, size_t nout) {
  if (!s)
    return fail(KILN_ERROR_BAD_ARGUMENT, "kiln_session_run: null session");
  bool idle = false;
  if (!s->running.compare_exchange_strong(idle, true, std::memory_order_acquire))
    return fail(KILN_ERROR_BUSY, "kiln_session_run: the session is already running on "
                                 "another thread (a session runs one call at a time; "
                                 "create one session per thread)");
  kiln_status status = runSession(s, inputs, nin, outputs, nout);
  s->running.store(false, std::memory_order_release);
  return status;
}

/// Binds the session's caches (sized from the bound inputs' dims; a new
/// size with entries held is refused) and the inputs carrying their lengths.
static kiln_status bindCaches(kiln_session *s, std::vector<const kiln_tensor *> &bound) {
  const kiln_model *m = s->model;
  for (auto &c : s->caches) {
    const fb::State &st = *c->state;
    uint32_t axis = st.axis();
    const std::vector<int64_t> &declared = m->inShapes[st.cache()];
    std::vector<int64_t> shape = declared;
    for (size_t d = 0; d < shape.size(); ++d) {
      if (shape[d] >= 0)
        continue;
      // A dynamic dim (batch): the size of an input dim sharing its entry.
      int64_t e = m->inDims[st.cache()][d];
      for (size_t i : m->pubIn)
        for (size_t k = 0; k < m->inDims[i].size() && shape[d] < 0; ++k)
          if (e >= 0 && m->inDims[i][k] == e)
            shape[d] = bound[i]->shape[k];
      if (shape[d] < 0)
        return fail(KILN_ERROR_BAD_ARTIFACT, "dim " + std::to_string(d) + " of session state '" +
                                                 st.name()->str() +
                                                 "' is no input's dim: the runtime cannot size it");
    }
    if (shape != c->shape) {
      if (c->length > 0)
        return fail(KILN_ERROR_BAD_ARGUMENT,
                    "session state '" + st.name()->str() + "' holds " + std::to_string(c->length) +
                        " entries of shape " + shapeString(c->shape.data(), (int32_t)c->shape.size()) +
                        "; these inputs need " + shapeString(shape.data(), (int32_t)shape.size()) +
                        " (rewind the session to 0 to start over with them)");
      std::optional<uint64_t> bytes = kiln::checkedTensorBytes(
          shape, kiln_dtype_size((kiln_dtype)m->artifact->manifest().inputs()->Get(st.cache())->dtype()));
      if (!bytes || *bytes > kiln::physicalMemoryBytes())
        return fail(KILN_ERROR_DEVICE, "session state '" + st.name()->str() + "' of shape " +
                                           shapeString(shape.data(), (int32_t)shape.size()) +
                                           " is larger than this machine's memory");
      std::free(c->buffer);
      c->buffer = std::calloc(1, std::max<uint64_t>(*bytes, 1));
      if (!c->buffer)
        return fail(KILN_ERROR_DEVICE, "cannot allocate session state '" + st.name()->str() + "'");
      c->shape = shape;
      c->bytes = *bytes;
    }
    c->lengthShape = shape;
    c->lengthShape[axis] = c->length;
    kiln_dtype dtype = (kiln_dtype)m->artifact->manifest().inputs()->Get(st.cache())->dtype();
    c->cacheTensor = {nullptr, dtype, (int32_t)shape.size(), c->shape.data(), c->buffer};
    // (Read for its shape only: the plan never reads its data.)
    c->lengthTensor = {nullptr, dtype, (int32_t)shape.size(), c->lengthShape.data(), c->buffer};
    bound[st.cache()] = &c->cacheTensor;
    bound[st.length_input()] = &c->lengthTensor;
  }
  return KILN_OK;
}

/// Binds `inputs` to the model's (by name when named, else by position),
/// checks them and, with dynamic dims, resolves the run's shapes. `bound`
/// is in manifest order, session caches included.
static kiln_status bindInputs(kiln_session *s, const kiln_tensor *inputs, size_t nin,
                              std::vector<const kiln_tensor *> &bound) {
  const kiln_model *m = s->model;
  const std::vector<size_t> &pub = m->pubIn;
  if (nin != pub.size())
    return fail(KILN_ERROR_BAD_ARGUMENT, "the model takes " + std::to_string(pub.size()) +
                                             " inputs, got " + std::to_string(nin));
  if (nin && !inputs)
    return fail(KILN_ERROR_BAD_ARGUMENT, "null inputs");
  bound.assign(m->inNames.size(), nullptr);
  for (size_t i = 0; i < nin; ++i) {
    size_t slot = pub[i];
    if (inputs[i].name) {
      slot = m->inNames.size();
      for (size_t j : pub)
        if (m->inNames[j] == inputs[i].name)
          slot = j;
      if (slot == m->inNames.size()) {
        std::string known;
        for (size_t j : pub)
          known += (known.empty() ? "" : ", ") + m->inNames[j];
        return fail(KILN_ERROR_BAD_ARGUMENT, std::string("unknown input '") +
                                                 inputs[i].name + "'; the model's inputs are: " +
                                                 known);
      }
    }
    if (bound[slot])
      return fail(KILN_ERROR_BAD_ARGUMENT, "input '" + m->inNames[slot] + "' given twice");
    if (kiln_status st = check(m, true, slot, inputs[i], m->inShapes[slot]))
      return st;
    bound[slot] = &inputs[i];
  }
  if (kiln_status st = bindCaches(s, bound))
    return st;
  if (s->shapes)
    return resolveDims(s, bound);
  return KILN_OK;
}

kiln_status kiln_session_last_output_shape(kiln_session *s, size_t index, const int64_t **shape) {
  if (!s || !shape)
    return fail(KILN_ERROR_BAD_ARGUMENT, "kiln_session_last_output_shape: null argument");
  const kiln_model *m = s->model;
  if (index >= m->pubOut.size())
    return fail(KILN_ERROR_BAD_ARGUMENT, "output index " + std::to_string(index) + " out of range");
  bool idle = false;
  if (!s->running.compare_exchange_strong(idle, true, std::memory_order_acquire))
    return fail(KILN_ERROR_BUSY, "kiln_session_last_output_shape: the session is running on "
                                 "another thread");
  size_t o = m->pubOut[index];
  *shape = s->shapes ? s->outShapes[o].data() : m->outShapes[o].data();
  s->running.store(false, std::memory_order_release);
  return KILN_OK;
}

kiln_status kiln_session_output_shapes(kiln_session *s, const kiln_tensor *inputs, size_t nin,
                                       kiln_tensor *outputs, size_t nout) {
  if (!s || (nout && !outputs))
    return fail(KILN_ERROR_BAD_ARGUMENT, "kiln_session_output_shapes: null argument");
  const kiln_model *m = s->model;
  if (nout != m->pubOut.size())
    return fail(KILN_ERROR_BAD_ARGUMENT, "the model has " +
                                             std::to_string(m->pubOut.size()) +
                                             " outputs, got " + std::to_string(nout));
  bool idle = false;
  if (!s->running.compare_exchange_strong(idle, true, std::memory_order_acquire))
    return fail(KILN_ERROR_BUSY, "kiln_session_output_shapes: the session is running on "
                                 "another thread");
  std::vector<const kiln_tensor *> bound;
  kiln_status status = bindInputs(s, inputs, nin, bound);
  for (size_t o = 0; status == KILN_OK && o < nout; ++o) {
    describe(m, false, o, &outputs[o]);
    if (s->shapes)
      outputs[o].shape = s->outShapes[m->pubOut[o]].data();
  }
  s->running.store(false, std::memory_order_release);
  return status;
}

static kiln_status runSession(kiln_session *s, const kiln_tensor *inputs, size_t nin,
                              kiln_tensor *outputs, size_t nout) {
  const kiln_model *m = s->model;
  if (nout != m->pubOut.size())
    return fail(KILN_ERROR_BAD_ARGUMENT, "the model has " +
                                             std::to_string(m->pubOut.size()) +
                                             " outputs, got " + std::to_string(nout));
  std::vector<const kiln_tensor *> bound;
  if (kiln_status st = bindInputs(s, inputs, nin, bound))
    return st;
  std::vector<void *> in(bound.size(), nullptr), out(m->outNames.size(), nullptr);
  for (size_t i = 0; i < bound.size(); ++i)
    in[i] = bound[i]->data;
  for (size_t i = 0; i < nout; ++i) {
    size_t o = m->pubOut[i];
    if (kiln_status st = check(m, false, o, outputs[i], s->shapes ? s->outShapes[o] : m->outShapes[o]))
      return st;
    out[o] = outputs[i].data;
  }
  for (auto &c : s->caches) {
    c->newLength = -1; // (a plan that never writes it is caught below)
    out[c->state->length_output()] = &c->newLength;
  }
  kiln_status status = runPlan(s, in, out);
  if (status != KILN_OK || s->caches.empty())
    return status;
  // The caches hold what the run appended (the plan checked it fits): one
  // length for all, within the capacity, or the artifact is damaged and
  // the lengths stay as they were.
  int64_t grown = s->caches.front()->newLength;
  for (auto &c : s->caches)
    if (c->newLength != grown || grown < 0 || grown > c->shape[c->state->axis()])
      return fail(KILN_ERROR_BAD_ARTIFACT,
                  "session state '" + c->state->name()->str() + "' reports " +
                      std::to_string(c->newLength) + " entries after the run, outside 0.." +
                      std::to_string(c->shape[c->state->axis()]) +
                      " or unlike the other caches (a damaged artifact)");
  for (auto &c : s->caches)
    c->length = grown;
  return status;
}

/// Runs the host steps and the plan on bound buffers (manifest order).
static kiln_status runPlan(kiln_session *s, const std::vector<void *> &in,
                           const std::vector<void *> &out) {
  const kiln_model *m = s->model;
  const fb::Manifest &man = m->artifact->manifest();
  if (kiln_status st = runHostSteps(s, in, out))
    return st;
  if (s->gpu) {
    std::string error;
    if (!s->gpu->run(in, out, error))
      return fail(KILN_ERROR_DEVICE, error);
    return KILN_OK;
  }
  std::vector<void *> table;
  for (uint32_t step = 0; step < man.plan()->size(); ++step) {
    const fb::Dispatch *d = man.plan()->Get(step);
    table.clear();
    for (const fb::Binding *b : *d->buffers()) {
      switch (b->kind()) {
      case fb::BufferKind::Input: table.push_back(in[b->index()]); break;
      case fb::BufferKind::Output: table.push_back(out[b->index()]); break;
      case fb::BufferKind::Arena:
        table.push_back(static_cast<char *>(s->arena) + b->offset());
        break;
      case fb::BufferKind::Weight:
        table.push_back(const_cast<uint8_t *>(
            m->artifact->bytes(*man.weights()->Get(b->index())->data())));
        break;
      case fb::BufferKind::Slot:
        table.push_back(static_cast<char *>(s->arena) + s->slotOffsets[b->index()]);
        break;
      case fb::BufferKind::Dims:
        table.push_back(s->dims.data());
        break;
      }
    }
    uint64_t workgroups = d->workgroups();
    if (d->workgroups_entry() >= 0)
      workgroups = (uint64_t)s->dims[d->workgroups_entry()];
    struct Call {
      runtime::DispatchFn fn;
      void **table;
    } call{s->entries[step], table.data()};
    std::chrono::steady_clock::time_point start;
    if (s->profile) {
      start = std::chrono::steady_clock::now();
      s->lastWorkgroups.resize(man.plan()->size());
      s->lastWorkgroups[step] = workgroups;
    }
    s->pool->parallelFor(
        workgroups,
        [](void *ctx, uint64_t first, uint64_t last) {
          auto *c = static_cast<Call *>(ctx);
          c->fn(c->table, (int64_t)first, (int64_t)last);
        },
        &call, &s->estimates[step]);
    if (s->profile)
      s->seconds[step] +=
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (man.data_dims())
      for (const fb::DataDim *d : *man.data_dims())
        if (d->dispatch() == step) {
          if (kiln_status st = refreshDataDims(s, step))
            return st;
          break;
        }
  }
  return KILN_OK;
}

int64_t kiln_session_state_length(const kiln_session *s) {
  return s && !s->caches.empty() ? s->caches.front()->length : 0;
}

kiln_status kiln_session_rewind(kiln_session *s, int64_t length) {
  if (!s)
    return fail(KILN_ERROR_BAD_ARGUMENT, "kiln_session_rewind: null session");
  if (s->caches.empty())
    return fail(KILN_ERROR_BAD_ARGUMENT, "kiln_session_rewind: the model keeps no session state "
                                         "(compile it with --max-context)");
  bool idle = false;
  if (!s->running.compare_exchange_strong(idle, true, std::memory_order_acquire))
    return fail(KILN_ERROR_BUSY, "kiln_session_rewind: the session is running on another thread");
  kiln_status status = KILN_OK;
  int64_t held = s->caches.front()->length;
  if (length < 0 || length > held)
    status = fail(KILN_ERROR_BAD_ARGUMENT, "kiln_session_rewind: the session holds " +
                                               std::to_string(held) + " entries, cannot rewind to " +
                                               std::to_string(length));
  else
    for (auto &c : s->caches)
      c->length = length; // (entries past it are overwritten by the next run)
  s->running.store(false, std::memory_order_release);
  return status;
}

kiln_status kiln_session_read_state(kiln_session *s, size_t index, kiln_tensor *out) {
  if (!s || !out)
    return fail(KILN_ERROR_BAD_ARGUMENT, "kiln_session_read_state: null argument");
  if (index >= s->caches.size())
    return fail(KILN_ERROR_BAD_ARGUMENT, "state index " + std::to_string(index) + " out of range");
  bool idle = false;
  if (!s->running.compare_exchange_strong(idle, true, std::memory_order_acquire))
    return fail(KILN_ERROR_BUSY, "kiln_session_read_state: the session is running on another "
                                 "thread");
  const SessionCache &c = *s->caches[index];
  std::string name = c.state->name()->str();
  kiln_status status = KILN_OK;
  std::vector<int64_t> want = c.shape;
  if (want.empty()) // (no run yet: nothing held)
    status = fail(KILN_ERROR_BAD_ARGUMENT, "session state '" + name + "' holds nothing yet");
  else
    want[c.state->axis()] = c.length;
  kiln_dtype dtype = c.cacheTensor.dtype;
  if (status == KILN_OK &&
      (out->dtype != dtype || out->rank != (int32_t)want.size() || !out->shape ||
       !std::equal(want.begin(), want.end(), out->shape)))
    status = fail(KILN_ERROR_BAD_ARGUMENT,
                  "session state '" + name + "' holds " + kiln_dtype_name(dtype) + " " +
                      shapeString(want.data(), (int32_t)want.size()) + "; the tensor given is " +
                      (out->rank >= 0 && out->rank <= 64 && (out->shape || !out->rank)
                           ? kiln_dtype_name(out->dtype) + std::string(" ") +
                                 shapeString(out->shape, out->rank)
                           : std::string("without a valid shape")));
  if (status == KILN_OK && c.length > 0 && !out->data)
    status = fail(KILN_ERROR_BAD_ARGUMENT, "kiln_session_read_state: no data");
  if (status == KILN_OK && c.length > 0) {
    // Rows of the entries held: the dims before the axis are outer, the
    // ones after it contiguous.
    size_t element = kiln_dtype_size(dtype), axis = c.state->axis();
    uint64_t outer = 1, inner = element;
    for (size_t d = 0; d < axis; ++d)
      outer *= (uint64_t)c.shape[d];
    for (size_t d = axis + 1; d < c.shape.size(); ++d)
      inner *= (uint64_t)c.shape[d];
    const char *from = static_cast<const char *>(c.buffer);
    char *to = static_cast<char *>(out->data);
    for (uint64_t o = 0; o < outer; ++o)
      std::memcpy(to + o * c.length * inner, from + o * c.shape[axis] * inner, c.length * inner);
  }
  s->running.store(false, std::memory_order_release);
  return status;
}

} // extern "C"
