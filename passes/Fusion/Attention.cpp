//===- Attention.cpp - softmax(Q Kᵀ scale + mask) V -> kiln.attention -----===//
//
// Anchored on a softmax over the last axis whose result feeds a matmul:
// walking back from the softmax input it accepts an additive mask (either
// operand of an add), a scale as a multiply or a division by a constant
// (on either side of the mask add), and Q Kᵀ as a matmul whose right
// operand is K transposed on its last two dimensions. A mask that is the
// causal triangle (as data or built in the graph, ConstantEvaluation.cpp) becomes
// the `causal` attribute; other masks stay float masks added to the scores (so
// the kernel cannot skip tiles). K and V repeated for grouped-query
// attention (Llama's repeat_kv: Reshape, Expand, Reshape) are read from
// their shared heads instead. RoPE is a separate pattern (to come).
//
//===----------------------------------------------------------------------===//

#include "passes/Fusion/Patterns.h"

using namespace mlir;

namespace kiln::fusion {
namespace {

/// K or V repeated for grouped-query attention the way Llama's repeat_kv
/// exports it: Reshape [B, Hkv, S, D] -> [B, Hkv, 1, S, D], Expand to
/// [B, Hkv, G, S, D], Reshape to [B, Hkv * G, S, D]. Returns the
/// unrepeated [B, Hkv, S, D] value, or null.
Value unrepeatedHeads(Value v) {
  auto merge = v.getDefiningOp<ReshapeOp>();
  if (!merge || merge.getShape())
    return {};
  auto expand = merge.getInput().getDefiningOp<ExpandOp>();
  if (!expand || expand.getShape())
    return {};
  auto split = expand.getInput().getDefiningOp<ReshapeOp>();
  if (!split || split.getShape())
    return {};
  auto x = dyn_cast<RankedTensorType>(split.getInput().getType());
  auto e = dyn_cast<RankedTensorType>(expand.getType());
  auto out = dyn_cast<RankedTensorType>(v.getType());
  if (!x || !e || !out || x.getRank() != 4 || e.getRank() != 5 || out.getRank() != 4 ||
      !x.hasStaticShape() || !e.hasStaticShape())
    return {};
  SmallVector<int64_t> unsqueezed = {x.getDimSize(0), x.getDimSize(1), 1, x.getDimSize(2),
                                     x.getDimSize(3)};
  if (cast<RankedTensorType>(split.getType()).getShape() != ArrayRef<int64_t>(unsqueezed))
    return {};
  int64_t g = e.getDimSize(2);
  SmallVector<int64_t> expanded = {x.getDimSize(0), x.getDimSize(1), g, x.getDimSize(2),
                                   x.getDimSize(3)};
  SmallVector<int64_t> merged = {x.getDimSize(0), x.getDimSize(1) * g, x.getDimSize(2),
                                 x.getDimSize(3)};
  if (e.getShape() != ArrayRef<int64_t>(expanded) || out.getShape() != ArrayRef<int64_t>(merged))
    return {};
  return split.getInput();
}

/// A KV cache step: K (or V) = Concat(past, new) on the sequence axis.
/// Returns (past, new), or nulls.
std::pair<Value, Value> cacheParts(Value v) {
  auto concat = v.getDefiningOp<ConcatOp>();
  if (!concat || concat.getInputs().size() != 2)
    return {};
  auto t = dyn_cast<RankedTensorType>(v.getType());
  int64_t axis = static_cast<int64_t>(concat.getAxis());
  if (!t || (axis != 2 && axis != -2))
    return {};
  return {concat.getInputs()[0], concat.getInputs()[1]};
}

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
    // Grouped-query K/V: attend to the shared heads instead of the copies.
    Value kSmall = unrepeatedHeads(k), vSmall = unrepeatedHeads(v);
    if (kSmall && vSmall &&
        cast<RankedTensorType>(kSmall.getType()).getDimSize(1) ==
            cast<RankedTensorType>(vSmall.getType()).getDimSize(1)) {
      k = kSmall;
      v = vSmall;
    }
    auto qt = dyn_cast<RankedTensorType>(q.getType());
    auto kt = dyn_cast<RankedTensorType>(k.getType());
    auto vt = dyn_cast<RankedTensorType>(v.getType());
    if (!qt || !kt || !vt || qt.getRank() != 4 || kt.getRank() != 4 || vt.getRank() != 4 ||
        kt.getDimSize(1) == 0 || qt.getDimSize(1) % kt.getDimSize(1) != 0 ||
        kt.getDimSize(1) != vt.getDimSize(1) ||
        qt.getDimSize(0) != kt.getDimSize(0) || kt.getDimSize(2) != vt.getDimSize(2) ||
        !qt.hasStaticShape() || !kt.hasStaticShape() || !vt.hasStaticShape())
      return rewriter.notifyMatchFailure(qk, "attention: Q, K, V are not static [batch, heads, "
                                             "seq, dim] with matching heads and lengths");
    bool causal = false;
    if (mask) {
      auto mt = dyn_cast<RankedTensorType>(mask.getType());
      if (!mt || mt.getElementType() != qt.getElementType() || mt.getRank() > 4)
        return rewriter.notifyMatchFailure(softmax, "attention: the mask is not a float tensor "
                                                    "that broadcasts to the scores");
      // A causal triangle, given or built in the graph, becomes the
      // attribute: kernels skip the hidden blocks instead of adding -inf.
      if (isCausalMask(mask, qt.getDimSize(2), kt.getDimSize(2))) {
        causal = true;
        mask = Value();
      }
    }
    // A decode or chunked-prefill step: past K/V concatenated with the new
    // ones. The op takes the past and returns the concatenations (the
    // present cache the graph outputs).
    auto [pastK, newK] = cacheParts(k);
    auto [pastV, newV] = cacheParts(v);
    Value presentK, presentV;
    if (pastK && pastV &&
        cast<RankedTensorType>(pastK.getType()).getDimSize(2) ==
            cast<RankedTensorType>(pastV.getType()).getDimSize(2)) {
      presentK = k;
      presentV = v;
      matched.append({k.getLoc(), v.getLoc()});
    }
    matched.append({kT.getLoc(), qk.getLoc(), softmax.getLoc(), pv.getLoc()});
    rewriter.setInsertionPoint(pv);
    auto out = RankedTensorType::get(
        {qt.getDimSize(0), qt.getDimSize(1), qt.getDimSize(2), vt.getDimSize(3)},
        qt.getElementType());
    if (out != pv.getType())
      return rewriter.notifyMatchFailure(pv, "attention: the output type differs");
    if (presentK) {
      auto attn = AttentionOp::create(
          rewriter, rewriter.getFusedLoc(matched), out,
          TypeRange{presentK.getType(), presentV.getType()}, q, newK, newV, mask, pastK, pastV,
          causal, rewriter.getF32FloatAttr((float)scale));
      rewriter.replaceOp(pv, attn.getOutput());
      // Users after the op read its present cache (a graph output, say);
      // users before it (the now dead transpose) keep the concatenation.
      auto after = [&](OpOperand &use) {
        Operation *user = attn->getBlock()->findAncestorOpInBlock(*use.getOwner());
        return user && attn->isBeforeInBlock(user);
      };
      rewriter.replaceUsesWithIf(presentK, attn.getPresent()[0], after);
      rewriter.replaceUsesWithIf(presentV, attn.getPresent()[1], after);
      return success();
    }
    auto attn = AttentionOp::create(rewriter, rewriter.getFusedLoc(matched), out, TypeRange{}, q,
                                    k, v, mask, Value(), Value(), causal,
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
