//===- TypeInference.h - shape rules of kiln ops ------------------*- C++ -*-===//
//
// The shape and dtype rules of kiln ops, kept out of the op classes (as
// StableHLO does) so that verifiers, inferReturnTypes and the frontends use
// one implementation. Each function checks its inputs, reports the first
// problem through `diag` (a no-op when it has no location) and fills the
// result shape.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DIALECTS_KILN_IR_TYPEINFERENCE_H
#define KILN_DIALECTS_KILN_IR_TYPEINFERENCE_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/TypeRange.h"
#include <optional>
#include <string>

namespace kiln {

/// Where shape errors go: an optional location and the op name they start with.
struct ShapeDiag {
  std::optional<mlir::Location> loc;
  llvm::StringRef opName;

  template <typename... Args>
  mlir::LogicalResult error(Args &&...args) const {
    return mlir::emitOptionalError(loc, "'", opName, "' op ",
                                   std::forward<Args>(args)...);
  }
};

/// "2x?x8", the way MLIR prints a shape.
std::string shapeToString(llvm::ArrayRef<int64_t> shape);

/// Normalizes `axis` (negative counts from the end) against `rank`.
mlir::FailureOr<int64_t> normalizeAxis(const ShapeDiag &diag, int64_t axis,
                                       int64_t rank, llvm::StringRef what = "axis");

/// Whether two extents can be equal at run time.
inline bool dimsCompatible(int64_t a, int64_t b) {
  return mlir::ShapedType::isDynamic(a) || mlir::ShapedType::isDynamic(b) ||
         a == b;
}

/// Numpy broadcasting of any number of shapes.
mlir::LogicalResult broadcastShapes(const ShapeDiag &diag,
                                    llvm::ArrayRef<llvm::ArrayRef<int64_t>> shapes,
                                    llvm::SmallVectorImpl<int64_t> &result);

/// Whether `from` broadcasts to exactly `to` (unidirectional, as Expand).
mlir::LogicalResult checkBroadcastsTo(const ShapeDiag &diag,
                                      llvm::ArrayRef<int64_t> from,
                                      llvm::ArrayRef<int64_t> to,
                                      llvm::StringRef fromName,
                                      llvm::StringRef toName);

mlir::LogicalResult inferMatmulShape(const ShapeDiag &diag,
                                     mlir::RankedTensorType lhs,
                                     mlir::RankedTensorType rhs,
                                     llvm::SmallVectorImpl<int64_t> &result);

mlir::LogicalResult inferGemmShape(const ShapeDiag &diag,
                                   mlir::RankedTensorType a,
                                   mlir::RankedTensorType b,
                                   mlir::RankedTensorType c, bool transA,
                                   bool transB,
                                   llvm::SmallVectorImpl<int64_t> &result);

mlir::LogicalResult inferReduceShape(const ShapeDiag &diag,
                                     llvm::ArrayRef<int64_t> shape,
                                     llvm::ArrayRef<int64_t> axes, bool keepdims,
                                     llvm::SmallVectorImpl<int64_t> &result);

mlir::LogicalResult inferTransposeShape(const ShapeDiag &diag,
                                        llvm::ArrayRef<int64_t> shape,
                                        llvm::ArrayRef<int64_t> perm,
                                        llvm::SmallVectorImpl<int64_t> &result);

mlir::LogicalResult inferGatherShape(const ShapeDiag &diag,
                                     llvm::ArrayRef<int64_t> data,
                                     llvm::ArrayRef<int64_t> indices,
                                     int64_t axis,
                                     llvm::SmallVectorImpl<int64_t> &result);

/// The number of elements an ONNX-semantics slice of a dimension of `dim`
/// elements selects (dynamic when `dim` is).
int64_t sliceExtent(int64_t dim, int64_t start, int64_t end, int64_t step);

mlir::LogicalResult inferSliceShape(const ShapeDiag &diag,
                                    llvm::ArrayRef<int64_t> shape,
                                    llvm::ArrayRef<int64_t> starts,
                                    llvm::ArrayRef<int64_t> ends,
                                    llvm::ArrayRef<int64_t> steps,
                                    llvm::SmallVectorImpl<int64_t> &result);

mlir::LogicalResult inferConcatShape(const ShapeDiag &diag,
                                     mlir::TypeRange inputs, int64_t axis,
                                     llvm::SmallVectorImpl<int64_t> &result);

/// Checks that a norm parameter (scale, bias, weight) broadcasts to
/// `input.shape[axis:]`.
mlir::LogicalResult checkNormParam(const ShapeDiag &diag,
                                   mlir::RankedTensorType input, int64_t axis,
                                   mlir::RankedTensorType param,
                                   llvm::StringRef paramName);

/// Requires every type to have the element type of the first.
mlir::LogicalResult checkSameElementType(const ShapeDiag &diag,
                                         llvm::ArrayRef<mlir::Type> types,
                                         llvm::ArrayRef<llvm::StringRef> names);

/// ONNX Slice's starts/ends over `axes` (default: the first dims) with
/// `steps` (default 1) as kiln.slice's one entry per dimension of a
/// `rank`-dim input (dims not listed: the whole extent).
mlir::LogicalResult onnxSliceToPerDim(const ShapeDiag &diag, int64_t rank,
                                      llvm::ArrayRef<int64_t> starts,
                                      llvm::ArrayRef<int64_t> ends,
                                      std::optional<llvm::ArrayRef<int64_t>> axes,
                                      std::optional<llvm::ArrayRef<int64_t>> steps,
                                      llvm::SmallVectorImpl<int64_t> &perDimStarts,
                                      llvm::SmallVectorImpl<int64_t> &perDimEnds,
                                      llvm::SmallVectorImpl<int64_t> &perDimSteps);

/// The result dims of ONNX Reshape of `input` to `target`: 0 copies the
/// input's dim (unless `allowZero`), one -1 is implied by the element count
/// when the rest is static (otherwise dynamic).
/// How a reshape between `big` and `small` (fewer dims) groups dims, when
/// the types alone say it for sure: each dim of `small` is a run of `big`'s
/// dims, static ones of the same product, or one dynamic dim among 1s (a
/// dynamic dim never absorbs static ones: [?, 2, 2, ?] to [?, ?, ?] could
/// group either way). Nothing otherwise.
std::optional<llvm::SmallVector<llvm::SmallVector<int64_t, 2>>>
reshapeGroups(llvm::ArrayRef<int64_t> big, llvm::ArrayRef<int64_t> small);

mlir::LogicalResult onnxReshapeDims(const ShapeDiag &diag, llvm::ArrayRef<int64_t> input,
                                    llvm::ArrayRef<int64_t> target, bool allowZero,
                                    llvm::SmallVectorImpl<int64_t> &result);

} // namespace kiln

#endif // KILN_DIALECTS_KILN_IR_TYPEINFERENCE_H
