//===- MlaAbsorb.cpp - MLA's K/V up-projection moved onto Q and the output -===//
//
// Multi-head latent attention written naively recomputes every head's keys
// and values from the latent cache L [B, T, C] at each step:
//
//   X = (L · W).view(B, T, H, dn + dv).transpose(1, 2)
//   K = [X[..., :dn]  expand(k_rope)],  V = X[..., dn:],  Q = [q_nope q_rope]
//   out = attention(Q, K, V)
//
// which costs B·T·C·H·(dn + dv) multiply-adds per step whatever the number
// of new tokens. With W split per head into W_UK [C, dn] and W_UV [C, dv],
// q_nope · K_noperᵀ = (q_nope · W_UKᵀ) · Lᵀ and P · V = (P · L) · W_UV, so
//
//   out = attention([q_nope · W_UKᵀ  q_rope], [L  k_rope], L) · W_UV
//
// is the same attention over the latent cache itself, with one K/V head
// shared by all query heads (DeepSeek-V2/V3's "absorbed" inference). It is
// cheaper whenever the new tokens are few next to the cached ones (decode,
// short chunks); the rewrite compares the multiply-adds of both forms and
// keeps the naive one for prefill. The softmax scale stays the original
// one (Q and K get wider, the products do not change).
//
//===----------------------------------------------------------------------===//

#include "passes/Fusion/Patterns.h"

using namespace mlir;

namespace kiln::fusion {
namespace {

/// `v` as a static slice of `x` on its last axis: [start, end) of it,
/// everything elsewhere.
std::optional<std::pair<int64_t, int64_t>> lastAxisSlice(Value v, Value &x) {
  auto s = v.getDefiningOp<SliceOp>();
  if (!s || s.getRuntimeStarts() || s.getStarts().empty())
    return std::nullopt;
  auto t = cast<RankedTensorType>(s.getInput().getType());
  size_t last = s.getStarts().size() - 1;
  for (size_t i = 0; i < s.getStarts().size(); ++i) {
    if (s.getSteps()[i] != 1)
      return std::nullopt;
    if (i != last && (s.getStarts()[i] != 0 || s.getEnds()[i] < t.getDimSize(i)))
      return std::nullopt;
  }
  int64_t dim = t.getDimSize(last);
  int64_t start = s.getStarts()[last], end = std::min(s.getEnds()[last], dim);
  if (start < 0 || end <= start)
    return std::nullopt;
  x = s.getInput();
  return std::pair(start, end);
}

/// A two-part concatenation on the last axis of a rank-4 tensor.
std::optional<std::pair<Value, Value>> lastAxisParts(Value v) {
  auto c = v.getDefiningOp<ConcatOp>();
  if (!c || c.getInputs().size() != 2)
    return std::nullopt;
  int64_t axis = static_cast<int64_t>(c.getAxis());
  if (axis != 3 && axis != -1)
    return std::nullopt;
  return std::pair(c.getInputs()[0], c.getInputs()[1]);
}

struct AbsorbMlaWeights : OpRewritePattern<AttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(AttentionOp attn, PatternRewriter &rewriter) const override {
    if (attn.getPastKey())
      return failure();
    std::optional<std::pair<Value, Value>> qParts = lastAxisParts(attn.getQuery());
    std::optional<std::pair<Value, Value>> kParts = lastAxisParts(attn.getKey());
    if (!qParts || !kParts)
      return failure();
    // K's no-RoPE part and V: slices of one per-head projection X.
    Value xk, xv;
    std::optional<std::pair<int64_t, int64_t>> kRange = lastAxisSlice(kParts->first, xk);
    std::optional<std::pair<int64_t, int64_t>> vRange = lastAxisSlice(attn.getValue(), xv);
    if (!kRange || !vRange || xk != xv)
      return failure();
    auto heads = xk.getDefiningOp<TransposeOp>();
    auto split = heads ? heads.getInput().getDefiningOp<ReshapeOp>() : ReshapeOp();
    auto proj = split && !split.getShape() ? split.getInput().getDefiningOp<MatmulOp>()
                                           : MatmulOp();
    if (!heads || heads.getPerm() != ArrayRef<int64_t>{0, 2, 1, 3} || !proj)
      return failure();
    // From here on the shape is MLA's: explain a miss.
    Value latent = proj.getLhs(), w = proj.getRhs();
    auto lt = dyn_cast<RankedTensorType>(latent.getType());
    auto wt = dyn_cast<RankedTensorType>(w.getType());
    auto xt = cast<RankedTensorType>(xk.getType()); // [B, H, T, dn + dv]
    auto qt = cast<RankedTensorType>(attn.getQuery().getType());
    auto qn = cast<RankedTensorType>(qParts->first.getType());
    auto kr = cast<RankedTensorType>(kParts->second.getType());
    if (!lt || !wt || lt.getRank() != 3 || wt.getRank() != 2 || !lt.hasStaticShape() ||
        !wt.hasStaticShape() || !xt.hasStaticShape() || !qt.hasStaticShape())
      return rewriter.notifyMatchFailure(attn, "mla absorb: the K/V up-projection is not a "
                                               "static [B, T, C] x [C, H * (dn + dv)] matmul");
    int64_t b = lt.getDimSize(0), t = lt.getDimSize(1), c = lt.getDimSize(2);
    int64_t h = xt.getDimSize(1), per = xt.getDimSize(3);
    int64_t dn = kRange->second - kRange->first, dv = vRange->second - vRange->first;
    int64_t dr = kr.getDimSize(3), s = qt.getDimSize(2);
    if (kRange->first != 0 || vRange->first != dn || vRange->second != per ||
        qn.getDimSize(3) != dn || xt.getDimSize(0) != b || xt.getDimSize(2) != t ||
        wt.getDimSize(1) != h * per || qt.getDimSize(1) != h)
      return rewriter.notifyMatchFailure(attn, "mla absorb: K's no-RoPE part and V are not the "
                                               "two halves of each head's up-projection");
    // The RoPE key: one head broadcast to all (Expand of [B, 1, T, dr]).
    Value rope = kParts->second;
    if (auto e = rope.getDefiningOp<ExpandOp>()) {
      auto in = cast<RankedTensorType>(e.getInput().getType());
      if (in.getRank() == 4 && in.getDimSize(1) == 1 && in.getDimSize(0) == b)
        rope = e.getInput();
    }
    if (cast<RankedTensorType>(rope.getType()).getDimSize(1) != 1)
      return rewriter.notifyMatchFailure(attn, "mla absorb: the RoPE key is not one head "
                                               "shared by all");
    // Multiply-adds of both forms (per batch): recomputing K/V from the
    // latent vs moving the projection onto Q and the output.
    double naive = (double)t * c * h * per + (double)h * s * t * (dn + dr + dv);
    double absorbed = (double)h * s * c * (dn + dv) + (double)h * s * t * (2 * c + dr);
    if (absorbed >= naive)
      return rewriter.notifyMatchFailure(attn, "mla absorb: not cheaper here (as many new "
                                               "tokens as cached ones: prefill)");

    // The new ops carry the matched nodes, the attention's output node last.
    SmallVector<Location> locs = {proj.getLoc()};
    if (auto f = dyn_cast<FusedLoc>(attn.getLoc()))
      locs.append(f.getLocations().begin(), f.getLocations().end());
    else
      locs.push_back(attn.getLoc());
    Location loc = FusedLoc::get(rewriter.getContext(), locs,
                                 rewriter.getStringAttr("kiln.mla-absorbed"));
    Type elt = qt.getElementType();
    auto type = [&](ArrayRef<int64_t> shape) { return RankedTensorType::get(shape, elt); };
    auto slice = [&](Value v, ArrayRef<int64_t> starts, ArrayRef<int64_t> ends) -> Value {
      return SliceOp::create(rewriter, loc, v, Value(), Value(), Value(), Value(), starts, ends,
                             SmallVector<int64_t>(starts.size(), 1));
    };
    // W [C, H * (dn + dv)] viewed [C, H, dn + dv]: W_UKᵀ [H, dn, C] and
    // W_UV [H, C, dv] (views of a weight are folded at compile time).
    Value w3 = ReshapeOp::create(rewriter, loc, type({c, h, per}), w, Value(), false);
    Value wukT = TransposeOp::create(rewriter, loc, slice(w3, {0, 0, 0}, {c, h, dn}),
                                     ArrayRef<int64_t>{1, 2, 0});
    Value wuv = TransposeOp::create(rewriter, loc, slice(w3, {0, 0, dn}, {c, h, per}),
                                    ArrayRef<int64_t>{1, 0, 2});
    Value qLatent = MatmulOp::create(rewriter, loc, qParts->first, wukT);
    Value q = ConcatOp::create(rewriter, loc, ValueRange{qLatent, qParts->second},
                               rewriter.getI64IntegerAttr(3));
    Value l4 = ReshapeOp::create(rewriter, loc, type({b, 1, t, c}), latent, Value(), false);
    Value k = ConcatOp::create(rewriter, loc, ValueRange{l4, rope}, rewriter.getI64IntegerAttr(3));
    auto out = AttentionOp::create(rewriter, loc, type({b, h, s, c}), TypeRange{}, q, k, l4,
                                   attn.getMask(), Value(), Value(), attn.getCausal(),
                                   rewriter.getF32FloatAttr(attn.getEffectiveScale()),
                                   attn.getSoftcapAttr());
    Value y = MatmulOp::create(rewriter, loc, out.getOutput(), wuv);
    rewriter.replaceOp(attn, y);
    return success();
  }
};

} // namespace

void populateMlaAbsorbPatterns(RewritePatternSet &patterns) {
  patterns.add<AbsorbMlaWeights>(patterns.getContext());
}

} // namespace kiln::fusion
