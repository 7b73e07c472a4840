//===- DistinctResults.cpp - one buffer per returned value ----------------===//
//
// buffer-results-to-out-params turns each returned buffer into an
// out-parameter by replacing its allocation; a buffer returned twice would
// be replaced twice (it crashed). Repeats get a copy of their own.
//
//===----------------------------------------------------------------------===//

#include "passes/Conversion/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "llvm/ADT/DenseSet.h"

namespace kiln {
#define GEN_PASS_DEF_KILNDISTINCTRESULTS
#include "passes/Conversion/Passes.h.inc"
} // namespace kiln

using namespace mlir;

namespace {
struct KilnDistinctResultsPass
    : kiln::impl::KilnDistinctResultsBase<KilnDistinctResultsPass> {
  void runOnOperation() override {
    getOperation().walk([&](func::ReturnOp ret) {
      llvm::DenseSet<Value> seen;
      OpBuilder b(ret);
      for (OpOperand &operand : ret->getOpOperands()) {
        Value v = operand.get();
        auto t = dyn_cast<MemRefType>(v.getType());
        if (!t || seen.insert(v).second)
          continue;
        SmallVector<Value> sizes; // dynamic dims: the repeated buffer's
        for (int64_t d = 0; d < t.getRank(); ++d)
          if (t.isDynamicDim(d))
            sizes.push_back(memref::DimOp::create(b, ret.getLoc(), v, d));
        auto fresh = MemRefType::get(t.getShape(), t.getElementType());
        Value copy = memref::AllocOp::create(b, ret.getLoc(), fresh, sizes);
        memref::CopyOp::create(b, ret.getLoc(), v, copy);
        operand.set(copy);
      }
    });
  }
};
} // namespace
