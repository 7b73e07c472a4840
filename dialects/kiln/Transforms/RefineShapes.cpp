//===- RefineShapes.cpp - shape inference and folding to a fixpoint -------===//
//
// kiln-infer-shapes and canonicalization each unlock the other: a static
// type lets `kiln.shape` fold, a folded shape chain gives a reshape a
// constant target, the reshape's static result lets the next `kiln.shape`
// fold. One round of each (the graph pipeline before this pass) stopped
// after the first link, leaving `?` dims that --input-shape had fixed.
//
//===----------------------------------------------------------------------===//

#include "dialects/kiln/IR/ConstantFolding.h"
#include "dialects/kiln/IR/KilnOps.h"
#include "dialects/kiln/IR/TypeInference.h"
#include "dialects/kiln/Transforms/Passes.h"
#include "dialects/kiln/Transforms/SymbolicShapes.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Rewrite/FrozenRewritePatternSet.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace kiln {
#define GEN_PASS_DEF_KILNREFINESHAPES
#include "dialects/kiln/Transforms/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;
using kiln::constfold::constantInts;

namespace {

constexpr int kMaxRounds = 32;

/// kiln.slice with constant run-time starts/ends/axes/steps -> the static
/// form (one entry per dim), whose result type inference can compute. A
/// tensor.cast keeps the old type for the users until inference refines
/// them (RefineShapes reads through it).
struct StaticSliceBounds : OpRewritePattern<SliceOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SliceOp op, PatternRewriter &rewriter) const override {
    if (!op.getRuntimeStarts())
      return rewriter.notifyMatchFailure(op, "static bounds already");
    auto starts = constantInts(op.getRuntimeStarts());
    auto ends = constantInts(op.getRuntimeEnds());
    auto axes = constantInts(op.getRuntimeAxes());
    auto steps = constantInts(op.getRuntimeSteps());
    if (!starts || !ends || (op.getRuntimeAxes() && !axes) || (op.getRuntimeSteps() && !steps))
      return rewriter.notifyMatchFailure(op, "bounds are computed at run time");
    auto optional = [](const std::optional<SmallVector<int64_t>> &v) {
      return v ? std::optional<ArrayRef<int64_t>>(*v) : std::nullopt;
    };
    SmallVector<int64_t> s, e, st;
    // No location: invalid bounds stay for the run-time check to report.
    if (failed(onnxSliceToPerDim(ShapeDiag{}, op.getInput().getType().getRank(), *starts, *ends,
                                 optional(axes), optional(steps), s, e, st)))
      return rewriter.notifyMatchFailure(op, "invalid bounds");
    Value slice = SliceOp::create(rewriter, op.getLoc(), op.getInput(), Value(), Value(),
                                  Value(), Value(), s, e, st);
    if (slice.getType() != op.getType())
      slice = tensor::CastOp::create(rewriter, op.getLoc(), op.getType(), slice);
    rewriter.replaceOp(op, slice);
    return success();
  }
};

/// Kiln ops (and the return: the function's result types follow it) read
/// through a tensor.cast that only forgets static dims, so inference sees
/// what is known. Returns whether an operand changed.
bool readThroughCasts(func::FuncOp func) {
  bool changed = false;
  func.walk([&](tensor::CastOp cast) {
    auto from = dyn_cast<RankedTensorType>(cast.getSource().getType());
    auto to = dyn_cast<RankedTensorType>(cast.getType());
    if (!from || !to || !tensor::preservesStaticInformation(to, from))
      return;
    for (OpOperand &use : llvm::make_early_inc_range(cast.getResult().getUses()))
      if (isa<KilnDialect>(use.getOwner()->getDialect()) ||
          isa<func::ReturnOp>(use.getOwner())) {
        use.set(cast.getSource());
        changed = true;
      }
  });
  return changed;
}

struct KilnRefineShapesPass : kiln::impl::KilnRefineShapesBase<KilnRefineShapesPass> {
  LogicalResult initialize(MLIRContext *ctx) override {
    // What the canonicalizer runs, plus the slice bounds.
    RewritePatternSet set(ctx);
    for (Dialect *dialect : ctx->getLoadedDialects())
      dialect->getCanonicalizationPatterns(set);
    for (RegisteredOperationName op : ctx->getRegisteredOperations())
      op.getCanonicalizationPatterns(set, ctx);
    set.add<StaticSliceBounds>(ctx);
    // Dynamic dims: shape chains fold to symbols (SymbolicShapes.h).
    populateSymbolicShapePatterns(set);
    patterns = FrozenRewritePatternSet(std::move(set));
    return success();
  }

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    for (int round = 0; round < kMaxRounds; ++round) {
      bool changed = readThroughCasts(func);
      if (failed(inferShapes(func, &changed)))
        return signalPassFailure();
      bool rewritten = false;
      (void)applyPatternsGreedily(func, patterns, GreedyRewriteConfig(), &rewritten);
      if (!changed && !rewritten)
        return;
    }
  }

  FrozenRewritePatternSet patterns;
};

} // namespace
