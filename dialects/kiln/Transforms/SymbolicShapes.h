//===- SymbolicShapes.h - dynamic dims as symbols with equalities -*- C++ -*-===//
//
// Exporters compute reshape targets from the model's own shapes (Shape ->
// Gather -> Concat -> Reshape). With dynamic dims those chains cannot fold
// to constants, but they can to symbols: "dim 1 of input_ids", "16". A
// target whose every entry is a constant or the input's own dim at that
// position is the constant target [0, 0, 4, 16] (ONNX: 0 copies the input's
// dim), and the graph keeps its structure for fusion.
//
// Two dims are one symbol when the graph implies it: ops that keep a dim
// (elementwise, norms, softmax, casts, matmul rows, transposes, gathers,
// reshapes copying it) pass it through, and inputs naming a dim alike
// (ONNX dim_param, the `kiln.dim_names` argument attribute) share it.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DIALECTS_KILN_TRANSFORMS_SYMBOLICSHAPES_H
#define KILN_DIALECTS_KILN_TRANSFORMS_SYMBOLICSHAPES_H

#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/Value.h"

#include <optional>

namespace kiln {

/// One entry of a shape: a constant, a symbol (the dim `index` of `tensor`
/// after following equalities to their root), or unknown.
struct SymbolicDim {
  int64_t constant = 0;
  mlir::Value tensor;
  int64_t index = -1;
  bool unknown = true;

  static SymbolicDim ofConstant(int64_t c) { return {c, {}, -1, false}; }
  static SymbolicDim ofDim(mlir::Value t, int64_t i) { return {0, t, i, false}; }
  bool isConstant() const { return !unknown && !tensor; }
  bool operator==(const SymbolicDim &o) const {
    return unknown == o.unknown && constant == o.constant && tensor == o.tensor &&
           index == o.index;
  }
};

/// The symbol dim `index` of `tensor` is (a constant when static).
SymbolicDim symbolicDim(mlir::Value tensor, int64_t index);

/// Whether dim `i` of `a` and dim `j` of `b` are one size: equal static
/// sizes, or one symbol.
bool sameSize(mlir::Value a, int64_t i, mlir::Value b, int64_t j);

/// The entries of a 0-D or 1-D integer tensor computed from shapes, when
/// they can be told (each may still be unknown); nothing for other values.
std::optional<llvm::SmallVector<SymbolicDim>> symbolicElements(mlir::Value v);

/// Canonicalizations on symbols: shape computations whose entries are all
/// constants become constants; reshape and expand targets become constant
/// targets when each entry is a constant or keeps the input's dim.
void populateSymbolicShapePatterns(mlir::RewritePatternSet &patterns);

} // namespace kiln

#endif // KILN_DIALECTS_KILN_TRANSFORMS_SYMBOLICSHAPES_H
