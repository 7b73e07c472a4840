//===- Math.cpp - ONNX contractions, softmax and reductions ---------------===//

#include "lib/frontend/onnx/NodeImporter.h"

#include "mlir/IR/Verifier.h"

using namespace mlir;

namespace kiln::onnx_frontend {
namespace {

LogicalResult convertMatMul(NodeImporter &n) {
  FailureOr<Value> a = n.required(0), b = n.required(1);
  if (failed(a) || failed(b))
    return failure();
  n.setOutput(0, n.create<MatmulOp>(*a, *b));
  return success();
}

LogicalResult convertGemm(NodeImporter &n) {
  FailureOr<Value> a = n.required(0), b = n.required(1);
  if (failed(a) || failed(b))
    return failure();
  Value c = n.input(2);
  float beta = n.attrFloat("beta", 1.0f);
  if (c && beta == 0.0f)
    c = Value(); // beta = 0 ignores C entirely (even NaNs in it)
  UnitAttr transA = n.attrInt("transA", 0) ? n.b.getUnitAttr() : UnitAttr();
  UnitAttr transB = n.attrInt("transB", 0) ? n.b.getUnitAttr() : UnitAttr();
  n.setOutput(0, n.create<GemmOp>(*a, *b, c,
                                  n.b.getF32FloatAttr(n.attrFloat("alpha", 1.0f)),
                                  n.b.getF32FloatAttr(beta), transA, transB));
  return success();
}

/// Softmax before opset 13 flattens to 2-D at `axis` and normalizes the
/// whole trailing block; from 13 it normalizes one axis.
FailureOr<Value> softmaxLike(NodeImporter &n, Value x, bool log) {
  auto t = cast<RankedTensorType>(x.getType());
  int64_t rank = t.getRank();
  int64_t axis = n.attrInt("axis", n.opset >= 13 ? -1 : 1);
  if (axis < -rank || axis >= std::max<int64_t>(rank, 1))
    { (void)n.error("axis " + std::to_string(axis) + " is out of range for rank " +
                   std::to_string(rank)); return failure(); }
  if (axis < 0)
    axis += rank;
  if (n.opset >= 13 || axis == rank - 1)
    return n.create<SoftmaxOp>(x, axis, log);
  if (!t.hasStaticShape())
    { (void)n.unsupported("pre-opset-13 softmax over several dynamic axes"); return failure(); }
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < rank; ++i)
    (i < axis ? outer : inner) *= t.getDimSize(i);
  Value flat = n.reshape(x, {outer, inner});
  Value sm = n.create<SoftmaxOp>(flat, 1, log);
  return n.reshape(sm, t.getShape());
}

LogicalResult convertSoftmax(NodeImporter &n) {
  FailureOr<Value> x = n.required(0);
  if (failed(x))
    return failure();
  FailureOr<Value> y = softmaxLike(n, *x, n.opType() == "LogSoftmax");
  if (failed(y))
    return failure();
  n.setOutput(0, *y);
  return success();
}

/// Hardmax: one-hot of the first maximum along the (flattened) axis.
LogicalResult convertHardmax(NodeImporter &n) {
  FailureOr<Value> xOr = n.required(0);
  if (failed(xOr))
    return failure();
  auto t = cast<RankedTensorType>(xOr->getType());
  int64_t rank = t.getRank();
  int64_t axis = n.attrInt("axis", n.opset >= 13 ? -1 : 1);
  if (axis < 0)
    axis += rank;
  if (!t.hasStaticShape())
    return n.unsupported("Hardmax on dynamic shapes");
  Value x = *xOr;
  SmallVector<int64_t> shape(t.getShape());
  if (n.opset < 13) {
    int64_t outer = 1, inner = 1;
    for (int64_t i = 0; i < rank; ++i)
      (i < axis ? outer : inner) *= t.getDimSize(i);
    x = n.reshape(x, {outer, inner});
    shape = {outer, inner};
    axis = 1;
  }
  Value idx = n.create<ArgReduceOp>(ArgKind::argmax, x, axis, true, false);
  // positions along the axis, shaped to broadcast against idx
  int64_t d = shape[axis];
  SmallVector<double> iota;
  for (int64_t i = 0; i < d; ++i)
    iota.push_back(i);
  SmallVector<int64_t> posShape(shape.size(), 1);
  posShape[axis] = d;
  Value pos = n.constant(RankedTensorType::get(posShape, n.b.getI64Type()), iota);
  Value hot = n.create<CompareOp>(CompareKind::eq, pos, idx);
  Value y = n.castTo(hot, t.getElementType());
  n.setOutput(0, n.reshape(y, t.getShape()));
  return success();
}

std::optional<ReduceKind> reduceKind(StringRef op) {
  return llvm::StringSwitch<std::optional<ReduceKind>>(op)
      .Case("ReduceSum", ReduceKind::sum)
      .Case("ReduceMean", ReduceKind::mean)
      .Case("ReduceMax", ReduceKind::max)
      .Case("ReduceMin", ReduceKind::min)
      .Case("ReduceProd", ReduceKind::prod)
      .Case("ReduceL1", ReduceKind::l1)
      .Case("ReduceL2", ReduceKind::l2)
      .Case("ReduceLogSum", ReduceKind::log_sum)
      .Case("ReduceLogSumExp", ReduceKind::log_sum_exp)
      .Case("ReduceSumSquare", ReduceKind::sum_square)
      .Default(std::nullopt);
}

LogicalResult convertReduce(NodeImporter &n) {
  FailureOr<Value> x = n.required(0);
  if (failed(x))
    return failure();
  int64_t rank = n.inputType(0).getRank();
  // Axes moved from an attribute to an input: ReduceSum at 13, the rest at 18.
  int axesInputSince = n.opType() == "ReduceSum" ? 13 : 18;
  SmallVector<int64_t> axes;
  bool keepdims = n.attrInt("keepdims", 1);
  if (n.opset >= axesInputSince) {
    if (Value a = n.input(1)) {
      std::optional<SmallVector<int64_t>> c = n.constInts(a);
      if (!c) {
        // Axes computed at run time: the rank is known, extents are not.
        n.setOutput(0, n.create<ReduceOp>(
                           *reduceKind(n.opType()), *x, ArrayRef<int64_t>{},
                           n.castTo(a, n.b.getI64Type()), keepdims,
                           n.attrInt("noop_with_empty_axes", 0) != 0));
        return success();
      }
      axes = *c;
    }
  } else if (auto a = n.attrInts("axes")) {
    axes = *a;
  }
  if (axes.empty()) {
    if (n.attrInt("noop_with_empty_axes", 0)) {
      n.setOutput(0, *x);
      return success();
    }
    for (int64_t i = 0; i < rank; ++i)
      axes.push_back(i);
  }
  n.setOutput(0, n.create<ReduceOp>(*reduceKind(n.opType()), *x, axes, Value(),
                                    keepdims, false));
  return success();
}

LogicalResult convertArgReduce(NodeImporter &n) {
  FailureOr<Value> x = n.required(0);
  if (failed(x))
    return failure();
  ArgKind k = n.opType() == "ArgMax" ? ArgKind::argmax : ArgKind::argmin;
  n.setOutput(0, n.create<ArgReduceOp>(k, *x, n.attrInt("axis", 0),
                                       (bool)n.attrInt("keepdims", 1),
                                       (bool)n.attrInt("select_last_index", 0)));
  return success();
}

LogicalResult convertTopK(NodeImporter &n) {
  FailureOr<Value> x = n.required(0);
  if (failed(x))
    return failure();
  int64_t k;
  Value runtimeK;
  if (n.opset < 10) {
    k = n.attrInt("k", 0);
  } else {
    std::optional<SmallVector<int64_t>> c = n.constInts(n.input(1));
    if (!c || c->size() != 1) {
      FailureOr<Value> kv = n.required(1);
      if (failed(kv))
        return failure();
      runtimeK = n.reshape(n.castTo(*kv, n.b.getI64Type()), {});
      k = 1; // placeholder; the operand decides
    } else {
      k = (*c)[0];
    }
  }
  if (k < 1)
    return n.unsupported("K = " + std::to_string(k) + " (empty results)");
  SmallVector<Type> types;
  OperationState state(n.loc, TopKOp::getOperationName());
  TopKOp::build(n.b, state, TypeRange{n.b.getNoneType(), n.b.getNoneType()}, *x, k,
                n.attrInt("axis", -1), runtimeK, (bool)n.attrInt("largest", 1),
                (bool)n.attrInt("sorted", 1));
  if (failed(TopKOp::inferReturnTypes(n.b.getContext(), n.loc, state.operands,
                                      state.attributes.getDictionary(n.b.getContext()),
                                      state.getRawProperties(), state.regions, types)))
    return failure();
  state.types.assign(types.begin(), types.end());
  auto op = cast<TopKOp>(n.b.create(state));
  if (failed(verify(op)))
    return failure();
  n.setOutput(0, op.getValues());
  n.setOutput(1, op.getIndices());
  return success();
}

} // namespace

void registerMathOps(OpRegistry &r) {
  r.add("MatMul", 1, convertMatMul);
  r.add("Gemm", 1, convertGemm);
  r.add("Softmax", 1, convertSoftmax);
  r.add("LogSoftmax", 1, convertSoftmax);
  r.add("Hardmax", 1, convertHardmax);
  for (const char *op : {"ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin",
                         "ReduceProd", "ReduceL1", "ReduceL2", "ReduceLogSum",
                         "ReduceLogSumExp", "ReduceSumSquare"})
    r.add(op, 1, convertReduce);
  r.add("ArgMax", 1, convertArgReduce);
  r.add("ArgMin", 1, convertArgReduce);
  r.add("TopK", 1, convertTopK);
}

} // namespace kiln::onnx_frontend
