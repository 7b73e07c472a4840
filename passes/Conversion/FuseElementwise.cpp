//===- FuseElementwise.cpp - elementwise fusion without recomputation -----===//
//
// Upstream's elementwise fusion pattern set under a control function that
// refuses fusions which would evaluate a producer element more than once
// (see Passes.td).
//
//===----------------------------------------------------------------------===//

#include "passes/Conversion/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tensor/Transforms/Transforms.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace kiln {
#define GEN_PASS_DEF_KILNFUSEELEMENTWISE
#include "passes/Conversion/Passes.h.inc"
} // namespace kiln

using namespace mlir;

namespace {

/// A fused elementwise body stops growing at this many ops. Each fusion
/// clones both bodies, so one kernel of a 20k-node chain cost O(n^2)
/// copies, and LLVM then scheduled one basic block of n instructions; at
/// 256 ops a kernel still covers any real layer's elementwise tail, and a
/// longer chain becomes a few kernels (one extra pass over memory each).
constexpr size_t kMaxFusedBodyOps = 256;

size_t bodyOps(Operation *op) {
  auto generic = dyn_cast_or_null<linalg::GenericOp>(op);
  if (!generic)
    return 0;
  Block &body = generic.getRegion().front();
  size_t n = 0;
  for (auto it = body.begin(); it != body.end() && n <= kMaxFusedBodyOps; ++it)
    ++n;
  return n;
}

/// Fuse a single-use producer only where the consumer reads each of its
/// elements once (a permutation map), never into a broadcast or contraction,
/// and only while the fused body stays within kMaxFusedBodyOps.
bool fusesWithoutRecompute(OpOperand *operand) {
  Operation *producer = operand->get().getDefiningOp();
  if (!producer || !producer->hasOneUse())
    return false;
  auto consumer = dyn_cast<linalg::LinalgOp>(operand->getOwner());
  if (!consumer)
    return true; // reshapes: propagation does not recompute
  if (bodyOps(producer) + bodyOps(operand->getOwner()) > kMaxFusedBodyOps)
    return false;
  return consumer.getMatchingIndexingMap(operand).isPermutation();
}

struct FuseElementwisePass : kiln::impl::KilnFuseElementwiseBase<FuseElementwisePass> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    RewritePatternSet patterns(ctx);
    linalg::populateElementwiseOpsFusionPatterns(patterns, fusesWithoutRecompute);
    linalg::populateFoldReshapeOpsByExpansionPatterns(patterns, fusesWithoutRecompute);
    tensor::populateBubbleUpExpandShapePatterns(patterns);
    affine::AffineApplyOp::getCanonicalizationPatterns(patterns, ctx);
    linalg::GenericOp::getCanonicalizationPatterns(patterns, ctx);
    tensor::ExpandShapeOp::getCanonicalizationPatterns(patterns, ctx);
    tensor::CollapseShapeOp::getCanonicalizationPatterns(patterns, ctx);
    ctx->getLoadedDialect<linalg::LinalgDialect>()->getCanonicalizationPatterns(patterns);
    linalg::populateConstantFoldLinalgOperations(patterns, fusesWithoutRecompute);
    GreedyRewriteConfig config;
    config.setUseTopDownTraversal(true);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns), config)))
      return signalPassFailure();
  }
};

} // namespace
