//===- NN.cpp - ONNX normalization and global pooling ops ------------------===//
//
// LayerNormalization and RMSNormalization map to kiln ops; inference-mode
// BatchNormalization, InstanceNormalization and friends are written with
// elementwise ops and reductions (the fusion passes see the result).
//
//===----------------------------------------------------------------------===//

#include "lib/frontend/onnx/NodeImporter.h"

using namespace mlir;

namespace kiln::onnx_frontend {
namespace {

/// Reshapes a per-channel [C] parameter to [C, 1, ..., 1] for NC... inputs.
Value perChannel(NodeImporter &n, Value p, int64_t rank) {
  if (!p) // an earlier create of this node failed (and said why)
    return {};
  auto t = cast<RankedTensorType>(p.getType());
  SmallVector<int64_t> shape(t.getShape());
  shape.append(std::max<int64_t>(0, rank - 2), 1);
  return n.reshape(p, shape);
}

LogicalResult convertBatchNorm(NodeImporter &n) {
  FailureOr<Value> x = n.required(0), scale = n.required(1), bias = n.required(2),
                   mean = n.required(3), var = n.required(4);
  if (failed(x) || failed(scale) || failed(bias) || failed(mean) || failed(var))
    return failure();
  auto t = n.inputType(0);
  int64_t rank = t.getRank();
  Type elt = t.getElementType();
  float eps = n.attrFloat("epsilon", 1e-5f);
  auto bin = [&](BinaryKind k, Value a, Value b) {
    return n.create<BinaryOp>(k, a, b);
  };
  auto param = [&](Value v) { return perChannel(n, n.castTo(v, elt), rank); };
  // Training mode normalizes with the batch statistics and updates the
  // running ones: running = running * momentum + batch * (1 - momentum).
  bool training = n.attrInt("training_mode", 0) || n.hasOutput(1) || n.hasOutput(2);
  Value useMean = param(*mean), useVar = param(*var);
  if (training) {
    SmallVector<int64_t> axes = {0};
    for (int64_t i = 2; i < rank; ++i)
      axes.push_back(i);
    Value bm = n.reduce(ReduceKind::mean, *x, axes, true);
    Value c = bin(BinaryKind::sub, *x, bm);
    Value bv = n.reduce(ReduceKind::mean, bin(BinaryKind::mul, c, c), axes, true);
    useMean = bm;
    useVar = bv;
    float m = n.attrFloat("momentum", 0.9f);
    auto running = [&](Value old, Value batch) {
      // [1, C, 1, ...] batch statistics back to the [C] running ones.
      Value flat = n.reshape(batch, n.inputType(3).getShape());
      return bin(BinaryKind::add, bin(BinaryKind::mul, old, n.splat(elt, m)),
                 bin(BinaryKind::mul, flat, n.splat(elt, 1.0 - m)));
    };
    if (!n.inputType(3).hasStaticShape())
      return n.unsupported("training-mode statistics of a dynamic channel count");
    n.setOutput(1, running(n.castTo(*mean, elt), bm));
    n.setOutput(2, running(n.castTo(*var, elt), bv));
  }
  Value invStd = n.create<UnaryOp>(
      UnaryKind::rsqrt, bin(BinaryKind::add, useVar, n.splat(elt, eps)));
  Value y = bin(BinaryKind::mul, bin(BinaryKind::sub, *x, useMean), invStd);
  y = bin(BinaryKind::add, bin(BinaryKind::mul, y, param(*scale)), param(*bias));
  n.setOutput(0, y);
  return success();
}

/// LRN: x / (bias + alpha / size * sum of x^2 over a window of channels)^beta.
/// The channel-window sum is an average pool over [N, 1, C, rest] times size.
LogicalResult convertLRN(NodeImporter &n) {
  FailureOr<Value> x = n.required(0);
  if (failed(x))
    return failure();
  auto t = n.inputType(0);
  if (t.getRank() < 3 || !t.hasStaticShape())
    return n.unsupported("LRN on a dynamic or non-NC... input");
  int64_t size = n.attrInt("size", 0);
  if (size < 1)
    return n.error("size must be positive");
  Type elt = t.getElementType();
  int64_t rest = t.getNumElements() / (t.getDimSize(0) * t.getDimSize(1));
  Value sq = n.create<BinaryOp>(BinaryKind::mul, *x, *x);
  Value grid = n.reshape(sq, {t.getDimSize(0), 1, t.getDimSize(1), rest});
  int64_t before = (size - 1) / 2, after = size - 1 - before;
  Value avg = n.create<PoolOp>(PoolKind::avg, grid, ArrayRef<int64_t>{size, 1},
                               ArrayRef<int64_t>{1, 1},
                               ArrayRef<int64_t>{before, 0, after, 0},
                               ArrayRef<int64_t>{1, 1}, false, true, 2);
  Value sum = n.reshape(avg, t.getShape());
  float alpha = n.attrFloat("alpha", 1e-4f), beta = n.attrFloat("beta", 0.75f),
        bias = n.attrFloat("bias", 1.0f);
  // avg * size = sum, so alpha / size * sum = alpha * avg.
  Value denom = n.create<BinaryOp>(
      BinaryKind::add, n.splat(elt, bias),
      n.create<BinaryOp>(BinaryKind::mul, n.splat(elt, alpha), sum));
  denom = n.create<BinaryOp>(BinaryKind::pow, denom, n.splat(elt, beta));
  n.setOutput(0, n.create<BinaryOp>(BinaryKind::div, *x, denom));
  return success();
}

/// (x - mean(x, axes)) / sqrt(var(x, axes) + eps), shared by several norms.
Value normalize(NodeImporter &n, Value x, ArrayRef<int64_t> axes, double eps) {
  if (!x) // an earlier create of this node failed (and said why)
    return {};
  Type elt = cast<RankedTensorType>(x.getType()).getElementType();
  Value mean = n.reduce(ReduceKind::mean, x, axes, true);
  Value centered = n.create<BinaryOp>(BinaryKind::sub, x, mean);
  Value sq = n.create<BinaryOp>(BinaryKind::mul, centered, centered);
  Value var = n.reduce(ReduceKind::mean, sq, axes, true);
  Value invStd = n.create<UnaryOp>(
      UnaryKind::rsqrt, n.create<BinaryOp>(BinaryKind::add, var, n.splat(elt, eps)));
  return n.create<BinaryOp>(BinaryKind::mul, centered, invStd);
}

LogicalResult convertInstanceNorm(NodeImporter &n) {
  FailureOr<Value> x = n.required(0), scale = n.required(1), bias = n.required(2);
  if (failed(x) || failed(scale) || failed(bias))
    return failure();
  int64_t rank = n.inputType(0).getRank();
  SmallVector<int64_t> axes;
  for (int64_t i = 2; i < rank; ++i)
    axes.push_back(i);
  Value y = normalize(n, *x, axes, n.attrFloat("epsilon", 1e-5f));
  y = n.create<BinaryOp>(BinaryKind::mul, y, perChannel(n, *scale, rank));
  n.setOutput(0, n.create<BinaryOp>(BinaryKind::add, y, perChannel(n, *bias, rank)));
  return success();
}

LogicalResult convertMeanVarianceNorm(NodeImporter &n) {
  FailureOr<Value> x = n.required(0);
  if (failed(x))
    return failure();
  SmallVector<int64_t> axes = n.attrInts("axes").value_or(SmallVector<int64_t>{0, 2, 3});
  n.setOutput(0, normalize(n, *x, axes, 1e-9));
  return success();
}

LogicalResult convertLayerNorm(NodeImporter &n) {
  FailureOr<Value> x = n.required(0), scale = n.required(1);
  if (failed(x) || failed(scale))
    return failure();
  auto t = n.inputType(0);
  int64_t axis = n.attrInt("axis", -1), rank = t.getRank();
  float eps = n.attrFloat("epsilon", 1e-5f);
  n.setOutput(0, n.create<LayerNormOp>(*x, *scale, n.input(2),
                                       n.b.getI64IntegerAttr(axis),
                                       n.b.getF32FloatAttr(eps)));
  // The optional statistics outputs (training exports ask for them).
  if (n.hasOutput(1) || n.hasOutput(2)) {
    if (axis < 0)
      axis += rank;
    SmallVector<int64_t> axes;
    for (int64_t i = axis; i < rank; ++i)
      axes.push_back(i);
    Type elt = t.getElementType();
    Value mean = n.reduce(ReduceKind::mean, *x, axes, true);
    Value c = n.create<BinaryOp>(BinaryKind::sub, *x, mean);
    Value var = n.reduce(ReduceKind::mean,
                                   n.create<BinaryOp>(BinaryKind::mul, c, c), axes,
                                   true);
    Value invStd = n.create<UnaryOp>(
        UnaryKind::rsqrt, n.create<BinaryOp>(BinaryKind::add, var, n.splat(elt, eps)));
    n.setOutput(1, mean);
    n.setOutput(2, invStd);
  }
  return success();
}

LogicalResult convertRmsNorm(NodeImporter &n) {
  FailureOr<Value> x = n.required(0), scale = n.required(1);
  if (failed(x) || failed(scale))
    return failure();
  n.setOutput(0, n.create<RmsNormOp>(
                     *x, *scale, n.b.getI64IntegerAttr(n.attrInt("axis", -1)),
                     n.b.getF32FloatAttr(n.attrFloat("epsilon", 1e-5f))));
  return success();
}

LogicalResult convertLpNorm(NodeImporter &n) {
  FailureOr<Value> x = n.required(0);
  if (failed(x))
    return failure();
  int64_t p = n.attrInt("p", 2);
  if (p != 1 && p != 2)
    return n.error("p must be 1 or 2, got " + std::to_string(p));
  Value norm = n.reduce(p == 1 ? ReduceKind::l1 : ReduceKind::l2, *x,
                                  ArrayRef<int64_t>{n.attrInt("axis", -1)}, true);
  n.setOutput(0, n.create<BinaryOp>(BinaryKind::div, *x, norm));
  return success();
}

LogicalResult convertGlobalPool(NodeImporter &n) {
  FailureOr<Value> x = n.required(0);
  if (failed(x))
    return failure();
  int64_t rank = n.inputType(0).getRank();
  SmallVector<int64_t> axes;
  for (int64_t i = 2; i < rank; ++i)
    axes.push_back(i);
  StringRef op = n.opType();
  if (op == "GlobalLpPool") {
    int64_t p = n.attrInt("p", 2);
    if (p != 1 && p != 2)
      return n.unsupported("GlobalLpPool with p = " + std::to_string(p));
    n.setOutput(0, n.reduce(p == 1 ? ReduceKind::l1 : ReduceKind::l2,
                                      *x, axes, true));
    return success();
  }
  n.setOutput(0, n.reduce(op == "GlobalMaxPool" ? ReduceKind::max
                                                          : ReduceKind::mean,
                                    *x, axes, true));
  return success();
}

} // namespace

void registerNNOps(OpRegistry &r) {
  r.add("BatchNormalization", 1, convertBatchNorm);
  r.add("LRN", 1, convertLRN);
  r.add("InstanceNormalization", 1, convertInstanceNorm);
  r.add("MeanVarianceNormalization", 9, convertMeanVarianceNorm);
  r.add("LayerNormalization", 17, convertLayerNorm);
  r.add("RMSNormalization", 23, convertRmsNorm);
  r.add("LpNormalization", 1, convertLpNorm);
  r.add("GlobalAveragePool", 1, convertGlobalPool);
  r.add("GlobalMaxPool", 1, convertGlobalPool);
  r.add("GlobalLpPool", 2, convertGlobalPool);
}

} // namespace kiln::onnx_frontend
