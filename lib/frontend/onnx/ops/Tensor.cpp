//===- Tensor.cpp - ONNX shape and data-movement ops -----------------------===//
//
// Shape inputs (Reshape's shape, Slice's starts, ...) must be constants after
// folding; exporters' Shape -> Gather -> Concat chains fold to constants
// through the kiln folders when the shapes involved are static.
//
//===----------------------------------------------------------------------===//

#include "lib/frontend/onnx/GraphImporter.h"
#include "dialects/kiln/IR/TypeInference.h"
#include "lib/support/CheckedSize.h"

using namespace mlir;

namespace kiln::onnx_frontend {
namespace {
constexpr int64_t kDyn = ShapedType::kDynamic;

/// A result dimension: a static size, or dynamic and equal to input dim `src`.
struct Dim {
  int64_t size;
  int64_t src = -1;
};

/// Reshapes `x` to `dims`. With two or more dynamic dimensions the runtime
/// shape is assembled from `kiln.shape(x)`.
Value reshapeTo(NodeImporter &n, Value x, ArrayRef<Dim> dims) {
  if (!x) // an earlier create of this node failed (and said why)
    return {};
  auto t = cast<RankedTensorType>(x.getType());
  SmallVector<int64_t> shape;
  int dynamic = 0;
  for (const Dim &d : dims) {
    shape.push_back(d.size);
    dynamic += ShapedType::isDynamic(d.size);
  }
  auto type = RankedTensorType::get(shape, t.getElementType());
  if (dynamic <= 1)
    return n.create<ReshapeOp>(type, x, Value());
  Value full = n.create<ShapeOp>(x);
  SmallVector<Value> parts;
  for (const Dim &d : dims) {
    if (!ShapedType::isDynamic(d.size)) {
      parts.push_back(n.i64s({d.size}));
      continue;
    }
    parts.push_back(n.create<GatherOp>(full, n.i64s({d.src}), 0));
  }
  Value shapeValue = n.create<ConcatOp>(parts, 0);
  return n.create<ReshapeOp>(type, x, shapeValue);
}

SmallVector<Dim> dimsOf(RankedTensorType t) {
  SmallVector<Dim> dims;
  for (int64_t i = 0; i < t.getRank(); ++i)
    dims.push_back({t.getDimSize(i), i});
  return dims;
}

/// Constant ints from input `i` (opset >= since) or attribute `attr`.
std::optional<SmallVector<int64_t>> intsFromInputOrAttr(NodeImporter &n, size_t i,
                                                       int since, StringRef attr) {
  if (n.opset >= since) {
    if (!n.input(i))
      return SmallVector<int64_t>{};
    return n.constInts(n.input(i));
  }
  return n.attrInts(attr).value_or(SmallVector<int64_t>{});
}

LogicalResult normalizeAxes(NodeImporter &n, SmallVectorImpl<int64_t> &axes,
                            int64_t rank) {
  for (int64_t &a : axes) {
    if (a < -rank || a >= rank)
      return n.error("axis " + std::to_string(a) + " is out of range for rank " +
                     std::to_string(rank));
    if (a < 0)
      a += rank;
  }
  return success();
}

/// A run-time shape operand's type: 1-D, of a static length up to kMaxRank.
LogicalResult checkShapeLength(NodeImporter &n, RankedTensorType st) {
  if (!st || st.getRank() != 1 || ShapedType::isDynamic(st.getDimSize(0)))
    return n.unsupported("a run-time shape whose length is not static");
  if (st.getDimSize(0) > (int64_t)kMaxRank)
    return n.error("a run-time shape of " + std::to_string(st.getDimSize(0)) +
                   " dims; kiln accepts ranks up to " + std::to_string(kMaxRank));
  return success();
}

LogicalResult convertReshape(NodeImporter &n) {
  FailureOr<Value> x = n.required(0);
  if (failed(x))
    return failure();
  auto t = n.inputType(0);
  std::optional<SmallVector<int64_t>> target =
      n.opset < 5 ? n.attrInts("shape") : n.constInts(n.input(1));
  if (!target) {
    // A run-time shape: kiln.reshape applies ONNX's 0 / -1 rules at run time.
    auto st = n.inputType(1);
    if (failed(checkShapeLength(n, st)))
      return failure();
    RankedTensorType type = n.declaredOutputType(0);
    if (!type || type.getRank() != st.getDimSize(0))
      type = RankedTensorType::get(
          SmallVector<int64_t>(st.getDimSize(0), kDyn), t.getElementType());
    n.setOutput(0, n.create<ReshapeOp>(type, *x,
                                       n.castTo(n.input(1), n.b.getI64Type()),
                                       n.attrInt("allowzero", 0) != 0));
    return success();
  }
  bool allowZero = n.attrInt("allowzero", 0);
  SmallVector<Dim> dims;
  int64_t inferIdx = -1, known = 1;
  for (auto [i, d] : llvm::enumerate(*target)) {
    if (d == 0 && !allowZero) {
      if ((int64_t)i >= t.getRank())
        return n.error("shape entry " + std::to_string(i) +
                       " is 0 (copy) but the input has rank " +
                       std::to_string(t.getRank()));
      dims.push_back({t.getDimSize(i), (int64_t)i});
    } else if (d == -1) {
      if (inferIdx >= 0)
        return n.error("shape has more than one -1");
      inferIdx = i;
      dims.push_back({kDyn});
      continue;
    } else if (d < 0) {
      return n.error("shape entry " + std::to_string(d) + " is invalid");
    } else {
      dims.push_back({d});
    }
    if (ShapedType::isDynamic(dims.back().size))
      known = kDyn;
    else if (known != kDyn)
      known *= dims.back().size;
  }
  if (inferIdx >= 0 && t.hasStaticShape() && known != kDyn) {
    if (known == 0 || t.getNumElements() % known)
      return n.error("cannot reshape " + shapeToString(t.getShape()) + " to " +
                     "a shape with " + std::to_string(known) +
                     " elements per -1 entry");
    dims[inferIdx].size = t.getNumElements() / known;
  }
  // A -1 over a dynamic input: kiln implies it when it is the only unknown.
  int dynamic = 0;
  for (const Dim &d : dims)
    dynamic += ShapedType::isDynamic(d.size);
  if (dynamic > 1 && inferIdx >= 0) {
    RankedTensorType declared = n.declaredOutputType(0);
    if (declared && declared.getNumDynamicDims() <= 1) {
      n.setOutput(0, n.create<ReshapeOp>(declared, *x, Value()));
      return success();
    }
    // Keep the target as an operand: once the input's dims are known
    // (kiln-refine-shapes), its -1 is implied and the type static; until
    // then the reshape applies ONNX's rules at run time.
    if (n.opset >= 5) {
      SmallVector<int64_t> shape;
      for (const Dim &d : dims)
        shape.push_back(d.size);
      n.setOutput(0, n.create<ReshapeOp>(RankedTensorType::get(shape, t.getElementType()), *x,
                                         n.castTo(n.input(1), n.b.getI64Type()), allowZero));
      return success();
    }
    return n.unsupported("Reshape with -1 and other dynamic dimensions");
  }
  n.setOutput(0, reshapeTo(n, *x, dims));
  return success();
}

LogicalResult convertTranspose(NodeImporter &n) {
  FailureOr<Value> x = n.required(0);
  if (failed(x))
    return failure();
  int64_t rank = n.inputType(0).getRank();
  SmallVector<int64_t> perm;
  if (auto p = n.attrInts("perm"))
    perm = *p;
  else
    for (int64_t i = rank - 1; i >= 0; --i)
      perm.push_back(i);
  n.setOutput(0, n.create<TransposeOp>(*x, perm));
  return success();
}

/// For axes known only at run time: a [rank] i1 mask, true at the
/// (normalized) positions listed in `axes`.
Value axesMask(NodeImporter &n, Value axes, int64_t rank) {
  Type i64 = n.b.getI64Type();
  axes = n.castTo(axes, i64);
  Value neg = n.create<CompareOp>(CompareKind::lt, axes, n.splat(i64, 0));
  axes = n.create<WhereOp>(neg, n.create<BinaryOp>(BinaryKind::add, axes, n.splat(i64, rank)),
                           axes);
  SmallVector<double> iota;
  for (int64_t i = 0; i < rank; ++i)
    iota.push_back(i);
  Value pos = n.constant(RankedTensorType::get({rank, 1}, i64), iota);
  Value hit = n.castTo(n.create<CompareOp>(CompareKind::eq, pos, axes), i64);
  return n.castTo(n.reduce(ReduceKind::max, hit, {1}, false), n.b.getI1Type());
}

/// The number of run-time axes in input 1, which must be static.
FailureOr<int64_t> runtimeAxesCount(NodeImporter &n) {
  auto at = n.inputType(1);
  if (!at || at.getRank() != 1 || ShapedType::isDynamic(at.getDimSize(0))) {
    (void)n.unsupported("run-time axes of unknown count");
    return failure();
  }
  if (at.getDimSize(0) > (int64_t)kMaxRank) {
    (void)n.error("lists " + std::to_string(at.getDimSize(0)) +
                  " run-time axes; kiln accepts ranks up to " + std::to_string(kMaxRank));
    return failure();
  }
  return at.getDimSize(0);
}

/// Reshape to a shape computed at run time; `allowzero` so zero extents are
/// taken literally.
Value reshapeRuntime(NodeImporter &n, Value x, Value shape, int64_t rank) {
  if (!x) // an earlier create of this node failed (and said why)
    return {};
  auto t = cast<RankedTensorType>(x.getType());
  RankedTensorType type = n.declaredOutputType(0);
  if (!type || type.getRank() != rank)
    type = RankedTensorType::get(SmallVector<int64_t>(rank, kDyn), t.getElementType());
  return n.create<ReshapeOp>(type, x, shape, true);
}

LogicalResult convertSqueeze(NodeImporter &n) {
  FailureOr<Value> x = n.required(0);
  if (failed(x))
    return failure();
  auto t = n.inputType(0);
  std::optional<SmallVector<int64_t>> axes = intsFromInputOrAttr(n, 1, 13, "axes");
  if (!axes) {
    // Run-time axes: keep the extents whose position is not listed.
    FailureOr<int64_t> count = runtimeAxesCount(n);
    if (failed(count))
      return failure();
    if (*count > t.getRank())
      return n.error("squeezes " + std::to_string(*count) + " axes of a rank-" +
                     std::to_string(t.getRank()) + " input");
    Value keep = n.create<UnaryOp>(UnaryKind::Not, axesMask(n, n.input(1), t.getRank()));
    Value idx = n.create<ReshapeOp>(
        RankedTensorType::get({kDyn}, n.b.getI64Type()), n.create<NonZeroOp>(keep),
        Value());
    Value shape = n.create<GatherOp>(n.create<ShapeOp>(*x), idx, 0);
    n.setOutput(0, reshapeRuntime(n, *x, shape, t.getRank() - *count));
    return success();
  }
  SmallVector<bool> drop(t.getRank(), false);
  if (axes->empty()) {
    for (int64_t i = 0; i < t.getRank(); ++i) {
      if (ShapedType::isDynamic(t.getDimSize(i)))
        return n.unsupported("Squeeze without axes on a dynamic dimension");
      drop[i] = t.getDimSize(i) == 1;
    }
  } else {
    if (failed(normalizeAxes(n, *axes, t.getRank())))
      return failure();
    for (int64_t a : *axes) {
      if (!ShapedType::isDynamic(t.getDimSize(a)) && t.getDimSize(a) != 1)
        return n.error("cannot squeeze axis " + std::to_string(a) + " of size " +
                       std::to_string(t.getDimSize(a)));
      drop[a] = true;
    }
  }
  SmallVector<Dim> dims;
  for (int64_t i = 0; i < t.getRank(); ++i)
    if (!drop[i])
      dims.push_back({t.getDimSize(i), i});
  n.setOutput(0, reshapeTo(n, *x, dims));
  return success();
}

LogicalResult convertUnsqueeze(NodeImporter &n) {
  FailureOr<Value> x = n.required(0);
  if (failed(x))
    return failure();
  auto t = n.inputType(0);
  std::optional<SmallVector<int64_t>> axes = intsFromInputOrAttr(n, 1, 13, "axes");
  if (!axes) {
    // Run-time axes: 1 where an axis is inserted, else the next input extent.
    FailureOr<int64_t> count = runtimeAxesCount(n);
    if (failed(count))
      return failure();
    int64_t outRank = t.getRank() + *count;
    Type i64 = n.b.getI64Type();
    Value inserted = axesMask(n, n.input(1), outRank);
    Value kept = n.castTo(n.create<UnaryOp>(UnaryKind::Not, inserted), i64);
    Value src = n.create<CumsumOp>(kept, 0, Value(), true, false);
    src = n.create<BinaryOp>(BinaryKind::min, src,
                             n.splat(i64, std::max<int64_t>(t.getRank() - 1, 0)));
    Value extents = t.getRank() ? n.create<GatherOp>(n.create<ShapeOp>(*x), src, 0)
                                : n.splat(i64, 1, {outRank});
    Value shape = n.create<WhereOp>(inserted, n.splat(i64, 1), extents);
    n.setOutput(0, reshapeRuntime(n, *x, shape, outRank));
    return success();
  }
  if (axes->empty())
    return n.error("needs non-empty axes");
  int64_t outRank = t.getRank() + axes->size();
  if (failed(normalizeAxes(n, *axes, outRank)))
    return failure();
  SmallVector<bool> inserted(outRank, false);
  for (int64_t a : *axes) {
    if (inserted[a])
      return n.error("axis " + std::to_string(a) + " is repeated");
    inserted[a] = true;
  }
  SmallVector<Dim> dims;
  int64_t src = 0;
  for (int64_t i = 0; i < outRank; ++i) {
    if (inserted[i])
      dims.push_back({1});
    else {
      dims.push_back({t.getDimSize(src), src});
      ++src;
    }
  }
  n.setOutput(0, reshapeTo(n, *x, dims));
  return success();
}

LogicalResult convertFlatten(NodeImporter &n) {
  FailureOr<Value> x = n.required(0);
  if (failed(x))
    return failure();
  auto t = n.inputType(0);
  int64_t rank = t.getRank(), axis = n.attrInt("axis", 1);
  if (axis < 0)
    axis += rank;
  if (axis < 0 || axis > rank)
    return n.error("axis is out of range");
  auto prod = [&](int64_t lo, int64_t hi) -> Dim {
    int64_t p = 1, dyn = -1, ndyn = 0;
    for (int64_t i = lo; i < hi; ++i) {
      if (ShapedType::isDynamic(t.getDimSize(i))) {
        dyn = i;
        ++ndyn;
      } else {
        p *= t.getDimSize(i);
      }
    }
    if (ndyn == 0)
      return {p};
    // One dynamic dimension times 1s is that dimension.
    return {kDyn, (ndyn == 1 && p == 1) ? dyn : -2};
  };
  Dim outer = prod(0, axis), inner = prod(axis, rank);
  if (ShapedType::isDynamic(outer.size) && ShapedType::isDynamic(inner.size) &&
      (outer.src < 0 || inner.src < 0)) {
    // Dynamic on both sides, a product on one: the target computed per run,
    // [product of the leading dims, -1].
    Value full = n.create<ShapeOp>(*x);
    Value lead = n.i64s({1});
    for (int64_t i = 0; i < axis; ++i)
      lead = n.create<BinaryOp>(BinaryKind::mul, lead, n.create<GatherOp>(full, n.i64s({i}), 0));
    Value target = n.create<ConcatOp>(SmallVector<Value>{lead, n.i64s({-1})}, 0);
    auto type = RankedTensorType::get({kDyn, kDyn}, t.getElementType());
    n.setOutput(0, n.create<ReshapeOp>(type, *x, target));
    return success();
  }
  n.setOutput(0, reshapeTo(n, *x, {outer, inner}));
  return success();
}

LogicalResult convertConcat(NodeImporter &n) {
  SmallVector<Value> inputs;
  for (size_t i = 0; i < n.numInputs(); ++i)
    if (Value v = n.input(i))
      inputs.push_back(v);
  if (inputs.empty())
    return n.error("needs at least one input");
  n.setOutput(0, n.create<ConcatOp>(inputs, n.attrInt("axis", 0)));
  return success();
}

LogicalResult convertSplit(NodeImporter &n) {
  FailureOr<Value> x = n.required(0);
  if (failed(x))
    return failure();
  auto t = n.inputType(0);
  int64_t rank = t.getRank(), axis = n.attrInt("axis", 0);
  if (axis < 0)
    axis += rank;
  if (axis < 0 || axis >= rank)
    return n.error("axis is out of range");
  int64_t dim = t.getDimSize(axis);
  size_t outputs = n.numOutputs();
  SmallVector<int64_t> sizes;
  if (n.opset >= 13 && n.input(1)) {
    auto c = n.constInts(n.input(1));
    if (!c) {
      // Run-time sizes: output i spans [sum(sizes[:i]), sum(sizes[:i+1])).
      auto st = n.inputType(1);
      if (st.getRank() != 1 || st.getDimSize(0) != (int64_t)n.numOutputs())
        return n.error("needs one split size per output");
      // Running sums of single entries (not a CumSum): sizes computed
      // from the values stay scalar arithmetic the shape function runs.
      Type i64 = n.b.getI64Type();
      Value sz = n.castTo(n.input(1), i64);
      Value begin = n.i64s({0});
      // Each part checked when it runs: sizes non-negative, adding up to
      // the dim (onnxruntime refuses others; a clamp would hide them).
      for (size_t i = 0; i < n.numOutputs(); ++i) {
        Value end = n.create<BinaryOp>(BinaryKind::add, begin,
                                       n.create<GatherOp>(sz, n.i64s({(int64_t)i}), 0));
        Value part = n.create<SliceOp>(*x, begin, end, n.i64s({axis}), Value(),
                                       ArrayRef<int64_t>{}, ArrayRef<int64_t>{},
                                       ArrayRef<int64_t>{});
        if (auto slice = part ? part.getDefiningOp<SliceOp>() : SliceOp()) {
          slice.setExactBounds(true);
          slice.setReachesEnd(i + 1 == n.numOutputs());
        }
        n.setOutput(i, part);
        begin = end;
      }
      return success();
    }
    sizes = *c;
  } else if (n.opset < 13 && n.hasAttr("split")) {
    sizes = *n.attrInts("split");
  } else {
    if (n.opset >= 18 && n.hasAttr("num_outputs"))
      outputs = n.attrInt("num_outputs", outputs);
    if (ShapedType::isDynamic(dim))
      return n.unsupported("an even Split of a dynamic dimension");
    // Equal chunks; the last one smaller when the size does not divide.
    int64_t chunk = (dim + outputs - 1) / outputs;
    for (size_t i = 0; i < outputs; ++i)
      sizes.push_back(std::max<int64_t>(0, std::min(chunk, dim - (int64_t)i * chunk)));
  }
  if (sizes.size() != n.numOutputs())
    return n.error("has " + std::to_string(n.numOutputs()) + " outputs but " +
                   std::to_string(sizes.size()) + " split sizes");
  int64_t offset = 0;
  for (auto [i, size] : llvm::enumerate(sizes)) {
    SmallVector<int64_t> starts(rank, 0), ends(rank, INT64_MAX), steps(rank, 1);
    starts[axis] = offset;
    ends[axis] = offset + size;
    offset += size;
    n.setOutput(i, n.slice(*x, starts, ends, steps));
  }
  if (!ShapedType::isDynamic(dim) && offset != dim)
    return n.error("split sizes add up to " + std::to_string(offset) +
                   ", but the axis has " + std::to_string(dim));
  return success();
}

LogicalResult convertSlice(NodeImporter &n) {
  FailureOr<Value> x = n.required(0);
  if (failed(x))
    return failure();
  int64_t rank = n.inputType(0).getRank();
  std::optional<SmallVector<int64_t>> starts, ends, axes, steps;
  if (n.opset < 10) {
    starts = n.attrInts("starts");
    ends = n.attrInts("ends");
    axes = n.attrInts("axes");
  } else {
    starts = n.constInts(n.input(1));
    ends = n.constInts(n.input(2));
    axes = n.input(3) ? n.constInts(n.input(3)) : std::nullopt;
    steps = n.input(4) ? n.constInts(n.input(4)) : std::nullopt;
  }
  if (!starts || !ends || (n.input(3) && !axes) || (n.input(4) && !steps)) {
    if (n.opset < 10)
      return n.error("starts and ends are required");
    // Computed at run time: kiln.slice applies ONNX's rules when it runs.
    auto i64 = [&](Value v) { return v ? n.castTo(v, n.b.getI64Type()) : Value(); };
    n.setOutput(0, n.create<SliceOp>(*x, i64(n.input(1)), i64(n.input(2)),
                                     i64(n.input(3)), i64(n.input(4)),
                                     ArrayRef<int64_t>{}, ArrayRef<int64_t>{},
                                     ArrayRef<int64_t>{}));
    return success();
  }
  auto optional = [](const std::optional<SmallVector<int64_t>> &v) {
    return v ? std::optional<ArrayRef<int64_t>>(*v) : std::nullopt;
  };
  SmallVector<int64_t> s, e, st;
  if (failed(onnxSliceToPerDim(ShapeDiag{n.loc, "Slice"}, rank, *starts, *ends, optional(axes),
                               optional(steps), s, e, st)))
    return failure();
  n.setOutput(0, n.slice(*x, s, e, st));
  return success();
}

LogicalResult convertGather(NodeImporter &n) {
  FailureOr<Value> x = n.required(0), idx = n.required(1);
  if (failed(x) || failed(idx))
    return failure();
  Type it = n.inputType(1).getElementType();
  Value indices = it.isInteger(32) || it.isInteger(64) ? *idx
                                                       : n.castTo(*idx, n.b.getI64Type());
  n.setOutput(0, n.create<GatherOp>(*x, indices, n.attrInt("axis", 0)));
  return success();
}

LogicalResult convertExpand(NodeImporter &n) {
  FailureOr<Value> x = n.required(0);
  if (failed(x))
    return failure();
  auto shape = n.constInts(n.input(1));
  auto t = n.inputType(0);
  if (!shape) {
    // Run-time target: the result rank is known, extents only where the
    // input's own static non-1 extent decides them.
    auto st = n.inputType(1);
    if (failed(checkShapeLength(n, st)))
      return failure();
    int64_t rank = std::max<int64_t>(st.getDimSize(0), t.getRank());
    SmallVector<int64_t> dims(rank, kDyn);
    for (int64_t i = 0; i < t.getRank(); ++i) {
      int64_t d = t.getDimSize(t.getRank() - 1 - i);
      if (!ShapedType::isDynamic(d) && d != 1)
        dims[rank - 1 - i] = d;
    }
    n.setOutput(0, n.create<ExpandOp>(RankedTensorType::get(dims, t.getElementType()),
                                      *x, n.castTo(n.input(1), n.b.getI64Type())));
    return success();
  }
  SmallVector<int64_t> out;
  ShapeDiag diag{n.loc, "Expand"};
  if (failed(broadcastShapes(diag, {t.getShape(), *shape}, out)))
    return failure();
  n.setOutput(0, n.create<ExpandOp>(RankedTensorType::get(out, t.getElementType()),
                                    *x, Value()));
  return success();
}

/// Tile = reshape to interleave size-1 dims, broadcast them, fold back.
/// Tile with repeats known at run time (or of dynamic dims): x reshaped to
/// [1, d0, 1, d1, ...], expanded to [r0, d0, r1, d1, ...], reshaped to
/// [r0*d0, r1*d1, ...], with every shape computed from Shape(x) and the
/// repeats. The interleaved shapes are concatenations of one-entry slices
/// (not a [r, 2] concat flattened), the form shape folding reads: dynamic
/// dims stay symbols and constant repeats fold.
LogicalResult convertRuntimeTile(NodeImporter &n, Value x, Value repeats) {
  auto t = cast<RankedTensorType>(x.getType());
  int64_t r = t.getRank();
  Type i64 = n.b.getI64Type();
  if (!repeats)
    return n.error("repeats is required");
  auto rt = dyn_cast<RankedTensorType>(repeats.getType());
  if (!rt || rt.getRank() != 1 || (!rt.isDynamicDim(0) && rt.getDimSize(0) != r))
    return n.error("repeats must be a 1-D tensor of " + std::to_string(r) +
                   " entries (the input's rank)");
  if (r == 0) {
    n.setOutput(0, x);
    return success();
  }
  Value rep = n.castTo(repeats, i64);
  Value dims = n.create<ShapeOp>(x);
  auto entry = [&](Value v, int64_t i) {
    return n.slice(v, ArrayRef<int64_t>{i}, ArrayRef<int64_t>{i + 1}, ArrayRef<int64_t>{1});
  };
  auto interleave = [&](Value first) {
    SmallVector<Value> parts;
    for (int64_t i = 0; i < r; ++i)
      parts.append({entry(first, i), entry(dims, i)});
    return n.create<ConcatOp>(parts, 0);
  };
  Value split = interleave(n.splat(i64, 1, {r}));
  Value expanded = interleave(rep);
  Value final = n.create<BinaryOp>(BinaryKind::mul, n.create<ShapeOp>(x), rep);
  SmallVector<int64_t> dyn2(2 * r, ShapedType::kDynamic), dyn(r, ShapedType::kDynamic);
  Type elt = t.getElementType();
  Value v = n.create<ReshapeOp>(RankedTensorType::get(dyn2, elt), x, split);
  v = n.create<ExpandOp>(RankedTensorType::get(dyn2, elt), v, expanded);
  n.setOutput(0, n.create<ReshapeOp>(RankedTensorType::get(dyn, elt), v, final));
  return success();
}

LogicalResult convertTile(NodeImporter &n) {
  FailureOr<Value> x = n.required(0);
  if (failed(x))
    return failure();
  auto t = n.inputType(0);
  auto repeats = n.constInts(n.input(1));
  if (!repeats)
    return convertRuntimeTile(n, *x, n.input(1));
  if ((int64_t)repeats->size() != t.getRank())
    return n.error("repeats has " + std::to_string(repeats->size()) +
                   " entries for rank " + std::to_string(t.getRank()));
  if (!t.hasStaticShape())
    return convertRuntimeTile(n, *x, n.input(1));
  SmallVector<int64_t> split, expanded, final;
  for (int64_t i = 0; i < t.getRank(); ++i) {
    split.append({1, t.getDimSize(i)});
    expanded.append({(*repeats)[i], t.getDimSize(i)});
    final.push_back((*repeats)[i] * t.getDimSize(i));
  }
  Value v = n.reshape(*x, split);
  v = n.create<ExpandOp>(RankedTensorType::get(expanded, t.getElementType()), v,
                         Value());
  n.setOutput(0, n.reshape(v, final));
  return success();
}

LogicalResult convertShape(NodeImporter &n) {
  FailureOr<Value> x = n.required(0);
  if (failed(x))
    return failure();
  int64_t rank = n.inputType(0).getRank();
  Value s = n.create<ShapeOp>(*x);
  int64_t start = n.attrInt("start", 0), end = n.attrInt("end", rank);
  if (start != 0 || end != rank)
    s = n.slice(s, ArrayRef<int64_t>{start}, ArrayRef<int64_t>{end},
                          ArrayRef<int64_t>{1});
  n.setOutput(0, s);
  return success();
}

LogicalResult convertSize(NodeImporter &n) {
  FailureOr<Value> x = n.required(0);
  if (failed(x))
    return failure();
  Value s = n.create<ShapeOp>(*x);
  n.setOutput(0, n.reduce(ReduceKind::prod, s, ArrayRef<int64_t>{0},
                                    false));
  return success();
}

LogicalResult convertCast(NodeImporter &n) {
  FailureOr<Value> x = n.required(0);
  if (failed(x))
    return failure();
  Type to;
  if (n.opType() == "CastLike") {
    if (!n.input(1))
      return n.error("input 'target_type' is required");
    to = n.inputType(1).getElementType();
  } else {
    int64_t code = n.attrInt("to", 0);
    to = convertElementType(n.b.getContext(), (int32_t)code);
    if (!to)
      return n.unsupported("casting to ONNX type " + std::to_string(code));
  }
  n.setOutput(0, n.castTo(*x, to));
  return success();
}

LogicalResult convertDropout(NodeImporter &n) {
  FailureOr<Value> x = n.required(0);
  if (failed(x))
    return failure();
  auto t = n.inputType(0);
  Value training = n.opset >= 12 ? n.input(2) : Value();
  auto trainingConst = training ? n.constInts(training) : std::nullopt;
  auto ratio = n.input(1) ? n.constFloats(n.input(1)) : std::nullopt;
  bool identity = !training || (trainingConst && !(*trainingConst)[0]) ||
                  (ratio && (*ratio)[0] == 0.0);
  if (identity) {
    n.setOutput(0, *x);
    if (n.hasOutput(1)) {
      if (!t.hasStaticShape())
        return n.unsupported("the mask output of Dropout on a dynamic shape");
      n.setOutput(1, n.splat(n.b.getI1Type(), 1, t.getShape()));
    }
    return success();
  }
  // Training: keep where a uniform draw is >= ratio, scale by 1/(1-ratio).
  if (!isa<FloatType>(t.getElementType()))
    return n.error("Dropout in training mode needs a floating-point input");
  Type ft = t.getElementType();
  Value r = n.input(1) ? n.castTo(n.input(1), ft) : n.splat(ft, 0.5);
  Value keep = n.create<CompareOp>(CompareKind::ge, randomUniformLike(n, *x), r);
  Value scale = n.create<BinaryOp>(BinaryKind::div, n.splat(ft, 1.0),
                                   n.create<BinaryOp>(BinaryKind::sub, n.splat(ft, 1.0), r));
  Value dropped = n.create<BinaryOp>(
      BinaryKind::mul, n.create<BinaryOp>(BinaryKind::mul, *x, n.castTo(keep, ft)), scale);
  Value mask = keep;
  if (!trainingConst) { // training mode decided at run time
    Value on = n.castTo(training, n.b.getI1Type());
    dropped = n.create<WhereOp>(on, dropped, *x);
    mask = n.create<BinaryOp>(BinaryKind::Or, keep,
                              n.create<UnaryOp>(UnaryKind::Not, on));
  }
  n.setOutput(0, dropped);
  n.setOutput(1, mask);
  return success();
}

LogicalResult convertConstant(NodeImporter &n) {
  Type f32 = n.b.getF32Type(), i64 = n.b.getI64Type();
  auto vec = [&](Type elt, ArrayRef<double> vals, bool scalar) {
    SmallVector<int64_t> shape;
    if (!scalar)
      shape.push_back(vals.size());
    return n.constant(RankedTensorType::get(shape, elt), vals);
  };
  if (n.hasAttr("value")) {
    FailureOr<Value> v = n.attrTensor("value");
    if (failed(v))
      return failure();
    n.setOutput(0, *v);
  } else if (n.hasAttr("value_float")) {
    n.setOutput(0, vec(f32, {n.attrFloat("value_float", 0)}, true));
  } else if (n.hasAttr("value_int")) {
    n.setOutput(0, vec(i64, {(double)n.attrInt("value_int", 0)}, true));
  } else if (auto fs = n.attrFloats("value_floats")) {
    SmallVector<double> d(fs->begin(), fs->end());
    n.setOutput(0, vec(f32, d, false));
  } else if (auto is = n.attrInts("value_ints")) {
    SmallVector<double> d(is->begin(), is->end());
    n.setOutput(0, vec(i64, d, false));
  } else if (n.hasAttr("sparse_value")) {
    return n.unsupported("sparse_value constants");
  } else if (n.hasAttr("value_string") || n.hasAttr("value_strings")) {
    return n.unsupported("string constants");
  } else {
    return n.error("has no value attribute");
  }
  return success();
}

LogicalResult convertConstantOfShape(NodeImporter &n) {
  auto shape = n.constInts(n.input(0));
  Value v;
  if (n.hasAttr("value")) {
    FailureOr<Value> c = n.attrTensor("value");
    if (failed(c))
      return failure();
    v = *c;
  } else {
    v = n.splat(n.b.getF32Type(), 0.0, {1});
  }
  auto t = cast<RankedTensorType>(v.getType());
  Value scalar = n.reshape(v, {});
  if (!shape) {
    auto st = n.inputType(0);
    if (failed(checkShapeLength(n, st)))
      return failure();
    SmallVector<int64_t> dims(st.getDimSize(0), kDyn);
    n.setOutput(0, n.create<ExpandOp>(RankedTensorType::get(dims, t.getElementType()),
                                      scalar, n.castTo(n.input(0), n.b.getI64Type())));
    return success();
  }
  n.setOutput(0, n.create<ExpandOp>(
                     RankedTensorType::get(*shape, t.getElementType()), scalar,
                     Value()));
  return success();
}

LogicalResult convertRange(NodeImporter &n) {
  auto start = n.constFloats(n.input(0)), limit = n.constFloats(n.input(1)),
       delta = n.constFloats(n.input(2));
  if (!start || !limit || !delta) {
    FailureOr<Value> s0 = n.required(0), l0 = n.required(1), d0 = n.required(2);
    if (failed(s0) || failed(l0) || failed(d0))
      return failure();
    n.setOutput(0, n.create<RangeOp>(*s0, *l0, *d0));
    return success();
  }
  if (start->empty() || limit->empty() || delta->empty())
    return n.error("start, limit and delta must each hold one value");
  double s = (*start)[0], l = (*limit)[0], d = (*delta)[0];
  if (d == 0)
    return n.error("delta is zero");
  double span = std::ceil((l - s) / d);
  if (!std::isfinite(span))
    return n.error("start, limit and delta give no finite length");
  // Materialized as a constant up to 2^24 elements; longer ranges are
  // past what a model computes with Range and than kiln accepts.
  if (span > double(1 << 24))
    return n.error("a constant Range of " + std::to_string((long long)span) +
                   " elements (at most 2^24)");
  int64_t count = std::max<int64_t>(0, (int64_t)span);
  SmallVector<double> vals;
  for (int64_t i = 0; i < count; ++i)
    vals.push_back(s + i * d);
  Type elt = n.inputType(0).getElementType();
  n.setOutput(0, n.constant(RankedTensorType::get({count}, elt), vals));
  return success();
}

LogicalResult convertWhere(NodeImporter &n) {
  FailureOr<Value> c = n.required(0), a = n.required(1), b = n.required(2);
  if (failed(c) || failed(a) || failed(b))
    return failure();
  n.setOutput(0, n.create<WhereOp>(*c, *a, *b));
  return success();
}

LogicalResult convertEyeLike(NodeImporter &n) {
  auto t = n.inputType(0);
  if (!t || t.getRank() != 2 || !t.hasStaticShape())
    return n.unsupported("EyeLike of a non-static or non-2-D input");
  Type elt = t.getElementType();
  if (n.hasAttr("dtype")) {
    elt = convertElementType(n.b.getContext(), (int32_t)n.attrInt("dtype", 1));
  }
  int64_t k = n.attrInt("k", 0);
  SmallVector<double> vals;
  for (int64_t i = 0; i < t.getDimSize(0); ++i)
    for (int64_t j = 0; j < t.getDimSize(1); ++j)
      vals.push_back(j - i == k ? 1 : 0);
  n.setOutput(0, n.constant(RankedTensorType::get(t.getShape(), elt), vals));
  return success();
}

/// Trilu: keep the lower/upper triangle of the last two dims (k-th diagonal).
LogicalResult convertTrilu(NodeImporter &n) {
  FailureOr<Value> x = n.required(0);
  if (failed(x))
    return failure();
  auto t = n.inputType(0);
  int64_t r = t.getRank();
  bool upper = n.attrInt("upper", 1);
  if (r < 2)
    return n.error("input must have rank >= 2");
  std::optional<SmallVector<int64_t>> kc =
      n.input(1) ? n.constInts(n.input(1)) : SmallVector<int64_t>{0};
  bool staticMatrix = !ShapedType::isDynamic(t.getDimSize(r - 2)) &&
                      !ShapedType::isDynamic(t.getDimSize(r - 1));
  if (!kc || !staticMatrix || t.getDimSize(r - 2) * t.getDimSize(r - 1) > 1 << 20) {
    // Run-time k or extents (or a mask too big to spell out): kiln.trilu.
    Value k = n.input(1) ? n.reshape(n.castTo(n.input(1), n.b.getI64Type()), {})
                         : Value();
    n.setOutput(0, n.create<TriluOp>(*x, k, upper));
    return success();
  }
  int64_t k = (*kc)[0];
  int64_t rows = t.getDimSize(r - 2), cols = t.getDimSize(r - 1);
  SmallVector<double> keep;
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j)
      keep.push_back(upper ? (j - i >= k) : (j - i <= k));
  Value mask = n.constant(RankedTensorType::get({rows, cols}, n.b.getI1Type()), keep);
  Value zero = n.splat(t.getElementType(), 0.0);
  n.setOutput(0, n.create<WhereOp>(mask, *x, zero));
  return success();
}

/// OneHot: (indices[..., None] == arange(depth)) selecting on/off values.
LogicalResult convertOneHot(NodeImporter &n) {
  FailureOr<Value> idx = n.required(0), depthIn = n.required(1),
                   valuesOr = n.required(2);
  if (failed(idx) || failed(depthIn) || failed(valuesOr))
    return failure();
  auto depthC = n.constFloats(*depthIn);
  Type i64 = n.b.getI64Type();
  // The depth as an i64 scalar (ONNX allows any numeric type; float truncates).
  Value depth = depthC && depthC->size() == 1
                    ? n.splat(i64, (double)(int64_t)(*depthC)[0])
                    : n.reshape(n.castTo(*depthIn, i64), {});
  int64_t staticDepth = depthC && depthC->size() == 1 ? (int64_t)(*depthC)[0] : kDyn;
  auto it = n.inputType(0);
  int64_t rank = it.getRank() + 1, axis = n.attrInt("axis", -1);
  if (axis < 0)
    axis += rank;
  if (axis < 0 || axis >= rank)
    return n.error("axis is out of range");
  Value indices = n.castTo(*idx, i64);
  // Negative indices count from the end of the depth.
  Value neg = n.create<CompareOp>(CompareKind::lt, indices, n.splat(i64, 0));
  indices = n.create<WhereOp>(neg, n.create<BinaryOp>(BinaryKind::add, indices, depth),
                              indices);
  SmallVector<Dim> dims = dimsOf(it);
  dims.insert(dims.begin() + axis, Dim{1});
  Value expanded = reshapeTo(n, indices, dims);
  // Positions 0..depth-1 along `axis`, broadcasting against the indices: a
  // constant when the depth is, else a kiln.range.
  SmallVector<int64_t> posShape(rank, 1);
  posShape[axis] = staticDepth;
  Value pos;
  if (!ShapedType::isDynamic(staticDepth)) {
    SmallVector<double> iota;
    for (int64_t i = 0; i < staticDepth; ++i)
      iota.push_back(i);
    pos = n.constant(RankedTensorType::get(posShape, i64), iota);
  } else {
    pos = n.create<RangeOp>(n.splat(i64, 0), depth, n.splat(i64, 1));
    pos = n.create<ReshapeOp>(RankedTensorType::get(posShape, i64), pos, Value());
  }
  Value hot = n.create<CompareOp>(CompareKind::eq, expanded, pos);
  Value off = n.slice(*valuesOr, ArrayRef<int64_t>{0},
                                ArrayRef<int64_t>{1}, ArrayRef<int64_t>{1});
  Value on = n.slice(*valuesOr, ArrayRef<int64_t>{1},
                               ArrayRef<int64_t>{2}, ArrayRef<int64_t>{1});
  n.setOutput(0, n.create<WhereOp>(hot, n.reshape(on, {}), n.reshape(off, {})));
  return success();
}

/// DepthToSpace / SpaceToDepth: reshape, transpose, reshape (static NCHW).
LogicalResult convertDepthSpace(NodeImporter &n) {
  FailureOr<Value> x = n.required(0);
  if (failed(x))
    return failure();
  auto t = n.inputType(0);
  if (t.getRank() != 4 || !t.hasStaticShape())
    return n.unsupported("non-static or non-4-D input");
  int64_t bs = n.attrInt("blocksize", 0);
  if (bs <= 0)
    return n.error("blocksize must be positive");
  int64_t N = t.getDimSize(0), C = t.getDimSize(1), H = t.getDimSize(2),
          W = t.getDimSize(3);
  Value v;
  if (n.opType() == "DepthToSpace") {
    if (C % (bs * bs))
      return n.error("channels are not divisible by blocksize^2");
    bool crd = n.attrString("mode", "DCR") == "CRD";
    int64_t c = C / (bs * bs);
    if (crd) {
      v = n.reshape(*x, {N, c, bs, bs, H, W});
      v = n.create<TransposeOp>(v, ArrayRef<int64_t>{0, 1, 4, 2, 5, 3});
    } else {
      v = n.reshape(*x, {N, bs, bs, c, H, W});
      v = n.create<TransposeOp>(v, ArrayRef<int64_t>{0, 3, 4, 1, 5, 2});
    }
    v = n.reshape(v, {N, c, H * bs, W * bs});
  } else {
    if (H % bs || W % bs)
      return n.error("spatial dims are not divisible by blocksize");
    v = n.reshape(*x, {N, C, H / bs, bs, W / bs, bs});
    v = n.create<TransposeOp>(v, ArrayRef<int64_t>{0, 3, 5, 1, 2, 4});
    v = n.reshape(v, {N, C * bs * bs, H / bs, W / bs});
  }
  n.setOutput(0, v);
  return success();
}

} // namespace

void registerTensorOps(OpRegistry &r) {
  r.add("Reshape", 1, convertReshape);
  r.add("Transpose", 1, convertTranspose);
  r.add("Squeeze", 1, convertSqueeze);
  r.add("Unsqueeze", 1, convertUnsqueeze);
  r.add("Flatten", 1, convertFlatten);
  r.add("Concat", 1, convertConcat);
  r.add("Split", 1, convertSplit);
  r.add("Slice", 1, convertSlice);
  r.add("Gather", 1, convertGather);
  r.add("Expand", 8, convertExpand);
  r.add("Tile", 6, convertTile);
  r.add("Shape", 1, convertShape);
  r.add("Size", 1, convertSize);
  r.add("Cast", 6, convertCast);
  r.add("CastLike", 15, convertCast);
  r.add("Dropout", 1, convertDropout);
  r.add("Constant", 1, convertConstant);
  r.add("ConstantOfShape", 9, convertConstantOfShape);
  r.add("Range", 11, convertRange);
  r.add("Where", 9, convertWhere);
  r.add("EyeLike", 9, convertEyeLike);
  r.add("Trilu", 14, convertTrilu);
  r.add("OneHot", 9, convertOneHot);
  r.add("DepthToSpace", 1, convertDepthSpace);
  r.add("SpaceToDepth", 1, convertDepthSpace);
}

} // namespace kiln::onnx_frontend
