//===- Inputs.cpp - tensors for kiln run and kiln bench -------------------===//

#include "tools/kiln/Inputs.h"

#include "tools/kiln/Commands.h"

#include "dialects/kiln/IR/KilnDialect.h"
#include "lib/frontend/onnx/Importer.h"
#include "lib/support/CheckedSize.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>
#include <random>
#include <unistd.h>

using namespace mlir;

namespace kiln::cli {
namespace {

std::optional<kiln_dtype> dtypeOf(Type t) {
  if (t.isF32()) return KILN_F32;
  if (t.isF16()) return KILN_F16;
  if (t.isBF16()) return KILN_BF16;
  if (t.isF64()) return KILN_F64;
  if (t.isInteger(1)) return KILN_BOOL;
  if (isa<StringType>(t)) return KILN_STRING;
  if (auto i = dyn_cast<IntegerType>(t)) {
    bool u = i.isUnsigned();
    switch (i.getWidth()) {
    case 8: return u ? KILN_U8 : KILN_I8;
    case 16: return u ? KILN_U16 : KILN_I16;
    case 32: return u ? KILN_U32 : KILN_I32;
    case 64: return u ? KILN_U64 : KILN_I64;
    default: break;
    }
  }
  return std::nullopt;
}

/// An ONNX TensorProto file as a host array.
bool readPb(const std::string &path, NpyArray &out, std::string &error) {
  auto buf = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                         /*RequiresNullTerminator=*/false);
  if (!buf) {
    error = "cannot read '" + path + "': " + buf.getError().message();
    return false;
  }
  MLIRContext ctx;
  std::string message;
  ScopedDiagnosticHandler handler(&ctx, [&](Diagnostic &d) {
    message = d.str();
    return success();
  });
  FailureOr<DenseElementsAttr> attr = onnx_frontend::readTensorProto(
      ctx, (*buf)->getBuffer(), FileLineColLoc::get(&ctx, path, 0, 0));
  if (failed(attr)) {
    error = "'" + path + "' " + message;
    return false;
  }
  auto type = attr->getType();
  std::optional<kiln_dtype> dtype = dtypeOf(type.getElementType());
  if (!dtype) {
    error = "'" + path + "' has an element type kiln cannot bind";
    return false;
  }
  out.dtype = *dtype;
  out.shape.assign(type.getShape().begin(), type.getShape().end());
  if (auto strings = dyn_cast<DenseStringElementsAttr>(*attr)) {
    out.strings.clear();
    for (StringRef v : strings.getRawStringData())
      out.strings.push_back(v.str());
    std::string splat = out.strings.empty() ? "" : out.strings[0]; // a splat holds one
    out.strings.resize(type.getNumElements(), splat);
    return true;
  }
  size_t n = type.getNumElements(), size = kiln_dtype_size(*dtype);
  out.data.resize(n * size);
  if (*dtype == KILN_BOOL) {
    size_t i = 0;
    for (bool v : attr->getValues<bool>())
      out.data[i++] = v;
    return true;
  }
  ArrayRef<char> raw = attr->getRawData();
  for (size_t i = 0; i < n; ++i) // a splat holds one element
    memcpy(out.data.data() + i * size, raw.data() + (attr->isSplat() ? 0 : i * size), size);
  return true;
}

Type mlirTypeOf(MLIRContext &ctx, kiln_dtype d) {
  Builder b(&ctx);
  auto u = [&](unsigned w) { return IntegerType::get(&ctx, w, IntegerType::Unsigned); };
  switch (d) {
  case KILN_F32: return b.getF32Type();
  case KILN_F16: return b.getF16Type();
  case KILN_BF16: return b.getBF16Type();
  case KILN_F64: return b.getF64Type();
  case KILN_I8: return b.getI8Type();
  case KILN_I16: return b.getI16Type();
  case KILN_I32: return b.getI32Type();
  case KILN_I64: return b.getI64Type();
  case KILN_U8: return u(8);
  case KILN_U16: return u(16);
  case KILN_U32: return u(32);
  case KILN_U64: return u(64);
  case KILN_BOOL: return b.getI1Type();
  case KILN_STRING: return StringType::get(&ctx);
  }
  return {};
}

} // namespace

DenseElementsAttr toElementsAttr(MLIRContext &ctx, const NpyArray &array) {
  auto type = RankedTensorType::get(array.shape, mlirTypeOf(ctx, array.dtype));
  if (array.dtype == KILN_BOOL) {
    SmallVector<bool> bits(array.data.begin(), array.data.end());
    return DenseElementsAttr::get(type, ArrayRef<bool>(bits));
  }
  return DenseElementsAttr::getFromRawBuffer(type, ArrayRef<char>(array.data));
}

bool readInputs(const std::vector<std::string> &specs, HostTensors &inputs,
                std::string &error) {
  inputs.arrays.resize(specs.size());
  inputs.names.resize(specs.size());
  for (size_t i = 0; i < specs.size(); ++i) {
    llvm::StringRef spec = specs[i];
    std::string file = spec.str();
    if (size_t eq = spec.find('='); eq != llvm::StringRef::npos) {
      inputs.names[i] = spec.take_front(eq).str();
      file = spec.drop_front(eq + 1).str();
    }
    bool ok = llvm::StringRef(file).ends_with(".pb") ? readPb(file, inputs.arrays[i], error)
                                                     : readNpy(file, inputs.arrays[i], error);
    if (!ok)
      return false;
  }
  for (size_t i = 0; i < specs.size(); ++i) {
    NpyArray &a = inputs.arrays[i];
    a.pointAtStrings();
    inputs.views.push_back({inputs.names[i].empty() ? nullptr : inputs.names[i].c_str(),
                            a.dtype, (int32_t)a.shape.size(), a.shape.data(), a.data.data()});
  }
  return true;
}

/// Storage for `info`'s dtype and shape, bound into `views`; false (with
/// `error`) when it cannot fit in this machine's memory.
static bool allocate(const kiln_tensor &info, HostTensors &t, const char *what,
                     std::string &error) {
  NpyArray a;
  a.dtype = info.dtype;
  a.shape.assign(info.shape, info.shape + info.rank);
  std::optional<uint64_t> bytes = checkedTensorBytes(a.shape, kiln_dtype_size(info.dtype));
  uint64_t n = bytes.value_or(0);
  if (!bytes || n > physicalMemoryBytes()) {
    error = std::string(what) + " '" + (info.name ? info.name : "") + "' needs " +
            (!bytes ? std::string("more than 2^48 bytes, more than kiln accepts")
                    : std::to_string(n) + " bytes, more than this machine's memory (" +
                          std::to_string(physicalMemoryBytes()) + " bytes)");
    return false;
  }
  a.data.resize(n);
  if (a.dtype == KILN_STRING) // inputs: empty strings; outputs: filled by the run
    a.strings.assign(n / sizeof(const char *), "");
  t.arrays.push_back(std::move(a));
  t.names.push_back(info.name ? info.name : "");
  return true;
}

static void bindAll(HostTensors &t) {
  t.views.clear();
  for (size_t i = 0; i < t.arrays.size(); ++i) {
    NpyArray &a = t.arrays[i];
    a.pointAtStrings();
    t.views.push_back({t.names[i].c_str(), a.dtype, (int32_t)a.shape.size(), a.shape.data(),
                       a.data.data()});
  }
}

bool syntheticInputs(const kiln_model *model, const std::map<std::string, int64_t> &dims,
                     HostTensors &inputs, std::string &error) {
  std::mt19937 rng(0);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  for (size_t i = 0, e = kiln_model_num_inputs(model); i < e; ++i) {
    kiln_tensor info;
    kiln_model_input(model, i, &info);
    // Dynamic dims take their size from --dim by name.
    std::vector<int64_t> shape(info.shape, info.shape + info.rank);
    for (int32_t d = 0; d < info.rank; ++d) {
      if (shape[d] >= 0)
        continue;
      const char *name = kiln_model_input_dim_name(model, i, d);
      auto it = name && *name ? dims.find(name) : dims.end();
      if (it == dims.end()) {
        error = "input '" + std::string(info.name) + "' dim " + std::to_string(d) +
                " is dynamic" +
                (name && *name ? " ('" + std::string(name) + "'): give --dim " + name + "=N"
                               : " and unnamed: give the inputs as files") +
                " to synthesize it";
        return false;
      }
      shape[d] = it->second;
    }
    info.shape = shape.data();
    if (!allocate(info, inputs, "input", error))
      return false;
    NpyArray &a = inputs.arrays.back();
    size_t size = kiln_dtype_size(a.dtype), n = a.data.size() / size;
    for (size_t k = 0; k < n; ++k) {
      char *p = a.data.data() + k * size;
      if (a.dtype == KILN_F32) {
        float v = uniform(rng);
        memcpy(p, &v, 4);
      } else if (a.dtype == KILN_F64) {
        double v = uniform(rng);
        memcpy(p, &v, 8);
      } else if (a.dtype != KILN_BOOL && a.dtype != KILN_F16 && a.dtype != KILN_BF16) {
        *p = char(rng() % 4); // small non-negative integers: valid indices
      }
    }
  }
  bindAll(inputs);
  return true;
}

/// Outputs of the shapes the session gives for `inputs` (dynamic dims
/// follow the inputs').
static bool allocateOutputs(kiln_session *session, const kiln_model *model,
                            const HostTensors &inputs, HostTensors &outputs,
                            std::string &error) {
  std::vector<kiln_tensor> infos(kiln_model_num_outputs(model));
  if (kiln_session_output_shapes(session, inputs.views.data(), inputs.views.size(),
                                 infos.data(), infos.size()) != KILN_OK) {
    error = kiln_last_error();
    return false;
  }
  for (const kiln_tensor &info : infos)
    if (!allocate(info, outputs, "output", error))
      return false;
  bindAll(outputs);
  return true;
}

HostSession::~HostSession() {
  if (session)
    kiln_session_destroy(session);
  if (model)
    kiln_model_close(model);
}

int HostSession::open(const std::string &artifact, const std::vector<std::string> &inputSpecs,
                      const std::string &device, bool synthesize,
                      const std::map<std::string, int64_t> &dims) {
  if (kiln_model_open(artifact.c_str(), &model) != KILN_OK) {
    model = nullptr;
    llvm::errs() << "kiln: error: " << kiln_last_error() << "\n";
    return kBadInput;
  }
  std::string error;
  if (inputSpecs.empty() && synthesize ? !syntheticInputs(model, dims, inputs, error)
                                       : !readInputs(inputSpecs, inputs, error)) {
    llvm::errs() << "kiln: error: " << error << "\n";
    return kBadInput;
  }
  if (kiln_session_create(model, device.c_str(), &session) != KILN_OK) {
    session = nullptr;
    llvm::errs() << "kiln: error: " << kiln_last_error() << "\n";
    return kUnsupported;
  }
  if (!allocateOutputs(session, model, inputs, outputs, error)) {
    llvm::errs() << "kiln: error: " << error << "\n";
    return kBadInput;
  }
  for (const NpyArray &a : outputs.arrays)
    boundShapes.push_back(a.shape);
  return 0;
}

/// Points output i at `shape` (its data resized: kept from the start).
static void reshapeOutput(HostTensors &outputs, size_t i, std::vector<int64_t> shape) {
  NpyArray &a = outputs.arrays[i];
  a.shape = std::move(shape);
  a.data.resize(checkedTensorBytes(a.shape, kiln_dtype_size(a.dtype)).value_or(0));
  outputs.views[i].shape = a.shape.data();
  outputs.views[i].data = a.data.data();
}

kiln_status HostSession::run() {
  // (A run before this one may have shrunk an output to what its data
  // decided: the buffers hold the bounds again.)
  for (size_t i = 0; i < boundShapes.size() && i < outputs.arrays.size(); ++i)
    if (outputs.arrays[i].shape != boundShapes[i])
      reshapeOutput(outputs, i, boundShapes[i]);
  kiln_status status = kiln_session_run(session, inputs.views.data(), inputs.views.size(),
                                        outputs.views.data(), outputs.views.size());
  if (status != KILN_OK)
    return status;
  // An output whose size the data decided holds its elements at the start
  // of the buffer sized for the bound: keep those, in the shape they got.
  for (size_t i = 0; i < outputs.arrays.size(); ++i) {
    NpyArray &a = outputs.arrays[i];
    const int64_t *shape = nullptr;
    if (a.dtype == KILN_STRING ||
        kiln_session_last_output_shape(session, i, &shape) != KILN_OK || !shape ||
        std::equal(a.shape.begin(), a.shape.end(), shape))
      continue;
    reshapeOutput(outputs, i, std::vector<int64_t>(shape, shape + a.shape.size()));
  }
  return status;
}

} // namespace kiln::cli
