//===- Passes.h - kiln dialect passes -----------------------------*- C++ -*-===//

#ifndef KILN_DIALECTS_KILN_TRANSFORMS_PASSES_H
#define KILN_DIALECTS_KILN_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"

namespace kiln {

#define GEN_PASS_DECL
#include "dialects/kiln/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "dialects/kiln/Transforms/Passes.h.inc"

/// Refines the result types of `func` by re-running type inference in order
/// (setting `*changed` when a type changed). Returns failure (with a
/// diagnostic at the op) when an op's operands became invalid, e.g. after
/// specializing an input shape to conflicting sizes.
mlir::LogicalResult inferShapes(mlir::func::FuncOp func, bool *changed = nullptr);

} // namespace kiln

#endif // KILN_DIALECTS_KILN_TRANSFORMS_PASSES_H
