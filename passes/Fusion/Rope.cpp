//===- Rope.cpp - x * cos + rotate_half(x) * sin -> kiln.rope -------------===//
//
// Rotary position embedding as Llama/Hugging Face export it:
//   Add(Mul(x, cos), Mul(Concat(Neg(Slice(x, h:D)), Slice(x, 0:h)), sin))
// on the last axis (the multiplies either order, the adds either side).
// Anchored on the Concat of the negated upper half and the lower half of
// the same x; cos and sin must be [.., D] values broadcasting over x's
// leading dimensions (kiln.rope's contract). Partial rotary (a slice of
// the head rotated, the rest concatenated back) raises its rotated part.
// A RoPE of heads just transposed to [B, H, S, D] runs before the
// transpose instead, so the transpose reaches the attention. RoPE with
// its rotated halves written out (DeepSeek-V3's interleaved variant)
// raises too (RaiseRopeHalves).
//
//===----------------------------------------------------------------------===//

#include "passes/Fusion/Patterns.h"

using namespace mlir;

namespace kiln::fusion {
namespace {

/// `v` = x[..., from:to] (all other dims whole, step 1): returns x. The
/// last dim is static; a dynamic other dim is whole when sliced [0, max).
Value lastDimSliceOf(Value v, int64_t from, int64_t to) {
  auto s = v.getDefiningOp<SliceOp>();
  if (!s || s.getRuntimeStarts())
    return {};
  auto in = dyn_cast<RankedTensorType>(s.getInput().getType());
  if (!in || in.getRank() < 1 || in.isDynamicDim(in.getRank() - 1))
    return {};
  int64_t rank = in.getRank();
  ArrayRef<int64_t> starts = s.getStarts(), ends = s.getEnds(), steps = s.getSteps();
  if ((int64_t)starts.size() != rank)
    return {};
  for (int64_t d = 0; d < rank; ++d) {
    if (in.isDynamicDim(d)) {
      if (starts[d] != 0 || ends[d] < INT32_MAX || steps[d] != 1)
        return {};
      continue;
    }
    int64_t dim = in.getDimSize(d);
    int64_t b = starts[d] < 0 ? starts[d] + dim : std::min(starts[d], dim);
    int64_t e = ends[d] < 0 ? ends[d] + dim : std::min(ends[d], dim);
    int64_t wantB = d == rank - 1 ? from : 0, wantE = d == rank - 1 ? to : dim;
    if (steps[d] != 1 || b != wantB || e != wantE)
      return {};
  }
  return s.getInput();
}

struct RaiseRope : OpRewritePattern<ConcatOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ConcatOp cat, PatternRewriter &rewriter) const override {
    auto t = dyn_cast<RankedTensorType>(cat.getType());
    if (!t || t.getRank() < 1 || t.isDynamicDim(t.getRank() - 1) || cat.getInputs().size() != 2)
      return failure();
    int64_t axis = static_cast<int64_t>(cat.getAxis());
    if (axis != -1 && axis != t.getRank() - 1)
      return failure();
    int64_t d = t.getShape().back(), h = d / 2;
    UnaryOp neg = unaryOf(cat.getInputs()[0], UnaryKind::neg);
    Value x = neg ? lastDimSliceOf(neg.getInput(), h, d) : Value();
    if (!x || d % 2 || lastDimSliceOf(cat.getInputs()[1], 0, h) != x || x.getType() != t)
      return failure();
    // rotate_half(x) found: from here on, explain misses.
    auto sinMul = dyn_cast_or_null<BinaryOp>(soleUser(cat.getResult()));
    if (!sinMul || sinMul.getKind() != BinaryKind::mul)
      return rewriter.notifyMatchFailure(cat, "rope: rotate_half(x) is not multiplied by sin");
    Value sin = sinMul.getLhs() == cat.getResult() ? sinMul.getRhs() : sinMul.getLhs();
    auto add = dyn_cast_or_null<BinaryOp>(soleUser(sinMul.getResult()));
    if (!add || add.getKind() != BinaryKind::add)
      return rewriter.notifyMatchFailure(sinMul, "rope: the sin term is not added to x * cos");
    Value other = add.getLhs() == sinMul.getResult() ? add.getRhs() : add.getLhs();
    BinaryOp cosMul = binaryOf(other, BinaryKind::mul);
    Value cos = !cosMul                      ? Value()
                : cosMul.getLhs() == x       ? cosMul.getRhs()
                : cosMul.getRhs() == x       ? cosMul.getLhs()
                                             : Value();
    if (!cos)
      return rewriter.notifyMatchFailure(add, "rope: the other term is not x * cos");
    auto ct = dyn_cast<RankedTensorType>(cos.getType());
    auto st = dyn_cast<RankedTensorType>(sin.getType());
    if (!ct || !st || ct != st || ct.getRank() < 1 || ct.getShape().back() != d ||
        ct.getRank() > t.getRank() || ct.getElementType() != t.getElementType() ||
        add.getType() != t)
      return rewriter.notifyMatchFailure(add, "rope: cos and sin are not [.., head dim] tables "
                                              "shaped alike");
    // They must broadcast over x's leading dims (never widen x): 1, or
    // x's size there (dynamic: the same symbol).
    for (int64_t i = 1; i < ct.getRank(); ++i) {
      int64_t ci = ct.getRank() - 1 - i, xi = t.getRank() - 1 - i;
      if ((ct.getDimSize(ci) != 1 && !sameSize(cos, ci, x, xi)) ||
          (st.getDimSize(ci) != 1 && !sameSize(sin, ci, x, xi)))
        return rewriter.notifyMatchFailure(add, "rope: cos/sin do not broadcast over x");
    }
    SmallVector<Location> locs = {neg.getInput().getLoc(), neg.getLoc(),
                                  cat.getInputs()[1].getLoc(), cat.getLoc(), sinMul.getLoc(),
                                  cosMul.getLoc(), add.getLoc()};
    rewriter.setInsertionPoint(add);
    Value rope = RopeOp::create(rewriter, rewriter.getFusedLoc(locs), x, cos, sin, false);
    rewriter.replaceOp(add, rope);
    return success();
  }
};

/// RoPE of heads just transposed out of the projection's layout
/// (`rope(transpose(x, [0, 2, 1, 3]))`, Llama's `view(..).transpose(1, 2)`)
/// runs on x as it is, with the tables permuted to match, and the
/// transpose moves after it: next to the attention, whose kernel can read
/// the transposed layout in place instead of a copy.
struct RopeBeforeTranspose : OpRewritePattern<RopeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(RopeOp rope, PatternRewriter &rewriter) const override {
    auto t = rope.getInput().getDefiningOp<TransposeOp>();
    if (!t || !t->hasOneUse())
      return failure();
    ArrayRef<int64_t> perm = t.getPerm();
    auto xt = dyn_cast<RankedTensorType>(t.getInput().getType());
    auto ct = dyn_cast<RankedTensorType>(rope.getCos().getType());
    int64_t rank = static_cast<int64_t>(perm.size());
    if (!xt || !ct || perm.back() != rank - 1 || ct.getRank() > rank ||
        llvm::count_if(ct.getShape(), ShapedType::isDynamic) > 1)
      return failure();
    // The tables as [1.., their dims] in the transposed layout, then in
    // x's: dim perm[i] of x's layout is dim i of the transposed one.
    SmallVector<int64_t> padded(rank - ct.getRank(), 1);
    llvm::append_range(padded, ct.getShape());
    SmallVector<int64_t> moved(rank, 1);
    for (int64_t i = 0; i < rank; ++i)
      moved[perm[i]] = padded[i];
    // Only unit dims may move (then it is a reshape of the tables).
    auto nonUnit = [](ArrayRef<int64_t> shape) {
      SmallVector<int64_t> dims;
      for (int64_t d : shape)
        if (d != 1)
          dims.push_back(d);
      return dims;
    };
    if (nonUnit(padded) != nonUnit(moved))
      return failure();
    Location loc = rope.getLoc();
    auto tableType = RankedTensorType::get(moved, ct.getElementType());
    // A dynamic dim (the positions) moves as the target's -1.
    Value target;
    if (!tableType.hasStaticShape()) {
      SmallVector<int64_t> dims(moved);
      for (int64_t &d : dims)
        if (ShapedType::isDynamic(d))
          d = -1;
      target = arith::ConstantOp::create(
          rewriter, loc,
          DenseIntElementsAttr::get(RankedTensorType::get({rank}, rewriter.getI64Type()), dims));
    }
    Value cos = ReshapeOp::create(rewriter, loc, tableType, rope.getCos(), target, false);
    Value sin = ReshapeOp::create(rewriter, loc, tableType, rope.getSin(), target, false);
    SmallVector<OpOperand *> users;
    for (OpOperand &use : rope.getResult().getUses())
      users.push_back(&use);
    rewriter.modifyOpInPlace(rope, [&] {
      rope.getInputMutable().assign(t.getInput());
      rope.getCosMutable().assign(cos);
      rope.getSinMutable().assign(sin);
      rope.getResult().setType(xt);
    });
    rewriter.setInsertionPointAfter(rope);
    auto after = TransposeOp::create(rewriter, t.getLoc(), rope.getResult(), perm);
    for (OpOperand *use : users)
      rewriter.modifyOpInPlace(use->getOwner(), [&] { use->set(after.getResult()); });
    rewriter.eraseOp(t);
    return success();
  }
};

/// The operands of `v` = a * b (either order) as {x, table} where x has
/// `v`'s type: the table broadcasts onto it.
std::optional<std::pair<Value, Value>> productOf(Value v, Value x) {
  BinaryOp mul = binaryOf(v, BinaryKind::mul);
  if (!mul)
    return std::nullopt;
  for (auto [a, b] : {std::pair(mul.getLhs(), mul.getRhs()), std::pair(mul.getRhs(), mul.getLhs())})
    if ((!x || a == x) && a.getType() == v.getType())
      return std::pair(a, b);
  return std::nullopt;
}

/// RoPE with the rotated halves written out: Concat(e * c - o * s,
/// o * c + e * s) on the last axis. Hugging Face's DeepSeek-V3
/// (`rope_interleave`) de-interleaves the head first (e = x[..., 0::2],
/// o = x[..., 1::2]) and rotates it as rotate_half; with cos/sin folded to
/// their halves c and s that is the form above, which is rotate-half RoPE
/// of Concat(e, o) with tables Concat(c, c) and Concat(s, s). Anchored on
/// the Concat; the pair may sit among other parts (an MLA query's
/// unrotated part before it).
struct RaiseRopeHalves : OpRewritePattern<ConcatOp> {
  using OpRewritePattern::OpRewritePattern;

  struct Halves {
    Value e, o, c, s;
    SmallVector<Location> locs;
  };
  static std::optional<Halves> match(Value first, Value second) {
    BinaryOp sub = binaryOf(first, BinaryKind::sub);
    BinaryOp add = binaryOf(second, BinaryKind::add);
    if (!sub || !add || first.getType() != second.getType())
      return std::nullopt;
    std::optional<std::pair<Value, Value>> ec = productOf(sub.getLhs(), Value());
    if (!ec)
      return std::nullopt;
    // Either operand of e * c may be e (the one typed like the result).
    BinaryOp ecMul = binaryOf(sub.getLhs(), BinaryKind::mul);
    for (auto [e, c] : {std::pair(ecMul.getLhs(), ecMul.getRhs()),
                        std::pair(ecMul.getRhs(), ecMul.getLhs())}) {
      if (e.getType() != first.getType())
        continue;
      BinaryOp osMul = binaryOf(sub.getRhs(), BinaryKind::mul);
      if (!osMul)
        return std::nullopt;
      for (auto [o, s] : {std::pair(osMul.getLhs(), osMul.getRhs()),
                          std::pair(osMul.getRhs(), osMul.getLhs())}) {
        if (o.getType() != first.getType() || c.getType() != s.getType())
          continue;
        // o * c + e * s, the terms and their products in either order.
        for (auto [oc, es] : {std::pair(add.getLhs(), add.getRhs()),
                              std::pair(add.getRhs(), add.getLhs())}) {
          std::optional<std::pair<Value, Value>> p = productOf(oc, o), q = productOf(es, e);
          if (p && q && p->second == c && q->second == s)
            return Halves{e, o, c, s,
                          {ecMul.getLoc(), osMul.getLoc(), sub.getLoc(), oc.getLoc(),
                           es.getLoc(), add.getLoc()}};
        }
      }
    }
    return std::nullopt;
  }

  LogicalResult matchAndRewrite(ConcatOp cat, PatternRewriter &rewriter) const override {
    auto t = dyn_cast<RankedTensorType>(cat.getType());
    if (!t || !t.hasStaticShape())
      return failure();
    int64_t axis = static_cast<int64_t>(cat.getAxis());
    if (axis != -1 && axis != t.getRank() - 1)
      return failure();
    OperandRange parts = cat.getInputs();
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      std::optional<Halves> h = match(parts[i], parts[i + 1]);
      if (!h)
        continue;
      auto half = cast<RankedTensorType>(h->e.getType());
      auto table = dyn_cast<RankedTensorType>(h->c.getType());
      if (!table || table.getRank() < 1 || table.getRank() > half.getRank() ||
          table.getShape().back() != half.getShape().back() ||
          table.getElementType() != half.getElementType())
        return rewriter.notifyMatchFailure(cat, "rope: the halves' cos/sin are not [.., D/2] "
                                                "tables");
      for (int64_t k = 1; k < table.getRank(); ++k) {
        int64_t c = table.getDimSize(table.getRank() - 1 - k);
        if (c != 1 && c != half.getDimSize(half.getRank() - 1 - k))
          return rewriter.notifyMatchFailure(cat, "rope: cos/sin do not broadcast over x");
      }
      h->locs.push_back(cat.getLoc());
      Location loc = rewriter.getFusedLoc(h->locs);
      auto last = rewriter.getI64IntegerAttr(-1);
      Value x = ConcatOp::create(rewriter, loc, ValueRange{h->e, h->o}, last);
      Value cos = ConcatOp::create(rewriter, loc, ValueRange{h->c, h->c}, last);
      Value sin = ConcatOp::create(rewriter, loc, ValueRange{h->s, h->s}, last);
      Value rope = RopeOp::create(rewriter, loc, x, cos, sin, false);
      if (parts.size() == 2) {
        rewriter.replaceOp(cat, rope);
        return success();
      }
      SmallVector<Value> joined(parts.begin(), parts.begin() + i);
      joined.push_back(rope);
      joined.append(parts.begin() + i + 2, parts.end());
      rewriter.replaceOpWithNewOp<ConcatOp>(cat, joined, cat.getAxisAttr());
      return success();
    }
    return failure();
  }
};

} // namespace

void populateRopePatterns(RewritePatternSet &patterns) {
  patterns.add<RaiseRope, RopeBeforeTranspose, RaiseRopeHalves>(patterns.getContext());
}

} // namespace kiln::fusion
