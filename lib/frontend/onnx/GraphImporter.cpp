//===- GraphImporter.cpp - ONNX graph to a kiln function -------------------===//

#include "lib/frontend/onnx/GraphImporter.h"
#include "lib/support/StorageBytes.h"

#include "onnx/onnx_pb.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/TypeUtilities.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

using namespace mlir;

namespace kiln::onnx_frontend {

Type convertElementType(MLIRContext *ctx, int32_t t) {
  Builder b(ctx);
  auto u = [&](unsigned w) { return IntegerType::get(ctx, w, IntegerType::Unsigned); };
  switch (t) {
  case onnx::TensorProto::FLOAT: return b.getF32Type();
  case onnx::TensorProto::UINT8: return u(8);
  case onnx::TensorProto::INT8: return b.getI8Type();
  case onnx::TensorProto::UINT16: return u(16);
  case onnx::TensorProto::INT16: return b.getI16Type();
  case onnx::TensorProto::INT32: return b.getI32Type();
  case onnx::TensorProto::INT64: return b.getI64Type();
  case onnx::TensorProto::BOOL: return b.getI1Type();
  case onnx::TensorProto::FLOAT16: return b.getF16Type();
  case onnx::TensorProto::DOUBLE: return b.getF64Type();
  case onnx::TensorProto::UINT32: return u(32);
  case onnx::TensorProto::UINT64: return u(64);
  case onnx::TensorProto::BFLOAT16: return b.getBF16Type();
  case onnx::TensorProto::STRING: return StringType::get(ctx);
  case 17: return Float8E4M3FNType::get(ctx);
  case 18: return Float8E4M3FNUZType::get(ctx);
  case 19: return Float8E5M2Type::get(ctx);
  case 20: return Float8E5M2FNUZType::get(ctx);
  default: return {};
  }
}

StringRef onnxTypeName(int32_t t) {
  if (onnx::TensorProto::DataType_IsValid(t))
    return onnx::TensorProto::DataType_Name(t);
  switch (t) {
  case 17: return "FLOAT8E4M3FN";
  case 18: return "FLOAT8E4M3FNUZ";
  case 19: return "FLOAT8E5M2";
  case 20: return "FLOAT8E5M2FNUZ";
  case 21: return "UINT4";
  case 22: return "INT4";
  case 23: return "FLOAT4E2M1";
  default: return "unknown";
  }
}

GraphImporter::GraphImporter(MLIRContext &ctx, const LoadedModel &model,
                             const ImportOptions &options)
    : ctx(ctx), model(model), options(options), builder(&ctx) {}

FailureOr<Type> GraphImporter::convertType(const onnx::TypeProto &type,
                                          const Twine &what, Location loc,
                                          bool allowUnranked) {
  if (type.has_sequence_type()) {
    FailureOr<Type> e = convertType(type.sequence_type().elem_type(),
                                    what + "'s sequence elements", loc, true);
    if (failed(e))
      return failure();
    if (!isa<TensorType>(*e))
      return emitError(loc) << what << " is a sequence of non-tensors, which "
                                       "kiln does not support";
    return Type(SequenceType::get(&ctx, cast<TensorType>(*e)));
  }
  if (type.has_optional_type()) {
    FailureOr<Type> e =
        convertType(type.optional_type().elem_type(), what + "'s value", loc, true);
    if (failed(e))
      return failure();
    return Type(OptionalType::get(&ctx, *e));
  }
  if (type.has_map_type() || type.has_sparse_tensor_type())
    return emitError(loc) << what
                          << " is a map or sparse tensor, which kiln does not "
                             "support";
  if (!type.has_tensor_type())
    return emitError(loc) << what << " has no type kiln knows (not a tensor, "
                                     "sequence or optional)";
  const auto &tt = type.tensor_type();
  Type elt = convertElementType(&ctx, tt.elem_type());
  if (!elt)
    return emitError(loc) << what << " has element type "
                          << onnxTypeName(tt.elem_type())
                          << ", which kiln does not support";
  if (!tt.has_shape()) {
    if (allowUnranked)
      return Type(UnrankedTensorType::get(elt));
    return emitError(loc) << what
                          << " has no shape (unknown rank); give the model "
                             "input shapes or run ONNX shape inference";
  }
  SmallVector<int64_t> dims;
  for (const auto &d : tt.shape().dim())
    dims.push_back(d.has_dim_value() && d.dim_value() >= 0 ? d.dim_value()
                                                           : ShapedType::kDynamic);
  if (dims.size() > kMaxRank)
    return emitError(loc) << what << " has rank " << dims.size() << "; kiln accepts up to "
                          << kMaxRank;
  SmallVector<int64_t> known(llvm::make_filter_range(dims, [](int64_t d) { return d >= 0; }));
  if (!checkedElementCount(known))
    return emitError(loc) << what << " has a shape larger than kiln accepts (2^48 bytes)";
  return Type(RankedTensorType::get(dims, elt));
}

FailureOr<StringRef> GraphImporter::readExternal(StringRef file, uint64_t offset,
                                                 uint64_t length, Location loc,
                                                 std::string *resolved) {
  auto it = files.find(file);
  if (it == files.end()) {
    llvm::Expected<DataFile> opened =
        openDataFile({model.dir, options.allowedDataDirs}, file);
    if (!opened)
      return emitError(loc) << "tensor data: " << llvm::toString(opened.takeError());
    it = files.try_emplace(file, std::move(*opened)).first;
  }
  if (resolved)
    *resolved = it->second.path;
  StringRef bytes = it->second.buffer->getBuffer();
  if (offset > bytes.size() || length > bytes.size() - offset)
    return emitError(loc) << "external data '" << file << "' holds "
                          << bytes.size() << " bytes; the tensor needs bytes ["
                          << offset << ", " << offset + length
                          << ") (truncated file?)";
  return bytes.substr(offset, length);
}

/// Decodes a tensor's payload (raw little-endian bytes or typed fields).
static FailureOr<DenseElementsAttr> decodeTensor(const onnx::TensorProto &t,
                                                 RankedTensorType type,
                                                 std::optional<StringRef> raw,
                                                 Location loc) {
  Type elt = type.getElementType();
  size_t bytesPer = elementStorageBytes(elt);
  std::optional<uint64_t> size = checkedStorageBytes(type);
  if (!size)
    return emitError(loc) << "tensor '" << t.name() << "' (rank " << type.getRank()
                          << ") is larger than kiln accepts (2^48 bytes, rank 64)";
  int64_t n = type.getNumElements();
  // Typed fields hold one value per element: check the count before
  // allocating (a header claiming 2^40 elements with one value).
  int64_t values = t.float_data_size() + t.double_data_size() + t.int64_data_size() +
                   t.uint64_data_size() + t.int32_data_size();
  if (!raw && values != n)
    return emitError(loc) << "tensor '" << t.name() << "' has " << values
                          << " values, expected " << n << " for " << type;
  std::string buffer;
  if (raw) {
    if (raw->size() != (size_t)n * bytesPer)
      return emitError(loc) << "tensor '" << t.name() << "' holds " << raw->size()
                            << " bytes, expected " << n * bytesPer << " for "
                            << type;
    buffer = raw->str();
  } else {
    buffer.resize(n * bytesPer);
    auto put = [&](int64_t i, uint64_t bits) {
      for (size_t k = 0; k < bytesPer; ++k)
        buffer[i * bytesPer + k] = char((bits >> (8 * k)) & 0xff);
    };
    auto check = [&](int64_t have) -> LogicalResult {
      if (have == n)
        return success();
      return emitError(loc) << "tensor '" << t.name() << "' has " << have
                            << " values, expected " << n << " for " << type;
    };
    // float_data / double_data hold IEEE values; store their bit patterns.
    auto putFloats = [&](const auto &field) -> LogicalResult {
      if (failed(check(field.size())))
        return failure();
      for (int64_t i = 0; i < n; ++i) {
        auto v = field.Get(i);
        std::conditional_t<sizeof(v) == 4, uint32_t, uint64_t> bits;
        memcpy(&bits, &v, sizeof v);
        put(i, bits);
      }
      return success();
    };
    if (t.float_data_size() || elt.isF32()) {
      if (failed(putFloats(t.float_data())))
        return failure();
    } else if (t.double_data_size() || elt.isF64()) {
      if (failed(putFloats(t.double_data())))
        return failure();
    } else if (t.int64_data_size() || (elt.isInteger(64) && !elt.isUnsignedInteger())) {
      if (failed(check(t.int64_data_size())))
        return failure();
      for (int64_t i = 0; i < n; ++i)
        put(i, (uint64_t)t.int64_data(i));
    } else if (t.uint64_data_size() || elt.isUnsignedInteger(32) ||
               elt.isUnsignedInteger(64)) {
      if (failed(check(t.uint64_data_size())))
        return failure();
      for (int64_t i = 0; i < n; ++i)
        put(i, t.uint64_data(i));
    } else {
      // int32_data carries every narrower type, float16/bfloat16 as bits.
      if (failed(check(t.int32_data_size())))
        return failure();
      for (int64_t i = 0; i < n; ++i)
        put(i, (uint64_t)(uint32_t)t.int32_data(i));
    }
  }
  if (elt.isInteger(1)) {
    SmallVector<bool> bits;
    for (char c : buffer)
      bits.push_back(c != 0);
    return DenseElementsAttr::get(type, bits);
  }
  bool splat = false;
  ArrayRef<char> data(buffer.data(), buffer.size());
  if (!DenseElementsAttr::isValidRawBuffer(type, data, splat))
    return emitError(loc) << "tensor '" << t.name() << "' cannot be decoded as "
                          << type;
  return DenseElementsAttr::getFromRawBuffer(type, data);
}

FailureOr<Value> GraphImporter::importTensor(const onnx::TensorProto &t,
                                             Location loc) {
  Type elt = convertElementType(&ctx, t.data_type());
  if (!elt)
    return emitError(loc) << "tensor '" << t.name() << "' has element type "
                          << onnxTypeName(t.data_type())
                          << ", which kiln does not support";
  if (isa<StringType>(elt))
    return emitError(loc) << "tensor '" << t.name()
                          << "' holds strings; kiln does not import string "
                             "constants yet";
  SmallVector<int64_t> dims(t.dims().begin(), t.dims().end());
  for (int64_t d : dims)
    if (d < 0)
      return emitError(loc) << "tensor '" << t.name()
                            << "' has a negative dimension";
  auto type = RankedTensorType::get(dims, elt);
  if (!checkedStorageBytes(type))
    return emitError(loc) << "tensor '" << t.name() << "' (rank " << type.getRank()
                          << ") is larger than kiln accepts (2^48 bytes, rank 64)";
  int64_t n = type.getNumElements();
  size_t bytes = storageBytes(type);

  std::optional<StringRef> raw;
  if (t.data_location() == onnx::TensorProto::EXTERNAL) {
    std::string file;
    uint64_t offset = 0, length = bytes;
    for (const auto &e : t.external_data()) {
      if (e.key() == "location")
        file = e.value();
      else if (e.key() == "offset" || e.key() == "length") {
        uint64_t v;
        if (StringRef(e.value()).getAsInteger(10, v))
          return emitError(loc) << "tensor '" << t.name() << "' has external "
                                << e.key() << " '" << e.value()
                                << "', which is not a number";
        (e.key() == "offset" ? offset : length) = v;
      }
    }
    if (file.empty())
      return emitError(loc) << "tensor '" << t.name()
                            << "' is external but names no location";
    if (length != bytes)
      return emitError(loc) << "tensor '" << t.name() << "' of type " << type
                            << " needs " << bytes << " bytes, external data says "
                            << length;
    // Check the bytes exist even when the data is not read now.
    std::string path;
    FailureOr<StringRef> data = readExternal(file, offset, length, loc, &path);
    if (failed(data))
      return failure();
    if (n > options.inlineConstantElements) {
      // The resolved path: later stages re-open what was checked here.
      return Value(WeightOp::create(builder, loc, type, t.name(), path,
                                    (int64_t)offset));
    }
    raw = *data;
  } else if (t.has_raw_data()) {
    raw = StringRef(t.raw_data());
  }
  FailureOr<DenseElementsAttr> attr = decodeTensor(t, type, raw, loc);
  if (failed(attr))
    return failure();
  return Value(arith::ConstantOp::create(builder, loc, *attr));
}

/// Ops whose converters accept sequence and optional operands; every other
/// converter may assume ranked tensors.
static bool takesNonTensors(StringRef domain, StringRef op) {
  return domain.empty() &&
         (op.starts_with("Sequence") || op.starts_with("Optional") ||
          op == "ConcatFromSequence" || op == "Identity" || op == "If" ||
          op == "Loop");
}

LogicalResult GraphImporter::importNodes(const onnx::GraphProto &graph) {
  const OpRegistry &registry = OpRegistry::get();
  struct Unsupported {
    std::string op, domain, node;
    int64_t opset;
  };
  std::vector<Unsupported> unsupported;
  llvm::StringSet<> poisoned; // outputs of nodes we could not convert

  for (auto [index, node] : llvm::enumerate(graph.node())) {
    std::string name = node.name().empty()
                           ? node.op_type() + "_" + std::to_string(index)
                           : node.name();
    Location loc = NameLoc::get(StringAttr::get(&ctx, name),
                                NameLoc::get(StringAttr::get(&ctx, node.op_type())));
    std::string domain = node.domain() == "ai.onnx" ? "" : node.domain();
    auto opsetIt = model.opsets.find(domain);
    int64_t opset = opsetIt == model.opsets.end() ? 0 : opsetIt->second;
    bool blocked = false;
    for (const auto &in : node.input())
      if (!in.empty() && poisoned.contains(in))
        blocked = true;
    ConvertFn fn = opset ? registry.lookup(domain, node.op_type(), opset) : nullptr;
    if (!fn || blocked) {
      if (!fn)
        unsupported.push_back({node.op_type(), domain.empty() ? "ai.onnx" : domain,
                               name, opset});
      for (const auto &out : node.output())
        poisoned.insert(out);
      continue;
    }
    for (const auto &in : node.input())
      if (!in.empty() && !values.count(in))
        return emitError(loc) << "node '" << name << "' (" << node.op_type()
                              << ") uses '" << in
                              << "', which no graph input, initializer or "
                                 "earlier node defines";
    if (!takesNonTensors(domain, node.op_type()))
      for (const auto &in : node.input())
        if (!in.empty() && !isa<RankedTensorType>(values[in].getType()))
          return emitError(loc) << "node '" << name << "' (" << node.op_type()
                                << ") takes '" << in << "' of type "
                                << values[in].getType()
                                << ", but the op needs a tensor";
    builder.setInsertionPointToEnd(builder.getBlock());
    NodeImporter ni(*this, node, opset, loc);
    if (failed(fn(ni)) || ni.failed())
      return failure();
  }
  if (unsupported.empty())
    return success();
  InFlightDiagnostic diag = emitError(UnknownLoc::get(&ctx))
                            << unsupported.size()
                            << " ONNX node(s) use ops kiln cannot import:";
  for (const Unsupported &u : unsupported) {
    diag << "\n  " << u.op << " (domain " << u.domain << ", opset " << u.opset
         << ") at node '" << u.node << "'";
    if (!u.opset)
      diag << " — the model imports no opset for this domain";
    else if (registry.knows(u.domain == "ai.onnx" ? "" : u.domain, u.op))
      diag << " — this opset version of the op is not handled";
  }
  return failure();
}

FailureOr<SmallVector<Value>>
GraphImporter::importSubgraph(const onnx::GraphProto &graph, ValueRange inputs,
                              Location loc) {
  if (subgraphDepth >= 8)
    return emitError(loc) << "subgraphs nested more than 8 deep";
  if ((size_t)graph.input_size() != inputs.size())
    return emitError(loc) << "subgraph '" << graph.name() << "' takes "
                          << graph.input_size() << " inputs, got "
                          << inputs.size();
  for (auto [vi, v] : llvm::zip(graph.input(), inputs))
    values[vi.name()] = v;
  for (const auto &init : graph.initializer()) {
    FailureOr<Value> v = importTensor(init, loc);
    if (failed(v))
      return failure();
    values[init.name()] = *v;
  }
  ++subgraphDepth;
  LogicalResult nodes = importNodes(graph);
  --subgraphDepth;
  if (failed(nodes))
    return failure();
  SmallVector<Value> outs;
  for (const auto &out : graph.output()) {
    Value v = values.lookup(out.name());
    if (!v)
      return emitError(loc) << "subgraph output '" << out.name()
                            << "' is not produced";
    outs.push_back(v);
  }
  return outs;
}

FailureOr<OwningOpRef<ModuleOp>> GraphImporter::run() {
  const onnx::GraphProto &graph = model.model->graph();
  Location fileLoc = FileLineColLoc::get(&ctx, model.path, 0, 0);
  OwningOpRef<ModuleOp> module = ModuleOp::create(fileLoc);
  builder.setInsertionPointToEnd(module->getBody());

  for (const auto &vi : graph.value_info())
    declaredTypes[vi.name()] = &vi.type();
  for (const auto &vi : graph.output())
    declaredTypes[vi.name()] = &vi.type();

  // Inputs that are also initializers (IR < 4) are weights, not arguments.
  llvm::StringSet<> initNames;
  for (const auto &init : graph.initializer())
    initNames.insert(init.name());
  SmallVector<Type> argTypes;
  SmallVector<const onnx::ValueInfoProto *> args;
  for (const auto &in : graph.input()) {
    if (initNames.contains(in.name()))
      continue;
    FailureOr<Type> t = convertType(
        in.type(), "input '" + in.name() + "'",
        NameLoc::get(StringAttr::get(&ctx, in.name()), fileLoc));
    if (failed(t))
      return failure();
    argTypes.push_back(*t);
    args.push_back(&in);
  }
  auto func = func::FuncOp::create(builder, fileLoc, "main",
                                   builder.getFunctionType(argTypes, {}));
  Block *body = func.addEntryBlock();
  for (auto [i, in] : llvm::enumerate(args)) {
    func.setArgAttr(i, "kiln.name", builder.getStringAttr(in->name()));
    // Named dynamic dims (ONNX dim_param: "batch", "seq"): inputs sharing a
    // name share one size at run time, which the runtime checks.
    if (in->type().has_tensor_type() && in->type().tensor_type().has_shape()) {
      SmallVector<Attribute> names;
      bool any = false;
      for (const auto &d : in->type().tensor_type().shape().dim()) {
        names.push_back(builder.getStringAttr(d.has_dim_param() ? d.dim_param() : ""));
        any |= d.has_dim_param() && !d.dim_param().empty();
      }
      if (any)
        func.setArgAttr(i, "kiln.dim_names", builder.getArrayAttr(names));
    }
    values[in->name()] = body->getArgument(i);
  }
  builder.setInsertionPointToEnd(body);

  for (const auto &init : graph.initializer()) {
    Location loc = NameLoc::get(StringAttr::get(&ctx, init.name()), fileLoc);
    FailureOr<Value> v = importTensor(init, loc);
    if (failed(v))
      return failure();
    values[init.name()] = *v;
  }

  if (failed(importNodes(graph)))
    return failure();

  SmallVector<Value> results;
  for (const auto &out : graph.output()) {
    auto it = values.find(out.name());
    if (it == values.end())
      return emitError(fileLoc) << "graph output '" << out.name()
                                << "' is not produced by any node";
    Value v = it->second;
    // A string normalizer's length depends on the data; the graph's
    // declared output shape fixes it (the runtime checks it holds).
    if (auto normalize = v.getDefiningOp<StringNormalizeOp>();
        normalize && out.has_type() && out.type().has_tensor_type() &&
        out.type().tensor_type().has_shape()) {
      FailureOr<Type> declared = convertType(out.type(), "output '" + out.name() + "'", fileLoc);
      auto want = succeeded(declared) ? dyn_cast<RankedTensorType>(*declared) : nullptr;
      auto have = cast<RankedTensorType>(v.getType());
      if (want && want.hasStaticShape() && want.getElementType() == have.getElementType() &&
          succeeded(verifyCompatibleShape(want, have)))
        v.setType(want);
    }
    results.push_back(v);
  }
  builder.setInsertionPointToEnd(body);
  func::ReturnOp::create(builder, fileLoc, results);
  func.setType(builder.getFunctionType(argTypes, ValueRange(results).getTypes()));
  // Shape computations folded at import leave their constants unused.
  for (Operation &op : llvm::make_early_inc_range(llvm::reverse(*body)))
    if (isOpTriviallyDead(&op))
      op.erase();
  for (auto [i, out] : llvm::enumerate(graph.output()))
    func.setResultAttr(i, "kiln.name", builder.getStringAttr(out.name()));
  if (failed(verify(*module)))
    return failure();
  return module;
}

FailureOr<OwningOpRef<ModuleOp>> importModel(MLIRContext &context,
                                             const LoadedModel &model,
                                             const ImportOptions &options) {
  context.loadDialect<KilnDialect, func::FuncDialect, arith::ArithDialect,
                      tensor::TensorDialect>();
  GraphImporter importer(context, model, options);
  return importer.run();
}

void registerImporterDialects(DialectRegistry &registry) {
  registry.insert<KilnDialect, func::FuncDialect, arith::ArithDialect,
                  tensor::TensorDialect>();
}

} // namespace kiln::onnx_frontend

namespace kiln::onnx_frontend {

FailureOr<DenseElementsAttr> readTensorProto(MLIRContext &ctx, StringRef bytes,
                                             Location loc) {
  onnx::TensorProto t;
  if (bytes.size() > (size_t)INT32_MAX || !t.ParseFromArray(bytes.data(), (int)bytes.size()))
    return emitError(loc) << "is not a serialized ONNX TensorProto";
  if (t.data_location() == onnx::TensorProto::EXTERNAL)
    return emitError(loc) << "keeps its data in an external file, which kiln "
                             "does not read for inputs";
  ctx.getOrLoadDialect<KilnDialect>(); // for !kiln.string
  Type elt = convertElementType(&ctx, t.data_type());
  if (!elt)
    return emitError(loc) << "has element type " << onnxTypeName(t.data_type())
                          << ", which kiln does not support for inputs";
  SmallVector<int64_t> dims(t.dims().begin(), t.dims().end());
  if (llvm::any_of(dims, [](int64_t d) { return d < 0; }))
    return emitError(loc) << "has a negative dimension";
  auto type = RankedTensorType::get(dims, elt);
  if (!checkedElementCount(dims))
    return emitError(loc) << "has a shape of rank " << dims.size()
                          << " larger than kiln accepts (2^48 bytes, rank 64)";
  if (isa<StringType>(elt)) {
    // String inputs (bound to host steps): the strings as they are.
    if (t.string_data_size() != type.getNumElements())
      return emitError(loc) << "holds " << t.string_data_size() << " strings for shape "
                            << type << " (" << type.getNumElements() << " elements)";
    SmallVector<StringRef> strings(t.string_data().begin(), t.string_data().end());
    return DenseElementsAttr(DenseStringElementsAttr::get(type, strings));
  }
  std::optional<StringRef> raw;
  if (t.has_raw_data())
    raw = StringRef(t.raw_data());
  return decodeTensor(t, RankedTensorType::get(dims, elt), raw, loc);
}

} // namespace kiln::onnx_frontend
