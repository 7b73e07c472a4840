//===- Patterns.h - kiln -> linalg patterns and shared helpers ----*- C++ -*-===//
//
// Internal to passes/Conversion: each file populates the patterns of one op
// family; KilnToLinalg.cpp runs them all.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_PASSES_CONVERSION_PATTERNS_H
#define KILN_PASSES_CONVERSION_PATTERNS_H

#include "dialects/kiln/IR/KilnOps.h"

#include "mlir/IR/PatternMatch.h"

namespace kiln::conversion {

/// Elementwise ops (unary, binary, compare, where, cast) -> linalg.generic.
void populateElementwisePatterns(mlir::RewritePatternSet &patterns);
/// matmul, reduce, softmax, transpose, reshape, concat.
void populateStructuredPatterns(mlir::RewritePatternSet &patterns);
/// gather, gather_elements, gather_nd, arg_reduce, topk, scatter_elements,
/// scatter_nd.
void populateIndexingPatterns(mlir::RewritePatternSet &patterns);
/// slice, pad, trilu, cumsum.
void populateTensorPatterns(mlir::RewritePatternSet &patterns);
/// Shape computations on dynamic dims as scalars (from_elements), and
/// Range (ShapeValuesToTensor.cpp).
void populateShapeValuePatterns(mlir::RewritePatternSet &patterns);
/// conv, conv_transpose and pool.
void populateWindowPatterns(mlir::RewritePatternSet &patterns);
/// attention (the unfused reference composition).
void populateAttentionPatterns(mlir::RewritePatternSet &patterns);
/// resize (nearest, linear, cubic).
void populateResizePatterns(mlir::RewritePatternSet &patterns);
/// grid_sample (nearest, linear, cubic; zeros, border, reflection).
void populateGridSamplePatterns(mlir::RewritePatternSet &patterns);
/// dft and stft, as their definition (FourierToLinalg.cpp).
void populateFourierPatterns(mlir::RewritePatternSet &patterns);
/// det of small static matrices (DeterminantToLinalg.cpp).
void populateDeterminantPatterns(mlir::RewritePatternSet &patterns);
/// non_max_suppression, as loops on tensors (NonMaxSuppressionToLinalg.cpp).
void populateNonMaxSuppressionPatterns(mlir::RewritePatternSet &patterns);
/// unique, as loops on tensors (UniqueToLinalg.cpp).
void populateUniquePatterns(mlir::RewritePatternSet &patterns);
/// gemm, layer_norm, rms_norm rewritten into simpler kiln ops.
void populateDecompositionPatterns(mlir::RewritePatternSet &patterns);
/// kiln.block_dequantize (QuantizationToLinalg.cpp).
void populateQuantizationPatterns(mlir::RewritePatternSet &patterns);

//===--- scalar math (ScalarMath.cpp) -------------------------------------===//
// Each returns null when the kind has no lowering for that element type.

// Bodies work on signless integers; `isUnsigned` selects the unsigned
// operations (division, remainder, min/max, comparisons, conversions).

mlir::Value buildUnary(mlir::OpBuilder &b, mlir::Location loc, UnaryKind kind,
                       mlir::Value x, bool isUnsigned = false);
mlir::Value buildBinary(mlir::OpBuilder &b, mlir::Location loc, BinaryKind kind,
                        mlir::Value x, mlir::Value y, bool isUnsigned = false);
mlir::Value buildCompare(mlir::OpBuilder &b, mlir::Location loc,
                         CompareKind kind, mlir::Value x, mlir::Value y,
                         bool isUnsigned = false);
mlir::Value buildCast(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x,
                      mlir::Type to, bool fromUnsigned = false, bool toUnsigned = false);

/// Whether the lowering handles tensors of this element type (floats and
/// signless integers; unsigned integers only in elementwise ops, which
/// bitcast them to signless around the generic).
bool isLowerableElement(mlir::Type t);
bool isUnsignedElement(mlir::Type t);
/// ui8 -> i8 (other types unchanged).
mlir::Type signlessElement(mlir::Type t);

/// An ONNX-style axis attribute (negative counts from the end) in [0, rank).
inline int64_t normalizeAxis(int64_t axis, int64_t rank) {
  return axis < 0 ? axis + rank : axis;
}

/// The scalar in a 0-d or one-element tensor (its first element).
mlir::Value scalarOf(mlir::OpBuilder &b, mlir::Location loc, mlir::Value t);

/// A size only the data decides (NonZero's count, NMS's selected boxes,
/// Unique's distinct values): min(count, bound) on index values, marked
/// `kiln.data_size` so that SymbolicDims makes it a data dim (stored by the
/// dispatch computing it; the plan sizes buffers by `bound`).
mlir::Value dataSize(mlir::OpBuilder &b, mlir::Location loc, mlir::Value count,
                     mlir::Value bound);

/// `tensor.empty` of `type` (dynamic extents from `dynamicSizes`) filled
/// with `value`.
mlir::Value filled(mlir::OpBuilder &b, mlir::Location loc, mlir::RankedTensorType type,
                   mlir::ValueRange dynamicSizes, mlir::Value value);

/// `tensor.empty` of `type`, taking each dynamic extent from the first of
/// `like` whose aligned (right-justified) dimension is not a static 1.
mlir::Value emptyLike(mlir::OpBuilder &b, mlir::Location loc,
                      mlir::RankedTensorType type, mlir::ValueRange like);

} // namespace kiln::conversion

#endif // KILN_PASSES_CONVERSION_PATTERNS_H
