//===- KilnIndexingOps.cpp - gather/scatter, cumsum, nonzero, einsum ------===//

#include "dialects/kiln/IR/OpHelpers.h"

#include "llvm/ADT/StringExtras.h"

using namespace mlir;
using namespace kiln;
using namespace kiln::detail;

KILN_INFER_VIA_ADAPTOR(GatherElementsOp)
KILN_INFER_VIA_ADAPTOR(ScatterElementsOp)
KILN_INFER_VIA_ADAPTOR(GatherNdOp)
KILN_INFER_VIA_ADAPTOR(ScatterNdOp)
KILN_INFER_VIA_ADAPTOR(CumsumOp)
KILN_INFER_VIA_ADAPTOR(NonZeroOp)
KILN_INFER_VIA_ADAPTOR(EinsumOp)

LogicalResult GatherElementsOp::inferReturnTypes(MLIRContext *, std::optional<Location> location,
                                                 Adaptor adaptor,
                                                 SmallVectorImpl<Type> &inferred) {
  KILN_DIAG(GatherElementsOp);
  KILN_RANKED(data, adaptor.getData(), "data");
  KILN_RANKED(idx, adaptor.getIndices(), "indices");
  if (data.getRank() != idx.getRank())
    return diag.error("indices must have the rank of data (", data.getRank(),
                      "), got ", idx.getRank());
  if (data.getRank() == 0)
    return diag.error("data must have rank >= 1");
  FailureOr<int64_t> axis = normalizeAxis(diag, adaptor.getAxis(), data.getRank());
  if (failed(axis))
    return failure();
  return pushTensor(inferred, idx.getShape(), data.getElementType());
}

LogicalResult ScatterElementsOp::inferReturnTypes(MLIRContext *, std::optional<Location> location,
                                                  Adaptor adaptor,
                                                  SmallVectorImpl<Type> &inferred) {
  KILN_DIAG(ScatterElementsOp);
  KILN_RANKED(data, adaptor.getData(), "data");
  KILN_RANKED(idx, adaptor.getIndices(), "indices");
  KILN_RANKED(upd, adaptor.getUpdates(), "updates");
  if (data.getRank() != idx.getRank())
    return diag.error("indices must have the rank of data (", data.getRank(),
                      "), got ", idx.getRank());
  for (int64_t i = 0; i < idx.getRank(); ++i)
    if (upd.getRank() != idx.getRank() ||
        !dimsCompatible(upd.getDimSize(i), idx.getDimSize(i)))
      return diag.error("updates ", shapeToString(upd.getShape()),
                        " must have the shape of indices ",
                        shapeToString(idx.getShape()));
  if (failed(checkSameElementType(diag, {data, upd}, {"data", "updates"})) ||
      failed(normalizeAxis(diag, adaptor.getAxis(), data.getRank())))
    return failure();
  inferred.push_back(data);
  return success();
}

/// The last dimension of `indices` for the *_nd ops (must be static).
static FailureOr<int64_t> indexDepth(const ShapeDiag &diag, RankedTensorType data,
                                     RankedTensorType idx, int64_t batch) {
  if (idx.getRank() < 1)
    return diag.error("indices must have rank >= 1");
  int64_t m = idx.getShape().back();
  if (ShapedType::isDynamic(m))
    return diag.error("the last dimension of indices must be static");
  if (batch < 0 || batch >= idx.getRank() || batch + m > data.getRank())
    return diag.error("index tuples of length ", m, " after ", batch,
                      " batch dimensions do not fit data of rank ",
                      data.getRank());
  for (int64_t i = 0; i < batch; ++i)
    if (!dimsCompatible(data.getDimSize(i), idx.getDimSize(i)))
      return diag.error("batch dimension ", i, " differs between data and indices");
  return m;
}

LogicalResult GatherNdOp::inferReturnTypes(MLIRContext *, std::optional<Location> location,
                                           Adaptor adaptor,
                                           SmallVectorImpl<Type> &inferred) {
  KILN_DIAG(GatherNdOp);
  KILN_RANKED(data, adaptor.getData(), "data");
  KILN_RANKED(idx, adaptor.getIndices(), "indices");
  int64_t batch = adaptor.getBatchDims();
  FailureOr<int64_t> m = indexDepth(diag, data, idx, batch);
  if (failed(m))
    return failure();
  SmallVector<int64_t> shape(idx.getShape().drop_back());
  shape.append(data.getShape().begin() + batch + *m, data.getShape().end());
  return pushTensor(inferred, shape, data.getElementType());
}

LogicalResult ScatterNdOp::inferReturnTypes(MLIRContext *, std::optional<Location> location,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &inferred) {
  KILN_DIAG(ScatterNdOp);
  KILN_RANKED(data, adaptor.getData(), "data");
  KILN_RANKED(idx, adaptor.getIndices(), "indices");
  KILN_RANKED(upd, adaptor.getUpdates(), "updates");
  FailureOr<int64_t> m = indexDepth(diag, data, idx, 0);
  if (failed(m))
    return failure();
  SmallVector<int64_t> want(idx.getShape().drop_back());
  want.append(data.getShape().begin() + *m, data.getShape().end());
  bool ok = upd.getRank() == (int64_t)want.size();
  for (int64_t i = 0; ok && i < upd.getRank(); ++i)
    ok = dimsCompatible(upd.getDimSize(i), want[i]);
  if (!ok)
    return diag.error("updates have shape ", shapeToString(upd.getShape()),
                      ", expected ", shapeToString(want));
  if (failed(checkSameElementType(diag, {data, upd}, {"data", "updates"})))
    return failure();
  inferred.push_back(data);
  return success();
}

LogicalResult CumsumOp::inferReturnTypes(MLIRContext *, std::optional<Location> location,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &inferred) {
  KILN_DIAG(CumsumOp);
  KILN_RANKED(in, adaptor.getInput(), "input");
  if (in.getRank() == 0)
    return diag.error("input must have rank >= 1");
  if (!isFloat(in.getElementType()) && !isInt(in.getElementType()))
    return diag.error("needs a numeric tensor, got element type ",
                      in.getElementType());
  if (!adaptor.getRuntimeAxis() &&
      failed(normalizeAxis(diag, adaptor.getAxis(), in.getRank())))
    return failure();
  inferred.push_back(in);
  return success();
}

LogicalResult NonZeroOp::inferReturnTypes(MLIRContext *ctx, std::optional<Location> location,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &inferred) {
  KILN_DIAG(NonZeroOp);
  KILN_RANKED(in, adaptor.getInput(), "input");
  return pushTensor(inferred, {in.getRank(), ShapedType::kDynamic},
                    IntegerType::get(ctx, 64));
}

//===----------------------------------------------------------------------===//
// Einsum
//===----------------------------------------------------------------------===//

LogicalResult EinsumOp::inferReturnTypes(MLIRContext *, std::optional<Location> location,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &inferred) {
  KILN_DIAG(EinsumOp);
  std::string eq;
  for (char c : adaptor.getEquation())
    if (c != ' ')
      eq.push_back(c);
  StringRef lhs = eq, rhs;
  bool explicitOut = false;
  if (size_t arrow = StringRef(eq).find("->"); arrow != StringRef::npos) {
    lhs = StringRef(eq).take_front(arrow);
    rhs = StringRef(eq).drop_front(arrow + 2);
    explicitOut = true;
  }
  SmallVector<StringRef> terms;
  lhs.split(terms, ',');
  ValueRange inputs = adaptor.getInputs();
  if (terms.size() != inputs.size())
    return diag.error("equation '", adaptor.getEquation(), "' has ",
                      terms.size(), " operand terms but the op has ",
                      inputs.size(), " inputs");
  if (inputs.empty())
    return diag.error("needs at least one input");
  std::map<char, int64_t> sizes;
  std::map<char, int> counts;
  SmallVector<int64_t> ellipsis; // broadcast shape of the "..." dims
  bool sawEllipsis = false;
  Type elt;
  for (auto [term, v] : llvm::zip(terms, inputs)) {
    KILN_RANKED(t, v, "input");
    if (!elt)
      elt = t.getElementType();
    else if (elt != t.getElementType())
      return diag.error("inputs have different element types");
    size_t dots = term.find("...");
    int64_t letters = (int64_t)term.size() - (dots == StringRef::npos ? 0 : 3);
    int64_t ellRank = t.getRank() - letters;
    if ((dots == StringRef::npos && ellRank != 0) || ellRank < 0)
      return diag.error("term '", term, "' does not match an input of rank ",
                        t.getRank());
    int64_t dim = 0;
    for (size_t i = 0; i < term.size(); ++i) {
      if (i == dots) {
        SmallVector<int64_t> mine(t.getShape().begin() + dim,
                                  t.getShape().begin() + dim + ellRank);
        SmallVector<int64_t> merged;
        if (failed(broadcastShapes(diag, {ellipsis, mine}, merged)))
          return failure();
        ellipsis = merged;
        sawEllipsis = true;
        dim += ellRank;
        i += 2;
        continue;
      }
      char c = term[i];
      if (!llvm::isAlpha(c))
        return diag.error("equation has invalid character '", StringRef(&c, 1), "'");
      int64_t d = t.getDimSize(dim++);
      auto [it, fresh] = sizes.try_emplace(c, d);
      if (!fresh) {
        if (!dimsCompatible(it->second, d) && it->second != 1 && d != 1)
          return diag.error("label '", StringRef(&c, 1), "' has sizes ",
                            it->second, " and ", d);
        if (ShapedType::isDynamic(it->second) || it->second == 1)
          it->second = d;
      }
      ++counts[c];
    }
  }
  SmallVector<int64_t> shape;
  if (!explicitOut) {
    if (sawEllipsis)
      shape.append(ellipsis);
    for (auto &[c, n] : counts)
      if (n == 1)
        shape.push_back(sizes[c]);
  } else {
    for (size_t i = 0; i < rhs.size(); ++i) {
      if (rhs.substr(i).starts_with("...")) {
        shape.append(ellipsis);
        i += 2;
        continue;
      }
      char c = rhs[i];
      if (!sizes.count(c))
        return diag.error("output label '", StringRef(&c, 1),
                          "' appears in no input");
      shape.push_back(sizes[c]);
    }
  }
  return pushTensor(inferred, shape, elt);
}

//===----------------------------------------------------------------------===//
// Range, Trilu
//===----------------------------------------------------------------------===//

KILN_INFER_VIA_ADAPTOR(RangeOp)
KILN_INFER_VIA_ADAPTOR(TriluOp)

LogicalResult RangeOp::inferReturnTypes(MLIRContext *, std::optional<Location> location,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &inferred) {
  KILN_DIAG(RangeOp);
  KILN_RANKED(start, adaptor.getStart(), "start");
  if (start.getRank() != 0)
    return diag.error("start, limit and delta must be scalars, got ", start);
  Type e = start.getElementType();
  if (!isFloat(e) && !isInt(e))
    return diag.error("needs a numeric type, got ", e);
  return pushTensor(inferred, {ShapedType::kDynamic}, e);
}

LogicalResult TriluOp::inferReturnTypes(MLIRContext *, std::optional<Location> location,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &inferred) {
  KILN_DIAG(TriluOp);
  KILN_RANKED(in, adaptor.getInput(), "input");
  if (in.getRank() < 2)
    return diag.error("input must have rank >= 2, got ", in.getRank());
  inferred.push_back(in);
  return success();
}

LogicalResult CacheAppendOp::verify() {
  auto cache = cast<RankedTensorType>(getCache().getType());
  auto update = cast<RankedTensorType>(getUpdate().getType());
  int64_t axis = getAxis();
  if (axis < 0 || axis >= cache.getRank())
    return emitOpError("axis ") << axis << " is outside the cache's " << cache.getRank()
                                << " dims";
  if (update.getRank() != cache.getRank())
    return emitOpError("update of rank ")
           << update.getRank() << " does not match the cache's rank " << cache.getRank();
  if (update.getElementType() != cache.getElementType())
    return emitOpError("update element type ")
           << update.getElementType() << " is not the cache's " << cache.getElementType();
  auto result = cast<RankedTensorType>(getResult().getType());
  if (result.getRank() != cache.getRank() || result.getElementType() != cache.getElementType())
    return emitOpError("result ") << result << " is not entries of the cache " << cache;
  for (int64_t d = 0; d < cache.getRank(); ++d) {
    if (d == axis || cache.isDynamicDim(d))
      continue;
    for (auto [what, t] : {std::pair{"update", update}, {"result", result}})
      if (!t.isDynamicDim(d) && t.getDimSize(d) != cache.getDimSize(d))
        return emitOpError(what) << " dim " << d << " is " << t.getDimSize(d)
                                 << ", the cache's is " << cache.getDimSize(d);
  }
  if (cache.isDynamicDim(axis))
    return emitOpError("the cache's dim ") << axis << " (its capacity) must be static";
  if (!update.isDynamicDim(axis) && update.getDimSize(axis) > cache.getDimSize(axis))
    return emitOpError("update of ") << update.getDimSize(axis) << " entries exceeds the cache's "
                                     << cache.getDimSize(axis);
  auto length = cast<RankedTensorType>(getLength().getType());
  if (!length.hasStaticShape() || length.getNumElements() != 1)
    return emitOpError("length must hold one entry, got ") << length;
  return success();
}
