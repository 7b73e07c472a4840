//===- Fuse.cpp - the kiln-fuse pass and its report -----------------------===//
//
// Runs every pattern family with the greedy driver. A rewriter listener
// collects what fused (ops replaced by a kiln op from this pass) and the
// near misses patterns explain; with `report` both become remarks at the
// ops' locations, which name the ONNX nodes.
//
//===----------------------------------------------------------------------===//

#include "passes/Fusion/Passes.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h" // (a dependent dialect: tensor.cast)
#include "passes/Fusion/Patterns.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/StringSet.h"

namespace kiln {
#define GEN_PASS_DEF_KILNFUSE
#include "passes/Fusion/Passes.h.inc"
} // namespace kiln

using namespace mlir;

namespace kiln::fusion {

std::optional<double> scalarConstant(Value v) {
  DenseFPElementsAttr f;
  if (v && matchPattern(v, m_Constant(&f)) && f.isSplat())
    return f.getSplatValue<APFloat>().convertToDouble();
  DenseIntElementsAttr i;
  if (v && matchPattern(v, m_Constant(&i)) && i.isSplat())
    return (double)i.getSplatValue<APInt>().getSExtValue();
  return std::nullopt;
}

BinaryOp binaryOf(Value v, BinaryKind kind) {
  auto op = v ? v.getDefiningOp<BinaryOp>() : BinaryOp();
  return op && op.getKind() == kind ? op : BinaryOp();
}

Operation *soleUser(Value v) { return v.hasOneUse() ? *v.getUsers().begin() : nullptr; }

UnaryOp unaryOf(Value v, UnaryKind kind) {
  auto op = v ? v.getDefiningOp<UnaryOp>() : UnaryOp();
  return op && op.getKind() == kind ? op : UnaryOp();
}

} // namespace kiln::fusion

namespace {

/// Records fused ops and explained near misses.
struct FusionReport : RewriterBase::Listener {
  struct Entry {
    Location loc;
    std::string message;
  };
  std::vector<Entry> fused, missed;
  /// Locations of every op some fusion took in.
  llvm::DenseSet<Location> joined;

  void notifyOperationInserted(Operation *op, OpBuilder::InsertPoint) override {
    if (!isa<kiln::RmsNormOp, kiln::AttentionOp, kiln::MoeOp, kiln::GatedMlpOp, kiln::RopeOp>(op))
      return;
    // The fused op's location joins the matched nodes' (ONNX names).
    std::string nodes;
    Location at = op->getLoc();
    auto fusedLoc = dyn_cast<FusedLoc>(op->getLoc());
    if (fusedLoc && fusedLoc.getMetadata() == StringAttr::get(op->getContext(),
                                                              "kiln.mla-absorbed")) {
      fused.push_back({fusedLoc.getLocations().back(),
                       "absorbed the key/value up-projection into the query and the output: "
                       "attention over the latent cache (MlaAbsorb.cpp)"});
      return;
    }
    if (fusedLoc) {
      joined.insert(fusedLoc.getLocations().begin(), fusedLoc.getLocations().end());
      for (Location l : fusedLoc.getLocations())
        if (auto name = dyn_cast<NameLoc>(l))
          nodes += (nodes.empty() ? "'" : ", '") + name.getName().str() + "'";
      if (!fusedLoc.getLocations().empty())
        at = fusedLoc.getLocations().back();
    }
    fused.push_back({at, "fused " + (nodes.empty() ? std::string("ops") : "nodes " + nodes) +
                             " into '" + op->getName().getStringRef().str() + "'"});
  }
  void notifyMatchFailure(Location loc, function_ref<void(Diagnostic &)> reason) override {
    Diagnostic diag(loc, DiagnosticSeverity::Remark);
    reason(diag);
    missed.push_back({loc, diag.str()});
  }
};

struct FusePass : kiln::impl::KilnFuseBase<FusePass> {
  using Base::Base;

  void runOnOperation() override {
    // One form per idiom first, so no raising pattern gives up on an
    // anchor whose inputs would change form later.
    RewritePatternSet normalize(&getContext());
    kiln::fusion::populateNormalizePatterns(normalize);
    if (failed(applyPatternsGreedily(getOperation(), std::move(normalize))))
      return signalPassFailure();
    RewritePatternSet patterns(&getContext());
    kiln::fusion::populateRmsNormPatterns(patterns);
    kiln::fusion::populateAttentionPatterns(patterns);
    kiln::fusion::populateMoePatterns(patterns);
    kiln::fusion::populateGatedMlpPatterns(patterns);
    kiln::fusion::populateRopePatterns(patterns);
    kiln::fusion::populateMlaAbsorbPatterns(patterns);
    FusionReport listener;
    GreedyRewriteConfig config;
    config.setListener(&listener);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns), config)))
      return signalPassFailure();
    if (!report)
      return;
    for (const auto &f : listener.fused)
      emitRemark(f.loc) << f.message;
    // A near miss can be retried after other fusions; say each reason once,
    // and nothing for an anchor that fused in the end (the driver revisits
    // the remains of a fused form while it erases them).
    llvm::StringSet<> said;
    for (const auto &m : listener.missed) {
      if (listener.joined.contains(m.loc))
        continue;
      std::string key;
      llvm::raw_string_ostream(key) << m.loc << m.message;
      if (said.insert(key).second)
        emitRemark(m.loc) << "not fused: " << m.message;
    }
  }
};

} // namespace
