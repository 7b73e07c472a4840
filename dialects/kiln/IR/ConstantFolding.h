//===- ConstantFolding.h - evaluate kiln ops on small constants ---*- C++ -*-===//
//
// Exporters compute shapes in the graph (Shape -> Gather -> Concat ->
// Reshape, Range, Equal/Where on shape vectors). These helpers evaluate
// kiln ops on small constant operands so those chains fold away during
// import and canonicalization. Data movement works for any element type;
// arithmetic only for integers, where it is exact. Each returns null when
// it does not apply (non-constant or too large operands).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DIALECTS_KILN_IR_CONSTANTFOLDING_H
#define KILN_DIALECTS_KILN_IR_CONSTANTFOLDING_H

#include "dialects/kiln/IR/KilnDialect.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Value.h"

#include <optional>

namespace kiln::constfold {

/// Operands larger than this are left alone (folding would bloat the IR).
constexpr int64_t kMaxElements = 4096;

/// `attr` as a dense constant small enough to evaluate, else null.
mlir::DenseElementsAttr small(mlir::Attribute attr);

mlir::Attribute broadcast(mlir::Attribute input, mlir::RankedTensorType result);
mlir::Attribute binary(BinaryKind kind, mlir::Attribute lhs, mlir::Attribute rhs,
                       mlir::RankedTensorType result);
mlir::Attribute compare(CompareKind kind, mlir::Attribute lhs,
                        mlir::Attribute rhs, mlir::RankedTensorType result);
mlir::Attribute select(mlir::Attribute cond, mlir::Attribute t,
                       mlir::Attribute f, mlir::RankedTensorType result);
mlir::Attribute convert(mlir::Attribute input, mlir::RankedTensorType result);
mlir::Attribute gather(mlir::Attribute data, mlir::Attribute indices,
                       int64_t axis, mlir::RankedTensorType result);
mlir::Attribute concat(llvm::ArrayRef<mlir::Attribute> inputs, int64_t axis,
                       mlir::RankedTensorType result);
mlir::Attribute slice(mlir::Attribute input, llvm::ArrayRef<int64_t> starts,
                      llvm::ArrayRef<int64_t> steps,
                      mlir::RankedTensorType result);
mlir::Attribute transpose(mlir::Attribute input, llvm::ArrayRef<int64_t> perm,
                          mlir::RankedTensorType result);
mlir::Attribute reduce(ReduceKind kind, mlir::Attribute input,
                       llvm::ArrayRef<int64_t> axes,
                       mlir::RankedTensorType result);
mlir::Attribute unary(UnaryKind kind, mlir::Attribute input,
                      mlir::RankedTensorType result);

/// The values of `v` when it is a constant integer tensor (a shape, axes or
/// bounds the model computed and folding made constant), else nullopt.
std::optional<llvm::SmallVector<int64_t>> constantInts(mlir::Value v);

} // namespace kiln::constfold

#endif // KILN_DIALECTS_KILN_IR_CONSTANTFOLDING_H
