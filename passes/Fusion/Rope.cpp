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
// transpose instead, so the transpose reaches the attention.
//
//===----------------------------------------------------------------------===//

#include "passes/Fusion/Patterns.h"

using namespace mlir;

namespace kiln::fusion {
namespace {

/// `v` = x[..., from:to] (all other dims whole, step 1): returns x.
Value lastDimSliceOf(Value v, int64_t from, int64_t to) {
  auto s = v.getDefiningOp<SliceOp>();
  if (!s || s.getRuntimeStarts())
    return {};
  auto in = dyn_cast<RankedTensorType>(s.getInput().getType());
  if (!in || !in.hasStaticShape())
    return {};
  int64_t rank = in.getRank();
  ArrayRef<int64_t> starts = s.getStarts(), ends = s.getEnds(), steps = s.getSteps();
  if ((int64_t)starts.size() != rank)
    return {};
  for (int64_t d = 0; d < rank; ++d) {
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
    if (!t || !t.hasStaticShape() || cat.getInputs().size() != 2)
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
    // They must broadcast over x's leading dims (never widen x).
    for (int64_t i = 1; i < ct.getRank(); ++i) {
      int64_t c = ct.getDimSize(ct.getRank() - 1 - i), xd = t.getDimSize(t.getRank() - 1 - i);
      if (c != 1 && c != xd)
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
    if (!xt || !ct || !ct.hasStaticShape() || perm.back() != rank - 1 || ct.getRank() > rank)
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
    Value cos = ReshapeOp::create(rewriter, loc, tableType, rope.getCos(), Value(), false);
    Value sin = ReshapeOp::create(rewriter, loc, tableType, rope.getSin(), Value(), false);
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

} // namespace

void populateRopePatterns(RewritePatternSet &patterns) {
  patterns.add<RaiseRope, RopeBeforeTranspose>(patterns.getContext());
}

} // namespace kiln::fusion
