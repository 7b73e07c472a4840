//===- NodeImporter.cpp - the converter's view of one node ----------------===//

#include "lib/frontend/onnx/NodeImporter.h"
#include "lib/frontend/onnx/GraphImporter.h"
#include "lib/frontend/onnx/Importer.h"
#include "dialects/kiln/IR/TypeInference.h"
#include "lib/support/StorageBytes.h"

#include "onnx/onnx_pb.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;

namespace kiln::onnx_frontend {

NodeImporter::NodeImporter(GraphImporter &graph, const onnx::NodeProto &node,
                           int64_t opset, Location loc)
    : node(node), opset(opset), loc(loc), b(graph.builder), graph(graph) {}

StringRef NodeImporter::opType() const { return node.op_type(); }

size_t NodeImporter::numInputs() const { return node.input_size(); }
size_t NodeImporter::numOutputs() const { return node.output_size(); }

Value NodeImporter::input(size_t i) const {
  if (i >= (size_t)node.input_size() || node.input(i).empty())
    return {};
  return graph.values.lookup(node.input(i));
}

FailureOr<Value> NodeImporter::required(size_t i) const {
  if (Value v = input(i))
    return v;
  (void)error("input " + std::to_string(i) + " is required");
  return failure();
}

RankedTensorType NodeImporter::inputType(size_t i) const {
  Value v = input(i);
  return v ? dyn_cast<RankedTensorType>(v.getType()) : RankedTensorType();
}

bool NodeImporter::hasOutput(size_t i) const {
  return i < (size_t)node.output_size() && !node.output(i).empty();
}

void NodeImporter::setOutput(size_t i, Value v) {
  if (hasOutput(i))
    graph.values[node.output(i)] = v;
}

RankedTensorType NodeImporter::declaredOutputType(size_t i) const {
  if (!hasOutput(i))
    return {};
  auto it = graph.declaredTypes.find(node.output(i));
  if (it == graph.declaredTypes.end() || !it->second->has_tensor_type() ||
      !it->second->tensor_type().has_shape())
    return {};
  const auto &tt = it->second->tensor_type();
  Type elt = convertElementType(b.getContext(), tt.elem_type());
  if (!elt)
    return {};
  SmallVector<int64_t> dims;
  for (const auto &d : tt.shape().dim())
    dims.push_back(d.has_dim_value() ? d.dim_value() : ShapedType::kDynamic);
  return RankedTensorType::get(dims, elt);
}

//===----------------------------------------------------------------------===//
// Attributes
//===----------------------------------------------------------------------===//

const onnx::AttributeProto *NodeImporter::attr(StringRef name) const {
  for (const auto &a : node.attribute())
    if (a.name() == name)
      return &a;
  return nullptr;
}

int64_t NodeImporter::attrInt(StringRef name, int64_t dflt) const {
  const auto *a = attr(name);
  return a ? a->i() : dflt;
}

float NodeImporter::attrFloat(StringRef name, float dflt) const {
  const auto *a = attr(name);
  if (!a)
    return dflt;
  // Some ops type the same concept differently (Dropout's seed is an int).
  return a->type() == onnx::AttributeProto::INT ? (float)a->i() : a->f();
}

std::string NodeImporter::attrString(StringRef name, StringRef dflt) const {
  const auto *a = attr(name);
  return a ? a->s() : dflt.str();
}

std::optional<SmallVector<int64_t>> NodeImporter::attrInts(StringRef name) const {
  const auto *a = attr(name);
  if (!a)
    return std::nullopt;
  return SmallVector<int64_t>(a->ints().begin(), a->ints().end());
}

std::optional<SmallVector<std::string>>
NodeImporter::attrStrings(StringRef name) const {
  const auto *a = attr(name);
  if (!a)
    return std::nullopt;
  return SmallVector<std::string>(a->strings().begin(), a->strings().end());
}

std::optional<SmallVector<float>> NodeImporter::attrFloats(StringRef name) const {
  const auto *a = attr(name);
  if (!a)
    return std::nullopt;
  return SmallVector<float>(a->floats().begin(), a->floats().end());
}

FailureOr<Value> NodeImporter::attrTensor(StringRef name) {
  const auto *a = attr(name);
  if (!a || !a->has_t()) {
    (void)error("attribute '" + name + "' must be a tensor");
    return failure();
  }
  return graph.importTensor(a->t(), loc);
}

FailureOr<SmallVector<Value>> NodeImporter::importSubgraph(StringRef name,
                                                          ValueRange inputs) {
  const auto *a = attr(name);
  if (!a || !a->has_g()) {
    (void)error("attribute '" + name + "' must be a graph");
    return failure();
  }
  return graph.importSubgraph(a->g(), inputs, loc);
}

//===----------------------------------------------------------------------===//
// Constants
//===----------------------------------------------------------------------===//

std::optional<SmallVector<int64_t>> NodeImporter::constInts(Value v) const {
  DenseElementsAttr attr;
  if (!v || !matchPattern(v, m_Constant(&attr)) ||
      !isa<IntegerType>(attr.getElementType()))
    return std::nullopt;
  SmallVector<int64_t> out;
  for (const APInt &x : attr.getValues<APInt>())
    out.push_back(attr.getElementType().isUnsignedInteger() ? (int64_t)x.getZExtValue()
                                                           : x.getSExtValue());
  return out;
}

std::optional<SmallVector<double>> NodeImporter::constFloats(Value v) const {
  DenseElementsAttr attr;
  if (!v || !matchPattern(v, m_Constant(&attr)))
    return std::nullopt;
  SmallVector<double> out;
  if (isa<FloatType>(attr.getElementType())) {
    for (const APFloat &x : attr.getValues<APFloat>())
      out.push_back(x.convertToDouble());
  } else if (auto ints = constInts(v)) {
    for (int64_t x : *ints)
      out.push_back((double)x);
  } else {
    return std::nullopt;
  }
  return out;
}

Value NodeImporter::constant(RankedTensorType type, ArrayRef<double> values) {
  Type elt = type.getElementType();
  DenseElementsAttr attr;
  if (auto ft = dyn_cast<FloatType>(elt)) {
    SmallVector<APFloat> xs;
    for (double d : values) {
      APFloat f(d);
      bool lost;
      f.convert(ft.getFloatSemantics(), APFloat::rmNearestTiesToEven, &lost);
      xs.push_back(f);
    }
    attr = DenseElementsAttr::get(type, xs);
  } else if (elt.isInteger(1)) {
    SmallVector<bool> xs;
    for (double d : values)
      xs.push_back(d != 0);
    attr = DenseElementsAttr::get(type, xs);
  } else {
    SmallVector<APInt> xs;
    for (double d : values)
      xs.push_back(APInt(elt.getIntOrFloatBitWidth(), (int64_t)d, /*isSigned=*/true,
                         /*implicitTrunc=*/true));
    attr = DenseElementsAttr::get(type, xs);
  }
  return arith::ConstantOp::create(b, loc, attr);
}

Value NodeImporter::splat(Type elementType, double value, ArrayRef<int64_t> shape) {
  auto type = RankedTensorType::get(shape, elementType);
  SmallVector<double> values(1, value);
  Value one = constant(RankedTensorType::get({}, elementType), values);
  if (shape.empty())
    return one;
  DenseElementsAttr attr;
  matchPattern(one, m_Constant(&attr));
  one.getDefiningOp()->erase();
  return arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(type, attr.getSplatValue<Attribute>()));
}

Value NodeImporter::i64s(ArrayRef<int64_t> values) {
  auto type = RankedTensorType::get({(int64_t)values.size()}, b.getI64Type());
  return arith::ConstantOp::create(b, loc, DenseElementsAttr::get(type, values));
}

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

Value NodeImporter::lookup(StringRef name) const {
  return graph.values.lookup(name);
}

bool NodeImporter::withinLimits(Operation *op) {
  for (Type t : op->getResultTypes()) {
    auto ranked = dyn_cast<RankedTensorType>(t);
    if (!ranked)
      continue;
    if (ranked.getRank() > (int64_t)kMaxRank)
      return (void)error("'" + op->getName().getStringRef() + "' would produce rank " +
                         std::to_string(ranked.getRank()) + "; kiln accepts ranks up to " +
                         std::to_string(kMaxRank)),
             false;
    // The static dims alone (a dynamic dim counts as 1) must fit.
    SmallVector<int64_t> known;
    for (int64_t d : ranked.getShape())
      known.push_back(ShapedType::isDynamic(d) ? 1 : d);
    if (!checkedTensorBytes(known, std::max<uint64_t>(1, elementStorageBytes(
                                                              ranked.getElementType()))))
      return (void)error("'" + op->getName().getStringRef() + "' would produce " +
                         shapeToString(ranked.getShape()) +
                         ", larger than kiln accepts (2^48 bytes)"),
             false;
  }
  return true;
}

Value NodeImporter::finish(Operation *op) {
  SmallVector<Value> folded;
  if (succeeded(b.tryFold(op, folded)) && !folded.empty()) {
    op->erase();
    return folded.front();
  }
  return op->getResult(0);
}

Value NodeImporter::castTo(Value v, Type elementType) {
  if (!v)
    return {};
  auto t = cast<RankedTensorType>(v.getType());
  if (t.getElementType() == elementType)
    return v;
  return create<CastOp>(RankedTensorType::get(t.getShape(), elementType), v);
}

Value NodeImporter::reduce(ReduceKind kind, Value v, ArrayRef<int64_t> axes,
                           bool keepdims) {
  return create<ReduceOp>(kind, v, axes, Value(), keepdims, false);
}

Value NodeImporter::slice(Value v, ArrayRef<int64_t> starts,
                          ArrayRef<int64_t> ends, ArrayRef<int64_t> steps) {
  return create<SliceOp>(v, Value(), Value(), Value(), Value(), starts, ends, steps);
}

Value NodeImporter::reshape(Value v, ArrayRef<int64_t> shape) {
  if (!v)
    return {};
  auto t = cast<RankedTensorType>(v.getType());
  return create<ReshapeOp>(RankedTensorType::get(shape, t.getElementType()), v,
                           Value());
}

LogicalResult NodeImporter::error(const llvm::Twine &msg) const {
  std::string name = node.name().empty() ? "<unnamed>" : node.name();
  return emitError(loc) << "node '" << name << "' (" << node.op_type()
                        << ", opset " << opset << "): " << msg;
}

LogicalResult NodeImporter::unsupported(const llvm::Twine &what) const {
  return error("not supported yet: " + what);
}

//===----------------------------------------------------------------------===//
// Registry
//===----------------------------------------------------------------------===//

void OpRegistry::add(StringRef domain, StringRef opType, int sinceVersion,
                     ConvertFn fn) {
  auto &versions = table[(domain + "::" + opType).str()];
  versions.emplace_back(sinceVersion, fn);
  llvm::sort(versions, [](auto &a, auto &b) { return a.first < b.first; });
}

ConvertFn OpRegistry::lookup(StringRef domain, StringRef opType,
                             int64_t opset) const {
  auto it = table.find((domain + "::" + opType).str());
  if (it == table.end())
    return nullptr;
  ConvertFn best = nullptr;
  for (auto &[since, fn] : it->second)
    if (since <= opset)
      best = fn;
  return best;
}

bool OpRegistry::knows(StringRef domain, StringRef opType) const {
  return table.count((domain + "::" + opType).str());
}

const OpRegistry &OpRegistry::get() {
  static const OpRegistry registry = [] {
    OpRegistry r;
    registerElementwiseOps(r);
    registerMathOps(r);
    registerTensorOps(r);
    registerNNOps(r);
    registerConvOps(r);
    registerIndexingOps(r);
    registerTransformerOps(r);
    registerContribOps(r);
    registerControlFlowOps(r);
    registerQuantizationOps(r);
    registerSpecialOps(r);
    registerSequenceOps(r);
    registerTrainingOps(r);
    return r;
  }();
  return registry;
}

} // namespace kiln::onnx_frontend

namespace kiln::onnx_frontend {
LoadOptions importerLoadOptions() {
  LoadOptions options;
  options.hasConverter = [](const std::string &domain, const std::string &op,
                            int64_t opset) {
    return OpRegistry::get().lookup(domain, op, opset) != nullptr;
  };
  return options;
}
} // namespace kiln::onnx_frontend
