//===- ModelLoader.cpp - read, check and shape-infer an ONNX model --------===//
//
// Built with -fexceptions: ONNX's checker and shape inference report errors
// by throwing; everything they throw is caught here and becomes an
// llvm::Error. No exception leaves this file.
//
//===----------------------------------------------------------------------===//

#include "lib/frontend/onnx/ModelLoader.h"

#include "onnx/checker.h"
#include "onnx/defs/function.h"
#include "onnx/defs/schema.h"
#include "onnx/onnx_pb.h"
#include "onnx/shape_inference/implementation.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include <google/protobuf/io/coded_stream.h>
#include <limits>
#include <optional>
#include <set>
#include <csignal>
#include <sys/wait.h>
#include <unistd.h>
#include <unordered_set>

using llvm::Error;
using llvm::Expected;
using llvm::StringRef;

namespace kiln::onnx_frontend {

LoadedModel::LoadedModel() = default;
LoadedModel::~LoadedModel() = default;
LoadedModel::LoadedModel(LoadedModel &&) = default;

static Error fail(const llvm::Twine &msg) {
  return llvm::createStringError(
      std::make_error_code(std::errc::invalid_argument), msg);
}

//===----------------------------------------------------------------------===//
// Opset knowledge of the library
//===----------------------------------------------------------------------===//

int64_t libraryMaxOpset() {
  return onnx::OpSchemaRegistry::DomainToVersionRange::Instance()
      .Map()
      .at(onnx::ONNX_DOMAIN)
      .second;
}

/// Default-domain op versions introduced after opset 17, which ONNX 1.12
/// lacks. At an opset >= one of these the library's schema is outdated.
static const llvm::StringMap<std::vector<int>> &newerOpVersions() {
  static const llvm::StringMap<std::vector<int>> table = [] {
    llvm::StringMap<std::vector<int>> t;
    auto add = [&](int version, std::initializer_list<const char *> ops) {
      for (const char *op : ops)
        t[op].push_back(version);
    };
    add(18, {"BitwiseAnd", "BitwiseNot", "BitwiseOr", "BitwiseXor",
             "CenterCropPad", "Col2Im", "GroupNormalization", "LpPool", "Mish",
             "OptionalGetElement", "OptionalHasElement", "Pad", "ReduceL1",
             "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceMax",
             "ReduceMean", "ReduceMin", "ReduceProd", "ReduceSumSquare",
             "Resize", "ScatterElements", "ScatterND", "Split"});
    add(19, {"AveragePool", "Cast", "CastLike", "Constant", "DeformConv",
             "DequantizeLinear", "Equal", "Identity", "If", "Loop", "Pad",
             "QuantizeLinear", "Reshape", "Resize", "Scan", "Shape", "Size"});
    add(20, {"AffineGrid", "ConstantOfShape", "DFT", "Gelu", "GridSample",
             "ImageDecoder", "IsInf", "IsNaN", "ReduceMax", "ReduceMin",
             "RegexFullMatch", "StringConcat", "StringSplit"});
    add(21, {"Cast", "CastLike", "Constant", "ConstantOfShape",
             "DequantizeLinear", "Flatten", "GroupNormalization", "Identity",
             "If", "Loop", "Pad", "QLinearMatMul", "QuantizeLinear", "Reshape",
             "Scan", "Shape", "Size", "Squeeze", "Transpose", "Unsqueeze"});
    add(22, {"Acos", "Acosh", "Asin", "Asinh", "Atan", "Atanh", "AveragePool",
             "Bernoulli", "Conv", "ConvTranspose", "Cos", "Cosh", "DeformConv",
             "Det", "Dropout", "Elu", "EyeLike", "GRU", "GlobalAveragePool",
             "GlobalLpPool", "GlobalMaxPool", "HardSigmoid", "HardSwish",
             "InstanceNormalization", "LSTM", "LpNormalization", "LpPool",
             "MaxPool", "MaxRoiPool", "MaxUnpool", "Mish", "Multinomial",
             "NegativeLogLikelihoodLoss", "RNN", "RandomNormal",
             "RandomNormalLike", "RandomUniform", "RandomUniformLike",
             "RoiAlign", "Round", "Selu", "Sin", "Sinh", "Softplus", "Softsign",
             "Tan", "ThresholdedRelu"});
    add(23, {"Attention", "Cast", "CastLike", "Constant", "ConstantOfShape",
             "DequantizeLinear", "Flatten", "Identity", "If", "Loop", "Pad",
             "QuantizeLinear", "RMSNormalization", "Reshape", "RotaryEmbedding",
             "Scan", "Shape", "Size", "Squeeze", "Transpose", "Unsqueeze"});
    return t;
  }();
  return table;
}

bool libraryKnowsOp(StringRef opType, StringRef domain, int64_t opset) {
  bool defaultDomain = domain.empty() || domain == "ai.onnx";
  if (!onnx::OpSchemaRegistry::Schema(opType.str(), (int)opset,
                                      defaultDomain ? "" : domain.str()))
    return false;
  if (!defaultDomain)
    return true;
  auto it = newerOpVersions().find(opType);
  if (it == newerOpVersions().end())
    return true;
  for (int v : it->second)
    if (v > libraryMaxOpset() && v <= opset)
      return false;
  return true;
}

//===----------------------------------------------------------------------===//
// Wire-format rewrite: large tensor payloads become external references
//===----------------------------------------------------------------------===//

namespace {
namespace pbio = google::protobuf::io;

/// The ONNX messages on the way from ModelProto to a TensorProto.
enum class Msg { Model, Graph, Node, Attribute, Tensor, Other };

/// Field numbers from onnx.proto that hold nested messages we descend into.
Msg childKind(Msg parent, uint32_t field) {
  switch (parent) {
  case Msg::Model:
    return field == 7 ? Msg::Graph : Msg::Other; // graph
  case Msg::Graph:
    if (field == 1) // node
      return Msg::Node;
    return field == 5 ? Msg::Tensor : Msg::Other; // initializer
  case Msg::Node:
    return field == 5 ? Msg::Attribute : Msg::Other; // attribute
  case Msg::Attribute:
    if (field == 5 || field == 10) // t, tensors
      return Msg::Tensor;
    return (field == 6 || field == 11) ? Msg::Graph : Msg::Other; // g, graphs
  default:
    return Msg::Other;
  }
}
constexpr uint32_t kTensorRawData = 9, kTensorExternalData = 13,
                   kTensorDataLocation = 14;

void appendVarint(std::string &out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(char(v | 0x80));
    v >>= 7;
  }
  out.push_back(char(v));
}
void appendBytesField(std::string &out, uint32_t field, StringRef bytes) {
  appendVarint(out, (field << 3) | 2);
  appendVarint(out, bytes.size());
  out.append(bytes.data(), bytes.size());
}
/// A StringStringEntryProto {key = 1, value = 2} in `field`.
void appendEntry(std::string &out, uint32_t field, StringRef key,
                 StringRef value) {
  std::string entry;
  appendBytesField(entry, 1, key);
  appendBytesField(entry, 2, value);
  appendBytesField(out, field, entry);
}

struct Rewriter {
  const uint8_t *fileStart;
  std::string fileName;
  size_t threshold;
  uint64_t externalized = 0;
  std::string error;

  bool failAt(const uint8_t *at, const char *what) {
    error = std::string(what) + " at byte " + std::to_string(at - fileStart);
    return false;
  }

  bool rewrite(const uint8_t *begin, size_t size, Msg kind, std::string &out,
               int depth) {
    if (depth > 64)
      return failAt(begin, "messages nested more than 64 deep");
    pbio::CodedInputStream in(begin, (int)size);
    std::optional<std::pair<uint64_t, uint64_t>> payload;
    while (true) {
      int start = in.CurrentPosition();
      uint32_t tag = in.ReadTag();
      if (tag == 0) {
        if ((size_t)in.CurrentPosition() != size)
          return failAt(begin + start, "invalid field tag");
        break;
      }
      uint32_t field = tag >> 3;
      switch (tag & 7) {
      case 0: {
        uint64_t v;
        if (!in.ReadVarint64(&v))
          return failAt(begin + start, "truncated varint");
        break;
      }
      case 1: {
        uint64_t v;
        if (!in.ReadLittleEndian64(&v))
          return failAt(begin + start, "truncated 64-bit field");
        break;
      }
      case 5: {
        uint32_t v;
        if (!in.ReadLittleEndian32(&v))
          return failAt(begin + start, "truncated 32-bit field");
        break;
      }
      case 2: {
        uint32_t len;
        if (!in.ReadVarint32(&len))
          return failAt(begin + start, "truncated length");
        size_t dataStart = in.CurrentPosition();
        if (len > size - dataStart)
          return failAt(begin + start, "field runs past the end of its message "
                                       "(truncated file?)");
        const uint8_t *data = begin + dataStart;
        if (kind == Msg::Tensor && field == kTensorRawData && len >= threshold) {
          payload = {uint64_t(data - fileStart), len};
          externalized += len;
          in.Skip(len);
          continue; // dropped: replaced by the external reference below
        }
        if (Msg child = childKind(kind, field); child != Msg::Other) {
          std::string sub;
          if (!rewrite(data, len, child, sub, depth + 1))
            return false;
          in.Skip(len);
          appendBytesField(out, field, sub);
          continue;
        }
        in.Skip(len);
        break;
      }
      default:
        return failAt(begin + start, "unsupported protobuf wire type");
      }
      out.append(reinterpret_cast<const char *>(begin) + start,
                 in.CurrentPosition() - start);
    }
    if (payload) {
      appendVarint(out, kTensorDataLocation << 3);
      appendVarint(out, 1); // TensorProto::EXTERNAL
      appendEntry(out, kTensorExternalData, "location", fileName);
      appendEntry(out, kTensorExternalData, "offset",
                  std::to_string(payload->first));
      appendEntry(out, kTensorExternalData, "length",
                  std::to_string(payload->second));
    }
    return true;
  }
};
} // namespace

Expected<std::string> externalizeTensors(StringRef bytes, StringRef fileName,
                                         size_t threshold,
                                         uint64_t *externalized) {
  if (bytes.size() > (size_t)std::numeric_limits<int>::max())
    return fail("model files over 2 GiB must keep their weights in external "
                "data files (protobuf messages are limited to 2 GiB)");
  auto *start = reinterpret_cast<const uint8_t *>(bytes.data());
  Rewriter rw{start, fileName.str(), threshold, 0, {}};
  std::string out;
  out.reserve(std::min<size_t>(bytes.size(), 1 << 20));
  if (!rw.rewrite(start, bytes.size(), Msg::Model, out, 0))
    return fail("malformed protobuf: " + rw.error);
  if (externalized)
    *externalized = rw.externalized;
  return out;
}

//===----------------------------------------------------------------------===//
// Loading
//===----------------------------------------------------------------------===//

/// Every node input must name a value defined before it: a graph input, an
/// initializer, an earlier node's output, or (in subgraphs) an outer value.
/// ONNX's check_node does not check this, and its shape inference crashes
/// on such graphs, so it is checked first.
static Error checkScopes(const onnx::GraphProto &g,
                         std::unordered_set<std::string> defined, int depth) {
  if (depth > 16)
    return fail("subgraphs nested more than 16 deep");
  for (const auto &in : g.input())
    defined.insert(in.name());
  for (const auto &init : g.initializer())
    defined.insert(init.name());
  for (const auto &node : g.node()) {
    for (const auto &in : node.input())
      if (!in.empty() && !defined.count(in))
        return fail("node '" + node.name() + "' (" + node.op_type() +
                    ") uses '" + in +
                    "', which no graph input, initializer or earlier node "
                    "defines");
    for (const auto &attr : node.attribute()) {
      if (attr.has_g())
        if (Error e = checkScopes(attr.g(), defined, depth + 1))
          return e;
      for (const auto &sub : attr.graphs())
        if (Error e = checkScopes(sub, defined, depth + 1))
          return e;
    }
    for (const auto &out : node.output())
      if (!out.empty())
        defined.insert(out);
  }
  for (const auto &out : g.output())
    if (!defined.count(out.name()))
      return fail("graph output '" + out.name() + "' is not produced by any node");
  return Error::success();
}

/// Runs ONNX's checker on what the library has schemas for. Nodes of ops
/// newer than the library are checked by the importer instead.
static Error checkModel(const LoadedModel &m) {
  const onnx::ModelProto &model = *m.model;
  onnx::checker::CheckerContext ctx;
  ctx.set_ir_version(std::min<int>((int)model.ir_version(),
                                   (int)onnx::Version::IR_VERSION));
  std::unordered_map<std::string, int> opsets;
  for (auto &[domain, version] : m.opsets)
    opsets[domain] = (int)version;
  ctx.set_opset_imports(opsets);
  ctx.set_model_dir(m.dir);
  onnx::checker::LexicalScopeContext scope;
  const onnx::GraphProto &graph = model.graph();
  if (Error e = checkScopes(graph, {}, 0))
    return e;
  try {
    for (const auto &input : graph.input())
      scope.add(input.name());
    for (const auto &init : graph.initializer()) {
      onnx::checker::check_tensor(init, ctx);
      scope.add(init.name());
    }
  } catch (const std::exception &e) {
    return fail(llvm::Twine("invalid initializer: ") + e.what());
  }
  for (const auto &node : graph.node()) {
    auto domainIt = m.opsets.find(node.domain() == "ai.onnx" ? "" : node.domain());
    int64_t opset = domainIt == m.opsets.end() ? 0 : domainIt->second;
    if (libraryKnowsOp(node.op_type(), node.domain(), opset)) {
      try {
        onnx::checker::check_node(node, ctx, scope);
      } catch (const std::exception &e) {
        return fail("node '" + node.name() + "' (" + node.op_type() +
                    "): " + e.what());
      }
    }
    for (const auto &out : node.output())
      if (!out.empty())
        scope.add(out);
  }
  return Error::success();
}

/// How a sandboxed step ended.
enum class Isolated { Ok, Error, Crashed };

/// Runs `work` on `model` in a forked child and, when it succeeds, replaces
/// `model` by the child's result. ONNX 1.12 (checker, shape inference,
/// function builders) is not hardened against malformed models: fuzzing
/// found null dereferences in all three. A crash there must end as a clean
/// error (or a skipped step), never as a crash of kiln.
static Isolated runIsolated(onnx::ModelProto &model, std::string &message,
                            llvm::function_ref<bool(onnx::ModelProto &,
                                                    std::string &)> work) {
  int fds[2];
  if (pipe(fds) != 0) {
    message = "pipe() failed";
    return Isolated::Crashed;
  }
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    message = "fork() failed";
    return Isolated::Crashed;
  }
  if (pid == 0) {
    // A crash here is an expected failure mode: die quietly instead of
    // running the parent's crash handlers (LLVM stack dumps, fuzzer hooks).
    for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP})
      signal(sig, SIG_DFL);
    close(fds[0]);
    std::string msg, out;
    bool ok = false;
    try {
      ok = work(model, msg);
    } catch (const std::exception &e) {
      msg = e.what();
    }
    out.push_back(ok ? 'O' : 'E');
    if (ok)
      model.AppendToString(&out);
    else
      out += msg;
    for (size_t done = 0; done < out.size();) {
      ssize_t n = write(fds[1], out.data() + done, out.size() - done);
      if (n <= 0)
        _exit(3);
      done += n;
    }
    _exit(0);
  }
  close(fds[1]);
  std::string data;
  char chunk[65536];
  for (ssize_t n; (n = read(fds[0], chunk, sizeof chunk)) != 0;) {
    if (n < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    data.append(chunk, n);
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || data.empty())
    return Isolated::Crashed;
  if (data[0] == 'E') {
    message = data.substr(1);
    return Isolated::Error;
  }
  onnx::ModelProto result;
  if (!result.ParseFromArray(data.data() + 1, (int)data.size() - 1)) {
    message = "could not read back the sandboxed result";
    return Isolated::Crashed;
  }
  model = std::move(result);
  return Isolated::Ok;
}

/// ONNX shape inference (with data propagation); false when it failed.
static bool inferShapesInPlace(onnx::ModelProto &model) {
  std::string message;
  return runIsolated(model, message, [](onnx::ModelProto &m, std::string &) {
           onnx::ShapeInferenceOptions opts(/*check_type=*/false,
                                            /*strict_mode=*/0,
                                            /*data_prop=*/true);
           onnx::shape_inference::InferShapes(
               m, onnx::OpSchemaRegistry::Instance(), opts);
           return true;
         }) == Isolated::Ok;
}

/// The types known for each value name (inputs, value_info, initializers).
static std::unordered_map<std::string, onnx::TypeProto>
knownTypes(const onnx::GraphProto &g) {
  std::unordered_map<std::string, onnx::TypeProto> types;
  for (const auto *list : {&g.input(), &g.value_info(), &g.output()})
    for (const auto &vi : *list)
      types[vi.name()] = vi.type();
  for (const auto &init : g.initializer()) {
    onnx::TypeProto t;
    t.mutable_tensor_type()->set_elem_type(init.data_type());
    for (int64_t d : init.dims())
      t.mutable_tensor_type()->mutable_shape()->add_dim()->set_dim_value(d);
    types[init.name()] = t;
  }
  return types;
}

/// Replaces nodes of ops the importer lacks by their ONNX function bodies,
/// repeatedly (bodies may use function ops too). Returns whether any changed.
/// Runs inside runIsolated (function builders can crash on bad input).
static bool expandFunctionsIn(onnx::ModelProto &model, const LoadedModel &m,
                              const LoadOptions &options) {
  bool changedAny = false;
  for (int round = 0; round < 4; ++round) {
    onnx::GraphProto &g = *model.mutable_graph();
    auto types = knownTypes(g);
    google::protobuf::RepeatedPtrField<onnx::NodeProto> nodes;
    nodes.Swap(g.mutable_node());
    bool changed = false;
    int counter = 0;
    for (onnx::NodeProto &node : nodes) {
      std::string domain = node.domain() == "ai.onnx" ? "" : node.domain();
      auto it = m.opsets.find(domain);
      int64_t opset = it == m.opsets.end() ? 0 : it->second;
      const onnx::OpSchema *schema =
          opset ? onnx::OpSchemaRegistry::Schema(node.op_type(), (int)opset, domain)
                : nullptr;
      onnx::FunctionProto body;
      bool expand = schema && !options.hasConverter(domain, node.op_type(), opset) &&
                    libraryKnowsOp(node.op_type(), domain, opset);
      if (expand) {
        try {
          if (schema->HasContextDependentFunction()) {
            std::vector<onnx::TypeProto> inputTypes;
            for (const auto &in : node.input())
              inputTypes.push_back(types.count(in) ? types[in] : onnx::TypeProto());
            onnx::FunctionBodyBuildContextImpl ctx(node, inputTypes);
            expand = schema->BuildContextDependentFunction(ctx, body);
          } else if (schema->HasFunction()) {
            body = *schema->GetFunction();
          } else {
            expand = false;
          }
          if (expand) {
            std::string prefix = (node.name().empty() ? node.op_type() : node.name()) +
                                 "__fn" + std::to_string(round) + "_" +
                                 std::to_string(counter++) + "_";
            onnx::GraphProto expanded;
            onnx::FunctionExpandHelper(node, body, expanded, prefix);
            for (auto &n : *expanded.mutable_node()) {
              if (n.name().empty())
                n.set_name(prefix + n.op_type());
              // An attribute reference the caller leaves unset comes back as
              // the schema's (empty, typeless) default; it means "absent".
              // Kept, SoftmaxCrossEntropyLoss's inner NLL ignored class 0.
              auto *attrs = n.mutable_attribute();
              for (int i = attrs->size() - 1; i >= 0; --i)
                if (attrs->Get(i).type() == onnx::AttributeProto::UNDEFINED ||
                    !attrs->Get(i).ref_attr_name().empty())
                  attrs->DeleteSubrange(i, 1);
              *g.add_node() = std::move(n);
            }
            changed = true;
            continue;
          }
        } catch (const std::exception &) {
          // Leave the node as it is; the importer reports it as unsupported.
        }
      }
      *g.add_node() = std::move(node);
    }
    if (!changed)
      break;
    changedAny = true;
    if (m.shapesInferred) { // types for the new intermediate values
      onnx::ModelProto inferred = model;
      try {
        onnx::ShapeInferenceOptions opts(false, 0, true);
        onnx::shape_inference::InferShapes(
            inferred, onnx::OpSchemaRegistry::Instance(), opts);
        model = std::move(inferred);
      } catch (const std::exception &) {
      }
    }
  }
  return changedAny;
}

static void expandFunctions(LoadedModel &m, const LoadOptions &options) {
  if (!options.hasConverter)
    return;
  std::string message;
  // On a crash the model stays as it was: its function ops then show up in
  // the importer's list of unsupported ops.
  (void)runIsolated(*m.model, message,
                    [&](onnx::ModelProto &model, std::string &) {
                      expandFunctionsIn(model, m, options);
                      return true;
                    });
}

Expected<LoadedModel> loadModel(StringRef path, const LoadOptions &options) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return fail("cannot open '" + path + "': " + buffer.getError().message());
  // The mapping only needs to outlive parsing: weights are re-mapped by
  // the importer (and later stages) from the file itself.
  return loadModelFromBuffer((*buffer)->getBuffer(), path, options);
}

Expected<LoadedModel> loadModelFromBuffer(StringRef bytes, StringRef path,
                                          const LoadOptions &options) {
  if (bytes.empty())
    return fail("'" + path + "' is empty");

  LoadedModel m;
  m.path = path.str();
  llvm::SmallString<256> dir(path);
  llvm::sys::path::remove_filename(dir);
  m.dir = dir.empty() ? "." : std::string(dir);

  Expected<std::string> skeleton =
      externalizeTensors(bytes, llvm::sys::path::filename(path),
                         options.externalizeThreshold, &m.externalizedBytes);
  if (!skeleton)
    return fail("'" + path + "' is not a valid ONNX model: " +
                llvm::toString(skeleton.takeError()));
  m.model = std::make_unique<onnx::ModelProto>();
  if (!m.model->ParseFromString(*skeleton))
    return fail("'" + path + "' is not a valid ONNX model: protobuf parse "
                "failed (wrong field types or a truncated file)");
  if (!m.model->has_graph())
    return fail("'" + path + "' has no graph (is it an ONNX model?)");
  for (const auto &op : m.model->opset_import())
    m.opsets[op.domain() == "ai.onnx" ? "" : op.domain()] = op.version();
  for (const auto &[name, bytes] : options.frozenInputs) {
    onnx::GraphProto *g = m.model->mutable_graph();
    int found = -1;
    for (int i = 0; i < g->input_size(); ++i)
      if (g->input(i).name() == name)
        found = i;
    if (found < 0)
      return fail("'" + path + "' has no input '" + name + "' to freeze");
    onnx::TensorProto value;
    if (!value.ParseFromString(bytes))
      return fail("the value for input '" + name + "' is not a TensorProto");
    int32_t declared = g->input(found).type().tensor_type().elem_type();
    if (declared && value.data_type() != declared)
      return fail("input '" + name + "' has element type " +
                  onnx::TensorProto::DataType_Name(declared) + ", the value given is " +
                  onnx::TensorProto::DataType_Name(value.data_type()));
    value.set_name(name);
    *g->add_initializer() = std::move(value);
    g->mutable_input()->DeleteSubrange(found, 1);
  }
  for (const auto &[name, dims] : options.inputShapes) {
    onnx::GraphProto *g = m.model->mutable_graph();
    onnx::ValueInfoProto *input = nullptr;
    std::string names;
    for (onnx::ValueInfoProto &in : *g->mutable_input()) {
      names += (names.empty() ? "" : ", ") + in.name();
      if (in.name() == name)
        input = &in;
    }
    if (!input)
      return fail("--input-shape names unknown input '" + name + "'; inputs are: " + names);
    if (!input->type().has_tensor_type())
      return fail("--input-shape names input '" + name + "', which is not a tensor");
    bool declared = input->type().tensor_type().has_shape(); // a scalar declares 0 dims
    onnx::TensorShapeProto *shape = input->mutable_type()->mutable_tensor_type()->mutable_shape();
    if (declared && shape->dim_size() != (int)dims.size())
      return fail("input '" + name + "' has rank " + std::to_string(shape->dim_size()) +
                  " but --input-shape gives " + std::to_string(dims.size()) + " dimensions");
    for (int i = 0; i < shape->dim_size(); ++i)
      if (shape->dim(i).has_dim_value() && shape->dim(i).dim_value() >= 0 && // -1: dynamic
          shape->dim(i).dim_value() != dims[i])
        return fail("input '" + name + "' has dimension " + std::to_string(i) + " fixed at " +
                    std::to_string(shape->dim(i).dim_value()) + "; --input-shape gives " +
                    std::to_string(dims[i]) + " (it may only fix dynamic dimensions)");
    shape->clear_dim();
    for (int64_t d : dims)
      shape->add_dim()->set_dim_value(d);
  }
  if (!options.dimValues.empty()) {
    std::set<std::string> used, named;
    onnx::GraphProto *g = m.model->mutable_graph();
    for (onnx::ValueInfoProto &in : *g->mutable_input()) {
      if (!in.type().has_tensor_type() || !in.type().tensor_type().has_shape())
        continue;
      for (onnx::TensorShapeProto::Dimension &d :
           *in.mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim()) {
        if (!d.has_dim_param())
          continue;
        named.insert(d.dim_param());
        auto it = options.dimValues.find(d.dim_param());
        if (it == options.dimValues.end())
          continue;
        used.insert(it->first);
        d.set_dim_value(it->second); // clears dim_param (a oneof)
      }
    }
    for (const auto &[name, value] : options.dimValues)
      if (!used.count(name)) {
        std::string list;
        for (const std::string &n : named)
          list += (list.empty() ? "" : ", ") + n;
        return fail("--dim names '" + name + "', which no input of '" + path + "' uses" +
                    (list.empty() ? std::string(" (its inputs have no named dims)")
                                  : "; its inputs' named dims are: " + list));
      }
  }
  // A graph of only non-default-domain ops (training optimizers) may import
  // no ai.onnx opset; default-domain ops then find no converter.
  m.opset = m.opsets.count("") ? m.opsets[""] : 0;

  std::string checkMessage;
  Isolated checked = runIsolated(
      *m.model, checkMessage, [&](onnx::ModelProto &, std::string &msg) {
        if (Error e = checkModel(m)) {
          msg = llvm::toString(std::move(e));
          return false;
        }
        return true;
      });
  if (checked == Isolated::Error)
    return fail("'" + path + "' failed the ONNX checker: " + checkMessage);
  if (checked == Isolated::Crashed)
    return fail("'" + path + "' is malformed: the ONNX checker crashed on it" +
                (checkMessage.empty() ? "" : " (" + checkMessage + ")"));

  // Shape inference from the reference implementation. When a node is newer
  // than the library its outdated schema would infer wrong shapes that then
  // propagate, so the importer's own inference is used for the whole graph.
  bool allKnown = true;
  for (const auto &node : m.model->graph().node()) {
    auto it = m.opsets.find(node.domain() == "ai.onnx" ? "" : node.domain());
    if (it == m.opsets.end() ||
        !libraryKnowsOp(node.op_type(), node.domain(), it->second))
      allKnown = false;
  }
  if (options.inferShapes && allKnown)
    m.shapesInferred = inferShapesInPlace(*m.model);
  expandFunctions(m, options);
  return m;
}

std::string serializeTensor(const std::string &name, int32_t onnxType,
                            const std::vector<int64_t> &dims, const std::string &bytes) {
  onnx::TensorProto t;
  t.set_name(name);
  t.set_data_type(onnxType);
  for (int64_t d : dims)
    t.add_dims(d);
  t.set_raw_data(bytes);
  return t.SerializeAsString();
}

} // namespace kiln::onnx_frontend
