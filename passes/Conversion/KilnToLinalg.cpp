//===- KilnToLinalg.cpp - the kiln-to-linalg pass -------------------------===//
//
// Greedy application of the per-family patterns (ElementwiseToLinalg.cpp,
// StructuredToLinalg.cpp). Each pattern says why it did not apply
// (notifyMatchFailure); with `strict`, a kiln op left over is an error
// naming it.
//
//===----------------------------------------------------------------------===//

#include "passes/Conversion/Passes.h"
#include "passes/Conversion/Patterns.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace kiln {
#define GEN_PASS_DEF_KILNTOLINALG
#include "passes/Conversion/Passes.h.inc"
} // namespace kiln

using namespace mlir;

namespace {
struct KilnToLinalgPass : kiln::impl::KilnToLinalgBase<KilnToLinalgPass> {
  using KilnToLinalgBase::KilnToLinalgBase;

  void runOnOperation() override {
    // Composite ops (norms, gated MLPs, RoPE, Gemm) become core kiln ops
    // first, so the lowerings see the final graph: a residual add reads
    // the matmul a gated MLP ends in, and accumulates into it.
    RewritePatternSet decompositions(&getContext());
    kiln::conversion::populateDecompositionPatterns(decompositions);
    if (failed(applyPatternsGreedily(getOperation(), std::move(decompositions)))) {
      getOperation().emitError("kiln-to-linalg decompositions did not converge");
      return signalPassFailure();
    }
    RewritePatternSet patterns(&getContext());
    kiln::conversion::populateElementwisePatterns(patterns);
    kiln::conversion::populateStructuredPatterns(patterns);
    kiln::conversion::populateIndexingPatterns(patterns);
    kiln::conversion::populateWindowPatterns(patterns);
    kiln::conversion::populateResizePatterns(patterns);
    kiln::conversion::populateGridSamplePatterns(patterns);
    kiln::conversion::populateFourierPatterns(patterns);
    kiln::conversion::populateDeterminantPatterns(patterns);
    kiln::conversion::populateNonMaxSuppressionPatterns(patterns);
    kiln::conversion::populateUniquePatterns(patterns);
    kiln::conversion::populateAttentionPatterns(patterns);
    kiln::conversion::populateTensorPatterns(patterns);
    kiln::conversion::populateShapeValuePatterns(patterns);
    kiln::conversion::populateQuantizationPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns)))) {
      getOperation().emitError("kiln-to-linalg did not converge");
      return signalPassFailure();
    }
    if (!strict)
      return;
    WalkResult left = getOperation().walk([](Operation *op) {
      if (!isa<kiln::KilnDialect>(op->getDialect()) || isa<kiln::WeightOp>(op))
        return WalkResult::advance();
      op->emitError("'") << op->getName()
                         << "' has no lowering to linalg for these types yet";
      return WalkResult::interrupt();
    });
    if (left.wasInterrupted())
      signalPassFailure();
  }
};
} // namespace
