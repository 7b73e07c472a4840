//===- CompileCommand.cpp - kiln compile ----------------------------------===//
//
// MODEL (.onnx or kiln .mlir) -> graph pipeline -> codegen preparation ->
// kernels per target -> artifact. --emit stops after a stage and prints it.
//
//===----------------------------------------------------------------------===//

#include "tools/kiln/Commands.h"
#include "lib/support/ShapeSpec.h"
#include "tools/kiln/Inputs.h"
#include "tools/kiln/Outputs.h"

#include "lib/artifact/ArtifactFormat.h"
#include "dialects/kiln/IR/KilnDialect.h"
#include "dialects/kiln/IR/KilnOps.h"
#include "lib/compiler/Compiler.h"
#include "lib/frontend/onnx/Importer.h"
#include "lib/support/DataFile.h"
#include "lib/support/StorageBytes.h"
#include "passes/Pipelines/Pipelines.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>

using namespace mlir;
namespace cl = llvm::cl;
namespace fb = kiln::artifact::fb;

namespace kiln::cli {

cl::SubCommand compileCommand("compile", "Compile a model into a .kiln artifact");

static cl::opt<std::string> inputPath(cl::Positional, cl::desc("MODEL.onnx|MODEL.mlir"),
                                      cl::Required, cl::sub(compileCommand));
static cl::opt<std::string>
    outputPath("o", cl::desc("Output artifact (with --emit: the text's file; default stdout)"),
               cl::value_desc("OUT.kiln"), cl::sub(compileCommand));
static cl::list<std::string> targets("target",
                                     cl::desc("Targets: cpu, cpu:<llvm-cpu>, cuda:sm_XX "
                                              "(comma-separated)"),
                                     cl::CommaSeparated, cl::sub(compileCommand));
static cl::opt<std::string>
    cpuName("cpu",
            cl::desc("CPU the cpu target compiles for: native (default), x86-64-v3 (AVX2), "
                     "x86-64-v4 (AVX-512), or any LLVM CPU name (znver4, neoverse-v2, ...)"),
            cl::value_desc("CPU"), cl::sub(compileCommand));
static cl::opt<std::string> emit("emit", cl::desc("Print a stage instead: graph|llvm|asm|ptx"),
                                 cl::sub(compileCommand));
static cl::list<std::string>
    inputShapes("input-shape",
                cl::desc("Fix the dynamic dims of an input: NAME=2x32x128 (repeatable)"),
                cl::value_desc("NAME=DIMS"), cl::sub(compileCommand));
static cl::list<std::string>
    dimValues("dim",
              cl::desc("Fix a named dynamic dim (an ONNX dim_param such as batch or seq) in "
                       "every input that uses it: NAME=N (repeatable)"),
              cl::value_desc("NAME=N"), cl::sub(compileCommand));
static cl::list<std::string>
    maxShapes("max-shape",
              cl::desc("Declare the largest sizes of an input's dynamic dims: NAME=1x4096 "
                       "(a run past them is refused; static dims repeat their size) "
                       "(repeatable)"),
              cl::value_desc("NAME=DIMS"), cl::sub(compileCommand));
static cl::list<std::string>
    inputValues("input-value",
                cl::desc("Freeze an input to the values in a .npy or ONNX .pb file, so "
                         "shapes computed from it become static: NAME=FILE (repeatable)"),
                cl::value_desc("NAME=FILE"), cl::sub(compileCommand));
static cl::list<std::string>
    allowDataDirs("allow-data-dir",
                  cl::desc("Also read external data from DIR (by default only files inside "
                           "the model's folder are read) (repeatable)"),
                  cl::value_desc("DIR"), cl::sub(compileCommand));
static cl::opt<bool> verbose("verbose", cl::desc("Explain each stage"),
                             cl::sub(compileCommand));
static cl::opt<bool> noFusion("no-fusion",
                              cl::desc("Keep attention, MoE, norms as the graph wrote them "
                                       "(the unfused path, for comparison)"),
                              cl::sub(compileCommand));

static cl::opt<std::string>
    quantizeWeights("quantize-weights",
                    cl::desc("Store the weights of matrix products as int8 or int4 codes with "
                             "one f32 scale per group of rows, or FP8 e4m3 codes with one "
                             "scale per square block (weight-only; activations stay float): "
                             "int8|int4|fp8"),
                    cl::value_desc("int8|int4|fp8"), cl::sub(compileCommand));
static cl::opt<int64_t>
    quantizeGroupSize("quantize-group-size",
                      cl::desc("Rows of a weight (along the reduced dim) that share one "
                               "scale with --quantize-weights (fp8: the side of the square "
                               "block; default 128)"),
                      cl::init(128), cl::sub(compileCommand));

static cl::opt<int64_t>
    maxContext("max-context",
               cl::desc("Keep the model's KV caches (outputs Concat(past input, new)) in the "
                        "session, N entries each: a run takes only the new tokens and appends "
                        "in place (C API: kiln_session_rewind, kiln_session_read_state)"),
               cl::value_desc("N"), cl::init(0), cl::sub(compileCommand));

namespace {

/// --max-shape NAME=DIMS: each input's declared upper bounds, checked
/// against its signature (the rank; a static dim must repeat its size).
int applyMaxShapes(compiler::CompiledModel &model) {
  for (const std::string &spec : maxShapes) {
    std::string name, error;
    llvm::SmallVector<int64_t> dims;
    if (!parseShapeSpec(spec, name, dims, error)) {
      llvm::errs() << "kiln: error: --max-shape: " << error << "\n";
      return kUsage;
    }
    auto it = llvm::find_if(model.inputs, [&](const compiler::TensorSignature &s) {
      return s.name == name;
    });
    bool hidden = it != model.inputs.end() &&
                  llvm::any_of(model.states, [&](const compiler::SessionState &st) {
                    size_t i = it - model.inputs.begin();
                    return st.cache == i || st.lengthInput == i;
                  });
    if (it == model.inputs.end() || hidden) {
      std::string known;
      for (const compiler::TensorSignature &s : model.inputs)
        known += (known.empty() ? "" : ", ") + s.name;
      llvm::errs() << "kiln: error: --max-shape names '" << name
                   << "', which is not an input (the inputs: " << known << ")\n";
      return kUsage;
    }
    if (dims.size() != it->shape.size()) {
      llvm::errs() << "kiln: error: --max-shape " << spec << ": input '" << name << "' has "
                   << it->shape.size() << " dims, the bound gives " << dims.size() << "\n";
      return kUsage;
    }
    it->maxShape.assign(dims.size(), -1);
    for (size_t d = 0; d < dims.size(); ++d) {
      if (it->shape[d] >= 0 && dims[d] != it->shape[d]) {
        llvm::errs() << "kiln: error: --max-shape " << spec << ": dim " << d << " of input '"
                     << name << "' is static (" << it->shape[d] << "), the bound gives "
                     << dims[d] << "\n";
        return kUsage;
      }
      if (it->shape[d] < 0)
        it->maxShape[d] = dims[d];
    }
  }
  return 0;
}

/// Stage progress on a terminal (or with --verbose): "[2/5] lower (0.12 s)".
class Progress {
public:
  explicit Progress(int total)
      : total(total), show(verbose || llvm::sys::Process::StandardErrIsDisplayed()) {}
  void stage(llvm::StringRef name) {
    finish();
    current = name.str();
    start = std::chrono::steady_clock::now();
    ++index;
  }
  void finish() {
    if (!show || current.empty())
      return;
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    llvm::errs() << llvm::format("kiln: [%d/%d] %s (%.2f s)\n", index, total,
                                 current.c_str(), s);
    current.clear();
  }

private:
  int total, index = 0;
  bool show;
  std::string current;
  std::chrono::steady_clock::time_point start;
};

std::optional<fb::DType> dtypeOf(Type t) {
  if (t.isF32()) return fb::DType::F32;
  if (t.isF16()) return fb::DType::F16;
  if (t.isBF16()) return fb::DType::BF16;
  if (t.isF64()) return fb::DType::F64;
  if (t.isInteger(1)) return fb::DType::Bool;
  if (isa<StringType>(t)) return fb::DType::String;
  if (auto i = dyn_cast<IntegerType>(t)) {
    bool u = i.isUnsigned();
    switch (i.getWidth()) {
    case 8: return u ? fb::DType::U8 : fb::DType::I8;
    case 16: return u ? fb::DType::U16 : fb::DType::I16;
    case 32: return u ? fb::DType::U32 : fb::DType::I32;
    case 64: return u ? fb::DType::U64 : fb::DType::I64;
    default: break;
    }
  }
  return std::nullopt;
}

/// ONNX TensorProto element type codes.
int32_t onnxTypeOf(kiln_dtype d) {
  switch (d) {
  case KILN_F32: return 1;
  case KILN_U8: return 2;
  case KILN_I8: return 3;
  case KILN_U16: return 4;
  case KILN_I16: return 5;
  case KILN_I32: return 6;
  case KILN_I64: return 7;
  case KILN_BOOL: return 9;
  case KILN_F16: return 10;
  case KILN_F64: return 11;
  case KILN_U32: return 12;
  case KILN_U64: return 13;
  case KILN_BF16: return 16;
  case KILN_STRING: return 8;
  }
  return 0;
}

std::vector<std::pair<std::string, DenseElementsAttr>> frozenAttrs(MLIRContext &ctx,
                                                                  const HostTensors &t) {
  std::vector<std::pair<std::string, DenseElementsAttr>> values;
  for (size_t i = 0; i < t.arrays.size(); ++i)
    values.push_back({t.names[i], toElementsAttr(ctx, t.arrays[i])});
  return values;
}

/// The host steps in manifest form; kUnsupported for one without an
/// encoding (the compiler only produces ones that have one).
int serializeHostSteps(flatbuffers::FlatBufferBuilder &fbb, const compiler::HostPlan &host,
                       std::vector<flatbuffers::Offset<fb::HostStep>> &out) {
  for (const compiler::HostStep &step : host.steps) {
    auto refs = [](const std::vector<compiler::HostStep::Ref> &in) {
      std::vector<fb::HostRef> result;
      for (const compiler::HostStep::Ref &r : in)
        result.emplace_back(r.kind == compiler::HostStep::Ref::Input ? fb::HostValueKind::Input
                            : r.kind == compiler::HostStep::Ref::Output
                                ? fb::HostValueKind::Output
                                : fb::HostValueKind::Value,
                            r.index);
      return result;
    };
    std::vector<fb::HostRef> ins = refs(step.inputs), outs = refs(step.outputs);
    auto make = [&](fb::HostOp type, flatbuffers::Offset<void> op) {
      out.push_back(fb::CreateHostStep(fbb, type, op, fbb.CreateString(step.name),
                                       fbb.CreateVectorOfStructs(ins),
                                       fbb.CreateVectorOfStructs(outs)));
    };
    DictionaryAttr a = step.attributes;
    if (step.op == "kiln.cast") {
      std::optional<fb::DType> to = dtypeOf(step.resultElementTypes[0]);
      if (!to) {
        llvm::errs() << "kiln: error: a cast from strings to "
                     << step.resultElementTypes[0] << " is not supported\n";
        return kUnsupported;
      }
      make(fb::HostOp::StringCast, fb::CreateStringCast(fbb, *to).Union());
      continue;
    }
    if (step.op != "kiln.string_normalize") {
      llvm::errs() << "kiln: error: host step '" << step.op << "' has no artifact encoding\n";
      return kUnsupported;
    }
    StringRef mode = cast<StringAttr>(a.get("case_change")).getValue();
    std::vector<flatbuffers::Offset<flatbuffers::String>> stop;
    if (auto words = a.getAs<ArrayAttr>("stopwords"))
      for (Attribute w : words)
        stop.push_back(fbb.CreateString(cast<StringAttr>(w).getValue().str()));
    auto locale = a.getAs<StringAttr>("locale");
    auto normalize = fb::CreateStringNormalize(
        fbb,
        mode == "UPPER"   ? fb::CaseChange::Upper
        : mode == "LOWER" ? fb::CaseChange::Lower
                          : fb::CaseChange::None,
        (bool)a.get("case_sensitive"), fbb.CreateVector(stop),
        fbb.CreateString(locale ? locale.getValue().str() : ""));
    make(fb::HostOp::StringNormalize, normalize.Union());
  }
  return kOk;
}

/// A GPU kernel's launches in manifest form; `bind` maps entry arguments
/// to model buffers.
template <typename Bind>
flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<fb::Launch>>>
serializeLaunches(flatbuffers::FlatBufferBuilder &fbb, const target::KernelBlob &kernel,
                  Bind bind) {
  std::vector<flatbuffers::Offset<fb::Launch>> launches;
  for (const target::GpuLaunch &l : kernel.launches) {
    std::vector<flatbuffers::Offset<fb::LaunchArg>> args;
    for (const target::LaunchArg &a : l.args) {
      bool buffer = a.kind == target::LaunchArg::Buffer;
      fb::Binding b = bind(a.buffer);
      args.push_back(fb::CreateLaunchArg(
          fbb, buffer ? fb::LaunchArgKind::Buffer : fb::LaunchArgKind::Scalar, a.bits,
          (uint8_t)a.bytes, buffer ? &b : nullptr, fbb.CreateVector(a.shape)));
    }
    std::vector<uint32_t> grid(l.grid, l.grid + 3), block(l.block, l.block + 3);
    launches.push_back(fb::CreateLaunch(fbb, fbb.CreateString(l.entry), fbb.CreateVector(grid),
                                        fbb.CreateVector(block), fbb.CreateVector(args)));
  }
  return fbb.CreateVector(launches);
}

int writeArtifact(const compiler::CompiledModel &model, const std::string &path) {
  flatbuffers::FlatBufferBuilder fbb;
  // Host steps first: an op without an encoding fails before any bytes
  // are written.
  std::vector<flatbuffers::Offset<fb::HostStep>> hostSteps;
  if (int rc = serializeHostSteps(fbb, model.host, hostSteps))
    return rc;
  std::string error;
  artifact::ArtifactWriter writer(path);
  if (!writer.begin(error)) {
    llvm::errs() << "kiln: error: " << error << "\n";
    return kIOError;
  }
  auto infos = [&](const std::vector<compiler::TensorSignature> &sigs,
                   std::vector<flatbuffers::Offset<fb::TensorInfo>> &out) {
    for (const auto &s : sigs) {
      std::optional<fb::DType> d = dtypeOf(s.elementType);
      if (!d) {
        std::string t;
        llvm::raw_string_ostream(t) << s.elementType;
        llvm::errs() << "kiln: error: '" << s.name << "' has element type " << t
                     << ", which the runtime does not support\n";
        return false;
      }
      std::vector<flatbuffers::Offset<flatbuffers::String>> names;
      for (const std::string &n : s.dimNames)
        names.push_back(fbb.CreateString(n));
      out.push_back(fb::CreateTensorInfo(
          fbb, fbb.CreateString(s.name), *d, fbb.CreateVector(s.shape),
          s.dims.empty() ? 0 : fbb.CreateVector(s.dims),
          names.empty() ? 0 : fbb.CreateVector(names),
          s.maxShape.empty() ? 0 : fbb.CreateVector(s.maxShape)));
    }
    return true;
  };
  // Outputs' dynamic dims: the dims-vector entries the plan's kernel fills.
  std::vector<compiler::TensorSignature> outputs = model.outputs;
  const target::KernelBlob *planned = nullptr;
  for (const target::KernelBlob &k : model.kernels)
    if (!k.dispatches.empty() && !planned)
      planned = &k;
  for (size_t o = 0; o < outputs.size(); ++o) {
    if (llvm::none_of(outputs[o].shape, [](int64_t d) { return d < 0; }))
      continue;
    auto it = llvm::find(model.host.kernelOutputs, (uint32_t)o);
    size_t k = it - model.host.kernelOutputs.begin();
    if (!planned || it == model.host.kernelOutputs.end() || k >= planned->outputDims.size()) {
      llvm::errs() << "kiln: error: output '" << outputs[o].name
                   << "' has dynamic dims the compiled plan does not compute\n";
      return kUnsupported;
    }
    outputs[o].dims = planned->outputDims[k];
    outputs[o].dimNames.assign(outputs[o].shape.size(), "");
  }
  std::vector<flatbuffers::Offset<fb::TensorInfo>> ins, outs;
  if (!infos(model.inputs, ins) || !infos(outputs, outs))
    return kUnsupported;
  std::vector<flatbuffers::Offset<fb::Weight>> weights;
  for (const auto &w : model.weights) {
    fb::Section s;
    std::vector<artifact::FileSlice> slices;
    for (const auto &piece : w.slices)
      slices.push_back({piece.file, piece.offset, piece.size});
    bool written;
    if (w.view) {
      // A transpose or slice of the weight, gathered once here.
      std::vector<char> source, gathered;
      written = artifact::readFileSlices(slices, source, error);
      if (written) {
        compiler::gatherView(*w.view, source.data(), gathered);
        if (w.quantize) { // codes or scales of the gathered f32 [K, N]
          std::vector<char> quantized;
          compiler::quantizeBlocks(reinterpret_cast<const float *>(gathered.data()),
                                   w.view->shape[0], w.view->shape[1], *w.quantize, quantized);
          gathered.swap(quantized);
        }
        written = writer.append(gathered.data(), gathered.size(), s, error);
      }
    } else {
      written = writer.appendFromFiles(slices, s, error);
    }
    if (!written) {
      llvm::errs() << "kiln: error: " << error << "\n";
      return kIOError;
    }
    weights.push_back(fb::CreateWeight(fbb, fbb.CreateString(w.name), &s));
  }
  // Entry arguments are the inputs the kernels see (string inputs went to
  // host steps), then weights, then outputs.
  const compiler::HostPlan &host = model.host;
  size_t nin = host.kernelInputs.size(), nw = model.weights.size();
  auto bind = [&](const target::DispatchBinding &b) {
    if (b.kind == target::DispatchBinding::Arena)
      return fb::Binding(fb::BufferKind::Arena, 0, b.value, b.bytes);
    if (b.kind == target::DispatchBinding::Slot)
      return fb::Binding(fb::BufferKind::Slot, (uint32_t)b.value, 0, 0);
    if (b.kind == target::DispatchBinding::Dims)
      return fb::Binding(fb::BufferKind::Dims, 0, 0, b.bytes);
    if (b.value < nin)
      return fb::Binding(fb::BufferKind::Input, host.kernelInputs[b.value], 0, b.bytes);
    if (b.value < nin + nw)
      return fb::Binding(fb::BufferKind::Weight, (uint32_t)(b.value - nin), 0, b.bytes);
    return fb::Binding(fb::BufferKind::Output, host.kernelOutputs[b.value - nin - nw], 0,
                       b.bytes);
  };
  std::vector<flatbuffers::Offset<fb::Kernel>> kernels;
  for (const auto &k : model.kernels) {
    fb::Section s;
    if (!writer.append(k.data.data(), k.data.size(), s, error)) {
      llvm::errs() << "kiln: error: " << error << "\n";
      return kIOError;
    }
    kernels.push_back(fb::CreateKernel(fbb, fbb.CreateString(k.target),
                                       fbb.CreateString(k.format), fbb.CreateString(k.entry), &s,
                                       serializeLaunches(fbb, k, bind),
                                       k.launches.empty() ? 0 : k.arenaBytes));
  }
  // The plan of the first kernel that has one (the CPU's); a GPU kernel
  // carries its own launches (above).
  std::vector<flatbuffers::Offset<fb::Dispatch>> plan;
  uint64_t arenaBytes = 0, intermediateBytes = 0;
  for (uint32_t k = 0; k < model.kernels.size(); ++k) {
    const target::KernelBlob &blob = model.kernels[k];
    if (blob.dispatches.empty())
      continue;
    for (const target::DispatchInfo &d : blob.dispatches) {
      std::vector<fb::Binding> bindings;
      for (const target::DispatchBinding &b : d.bindings)
        bindings.push_back(bind(b));
      plan.push_back(fb::CreateDispatch(fbb, k, fbb.CreateString(d.entry), d.workgroups,
                                        fbb.CreateVectorOfStructs(bindings), d.workgroupsEntry));
    }
    arenaBytes = blob.arenaBytes;
    intermediateBytes = blob.intermediateBytes;
    break;
  }
  flatbuffers::Offset<flatbuffers::String> shapeEntry = 0;
  flatbuffers::Offset<flatbuffers::Vector<const fb::ArenaSlot *>> slots = 0;
  flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<fb::ShapeCheck>>> checks = 0;
  int64_t dimsLength = 0;
  if (planned && !planned->shapeEntry.empty()) {
    shapeEntry = fbb.CreateString(planned->shapeEntry);
    dimsLength = planned->dimsLength;
    std::vector<fb::ArenaSlot> table;
    for (const auto &s : planned->slots)
      table.emplace_back(s.bytesEntry, s.first, s.last);
    slots = fbb.CreateVectorOfStructs(table);
    std::vector<flatbuffers::Offset<fb::ShapeCheck>> list;
    for (const auto &c : planned->checks)
      list.push_back(fb::CreateShapeCheck(fbb, c.ok, c.lhs, c.rhs, fbb.CreateString(c.message),
                                          c.dataEntries.empty() ? 0 : fbb.CreateVector(c.dataEntries)));
    checks = fbb.CreateVector(list);
  }
  std::vector<fb::InputValues> inputValues;
  if (planned)
    for (const auto &v : planned->inputValues) {
      if (v.arg < 0 || (size_t)v.arg >= model.host.kernelInputs.size()) {
        llvm::errs() << "kiln: error: internal: input values of kernel argument " << v.arg
                     << ", which is no input\n";
        return kCompileError;
      }
      inputValues.emplace_back(model.host.kernelInputs[v.arg], (uint32_t)v.count, v.entry);
    }
  std::vector<fb::DataDim> dataDims;
  if (planned)
    for (const auto &d : planned->dataDims)
      dataDims.emplace_back(d.entry, (uint32_t)d.dispatch);
  std::vector<flatbuffers::Offset<fb::State>> states;
  for (const compiler::SessionState &st : model.states)
    states.push_back(fb::CreateState(fbb, fbb.CreateString(st.name), fbb.CreateString(st.present),
                                     st.cache, st.lengthInput, st.lengthOutput, st.axis));
  auto manifest = fb::CreateManifest(
      fbb, fbb.CreateString("kiln"), fbb.CreateVector(ins), fbb.CreateVector(outs),
      fbb.CreateVector(weights), fbb.CreateVector(kernels), fbb.CreateVector(plan),
      model.flops, arenaBytes, intermediateBytes, fbb.CreateVector(hostSteps), host.values,
      shapeEntry, model.symbols, dimsLength, slots, checks,
      states.empty() ? 0 : fbb.CreateVector(states),
      inputValues.empty() ? 0 : fbb.CreateVectorOfStructs(inputValues),
      dataDims.empty() ? 0 : fbb.CreateVectorOfStructs(dataDims));
  fb::FinishManifestBuffer(fbb, manifest);
  if (!writer.commit(fbb.GetBufferPointer(), fbb.GetSize(), error)) {
    llvm::errs() << "kiln: error: " << error << "\n";
    return kIOError;
  }
  return kOk;
}

} // namespace

int runCompile() {
  if (emit.empty() && outputPath.empty()) {
    llvm::errs() << "kiln: error: compile needs -o OUT.kiln (or --emit=graph|llvm|asm)\n";
    return kUsage;
  }
  if (!emit.empty() && emit != "graph" && emit != "llvm" && emit != "asm" && emit != "ptx") {
    llvm::errs() << "kiln: error: --emit must be graph, llvm, asm or ptx, got '" << emit
                 << "'\n";
    return kUsage;
  }
  int64_t quantizeBits = 0;
  bool quantizeFloat8 = quantizeWeights == "fp8";
  if (quantizeWeights == "int8" || quantizeFloat8)
    quantizeBits = 8;
  else if (quantizeWeights == "int4")
    quantizeBits = 4;
  else if (!quantizeWeights.empty()) {
    llvm::errs() << "kiln: error: --quantize-weights must be int8, int4 or fp8, got '"
                 << quantizeWeights << "'\n";
    return kUsage;
  }
  if (maxContext < 0 || maxContext > (int64_t(1) << 24)) {
    llvm::errs() << "kiln: error: --max-context must be between 1 and 16777216, got "
                 << maxContext << "\n";
    return kUsage;
  }
  if (quantizeGroupSize < 1) {
    llvm::errs() << "kiln: error: --quantize-group-size must be positive, got "
                 << quantizeGroupSize << "\n";
    return kUsage;
  }
  if (!checkOutputPath(outputPath))
    return kIOError;
  DialectRegistry registry;
  registerAllDialects(registry);
  registerAllExtensions(registry);
  onnx_frontend::registerImporterDialects(registry);
  MLIRContext ctx(registry);
  CliDiagnostics diagnostics(ctx);
  Progress progress(5);

  // --input-value: ONNX models freeze the input before loading (an
  // initializer then, so every shape computed from it is static); kiln IR
  // gets a constant in place of the argument.
  HostTensors frozenValues;
  if (!inputValues.empty()) {
    std::string error;
    std::vector<std::string> specs(inputValues.begin(), inputValues.end());
    if (!readInputs(specs, frozenValues, error)) {
      llvm::errs() << "kiln: error: " << error << "\n";
      return kBadInput;
    }
    for (size_t i = 0; i < specs.size(); ++i)
      if (frozenValues.arrays[i].dtype == KILN_STRING) {
        llvm::errs() << "kiln: error: --input-value cannot freeze strings ('" << specs[i]
                     << "'); string inputs stay inputs\n";
        return kUsage;
      } else if (frozenValues.names[i].empty()) {
        llvm::errs() << "kiln: error: --input-value needs NAME=FILE, got '" << specs[i]
                     << "'\n";
        return kUsage;
      }
  }
  bool isMlir = llvm::StringRef(inputPath).ends_with(".mlir");
  if (isMlir && !dimValues.empty()) {
    llvm::errs() << "kiln: error: --dim needs an ONNX model: kiln IR has no dim names "
                    "(use --input-shape)\n";
    return kUsage;
  }

  progress.stage("import");
  OwningOpRef<ModuleOp> module;
  if (isMlir) {
    llvm::SourceMgr sm;
    module = parseSourceFile<ModuleOp>(inputPath, sm, ParserConfig(&ctx));
    if (!module)
      return kBadInput;
    // Hand-written weights: a FIFO or device would hang or flood the writer.
    std::string error;
    WalkResult walk = module->walk([&](WeightOp w) {
      if (!isRegularFile(w.getFile(), error))
        return WalkResult::interrupt();
      // The bytes it names must exist (found here, not while the artifact
      // is written, where it would read as an output error).
      uint64_t size = 0;
      std::optional<uint64_t> bytes = checkedStorageBytes(w.getType());
      if (std::error_code ec = llvm::sys::fs::file_size(w.getFile(), size)) {
        error = "'" + w.getFile().str() + "': " + ec.message();
        return WalkResult::interrupt();
      }
      if (!bytes ||
          (uint64_t)w.getOffset() > size || *bytes > size - (uint64_t)w.getOffset()) {
        error = "'" + w.getFile().str() + "' holds " + std::to_string(size) + " bytes; weight '" +
                w.getName().str() + "' reads " +
                (bytes ? std::to_string(*bytes) : std::string("more than 2^48")) +
                " bytes at offset " + std::to_string(w.getOffset());
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (walk.wasInterrupted()) {
      llvm::errs() << "kiln: error: weight file " << error << "\n";
      return kBadInput;
    }
  } else {
    onnx_frontend::LoadOptions load = onnx_frontend::importerLoadOptions();
    if (!addShapeOptions(inputShapes, dimValues, load))
      return kUsage;
    for (size_t i = 0; i < frozenValues.arrays.size(); ++i) {
      const NpyArray &a = frozenValues.arrays[i];
      load.frozenInputs[frozenValues.names[i]] = onnx_frontend::serializeTensor(
          frozenValues.names[i], onnxTypeOf(a.dtype), a.shape,
          std::string(a.data.begin(), a.data.end()));
    }
    llvm::Expected<onnx_frontend::LoadedModel> loaded =
        onnx_frontend::loadModel(inputPath, load);
    if (!loaded) {
      llvm::errs() << "kiln: error: " << llvm::toString(loaded.takeError()) << "\n";
      return kBadInput;
    }
    onnx_frontend::ImportOptions importOptions;
    importOptions.allowedDataDirs.assign(allowDataDirs.begin(), allowDataDirs.end());
    FailureOr<OwningOpRef<ModuleOp>> imported =
        onnx_frontend::importModel(ctx, *loaded, importOptions);
    if (failed(imported))
      return kUnsupported;
    module = std::move(*imported);
  }

  if (!frozenValues.arrays.empty() && isMlir &&
      failed(compiler::bindInputValues(*module, frozenAttrs(ctx, frozenValues))))
    return kBadInput;

  progress.stage("graph passes");
  {
    PassManager pm(&ctx);
    GraphPipelineOptions options;
    for (const std::string &spec : inputShapes)
      options.inputShapes.push_back(spec);
    options.fusionReport = verbose;
    options.fusion = !noFusion;
    options.quantizeBits = quantizeBits;
    options.quantizeGroupSize = quantizeGroupSize;
    options.quantizeFloat8 = quantizeFloat8;
    options.maxContext = maxContext;
    buildGraphPipeline(pm, options);
    if (failed(pm.run(*module)))
      return kCompileError;
  }
  if (emit == "graph") {
    progress.finish();
    return writeText(outputPath, [&](llvm::raw_ostream &os) {
      module->print(os);
      os << "\n";
    });
  }


  target::registerBuiltinTargets();
  std::vector<std::unique_ptr<target::Target>> owned;
  std::vector<target::Target *> chosen;
  std::vector<std::string> specs = targets.empty() ? std::vector<std::string>{"cpu"}
                                                   : std::vector<std::string>(targets);
  for (std::string &spec : specs) {
    if (cpuName.empty())
      continue;
    if (llvm::StringRef(spec).starts_with("cpu:")) {
      llvm::errs() << "kiln: error: --cpu=" << cpuName << " conflicts with --target=" << spec
                   << "\n";
      return kUsage;
    }
    if (spec == "cpu")
      spec = "cpu:" + cpuName;
  }
  for (const std::string &spec : specs) {
    std::string error;
    auto t = target::createTarget(spec, error);
    if (!t) {
      llvm::errs() << "kiln: error: " << error << "\n";
      return kUsage;
    }
    if (verbose)
      llvm::errs() << "kiln: target " << t->spec() << ": " << t->capabilities().vectorBits
                   << "-bit vectors x " << t->capabilities().vectorRegisters
                   << (t->capabilities().hasFma ? ", FMA" : "") << "\n";
    chosen.push_back(t.get());
    owned.push_back(std::move(t));
  }

  progress.stage("prepare for code generation");
  compiler::CompiledModel model;
  compiler::PrepareOptions prepare;
  prepare.widenHalfFusedOps = llvm::any_of(
      chosen, [](target::Target *t) { return !t->capabilities().fusedHalfPrecision; });
  if (failed(compiler::prepareForCodegen(*module, model, prepare)))
    return kCompileError;
  if (int code = applyMaxShapes(model))
    return code;

  progress.stage("code generation");
  // lld (linking CPU kernels) resets every llvm::cl option to its default:
  // read the ones needed afterwards first.
  std::string output = outputPath;
  if (emit == "llvm" || emit == "asm" || emit == "ptx") {
    std::string text;
    target::CompileOptions options;
    options.emit = emit == "llvm" ? target::Emit::LLVMIR : target::Emit::Assembly;
    options.text = &text;
    // --emit=ptx picks the (first) cuda target; the others the first target.
    target::Target *t = chosen.front();
    for (target::Target *c : chosen)
      if (emit == "ptx" && c->spec().starts_with("cuda"))
        t = c;
    if (emit == "ptx" && !t->spec().starts_with("cuda")) {
      llvm::errs() << "kiln: error: --emit=ptx needs --target=cuda:sm_XX\n";
      return kUsage;
    }
    if (failed(t->compile(*module, options)))
      return kCompileError;
    progress.finish();
    return writeText(output, [&](llvm::raw_ostream &os) { os << text; });
  }
  target::CompileOptions codegen;
  codegen.verbose = verbose;
  if (failed(compiler::compileKernels(*module, chosen, model, codegen)))
    return kCompileError;

  progress.stage("write artifact");
  int rc = writeArtifact(model, output);
  progress.finish();
  return rc;
}

} // namespace kiln::cli
