//===- Indexing.cpp - ONNX gather/scatter, CumSum, NonZero, Einsum ---------===//

#include "lib/frontend/onnx/NodeImporter.h"

using namespace mlir;

namespace kiln::onnx_frontend {
namespace {

/// Indices as i64 (ONNX allows i32 and i64; kiln takes both, but one type
/// keeps later passes simple).
Value indices64(NodeImporter &n, Value v) { return n.castTo(v, n.b.getI64Type()); }

FailureOr<ScatterReduction> reduction(NodeImporter &n) {
  std::string r = n.attrString("reduction", "none");
  std::optional<ScatterReduction> red = symbolizeScatterReduction(r);
  if (!red) {
    (void)n.error("unknown reduction '" + r + "'");
    return failure();
  }
  return *red;
}

LogicalResult convertGatherElements(NodeImporter &n) {
  FailureOr<Value> x = n.required(0), idx = n.required(1);
  if (failed(x) || failed(idx))
    return failure();
  n.setOutput(0, n.create<GatherElementsOp>(*x, indices64(n, *idx),
                                            n.attrInt("axis", 0)));
  return success();
}

/// ScatterElements and ScatterND: data, indices, updates and a reduction.
template <typename OpTy, typename... Attrs>
LogicalResult convertScatter(NodeImporter &n, Attrs... attrs) {
  FailureOr<Value> x = n.required(0), idx = n.required(1), upd = n.required(2);
  if (failed(x) || failed(idx) || failed(upd))
    return failure();
  FailureOr<ScatterReduction> red = reduction(n);
  if (failed(red))
    return failure();
  n.setOutput(0, n.create<OpTy>(*x, indices64(n, *idx), *upd, attrs...,
                                ScatterReductionAttr::get(n.b.getContext(), *red)));
  return success();
}

LogicalResult convertScatterElements(NodeImporter &n) {
  return convertScatter<ScatterElementsOp>(
      n, n.b.getI64IntegerAttr(n.attrInt("axis", 0)));
}

LogicalResult convertGatherND(NodeImporter &n) {
  FailureOr<Value> x = n.required(0), idx = n.required(1);
  if (failed(x) || failed(idx))
    return failure();
  n.setOutput(0, n.create<GatherNdOp>(*x, indices64(n, *idx),
                                      n.b.getI64IntegerAttr(n.attrInt("batch_dims", 0))));
  return success();
}

LogicalResult convertScatterND(NodeImporter &n) { return convertScatter<ScatterNdOp>(n); }

LogicalResult convertCumSum(NodeImporter &n) {
  FailureOr<Value> x = n.required(0);
  if (failed(x))
    return failure();
  auto axis = n.constInts(n.input(1));
  bool exclusive = n.attrInt("exclusive", 0), reverse = n.attrInt("reverse", 0);
  if (!axis || axis->size() != 1) {
    FailureOr<Value> a = n.required(1);
    if (failed(a))
      return failure();
    Value scalar = n.reshape(n.castTo(*a, n.b.getI64Type()), {});
    n.setOutput(0, n.create<CumsumOp>(*x, 0, scalar, exclusive, reverse));
    return success();
  }
  n.setOutput(0, n.create<CumsumOp>(*x, (*axis)[0], Value(), exclusive, reverse));
  return success();
}

LogicalResult convertNonZero(NodeImporter &n) {
  FailureOr<Value> x = n.required(0);
  if (failed(x))
    return failure();
  n.setOutput(0, n.create<NonZeroOp>(*x));
  return success();
}

/// Compress: the slices where the 1-D condition is true, i.e. a gather at
/// the condition's non-zero positions (flattened first when there is no axis).
LogicalResult convertCompress(NodeImporter &n) {
  FailureOr<Value> x = n.required(0), cond = n.required(1);
  if (failed(x) || failed(cond))
    return failure();
  auto ct = n.inputType(1);
  if (ct.getRank() != 1)
    return n.error("condition must be 1-D");
  Value data = *x;
  int64_t axis = n.attrInt("axis", 0);
  if (!n.hasAttr("axis")) {
    auto t = n.inputType(0);
    if (!t.hasStaticShape())
      return n.unsupported("Compress without axis of a dynamic shape");
    data = n.reshape(data, {t.getNumElements()});
  }
  // Entries of `cond` past the axis' length select nothing (onnxruntime
  // ignores them): only the first min(len, dim) are read.
  Value keep = *cond;
  int64_t rank = cast<RankedTensorType>(data.getType()).getRank();
  int64_t along = axis < 0 ? axis + rank : axis;
  if (along < 0 || along >= rank)
    return n.error("axis " + std::to_string(axis) + " is out of range");
  int64_t len = ct.getDimSize(0), dim = cast<RankedTensorType>(data.getType()).getDimSize(along);
  if (!ShapedType::isDynamic(len) && !ShapedType::isDynamic(dim)) {
    if (len > dim)
      keep = n.slice(keep, {0}, {dim}, {1});
  } else {
    Value extent = n.create<GatherOp>(n.create<ShapeOp>(data), n.i64s({along}), 0);
    keep = n.create<SliceOp>(keep, n.i64s({0}), extent, n.i64s({0}), Value(),
                             ArrayRef<int64_t>{}, ArrayRef<int64_t>{}, ArrayRef<int64_t>{});
  }
  Value positions = n.create<NonZeroOp>(keep); // [1, ?]
  Value flat = n.create<ReshapeOp>(RankedTensorType::get({ShapedType::kDynamic},
                                                         n.b.getI64Type()),
                                   positions, Value());
  n.setOutput(0, n.create<GatherOp>(data, flat, axis));
  return success();
}

/// ReverseSequence as a GatherElements along the time axis with indices
/// t < len[b] ? len[b] - 1 - t : t, broadcast over the other dimensions.
LogicalResult convertReverseSequence(NodeImporter &n) {
  FailureOr<Value> x = n.required(0), lensOr = n.required(1);
  if (failed(x) || failed(lensOr))
    return failure();
  auto t = n.inputType(0);
  int64_t r = t.getRank();
  int64_t timeAxis = n.attrInt("time_axis", 0), batchAxis = n.attrInt("batch_axis", 1);
  if (r < 2 || !((timeAxis == 0 && batchAxis == 1) || (timeAxis == 1 && batchAxis == 0)))
    return n.error("expects a rank >= 2 input with time and batch axes 0 and 1");
  int64_t steps = t.getDimSize(timeAxis);
  if (ShapedType::isDynamic(steps))
    return n.unsupported("ReverseSequence over a dynamic time axis");
  Type i64 = n.b.getI64Type();
  // [T, 1] time positions and [1, B] lengths (transposed when batch is first).
  SmallVector<double> pos;
  for (int64_t i = 0; i < steps; ++i)
    pos.push_back(i);
  SmallVector<int64_t> timeShape(r, 1), lensShape(r, 1);
  timeShape[timeAxis] = steps;
  lensShape[batchAxis] = t.getDimSize(batchAxis);
  Value time = n.constant(RankedTensorType::get(timeShape, i64), pos);
  Value lens = n.create<ReshapeOp>(RankedTensorType::get(lensShape, i64),
                                   n.castTo(*lensOr, i64), Value());
  Value inside = n.create<CompareOp>(CompareKind::lt, time, lens);
  Value reversed = n.create<BinaryOp>(
      BinaryKind::sub, n.create<BinaryOp>(BinaryKind::sub, lens, n.splat(i64, 1)), time);
  Value idx = n.create<WhereOp>(inside, reversed, time);
  SmallVector<int64_t> full(t.getShape());
  idx = n.create<ExpandOp>(RankedTensorType::get(full, i64), idx, n.create<ShapeOp>(*x));
  n.setOutput(0, n.create<GatherElementsOp>(*x, idx, timeAxis));
  return success();
}

LogicalResult convertEinsum(NodeImporter &n) {
  SmallVector<Value> inputs;
  for (size_t i = 0; i < n.numInputs(); ++i) {
    FailureOr<Value> v = n.required(i);
    if (failed(v))
      return failure();
    inputs.push_back(*v);
  }
  n.setOutput(0, n.create<EinsumOp>(inputs, n.attrString("equation", "")));
  return success();
}

} // namespace

void registerIndexingOps(OpRegistry &r) {
  r.add("ReverseSequence", 10, convertReverseSequence);
  r.add("GatherElements", 11, convertGatherElements);
  r.add("ScatterElements", 11, convertScatterElements);
  r.add("Scatter", 9, convertScatterElements);
  r.add("GatherND", 11, convertGatherND);
  r.add("ScatterND", 11, convertScatterND);
  r.add("CumSum", 11, convertCumSum);
  r.add("NonZero", 9, convertNonZero);
  r.add("Einsum", 12, convertEinsum);
  r.add("Compress", 9, convertCompress);
}

} // namespace kiln::onnx_frontend
