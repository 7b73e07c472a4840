//===- GatedMlp.cpp - down(SiLU(x · gate) * (x · up)) -> kiln.gated_mlp ----===//
//
// Llama's MLP (SwiGLU) as torch exports it: MatMul(x, G) through SiLU
// (`silu`, or `a * Sigmoid(a)` either order), times MatMul(x, U), then
// MatMul(., D), with 2-D weights. The matcher is shared with the MoE
// pattern, whose experts are this form (or already a kiln.gated_mlp).
//
//===----------------------------------------------------------------------===//

#include "passes/Fusion/Patterns.h"

using namespace mlir;

namespace kiln::fusion {

/// a * sigmoid(a) (either order) or silu(a): returns a.
static Value siluInput(Value v, SmallVectorImpl<Location> &locs) {
  if (auto u = unaryOf(v, UnaryKind::silu)) {
    locs.push_back(u.getLoc());
    return u.getInput();
  }
  BinaryOp mul = binaryOf(v, BinaryKind::mul);
  if (!mul)
    return {};
  for (auto [a, s] : {std::pair(mul.getLhs(), mul.getRhs()), std::pair(mul.getRhs(), mul.getLhs())})
    if (UnaryOp sig = unaryOf(s, UnaryKind::sigmoid); sig && sig.getInput() == a) {
      locs.append({sig.getLoc(), mul.getLoc()});
      return a;
    }
  return {};
}

static bool isWeight2d(Value w) {
  auto t = dyn_cast<RankedTensorType>(w.getType());
  return t && t.getRank() == 2 && t.hasStaticShape();
}

std::optional<GatedMlpMatch> matchGatedMlp(Value y, Value x) {
  if (auto op = y.getDefiningOp<GatedMlpOp>()) {
    if ((x && op.getInput() != x) || op.getActivation() != Activation::silu)
      return std::nullopt;
    return GatedMlpMatch{op.getInput(), op.getGateWeight(), op.getUpWeight(),
                         op.getDownWeight(), {op.getLoc()}};
  }
  auto down = y.getDefiningOp<MatmulOp>();
  if (!down || !isWeight2d(down.getRhs()))
    return std::nullopt;
  BinaryOp prod = binaryOf(down.getLhs(), BinaryKind::mul);
  if (!prod)
    return std::nullopt;
  for (auto [g, u] : {std::pair(prod.getLhs(), prod.getRhs()), std::pair(prod.getRhs(), prod.getLhs())}) {
    SmallVector<Location> locs;
    Value gateIn = siluInput(g, locs);
    auto gate = gateIn ? gateIn.getDefiningOp<MatmulOp>() : MatmulOp();
    auto up = u.getDefiningOp<MatmulOp>();
    if (!gate || !up || gate.getLhs() != up.getLhs() || (x && gate.getLhs() != x) ||
        !isWeight2d(gate.getRhs()) || !isWeight2d(up.getRhs()))
      continue;
    GatedMlpMatch m{gate.getLhs(), gate.getRhs(), up.getRhs(), down.getRhs(), locs};
    m.locs.append({gate.getLoc(), up.getLoc(), prod.getLoc(), down.getLoc()});
    return m;
  }
  return std::nullopt;
}

namespace {

struct RaiseGatedMlp : OpRewritePattern<MatmulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(MatmulOp down, PatternRewriter &rewriter) const override {
    std::optional<GatedMlpMatch> m = matchGatedMlp(down.getResult(), Value());
    if (!m)
      return failure();
    auto xt = dyn_cast<RankedTensorType>(m->input.getType());
    auto gt = cast<RankedTensorType>(m->gate.getType());
    auto dt = cast<RankedTensorType>(m->down.getType());
    if (!xt || xt.getShape().back() != gt.getDimSize(0) || m->up.getType() != gt ||
        dt.getDimSize(0) != gt.getDimSize(1) || xt.getElementType() != gt.getElementType() ||
        dt.getElementType() != gt.getElementType())
      return rewriter.notifyMatchFailure(down, "gated_mlp: the gate, up and down weights do not "
                                               "chain [H, I], [H, I], [I, O]");
    m->locs.push_back(down.getLoc()); // last: the report names the output node
    auto op = GatedMlpOp::create(rewriter, rewriter.getFusedLoc(m->locs), m->input, m->gate,
                                 m->up, m->down, Activation::silu);
    if (op.getType() != down.getType())
      return rewriter.notifyMatchFailure(down, "gated_mlp: the result type differs");
    rewriter.replaceOp(down, op.getResult());
    return success();
  }
};

} // namespace

void populateGatedMlpPatterns(RewritePatternSet &patterns) {
  patterns.add<RaiseGatedMlp>(patterns.getContext());
}

} // namespace kiln::fusion
