//===- Attention.cpp - softmax(Q Kᵀ scale + mask) V -> kiln.attention -----===//
//
// Anchored on a softmax over the last axis whose result feeds a matmul:
// walking back from the softmax input it accepts an additive mask (either
// operand of an add), a scale as a multiply or a division by a constant
// (on either side of the mask add), and Q Kᵀ as a matmul whose right
// operand is K transposed on its last two dimensions. Masks stay float
// masks added to the scores (a causal triangle is not recognized yet, so
// the kernel cannot skip tiles). Grouped K/V repeats and RoPE are separate
// patterns (to come).
//
//===----------------------------------------------------------------------===//

#include "passes/Fusion/Patterns.h"

using namespace mlir;

namespace kiln::fusion {
namespace {

struct RaiseAttention : OpRewritePattern<SoftmaxOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(SoftmaxOp softmax, PatternRewriter &rewriter) const override {
    auto st = dyn_cast<RankedTensorType>(softmax.getType());
    if (!st || softmax.getLog() || !softmax.getResult().hasOneUse())
      return failure();
    auto pv = dyn_cast<MatmulOp>(*softmax.getResult().getUsers().begin());
    if (!pv || pv.getLhs() != softmax.getResult())
      return failure();
    // A softmax feeding a matmul: from here on, explain misses.
    int64_t rank = st.getRank();
    int64_t axis = static_cast<int64_t>(softmax.getAxis());
    if (axis != -1 && axis != rank - 1)
      return rewriter.notifyMatchFailure(softmax, "attention: the softmax is not over the keys "
                                                  "(last axis)");
    if (rank != 4)
      return rewriter.notifyMatchFailure(softmax, "attention: scores are not [batch, heads, "
                                                  "queries, keys]");
    // Walk back: [add mask] [scale] matmul, in either order.
    Value s = softmax.getInput(), mask;
    double scale = 1.0;
    SmallVector<Location> matched;
    for (int step = 0; step < 3; ++step) {
      if (auto add = binaryOf(s, BinaryKind::add); add && !mask) {
        // The mask is the operand that is not the scores chain (not a matmul
        // product reaching back here).
        Value l = add.getLhs(), r = add.getRhs();
        bool lScores = l.getDefiningOp<MatmulOp>() || binaryOf(l, BinaryKind::div) ||
                       binaryOf(l, BinaryKind::mul);
        mask = lScores ? r : l;
        s = lScores ? l : r;
        matched.push_back(add.getLoc());
        continue;
      }
      if (auto div = binaryOf(s, BinaryKind::div)) {
        std::optional<double> c = scalarConstant(div.getRhs());
        if (!c || *c == 0)
          return rewriter.notifyMatchFailure(div, "attention: the scores are divided by a "
                                                  "non-constant");
        scale /= *c;
        s = div.getLhs();
        matched.push_back(div.getLoc());
        continue;
      }
      if (auto mul = binaryOf(s, BinaryKind::mul)) {
        std::optional<double> c = scalarConstant(mul.getRhs());
        Value other = mul.getLhs();
        if (!c) {
          c = scalarConstant(mul.getLhs());
          other = mul.getRhs();
        }
        if (!c)
          return rewriter.notifyMatchFailure(mul, "attention: the scores are scaled by a "
                                                  "non-constant");
        scale *= *c;
        s = other;
        matched.push_back(mul.getLoc());
        continue;
      }
      break;
    }
    auto qk = s.getDefiningOp<MatmulOp>();
    if (!qk)
      return rewriter.notifyMatchFailure(softmax, "attention: the scores are not a matmul");
    auto kT = qk.getRhs().getDefiningOp<TransposeOp>();
    if (!kT || kT.getPerm() != ArrayRef<int64_t>{0, 1, 3, 2})
      return rewriter.notifyMatchFailure(qk, "attention: the keys are not transposed on their "
                                             "last two dimensions");
    Value q = qk.getLhs(), k = kT.getInput(), v = pv.getRhs();
    auto qt = dyn_cast<RankedTensorType>(q.getType());
    auto kt = dyn_cast<RankedTensorType>(k.getType());
    auto vt = dyn_cast<RankedTensorType>(v.getType());
    if (!qt || !kt || !vt || qt.getRank() != 4 || kt.getRank() != 4 || vt.getRank() != 4 ||
        qt.getDimSize(1) != kt.getDimSize(1) || kt.getDimSize(1) != vt.getDimSize(1) ||
        qt.getDimSize(0) != kt.getDimSize(0) || kt.getDimSize(2) != vt.getDimSize(2) ||
        !qt.hasStaticShape() || !kt.hasStaticShape() || !vt.hasStaticShape())
      return rewriter.notifyMatchFailure(qk, "attention: Q, K, V are not static [batch, heads, "
                                             "seq, dim] with matching heads and lengths");
    if (mask) {
      auto mt = dyn_cast<RankedTensorType>(mask.getType());
      if (!mt || mt.getElementType() != qt.getElementType() || mt.getRank() > 4)
        return rewriter.notifyMatchFailure(softmax, "attention: the mask is not a float tensor "
                                                    "that broadcasts to the scores");
    }
    matched.append({kT.getLoc(), qk.getLoc(), softmax.getLoc(), pv.getLoc()});
    rewriter.setInsertionPoint(pv);
    auto out = RankedTensorType::get(
        {qt.getDimSize(0), qt.getDimSize(1), qt.getDimSize(2), vt.getDimSize(3)},
        qt.getElementType());
    if (out != pv.getType())
      return rewriter.notifyMatchFailure(pv, "attention: the output type differs");
    auto attn = AttentionOp::create(rewriter, rewriter.getFusedLoc(matched), out, TypeRange{}, q,
                                    k, v, mask, Value(), Value(), /*causal=*/false,
                                    rewriter.getF32FloatAttr((float)scale));
    rewriter.replaceOp(pv, attn.getOutput());
    return success();
  }
};

} // namespace

void populateAttentionPatterns(RewritePatternSet &patterns) {
  patterns.add<RaiseAttention>(patterns.getContext());
}

} // namespace kiln::fusion
