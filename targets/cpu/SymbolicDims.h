//===- SymbolicDims.h - dynamic dims of @main as a run-time dims vector -*- C++ -*-===//
//
// A model compiled with dynamic dims gets one more entry argument, the dims
// vector D (i64): D[0, symbols) are the input dims the runtime reads off
// the caller's tensors (inputs sharing a named dim share an entry), then
// the values of small integer or float inputs that decide sizes
// (InputValues; a float as its bits); the
// rest are values a generated host function, `kiln_shapes(int64_t *D)`,
// computes from them before each run: output dims, arena slot sizes and
// workgroup counts. Dispatches read D for the sizes of their buffers, so
// the same code runs every shape. See kiln-cpu-partition-dispatches.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_TARGETS_CPU_SYMBOLICDIMS_H
#define KILN_TARGETS_CPU_SYMBOLICDIMS_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallPtrSet.h"

#include <string>

namespace kiln::cpu {

class SymbolicDims {
public:
  /// Rewrites @main so every dynamic size is computed from loads of D (a
  /// new last argument): dims of inputs from `kiln.dims` argument
  /// attributes (the D entry of each dim, -1 when static; the module's
  /// `kiln.symbols` counts the entries), dims of out-parameters from what
  /// is copied into them; those shape computations move to the top of
  /// @main. Fails with a diagnostic where a size depends on data.
  static mlir::FailureOr<SymbolicDims> build(mlir::ModuleOp module, mlir::func::FuncOp main);

  /// Whether `op` computes a size: constants, pure integer/index (or, where
  /// the model computes a size in float, float scalar) arithmetic and loads
  /// of D. Such ops are re-created wherever needed.
  bool isShapeOp(mlir::Operation *op) const;
  /// The dims vector argument of @main.
  mlir::Value dims() const { return dimsArg; }
  /// Top-level values giving the dynamic dims of `buffer` (an argument or
  /// an arena allocation) in order; empty for a static one.
  llvm::SmallVector<mlir::Value> sizesOf(mlir::Value buffer) const;

  /// The D entry `kiln_shapes` fills with `v` (a top-level shape value).
  int64_t value(mlir::Value v);
  /// ... with the bytes of `alloc` rounded up to `align`.
  int64_t bytes(mlir::Value alloc, uint64_t align);
  /// ... with the trip count of [lb, ub) by step (lb and step constant).
  int64_t tripCount(mlir::Value lb, mlir::Value ub, mlir::Value step);

  /// A run-time check (kiln-shape-checks): `kiln_shapes` stores 1 in
  /// entry `ok` when it holds, 0 when not; `lhs` and `rhs` hold the sizes
  /// it compares (-1: none), which `message` shows as {0} and {1}.
  struct Check {
    int64_t ok, lhs, rhs;
    std::string message;
    /// The data dims (entries) it depends on: read once they are stored.
    llvm::SmallVector<int64_t> dataEntries;
  };
  llvm::ArrayRef<Check> checks() const { return checkList; }

  /// A small integer input whose values decide sizes (a Reshape's target,
  /// TopK's k, Slice's starts): the runtime copies its `count` elements
  /// into D[entry, entry + count) before `kiln_shapes` runs, and the
  /// top-level loads of it read D instead. `arg` is @main's argument.
  struct InputValues {
    unsigned arg;
    int64_t entry, count;
  };
  llvm::ArrayRef<InputValues> inputValues() const { return valueList; }

  /// A size only the data decides (a NonZero count), which the lowering
  /// writes min(data, bound) with the bound a size, marked
  /// `kiln.data_size`: the top-level op
  /// `store` (in the dispatch that computes it) puts it in D[entry], and
  /// everything it sizes reads that entry instead -- or the bound while
  /// the entry is still -1. The runtime runs kiln_shapes before the plan
  /// with the bounds (buffers and the arena are planned for them) and again
  /// after the dispatch holding `store`.
  struct DataDim {
    int64_t entry;
    mlir::Operation *store;
  };
  llvm::ArrayRef<DataDim> dataDims() const { return dataList; }

  /// D entries of each out-parameter's dims (-1 where static), in
  /// argument order.
  llvm::ArrayRef<llvm::SmallVector<int64_t>> outputDims() const { return outDims; }
  int64_t length() const { return next; }

  /// Gives D its final length in @main's signature, and adds
  /// `kiln_shapes(memref<Nxi64>)` computing every requested entry; call
  /// once, after the last request and before @main is erased.
  void finish(mlir::ModuleOp module, mlir::func::FuncOp main);
  /// The type of D once finished (memref<Nxi64>).
  mlir::MemRefType dimsType() const;

  /// Rewrites `fn`'s arguments of dynamic memref type to memref<1xT>
  /// (passed as a bare pointer) reinterpreted, after the function's
  /// leading shape computations, with `sizes[i]` (values in `fn`) as the
  /// dynamic dims of argument i.
  static void castDynamicArguments(mlir::func::FuncOp fn,
                                   llvm::ArrayRef<llvm::SmallVector<mlir::Value>> sizes);

private:
  struct Entry {
    enum Kind { Value, Bytes, TripCount, Check } kind;
    llvm::SmallVector<mlir::Value> operands;
    int64_t factor = 1; // Bytes: static elements x element bytes
    uint64_t align = 1;
    int64_t index;
  };
  /// Records `cond` (a top-level i1 shape value) as a check.
  void check(mlir::Value cond, llvm::StringRef message);
  int64_t sizeEntry(mlir::Value v);

  mlir::Value dimsArg;
  llvm::SmallVector<Check> checkList;
  llvm::SmallVector<InputValues> valueList;
  llvm::SmallVector<DataDim> dataList;
  int64_t next = 0;
  llvm::DenseMap<mlir::Value, llvm::SmallVector<mlir::Value>> sizes;
  llvm::SmallVector<llvm::SmallVector<int64_t>> outDims;
  llvm::SmallVector<Entry> entries;
  llvm::DenseMap<mlir::Value, int64_t> valueEntries;
  llvm::SmallPtrSet<mlir::Operation *, 16> shapeOps;
};

} // namespace kiln::cpu

#endif // KILN_TARGETS_CPU_SYMBOLICDIMS_H
