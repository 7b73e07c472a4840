//===- TypeInference.cpp - shape rules of kiln ops ------------------------===//

#include "dialects/kiln/IR/TypeInference.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallBitVector.h"

using namespace mlir;

namespace kiln {

static bool isDyn(int64_t d) { return ShapedType::isDynamic(d); }

std::string shapeToString(ArrayRef<int64_t> shape) {
  if (shape.empty())
    return "scalar";
  std::string s;
  for (auto [i, d] : llvm::enumerate(shape)) {
    if (i)
      s += "x";
    s += isDyn(d) ? "?" : std::to_string(d);
  }
  return s;
}

FailureOr<int64_t> normalizeAxis(const ShapeDiag &diag, int64_t axis,
                                 int64_t rank, StringRef what) {
  if (axis < -rank || axis >= std::max<int64_t>(rank, 1) ||
      (rank == 0 && axis != 0 && axis != -1)) {
    (void)diag.error(what, " ", axis, " is out of range for rank ", rank,
                     " (expected [", -rank, ", ", rank, "))");
    return failure();
  }
  return axis < 0 ? axis + rank : axis;
}

LogicalResult broadcastShapes(const ShapeDiag &diag,
                              ArrayRef<ArrayRef<int64_t>> shapes,
                              SmallVectorImpl<int64_t> &result) {
  size_t rank = 0;
  for (ArrayRef<int64_t> s : shapes)
    rank = std::max(rank, s.size());
  result.assign(rank, 1);
  for (size_t i = 0; i < rank; ++i) {
    // Dimension i of the result, counted from the right.
    int64_t staticDim = 1;
    bool sawDynamic = false;
    for (ArrayRef<int64_t> s : shapes) {
      if (i >= s.size())
        continue;
      int64_t d = s[s.size() - 1 - i];
      if (isDyn(d)) {
        sawDynamic = true;
      } else if (d != 1) {
        if (staticDim != 1 && staticDim != d) {
          std::string all;
          for (auto [k, sh] : llvm::enumerate(shapes))
            all += (k ? ", " : "") + shapeToString(sh);
          return diag.error("operands are not broadcast-compatible: shapes ",
                            all, " differ in dimension ", rank - 1 - i,
                            " of the broadcast result (", staticDim, " vs ",
                            d, ")");
        }
        staticDim = d;
      }
    }
    result[rank - 1 - i] =
        (staticDim == 1 && sawDynamic) ? ShapedType::kDynamic : staticDim;
  }
  return success();
}

LogicalResult checkBroadcastsTo(const ShapeDiag &diag, ArrayRef<int64_t> from,
                                ArrayRef<int64_t> to, StringRef fromName,
                                StringRef toName) {
  if (from.size() > to.size())
    return diag.error(fromName, " of shape ", shapeToString(from),
                      " has more dimensions than ", toName, " of shape ",
                      shapeToString(to));
  size_t off = to.size() - from.size();
  for (size_t i = 0; i < from.size(); ++i) {
    int64_t f = from[i], t = to[off + i];
    if (f == 1 || dimsCompatible(f, t))
      continue;
    return diag.error(fromName, " of shape ", shapeToString(from),
                      " does not broadcast to ", toName, " of shape ",
                      shapeToString(to), ": dimension ", i, " is ", f,
                      ", expected 1 or ", t);
  }
  return success();
}

LogicalResult inferMatmulShape(const ShapeDiag &diag, RankedTensorType lhs,
                               RankedTensorType rhs,
                               SmallVectorImpl<int64_t> &result) {
  if (lhs.getElementType() != rhs.getElementType())
    return diag.error("operands have different element types: ",
                      lhs.getElementType(), " and ", rhs.getElementType());
  if (lhs.getRank() == 0 || rhs.getRank() == 0)
    return diag.error("operands must have rank >= 1, got ",
                      shapeToString(lhs.getShape()), " and ",
                      shapeToString(rhs.getShape()));
  // Numpy promotion of 1-D operands: [K] -> [1, K] and [K] -> [K, 1].
  SmallVector<int64_t> a(lhs.getShape()), b(rhs.getShape());
  bool vecL = a.size() == 1, vecR = b.size() == 1;
  if (vecL)
    a.insert(a.begin(), 1);
  if (vecR)
    b.push_back(1);
  int64_t kL = a[a.size() - 1], kR = b[b.size() - 2];
  if (!dimsCompatible(kL, kR))
    return diag.error("contracting dimensions differ: lhs ",
                      shapeToString(lhs.getShape()), " has K=", kL, ", rhs ",
                      shapeToString(rhs.getShape()), " has K=", kR);
  SmallVector<int64_t> batch;
  ArrayRef<int64_t> batchA = ArrayRef(a).drop_back(2);
  ArrayRef<int64_t> batchB = ArrayRef(b).drop_back(2);
  if (failed(broadcastShapes(diag, {batchA, batchB}, batch)))
    return failure();
  result.assign(batch.begin(), batch.end());
  if (!vecL)
    result.push_back(a[a.size() - 2]);
  if (!vecR)
    result.push_back(b[b.size() - 1]);
  return success();
}

LogicalResult inferGemmShape(const ShapeDiag &diag, RankedTensorType a,
                             RankedTensorType b, RankedTensorType c,
                             bool transA, bool transB,
                             SmallVectorImpl<int64_t> &result) {
  if (a.getRank() != 2 || b.getRank() != 2)
    return diag.error("A and B must be 2-D, got ", shapeToString(a.getShape()),
                      " and ", shapeToString(b.getShape()));
  if (a.getElementType() != b.getElementType())
    return diag.error("A and B have different element types: ",
                      a.getElementType(), " and ", b.getElementType());
  int64_t m = a.getDimSize(transA ? 1 : 0), kA = a.getDimSize(transA ? 0 : 1);
  int64_t kB = b.getDimSize(transB ? 1 : 0), n = b.getDimSize(transB ? 0 : 1);
  if (!dimsCompatible(kA, kB))
    return diag.error("contracting dimensions differ: op(A) is ", m, "x", kA,
                      ", op(B) is ", kB, "x", n);
  result.assign({m, n});
  if (c) {
    if (c.getElementType() != a.getElementType())
      return diag.error("C has element type ", c.getElementType(),
                        ", expected ", a.getElementType());
    if (failed(checkBroadcastsTo(diag, c.getShape(), result, "C", "the result")))
      return failure();
  }
  return success();
}

LogicalResult inferReduceShape(const ShapeDiag &diag, ArrayRef<int64_t> shape,
                               ArrayRef<int64_t> axes, bool keepdims,
                               SmallVectorImpl<int64_t> &result) {
  int64_t rank = shape.size();
  llvm::SmallBitVector reduced(rank);
  for (int64_t axis : axes) {
    FailureOr<int64_t> a = normalizeAxis(diag, axis, rank);
    if (failed(a))
      return failure();
    if (reduced.test(*a))
      return diag.error("axis ", axis, " is listed twice in axes");
    reduced.set(*a);
  }
  result.clear();
  for (int64_t i = 0; i < rank; ++i) {
    if (!reduced.test(i))
      result.push_back(shape[i]);
    else if (keepdims)
      result.push_back(1);
  }
  return success();
}

LogicalResult inferTransposeShape(const ShapeDiag &diag,
                                  ArrayRef<int64_t> shape,
                                  ArrayRef<int64_t> perm,
                                  SmallVectorImpl<int64_t> &result) {
  int64_t rank = shape.size();
  if ((int64_t)perm.size() != rank)
    return diag.error("perm has ", perm.size(), " entries, expected ", rank,
                      " (the input rank)");
  llvm::SmallBitVector seen(rank);
  for (int64_t p : perm) {
    if (p < 0 || p >= rank || seen.test(p))
      return diag.error("perm is not a permutation of [0, ", rank, ")");
    seen.set(p);
  }
  result.clear();
  for (int64_t p : perm)
    result.push_back(shape[p]);
  return success();
}

LogicalResult inferGatherShape(const ShapeDiag &diag, ArrayRef<int64_t> data,
                               ArrayRef<int64_t> indices, int64_t axis,
                               SmallVectorImpl<int64_t> &result) {
  if (data.empty())
    return diag.error("data must have rank >= 1");
  FailureOr<int64_t> a = normalizeAxis(diag, axis, data.size());
  if (failed(a))
    return failure();
  result.assign(data.begin(), data.begin() + *a);
  result.append(indices.begin(), indices.end());
  result.append(data.begin() + *a + 1, data.end());
  return success();
}

int64_t sliceExtent(int64_t dim, int64_t start, int64_t end, int64_t step) {
  if (isDyn(dim))
    return ShapedType::kDynamic;
  if (start < 0)
    start += dim;
  if (end < 0)
    end += dim;
  if (step > 0) {
    start = std::clamp<int64_t>(start, 0, dim);
    end = std::clamp<int64_t>(end, 0, dim);
    return end <= start ? 0 : (end - start + step - 1) / step;
  }
  start = std::clamp<int64_t>(start, 0, dim - 1);
  end = std::clamp<int64_t>(end, -1, dim - 1);
  return start <= end ? 0 : (start - end + (-step) - 1) / (-step);
}

LogicalResult inferSliceShape(const ShapeDiag &diag, ArrayRef<int64_t> shape,
                              ArrayRef<int64_t> starts, ArrayRef<int64_t> ends,
                              ArrayRef<int64_t> steps,
                              SmallVectorImpl<int64_t> &result) {
  size_t rank = shape.size();
  if (starts.size() != rank || ends.size() != rank || steps.size() != rank)
    return diag.error("starts, ends and steps need one entry per dimension (",
                      rank, "), got ", starts.size(), ", ", ends.size(),
                      " and ", steps.size());
  result.clear();
  for (size_t i = 0; i < rank; ++i) {
    if (steps[i] == 0)
      return diag.error("step of dimension ", i, " is zero");
    result.push_back(sliceExtent(shape[i], starts[i], ends[i], steps[i]));
  }
  return success();
}

LogicalResult onnxSliceToPerDim(const ShapeDiag &diag, int64_t rank, ArrayRef<int64_t> starts,
                                ArrayRef<int64_t> ends, std::optional<ArrayRef<int64_t>> axes,
                                std::optional<ArrayRef<int64_t>> steps,
                                SmallVectorImpl<int64_t> &perDimStarts,
                                SmallVectorImpl<int64_t> &perDimEnds,
                                SmallVectorImpl<int64_t> &perDimSteps) {
  size_t n = starts.size();
  if (ends.size() != n || (axes && axes->size() != n) || (steps && steps->size() != n))
    return diag.error("starts, ends, axes and steps have different lengths");
  perDimStarts.assign(rank, 0);
  perDimEnds.assign(rank, INT64_MAX);
  perDimSteps.assign(rank, 1);
  SmallVector<bool> seen(rank, false);
  for (size_t i = 0; i < n; ++i) {
    int64_t a = axes ? (*axes)[i] : (int64_t)i;
    if (a < -rank || a >= rank)
      return diag.error("axis ", a, " is out of range for rank ", rank);
    if (a < 0)
      a += rank;
    if (seen[a])
      return diag.error("axis ", a, " is listed twice");
    seen[a] = true;
    int64_t step = steps ? (*steps)[i] : 1;
    if (step == 0)
      return diag.error("step is zero");
    perDimStarts[a] = starts[i];
    perDimEnds[a] = ends[i];
    perDimSteps[a] = step;
  }
  return success();
}

std::optional<SmallVector<SmallVector<int64_t, 2>>> reshapeGroups(ArrayRef<int64_t> big,
                                                                  ArrayRef<int64_t> small) {
  SmallVector<SmallVector<int64_t, 2>> groups;
  size_t b = 0;
  for (int64_t s : small) {
    SmallVector<int64_t, 2> g;
    if (!isDyn(s)) {
      int64_t product = 1;
      do {
        if (b >= big.size() || isDyn(big[b]))
          return std::nullopt;
        product *= big[b];
        g.push_back(b++);
      } while (product < s);
      if (product != s)
        return std::nullopt;
    } else {
      // Static 1s, then the one dynamic dim.
      while (b < big.size() && !isDyn(big[b]) && big[b] == 1)
        g.push_back(b++);
      if (b >= big.size() || !isDyn(big[b]))
        return std::nullopt;
      g.push_back(b++);
    }
    groups.push_back(g);
  }
  // Trailing 1s join the last group.
  for (; b < big.size(); ++b) {
    if (isDyn(big[b]) || big[b] != 1 || groups.empty())
      return std::nullopt;
    groups.back().push_back(b);
  }
  return groups;
}

LogicalResult onnxReshapeDims(const ShapeDiag &diag, ArrayRef<int64_t> input,
                              ArrayRef<int64_t> target, bool allowZero,
                              SmallVectorImpl<int64_t> &result) {
  result.clear();
  int64_t inferIdx = -1, known = 1;
  for (auto [i, d] : llvm::enumerate(target)) {
    if (d == 0 && !allowZero) {
      if ((int64_t)i >= (int64_t)input.size())
        return diag.error("shape entry ", i, " is 0 (copy) but the input has rank ",
                          input.size());
      result.push_back(input[i]);
    } else if (d == -1) {
      if (inferIdx >= 0)
        return diag.error("shape has more than one -1");
      inferIdx = i;
      result.push_back(ShapedType::kDynamic);
      continue;
    } else if (d < 0) {
      return diag.error("shape entry ", d, " is invalid");
    } else {
      result.push_back(d);
    }
    if (isDyn(result.back()))
      known = ShapedType::kDynamic;
    else if (!isDyn(known) && __builtin_mul_overflow(known, result.back(), &known))
      return diag.error("shape ", shapeToString(result), "... has more elements than fit in 64 bits");
  }
  bool staticInput = llvm::none_of(input, isDyn);
  if (inferIdx >= 0 && staticInput && !isDyn(known)) {
    int64_t elements = 1;
    for (int64_t d : input)
      if (__builtin_mul_overflow(elements, d, &elements))
        return diag.error("input ", shapeToString(input), " has more elements than fit in 64 bits");
    if (known == 0 || elements % known)
      return diag.error("cannot reshape ", shapeToString(input), " to a shape with ", known,
                        " elements per -1 entry");
    result[inferIdx] = elements / known;
  } else if (inferIdx >= 0 && !allowZero) {
    // Every dynamic input dim copied by a 0 at its own index: the -1 is
    // what the other (static) dims leave ([?, ?, 64] to [0, 0, -1, 16]).
    int64_t rest = 1, other = 1;
    bool ok = true;
    for (auto [i, d] : llvm::enumerate(input)) {
      bool copied = i < target.size() && target[i] == 0;
      if (copied)
        continue;
      if (isDyn(d) || __builtin_mul_overflow(rest, d, &rest))
        ok = false;
    }
    for (auto [i, d] : llvm::enumerate(target))
      if (d > 0 && __builtin_mul_overflow(other, d, &other))
        ok = false;
    if (ok && other > 0 && rest % other == 0)
      result[inferIdx] = rest / other;
  }
  return success();
}

LogicalResult inferConcatShape(const ShapeDiag &diag, TypeRange inputs,
                               int64_t axis, SmallVectorImpl<int64_t> &result) {
  if (inputs.empty())
    return diag.error("needs at least one input");
  auto first = cast<RankedTensorType>(inputs.front());
  FailureOr<int64_t> a = normalizeAxis(diag, axis, first.getRank());
  if (failed(a))
    return failure();
  result.assign(first.getShape().begin(), first.getShape().end());
  for (auto [idx, t] : llvm::enumerate(inputs.drop_front())) {
    auto ty = cast<RankedTensorType>(t);
    size_t i = idx + 1;
    if (ty.getElementType() != first.getElementType())
      return diag.error("input ", i, " has element type ", ty.getElementType(),
                        ", expected ", first.getElementType());
    if (ty.getRank() != first.getRank())
      return diag.error("input ", i, " has rank ", ty.getRank(), ", expected ",
                        first.getRank());
    for (int64_t d = 0; d < ty.getRank(); ++d) {
      int64_t e = ty.getDimSize(d);
      if (d == *a) {
        result[d] = (isDyn(result[d]) || isDyn(e)) ? ShapedType::kDynamic
                                                   : result[d] + e;
      } else if (!dimsCompatible(result[d], e)) {
        return diag.error("input ", i, " has shape ",
                          shapeToString(ty.getShape()), ", which differs from ",
                          shapeToString(first.getShape()),
                          " outside the concatenation axis (dimension ", d, ")");
      } else if (isDyn(result[d])) {
        result[d] = e;
      }
    }
  }
  return success();
}

LogicalResult checkNormParam(const ShapeDiag &diag, RankedTensorType input,
                             int64_t axis, RankedTensorType param,
                             StringRef paramName) {
  FailureOr<int64_t> a = normalizeAxis(diag, axis, input.getRank());
  if (failed(a))
    return failure();
  if (param.getElementType() != input.getElementType())
    return diag.error(paramName, " has element type ", param.getElementType(),
                      ", expected ", input.getElementType(), " (the input's)");
  ArrayRef<int64_t> normalized = input.getShape().drop_front(*a);
  return checkBroadcastsTo(diag, param.getShape(), normalized, paramName,
                           "the normalized dimensions");
}

LogicalResult checkSameElementType(const ShapeDiag &diag, ArrayRef<Type> types,
                                   ArrayRef<StringRef> names) {
  Type first = cast<ShapedType>(types.front()).getElementType();
  for (size_t i = 1; i < types.size(); ++i) {
    Type e = cast<ShapedType>(types[i]).getElementType();
    if (e != first)
      return diag.error(names[i], " has element type ", e, ", expected ",
                        first, " (the element type of ", names[0], ")");
  }
  return success();
}

} // namespace kiln
