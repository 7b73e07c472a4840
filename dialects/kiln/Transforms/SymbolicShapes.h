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

/// One entry of a shape: a constant, a symbol (the dim `index` of a tensor
/// after following equalities to their root), a sum of symbols and a
/// constant (a concatenation's length: past + new), or unknown. Known
/// entries are the linear form `constant + sum(coeff * symbol)`, terms
/// sorted and merged, so two forms are one size when they are equal.
struct SymbolicDim {
  struct Term {
    mlir::Value tensor;
    int64_t index;
    int64_t coeff;
    bool operator==(const Term &o) const {
      return tensor == o.tensor && index == o.index && coeff == o.coeff;
    }
  };
  int64_t constant = 0;
  llvm::SmallVector<Term, 1> terms;
  bool unknown = true;

  static SymbolicDim ofConstant(int64_t c) { return {c, {}, false}; }
  static SymbolicDim ofDim(mlir::Value t, int64_t i) { return {0, {{t, i, 1}}, false}; }
  bool isConstant() const { return !unknown && terms.empty(); }
  /// One symbol, nothing added: its tensor and dim are `symbol()`.
  bool isSymbol() const {
    return !unknown && constant == 0 && terms.size() == 1 && terms[0].coeff == 1;
  }
  std::pair<mlir::Value, int64_t> symbol() const { return {terms[0].tensor, terms[0].index}; }
  /// Known never to be negative (a size, or a sum of sizes).
  bool nonNegative() const {
    return !unknown && constant >= 0 &&
           llvm::all_of(terms, [](const Term &t) { return t.coeff > 0; });
  }
  bool operator==(const SymbolicDim &o) const {
    return unknown == o.unknown && constant == o.constant && terms == o.terms;
  }
};

/// a + b and c * a as linear forms (unknown when either is).
SymbolicDim addDims(const SymbolicDim &a, const SymbolicDim &b);
SymbolicDim scaleDim(const SymbolicDim &a, int64_t c);

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
